package wsproto

import (
	"encoding/binary"
	"fmt"
)

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
	// payload. It aliases a buffer of the Stream (for a compressed message
	// inflated in one piece, the inflater's window) and is valid only
	// during the Message callback: copy to keep. One longer than
	// OwnedPayload bytes is the exception: the Stream never touches its
	// buffer again (a window is never longer).
	Payload []byte
	// Truncated is true when Payload is shorter than Len, or bytes of the
	// message were lost (a gap, a limit, an inflate failure).
	Truncated bool
	// Undecodable is true when none of the message's bytes can be known:
	// it is compressed and refers to history from before the capture, lost
	// in a gap or dropped for the history bound
	// (ws.deflate_missing_history, ws.deflate_history_limit), or some of
	// its compressed bytes were never captured, or its first frame, which
	// said whether it is compressed, was not captured under
	// permessage-deflate. Payload is then empty and Len is 0 because the
	// length is unknown, not because the message is empty; WireLen still
	// counts its bytes on the wire. Truncated is true too.
	Undecodable bool
	// CloseCode and CloseReason are a close message's status code and
	// reason (RFC 6455 §5.5.1, §7.4); CloseCode is 0 when the body is
	// empty.
	CloseCode   int
	CloseReason string
	// Problems lists the message-level problems (UTF-8, close code, limit,
	// inflate, gap). Reused between callbacks: copy to keep.
	Problems []Problem
}

// message is a message being reassembled.
type message struct {
	Message
	active    bool
	buf       []byte // kept payload bytes, unmasked and inflated
	inflated  []byte // kept payload bytes in the inflater's window (sinkWindow), instead of buf; nil when in buf
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
		// Reassembled data can come from packets out of order, and then
		// a packet can come back after others (its bytes on both sides of
		// bytes another packet brought first). The list is made distinct
		// once, when the message is delivered (firstSeen): searching it
		// at every packet made a long message quadratic (80,000 packets
		// after one reordered segment took a second).
		m.unsorted = m.unsorted || packet < last
	}
	m.Packets = append(m.Packets, packet)
}

// firstSeen returns list with only the first occurrence of each number, in
// order, in list's memory.
func firstSeen(list []int64) []int64 {
	seen := make(map[int64]struct{}, len(list))
	out := list[:0]
	for _, p := range list {
		if _, ok := seen[p]; !ok {
			seen[p] = struct{}{}
			out = append(out, p)
		}
	}
	return out
}

// problem appends a message-level problem.
func (m *message) problem(code, msg string) {
	m.Problems = append(m.Problems, Problem{code, msg})
}

// startMessage begins m.
func (s *Stream) startMessage(m *message, op uint8, compressed bool) {
	// Field by field, as Message{Opcode: op, ...} would set them
	// (TestStartMessageResets): Go built that literal on the stack and
	// copied it 16 bytes at a time, loads that wait for the narrower
	// stores they span (no store-to-load forwarding).
	m.Opcode = op
	m.Len, m.WireLen = 0, 0
	m.Compressed = compressed
	m.Frames = 0
	m.Packets = m.Packets[:0]
	m.Payload = nil
	m.Truncated, m.Undecodable = false, false
	m.CloseCode, m.CloseReason = 0, ""
	m.Problems = m.Problems[:0]
	m.active = true
	if m.buf == nil {
		m.buf = s.shared.getBuf()
	}
	m.buf, m.inflated = m.buf[:0], nil
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
		n := min(len(p), len(s.shared.scratch))
		scratch := s.shared.scratch[:n]
		s.maskPos = maskCopy(scratch, p[:n], s.frame.Mask, s.maskPos)
		s.sink(m, scratch)
		p = p[n:]
	}
}

// sink takes the next plain (unmasked, inflated) payload bytes b of m:
// counts them, checks UTF-8 and keeps the first bytes. Nothing else of a
// message is held.
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
		b := b[:min(room, len(b))]
		if need := len(m.buf) + len(b); need > cap(m.buf) {
			// Double, and go straight to what is kept past a quarter of
			// it, rather than append's 1.25 for large slices: a message
			// kept whole (--full-payload, up to MaxMessage) then holds at
			// most 1.25 times what is kept while growing, not 1.8 to 2
			// times, and allocates at most 1.5 times it in all, not 5.
			c := max(need, 2*cap(m.buf), 1024)
			if c > m.keep/4 {
				c = m.keep
			}
			buf := make([]byte, len(m.buf), c)
			copy(buf, m.buf)
			m.buf = buf
		}
		m.buf = append(m.buf, b...)
	}
	m.Len += int64(len(b))
}

// sinkWindow is sink for the whole inflated output b of a compressed
// message, in the inflater's window: the kept bytes stay there, to be
// delivered as they are, rather than copied into m.buf. The window is
// written again only by the next message's inflate, after deliver.
func (s *Stream) sinkWindow(m *message, b []byte) {
	if checksUTF8(m) {
		m.utf8.write(b)
	}
	m.inflated = b[:min(len(b), m.keep)]
	m.Len += int64(len(b))
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
	if m.unsorted {
		m.Packets = firstSeen(m.Packets)
	}
	complete := !m.Truncated && m.lost == 0 && !m.lostStart
	if m.lost > 0 {
		m.problem(CodeGap, fmt.Sprintf("%d bytes of this message were never captured", m.lost))
		m.Truncated = true
	}
	if m.lostStart {
		m.Truncated = true
	}
	if m.discard {
		m.Undecodable = true
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
	kept := m.buf
	if m.inflated != nil {
		kept = m.inflated
	}
	n := min(len(kept), s.keep)
	m.Payload = kept[:n]
	if int64(n) < m.Len {
		m.Truncated = true
	}
	m.active = false
	s.h.Message(&m.Message)
	// The Handler is done with the payload.
	s.shared.putBuf(m.buf)
	m.buf, m.inflated = nil, nil
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
