package analyze

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/wsviz/wsviz/capture"
)

// The IP layer: capture.Decoder reassembles fragmented datagrams and
// unwraps tunnels before packets reach the connections; what it reports is
// emitted here as ip.fragments events, by the serial Analyzer and by the
// sharded pipeline alike.

// fragmentProblems emits ip.fragments for the problems of the IP datagram
// that carried s, a segment of c (after c's tcp.open, before what the
// segment's bytes decode to).
func (a *Analyzer) fragmentProblems(c *conn, s *capture.Segment) {
	d := client
	if s.Src != c.addr[client] {
		d = server
	}
	ev := a.newEvent(TypeIPFragments, c, fromName[d])
	var what []string
	for _, p := range s.Outer.Problems {
		switch p.Code {
		case capture.CodeFragmentConflict:
			what = append(what, "fragments that overlap with different bytes: wsviz kept the first copy of each byte, the receiver may have kept another")
		case capture.CodeFragmentOverlap:
			what = append(what, "fragments that overlap, with the same bytes where they do")
		case capture.CodeBadFragment:
			what = append(what, "a malformed fragment that was dropped")
		}
		ev.Warn(p.Code, p.Msg)
	}
	ev.Note = fmt.Sprintf("the %s's segment came in an IP datagram put together from %s: %s", fromName[d],
		plural(int64(s.Outer.Fragments), "fragment", "fragments"), strings.Join(what, "; "))
	a.send(ev)
}

// ipReports emits the reports of a's Decoder: datagrams given up, on the
// connection their segment belonged to when it is known.
func (a *Analyzer) ipReports(reports []capture.Report) {
	for i := range reports {
		r := &reports[i]
		var c *conn
		if r.Src.IsValid() {
			if f := a.table.flows[makeFlowKey(r.Src, r.Dst)]; f != nil {
				c = f.conn
			}
		}
		a.ipReport(c, r.Src, r.Dst, r.Problems)
	}
}

// ipReport emits one report of the Decoder as an ip.fragments event, on c
// when the datagram's segment belonged to it.
func (a *Analyzer) ipReport(c *conn, src, dst netip.AddrPort, problems []capture.Problem) {
	from := ""
	if c != nil {
		if !c.opened && !c.done && len(problems) > 0 {
			a.emitOpen(c) // tcp.open comes before the connection's other events
		}
		from = fromName[client]
		if src != c.addr[client] {
			from = fromName[server]
		}
	}
	ev := a.newEvent(TypeIPFragments, c, from)
	for _, p := range problems {
		ev.Warn(p.Code, p.Msg)
	}
	switch {
	case len(problems) == 0:
		return
	case problems[0].Code == capture.CodeFragmentLimit:
		ev.Note = "IP fragments were given up to keep reassembly bounded: what they carried is lost (see the warning)"
	case c != nil:
		ev.Note = fmt.Sprintf("an IP datagram carrying a segment the %s sent never arrived whole: its fragments were given up, and the bytes it carried are missing from the stream", from)
	default:
		ev.Note = fmt.Sprintf("an IP datagram carrying a TCP segment from %s to %s never arrived whole: its fragments were given up (no connection of these addresses was seen)", src, dst)
	}
	a.send(ev)
}

// keepOuter returns what of o a shard needs, copied out of the Decoder's
// memory: the tunnels when the segment opens a connection (open), the
// problems when there are any; nil when neither.
func keepOuter(o *capture.Outer, open bool) *capture.Outer {
	if !open && len(o.Problems) == 0 {
		return nil
	}
	k := &capture.Outer{Fragments: o.Fragments, Problems: slices.Clone(o.Problems)}
	if open {
		k.Tunnel = slices.Clone(o.Tunnel)
	}
	return k
}

// ipReport routes a report of the dispatcher's Decoder to the shards:
// a report about a tracked connection to its shard, any other to shard 0,
// stamped with the packet being read (or the last one, at the end).
func (p *pipeline) ipReport(rep *capture.Report) {
	var f *flow
	if rep.Src.IsValid() {
		f = p.table.flows[makeFlowKey(rep.Src, rep.Dst)]
	}
	shard := 0
	if f != nil {
		shard = int(f.shard)
	}
	it := p.add(itemReport, shard, nil)
	it.flow, it.num, it.time = f, p.last.num, p.last.time
	it.seg.Src, it.seg.Dst = rep.Src, rep.Dst
	it.seg.Outer = &capture.Outer{Problems: slices.Clone(rep.Problems)}
}

// reportItem emits the report an itemReport carries.
func (a *Analyzer) reportItem(it *item) {
	var c *conn
	if it.flow != nil {
		c = it.flow.conn
	}
	a.ipReport(c, it.seg.Src, it.seg.Dst, it.seg.Outer.Problems)
}

// tunnels returns tcp.open's form of the tunnels a segment came in.
func tunnels(ts []capture.Tunnel) []Tunnel {
	out := make([]Tunnel, len(ts))
	for i, t := range ts {
		out[i] = Tunnel{Kind: t.Kind, VNI: t.VNI, Key: t.Key, HasKey: t.HasKey, Label: t.Label}
		if t.Src.IsValid() {
			out[i].Src, out[i].Dst = t.Src.String(), t.Dst.String()
		}
	}
	return out
}

// tunnelNames are the tunnels' names in notes.
var tunnelNames = map[string]string{
	capture.TunnelGRE:    "GRE",
	capture.TunnelVXLAN:  "VXLAN",
	capture.TunnelGeneve: "Geneve",
	capture.TunnelIPIP:   "IPv4-in-IPv4",
	capture.Tunnel6in4:   "IPv6-in-IPv4 (6in4)",
	capture.Tunnel4in6:   "IPv4-in-IPv6",
	capture.Tunnel6in6:   "IPv6-in-IPv6",
	capture.TunnelMPLS:   "MPLS",
}

// tunnelNote says in tcp.open's note what the connection was carried in,
// innermost first.
func tunnelNote(ts []Tunnel) string {
	var parts []string
	for i := 0; i < len(ts); i++ {
		t := ts[i]
		switch {
		case t.Kind == capture.TunnelMPLS:
			labels := []string{fmt.Sprint(t.Label)}
			for i+1 < len(ts) && ts[i+1].Kind == capture.TunnelMPLS {
				i++
				labels = append(labels, fmt.Sprint(ts[i].Label))
			}
			parts = append(parts, "MPLS (label "+strings.Join(labels, ", ")+")")
		default:
			p := tunnelNames[t.Kind]
			switch {
			case t.Kind == capture.TunnelVXLAN || t.Kind == capture.TunnelGeneve:
				p += fmt.Sprintf(" (VNI %d)", t.VNI)
			case t.HasKey:
				p += fmt.Sprintf(" (key %d)", t.Key)
			}
			parts = append(parts, p+" between "+t.Src+" and "+t.Dst)
		}
	}
	slices.Reverse(parts)
	return "; it travels inside " + strings.Join(parts, ", itself inside ") + ": the connection shown is the inner one"
}
