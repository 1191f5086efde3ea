package wsproto

import "encoding/binary"

// maskBytes XORs b in place with the masking key, starting at key offset pos
// (0..3), and returns the offset for the byte after b. RFC 6455 §5.3: octet i
// of the payload is XORed with octet i MOD 4 of the key; pos carries i MOD 4
// across Write calls.
//
// It works on 8 bytes at a time with the key repeated into a 64-bit word;
// 8 is a multiple of 4, so the offset is the same after every word.
func maskBytes(key [4]byte, pos int, b []byte) int {
	pos &= 3
	if len(b) >= 16 {
		var k [8]byte
		for i := range k {
			k[i] = key[(pos+i)&3]
		}
		k64 := binary.LittleEndian.Uint64(k[:])
		for len(b) >= 32 {
			binary.LittleEndian.PutUint64(b[0:], binary.LittleEndian.Uint64(b[0:])^k64)
			binary.LittleEndian.PutUint64(b[8:], binary.LittleEndian.Uint64(b[8:])^k64)
			binary.LittleEndian.PutUint64(b[16:], binary.LittleEndian.Uint64(b[16:])^k64)
			binary.LittleEndian.PutUint64(b[24:], binary.LittleEndian.Uint64(b[24:])^k64)
			b = b[32:]
		}
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
			b = b[8:]
		}
	}
	for i := range b {
		b[i] ^= key[pos]
		pos = (pos + 1) & 3
	}
	return pos
}

// maskCopy is maskBytes with a destination: it writes src XORed with the
// masking key into dst (len(dst) ≥ len(src)), starting at key offset pos,
// and returns the offset for the byte after src. One pass over the bytes,
// where copy then maskBytes made two.
func maskCopy(dst, src []byte, key [4]byte, pos int) int {
	pos &= 3
	dst = dst[:len(src)]
	if len(src) >= 16 {
		var k [8]byte
		for i := range k {
			k[i] = key[(pos+i)&3]
		}
		k64 := binary.LittleEndian.Uint64(k[:])
		for len(src) >= 32 {
			d, s := dst[:32], src[:32]
			binary.LittleEndian.PutUint64(d[0:], binary.LittleEndian.Uint64(s[0:])^k64)
			binary.LittleEndian.PutUint64(d[8:], binary.LittleEndian.Uint64(s[8:])^k64)
			binary.LittleEndian.PutUint64(d[16:], binary.LittleEndian.Uint64(s[16:])^k64)
			binary.LittleEndian.PutUint64(d[24:], binary.LittleEndian.Uint64(s[24:])^k64)
			dst, src = dst[32:], src[32:]
		}
		for len(src) >= 8 {
			binary.LittleEndian.PutUint64(dst[:8], binary.LittleEndian.Uint64(src[:8])^k64)
			dst, src = dst[8:], src[8:]
		}
	}
	for i := range src {
		dst[i] = src[i] ^ key[pos]
		pos = (pos + 1) & 3
	}
	return pos
}
