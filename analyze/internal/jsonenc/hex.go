package jsonenc

import (
	"encoding/binary"
	"slices"
)

// hexPairs maps a byte to its two lowercase hex digits, the first in the
// low byte.
var hexPairs = func() (t [256]uint16) {
	for i := range t {
		t[i] = uint16(hexDigits[i>>4]) | uint16(hexDigits[i&15])<<8
	}
	return t
}()

// AppendHex appends src in lowercase hex, as hex.AppendEncode does, for
// the few bytes of a frame's header (2 to 14): grown once, eight digits a
// store, then two (hex.AppendEncode grows through append and encodes a
// digit at a time).
func AppendHex(b, src []byte) []byte {
	at, n := len(b), 2*len(src)
	b = slices.Grow(b, n+8)
	d := b[at : at+n+8] // 8 bytes of room past the digits: overwritten or left past len
	for ; len(src) >= 4; src = src[4:] {
		binary.LittleEndian.PutUint64(d, hex4(src[0], src[1], src[2], src[3]))
		d = d[8:]
	}
	for i, c := range src {
		binary.LittleEndian.PutUint16(d[2*i:], hexPairs[c])
	}
	return b[:at+n]
}

// AppendHex4 is AppendHex of four bytes (a frame's masking key, RFC 6455
// §5.3) as one eight-byte store.
func AppendHex4(b []byte, src [4]byte) []byte {
	at := len(b)
	b = slices.Grow(b, 8)[:at+8]
	binary.LittleEndian.PutUint64(b[at:], hex4(src[0], src[1], src[2], src[3]))
	return b
}

// hex4 returns the eight hex digits of four bytes as a little-endian word.
func hex4(c0, c1, c2, c3 byte) uint64 {
	return uint64(hexPairs[c0]) | uint64(hexPairs[c1])<<16 | uint64(hexPairs[c2])<<32 | uint64(hexPairs[c3])<<48
}
