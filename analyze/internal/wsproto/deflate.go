package wsproto

import (
	"fmt"
	"io"
)

// histSize is the LZ77 window of deflate: RFC 1951 §2, 32 KiB.
const histSize = 32 << 10

// deflateTail is appended to a compressed message before inflating: RFC
// 7692 §7.2.2 says to append 00 00 ff ff (the empty stored block the
// sender removed); the empty final stored block after it makes flate
// report io.EOF at the end instead of io.ErrUnexpectedEOF (as gorilla's
// flateReaderTail does).
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

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
