package wsproto

import (
	"fmt"
	"io"

	"github.com/wsviz/wsviz/analyze/internal/inflate"
)

// histSize is the LZ77 window of deflate: RFC 1951 §2, 32 KiB.
const histSize = inflate.WindowSize

// deflateTail is appended to a compressed message before inflating: RFC
// 7692 §7.2.2 says to append 00 00 ff ff (the empty stored block the
// sender removed); the empty final stored block after it makes the
// inflater report io.EOF at the end instead of io.ErrUnexpectedEOF (as
// gorilla's flateReaderTail does for compress/flate).
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

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
	if s.frame.Masked {
		s.zbuf = s.zbuf[:old+len(p)]
		s.maskPos = maskCopy(s.zbuf[old:], p, s.frame.Mask, s.maskPos)
	} else {
		s.zbuf = append(s.zbuf, p...)
	}
}

// inflate inflates the buffered compressed message, at most MaxMessage
// bytes of output, and takes the output as the message's payload. complete
// is false when the message's final frame never came: what arrived is
// inflated as far as it goes.
//
// With context takeover a direction's messages are one deflate stream
// (RFC 7692 §7.2.2): the decoder inflates straight into the direction's
// history buffer, which is its window, so the history is neither copied
// into the decoder nor out of it. A direction that holds no history buffer
// (no context takeover, or none held yet) inflates into the Shared window;
// with context takeover, a history buffer is then taken for the output.
func (s *Stream) inflate(m *message, complete bool) {
	if m.noInflate {
		// Bytes are missing: don't guess. The sender's history now holds
		// bytes we never saw.
		s.releaseCompressed()
		m.Truncated = true
		m.Undecodable = true
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
	win := s.hist
	if win != nil {
		s.shared.histLRU.Touch(&s.histElem)
	} else {
		win = s.shared.window()
	}
	d := s.shared.decoder()
	d.LimitDistance(int(s.window)) // none at 15 bits
	d.Reset(s.zbuf, win)
	var err error
	limit := false
	for {
		out, rerr := d.Next()
		if len(out) > 0 {
			if room := s.maxMessage - m.Len; int64(len(out)) > room {
				s.sink(m, out[:room])
				limit = true
				break
			}
			if rerr != nil && m.Len == 0 {
				// The whole message in one piece, as most are: its
				// payload is the window's bytes, not a copy of them.
				s.sinkWindow(m, out)
			} else {
				s.sink(m, out)
			}
		}
		if rerr != nil {
			err = rerr
			break
		}
	}
	s.releaseCompressed()
	s.keepWindow(d.Window(), m.Len > 0)
	if far := d.Farthest(); far > 0 {
		m.problem(CodeDeflateWindow, fmt.Sprintf("compressed message refers %d bytes back, past the %d-byte window the sender agreed to (%s=%d): a receiver that keeps only that window cannot inflate it; RFC 7692 §7.1.2", far, s.window, s.paramName("max_window_bits"), s.windowBits()))
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
		s.undecodable(m)
	case s.cfg.NoContextTakeover && d.BeforeWindow() > 0:
		// The sender said it resets its compressor for every message, and
		// did not: wsviz, like the receiver, holds nothing of what it
		// refers to.
		m.problem(CodeDeflateContext, fmt.Sprintf("compressed message refers back to before its start (%d bytes before it), though the sender agreed to %s: it kept its compression context from earlier messages, and a receiver that resets its own cannot inflate it; RFC 7692 §7.1.1", d.BeforeWindow(), s.paramName("no_context_takeover")))
		s.undecodable(m)
	default:
		m.problem(CodeDeflateError, fmt.Sprintf("compressed message does not inflate: %v; RFC 7692 §7.2.2", err))
		m.Truncated = true
		s.loseHistory()
	}
}

// undecodable drops what was inflated of m before a reference to history
// that is not held: it is right, but the message is not, so none of it is
// shown. The sender's history is no longer known.
func (s *Stream) undecodable(m *message) {
	m.buf, m.inflated = m.buf[:0], nil
	m.Len = 0
	m.utf8 = utf8Checker{}
	m.Truncated = true
	m.Undecodable = true
	s.loseHistory()
}

// paramName is the name of the sender's permessage-deflate parameter p
// ("max_window_bits", "no_context_takeover"): client_ or server_ before it.
func (s *Stream) paramName(p string) string {
	if s.cfg.Client {
		return "client_" + p
	}
	return "server_" + p
}

// windowBits is the sender's agreed window bits, 8 to 15, as negotiated
// (s.window counts 8 as 9).
func (s *Stream) windowBits() int {
	if b := s.cfg.WindowBits; b > 0 && b < 15 {
		return b
	}
	return 15
}

// releaseCompressed gives the compressed message's buffer back to the
// Shared once it is inflated: the next message of any direction takes it
// (startMessage), so that a few buffers, warm in the caches, serve all
// directions, instead of one per direction that the caches have long
// dropped when its next message comes (and, the first time, page faults).
func (s *Stream) releaseCompressed() {
	s.shared.putBuf(s.zbuf)
	s.zbuf = nil
}

// keepWindow makes win, the decoder's window after a message, the
// direction's history: its last 32 KiB are what the next message may refer
// to. A direction that held no history buffer takes one when the message
// had output, as one that inflates does, and keeps a copy of the window's
// end.
func (s *Stream) keepWindow(win []byte, output bool) {
	switch {
	case s.cfg.NoContextTakeover:
		// Never used.
	case s.hist != nil:
		s.hist = win // the decoder wrote into s.hist's buffer
	case output:
		s.shared.holdHistory(s, 2*histSize)
		s.hist = append(s.hist, win[max(0, len(win)-histSize):]...)
	}
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
