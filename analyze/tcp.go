package analyze

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/wsviz/wsviz/capture"
)

// Directions of a connection, as array indexes.
const (
	client = 0
	server = 1
)

var fromName = [2]string{FromClient, FromServer}

// maxWindow bounds how far ahead of the next expected byte a segment may
// start and still be buffered; anything further is outside any real TCP
// window (RFC 7323 §2.3 caps a scaled window at 2^30).
const maxWindow = 1 << 30

// conn is one TCP connection and what rides on it.
type conn struct {
	id   int
	addr [2]netip.AddrPort // [client], [server]
	half [2]halfConn
	done bool // closed: kept only so that trailing packets do not open a new connection

	// opened says tcp.open was emitted: when the handshake completed, or
	// at the first packet that is not part of it (see handshake).
	opened    bool
	synAck    bool   // the handshake has a SYN-ACK
	serverISN uint32 // the SYN-ACK's sequence number
	// packets lists the handshake packets captured until tcp.open, then
	// the FIN and RST packets, for tcp.close.
	packets []tcpRecord
	rare    *connRare // nil until needed

	app app // HTTP and WebSocket decoding
}

// tcpRecord is a TCPPacket as a connection keeps it, small: a SYN flood
// holds one for each of tens of thousands of connections.
type tcpRecord struct {
	packet int64
	time   int64 // Unix nanoseconds
	flags  uint8 // index in tcpFlagNames
	from   uint8 // client or server
}

var tcpFlagNames = [...]string{"SYN", "SYN-ACK", "ACK", "FIN", "FIN-ACK", "RST", "RST-ACK"}

const (
	flagsSYN = iota
	flagsSYNACK
	flagsACK
	flagsFIN
	flagsFINACK
	flagsRST
	flagsRSTACK
)

// maxTCPPackets bounds the handshake and teardown lists: retransmitted
// SYNs or FINs past it are not listed.
const maxTCPPackets = 8

// halfConn reassembles one direction of a connection.
type halfConn struct {
	started  bool
	finSeen  bool
	closed   bool   // every byte up to the FIN was delivered
	limitHit bool   // a buffer cap dropped data: the next gap says so
	next     uint32 // sequence number of the next byte expected
	off      int64  // stream offset of next: bytes delivered plus gaps
	ooo      []oooSegment
	oooSize  int

	finOff    int64 // stream offset of the FIN
	finPacket int64 // the packet that carried the FIN, and its time (Unix nanoseconds)
	finTime   int64

	// acked is the stream offset up to which the peer acknowledged this
	// direction's bytes. Past off, it is a pending hole: bytes the
	// receiver has that the capture has not shown yet (see settle).
	acked int64
}

// connRare holds what few connections need, allocated on first use
// (rareOf), so that a connection that only opens, as in a SYN flood, stays
// small.
type connRare struct {
	// tunnel lists the encapsulations of the connection's first packet,
	// for tcp.open; nil when none.
	tunnel []Tunnel
	half   [2]halfRare
	// synData is the length of the data the client's SYN carried (TCP
	// Fast Open), for tcp.open's note; 0 after it.
	synData int
	// reset is the packet and time of the connection's first RST, while
	// it lingers after it (segmentConn); zero before. resetFrom is the
	// direction that sent it and resetOff the stream offset of its
	// sequence number: that sender sent nothing past it (see endOf), and
	// its bytes before it that were never captured are a gap at the
	// close. resetOff is -1 when the RST's sequence number says nothing
	// (behind the bytes already decoded, or the sender's first segment).
	reset     arrival
	resetFrom int
	resetOff  int64
	// afterEnd counts each direction's bytes past the end its sender
	// marked (endOf), which were not decoded (tcp.data_after_end).
	afterEnd [2]int64
	// offAtReset is each direction's stream offset at the RST: what came
	// after it, tcp.close's note says.
	offAtReset [2]int64
}

// halfRare is connRare's part for one direction.
type halfRare struct {
	// deferred holds this direction's segments that acknowledge bytes of
	// the peer the capture has not shown yet (a pending hole of the
	// peer's, see acked): they were sent after those bytes arrived, so
	// they wait for them (see deferSegment). deferredSize counts their
	// bytes.
	deferred     []deferredSegment
	deferredSize int

	outOfWindow int64 // segments ignored for starting outside any window

	// conflicts counts segments that overlapped buffered bytes with
	// different bytes (the first copy was kept: see buffer);
	// conflictOff is the stream offset of the first such byte.
	conflicts   int64
	conflictOff int64
}

// rareOf returns c.rare, allocating it.
func (c *conn) rareOf() *connRare {
	if c.rare == nil {
		c.rare = new(connRare)
	}
	return c.rare
}

// deferred returns the deferred segments of direction d.
func (c *conn) deferred(d int) []deferredSegment {
	if c.rare == nil {
		return nil
	}
	return c.rare.half[d].deferred
}

// oooSegment is data that arrived ahead of a hole. data is a copy.
type oooSegment struct {
	off  int64
	data []byte
	arrival
}

// arrival is the packet that carried some bytes and its time (Unix
// nanoseconds).
type arrival struct {
	packet int64
	time   int64
}

// deferredSegment is a segment held behind a pending hole of the peer's
// (see deferSegment). data is a copy.
type deferredSegment struct {
	seq     uint32
	data    []byte
	missing int
	fin     bool
	need    int64 // the peer's stream offset it acknowledges
	arrival
}

// segment routes one TCP segment to its connection, through the
// Analyzer's connection table, decodes it, and returns the connection.
func (a *Analyzer) segment(s *capture.Segment) *conn {
	key := makeFlowKey(s.Src, s.Dst)
	for _, f := range a.table.expiredResets(a.pktTime) {
		a.endFlow(f, CloseRST)
	}
	f, opened, replaced, evicted := a.table.route(s, &key, nil)
	a.endFlow(replaced, CloseReplaced)
	a.endFlow(evicted, CloseEvicted)
	if opened {
		f.conn = a.newConn(f.id, s)
	}
	linger := (s.Flags&capture.RST != 0 || f.reset) && a.table.lingerReset(f, s, a.pktTime)
	a.segmentConn(f.conn, s, linger)
	return f.conn
}

// endFlow ends the connection of a flow the table no longer tracks.
func (a *Analyzer) endFlow(f *flow, how string) {
	if f != nil && f.conn != nil {
		a.finish(f.conn, how)
	}
}

// shardSegment decodes one segment of a sharded Analyzer (see
// parallel.go), whose connection table the dispatcher keeps: id is the
// number of the connection this segment opens, 0 when f's connection is
// already known; linger, the dispatcher's lingerReset for a RST.
func (a *Analyzer) shardSegment(s *capture.Segment, id int, f *flow, linger bool) {
	if id != 0 {
		f.conn = a.newConn(id, s)
	}
	if f.conn == nil {
		return // the dispatcher and the shard disagree: a bug, not input
	}
	a.segmentConn(f.conn, s, linger)
}

// segmentConn runs one segment through its connection c. linger says that
// the segment is a RST after which c lingers (lingerReset).
func (a *Analyzer) segmentConn(c *conn, s *capture.Segment, linger bool) {
	a.tlsRetry()
	fragments := s.Outer != nil && len(s.Outer.Problems) > 0
	d := client
	if s.Src != c.addr[client] {
		d = server
	}
	if c.done || a.lingering(c) {
		if fragments {
			a.fragmentProblems(c, s)
		}
		a.countLate(c, d, s)
		return
	}
	if !c.opened {
		a.handshake(c, d, s)
		if fragments && !c.opened {
			a.emitOpen(c) // tcp.open comes before the connection's other events
		}
	}
	if fragments {
		a.fragmentProblems(c, s)
	}
	if s.Flags&(capture.FIN|capture.RST) != 0 {
		flags := uint8(flagsFIN)
		if s.Flags&capture.RST != 0 {
			flags = flagsRST
		}
		if s.Flags&capture.ACK != 0 {
			flags++ // the -ACK form
		}
		a.record(c, flags, d)
	}
	if s.Flags&capture.RST != 0 {
		first := c.rare == nil || c.rare.reset.packet == 0
		if first {
			a.noteReset(c, d, s)
		}
		if s.Flags&capture.ACK != 0 {
			a.acked(c, 1-d, s.Ack)
		}
		if first && !linger {
			a.finish(c, CloseRST)
		}
		// Otherwise the capture may still show bytes sent before the RST
		// took effect: the connection lingers, until ReorderTime passes
		// without data (the table ends it, lingerReset), and what comes of
		// it meanwhile is decoded. tcp.close is stamped with the RST.
		return
	}
	h := &c.half[d]
	seq := s.Seq
	if s.Flags&capture.SYN != 0 {
		if !h.started || h.off == 0 {
			h.started, h.next, h.off = true, s.Seq+1, 0
		}
		seq++ // the SYN occupies one sequence number (RFC 9293 §3.4)
	}
	if !h.started {
		h.started, h.next = true, seq
	}
	now := arrival{a.pktNum, a.pktTime.UnixNano()}
	if len(s.Payload) > 0 || s.Missing > 0 {
		if peer := &c.half[1-d]; s.Flags&capture.ACK != 0 && int32(s.Ack-peer.next) > 0 && peer.started {
			a.dataAfter(c, d, seq, s, now) // it acknowledges bytes not delivered: it may have to wait
		} else {
			a.data(c, d, seq, s.Payload, s.Missing, s.Flags&capture.FIN != 0, now)
		}
	} else if s.Flags&capture.FIN != 0 {
		a.data(c, d, seq, nil, 0, true, now)
	}
	if s.Flags&capture.ACK != 0 && !c.done {
		a.acked(c, 1-d, s.Ack)
	}
	a.settleConn(c)
}

// lateData counts the segments, and their bytes, that brought data to
// connections already ended (its note, for Options.OnNote).
type lateData struct{ segments, bytes int64 }

// countLate counts segment s, from direction d, which came after its
// connection c ended, when it brings bytes c did not have: past what was
// decoded, declared a gap, or counted so before (not a retransmission).
func (a *Analyzer) countLate(c *conn, d int, s *capture.Segment) {
	n := len(s.Payload) + s.Missing
	if n == 0 || s.Flags&capture.SYN != 0 {
		return
	}
	h := &c.half[d]
	if past := int64(int32(s.Seq + uint32(n) - h.next)); h.started && past > 0 && past < maxWindow {
		a.late.segments++
		a.late.bytes += min(past, int64(n))
		h.next = s.Seq + uint32(n) // a copy of them again is no news
	}
}

// note is the note (Options.OnNote) on what l counts, or "".
func (l lateData) note() string {
	if l.segments == 0 {
		return ""
	}
	return fmt.Sprintf("%s with %s of data came after their connection had ended (both sides' FINs, or a RST and --reorder-ms without data since) and were not decoded; a longer --reorder-ms waits longer after a RST", plural(l.segments, "segment", "segments"), plural(l.bytes, "byte", "bytes"))
}

// noteReset notes c's first RST, s from direction d (see connRare.reset).
func (a *Analyzer) noteReset(c *conn, d int, s *capture.Segment) {
	r := c.rareOf()
	r.reset = arrival{a.pktNum, a.pktTime.UnixNano()}
	r.resetFrom, r.resetOff = d, -1
	r.offAtReset = [2]int64{c.half[client].off, c.half[server].off}
	if h := &c.half[d]; h.started {
		if delta := int64(int32(s.Seq - h.next)); delta >= 0 && delta < maxWindow {
			r.resetOff = h.off + delta
			if h.finSeen {
				r.resetOff = min(r.resetOff, h.finOff) // the RST follows the FIN's own sequence number
			}
		}
	}
	a.trimPastEnd(c, d) // what was buffered past it is not the stream's
}

// afterResetNote says what of c came after its RST (r): the peer's bytes
// crossed it on the wire, the resetter's were recorded late.
func afterResetNote(c *conn, r *connRare) string {
	var b strings.Builder
	for _, d := range [2]int{1 - r.resetFrom, r.resetFrom} {
		n := c.half[d].off - r.offAtReset[d]
		switch {
		case n <= 0:
		case d == r.resetFrom:
			fmt.Fprintf(&b, "; %s from the %s came after its RST: sent before it, recorded late", plural(n, "byte", "bytes"), fromName[d])
		default:
			fmt.Fprintf(&b, "; %s from the %s came after the RST: sent before it reached the %s, they crossed it on the wire", plural(n, "byte", "bytes"), fromName[d], fromName[d])
		}
	}
	return b.String()
}

// endOf returns the stream offset past which direction d of c sent
// nothing: its FIN's, or that of the sequence number of its RST; -1 when
// it marked no end.
func endOf(c *conn, d int) int64 {
	h, end := &c.half[d], int64(-1)
	if h.finSeen {
		end = h.finOff
	}
	if r := c.rare; r != nil && r.reset.packet != 0 && r.resetFrom == d && r.resetOff >= 0 && (end < 0 || r.resetOff < end) {
		end = r.resetOff
	}
	return end
}

// beforeEnd returns what of the bytes of direction d of c at stream
// offset off (payload, then missing bytes, then a FIN) lies before the end
// their sender marked (endOf), and false when nothing does. What it cuts
// is counted (tcp.data_after_end at the close).
func beforeEnd(c *conn, d int, off int64, payload []byte, missing int, fin bool) ([]byte, int, bool, bool) {
	end := endOf(c, d)
	n := int64(len(payload) + missing)
	if end < 0 || off+n <= end {
		return payload, missing, fin, true // a FIN at the end is the same FIN again
	}
	keep := max(end-off, 0)
	c.rareOf().afterEnd[d] += n - keep
	switch {
	case keep == 0:
		return nil, 0, false, false
	case keep <= int64(len(payload)):
		return payload[:keep], 0, false, true
	}
	return payload, int(keep) - len(payload), false, true
}

// trimPastEnd gives up the bytes of direction d of c buffered past the end
// their sender marked (endOf), counting them, once the end is known.
func (a *Analyzer) trimPastEnd(c *conn, d int) {
	h, end := &c.half[d], endOf(c, d)
	for end >= 0 && len(h.ooo) > 0 {
		last := &h.ooo[len(h.ooo)-1]
		segEnd := last.off + int64(len(last.data))
		if segEnd <= end {
			return
		}
		cut := segEnd - max(last.off, end)
		c.rareOf().afterEnd[d] += cut
		h.oooSize -= int(cut)
		a.buffered -= cut
		if last.off < end {
			last.data = last.data[:end-last.off]
			return
		}
		a.pool.put(last.data)
		*last = oooSegment{}
		h.ooo = h.ooo[:len(h.ooo)-1]
	}
}

// settleConn settles the pending holes of both directions of c (settle),
// releases the peer's data that waited behind them, and ends c when both
// directions are closed.
func (a *Analyzer) settleConn(c *conn) {
	for dd := range 2 {
		if c.half[dd].acked > c.half[dd].off && !c.done {
			a.settle(c, dd)
		}
		if len(c.deferred(1-dd)) > 0 && !c.done {
			a.release(c, 1-dd, false)
		}
	}
	if !c.done && c.half[client].closed && c.half[server].closed {
		a.finish(c, CloseFIN)
	}
}

// newConn starts decoding a connection numbered id at its first packet.
// Its tcp.open waits for the handshake (see handshake).
func (a *Analyzer) newConn(id int, s *capture.Segment) *conn {
	c := &conn{id: id}
	syn := s.Flags&capture.SYN != 0
	switch {
	case syn && s.Flags&capture.ACK == 0:
		c.addr = [2]netip.AddrPort{s.Src, s.Dst}
	case syn:
		c.addr = [2]netip.AddrPort{s.Dst, s.Src} // a SYN-ACK comes from the server
	default:
		c.addr = guessRoles(s)
	}
	if s.Outer != nil && len(s.Outer.Tunnel) > 0 {
		c.rareOf().tunnel = tunnels(s.Outer.Tunnel)
	}
	return c
}

// handshake follows the three-way handshake (RFC 9293 §3.5) of a
// connection whose tcp.open was not emitted yet: it lists the SYN, SYN-ACK
// and ACK packets captured, and emits tcp.open when the client's ACK of the
// SYN-ACK completes it, or before the first packet that is not part of it
// (data, FIN, RST, or any packet of a connection whose handshake was not
// captured), so that tcp.open comes before everything else of its
// connection and carries the whole handshake.
func (a *Analyzer) handshake(c *conn, d int, s *capture.Segment) {
	syn, ack := s.Flags&capture.SYN != 0, s.Flags&capture.ACK != 0
	bare := len(s.Payload) == 0 && s.Missing == 0 && s.Flags&(capture.FIN|capture.RST) == 0
	switch {
	case syn && !ack && d == client:
		a.record(c, flagsSYN, d)
	case syn && ack && d == server:
		a.record(c, flagsSYNACK, d)
		c.synAck, c.serverISN = true, s.Seq
	case !syn && ack && d == client && c.synAck && s.Ack == c.serverISN+1:
		a.record(c, flagsACK, d)
		a.emitOpen(c) // complete (the ACK may carry data, decoded next)
		return
	default:
		a.emitOpen(c)
		return
	}
	if !bare {
		// A SYN with data (TCP Fast Open) or with FIN or RST.
		if syn && !ack && len(s.Payload) > 0 {
			c.rareOf().synData = len(s.Payload)
		}
		a.emitOpen(c)
	}
}

// hasSYN reports whether the client's SYN is among the handshake's packets
// recorded.
func (c *conn) hasSYN() bool {
	return slices.ContainsFunc(c.packets, func(p tcpRecord) bool { return p.flags == flagsSYN })
}

// record lists the packet being processed, of direction d, in c.packets
// (up to maxTCPPackets).
func (a *Analyzer) record(c *conn, flags uint8, d int) {
	if len(c.packets) < maxTCPPackets {
		c.packets = append(c.packets, tcpRecord{packet: a.pktNum, time: a.pktTime.UnixNano(), flags: flags, from: uint8(d)})
	}
}

// tcpPackets returns c.packets as TCPPackets, in a buffer reused from event
// to event.
func (a *Analyzer) tcpPackets(c *conn) []TCPPacket {
	out := a.tcpScratch[:0]
	for _, r := range c.packets {
		out = append(out, TCPPacket{Flags: tcpFlagNames[r.flags], From: fromName[r.from], Packet: r.packet, Time: time.Unix(0, r.time).UTC()})
	}
	a.tcpScratch = out
	return out
}

// emitOpen emits the tcp.open of c, stamped with the packet being
// processed.
func (a *Analyzer) emitOpen(c *conn) {
	c.opened = true
	// The SYN, wherever the capture has it among the handshake's packets
	// (a SYN-ACK may be captured first).
	syn := c.hasSYN()
	ev := a.newEvent(TypeTCPOpen, c, "")
	ev.TCPOpen = TCPOpen{Client: c.addr[client].String(), Server: c.addr[server].String(), SYN: syn}
	if len(c.packets) > 0 {
		ev.TCPOpen.Handshake = a.tcpPackets(c)
	}
	switch {
	case syn && c.rare != nil && c.rare.synData > 0:
		// RFC 7413: the client had a cookie from an earlier connection
		// and sent its first bytes with the SYN, a round trip sooner.
		ev.Note = fmt.Sprintf("client %s opened a TCP connection to server %s with %d bytes of data in its SYN (TCP Fast Open, RFC 7413: the data comes a round trip sooner; the server's SYN-ACK acknowledges it when it accepts it)", ev.TCPOpen.Client, ev.TCPOpen.Server, c.rare.synData)
		c.rare.synData = 0
	case syn:
		ev.Note = fmt.Sprintf("client %s opened a TCP connection to server %s (SYN)", ev.TCPOpen.Client, ev.TCPOpen.Server)
	default:
		ev.Note = fmt.Sprintf("a TCP connection between client %s and server %s was already open when the capture started; who is the client was inferred", ev.TCPOpen.Client, ev.TCPOpen.Server)
	}
	if c.rare != nil && len(c.rare.tunnel) > 0 {
		ev.TCPOpen.Tunnel = c.rare.tunnel
		ev.Note += tunnelNote(c.rare.tunnel)
		c.rare.tunnel = nil
	}
	a.send(ev)
	c.packets = c.packets[:0] // the teardown's now
}

// dataAfter handles the payload of segment s of direction d, whose
// sequence number (past a SYN) is seq, unless it must wait for bytes of
// the peer's that it acknowledges (see deferSegment).
func (a *Analyzer) dataAfter(c *conn, d int, seq uint32, s *capture.Segment, now arrival) {
	peer := &c.half[1-d]
	need := int64(-1)
	if s.Flags&capture.ACK != 0 && peer.started {
		if delta := int64(int32(s.Ack - peer.next)); delta > 0 && delta < maxWindow {
			need = peer.off + delta
			if peer.finSeen {
				need = min(need, peer.finOff) // the FIN's own sequence number
			}
		}
	}
	if need <= peer.off {
		a.data(c, d, seq, s.Payload, s.Missing, s.Flags&capture.FIN != 0, now) // the usual case
		return
	}
	a.deferSegment(c, d, seq, s, need, now)
}

// deferSegment holds a segment of direction d that acknowledges bytes of
// the peer the capture has not shown yet (up to the peer's stream offset
// need) until those bytes are delivered or declared a gap (release). It
// was sent after its sender received them: decoded before them, a response
// would come before its request. Capture points record an ACK ahead of the
// data it acknowledges whether or not the ACK carries data of its own.
// Segments of d that do not wait are decoded meanwhile: they were sent
// before (acknowledgments only grow), so their bytes come earlier in d's
// stream, or are buffered until the deferred ones fill the hole.
func (a *Analyzer) deferSegment(c *conn, d int, seq uint32, s *capture.Segment, need int64, now arrival) {
	h := &c.rareOf().half[d]
	n := len(s.Payload)
	if h.deferredSize+n > a.opts.MaxBufferPerConn || a.buffered+int64(n) > a.bufferCap {
		// Bounds first: waiting longer would hold too much. The peer's
		// hole is a gap now.
		c.half[1-d].limitHit = true
		a.release(c, d, true)
		if c.done {
			return
		}
		if need <= c.half[1-d].off {
			a.data(c, d, seq, s.Payload, s.Missing, s.Flags&capture.FIN != 0, now)
			return
		}
	}
	h.deferred = append(h.deferred, deferredSegment{seq: seq, data: append(a.pool.get(n), s.Payload...),
		missing: s.Missing, fin: s.Flags&capture.FIN != 0, need: need, arrival: now})
	h.deferredSize += n
	a.buffered += int64(n)
}

// release decodes the deferred segments of direction d whose bytes of the
// peer's have arrived, in the order they came; with force, all of them,
// declaring the peer's bytes they wait for a gap (the end of the
// connection, the buffer caps).
func (a *Analyzer) release(c *conn, d int, force bool) {
	if c.rare == nil {
		return
	}
	h, peer := &c.rare.half[d], &c.half[1-d]
	for i := 0; i < len(h.deferred) && !c.done; {
		ds := h.deferred[i]
		if peer.off < ds.need {
			if !force {
				i++
				continue
			}
			a.skipTo(c, 1-d, ds.need, "")
			a.checkFIN(c, 1-d)
			if c.done {
				return
			}
		}
		h.deferred = slices.Delete(h.deferred, i, i+1)
		h.deferredSize -= len(ds.data)
		a.buffered -= int64(len(ds.data))
		a.data(c, d, ds.seq, ds.data, ds.missing, ds.fin, ds.arrival)
		a.pool.put(ds.data)
	}
}

// data handles the payload (and FIN) of one segment of direction d,
// carried by the packet at.
func (a *Analyzer) data(c *conn, d int, seq uint32, payload []byte, missing int, fin bool, at arrival) {
	h := &c.half[d]
	delta := int64(int32(seq - h.next))
	if delta >= maxWindow || delta <= -maxWindow {
		c.rareOf().half[d].outOfWindow++ // not this stream's bytes: counted, reported at the close
		return
	}
	off := h.off + delta
	if h.finSeen || c.rare != nil && c.rare.reset.packet != 0 {
		var ok bool
		if payload, missing, fin, ok = beforeEnd(c, d, off, payload, missing, fin); !ok {
			return // past its sender's FIN or RST: counted, reported at the close
		}
	}
	end := off + int64(len(payload)) + int64(missing)
	if fin && !h.finSeen {
		h.finSeen, h.finOff = true, end
		h.finPacket, h.finTime = at.packet, at.time
		a.trimPastEnd(c, d) // what was buffered past it is not the stream's
	}
	switch {
	case end <= h.off:
		// A retransmission or duplicate of bytes already delivered.
	case off <= h.off:
		skip := h.off - off
		if b := payload[min(skip, int64(len(payload))):]; len(h.ooo) > 0 && h.off+int64(len(b)) > h.ooo[0].off {
			a.deliverOver(c, d, b, at) // it reaches bytes buffered ahead of it
		} else if len(b) > 0 {
			a.deliver(c, d, b, at.packet)
		}
		if gapEnd := end; missing > 0 && !c.done {
			if len(h.ooo) > 0 {
				gapEnd = min(gapEnd, h.ooo[0].off) // buffered bytes are not missing
			}
			if gapEnd > h.off {
				// Not when the buffered bytes start where the captured
				// ones end: nothing is missing before them.
				a.gap(c, d, gapEnd-h.off, "the capture's snap length cut this packet short")
			}
		}
		a.drain(c, d)
	default:
		a.buffer(c, d, off, payload, at)
	}
	a.checkFIN(c, d)
}

// acked handles the peer's acknowledgment of direction d's bytes up to
// ack. Bytes the receiver acknowledged but the capture has not shown are a
// pending hole, not yet a gap: capture points record packets out of
// order, and an ACK often comes before the data it acknowledges. settle
// decides.
func (a *Analyzer) acked(c *conn, d int, ack uint32) {
	h := &c.half[d]
	if !h.started {
		return
	}
	delta := int64(int32(ack - h.next))
	if delta <= 0 || delta >= maxWindow {
		return
	}
	ackOff := h.off + delta
	if h.finSeen && ackOff > h.finOff {
		ackOff = h.finOff // the FIN's own sequence number
	}
	h.acked = max(h.acked, ackOff)
}

// settle declares the pending hole of direction d (see acked) a gap when
// the evidence is conclusive: the direction's own later bytes (buffered
// data, or its FIN), or the peer's data that acknowledges the hole (see
// deferSegment), have waited behind it for longer than the reorder
// window, in packets of the capture and in capture time; or the direction
// sent its FIN and the receiver acknowledged every byte up to it. The
// receiver has the hole's bytes and will not ask for them again, so had the
// capture only recorded them late they would have come within the window.
// The buffer caps and the connection's end (at a RST, or when its linger
// after the RST ends) decide at once (buffer, finish). Only the
// acknowledged part of a hole is declared: bytes past the acknowledgment
// may still be retransmitted.
func (a *Analyzer) settle(c *conn, d int) {
	h := &c.half[d]
	for _, ds := range c.deferred(d) {
		if int64(int32(ds.seq-h.next)) < h.acked-h.off {
			// The hole's bytes may be those deferred: they wait for
			// the peer's hole, decided first (its evidence is theirs).
			return
		}
	}
	for h.acked > h.off && !c.done {
		next, packet, t := int64(-1), int64(0), int64(0)
		if len(h.ooo) > 0 {
			next, packet, t = h.ooo[0].off, h.ooo[0].packet, h.ooo[0].time
		}
		if h.finSeen && h.finOff > h.off && (next < 0 || h.finOff < next) {
			next, packet, t = h.finOff, h.finPacket, h.finTime
		}
		if pd := c.deferred(1 - d); len(pd) > 0 && pd[0].need > h.off && (next < 0 || pd[0].packet < packet) {
			// The peer's data that acknowledges the hole waits behind it.
			next, packet, t = pd[0].need, pd[0].packet, pd[0].time
		}
		finAcked := h.finSeen && h.acked >= h.finOff // the receiver has every byte up to the FIN: the direction is over
		if next < 0 || !finAcked && !a.waitedOut(packet, t) {
			return // nothing waits behind the hole yet, or not for long
		}
		a.skipTo(c, d, min(next, h.acked), "")
		a.checkFIN(c, d)
	}
}

// skipTo declares gaps and drains buffered data until direction d has
// reached stream offset target.
func (a *Analyzer) skipTo(c *conn, d int, target int64, why string) {
	h := &c.half[d]
	for h.off < target && !c.done {
		next := target
		if len(h.ooo) > 0 && h.ooo[0].off < next {
			next = h.ooo[0].off
		}
		if next > h.off {
			a.gap(c, d, next-h.off, why)
		}
		a.drain(c, d)
	}
}

// buffer keeps a segment that arrived ahead of a hole.
func (a *Analyzer) buffer(c *conn, d int, off int64, payload []byte, at arrival) {
	h := &c.half[d]
	if len(payload) == 0 {
		return
	}
	// Bounds first: make room by giving up on the oldest hole of this
	// direction, which delivers what is buffered behind it.
	for len(h.ooo) > 0 && (h.oooSize+len(payload) > a.opts.MaxBufferPerConn || a.buffered+int64(len(payload)) > a.bufferCap) {
		h.limitHit = true
		a.skipTo(c, d, h.ooo[0].off, "")
		if c.done {
			return
		}
	}
	if off <= h.off {
		// Forcing gaps above reached this segment.
		a.data(c, d, h.next+uint32(off-h.off), payload, 0, false, at)
		return
	}
	if h.oooSize+len(payload) > a.opts.MaxBufferPerConn || a.buffered+int64(len(payload)) > a.bufferCap {
		h.limitHit = true // dropped: it will surface as a gap
		return
	}
	// The buffered segments do not overlap: where this one overlaps them
	// the first copy wins, as Linux and BSD keep it (a receiver has
	// already acknowledged, and may have delivered, those bytes), and
	// different bytes there are counted as a conflict. Only the parts not
	// buffered yet are kept.
	i := len(h.ooo)
	for i > 0 && h.ooo[i-1].off+int64(len(h.ooo[i-1].data)) > off {
		i--
	}
	end := off + int64(len(payload))
	for ; i < len(h.ooo) && h.ooo[i].off < end && len(payload) > 0; i++ {
		seg := &h.ooo[i]
		if seg.off > off {
			n := seg.off - off
			a.insert(h, i, off, payload[:n], at)
			i++
			seg = &h.ooo[i]
			off, payload = seg.off, payload[n:]
		}
		held := seg.data[off-seg.off:]
		n := min(len(held), len(payload))
		a.compare(c, d, off, held[:n], payload[:n])
		off, payload = off+int64(n), payload[n:]
	}
	if len(payload) > 0 {
		a.insert(h, i, off, payload, at)
	}
}

// insert buffers a copy of payload, at stream offset off, as h.ooo[i].
func (a *Analyzer) insert(h *halfConn, i int, off int64, payload []byte, at arrival) {
	seg := oooSegment{off: off, data: append(a.pool.get(len(payload)), payload...), arrival: at}
	h.ooo = slices.Insert(h.ooo, i, seg)
	h.oooSize += len(payload)
	a.buffered += int64(len(payload))
}

// drain delivers buffered segments that the stream has reached.
func (a *Analyzer) drain(c *conn, d int) {
	h := &c.half[d]
	for len(h.ooo) > 0 && h.ooo[0].off <= h.off && !c.done {
		a.drainFirst(c, d)
	}
	if len(h.ooo) == 0 {
		h.ooo = h.ooo[:0]
	}
}

// drainFirst delivers the first buffered segment of direction d, which
// the stream has reached, and gives it up.
func (a *Analyzer) drainFirst(c *conn, d int) {
	h := &c.half[d]
	seg := h.ooo[0]
	h.ooo[0] = oooSegment{}
	h.ooo = h.ooo[1:]
	h.oooSize -= len(seg.data)
	a.buffered -= int64(len(seg.data))
	if end := seg.off + int64(len(seg.data)); end > h.off {
		// The decoders copy what they keep: the buffer can be reused.
		a.deliver(c, d, seg.data[h.off-seg.off:], seg.packet)
	}
	a.pool.put(seg.data)
}

// deliverOver delivers b, the bytes of direction d from its next expected
// one on, which reach bytes buffered ahead of them: there the buffered
// copy, which came first, is delivered instead, and different bytes are
// counted as a conflict (see buffer).
func (a *Analyzer) deliverOver(c *conn, d int, b []byte, at arrival) {
	h := &c.half[d]
	for len(b) > 0 && !c.done {
		if len(h.ooo) == 0 || h.ooo[0].off >= h.off+int64(len(b)) {
			a.deliver(c, d, b, at.packet)
			return
		}
		if n := h.ooo[0].off - h.off; n > 0 {
			a.deliver(c, d, b[:n], at.packet)
			b = b[n:]
			continue
		}
		seg := &h.ooo[0]
		if h.off-seg.off >= int64(len(seg.data)) {
			a.drainFirst(c, d) // wholly behind: nothing of it to deliver
			continue
		}
		held := seg.data[h.off-seg.off:]
		n := min(len(held), len(b))
		a.compare(c, d, h.off, held[:n], b[:n])
		b = b[n:]
		a.drainFirst(c, d)
	}
}

// compare counts a conflict when new bytes at stream offset off differ
// from the held ones, the first copy of the same bytes.
func (a *Analyzer) compare(c *conn, d int, off int64, held, b []byte) {
	if bytes.Equal(held, b) {
		return
	}
	h := &c.rareOf().half[d]
	if h.conflicts == 0 {
		i := 0
		for held[i] == b[i] {
			i++
		}
		h.conflictOff = off + int64(i)
	}
	h.conflicts++
}

// deliver hands in-order bytes of direction d to the application decoder.
// packet is the packet that carried them.
func (a *Analyzer) deliver(c *conn, d int, b []byte, packet int64) {
	h := &c.half[d]
	h.off += int64(len(b))
	h.next += uint32(len(b))
	a.appData(c, d, b, packet)
}

// gap skips n bytes of direction d that were never captured and emits
// tcp.gap.
func (a *Analyzer) gap(c *conn, d int, n int64, why string) {
	h := &c.half[d]
	ev := a.newEvent(TypeTCPGap, c, fromName[d])
	ev.TCPGap = TCPGap{Offset: h.off, Size: n}
	ev.Note = fmt.Sprintf("%s of the %s's data (stream offset %d) were never captured", plural(n, "byte", "bytes"), fromName[d], h.off)
	if why != "" {
		ev.Note += ": " + why
	}
	ev.Warn("tcp.gap", fmt.Sprintf("%d bytes missing from the capture at stream offset %d; what they carried is unknown (RFC 9293 §3.10.7.4 reassembly)", n, h.off))
	if h.limitHit {
		h.limitHit = false
		ev.Warn("tcp.buffer_limit", fmt.Sprintf("out-of-order data beyond the buffer limit (%d bytes per connection, %d overall) was skipped", a.opts.MaxBufferPerConn, a.opts.MaxBufferTotal))
	}
	a.send(ev)
	h.off += n
	h.next += uint32(n)
	a.appGap(c, d, n)
}

// checkFIN marks direction d closed once everything up to its FIN arrived.
func (a *Analyzer) checkFIN(c *conn, d int) {
	h := &c.half[d]
	if h.finSeen && !h.closed && h.off >= h.finOff && len(h.ooo) == 0 {
		h.closed = true
	}
}

// finish ends a connection: what is buffered is flushed with gaps, the
// decoders are told, and tcp.close is emitted.
func (a *Analyzer) finish(c *conn, how string) {
	if c.done {
		return
	}
	if a.lingering(c) {
		// It closed while it waited for keys (tlsLinger), and ends now
		// (replaced, evicted, the capture's end): as it closed.
		w := a.tls.waiting[c]
		defer a.stampAt(w.closePkt, w.closeTime)()
		how = w.closing
	}
	if !c.opened {
		a.emitOpen(c)
	}
	if c.rare != nil && c.rare.reset.packet != 0 {
		// It lingered after a RST: it ended there, whatever ends it now
		// (the reorder window, a FIN, the capture's end, eviction).
		defer a.stampAt(c.rare.reset.packet, time.Unix(0, c.rare.reset.time).UTC())()
		how = CloseRST
	}
	for d := range 2 {
		// Segments waiting for the peer's bytes: those are a gap now.
		a.release(c, d, true)
	}
	if how == CloseEnd && c.half[client].finSeen && c.half[server].finSeen {
		// Both sides sent FIN; a hole before one was still pending (see
		// settle) when the capture ended.
		how = CloseFIN
	}
	for d := range 2 {
		h := &c.half[d]
		end := h.off
		if len(h.ooo) > 0 {
			last := h.ooo[len(h.ooo)-1]
			end = last.off + int64(len(last.data))
		}
		if h.finSeen && h.finOff > end {
			end = h.finOff // the FIN says where the data ended
		}
		// Bytes the receiver acknowledged that were never captured: a
		// pending hole (see settle) is a gap now; so are bytes the sender
		// of a RST sent before it (its sequence number says so).
		end = max(end, h.acked)
		if r := c.rare; r != nil && r.reset.packet != 0 && r.resetFrom == d {
			end = max(end, r.resetOff)
		}
		a.skipTo(c, d, end, "")
	}
	if a.tlsLinger(c, how) {
		return // its records wait for keys: closed when they are decoded (tls.go)
	}
	a.appEnd(c)
	ev := a.newEvent(TypeTCPClose, c, "")
	ev.TCPClose = TCPClose{How: how, ClientBytes: c.half[client].off, ServerBytes: c.half[server].off}
	if len(c.packets) > 0 {
		ev.TCPClose.Teardown = a.tcpPackets(c)
	}
	counts := fmt.Sprintf("%s from the client, %s from the server", plural(c.half[client].off, "byte", "bytes"), plural(c.half[server].off, "byte", "bytes"))
	switch how {
	case CloseFIN:
		ev.Note = "both sides closed the TCP connection (FIN): " + counts
	case CloseRST:
		ev.Note = "the TCP connection was reset (RST): the sender gave up on it at once; " + counts
		if r := c.rare; r != nil && r.reset.packet != 0 {
			ev.Note += afterResetNote(c, r)
		}
	case CloseEnd:
		ev.Note = "the capture ended while the TCP connection was still open: " + counts
	case CloseEvicted:
		ev.Note = "stopped following this connection to keep memory bounded (too many open connections): " + counts
		ev.Warn("tcp.conn_limit", fmt.Sprintf("more than %d connections were open at once; the least recently active one was dropped", a.opts.MaxConns))
	case CloseReplaced:
		ev.Note = "a new connection on the same addresses began before this one's end was captured: " + counts
		ev.Warn("tcp.port_reused", "a SYN outside this connection's window started a new connection on the same addresses and ports; how this one ended was not captured (RFC 9293 §3.10.7.4)")
	}
	var outOfWindow int64
	for d := range 2 {
		if c.rare == nil {
			break
		}
		h := &c.rare.half[d]
		outOfWindow += h.outOfWindow
		if h.conflicts > 0 {
			ev.Warn("tcp.overlap_conflict", fmt.Sprintf("%s from the %s overlapped bytes already captured with different bytes (the first at stream offset %d); the first copy was kept, as Linux and BSD keep it, the receiver may have kept another", plural(h.conflicts, "segment", "segments"), fromName[d], h.conflictOff))
		}
	}
	for d := range 2 {
		if c.rare == nil || c.rare.afterEnd[d] == 0 {
			continue
		}
		mark := "RST"
		if h := &c.half[d]; h.finSeen && h.finOff == endOf(c, d) {
			mark = "FIN"
		}
		ev.Warn("tcp.data_after_end", fmt.Sprintf("%s from the %s lay past the sequence number of its own %s and were not decoded: an endpoint sends nothing after its FIN or RST (RFC 9293 §3.6, §3.10.5), so the %s came from elsewhere (a middlebox can inject one) or these bytes did", plural(c.rare.afterEnd[d], "byte", "bytes"), fromName[d], mark, mark))
	}
	if n := outOfWindow; n > 0 {
		ev.Warn("tcp.out_of_window", fmt.Sprintf("%s starting %d or more bytes away from the next expected sequence number, outside any TCP window (RFC 7323 §2.3), were ignored", plural(n, "segment", "segments"), maxWindow))
	}
	a.send(ev)
	c.done = true
	c.app = app{}
	c.packets = nil
	for d := range 2 {
		for _, seg := range c.half[d].ooo {
			a.pool.put(seg.data)
		}
		c.half[d].ooo = nil
		for _, ds := range c.deferred(d) {
			a.pool.put(ds.data)
			a.buffered -= int64(len(ds.data))
		}
	}
	c.rare = nil
}

// guessRoles picks client and server for a connection whose SYN was not
// captured: from what its first payload looks like, else from the ports.
func guessRoles(s *capture.Segment) [2]netip.AddrPort {
	src, dst := s.Src, s.Dst
	if len(s.Payload) > 0 {
		switch {
		case looksLikeRequest(s.Payload), probe(s.Payload, true):
			return [2]netip.AddrPort{src, dst}
		case looksLikeResponse(s.Payload), probe(s.Payload, false):
			return [2]netip.AddrPort{dst, src}
		}
	}
	if serverPort(dst.Port()) && !serverPort(src.Port()) {
		return [2]netip.AddrPort{src, dst}
	}
	if serverPort(src.Port()) && !serverPort(dst.Port()) {
		return [2]netip.AddrPort{dst, src}
	}
	if src.Port() > dst.Port() {
		return [2]netip.AddrPort{src, dst}
	}
	return [2]netip.AddrPort{dst, src}
}

// serverPort reports whether a port is one servers usually listen on:
// below the ephemeral range's start on every common OS (1024) or a usual
// development port.
func serverPort(p uint16) bool {
	switch p {
	case 3000, 4000, 5000, 5001, 8000, 8001, 8008, 8080, 8081, 8088, 8443, 8888, 9000, 9001, 9090:
		return true
	}
	return p < 1024
}

// segmentPool recycles the copies of out-of-order segments, by size class
// (powers of two from minPooled), so that reordering in a long capture
// does not allocate per packet. Each class keeps at most maxPooledBytes.
type segmentPool struct {
	free [poolClasses][][]byte
}

const (
	minPooled      = 2 << 10 // a 1448-byte segment's class
	poolClasses    = 8       // up to 256 KiB, MaxCaptureLength
	maxPooledBytes = 1 << 20
)

func poolClass(n int) int {
	c := 0
	for size := minPooled; size < n; size <<= 1 {
		c++
	}
	return c
}

// get returns an empty buffer with room for n bytes.
func (p *segmentPool) get(n int) []byte {
	c := poolClass(n)
	if c >= poolClasses {
		return make([]byte, 0, n)
	}
	if f := p.free[c]; len(f) > 0 {
		b := f[len(f)-1]
		f[len(f)-1] = nil
		p.free[c] = f[:len(f)-1]
		return b[:0]
	}
	return make([]byte, 0, minPooled<<c)
}

// put gives back a buffer from get.
func (p *segmentPool) put(b []byte) {
	c := poolClass(cap(b))
	if c >= poolClasses || cap(b) != minPooled<<c || (len(p.free[c])+1)*cap(b) > maxPooledBytes {
		return
	}
	p.free[c] = append(p.free[c], b)
}
