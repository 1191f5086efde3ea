package jsonenc

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unicode/utf8"
	"unsafe"
)

const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// escapeMask returns a word with the high bit set in each of the eight
// bytes of x (little-endian) that must be escaped in a JSON string or is
// not ASCII: below 0x20, '"', '\\', or 0x80 and above. It is exact, byte by
// byte: no carry crosses from one byte to the next, since every sum stays
// below 0x100.
func escapeMask(x uint64) uint64 {
	const low7 = 0x7f * swarOnes
	quote := x ^ ('"' * swarOnes)
	slash := x ^ ('\\' * swarOnes)
	atLeast20 := (x & low7) + 0x60*swarOnes     // high bit: low seven bits ≥ 0x20
	notQuote := ((quote & low7) + low7) | quote // high bit: byte ≠ '"'
	notSlash := ((slash & low7) + low7) | slash // high bit: byte ≠ '\\'
	return (x | ^(atLeast20 & notQuote & notSlash)) & swarHigh
}

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD
// (as encoding/json does); U+2028 and U+2029 are escaped so the output is
// also valid JavaScript.
func AppendString(b []byte, s string) []byte {
	// Short strings (types, directions, opcodes, names) in one or two
	// words, when nothing in them needs a look: loads that overlap,
	// stored as they were loaded.
	switch n := len(s); {
	case n <= 8:
		var w uint64 = ' ' * swarOnes // spaces past s: no escape
		switch {
		case n == 8:
			w = load64(s)
		case n >= 4:
			w = load32(s) | load32(s[n-4:])<<(8*(n-4)) | w<<(8*n)
		case n > 0:
			w = uint64(s[0]) | uint64(s[n/2])<<(8*(n/2)) | uint64(s[n-1])<<(8*(n-1)) | w<<(8*n)
		}
		if escapeMask(w) == 0 {
			at := len(b)
			b = slices.Grow(b, 10)[:at+n+2]
			b[at] = '"'
			binary.LittleEndian.PutUint64(b[at+1:at+9], w) // past s: overwritten or left past len
			b[at+n+1] = '"'
			return b
		}
	case n <= 16:
		lo, hi := load64(s), load64(s[n-8:])
		if escapeMask(lo)|escapeMask(hi) == 0 {
			at := len(b)
			b = slices.Grow(b, 18)[:at+n+2]
			b[at] = '"'
			binary.LittleEndian.PutUint64(b[at+1:at+9], lo)
			binary.LittleEndian.PutUint64(b[at+n-7:at+n+1], hi)
			b[at+n+1] = '"'
			return b
		}
	}
	if useEscapeAVX2 {
		return appendStringAVX2(b, s)
	}
	return appendStringWords(b, s)
}

// appendStringAVX2 is AppendString with escapeAVX2 taking the ASCII
// bytes 32 at a time: text payloads are dense with quotes (one every five
// to eight bytes in the bench's JSON), which it escapes in the vector;
// control bytes and non-ASCII bytes are escaped and checked here.
func appendStringAVX2(b []byte, s string) []byte {
	b = append(b, '"')
	for len(s) > 0 {
		if room := 64 + 2*min(len(s), 4096); cap(b)-len(b) < room {
			b = slices.Grow(b, room)
		}
		ns, nd := escapeAVX2(b[len(b):cap(b)], s)
		b, s = b[:len(b)+nd], s[ns:]
		if len(s) == 0 {
			break
		}
		if c := s[0]; c < 0x20 {
			b = appendEscapedASCII(b, c)
			s = s[1:]
			continue
		} else if c < utf8.RuneSelf {
			continue // out of room
		}
		// A run of non-ASCII bytes, a rune at a time.
		i := 0
		for i < len(s) && s[i] >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if esc := runeEscape(r, size); esc != "" {
				b = append(b, s[:i]...)
				b = append(b, esc...)
				s, i = s[i+size:], 0
				continue
			}
			i += size
		}
		b = append(b, s[:i]...)
		s = s[i:]
	}
	return append(b, '"')
}

// appendStringWords is AppendString eight bytes at a time, where there is
// no escapeAVX2, for strings of more than eight bytes or with escapes.
func appendStringWords(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time (the last few padded with spaces):
		// escape the ASCII bytes the mask flags, in order (text
		// payloads are dense with quotes), up to the first byte that is
		// not ASCII, if any.
		var w uint64
		if i+8 <= len(s) {
			w = load64(s[i : i+8])
		} else {
			w = loadTail(s[i:])
		}
		m := escapeMask(w)
		for ; m != 0; m &= m - 1 {
			j := i + bits.TrailingZeros64(m)>>3
			c := s[j]
			if c >= utf8.RuneSelf {
				break
			}
			b = append(b, s[start:j]...)
			b = appendEscapedASCII(b, c)
			start = j + 1
		}
		if m == 0 {
			i += 8 // past the end of s for the last bytes: the loop ends
			continue
		}
		i += bits.TrailingZeros64(m) >> 3
		r, size := utf8.DecodeRuneInString(s[i:])
		if esc := runeEscape(r, size); esc != "" {
			b = append(b, s[start:i]...)
			b = append(b, esc...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// runeEscape returns the escape of r, decoded from size bytes of a
// string, or "" when it is written as it is: invalid UTF-8 as U+FFFD (as
// encoding/json does), U+2028 and U+2029 escaped so the output is also
// valid JavaScript.
func runeEscape(r rune, size int) string {
	switch {
	case r == utf8.RuneError && size == 1:
		return `\ufffd`
	case r == '\u2028':
		return `\u2028`
	case r == '\u2029':
		return `\u2029`
	}
	return ""
}

// appendEscapedASCII appends the JSON escape of c, an ASCII byte that
// must be escaped: below 0x20, '"' or '\\'.
func appendEscapedASCII(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

// AppendBytes is AppendString for a byte slice (a payload). The
// string it reads s through lives only for the call and s is not modified
// meanwhile, which is what unsafe.String asks.
func AppendBytes(b, s []byte) []byte {
	return AppendString(b, unsafe.String(unsafe.SliceData(s), len(s)))
}

// load64 returns the eight bytes of s as a little-endian word: one load.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// load32 returns the first four bytes of s as a little-endian word: one
// load.
func load32(s string) uint64 {
	_ = s[3]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24
}

// loadTail returns the bytes of s, shorter than eight, as load64 would,
// padded with spaces, which need no escape.
func loadTail(s string) uint64 {
	w := uint64(' ' * swarOnes)
	for k := len(s) - 1; k >= 0; k-- {
		w = w<<8 | uint64(s[k])
	}
	return w
}

const hexDigits = "0123456789abcdef"
