package jsonenc

import (
	"encoding/base64"
	"encoding/binary"
	"slices"
)

// base64Pairs maps 12 bits to the two standard base64 characters that
// encode them (RFC 4648 §4), first character in the low byte.
var base64Pairs = func() (t [1 << 12]uint16) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range t {
		t[i] = uint16(alphabet[i>>6]) | uint16(alphabet[i&63])<<8
	}
	return t
}()

// AppendBase64 appends the standard base64 encoding of src, with padding,
// as base64.StdEncoding.AppendEncode does, several times faster: twelve
// bytes per step with SSSE3 (encodeBase64Blocks, on amd64), then six input
// bytes to eight characters per step through a 12-bit table.
func AppendBase64(b, src []byte) []byte {
	n := len(b)
	b = slices.Grow(b, base64.StdEncoding.EncodedLen(len(src)))
	b = b[:n+base64.StdEncoding.EncodedLen(len(src))]
	dst := b[n:]
	if k := encodeBase64Blocks(dst, src); k > 0 {
		src, dst = src[k:], dst[k/3*4:]
	}
	for len(src) >= 26 && len(dst) >= 32 {
		// Four steps unrolled; each loads 8 bytes and encodes the first 6.
		binary.LittleEndian.PutUint64(dst[0:], encode6(binary.BigEndian.Uint64(src[0:])))
		binary.LittleEndian.PutUint64(dst[8:], encode6(binary.BigEndian.Uint64(src[6:])))
		binary.LittleEndian.PutUint64(dst[16:], encode6(binary.BigEndian.Uint64(src[12:])))
		binary.LittleEndian.PutUint64(dst[24:], encode6(binary.BigEndian.Uint64(src[18:])))
		src, dst = src[24:], dst[32:]
	}
	for len(src) >= 8 && len(dst) >= 8 {
		binary.LittleEndian.PutUint64(dst, encode6(binary.BigEndian.Uint64(src)))
		src, dst = src[6:], dst[8:]
	}
	base64.StdEncoding.Encode(dst, src)
	return b
}

// encode6 returns the eight base64 characters of the top six bytes of v,
// the first in the low byte.
func encode6(v uint64) uint64 {
	return uint64(base64Pairs[v>>52]) | uint64(base64Pairs[v>>40&0xfff])<<16 |
		uint64(base64Pairs[v>>28&0xfff])<<32 | uint64(base64Pairs[v>>16&0xfff])<<48
}
