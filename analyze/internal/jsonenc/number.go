package jsonenc

import (
	"encoding/binary"
	"slices"
	"strconv"
)

// AppendUint appends v in decimal, as strconv.AppendUint(b, v, 10) does:
// events are full of small numbers (connections, packets, lengths). Up to
// eight digits are gathered two at a time in a register, the first digit
// in the low byte, and stored as one word (for the three to six digits
// most numbers have, fewer instructions than digits8's fixed eight);
// longer numbers two digits per step from the right into a small array,
// then appended.
//
// The register matters more than it looks: digits written byte by byte
// into an array and read back as one word cannot be forwarded from the
// store buffer, so the read waited for the stores to reach the cache (on
// the plain bench capture 60% of AppendUint's perf samples, a sixth of the
// JSON encoding's, fell on that one load).
func AppendUint(b []byte, v uint64) []byte {
	return appendDecimal(b, v, false)
}

// appendDecimal is AppendUint, or AppendInt of int64(v) when negative
// (AppendInt and AppendUint inline as one call).
func appendDecimal(b []byte, v uint64, negative bool) []byte {
	if negative {
		return strconv.AppendInt(b, int64(v), 10)
	}
	if v < 10 {
		return append(b, byte('0'+v))
	}
	if v < 100 {
		return append(b, twoDigits[2*v], twoDigits[2*v+1])
	}
	if v < 1e8 {
		var w uint64 // the digits, the first in the low byte
		n := 0
		for v >= 100 {
			r := v % 100
			v /= 100
			w = w<<16 | uint64(twoDigits[2*r]) | uint64(twoDigits[2*r+1])<<8
			n += 2
		}
		if v >= 10 {
			w = w<<16 | uint64(twoDigits[2*v]) | uint64(twoDigits[2*v+1])<<8
			n += 2
		} else {
			w = w<<8 | ('0' + v)
			n++
		}
		at := len(b)
		b = slices.Grow(b, 8)[:at+n]
		binary.LittleEndian.PutUint64(b[at:at+8], w)
		return b
	}
	var d [20]byte // the most digits of a uint64
	i := len(d)
	for v >= 100 {
		r := v % 100
		v /= 100
		i -= 2
		d[i], d[i+1] = twoDigits[2*r], twoDigits[2*r+1]
	}
	if v >= 10 {
		i -= 2
		d[i], d[i+1] = twoDigits[2*v], twoDigits[2*v+1]
	} else {
		i--
		d[i] = byte('0' + v)
	}
	return append(b, d[i:]...)
}

// AppendInt appends v in decimal, as strconv.AppendInt(b, v, 10) does.
func AppendInt(b []byte, v int64) []byte {
	return appendDecimal(b, uint64(v), v < 0)
}

// digits8 returns v, below 10^8, as eight decimal digits with leading
// zeros, the first digit in the low byte (a little-endian word to store
// as is): both halves of four digits, then their pairs, then single
// digits are split in parallel, in lanes of one word (n/100 as
// n*10486>>20 for n < 10,000, n/10 as n*103>>10 for n < 100).
func digits8(v uint64) uint64 {
	x := v/10000 | v%10000<<32
	y := x * 10486 >> 20 & 0x0000007f_0000007f
	x = y | (x-y*100)<<16
	y = x * 103 >> 10 & 0x000f_000f_000f_000f
	x = y | (x-y*10)<<8
	return x | 0x30303030_30303030
}

// twoDigits holds "00" to "99".
const twoDigits = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"
