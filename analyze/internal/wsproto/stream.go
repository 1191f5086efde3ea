package wsproto

import (
	"fmt"
	"unsafe"

	"github.com/wsviz/wsviz/analyze/internal/lru"
)

// DefaultMaxMessage is the cap on one message's inflated size (and on the
// bytes kept of it) used when Config.MaxMessage is 0 or negative.
const DefaultMaxMessage = 64 << 20

// Config describes one direction of one connection.
type Config struct {
	// Client is true when this direction is client→server: its frames MUST
	// be masked (RFC 6455 §5.3). False: server→client, frames MUST NOT be
	// masked.
	Client bool
	// Deflate is true when permessage-deflate was negotiated: RSV1 is
	// allowed on the first frame of a data message (RFC 7692 §6).
	Deflate bool
	// NoContextTakeover is true when this direction's sender resets its
	// compressor for every message (client_no_context_takeover for the
	// client, server_no_context_takeover for the server; RFC 7692 §7.1.1).
	NoContextTakeover bool
	// WindowBits is the sender's max window bits, 8..15 (0 means 15; 8
	// counts as 9, as zlib and RFC 7692 §7.1.2.1 have it). It tells how
	// much history must be seen before it is complete again after a loss,
	// and how far back the sender may refer: a message that refers further
	// is still inflated (with deflate's 32 KiB window) and gets the
	// Problem ws.deflate_window.
	WindowBits int
	// MaxPayload is the number of payload bytes kept per message in
	// Message.Payload; negative keeps all of it, up to MaxMessage.
	MaxPayload int
	// MaxMessage caps one message's size after inflating, and the bytes
	// kept of it. A compressed message that reaches it gets the Problem
	// ws.decompression_limit and is truncated; decoding goes on with the
	// next message. 0 or negative means DefaultMaxMessage.
	MaxMessage int64
	// Midstream is true when the capture began after the handshake: the
	// first frames may continue a message whose start was not seen, and
	// the compression history before the capture is unknown.
	Midstream bool
	// Shared is what the Stream shares with the others of its goroutine
	// (see Shared); nil gives it its own, without a bound on history.
	Shared *Shared
}

// Handler receives what a Stream decodes. Both methods are called
// synchronously from Write, Gap and End; their arguments are reused after
// they return.
type Handler interface {
	// Frame is called when a frame header is complete, before its payload.
	Frame(f *Frame)
	// Message is called when a message is complete (its final frame's
	// payload ended), or is given up (stream end, lost framing, a new
	// message interrupting it).
	Message(m *Message)
}

// Stream decoder states.
const (
	stateHeader  = iota // reading a frame header (hdrN bytes so far)
	statePayload        // inside a frame's payload (remaining bytes left)
	stateLost           // framing lost: each Write is tried with Probe
	stateStopped        // after a length overflow: nothing more is decoded
)

// Stream decodes the frames of one direction of one connection from its
// bytes, in order, as TCP reassembled them. It is not safe for concurrent
// use. Reset reuses it, keeping its buffers.
type Stream struct {
	cfg        Config
	h          Handler
	maxMessage int64
	keep       int
	window     int64 // sender's window size in bytes

	state        int
	framePending bool               // s.frame is decoded and not yet reported (reportFrame)
	hdr          [maxHeaderLen]byte // a header arriving in pieces (readHeader's slow path)
	hdrN         int
	frameHdr     [maxHeaderLen]byte  // the complete header: s.frame.Header's bytes
	hdrPkts      [maxHeaderLen]int64 // packets that carried the header bytes
	hdrPktN      int
	frame        Frame
	remaining    uint64 // payload bytes left in the current frame
	maskPos      int    // offset into the masking key
	cur          *message
	lostStart    bool // the next data frame may continue a message not seen

	data message // the data message in progress
	ctrl message // the control message of the current frame

	shared *Shared

	// permessage-deflate state.
	zbuf        []byte // compressed bytes of the message in progress
	hist        []byte // the inflater's window: the last bytes of inflated output, a correct suffix of the sender's history (the last 32 KiB count); nil until needed
	histKnown   bool   // hist holds the sender's full window
	histGood    int64  // bytes of correct history since it was lost
	histDropped bool   // hist was dropped for Shared's bound: say so when it is missed

	histElem lru.Element[*Stream] // in Shared.histLRU while hist is held
}

// NewStream returns a Stream for cfg that reports to h.
func NewStream(cfg Config, h Handler) *Stream {
	s := &Stream{h: h}
	s.Reset(cfg)
	return s
}

// Reset makes s decode a new direction with cfg, as if new, keeping its
// buffers. Nothing in progress is reported.
func (s *Stream) Reset(cfg Config) {
	if cfg.Shared == nil {
		if s.shared == nil || s.cfg.Shared != nil {
			s.Release()
			// Its own, without a pool of windows: a pool maps a huge
			// page's worth of them, made for many Streams.
			s.shared = &Shared{}
		}
	} else if cfg.Shared != s.shared {
		s.Release()
		s.shared = cfg.Shared
	}
	s.cfg = cfg
	s.maxMessage = cfg.MaxMessage
	if s.maxMessage <= 0 {
		s.maxMessage = DefaultMaxMessage
	}
	s.keep = cfg.MaxPayload
	if s.keep < 0 || int64(s.keep) > s.maxMessage {
		s.keep = int(min(s.maxMessage, int64(^uint(0)>>1)))
	}
	bits := cfg.WindowBits
	if bits <= 0 || bits > 15 {
		bits = 15
	}
	// zlib treats 8 as 9 (RFC 7692 §7.1.2.1 notes the same).
	s.window = 1 << max(bits, 9)

	s.state = stateHeader
	s.hdrN, s.hdrPktN = 0, 0
	s.remaining, s.maskPos = 0, 0
	s.cur = nil
	s.lostStart = cfg.Midstream
	s.framePending = false
	s.data.active, s.ctrl.active = false, false
	s.zbuf = s.zbuf[:0]
	s.hist = s.hist[:0]
	s.histKnown = !cfg.Midstream
	s.histGood = 0
	s.histDropped = false
}

// Release gives the Stream's buffers back to its Shared: its compression
// history and message buffers. Call it when the direction is no longer
// decoded (the connection ended); the Stream may still be Reset and used.
func (s *Stream) Release() {
	if s.shared == nil {
		return
	}
	if s.hist != nil {
		s.shared.releaseHistory(s)
		s.loseHistory()
	}
	for _, m := range []*message{&s.data, &s.ctrl} {
		if !m.active {
			s.shared.putBuf(m.buf)
			m.buf = nil
		}
	}
	if !s.data.active || !s.data.Compressed {
		s.shared.putBuf(s.zbuf)
		s.zbuf = nil
	}
}

// Synced reports whether s knows where frames start: false after a gap that
// broke framing or a header it could not decode, until a Write that starts
// with frames (Probe) puts it back in step.
func (s *Stream) Synced() bool { return s.state != stateLost && s.state != stateStopped }

// Stopped reports whether s has stopped decoding the direction for good: a
// frame announced a 64-bit length with its top bit set (ws.length_overflow),
// so nothing after it can be framed. Only Reset starts it again.
func (s *Stream) Stopped() bool { return s.state == stateStopped }

// Write decodes the next bytes of the direction, which came in packet. data
// aliases the caller's packet buffer: Write copies what it keeps and never
// modifies it. The Handler is called synchronously.
func (s *Stream) Write(data []byte, packet int64) {
	// The direction's state has long left the caches when its next
	// segment comes (hundreds of directions take turns): its lines are
	// fetched together here rather than one miss after the other as the
	// header, the message and the inflater's state are reached.
	prefetch(unsafe.Pointer(s), unsafe.Sizeof(*s))
	prefetch(unsafe.Pointer(unsafe.SliceData(data)), uintptr(min(len(data), 2048)))
	if len(data) == 0 || s.state == stateStopped {
		return
	}
	if s.state == stateLost {
		if !Probe(data, s.cfg.Client) {
			return
		}
		// Back in step: a new message context. A continuation frame now
		// continues a message whose start was lost.
		s.state = stateHeader
		s.hdrN, s.hdrPktN = 0, 0
		s.lostStart = true
	}
	for len(data) > 0 {
		var n int
		switch s.state {
		case stateHeader:
			n = s.readHeader(data, packet)
		case statePayload:
			n = s.readPayload(data, packet)
		default: // stateLost: the rest of this Write is undecodable
			return
		}
		data = data[n:]
	}
}

// readHeader consumes header bytes from data and returns how many it took.
func (s *Stream) readHeader(data []byte, packet int64) int {
	if s.hdrPktN == 0 || s.hdrPkts[s.hdrPktN-1] != packet {
		s.hdrPkts[s.hdrPktN] = packet
		s.hdrPktN++
	}
	if s.hdrN == 0 && len(data) >= maxHeaderLen {
		// The whole header is here, as it usually is: taken as one
		// array, without a copy call per piece (the bytes after it are
		// ignored).
		// Straight into frameHdr, which headerDone decodes: copied
		// there from hdr, it was loaded back across the two overlapping
		// 8-byte stores that wrote hdr (no store-to-load forwarding).
		n := headerLen(data[1])
		s.frameHdr = [maxHeaderLen]byte(data)
		s.hdrN = n
		s.headerDone()
		return n
	}
	need := 2
	if s.hdrN >= 2 {
		need = headerLen(s.hdr[1])
	}
	n := 0
	for s.hdrN < need && n < len(data) {
		k := copy(s.hdr[s.hdrN:need], data[n:])
		s.hdrN += k
		n += k
		if s.hdrN == 2 {
			need = headerLen(s.hdr[1])
		}
	}
	if s.hdrN == need {
		s.frameHdr = s.hdr
		s.headerDone()
	}
	return n
}

// headerDone handles a complete frame header, s.frameHdr[:s.hdrN], in
// the style of gorilla's advanceFrame: decode, check against the messages
// in progress, report, then route the payload.
func (s *Stream) headerDone() {
	f := &s.frame
	// 1-4. Decode the header and its stateless flaws.
	fl := decodeHeader(f, s.frameHdr[:s.hdrN], s.cfg.Client, s.cfg.Deflate)
	f.Header = s.frameHdr[:s.hdrN]
	s.hdrN = 0

	// 5. Check the frame against the message in progress, RFC 6455 §5.4.
	op := f.Opcode
	lostStart := false
	switch {
	case fl&flawOverflow != 0 || isReserved(op) || isControl(op):
	case op == OpContinuation:
		if !s.data.active {
			if s.lostStart {
				lostStart = true
			} else {
				fl |= flawUnexpectedContinuation
			}
		}
	default: // text, binary
		if s.data.active {
			fl |= flawDataInterrupted
		}
	}

	// 6. Report the frame with every problem found.
	// The Handler hears of the frame when its last byte has arrived
	// (reportFrame), so that the frame's packet is the one that completed
	// it, as Wireshark numbers frames.
	f.Problems = appendProblems(f.Problems[:0], fl)
	s.framePending = true

	// 7. A length that cannot be right leaves no way to find the next
	// frame, and no reason to trust what follows: the rest of the
	// direction is not decoded (docs/events.md, ws.length_overflow).
	if fl&flawOverflow != 0 {
		s.abandon(CodeIncomplete, "message never finished: decoding stopped at a frame with an invalid length; RFC 6455 §5.2", false)
		s.loseSync()
		s.state = stateStopped
		s.hdrPktN = 0
		return
	}

	// 8. Route the payload to its message.
	s.cur = nil
	switch {
	case isReserved(op):
		// Unknown meaning: reported as a frame, the payload skipped.
	case isControl(op):
		// RFC 6455 §5.4: control frames may be injected in the middle of
		// a fragmented message; each is a message of its own.
		s.startMessage(&s.ctrl, op, false)
		s.ctrl.keep = max(s.keep, maxControlPayload) // the close body is parsed from it
		s.cur = &s.ctrl
	case op == OpContinuation:
		s.lostStart = false
		switch {
		case s.data.active:
			s.cur = &s.data
		case lostStart:
			m := &s.data
			s.startMessage(m, OpContinuation, false)
			m.lostStart = true
			// Whether the message is compressed was said by its first
			// frame: with deflate negotiated its bytes cannot be read.
			m.discard = s.cfg.Deflate
			m.problem(CodeLostStart, "the start of this message was not captured (capture began mid-stream, or bytes were lost); RFC 6455 §5.4")
			s.cur = m
		}
	default: // text, binary
		s.lostStart = false
		if s.data.active {
			s.finishData(false, CodeDataFrameInterrupted,
				"message never finished: a new data frame began before its final fragment; RFC 6455 §5.4")
		}
		compressed := s.cfg.Deflate && f.RSV&RSV1 != 0
		s.startMessage(&s.data, op, compressed)
		s.cur = &s.data
	}
	if m := s.cur; m != nil {
		m.Frames++
		for _, p := range s.hdrPkts[:s.hdrPktN] {
			m.addPacket(p)
		}
	}
	s.hdrPktN = 0

	s.remaining = f.Len
	s.maskPos = 0
	if f.Len == 0 {
		s.endFrame()
	} else {
		s.state = statePayload
	}
}

// readPayload consumes payload bytes of the current frame from data and
// returns how many it took.
func (s *Stream) readPayload(data []byte, packet int64) int {
	p := data
	if uint64(len(p)) > s.remaining {
		p = p[:s.remaining]
	}
	s.remaining -= uint64(len(p))
	if m := s.cur; m != nil {
		m.addPacket(packet)
		m.WireLen += int64(len(p))
		switch {
		case m.discard:
		case m.Compressed:
			s.appendCompressed(m, p)
		default:
			s.plain(m, p)
		}
	}
	if s.remaining == 0 {
		s.endFrame()
	}
	return len(p)
}

// endFrame handles the end of the current frame's payload.
func (s *Stream) endFrame() {
	s.reportFrame()
	s.state = stateHeader
	m := s.cur
	s.cur = nil
	switch {
	case m == nil:
	case m == &s.ctrl:
		s.deliver(m)
	case s.frame.Fin:
		s.finishData(true, "", "")
	}
}

// reportFrame hands the current frame to the Handler once.
func (s *Stream) reportFrame() {
	if s.framePending {
		s.framePending = false
		s.h.Frame(&s.frame)
	}
}

// loseSync records that frame boundaries are lost.
func (s *Stream) loseSync() {
	s.state = stateLost
	s.cur = nil
	s.remaining = 0
	s.hdrN, s.hdrPktN = 0, 0
	s.data.active, s.ctrl.active = false, false
	if s.cfg.Deflate {
		// The lost frames may have been compressed.
		s.loseHistory()
	}
}

// abandon delivers the messages in progress, given up, with a problem.
// lost says whether bytes of them are missing, so that a compressed one is
// not inflated; otherwise what arrived of it is inflated.
func (s *Stream) abandon(code, msg string, lost bool) {
	s.reportFrame() // a frame cut short is still a frame that was seen
	if s.cur == &s.ctrl && s.ctrl.active {
		s.ctrl.problem(code, msg)
		s.ctrl.Truncated = true
		s.deliver(&s.ctrl)
	}
	if s.data.active {
		s.data.noInflate = s.data.noInflate || lost
		s.finishData(false, code, msg)
	}
}

// Gap records that n bytes of the direction were never captured, at the
// current position; packet is the packet after the gap (it carried none of
// the lost bytes and is not added to any message). Inside a frame's
// payload, with n no more than what is left of it, the bytes are skipped
// and the message marked Truncated; otherwise framing is lost (Synced is
// false) and the messages in progress are delivered as they are.
func (s *Stream) Gap(n int64, packet int64) {
	if n <= 0 || s.state == stateLost || s.state == stateStopped {
		return
	}
	if s.state == statePayload && uint64(n) <= s.remaining {
		s.remaining -= uint64(n)
		s.maskPos = (s.maskPos + int(n&3)) & 3
		if m := s.cur; m != nil {
			m.WireLen += n
			m.lost += n
			if m.Compressed {
				m.noInflate = true
			} else if !m.discard {
				m.Len += n
			}
			m.keep = len(m.buf) // don't join bytes across the hole
			m.utf8.lose()
		}
		if s.remaining == 0 {
			s.endFrame()
		}
		return
	}
	s.abandon(CodeGap, fmt.Sprintf("a gap of %d bytes broke the framing; the rest of this message was never captured", n), true)
	s.loseSync()
}

// End reports the end of the direction: an incomplete frame or message is
// delivered as a Message with Truncated and the Problem ws.incomplete (what
// arrived of a compressed one is inflated). packet is the packet that ended
// the direction; it is not added to any message. s is then as after Reset.
func (s *Stream) End(packet int64) {
	const msg = "stream ended before the message was complete; RFC 6455 §5.4"
	if s.state == statePayload || s.state == stateHeader {
		stub := s.hdrN > 0
		if stub && s.data.active && s.hdr[0]&opcodeBits == OpContinuation {
			// The cut header continues the data message.
			for _, p := range s.hdrPkts[:s.hdrPktN] {
				s.data.addPacket(p)
			}
			stub = false
		}
		s.abandon(CodeIncomplete, msg, false)
		if stub {
			// A header cut short: all that is known is its opcode.
			m := &s.ctrl
			s.startMessage(m, s.hdr[0]&opcodeBits, false)
			m.Frames = 1
			for _, p := range s.hdrPkts[:s.hdrPktN] {
				m.addPacket(p)
			}
			m.problem(CodeIncomplete, "stream ended inside a frame header; RFC 6455 §5.2")
			m.Truncated = true
			s.deliver(m)
		}
	}
	s.Reset(s.cfg)
}
