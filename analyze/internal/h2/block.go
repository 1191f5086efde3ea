package h2

import (
	"errors"
	"fmt"
	"slices"

	"golang.org/x/net/http2/hpack"
)

// blocks is a side's header block state: the block being gathered, the
// HPACK decoder of the blocks the side sends, and the streams it sent
// blocks on.
type blocks struct {
	// inBlock: a HEADERS or PUSH_PROMISE frame without END_HEADERS was
	// read, so a CONTINUATION on blockStream must come next (RFC 9113
	// §6.10).
	inBlock bool
	// blockStream is the stream of the frames carrying the block.
	blockStream uint32
	// out is the block being gathered; out.Stream is the stream reported.
	out Block
	// report: the block is reported when complete. It is not when it is on
	// stream 0 (decoded only to keep the HPACK table in step) or one of
	// its frames was malformed.
	report bool
	// badFrame: the current frame of the block is malformed; its fragment
	// is skipped.
	badFrame bool
	// block holds the fragments gathered so far, at most MaxHeaderBlock
	// bytes; reused from block to block.
	block []byte

	// headersLost: the dynamic table is no longer known, so no block of
	// the side is decoded again (RFC 7541 §2.3.2).
	headersLost bool
	dec         *hpack.Decoder
	fields      []Header // reused from block to block
	listSize    int64    // RFC 7541 §4.1 size of the fields of the block so far
	listOver    bool     // the block's fields passed MaxHeaderList

	// tableAllowed is the largest dynamic table size update the side's
	// encoder may send (allowTableSize).
	tableAllowed uint32

	// sent holds the streams the side sent a non-push block on and has
	// neither ended nor reset: a block on one of them is not the stream's
	// first (Block.Trailers). At most maxTracked; the oldest (lowest)
	// half is forgotten when it is full.
	sent map[uint32]struct{}
}

// initBlocks makes the side's HPACK decoder, with RFC 9113 §6.5.2's
// initial SETTINGS_HEADER_TABLE_SIZE.
func (s *side) initBlocks() {
	s.dec = hpack.NewDecoder(defaultHeaderTableSize, s.emit)
	s.dec.SetMaxStringLength(MaxStringLength)
	s.tableAllowed = defaultHeaderTableSize
}

// emit collects one decoded field, up to MaxHeaderList.
func (s *side) emit(f hpack.HeaderField) {
	s.listSize += int64(f.Size())
	if s.listSize > MaxHeaderList {
		// Decoding goes on without emitting, to keep the dynamic table
		// in step.
		s.listOver = true
		s.dec.SetEmitEnabled(false)
		return
	}
	s.fields = append(s.fields, Header{Name: f.Name, Value: f.Value})
}

// allowTableSize lets side's encoder use the dynamic table size its peer
// announced (RFC 7541 §4.2, RFC 9113 §6.5.2): leniently at least the
// initial 4096 bytes, since a capture does not show when the encoder saw
// the peer's SETTINGS, and at most MaxHeaderTableSize.
func (s *side) allowTableSize(announced uint32) {
	s.tableAllowed = min(max(announced, defaultHeaderTableSize), MaxHeaderTableSize)
	s.dec.SetAllowedMaxDynamicTableSize(s.tableAllowed)
}

// tableSizeUpdates applies the dynamic table size updates at the start of
// a block (RFC 7541 §4.2, §6.3) and returns the rest of it. x/net's
// decoder refuses a second update when the first left entries in the
// table, though RFC 7541 §4.2 has an encoder signal "the smallest maximum
// table size that occurs in that interval" and then the final one (x/net's
// own encoder does).
func (s *side) tableSizeUpdates(block []byte) ([]byte, error) {
	for len(block) > 0 && block[0]&0xe0 == 0x20 { // RFC 7541 §6.3: 001 and a 5-bit prefix
		size, n := hpackInt(block, 5)
		if n == 0 {
			return nil, errors.New("a dynamic table size update is cut short or overflows")
		}
		if size > uint64(s.tableAllowed) {
			return nil, fmt.Errorf("a dynamic table size update to %d exceeds the %d allowed", size, s.tableAllowed)
		}
		s.dec.SetMaxDynamicTableSize(uint32(size))
		block = block[n:]
	}
	return block, nil
}

// hpackInt reads an integer with an n-bit prefix (RFC 7541 §5.1) and
// returns it and its length, or a length of 0 if p ends first or the
// value passes 2^56.
func hpackInt(p []byte, n uint) (uint64, int) {
	if len(p) == 0 {
		return 0, 0
	}
	max := uint64(1)<<n - 1
	v := uint64(p[0]) & max
	if v < max {
		return v, 1
	}
	for i, shift := 1, uint(0); i < len(p) && shift <= 49; i, shift = i+1, shift+7 {
		v += uint64(p[i]&0x7f) << shift
		if p[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// startBlock begins a header block with a HEADERS or PUSH_PROMISE frame.
func (c *Conn) startBlock(side int, packet int64) {
	s := &c.sides[side]
	s.block, s.blockStream = s.block[:0], s.stream
	s.out = Block{
		Stream:    s.stream,
		EndStream: s.typ == frameHeaders && s.flags&flagEndStream != 0,
		Push:      s.typ == framePushPromise,
	}
	s.report = true
	if s.stream == 0 {
		s.report = false
		c.problem(side, CodeStreamID, 0, packet, false, fmt.Sprintf("a %s frame on stream 0, which RFC 9113 §6.2 and §6.6 forbid: its block is decoded but not reported", frameName(s.typ)))
	}
}

// fragment sends the next n bytes, a header block fragment, to the block
// if there is room.
func (c *Conn) fragment(side int, n int64, packet int64) {
	s := &c.sides[side]
	if s.headersLost {
		return
	}
	if int64(len(s.block))+n > MaxHeaderBlock {
		c.loseHeaders(side, CodeHeaderBlockTooLarge, s.stream, packet, fmt.Sprintf("the header block of stream %d grows to %d bytes, past the %d wsviz decodes, so it is skipped and, the side's HPACK dynamic table (RFC 7541 §2.3.2) being unknown after it, no more of its header blocks are decoded", s.blockStream, int64(len(s.block))+n, MaxHeaderBlock))
		return
	}
	s.sink = sinkBlock
}

// badBlockFrame skips a malformed frame of a header block: its fragment
// cannot be found, so the HPACK state is lost.
func (c *Conn) badBlockFrame(side int, code string, packet int64, text string) {
	s := &c.sides[side]
	s.badFrame = true
	s.report = false
	c.loseHeaders(side, code, s.stream, packet, text)
}

// loseHeaders stops the decoding of side's header blocks; the problem is
// Fatal only if they were still decoded.
func (c *Conn) loseHeaders(side int, code string, stream uint32, packet int64, text string) {
	s := &c.sides[side]
	fatal := !s.headersLost
	s.headersLost = true
	s.block = nil // never used again
	if s.sink == sinkBlock {
		s.sink = sinkSkip
	}
	c.problem(side, code, stream, packet, fatal, text)
}

// endBlock decodes and reports the block END_HEADERS completed.
func (c *Conn) endBlock(side int, packet int64) {
	s := &c.sides[side]
	stream := s.out.Stream
	if !s.headersLost {
		s.fields, s.listSize, s.listOver = s.fields[:0], 0, false
		rest, err := s.tableSizeUpdates(s.block)
		if err == nil {
			_, err = s.dec.Write(rest)
		}
		if err == nil {
			err = s.dec.Close()
		}
		s.dec.SetEmitEnabled(true)
		if err != nil {
			c.loseHeaders(side, CodeHPACK, s.blockStream, packet, fmt.Sprintf("the header block of stream %d does not decode (%v), so the side's HPACK dynamic table (RFC 7541 §2.3.2) is unknown and its header blocks are no longer decoded", s.blockStream, err))
		} else if s.report {
			if s.listOver {
				c.problem(side, CodeHeaderListTooLarge, stream, packet, false, fmt.Sprintf("the fields of the header block of stream %d add up to more than the %d bytes (sized as RFC 7541 §4.1 does) wsviz keeps, so only the first %d are reported", stream, MaxHeaderList, len(s.fields)))
			}
			if !s.out.Push {
				s.out.Trailers = s.track(stream)
			}
			s.out.Fields, s.out.Packet = s.fields, packet
			c.h.Headers(side, &s.out)
		}
	}
	if s.report && s.out.EndStream {
		c.endStream(side, stream, packet)
	}
}

// track notes that side sent a block on stream and says whether it had
// sent one before.
func (s *side) track(stream uint32) bool {
	if _, ok := s.sent[stream]; ok {
		return true
	}
	if s.out.EndStream {
		return false // the side can send no more blocks on the stream
	}
	if s.sent == nil {
		s.sent = make(map[uint32]struct{})
	}
	if len(s.sent) >= maxTracked {
		// Stream identifiers grow (RFC 9113 §5.1.1): the lowest are the
		// oldest, likely cancelled by the peer and never ended.
		ids := make([]uint32, 0, len(s.sent))
		for id := range s.sent {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids[:len(ids)/2] {
			delete(s.sent, id)
		}
	}
	s.sent[stream] = struct{}{}
	return false
}
