package wsproto

import "unicode/utf8"

// utf8Checker validates UTF-8 written to it in pieces of any size: a code
// point split between two pieces (two frames, two Write calls, two inflate
// reads) is valid. RFC 6455 §8.1: text messages and close reasons MUST be
// UTF-8, checked over the whole message, not per frame.
type utf8Checker struct {
	pend [utf8.UTFMax]byte // the start of a sequence cut at the end of the last piece
	n    int               // bytes in pend
	need int               // length of the sequence started in pend
	bad  bool              // an invalid sequence was seen
	skip bool              // after lost bytes: drop continuation bytes at the start
}

// write checks the next piece.
func (c *utf8Checker) write(p []byte) {
	if c.bad {
		return
	}
	if c.skip {
		// The bytes before p were lost: a code point may have begun in
		// them, so its remaining continuation bytes are not an error.
		for len(p) > 0 && p[0]&0xc0 == 0x80 {
			p = p[1:]
		}
		if len(p) == 0 {
			return
		}
		c.skip = false
	}
	if c.n > 0 {
		for c.n < c.need && len(p) > 0 {
			c.pend[c.n] = p[0]
			c.n++
			p = p[1:]
		}
		if c.n < c.need {
			c.bad = !validPrefix(c.pend[:c.n])
			return
		}
		if !utf8.Valid(c.pend[:c.n]) {
			c.bad = true
			return
		}
		c.n = 0
	}
	// Hold back a sequence that starts in the last three bytes and is not
	// complete yet.
	cut := len(p)
	for i := len(p) - 1; i >= 0 && i >= len(p)-(utf8.UTFMax-1); i-- {
		b := p[i]
		if b&0xc0 == 0x80 {
			continue // a continuation byte: look further back for the lead
		}
		if b >= 0xc0 && len(p)-i < seqLen(b) {
			cut = i
		}
		break
	}
	if !utf8.Valid(p[:cut]) {
		c.bad = true
		return
	}
	if cut < len(p) {
		if !validPrefix(p[cut:]) {
			c.bad = true
			return
		}
		c.n = copy(c.pend[:], p[cut:])
		c.need = seqLen(p[cut])
	}
}

// validPrefix reports whether b, the start of a multi-byte sequence, can
// still become a valid one (RFC 3629 §4): the lead byte and the range of
// the second byte rule out overlong forms, surrogates and code points above
// U+10FFFF as soon as they are seen.
func validPrefix(b []byte) bool {
	lo, hi := byte(0x80), byte(0xbf)
	switch lead := b[0]; {
	case lead < 0xc2 || lead > 0xf4:
		return false
	case lead == 0xe0:
		lo = 0xa0
	case lead == 0xed:
		hi = 0x9f
	case lead == 0xf0:
		lo = 0x90
	case lead == 0xf4:
		hi = 0x8f
	}
	for i, x := range b[1:] {
		if i == 0 && (x < lo || x > hi) || x&0xc0 != 0x80 {
			return false
		}
	}
	return true
}

// lose records that bytes were lost before the next piece: a pending
// sequence is dropped and continuation bytes at the start of the next piece
// are skipped.
func (c *utf8Checker) lose() {
	c.n = 0
	c.skip = true
}

// complete reports whether everything written was valid and no sequence is
// left unfinished.
func (c *utf8Checker) complete() bool { return !c.bad && c.n == 0 }

// seqLen is the length of the UTF-8 sequence a lead byte (>= 0xC0) starts;
// invalid leads (0xC0, 0xC1, 0xF5..) get a length too and then fail
// utf8.Valid.
func seqLen(lead byte) int {
	switch {
	case lead >= 0xf0:
		return 4
	case lead >= 0xe0:
		return 3
	}
	return 2
}
