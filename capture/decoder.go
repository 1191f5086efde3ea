package capture

import (
	"net/netip"
	"time"

	"github.com/wsviz/wsviz/capture/filter"
)

// Kinds of Tunnel, as Tunnel.Kind names them.
const (
	TunnelGRE    = "gre"    // GRE, RFC 2784 with the key and sequence number of RFC 2890
	TunnelVXLAN  = "vxlan"  // VXLAN, RFC 7348 (UDP port 4789, or Linux's older 8472)
	TunnelGeneve = "geneve" // Geneve, RFC 8926 (UDP port 6081)
	TunnelIPIP   = "ipip"   // IPv4 in IPv4, RFC 2003
	Tunnel6in4   = "6in4"   // IPv6 in IPv4, RFC 4213
	Tunnel4in6   = "4in6"   // IPv4 in IPv6, RFC 2473
	Tunnel6in6   = "6in6"   // IPv6 in IPv6, RFC 2473
	TunnelMPLS   = "mpls"   // one MPLS label, RFC 3032
)

// Tunnel is one encapsulation a segment was found in.
type Tunnel struct {
	// Kind is one of the Tunnel* constants.
	Kind string
	// Src and Dst are the outer IP addresses of the encapsulation: the
	// tunnel's endpoints. They are invalid for MPLS, which has none.
	Src, Dst netip.Addr
	// VNI is the virtual network identifier of VXLAN and Geneve.
	VNI uint32
	// Key is the GRE key (RFC 2890 §2.1) when HasKey.
	Key    uint32
	HasKey bool
	// Label is the MPLS label (20 bits).
	Label uint32
}

// Outer says how a segment was carried when it was more than one plain IP
// packet: inside tunnels, or in an IP datagram reassembled from fragments.
type Outer struct {
	// Tunnel lists the encapsulations the segment was found in, outermost
	// first; empty when none. VLAN tags are not listed: they mark the
	// link, not a tunnel.
	Tunnel []Tunnel
	// Fragments is the number of IP fragments the segment's datagram was
	// reassembled from (the innermost one that was fragmented), 0 when it
	// was not fragmented.
	Fragments int
	// Problems lists what was wrong with those fragments (overlaps,
	// conflicting copies, malformed fragments).
	Problems []Problem
}

// Problem is something wrong with how a packet was carried: overlapping IP
// fragments, say. Code is stable (scripts branch on it) and Msg explains
// it, naming the RFC section; the fields match analyze.Warning.
type Problem struct {
	Code, Msg string
}

// Problem codes a Decoder reports.
const (
	// CodeFragmentOverlap: fragments of one datagram overlap, with the
	// same bytes where they do.
	CodeFragmentOverlap = "ip.fragment_overlap"
	// CodeFragmentConflict: fragments of one datagram overlap with
	// different bytes; the first copy was kept.
	CodeFragmentConflict = "ip.fragment_conflict"
	// CodeBadFragment: a fragment no datagram can hold (beyond 65,535
	// bytes, a non-last fragment not a multiple of 8 bytes, two different
	// ends); it was dropped.
	CodeBadFragment = "ip.bad_fragment"
	// CodeFragmentIncomplete: a datagram whose fragments did not all
	// arrive within the timeout or before the capture ended.
	CodeFragmentIncomplete = "ip.fragment_incomplete"
	// CodeFragmentLimit: fragments were dropped to keep reassembly within
	// its bounds.
	CodeFragmentLimit = "ip.fragment_limit"
)

// Report is a problem met reassembling IP fragments that no decoded
// segment carries: a datagram that never completed, or fragments dropped
// at a limit.
type Report struct {
	// Src and Dst are the TCP endpoints of the datagram's segment, read
	// from its first fragment; invalid when the report concerns no one
	// segment (a limit).
	Src, Dst netip.AddrPort
	// Problems says what happened; the first is the report's reason
	// (CodeFragmentIncomplete or CodeFragmentLimit).
	Problems []Problem
}

// Defaults of DecoderOptions fields left zero.
const (
	// DefaultFragmentTimeout is how long, in capture time, the fragments
	// of a datagram wait for the rest: Linux's ipfrag_time.
	DefaultFragmentTimeout = 30 * time.Second
	// DefaultMaxFragmentBytes caps the bytes of all datagrams being
	// reassembled.
	DefaultMaxFragmentBytes = 16 << 20
	// DefaultMaxFragmentBytesPerFlow caps the bytes of the datagrams
	// being reassembled between one pair of addresses.
	DefaultMaxFragmentBytesPerFlow = 2 << 20
	// DefaultMaxFragments caps the fragments held for all datagrams.
	DefaultMaxFragments = 8192
)

// DecoderOptions bound IP reassembly. The zero value means the defaults.
type DecoderOptions struct {
	// FragmentTimeout is how long, in capture time, a datagram's
	// fragments wait for the rest before it is given up
	// (CodeFragmentIncomplete); 0 means DefaultFragmentTimeout.
	FragmentTimeout time.Duration
	// MaxFragmentBytes, MaxFragmentBytesPerFlow and MaxFragments bound
	// what reassembly holds; 0 means the defaults. Past one of them the
	// oldest datagrams are given up (CodeFragmentLimit).
	MaxFragmentBytes        int
	MaxFragmentBytesPerFlow int
	MaxFragments            int
	// Filter, when not nil or empty, keeps only the packets it matches at
	// some level: the packet as captured, any IP packet inside it (after
	// each tunnel it unwraps), or the datagram reassembled from fragments.
	// So "port 9001" keeps a connection on port 9001 carried in VXLAN, and
	// "udp port 4789" or the tunnel endpoints' "host" keep the whole
	// tunnel. Fragments are reassembled whatever the filter, and the
	// datagram is tested once whole. A live capture filters in the kernel
	// with Filter.OrEncapsulated, which lets fragments and tunnels through
	// for this test. Only what the filter keeps is reported, except the
	// bounds of reassembly (CodeFragmentLimit).
	Filter *filter.Filter
}

func (o DecoderOptions) withDefaults() DecoderOptions {
	if o.FragmentTimeout <= 0 {
		o.FragmentTimeout = DefaultFragmentTimeout
	}
	if o.MaxFragmentBytes <= 0 {
		o.MaxFragmentBytes = DefaultMaxFragmentBytes
	}
	if o.MaxFragmentBytesPerFlow <= 0 {
		o.MaxFragmentBytesPerFlow = DefaultMaxFragmentBytesPerFlow
	}
	if o.MaxFragments <= 0 {
		o.MaxFragments = DefaultMaxFragments
	}
	return o
}

// Decoder decodes packets down to TCP segments as DecodeTCP does, and also
// reassembles IP datagrams from their fragments (IPv4, and IPv6 Fragment
// headers; RFC 791 §3.2, RFC 8200 §4.5) and records the tunnels it
// unwraps (Segment.Outer). It holds state across packets: feed it every
// packet of a capture, in order, and call Flush at the end. It is not safe
// for concurrent use.
//
// Reassembly is bounded: by a timeout in capture time (never the wall
// clock), by the bytes and fragments held over all datagrams and per pair
// of addresses, and by the fragments of one datagram. Where fragments
// overlap the first copy wins, as TCP reassembly keeps retransmitted bytes,
// and the overlap is reported (Outer.Problems); an exact copy of a
// fragment (a capture on Linux's "any" sees each packet twice) is not a
// problem. Problems that no segment carries are returned by Reports.
type Decoder struct {
	opts  DecoderOptions
	frags reassembler

	// prog is the filter (DecoderOptions.Filter) compiled for IP packets;
	// matched says whether it matched a layer of the current packet.
	prog    *filter.Program
	matched bool

	outer    Outer
	ctx      uint64 // the tunnels around the current layer, for fragment keys
	reports  []Report
	problems []Problem // backing array of reports' and outer's problems
}

// NewDecoder returns a Decoder with the given bounds.
func NewDecoder(opts DecoderOptions) *Decoder {
	d := &Decoder{opts: opts.withDefaults()}
	d.frags.init(d.opts)
	if f := d.opts.Filter; f != nil && !f.Empty() {
		// Raw IP is always supported: the filter's tests are all of IP
		// headers and what follows them, wherever they are.
		d.prog, _ = f.Compile(LinkTypeRaw)
	}
	return d
}

// Decode decodes p down to its TCP segment and stores it in seg,
// overwriting every field, as DecodeTCP does. It returns false as well for
// a fragment that does not complete a datagram; the fragment completing
// one gives the datagram's segment, whose Payload then aliases the
// Decoder's buffer, valid (like seg.Outer) until the next call of Decode
// or Flush. seg.Outer is nil for a plain packet.
//
// Datagrams whose fragments waited past the timeout (by p.Timestamp) are
// given up first: see Reports.
func (d *Decoder) Decode(p *Packet, seg *Segment) bool {
	d.reports, d.problems = d.reports[:0], d.problems[:0]
	if d.frags.busy() {
		d.frags.recycle()
		d.frags.expire(d, p.Timestamp)
	}
	d.frags.now = p.Timestamp
	d.outer.Tunnel, d.outer.Fragments, d.outer.Problems = d.outer.Tunnel[:0], 0, nil
	d.ctx, d.matched = 0, false
	if !decode(d, p, seg) {
		return false
	}
	if d.prog != nil && !d.matched {
		*seg = Segment{}
		return false
	}
	if len(d.outer.Tunnel) > 0 || d.outer.Fragments > 0 {
		seg.Outer = &d.outer
	}
	return true
}

// Reports returns the problems the last call of Decode or Flush found that
// no segment carries. The slice is reused by the next call.
func (d *Decoder) Reports() []Report { return d.reports }

// Flush ends the capture: every datagram still waiting for fragments is
// given up, and Reports says so.
func (d *Decoder) Flush() {
	d.reports, d.problems = d.reports[:0], d.problems[:0]
	d.frags.recycle()
	d.frags.flush(d)
}

// match tests the filter on an IP packet of the packet being decoded
// (ip starts at its header), unless a layer matched already.
func (d *Decoder) match(ip []byte) {
	if !d.matched {
		d.matched = d.prog.Match(ip)
	}
}

// addTunnel records an encapsulation just unwrapped and folds it into the
// context that keeps fragments of different tunnels apart.
func (d *Decoder) addTunnel(t Tunnel) {
	d.outer.Tunnel = append(d.outer.Tunnel, t)
	d.ctx = tunnelHash(d.ctx, &t)
}

// tunnelHash mixes t into h (FNV-1a over its fields).
func tunnelHash(h uint64, t *Tunnel) uint64 {
	const prime = 1099511628211
	if h == 0 {
		h = 14695981039346656037
	}
	mix := func(b []byte) {
		for _, c := range b {
			h = (h ^ uint64(c)) * prime
		}
	}
	s, dd := t.Src.As16(), t.Dst.As16()
	mix(s[:])
	mix(dd[:])
	mix([]byte(t.Kind))
	for _, v := range [3]uint32{t.VNI, t.Key, t.Label} {
		mix([]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	return h | 1 // never 0: 0 means "no tunnel"
}

// report adds a Report with the given problems (copied).
func (d *Decoder) report(src, dst netip.AddrPort, problems ...Problem) {
	start := len(d.problems)
	d.problems = append(d.problems, problems...)
	d.reports = append(d.reports, Report{Src: src, Dst: dst, Problems: d.problems[start:len(d.problems):len(d.problems)]})
}
