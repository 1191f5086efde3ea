package h2

import (
	"encoding/binary"
	"fmt"
)

// Header is one decoded header field, pseudo-header fields (":method")
// included, in the order of the block.
type Header struct{ Name, Value string }

// Block is one complete header block: a HEADERS frame and its
// CONTINUATIONs, or a PUSH_PROMISE's (RFC 9113 §4.3).
type Block struct {
	// Stream is the stream of the HEADERS frame, or the promised stream
	// of a PUSH_PROMISE.
	Stream uint32
	// Fields are the decoded fields in order. The slice is reused: it is
	// valid only during the call; copy to keep.
	Fields []Header
	// EndStream: the HEADERS frame had END_STREAM (RFC 9113 §6.2).
	EndStream bool
	// Push: the block came in a PUSH_PROMISE (RFC 9113 §6.6); it is the
	// request the server promises to answer on Stream.
	Push bool
	// Trailers: this side already sent a block on the stream (not counting
	// PUSH_PROMISEs), so this is not its first: trailers, or a final
	// response after an interim 1xx one (RFC 9113 §8.1). A side's streams
	// are forgotten when it ends or resets them, and the oldest when more
	// than maxTracked are open at once.
	Trailers bool
	// Packet is the packet that completed the block.
	Packet int64
}

// Handler receives what a Conn decodes. Calls for a side come in the order
// of its bytes. A Handler must not call Write or Gap of the same Conn.
type Handler interface {
	// Headers reports a complete header block. b and its Fields are
	// reused after the call.
	Headers(side int, b *Block)
	// Data gets a DATA frame's payload bytes (padding removed) as they
	// arrive: one frame's payload may come in several calls, never in an
	// empty one. p aliases the caller's buffer: copy to keep.
	Data(side int, stream uint32, p []byte, packet int64)
	// DataGap reports n payload bytes of a DATA frame of stream that were
	// lost; the framing stays known (the frame's length said where it
	// ends).
	DataGap(side int, stream uint32, n int64, packet int64)
	// EndStream reports that a frame with END_STREAM ended this side of
	// stream (RFC 9113 §5.1). It comes after the DATA frame's last Data
	// or DataGap, or after the Headers of the block whose HEADERS frame
	// had END_STREAM (also when header decoding was lost).
	EndStream(side int, stream uint32, packet int64)
	// Reset reports an RST_STREAM (RFC 9113 §6.4) with its error code
	// (ErrCodeName names it).
	Reset(side int, stream uint32, code uint32, packet int64)
	// Settings reports a SETTINGS frame that is not an ACK, with its
	// parameters in order (RFC 9113 §6.5). s is reused after the call.
	Settings(side int, s []Setting, packet int64)
	// GoAway reports a GOAWAY frame (RFC 9113 §6.8); debug holds at most
	// MaxGoAwayDebug bytes of its debug data and is reused after the call.
	GoAway(side int, lastStream uint32, code uint32, debug []byte, packet int64)
	// Problem reports a protocol violation or a limit that was hit. The
	// problems a frame shows come before what the frame reports.
	Problem(side int, p Problem)
}

// Counts are the frames of one side that are checked but not reported.
type Counts struct {
	Frames       int64 // frame headers read, of every type
	Priority     int64 // PRIORITY frames (RFC 9113 §6.3)
	Ping         int64 // PING frames without ACK (RFC 9113 §6.7)
	PingAck      int64 // PING frames with ACK
	WindowUpdate int64 // WINDOW_UPDATE frames (RFC 9113 §6.9)
	SettingsAck  int64 // SETTINGS frames with ACK (RFC 9113 §6.5)
	Unknown      int64 // frames of unknown types, skipped (RFC 9113 §5.5)
}

// Options configures a Conn.
type Options struct {
	// SkipPreface says the client side begins with frames: its connection
	// preface (RFC 9113 §3.4) was consumed by the caller or not captured.
	SkipPreface bool
}

// Conn decodes both directions of one HTTP/2 connection.
type Conn struct {
	h     Handler
	sides [2]side
}

// state is where a side is in its bytes.
type state uint8

const (
	statePreface state = iota // the client's connection preface (RFC 9113 §3.4)
	stateHeader               // a 9-byte frame header (RFC 9113 §4.1)
	statePrefix               // fixed fields at a payload's start: Pad Length, priority, promised stream, error codes
	stateBody                 // the rest of the payload before its padding, to the frame's sink
	statePadding              // padding (RFC 9113 §6.1), skipped
	stateDead                 // the framing is lost: nothing more is decoded
)

// sink is where a payload's bytes go.
type sink uint8

const (
	sinkSkip    sink = iota // read by no one: PING, PRIORITY, unknown types, frames skipped, header blocks not decoded
	sinkData                // DATA payload, passed to Handler.Data
	sinkBlock               // a header block fragment, appended to side.block
	sinkControl             // a SETTINGS payload, buffered whole
	sinkDebug               // GOAWAY debug data: the first MaxGoAwayDebug bytes are kept
)

// side is the decoding state of one direction.
type side struct {
	st  state
	n   int // bytes of the preface matched, of the frame header or of the fixed fields read
	hdr [frameHeaderLen]byte
	pre [goAwayFixedLen]byte // the fixed fields: at most GOAWAY's 8 bytes
	// preLen is how many fixed fields the frame has.
	preLen int

	// The frame being decoded, from its header.
	length uint32
	typ    uint8
	flags  uint8
	stream uint32
	// drop: the frame is skipped; nothing is reported at its end.
	drop bool

	sink sink
	body int64 // bytes of the payload left before the padding
	pad  int64 // bytes of padding left

	blocks // header blocks and HPACK

	ctl      []byte    // a SETTINGS payload
	settings []Setting // the last SETTINGS' parameters, reused
	values   map[uint16]uint32
	maxFrame uint32 // the largest payload this side accepts (its SETTINGS_MAX_FRAME_SIZE)
	debug    [MaxGoAwayDebug]byte
	debugN   int

	counts Counts
}

// NewConn returns a Conn that reports to h and expects the client to begin
// with the connection preface.
func NewConn(h Handler) *Conn { return NewConnOptions(h, Options{}) }

// NewConnOptions returns a Conn that reports to h, configured by o.
func NewConnOptions(h Handler, o Options) *Conn {
	c := &Conn{h: h}
	for i := range c.sides {
		s := &c.sides[i]
		s.st = stateHeader
		s.maxFrame = defaultMaxFrameSize
		s.initBlocks()
	}
	if !o.SkipPreface {
		c.sides[Client].st = statePreface
	}
	return c
}

// Synced reports whether side is still being decoded: its framing has not
// been lost. It is false for a side that is neither Client nor Server.
func (c *Conn) Synced(side int) bool {
	return validSide(side) && c.sides[side].st != stateDead
}

// DecodingHeaders reports whether side's header blocks are still decoded:
// its framing and its HPACK state are not lost.
func (c *Conn) DecodingHeaders(side int) bool {
	return c.Synced(side) && !c.sides[side].headersLost
}

// Setting returns the last value side announced for a setting id, and
// whether it announced one. Of the identifiers no RFC defines, only those
// among the first 64 the side used are remembered.
func (c *Conn) Setting(side int, id uint16) (uint32, bool) {
	if !validSide(side) {
		return 0, false
	}
	v, ok := c.sides[side].values[id]
	return v, ok
}

// Counts returns the counts of side's frames.
func (c *Conn) Counts(side int) Counts {
	if !validSide(side) {
		return Counts{}
	}
	return c.sides[side].counts
}

func validSide(side int) bool { return side == Client || side == Server }

// Write decodes side's next bytes, which packet carried. The client side
// begins with the connection preface (RFC 9113 §3.4) unless the Conn was
// made with Options.SkipPreface; the server side begins with frames. A side
// that is neither Client nor Server is ignored. b is not kept.
func (c *Conn) Write(side int, b []byte, packet int64) {
	if !validSide(side) {
		return
	}
	s := &c.sides[side]
	for len(b) > 0 {
		switch s.st {
		case stateDead:
			return
		case statePreface:
			n := min(len(b), len(preface)-s.n)
			if string(b[:n]) != preface[s.n:s.n+n] {
				c.lose(side, CodeBadPreface, 0, packet, fmt.Sprintf("the client's bytes %q are not the connection preface %q that RFC 9113 §3.4 requires first, so the side is not decoded", b[:n], preface))
				return
			}
			s.n += n
			b = b[n:]
			if s.n == len(preface) {
				s.st, s.n = stateHeader, 0
			}
		case stateHeader:
			if s.n == 0 && len(b) >= frameHeaderLen {
				c.beginFrame(side, b[:frameHeaderLen], packet)
				b = b[frameHeaderLen:]
				continue
			}
			k := copy(s.hdr[s.n:], b)
			s.n += k
			b = b[k:]
			if s.n == frameHeaderLen {
				c.beginFrame(side, s.hdr[:], packet)
			}
		case statePrefix:
			k := copy(s.pre[s.n:s.preLen], b)
			s.n += k
			b = b[k:]
			if s.n == s.preLen {
				c.endPrefix(side, packet)
			}
		case stateBody:
			k := int(min(int64(len(b)), s.body))
			c.consume(side, b[:k], packet)
			b = b[k:]
			s.body -= int64(k)
			if s.body == 0 {
				c.endBody(side, packet)
			}
		case statePadding:
			k := min(int64(len(b)), s.pad)
			s.pad -= k
			b = b[k:]
			if s.pad == 0 {
				c.endFrame(side, packet)
			}
		}
	}
}

// Gap says n bytes of side were lost, noticed at packet. Inside a DATA
// frame's payload they are reported with DataGap, inside padding or a
// payload read by no one they are skipped, inside a header block they end
// header decoding (h2.gap_in_headers); in each case the framing is kept.
// Anywhere else, or past the end of the frame they began in, the side
// loses its framing (h2.lost_sync) and nothing more is decoded from it.
func (c *Conn) Gap(side int, n int64, packet int64) {
	if !validSide(side) || n <= 0 {
		return
	}
	s := &c.sides[side]
	for n > 0 {
		switch s.st {
		case stateDead:
			return
		case stateBody:
			switch s.sink {
			case sinkBlock:
				c.loseHeaders(side, CodeGapInHeaders, s.stream, packet, fmt.Sprintf("bytes of the header block of stream %d were lost, so the side's HPACK dynamic table (RFC 7541 §2.3.2) is unknown and its header blocks are no longer decoded", s.stream))
			case sinkControl, sinkDebug:
				c.lostSync(side, n, packet)
				return
			}
			k := min(n, s.body)
			if s.sink == sinkData {
				c.h.DataGap(side, s.stream, k, packet)
			}
			s.body -= k
			n -= k
			if s.body == 0 {
				c.endBody(side, packet)
			}
		case statePadding:
			k := min(n, s.pad)
			s.pad -= k
			n -= k
			if s.pad == 0 {
				c.endFrame(side, packet)
			}
		case statePrefix:
			if s.typ != frameHeaders && s.typ != framePushPromise {
				c.lostSync(side, n, packet)
				return
			}
			// The fragment's bounds are unknown without Pad Length, but
			// the frame's length still says where the frame ends. Once
			// header decoding is lost, a gap in a block says nothing more.
			if !s.headersLost {
				c.loseHeaders(side, CodeGapInHeaders, s.stream, packet, fmt.Sprintf("bytes of a %s frame on stream %d were lost, so the side's HPACK dynamic table (RFC 7541 §2.3.2) is unknown and its header blocks are no longer decoded", frameName(s.typ), s.stream))
			}
			if s.typ == framePushPromise {
				s.report = false // the promised stream is unknown
			}
			s.st, s.sink = stateBody, sinkSkip
			s.body, s.pad = int64(s.length)-int64(s.n), 0
		default:
			c.lostSync(side, n, packet)
			return
		}
	}
}

// lostSync ends the decoding of side after a gap of n bytes that left
// where its next frame starts unknown.
func (c *Conn) lostSync(side int, n int64, packet int64) {
	s := &c.sides[side]
	var where string
	stream := uint32(0)
	switch s.st {
	case statePreface:
		where = "the connection preface"
	case stateHeader:
		where = "a frame header"
	default:
		where = fmt.Sprintf("a %s frame on stream %d", frameName(s.typ), s.stream)
		stream = s.stream
	}
	c.lose(side, CodeLostSync, stream, packet, fmt.Sprintf("%d bytes lost in %s leave where the next frame header (RFC 9113 §4.1) starts unknown, so the rest of the side is not decoded", n, where))
}

// beginFrame starts the frame whose 9-byte header is h (RFC 9113 §4.1),
// collecting every problem the header shows.
func (c *Conn) beginFrame(side int, h []byte, packet int64) {
	s := &c.sides[side]
	// 1. The header's fields; the stream identifier's reserved bit is
	// ignored (RFC 9113 §4.1).
	s.length = uint32(h[0])<<16 | uint32(h[1])<<8 | uint32(h[2])
	s.typ, s.flags = h[3], h[4]
	s.stream = binary.BigEndian.Uint32(h[5:9]) & streamMask
	s.n, s.preLen, s.drop, s.badFrame, s.sink, s.pad = 0, 0, false, false, sinkSkip, 0
	s.counts.Frames++
	name := frameName(s.typ)

	// 2. A header block is a contiguous run of frames (RFC 9113 §4.3,
	// §6.10).
	if s.inBlock && (s.typ != frameContinuation || s.stream != s.blockStream) {
		s.inBlock = false
		s.drop = s.typ == frameContinuation // it continues nothing now
		c.loseHeaders(side, CodeContinuation, s.stream, packet, fmt.Sprintf("a %s frame on stream %d interrupted the header block of stream %d, which RFC 9113 §6.10 allows only CONTINUATION frames of the same stream to follow", name, s.stream, s.blockStream))
	} else if !s.inBlock && s.typ == frameContinuation {
		s.drop = true
		c.loseHeaders(side, CodeContinuation, s.stream, packet, fmt.Sprintf("a CONTINUATION frame on stream %d follows no HEADERS or PUSH_PROMISE frame without END_HEADERS, as RFC 9113 §6.10 requires", s.stream))
	}

	// 3. The receiver's SETTINGS_MAX_FRAME_SIZE (RFC 9113 §4.2); the
	// length still says where the next frame starts.
	if limit := c.sides[1-side].maxFrame; s.length > limit {
		c.problem(side, CodeFrameSize, s.stream, packet, false, fmt.Sprintf("a %s frame of %d bytes exceeds the %d its receiver's SETTINGS_MAX_FRAME_SIZE allows (RFC 9113 §4.2)", name, s.length, limit))
	}

	// 4. Stream identifiers and lengths each type requires (RFC 9113 §6).
	switch s.typ {
	case frameData:
		c.needStream(side, packet)
		if s.flags&flagPadded != 0 {
			s.preLen = padLengthLen
		}
	case frameHeaders:
		if s.flags&flagPadded != 0 {
			s.preLen += padLengthLen
		}
		if s.flags&flagPriority != 0 {
			s.preLen += priorityLen
		}
		c.startBlock(side, packet)
	case framePushPromise:
		s.preLen = promisedLen
		if s.flags&flagPadded != 0 {
			s.preLen += padLengthLen
		}
		c.startBlock(side, packet)
	case frameContinuation:
		if s.stream == 0 {
			c.problem(side, CodeStreamID, 0, packet, false, "a CONTINUATION frame on stream 0, which RFC 9113 §6.10 forbids")
		}
	case framePriority:
		c.needStream(side, packet)
		c.needLength(side, priorityLen, packet)
	case frameRSTStream:
		c.needStream(side, packet)
		c.needLength(side, rstStreamLen, packet)
		s.preLen = rstStreamLen
	case frameSettings:
		c.needConnection(side, packet)
		switch {
		case s.flags&flagAck != 0:
			c.needLength(side, 0, packet)
		case s.length%settingLen != 0:
			s.drop = true
			c.problem(side, CodeFrameSize, 0, packet, false, fmt.Sprintf("a SETTINGS frame of %d bytes, not a multiple of 6, is skipped (RFC 9113 §6.5)", s.length))
		case s.length > MaxSettings:
			s.drop = true
			c.problem(side, CodeSettingsTooLarge, 0, packet, false, fmt.Sprintf("a SETTINGS frame of %d bytes (RFC 9113 §6.5) is longer than the %d wsviz decodes, and is skipped", s.length, MaxSettings))
		}
	case framePing:
		c.needConnection(side, packet)
		c.needLength(side, pingLen, packet)
	case frameGoAway:
		c.needConnection(side, packet)
		if s.length < goAwayFixedLen {
			s.drop = true
			c.problem(side, CodeFrameSize, s.stream, packet, false, fmt.Sprintf("a GOAWAY frame of %d bytes is shorter than its 8 bytes of fixed fields (RFC 9113 §6.8) and is skipped", s.length))
		}
		s.preLen, s.debugN = goAwayFixedLen, 0
	case frameWindowUpdate:
		c.needLength(side, windowLen, packet)
		s.preLen = windowLen
	default:
		s.drop = true // RFC 9113 §5.5: "Implementations MUST ignore unknown or unsupported values"
		s.counts.Unknown++
	}
	if !s.drop && int64(s.length) < int64(s.preLen) {
		// DATA, HEADERS or PUSH_PROMISE: the others are checked for
		// their exact length above.
		text := fmt.Sprintf("a %s frame of %d bytes on stream %d is too short for its %d bytes of fixed fields (RFC 9113 §4.2), and is skipped", name, s.length, s.stream, s.preLen)
		if s.typ == frameData {
			s.drop = true
			c.problem(side, CodeFrameSize, s.stream, packet, false, text)
		} else {
			c.badBlockFrame(side, CodeFrameSize, packet, text)
		}
	}
	if s.drop || s.badFrame {
		s.preLen = 0
	}
	s.st = statePrefix
	if s.preLen == 0 {
		c.endPrefix(side, packet)
	}
}

// needStream skips a frame on stream 0 whose type needs a stream (RFC 9113
// §6.1, §6.3, §6.4).
func (c *Conn) needStream(side int, packet int64) {
	s := &c.sides[side]
	if s.stream == 0 {
		s.drop = true
		c.problem(side, CodeStreamID, 0, packet, false, fmt.Sprintf("a %s frame on stream 0, which RFC 9113 §6 forbids, is skipped", frameName(s.typ)))
	}
}

// needConnection skips a frame on a stream whose type belongs to the
// connection, stream 0 (RFC 9113 §6.5, §6.7, §6.8).
func (c *Conn) needConnection(side int, packet int64) {
	s := &c.sides[side]
	if s.stream != 0 {
		s.drop = true
		c.problem(side, CodeStreamID, s.stream, packet, false, fmt.Sprintf("a %s frame on stream %d, not stream 0 as RFC 9113 §6 requires, is skipped", frameName(s.typ), s.stream))
	}
}

// needLength skips a frame whose type has a fixed length and that is not
// of that length (RFC 9113 §6.3, §6.4, §6.5, §6.7, §6.9).
func (c *Conn) needLength(side int, want uint32, packet int64) {
	s := &c.sides[side]
	if s.length != want {
		s.drop = true
		c.problem(side, CodeFrameSize, s.stream, packet, false, fmt.Sprintf("a %s frame of %d bytes, not %d as RFC 9113 §6 requires, is skipped", frameName(s.typ), s.length, want))
	}
}

// endPrefix reads the fixed fields and sets where the rest of the payload
// goes.
func (c *Conn) endPrefix(side int, packet int64) {
	s := &c.sides[side]
	rest := int64(s.length) - int64(s.n) // s.n is preLen, or 0 for a frame skipped
	s.sink, s.pad = sinkSkip, 0
	skip := s.drop || s.badFrame
	if !skip && s.flags&flagPadded != 0 && (s.typ == frameData || s.typ == frameHeaders || s.typ == framePushPromise) {
		// RFC 9113 §6.1: "If the length of the padding is the length of
		// the frame payload or greater, the recipient MUST treat this as
		// a connection error"; the fixed fields count too (§6.2, §6.6).
		if padLen := int64(s.pre[0]); padLen > rest {
			skip = true
			text := fmt.Sprintf("a %s frame on stream %d has %d bytes of padding but only %d bytes of payload after its fixed fields (RFC 9113 §6.1), and is skipped", frameName(s.typ), s.stream, padLen, rest)
			if s.typ == frameData {
				s.drop = true
				c.problem(side, CodePadding, s.stream, packet, false, text)
			} else {
				c.badBlockFrame(side, CodePadding, packet, text)
			}
		} else {
			s.pad = padLen
			rest -= padLen
		}
	}
	s.body = rest
	if !skip {
		switch s.typ {
		case frameData:
			s.sink = sinkData
		case framePushPromise:
			off := s.preLen - promisedLen
			s.out.Stream = binary.BigEndian.Uint32(s.pre[off:]) & streamMask
			if s.out.Stream == 0 && s.report {
				s.report = false
				c.problem(side, CodeStreamID, s.stream, packet, false, fmt.Sprintf("a PUSH_PROMISE frame on stream %d promises stream 0, which RFC 9113 §6.6 forbids: its block is decoded but not reported", s.stream))
			}
			c.fragment(side, rest, packet)
		case frameHeaders, frameContinuation:
			c.fragment(side, rest, packet)
		case frameSettings:
			s.sink = sinkControl
			s.ctl = s.ctl[:0]
		case frameGoAway:
			s.sink = sinkDebug
		}
	}
	s.st = stateBody
	if s.body == 0 {
		c.endBody(side, packet)
	}
}

// consume passes payload bytes p to the frame's sink.
func (c *Conn) consume(side int, p []byte, packet int64) {
	s := &c.sides[side]
	switch s.sink {
	case sinkData:
		c.h.Data(side, s.stream, p, packet)
	case sinkBlock:
		s.block = append(s.block, p...)
	case sinkControl:
		s.ctl = append(s.ctl, p...)
	case sinkDebug:
		s.debugN += copy(s.debug[s.debugN:], p)
	}
}

// endBody goes on to the padding, if any.
func (c *Conn) endBody(side int, packet int64) {
	s := &c.sides[side]
	s.st = statePadding
	if s.pad == 0 {
		c.endFrame(side, packet)
	}
}

// endFrame reports what the frame says, now that all of it has been read.
func (c *Conn) endFrame(side int, packet int64) {
	s := &c.sides[side]
	s.st, s.n = stateHeader, 0
	if s.drop {
		return
	}
	switch s.typ {
	case frameData:
		if s.flags&flagEndStream != 0 {
			c.endStream(side, s.stream, packet)
		}
	case frameHeaders, framePushPromise, frameContinuation:
		if s.flags&flagEndHeaders == 0 {
			s.inBlock = true
			return
		}
		s.inBlock = false
		c.endBlock(side, packet)
	case framePriority:
		s.counts.Priority++
	case frameRSTStream:
		// The side sends nothing more on the stream; the peer's frames
		// in flight may still come (RFC 9113 §5.4.2), so it keeps its own.
		delete(s.sent, s.stream)
		c.h.Reset(side, s.stream, binary.BigEndian.Uint32(s.pre[:4]), packet)
	case frameSettings:
		if s.flags&flagAck != 0 {
			s.counts.SettingsAck++
			return
		}
		c.applySettings(side, packet)
	case framePing:
		if s.flags&flagAck != 0 {
			s.counts.PingAck++
		} else {
			s.counts.Ping++
		}
	case frameGoAway:
		last := binary.BigEndian.Uint32(s.pre[:4]) & streamMask
		c.h.GoAway(side, last, binary.BigEndian.Uint32(s.pre[4:8]), s.debug[:s.debugN], packet)
	case frameWindowUpdate:
		s.counts.WindowUpdate++
		if binary.BigEndian.Uint32(s.pre[:4])&streamMask == 0 {
			c.problem(side, CodeWindowUpdate, s.stream, packet, false, fmt.Sprintf("a WINDOW_UPDATE frame on stream %d has an increment of 0, which RFC 9113 §6.9 forbids", s.stream))
		}
	}
}

// endStream reports that side ended stream.
func (c *Conn) endStream(side int, stream uint32, packet int64) {
	delete(c.sides[side].sent, stream)
	c.h.EndStream(side, stream, packet)
}

// problem reports a problem.
func (c *Conn) problem(side int, code string, stream uint32, packet int64, fatal bool, text string) {
	c.h.Problem(side, Problem{Code: code, Text: text, Stream: stream, Packet: packet, Fatal: fatal})
}

// lose ends the decoding of side, with the problem that lost its framing.
func (c *Conn) lose(side int, code string, stream uint32, packet int64, text string) {
	c.sides[side].st = stateDead
	c.problem(side, code, stream, packet, true, text)
}
