package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
)

// Bounds of IP reassembly that are not options.
const (
	// maxDatagram is the largest payload a fragmented datagram can have:
	// the 13-bit offset in 8-byte units plus the last fragment, within the
	// 16-bit lengths of RFC 791 §3.1 and RFC 8200 §3.
	maxDatagram = 65535
	// maxFragmentsPerDatagram bounds the fragments of one datagram: a
	// 64 KiB datagram over a 576-byte path takes 118.
	maxFragmentsPerDatagram = 1024
	// recentDatagrams is how many completed datagrams are remembered to
	// recognise late copies of their fragments, for copyWindow of capture
	// time; recentPieces bounds the fragments remembered of each.
	recentDatagrams = 16
	recentPieces    = 64
	copyWindow      = time.Second
	// Datagrams' buffers have capacities in powers of two, from
	// minBuffer to maxBuffer (a datagram's 65,535 bytes). Buffers given
	// up are kept for reuse, up to a quarter of MaxFragmentBytes, and so
	// are up to freeDatagrams datagrams: a flood of fragments that never
	// complete, each making its datagram 64 KiB long, then neither
	// allocates nor clears memory for each fragment.
	minBufferShift = 9
	maxBufferShift = 16
	minBuffer      = 1 << minBufferShift
	bufferClasses  = maxBufferShift - minBufferShift + 1
	freeDatagrams  = 256
)

// fragKey identifies a datagram being reassembled: source, destination,
// protocol and identification for IPv4 (RFC 791 §3.2), source,
// destination and identification for IPv6 (RFC 8200 §4.5), within the
// tunnels around it (ctx), whose inner addresses may repeat.
type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8 // IPv4 only
	v6       bool
	ctx      uint64
}

// fragFlow is the pair of addresses a per-flow bound applies to.
type fragFlow struct {
	src, dst [16]byte
	ctx      uint64
}

func (k *fragKey) flow() fragFlow { return fragFlow{k.src, k.dst, k.ctx} }

// flowState is what reassembly holds for one pair of addresses: the bytes
// of its datagrams' buffers and its datagrams in age order, so that the
// per-flow bound gives up the flow's oldest without a search.
type flowState struct {
	key            fragFlow
	bytes          int
	oldest, newest *datagram
}

// span is a range of datagram bytes, [start, end).
type span struct{ start, end int }

// datagram is one datagram being reassembled.
type datagram struct {
	key    fragKey
	buf    []byte // the bytes at their offsets; len is the furthest end seen
	have   []span // the ranges received, sorted, disjoint and not adjacent
	pieces []span // each fragment kept, to recognise exact copies
	total  int    // the payload's length once the last fragment came, else -1
	lost   int    // the first byte the capture cut (snap length), maxDatagram+1 for none
	first  bool   // the fragment at offset 0 came
	next   uint8  // IPv6: the first header of the fragmentable part, from the first fragment
	start  time.Time

	overlapAt, conflictAt int    // the first overlapping byte, -1 for none
	bad                   string // why a fragment was dropped, "" for none

	older, newer         *datagram  // the age list
	flowOlder, flowNewer *datagram  // the age list of its flow
	flow                 *flowState // its pair of addresses
}

// recentDatagram remembers a completed datagram's fragments.
type recentDatagram struct {
	key    fragKey
	at     time.Time
	pieces []recentPiece
}

type recentPiece struct {
	span
	sum uint64
}

// reassembler holds the datagrams of a Decoder that wait for fragments.
type reassembler struct {
	opts      DecoderOptions
	table     map[fragKey]*datagram
	oldest    *datagram
	newest    *datagram
	bytes     int // cap of every datagram's buffer
	flows     map[fragFlow]*flowState
	fragments int // fragments kept
	now       time.Time

	recent    [recentDatagrams]recentDatagram
	recentPos int

	// Datagrams given up at a bound since the last report of it, and
	// when that report was.
	dropped     int
	dropWhy     dropReason
	lastDropRep time.Time

	next uint8 // the completed datagram's next header (IPv6)

	// done is the datagram completed by the last packet, whose buffer the
	// segment decoded from it aliases until the next one.
	done *datagram
	// free keeps buffers given up, by capacity (minBuffer << class), and
	// freeBytes counts them; freeList keeps datagrams for reuse.
	free      [bufferClasses][][]byte
	freeBytes int
	freeList  []*datagram
	freeFlows []*flowState
}

func (r *reassembler) init(opts DecoderOptions) {
	r.opts = opts
	r.table = make(map[fragKey]*datagram)
	r.flows = make(map[fragFlow]*flowState)
}

// busy reports whether anything waits: datagrams, drops not reported, or
// a completed datagram to recycle.
func (r *reassembler) busy() bool { return r.oldest != nil || r.dropped > 0 || r.done != nil }

// recycle is called before each packet: the datagram the last packet
// completed is done with (its segment's Payload was valid until now).
func (r *reassembler) recycle() {
	if r.done != nil {
		r.release(r.done)
		r.done = nil
	}
}

// bufferClass returns the class of the smallest buffer that holds n
// bytes.
func bufferClass(n int) int {
	c := 0
	for minBuffer<<c < n && c < bufferClasses-1 {
		c++
	}
	return c
}

// buffer returns an empty buffer that holds n bytes (at most maxBuffer),
// reused if one is free. Its bytes are whatever a previous datagram left:
// only the ranges a datagram received (datagram.have) are ever read.
func (r *reassembler) buffer(n int) []byte {
	c := bufferClass(n)
	if k := len(r.free[c]); k > 0 {
		b := r.free[c][k-1]
		r.free[c] = r.free[c][:k-1]
		r.freeBytes -= cap(b)
		return b
	}
	return make([]byte, 0, minBuffer<<c)
}

// keepBuffer keeps b for reuse, within the bounds of what is kept free.
func (r *reassembler) keepBuffer(b []byte) {
	if c := bufferClass(cap(b)); cap(b) > 0 && minBuffer<<c == cap(b) && r.freeBytes+cap(b) <= r.opts.MaxFragmentBytes/4 {
		r.free[c] = append(r.free[c], b[:0])
		r.freeBytes += cap(b)
	}
}

// release keeps dg and its buffer for reuse, within the bounds of what is
// kept free. dg must be removed from the table first.
func (r *reassembler) release(dg *datagram) {
	r.keepBuffer(dg.buf)
	if len(r.freeList) < freeDatagrams && cap(dg.pieces) <= recentPieces && cap(dg.have) <= recentPieces {
		*dg = datagram{have: dg.have[:0], pieces: dg.pieces[:0]}
		r.freeList = append(r.freeList, dg)
	}
}

// add takes one fragment: data (as captured) of a fragment whose payload
// is wire bytes on the wire, at byte offset off of the datagram key, the
// last one unless more. next is the protocol of the payload (IPv6: the
// Fragment header's Next Header). When the fragment completes the
// datagram, add returns its payload (aliasing its buffer), its length on
// the wire, and ok.
func (r *reassembler) add(d *Decoder, key *fragKey, off int, more bool, data []byte, wire int, next uint8) (payload []byte, wireLen int, ok bool) {
	if len(data) > wire {
		data = data[:wire]
	}
	end := off + wire
	dg := r.table[*key]
	if dg == nil && r.isCopy(key, off, end, data) {
		return nil, 0, false // a late copy of a fragment of a completed datagram
	}
	if more && wire == 0 {
		return nil, 0, false // nothing to place
	}

	// 1. A fragment no datagram can hold is dropped, and the datagram
	// says so when it is reported.
	bad := ""
	switch {
	case end > maxDatagram:
		bad = fmt.Sprintf("a fragment ends at byte %d, past the %d bytes a datagram can hold", end, maxDatagram)
	case more && wire%8 != 0:
		bad = fmt.Sprintf("a fragment that is not the last holds %d bytes, not a multiple of 8", wire)
	}
	if dg == nil {
		if dg = r.create(d, key); dg == nil {
			return nil, 0, false
		}
	}
	switch {
	case bad != "":
	case !more && dg.total >= 0 && dg.total != end:
		bad = fmt.Sprintf("two last fragments end the datagram at bytes %d and %d", dg.total, end)
	case dg.total >= 0 && end > dg.total:
		bad = fmt.Sprintf("a fragment ends at byte %d, past the datagram's end at %d", end, dg.total)
	case !more && end < len(dg.buf):
		bad = fmt.Sprintf("the last fragment ends the datagram at byte %d, but bytes up to %d came", end, len(dg.buf))
	}
	if bad != "" {
		if dg.bad == "" {
			dg.bad = bad
		}
		return nil, 0, false
	}

	// 2. An exact copy of a fragment kept (a capture on Linux's "any"
	// sees each packet twice) is no problem.
	for _, p := range dg.pieces {
		if c := max(off, min(off+len(data), dg.lost)); p.start == off && p.end == end && bytes.Equal(dg.buf[off:c], data[:c-off]) {
			return nil, 0, false
		}
	}

	// 3. Room, within the bounds.
	if len(dg.pieces) == maxFragmentsPerDatagram {
		r.drop(d, dg, dropDatagramFragments)
		return nil, 0, false
	}
	if !r.makeRoom(d, dg, end) {
		return nil, 0, false
	}

	// 4. Where fragments overlap the first copy wins, as TCP keeps
	// retransmitted bytes; the overlap is noted.
	captured := off + len(data)
	for _, h := range dg.have {
		lo, hi := max(h.start, off), min(h.end, end)
		if lo >= hi {
			continue
		}
		if dg.overlapAt < 0 {
			dg.overlapAt = lo
		}
		if c := min(hi, captured, dg.lost); lo < c && !bytes.Equal(dg.buf[lo:c], data[lo-off:c-off]) && dg.conflictAt < 0 {
			dg.conflictAt = lo
		}
	}
	pos := off
	for _, h := range dg.have {
		if h.end <= pos {
			continue
		}
		if h.start >= captured {
			break
		}
		if pos < h.start {
			copy(dg.buf[pos:h.start], data[pos-off:])
		}
		pos = max(pos, h.end)
	}
	if pos < captured {
		copy(dg.buf[pos:captured], data[pos-off:])
	}
	if captured < end && captured < dg.lost {
		dg.lost = captured
	}
	dg.have = addSpan(dg.have, span{off, end})
	dg.pieces = append(dg.pieces, span{off, end})
	r.fragments++
	if off == 0 {
		dg.first, dg.next = true, next
	}
	if !more {
		dg.total = end
	}

	// 5. Complete: every byte from 0 to the end came.
	if dg.total < 0 || len(dg.have) != 1 || dg.have[0] != (span{0, dg.total}) {
		return nil, 0, false
	}
	r.remove(dg)
	r.remember(dg)
	r.done = dg
	if d.prog != nil && !d.matched {
		d.matched = d.prog.Match(ipPacket(&dg.key, dg.next, dg.buf[:min(dg.total, dg.lost)]))
	}
	d.outer.Fragments = len(dg.pieces)
	d.outer.Problems = dg.problems(d.outer.Problems[:0])
	r.next = dg.next
	return dg.buf[:min(dg.total, dg.lost)], dg.total, true
}

// addSpan merges s into the sorted, disjoint list have.
func addSpan(have []span, s span) []span {
	i := 0
	for i < len(have) && have[i].end < s.start {
		i++
	}
	j := i
	for j < len(have) && have[j].start <= s.end {
		s.start, s.end = min(s.start, have[j].start), max(s.end, have[j].end)
		j++
	}
	if i == j {
		have = append(have, span{})
		copy(have[i+1:], have[i:])
		have[i] = s
		return have
	}
	have[i] = s
	return append(have[:i+1], have[j:]...)
}

// create starts a datagram. Datagrams are bounded in number as fragments
// are: a datagram of fragments all dropped as malformed holds none.
func (r *reassembler) create(d *Decoder, key *fragKey) *datagram {
	for len(r.table) >= r.opts.MaxFragments && r.oldest != nil {
		r.drop(d, r.oldest, dropDatagrams)
	}
	var dg *datagram
	if k := len(r.freeList); k > 0 {
		dg = r.freeList[k-1]
		r.freeList = r.freeList[:k-1]
	} else {
		dg = new(datagram)
	}
	dg.key, dg.total, dg.lost, dg.start, dg.overlapAt, dg.conflictAt = *key, -1, maxDatagram+1, r.now, -1, -1
	r.table[*key] = dg
	fs := r.flows[key.flow()]
	if fs == nil {
		if k := len(r.freeFlows); k > 0 {
			fs = r.freeFlows[k-1]
			r.freeFlows = r.freeFlows[:k-1]
		} else {
			fs = new(flowState)
		}
		fs.key = key.flow()
		r.flows[fs.key] = fs
	}
	dg.flow = fs
	dg.flowOlder = fs.newest
	if fs.newest != nil {
		fs.newest.flowNewer = dg
	} else {
		fs.oldest = dg
	}
	fs.newest = dg
	dg.older = r.newest
	if r.newest != nil {
		r.newest.newer = dg
	} else {
		r.oldest = dg
	}
	r.newest = dg
	return dg
}

// makeRoom grows dg's buffer to hold end bytes and makes room for one more
// fragment, giving up the oldest other datagrams past a bound. It returns
// false, having given dg up, when dg alone is past one.
func (r *reassembler) makeRoom(d *Decoder, dg *datagram, end int) bool {
	grow := 0
	if end > cap(dg.buf) {
		grow = minBuffer<<bufferClass(end) - cap(dg.buf)
	}
	fs := dg.flow
	for r.fragments+1 > r.opts.MaxFragments || r.bytes+grow > r.opts.MaxFragmentBytes {
		old := r.oldest
		if old == dg {
			old = dg.newer
		}
		if old == nil {
			r.drop(d, dg, dropOneDatagram)
			return false
		}
		r.drop(d, old, dropHeld)
	}
	for fs.bytes+grow > r.opts.MaxFragmentBytesPerFlow {
		old := fs.oldest
		if old == dg {
			old = dg.flowNewer
		}
		if old == nil {
			r.drop(d, dg, dropOneDatagramFlow)
			return false
		}
		r.drop(d, old, dropHeldFlow)
	}
	if grow > 0 {
		old := dg.buf
		dg.buf = append(r.buffer(end), old...)
		r.keepBuffer(old)
		r.bytes += grow
		fs.bytes += grow
	}
	if end > len(dg.buf) {
		dg.buf = dg.buf[:end]
	}
	return true
}

// remove forgets dg.
func (r *reassembler) remove(dg *datagram) {
	delete(r.table, dg.key)
	if dg.older != nil {
		dg.older.newer = dg.newer
	} else {
		r.oldest = dg.newer
	}
	if dg.newer != nil {
		dg.newer.older = dg.older
	} else {
		r.newest = dg.older
	}
	dg.older, dg.newer = nil, nil
	r.fragments -= len(dg.pieces)
	r.bytes -= cap(dg.buf)
	fs := dg.flow
	if dg.flowOlder != nil {
		dg.flowOlder.flowNewer = dg.flowNewer
	} else {
		fs.oldest = dg.flowNewer
	}
	if dg.flowNewer != nil {
		dg.flowNewer.flowOlder = dg.flowOlder
	} else {
		fs.newest = dg.flowOlder
	}
	dg.flowOlder, dg.flowNewer, dg.flow = nil, nil, nil
	fs.bytes -= cap(dg.buf)
	if fs.oldest == nil {
		delete(r.flows, fs.key)
		if len(r.freeFlows) < freeDatagrams {
			*fs = flowState{}
			r.freeFlows = append(r.freeFlows, fs)
		}
	}
}

// drop gives dg up at a bound. Drops are reported together: at most once
// per FragmentTimeout of capture time, and at Flush.
func (r *reassembler) drop(d *Decoder, dg *datagram, why dropReason) {
	r.remove(dg)
	r.release(dg)
	r.dropped++
	r.dropWhy = why
	if r.lastDropRep.IsZero() || r.now.Sub(r.lastDropRep) >= r.opts.FragmentTimeout {
		r.reportDrops(d)
	}
}

// dropReason says why datagrams were given up at a bound (the last
// reason is reported); the text is made only when reported.
type dropReason uint8

const (
	dropDatagramFragments dropReason = iota // one datagram had too many fragments
	dropDatagrams                           // too many datagrams waited
	dropOneDatagram                         // one datagram alone is past the bounds in all
	dropHeld                                // the bounds in all
	dropOneDatagramFlow                     // one datagram alone is past its flow's bound
	dropHeldFlow                            // the bound of its flow
)

func (r *reassembler) dropText(why dropReason) string {
	switch why {
	case dropDatagramFragments:
		return fmt.Sprintf("a datagram had %d fragments", maxFragmentsPerDatagram)
	case dropDatagrams:
		return fmt.Sprintf("more than %d datagrams were waiting for fragments", r.opts.MaxFragments)
	case dropOneDatagram:
		return fmt.Sprintf("one datagram is past the bound of %d bytes or %d fragments held", r.opts.MaxFragmentBytes, r.opts.MaxFragments)
	case dropHeld:
		return fmt.Sprintf("more than %d bytes or %d fragments were held", r.opts.MaxFragmentBytes, r.opts.MaxFragments)
	case dropOneDatagramFlow:
		return fmt.Sprintf("one datagram is past the bound of %d bytes held per pair of addresses", r.opts.MaxFragmentBytesPerFlow)
	}
	return fmt.Sprintf("more than %d bytes were held for one pair of addresses", r.opts.MaxFragmentBytesPerFlow)
}

// reportDrops reports the datagrams given up since the last report.
func (r *reassembler) reportDrops(d *Decoder) {
	if r.dropped == 0 {
		return
	}
	d.report(netip.AddrPort{}, netip.AddrPort{}, Problem{CodeFragmentLimit, fmt.Sprintf(
		"IP reassembly gave up %s to stay within its bounds (%s; the bounds: %d bytes in all, %d per pair of addresses, %d fragments, %d per datagram): a flood of fragments, or fragments that never complete; what they carried is lost",
		plural(r.dropped, "datagram", "datagrams"), r.dropText(r.dropWhy), r.opts.MaxFragmentBytes, r.opts.MaxFragmentBytesPerFlow, r.opts.MaxFragments, maxFragmentsPerDatagram)})
	r.dropped = 0
	r.lastDropRep = r.now
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// expire gives up the datagrams that waited FragmentTimeout by now.
func (r *reassembler) expire(d *Decoder, now time.Time) {
	r.now = now
	for dg := r.oldest; dg != nil && now.Sub(dg.start) >= r.opts.FragmentTimeout; dg = r.oldest {
		r.remove(dg)
		r.incomplete(d, dg, fmt.Sprintf("did not all arrive within %v (RFC 791 §3.2, RFC 8200 §4.5: the reassembly timeout)", r.opts.FragmentTimeout))
		r.release(dg)
	}
	if r.dropped > 0 && now.Sub(r.lastDropRep) >= r.opts.FragmentTimeout {
		r.reportDrops(d)
	}
}

// flush gives up every datagram at the end of the capture.
func (r *reassembler) flush(d *Decoder) {
	for dg := r.oldest; dg != nil; dg = r.oldest {
		r.remove(dg)
		r.incomplete(d, dg, "had not all arrived when the capture ended (RFC 791 §3.2, RFC 8200 §4.5)")
		r.release(dg)
	}
	r.reportDrops(d)
}

// incomplete reports a datagram given up before it was complete, when its
// first fragment shows that it carried a TCP segment; the segment's ports
// then say which connection lost it. Datagrams of other protocols, or
// whose first fragment never came, go unreported: they may be anything,
// and a TCP segment lost with them shows as a gap in its connection.
func (r *reassembler) incomplete(d *Decoder, dg *datagram, why string) {
	if !dg.first {
		return
	}
	firstEnd := min(dg.have[0].end, dg.lost, len(dg.buf))
	var seg Segment
	pkt := ipPacket(&dg.key, dg.next, dg.buf[:firstEnd])
	if !decode(nil, &Packet{LinkType: LinkTypeRaw, Data: pkt, Length: len(pkt)}, &seg) {
		return
	}
	if d.prog != nil && !d.prog.Match(pkt) && !d.prog.Match(segmentPacket(&seg)) {
		return // the filter keeps neither the datagram nor its segment
	}
	received := 0
	for _, h := range dg.have {
		received += h.end - h.start
	}
	size := "its last fragment never came"
	if dg.total >= 0 {
		size = fmt.Sprintf("of its %d bytes", dg.total)
	}
	problems := []Problem{{CodeFragmentIncomplete, fmt.Sprintf(
		"the fragments of an %s datagram (identification %#x) %s: %s, %d bytes, came (%s); the TCP segment it carried is lost",
		ipVersion(&dg.key), dg.key.id, why, plural(len(dg.pieces), "fragment", "fragments"), received, size)}}
	d.report(seg.Src, seg.Dst, dg.problems(problems)...)
}

// ipPacket returns a datagram's payload data (or what came of it) with an
// IP header of its addresses and protocol before it: what the datagram
// is, for decoding its first fragment without reassembly or for testing
// the filter on it.
func ipPacket(key *fragKey, next uint8, data []byte) []byte {
	var pkt []byte
	if key.v6 {
		pkt = make([]byte, ipv6HeaderLen, ipv6HeaderLen+len(data))
		pkt[0] = 6 << 4
		binary.BigEndian.PutUint16(pkt[4:], uint16(len(data)))
		pkt[6] = next
		copy(pkt[8:24], key.src[:])
		copy(pkt[24:40], key.dst[:])
	} else {
		pkt = make([]byte, ipv4MinHeaderLen, ipv4MinHeaderLen+len(data))
		pkt[0] = 4<<4 | ipv4MinHeaderLen/4
		binary.BigEndian.PutUint16(pkt[2:], uint16(ipv4MinHeaderLen+len(data)))
		pkt[9] = key.proto
		copy(pkt[12:16], key.src[12:])
		copy(pkt[16:20], key.dst[12:])
	}
	return append(pkt, data...)
}

// segmentPacket returns an IP packet with a TCP header of seg's addresses
// and ports, to test the filter on a segment decoded from a part of its
// packet.
func segmentPacket(seg *Segment) []byte {
	key := fragKey{proto: ipProtoTCP, v6: !seg.Src.Addr().Is4()}
	key.src, key.dst = seg.Src.Addr().As16(), seg.Dst.Addr().As16()
	tcp := make([]byte, tcpMinHeaderLen)
	binary.BigEndian.PutUint16(tcp, seg.Src.Port())
	binary.BigEndian.PutUint16(tcp[2:], seg.Dst.Port())
	tcp[12] = tcpMinHeaderLen / 4 << 4
	return ipPacket(&key, ipProtoTCP, tcp)
}

func ipVersion(key *fragKey) string {
	if key.v6 {
		return "IPv6"
	}
	return "IPv4"
}

// problems appends what was wrong with dg's fragments to ps.
func (dg *datagram) problems(ps []Problem) []Problem {
	rules := "RFC 791 §3.2"
	if dg.key.v6 {
		rules = "RFC 8200 §4.5, RFC 5722"
	}
	if dg.conflictAt >= 0 {
		ps = append(ps, Problem{CodeFragmentConflict, fmt.Sprintf(
			"fragments of this %s datagram (identification %#x) overlap from byte %d with different bytes: wsviz kept the first copy, but the receiver may have kept the other, or dropped the datagram (%s)",
			ipVersion(&dg.key), dg.key.id, dg.conflictAt, rules)})
	} else if dg.overlapAt >= 0 {
		ps = append(ps, Problem{CodeFragmentOverlap, fmt.Sprintf(
			"fragments of this %s datagram (identification %#x) overlap from byte %d, with the same bytes; many receivers (Linux among them) drop such a datagram (%s)",
			ipVersion(&dg.key), dg.key.id, dg.overlapAt, rules)})
	}
	if dg.bad != "" {
		ps = append(ps, Problem{CodeBadFragment, fmt.Sprintf("a fragment of this %s datagram (identification %#x) was dropped: %s (%s)", ipVersion(&dg.key), dg.key.id, dg.bad, rules)})
	}
	return ps
}

// remember keeps a completed datagram's fragments, to recognise late
// copies of them.
func (r *reassembler) remember(dg *datagram) {
	rd := &r.recent[r.recentPos]
	r.recentPos = (r.recentPos + 1) % recentDatagrams
	rd.key, rd.at, rd.pieces = dg.key, r.now, rd.pieces[:0]
	if len(dg.pieces) > recentPieces {
		return
	}
	for _, p := range dg.pieces {
		c := min(p.end, dg.lost)
		rd.pieces = append(rd.pieces, recentPiece{p, checksum(dg.buf[p.start:max(c, p.start)])})
	}
}

// isCopy reports whether a fragment is a copy of one of a datagram
// completed within copyWindow.
func (r *reassembler) isCopy(key *fragKey, off, end int, data []byte) bool {
	for i := range r.recent {
		rd := &r.recent[i]
		if rd.key != *key || r.now.Sub(rd.at) >= copyWindow || r.now.Before(rd.at) {
			continue
		}
		for _, p := range rd.pieces {
			if p.start == off && p.end == end && p.sum == checksum(data) {
				return true
			}
		}
	}
	return false
}

// checksum is FNV-1a over b.
func checksum(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}
