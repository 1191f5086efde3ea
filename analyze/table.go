package analyze

import (
	"slices"
	"time"

	"github.com/wsviz/wsviz/analyze/internal/lru"
	"github.com/wsviz/wsviz/capture"
)

// table is the connection table: the connections being followed, found by
// their addresses, numbered in the order of their first packet, kept in
// recency order for eviction, with one rule for a packet on known addresses
// that starts a new connection. It is owned by whoever routes packets, the
// Analyzer on one goroutine or the dispatcher of the sharded decoder
// (parallel.go), so both number, evict and replace connections alike; it
// reads packet headers only.
type table struct {
	maxConns int
	flows    map[flowKey]*flow
	lru      lru.List[*flow] // least recently active first
	n        int             // connections numbered so far

	// resets lists the flows a RST ended, oldest first, while they linger
	// after it (lingerReset): segments of theirs the capture recorded
	// after the RST (data that crossed it in flight, or captured late)
	// are still decoded. reorderTime is how long a connection lingers
	// after its RST or its last data since; reorderPackets or reorderTime
	// 0 ends a connection at its RST.
	resets         []resetAt
	reorderPackets int64
	reorderTime    time.Duration
}

// resetAt is a flow a RST ended, lingering since time t (its RST's, or its
// last data's after it).
type resetAt struct {
	f *flow
	t time.Time
}

// flow is the table's record of one connection: its number, what its
// packet headers said (for the reuse rule), and the decoder's state of it.
type flow struct {
	id      int
	key     flowKey
	recency lru.Element[*flow] // in table.lru

	closing uint8 // finLo, finHi, rstSeen: what its headers say of its end
	// Per endpoint, 0 for key.lo and 1 for key.hi: whether it sent
	// anything, its SYN's sequence number, the sequence number after the
	// last byte (SYN and FIN included) it sent, and the receive window
	// it last advertised (unscaled: the window scale option is not read).
	sent   [2]bool
	synned [2]bool
	isn    [2]uint32
	end    [2]uint32
	window [2]uint16
	// synAcked is the acknowledgment number of the endpoint's SYN-ACK,
	// when it sent one before the peer sent anything, and first the
	// sequence number of the endpoint's first segment, when it was not a
	// SYN: a SYN captured after them that they follow is no new
	// connection.
	synAcked [2]uint32
	first    [2]uint32
	reset    bool      // it lingers after its first RST (lingerReset); the router's, not the worker's
	sending  time.Time // while it lingers after a RST: the time of its last segment that carried data or a FIN
	shard    int32     // sharded decoder: the worker that decodes it

	// conn is the decoder's state of the connection, which only the
	// goroutine that decodes it reads and writes (the shard's worker):
	// set when the flow's first packet is decoded.
	conn *conn
}

const (
	finLo   = 1 << iota // the endpoint key.lo sent a FIN
	finHi               // the endpoint key.hi sent a FIN
	rstSeen             // a RST was seen
)

func newTable(maxConns int, reorderPackets int, reorderTime time.Duration) table {
	return table{maxConns: maxConns, flows: make(map[flowKey]*flow), reorderPackets: int64(reorderPackets), reorderTime: reorderTime}
}

// lingers reports whether a connection a RST ended is kept for the reorder
// window (lingerReset) rather than ended at its RST.
func (t *table) lingers() bool { return t.reorderPackets > 0 && t.reorderTime > 0 }

// lingerReset notes segment s on f, at time now: for a RST,
// it reports whether the connection lingers (expiredResets ends it) rather
// than ending at the RST, which it does when the capture may still show
// bytes sent before the RST took effect. The peer had not sent its FIN, so
// its data may cross the RST on the wire (sent before the RST arrived,
// captured after it); or the RST acknowledges bytes of the peer the
// capture has not shown yet (capture order is not send order), as a
// pending hole's are. A RST that answers a SYN (a refused connection), one
// on a connection whose peer sent nothing, and any after the first end it
// at once. A segment with data or a FIN on a lingering connection keeps it
// lingering: the peer is still sending what crossed the RST.
func (t *table) lingerReset(f *flow, s *capture.Segment, now time.Time) bool {
	if s.Flags&capture.RST == 0 {
		if f.reset && (len(s.Payload) > 0 || s.Missing > 0 || s.Flags&capture.FIN != 0) {
			f.sending = now
		}
		return false
	}
	if !t.lingers() || f.reset {
		return false
	}
	e := f.endpointOf(s)
	if !f.sent[1-e] || f.synned[1-e] && !f.synned[e] {
		return false
	}
	peerOpen := f.closing&(finLo<<(1-e)) == 0
	unseen := s.Flags&capture.ACK != 0 && int32(s.Ack-f.end[1-e]) > 0
	if !peerOpen && !unseen {
		return false
	}
	f.reset = true
	t.resets = append(t.resets, resetAt{f, now})
	return true
}

// expiredResets returns, oldest first, the flows that lingered after a RST
// (lingerReset) for longer than reorderTime at time now, since the RST or
// since their last data after it. Their connections end now (tcp.close
// stamped with the RST).
func (t *table) expiredResets(now time.Time) []*flow {
	var out []*flow
	for len(t.resets) > 0 && now.Sub(t.resets[0].t) > t.reorderTime {
		r := t.resets[0]
		t.resets = t.resets[1:]
		if r.f.sending.After(r.t) {
			t.resets = append(t.resets, resetAt{r.f, r.f.sending}) // still sending since
			continue
		}
		out = append(out, r.f)
	}
	return out
}

// route returns the flow of segment s, whose addresses make key; f is its
// flow when the caller already found it (nil: looked up here). A new
// connection is numbered and tracked (opened); one that takes the
// addresses of a tracked connection replaces it (replaced, no longer
// tracked); past maxConns the least recently active is dropped (evicted).
// The caller ends replaced and evicted connections before decoding s.
//
// The rule for known addresses: a SYN without ACK starts a new connection
// when the old one ended (both sides sent FIN, or a RST) or when its
// sequence number is outside the old connection's window: not the old
// SYN's (a retransmission), and not within the window the receiver last
// advertised from the next byte it expects (RFC 9293 §3.10.7.4; a SYN in
// the window of an open connection is a stray, not a new connection); and
// not the SYN of what was captured before it, which capture order puts
// late: the peer's SYN-ACK acknowledges it, or the endpoint's first
// segment follows it.
func (t *table) route(s *capture.Segment, key *flowKey, f *flow) (_ *flow, opened bool, replaced, evicted *flow) {
	if f == nil {
		f = t.flows[*key]
	}
	if f != nil && s.Flags&(capture.SYN|capture.ACK) == capture.SYN && f.newConnection(s) {
		replaced = f
		t.drop(f)
		f = nil
	}
	if f == nil {
		if len(t.flows) >= t.maxConns {
			if e := t.lru.Oldest(); e != nil {
				evicted = e.Value
				t.drop(evicted)
			}
		}
		t.n++
		f = &flow{id: t.n, key: *key}
		f.recency.Value = f
		t.flows[*key] = f
		t.lru.Push(&f.recency)
		opened = true
	} else {
		t.lru.Touch(&f.recency)
	}
	f.observe(s)
	return f, opened, replaced, evicted
}

// newConnection reports whether SYN s, on f's addresses, starts a new
// connection (see route).
func (f *flow) newConnection(s *capture.Segment) bool {
	if f.closing&rstSeen != 0 || f.closing&(finLo|finHi) == finLo|finHi {
		return true
	}
	e := f.endpointOf(s)
	if !f.sent[e] {
		// The peer's SYN-ACK may have been captured before this SYN
		// (capture order is not always send order: merged interfaces,
		// multi-queue NICs): it acknowledges the SYN, or the SYN and its
		// data (TCP Fast Open, RFC 7413).
		if ack := f.synAcked[1-e]; ack != 0 {
			end := s.Seq + 1 + uint32(len(s.Payload)+s.Missing)
			return ack != s.Seq+1 && ack != end
		}
		return true // its sequence numbers are unknown: nothing to be in the window of
	}
	if f.synned[e] && s.Seq == f.isn[e] {
		return false // a retransmitted SYN
	}
	if !f.synned[e] && f.first[e]-(s.Seq+1) <= uint32(len(s.Payload)+s.Missing) {
		return false // the SYN of the segments captured before it
	}
	return s.Seq-f.end[e] >= uint32(max(f.window[1-e], 1))
}

// endpointOf returns 0 when s comes from f.key.lo, 1 from f.key.hi.
func (f *flow) endpointOf(s *capture.Segment) int {
	if f.key.lo.port != f.key.hi.port {
		if s.Src.Port() == f.key.lo.port {
			return 0
		}
		return 1
	}
	if makeEndpoint(s.Src) == f.key.lo {
		return 0
	}
	return 1
}

// observe notes what the headers of s say, for the reuse rule.
func (f *flow) observe(s *capture.Segment) {
	e := f.endpointOf(s)
	end := s.Seq + uint32(len(s.Payload)+s.Missing)
	if s.Flags&capture.SYN != 0 {
		end++
		if !f.synned[e] {
			f.synned[e], f.isn[e] = true, s.Seq
		}
		if s.Flags&capture.ACK != 0 && !f.sent[1-e] && s.Ack != 0 {
			f.synAcked[e] = s.Ack
		}
	}
	if s.Flags&capture.FIN != 0 {
		end++
	}
	if !f.sent[e] || int32(end-f.end[e]) > 0 {
		f.end[e] = end
	}
	if !f.sent[e] {
		f.first[e] = s.Seq
	}
	f.sent[e] = true
	f.window[e] = s.Window
	switch {
	case s.Flags&capture.RST != 0:
		f.closing |= rstSeen
	case s.Flags&capture.FIN != 0 && e == 0:
		f.closing |= finLo
	case s.Flags&capture.FIN != 0:
		f.closing |= finHi
	}
}

// drop stops tracking f.
func (t *table) drop(f *flow) {
	if t.flows[f.key] == f {
		delete(t.flows, f.key)
	}
	t.lru.Remove(&f.recency)
}

// byNumber returns the tracked flows in the order of their numbers.
func (t *table) byNumber() []*flow {
	all := make([]*flow, 0, len(t.flows))
	for _, f := range t.flows {
		all = append(all, f)
	}
	slices.SortFunc(all, func(x, y *flow) int { return x.id - y.id })
	return all
}
