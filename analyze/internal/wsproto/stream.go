package wsproto

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
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
	// WindowBits is the sender's max window bits, 8..15 (0 means 15). It
	// only tells how much history must be seen before it is complete again
	// after a loss; Go's flate always decodes with a 32 KiB window.
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

// Message is one message reassembled from its frames and inflated.
type Message struct {
	// Opcode is the opcode of the first frame; 0 (continuation) when the
	// start of the message was not captured (Problem ws.lost_start).
	Opcode uint8
	// Len counts payload bytes after reassembly and decompression. When
	// Truncated because bytes were lost or could not be inflated, it counts
	// what is known.
	Len int64
	// WireLen counts payload bytes as sent on the wire, lost ones included.
	WireLen int64
	// Compressed is true when the first frame had RSV1 under
	// permessage-deflate (RFC 7692 §6).
	Compressed bool
	// Frames counts the frames of the message.
	Frames int
	// Packets lists the distinct packet numbers that carried its bytes,
	// header or payload, in the order they were seen.
	Packets []int64
	// Payload holds the first MaxPayload bytes of the unmasked, inflated
	// payload. It aliases a buffer of the Stream and is valid only during
	// the Message callback: copy to keep.
	Payload []byte
	// Truncated is true when Payload is shorter than Len, or bytes of the
	// message were lost (a gap, a limit, an inflate failure).
	Truncated bool
	// CloseCode and CloseReason are a close message's status code and
	// reason (RFC 6455 §5.5.1, §7.4); CloseCode is 0 when the body is
	// empty.
	CloseCode   int
	CloseReason string
	// Problems lists the message-level problems (UTF-8, close code, limit,
	// inflate, gap). Reused between callbacks: copy to keep.
	Problems []Problem
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
)

// histSize is the LZ77 window of deflate: RFC 1951 §2, 32 KiB.
const histSize = 32 << 10

// deflateTail is appended to a compressed message before inflating: RFC
// 7692 §7.2.2 says to append 00 00 ff ff (the empty stored block the
// sender removed); the empty final stored block after it makes flate
// report io.EOF at the end instead of io.ErrUnexpectedEOF (as gorilla's
// flateReaderTail does).
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// message is a message being reassembled.
type message struct {
	Message
	active    bool
	buf       []byte // kept payload bytes, unmasked and inflated
	keep      int    // how many bytes to keep in buf
	utf8      utf8Checker
	lost      int64 // payload bytes lost in gaps
	lostStart bool  // the first frames were not captured
	discard   bool  // payload bytes are not interpreted (unknown compression)
	zOver     bool  // the compressed bytes exceeded MaxMessage
	noInflate bool  // compressed bytes were lost: don't inflate
	unsorted  bool  // Packets is not in increasing order
}

// addPacket records that packet carried bytes of the message.
func (m *message) addPacket(packet int64) {
	if n := len(m.Packets); n > 0 {
		last := m.Packets[n-1]
		if packet == last {
			return
		}
		if packet < last || m.unsorted {
			// Reassembled data can come from packets out of order: only
			// then is the list searched.
			if slices.Contains(m.Packets, packet) {
				return
			}
			m.unsorted = m.unsorted || packet < last
		}
	}
	m.Packets = append(m.Packets, packet)
}

// problem appends a message-level problem.
func (m *message) problem(code, msg string) {
	m.Problems = append(m.Problems, Problem{code, msg})
}

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
	framePending bool // s.frame is decoded and not yet reported (reportFrame)
	hdr          [maxHeaderLen]byte
	hdrN         int
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
	zr          byteReader
	hist        []byte // the last bytes of inflated output: a correct suffix of the sender's history; nil until needed
	histKnown   bool   // hist holds the sender's full window
	histGood    int64  // bytes of correct history since it was lost
	histDropped bool   // hist was dropped for Shared's bound: say so when it is missed

	histPrev, histNext *Stream // Shared.histLRU
}

// byteReader is a bytes.Reader reduced to what flate needs; it implements
// io.ByteReader so that flate reads no further than it must and does not
// wrap it in a bufio.Reader.
type byteReader struct {
	b []byte
}

func (r *byteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func (r *byteReader) ReadByte() (byte, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
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
			s.shared = NewShared(0)
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
func (s *Stream) Synced() bool { return s.state != stateLost }

// Write decodes the next bytes of the direction, which came in packet. data
// aliases the caller's packet buffer: Write copies what it keeps and never
// modifies it. The Handler is called synchronously.
func (s *Stream) Write(data []byte, packet int64) {
	if len(data) == 0 {
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
		s.headerDone()
	}
	return n
}

// headerDone handles a complete frame header, in the style of gorilla's
// advanceFrame: decode, check against the messages in progress, report,
// then route the payload.
func (s *Stream) headerDone() {
	f := &s.frame
	// 1-4. Decode the header and its stateless flaws.
	fl := decodeHeader(f, s.hdr[:s.hdrN], s.cfg.Client, s.cfg.Deflate)
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
	// frame: stop until a Write starts with frames again.
	if fl&flawOverflow != 0 {
		s.abandon(CodeIncomplete, "message never finished: decoding stopped at a frame with an invalid length; RFC 6455 §5.2", false)
		s.loseSync()
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

// startMessage begins m.
func (s *Stream) startMessage(m *message, op uint8, compressed bool) {
	m.Message = Message{
		Opcode:     op,
		Compressed: compressed,
		Packets:    m.Packets[:0],
		Problems:   m.Problems[:0],
	}
	m.active = true
	if m.buf == nil {
		m.buf = s.shared.getBuf()
	}
	m.buf = m.buf[:0]
	m.keep = s.keep
	m.utf8 = utf8Checker{}
	m.lost = 0
	m.lostStart, m.discard, m.zOver, m.noInflate, m.unsorted = false, false, false, false, false
	if compressed {
		if s.zbuf == nil {
			s.zbuf = s.shared.getBuf()
		}
		s.zbuf = s.zbuf[:0]
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

// checksUTF8 reports whether m's payload must be valid UTF-8: text
// messages, and the reason of a close (RFC 6455 §8.1, §5.5.1).
func checksUTF8(m *message) bool {
	return m.Opcode == OpText || m.Opcode == OpClose
}

// plain handles payload bytes p (still masked) of an uncompressed message.
func (s *Stream) plain(m *message, p []byte) {
	if !s.frame.Masked {
		s.sink(m, p)
		return
	}
	if len(m.buf) >= m.keep && !checksUTF8(m) {
		// Nothing to keep or check: no need to unmask.
		m.Len += int64(len(p))
		s.maskPos = (s.maskPos + len(p)) & 3
		return
	}
	for len(p) > 0 {
		scratch := s.shared.scratch[:]
		n := copy(scratch, p)
		s.maskPos = maskBytes(s.frame.Mask, s.maskPos, scratch[:n])
		s.sink(m, scratch[:n])
		p = p[n:]
	}
}

// sink takes the next plain (unmasked, inflated) payload bytes b of m:
// counts them, checks UTF-8, keeps the first bytes and, for a compressed
// message, rolls them into the history. Nothing else of a message is held.
func (s *Stream) sink(m *message, b []byte) {
	if checksUTF8(m) {
		c := b
		if m.Opcode == OpClose && m.Len < 2 {
			// The 2-byte status code comes before the reason.
			c = c[min(int64(len(c)), 2-m.Len):]
		}
		m.utf8.write(c)
	}
	if room := m.keep - len(m.buf); room > 0 {
		m.buf = append(m.buf, b[:min(room, len(b))]...)
	}
	if m.Compressed {
		s.addHistory(b)
	}
	m.Len += int64(len(b))
}

// appendCompressed buffers compressed payload bytes p (still masked) until
// the message's final frame, at most MaxMessage of them.
func (s *Stream) appendCompressed(m *message, p []byte) {
	if m.zOver || m.noInflate {
		return
	}
	if room := s.maxMessage - int64(len(s.zbuf)); int64(len(p)) > room {
		p = p[:room]
		m.zOver = true
	}
	old := len(s.zbuf)
	if need := old + len(p); need > cap(s.zbuf) {
		// Double, rather than append's 1.25 for large slices: a message
		// arriving in packet-sized pieces then allocates about twice its
		// size in all, not five times.
		z := make([]byte, old, max(need, 2*cap(s.zbuf), 4096))
		copy(z, s.zbuf)
		s.zbuf = z
	}
	s.zbuf = append(s.zbuf, p...)
	if s.frame.Masked {
		s.maskPos = maskBytes(s.frame.Mask, s.maskPos, s.zbuf[old:])
	}
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

// finishData delivers the data message, inflating it first if compressed.
// complete is false when the message is given up before its final frame;
// code and msg then say why.
func (s *Stream) finishData(complete bool, code, msg string) {
	m := &s.data
	if !complete {
		m.problem(code, msg)
		m.Truncated = true
	}
	if m.Compressed {
		s.inflate(m, complete)
	}
	s.deliver(m)
}

// deliver finishes m and hands it to the Handler.
func (s *Stream) deliver(m *message) {
	complete := !m.Truncated && m.lost == 0 && !m.lostStart
	if m.lost > 0 {
		m.problem(CodeGap, fmt.Sprintf("%d bytes of this message were never captured", m.lost))
		m.Truncated = true
	}
	if m.lostStart {
		m.Truncated = true
	}
	if checksUTF8(m) && !m.discard {
		// A sequence left open at the end is an error only when the end is
		// the message's real end.
		if m.utf8.bad || (complete && m.utf8.n > 0) {
			if m.Opcode == OpClose {
				m.problem(CodeInvalidUTF8, "close reason is not valid UTF-8; RFC 6455 §5.5.1, §8.1")
			} else {
				m.problem(CodeInvalidUTF8, "text message is not valid UTF-8; RFC 6455 §5.6, §8.1")
			}
		}
	}
	if m.Opcode == OpClose {
		s.parseClose(m)
	}
	n := min(len(m.buf), s.keep)
	m.Payload = m.buf[:n]
	if int64(n) < m.Len {
		m.Truncated = true
	}
	m.active = false
	s.h.Message(&m.Message)
	// The Handler is done with the payload.
	s.shared.putBuf(m.buf)
	m.buf = nil
}

// parseClose reads a close message's status code and reason, RFC 6455
// §5.5.1 and §7.4.
func (s *Stream) parseClose(m *message) {
	switch {
	case m.Len == 0:
		return
	case m.Len == 1:
		m.problem(CodeInvalidClosePayload, "close body of 1 byte; RFC 6455 §5.5.1: a body starts with a 2-byte status code")
		return
	case len(m.buf) < 2: // bytes lost
		return
	}
	m.CloseCode = int(binary.BigEndian.Uint16(m.buf))
	m.CloseReason = string(m.buf[2:])
	if !validCloseCode(m.CloseCode) {
		m.problem(CodeInvalidCloseCode, fmt.Sprintf("close status code %d may not be sent; RFC 6455 §7.4", m.CloseCode))
	}
}

// validCloseCode reports whether an endpoint may send code in a close frame:
// RFC 6455 §7.4.1 and §7.4.2 with the IANA "WebSocket Close Code Number
// Registry" (1012-1014 registered later). 1004 is reserved, 1005, 1006 and
// 1015 MUST NOT be sent, 1016-2999 are unassigned, 3000-4999 are for
// libraries, frameworks and applications.
func validCloseCode(code int) bool {
	switch {
	case code < 1000:
		return false
	case code <= 1003:
		return true
	case code <= 1006:
		return false
	case code <= 1014:
		return true
	case code < 3000:
		return false
	}
	return code <= 4999
}

// inflate inflates the buffered compressed message through sink, at most
// MaxMessage bytes of output. complete is false when the message's final
// frame never came: what arrived is inflated as far as it goes.
func (s *Stream) inflate(m *message, complete bool) {
	if m.noInflate {
		// Bytes are missing: don't guess. The sender's history now holds
		// bytes we never saw.
		m.Truncated = true
		s.loseHistory()
		return
	}
	if s.cfg.NoContextTakeover {
		// RFC 7692 §7.1.1: the sender reset its compressor; nothing before
		// this message is referenced.
		s.hist = s.hist[:0]
		s.histKnown = true
	}
	if complete && !m.zOver {
		s.zbuf = append(s.zbuf, deflateTail...)
	}
	s.zr.b = s.zbuf
	dict := s.hist
	if len(dict) > histSize {
		dict = dict[len(dict)-histSize:]
	}
	if s.hist != nil {
		s.shared.histLRU.touch(s)
	}
	// flate copies dict into its own window, so hist can be rolled while
	// inflating.
	fr := s.shared.inflater(&s.zr, dict)
	scratch := s.shared.scratch[:]
	var err error
	limit := false
	for {
		n, rerr := fr.Read(scratch)
		if n > 0 {
			if room := s.maxMessage - m.Len; int64(n) > room {
				s.sink(m, scratch[:room])
				limit = true
				break
			}
			s.sink(m, scratch[:n])
		}
		if rerr != nil {
			err = rerr
			break
		}
	}
	switch {
	case limit || m.zOver:
		m.problem(CodeDecompressionLimit, fmt.Sprintf("message larger than the limit of %d bytes; decoding stopped there", s.maxMessage))
		m.Truncated = true
		s.loseHistory()
	case err == io.EOF && complete:
		if !s.histKnown {
			s.histGood += m.Len
			s.histKnown = s.histGood >= s.window
		}
	case !complete && (err == io.EOF || err == io.ErrUnexpectedEOF):
		// The message was given up; its end is not known.
		s.loseHistory()
	case !s.histKnown:
		// RFC 7692 §7.2.2: with context takeover a message may refer to
		// data from before the capture (or from lost bytes). What was
		// inflated before the reference is right, but show none of it.
		if s.histDropped {
			m.problem(CodeDeflateHistoryLimit, "compressed message refers to history that was dropped to keep memory bounded (the cap on compression history held for all connections, --max-deflate-history, was reached); RFC 7692 §7.2.2")
		} else {
			m.problem(CodeDeflateMissingHistory, "compressed message refers to data from before the capture or from lost bytes; RFC 7692 §7.2.2")
		}
		m.buf = m.buf[:0]
		m.Len = 0
		m.utf8 = utf8Checker{}
		m.Truncated = true
		s.loseHistory()
	default:
		m.problem(CodeDeflateError, fmt.Sprintf("compressed message does not inflate: %v; RFC 7692 §7.2.2", err))
		m.Truncated = true
		s.loseHistory()
	}
}

// addHistory appends inflated output to the history, keeping at least its
// last 32 KiB in a buffer of 64 KiB.
func (s *Stream) addHistory(b []byte) {
	if s.cfg.NoContextTakeover {
		return // never used
	}
	if s.hist == nil {
		s.shared.holdHistory(s, 2*histSize)
	}
	if len(b) >= histSize {
		s.hist = append(s.hist[:0], b[len(b)-histSize:]...)
		return
	}
	if len(s.hist)+len(b) > cap(s.hist) {
		keep := histSize - len(b)
		copy(s.hist, s.hist[len(s.hist)-keep:])
		s.hist = s.hist[:keep]
	}
	s.hist = append(s.hist, b...)
}

// loseHistory records that the sender's compression history is no longer
// known: later messages may refer to it.
func (s *Stream) loseHistory() {
	s.hist = s.hist[:0]
	s.histKnown = s.cfg.NoContextTakeover
	s.histGood = 0
	s.histDropped = false
}

// historyDropped records that Shared took the history buffer back to stay
// under its bound (releaseHistory set hist to nil).
func (s *Stream) historyDropped() {
	s.loseHistory()
	s.histDropped = true
}

// loseSync records that frame boundaries are lost.
// reportFrame hands the current frame to the Handler once.
func (s *Stream) reportFrame() {
	if s.framePending {
		s.framePending = false
		s.h.Frame(&s.frame)
	}
}

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
	if n <= 0 || s.state == stateLost {
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
	if s.state != stateLost {
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
