// Package bomb makes deflate bombs for the tests and the hostile
// captures: a permessage-deflate payload (RFC 7692 §7.2.1) that inflates
// to n zero bytes, written directly, a bit pattern repeated. Compressing
// 1 GiB of zeros with compress/flate took 1–2 s, and 13–20 s in each of
// two test binaries under the race detector, for the same 1 MB result.
package bomb

// Zeros returns a payload of about n/1032 bytes that inflates to n zero
// bytes: one dynamic Huffman block (RFC 1951 §3.2.7) whose only codes are
// the literal 0, the length 258 and the distance 1, a literal zero, then
// as many matches of 258 bytes as fit and literal zeros for the rest, the
// end of block; then the empty stored block of a sync flush, without its
// last four bytes (0x00 0x00 0xff 0xff), as permessage-deflate sends a
// message. n must be at least 1.
func Zeros(n int64) []byte {
	var w bitWriter
	w.buf = make([]byte, 0, n/1032+64)
	w.bits(0, 1) // BFINAL: not the last block
	w.bits(2, 2) // BTYPE: dynamic Huffman codes
	w.bits(286-257, 5)
	w.bits(1-1, 5)
	w.bits(18-4, 4) // code length codes up to the one for length 1 (codeOrder)
	// The code length codes in their order (16, 17, 18, 0, 8, 7, 9, 6, 10,
	// 5, 11, 4, 12, 3, 13, 2, 14, 1): 18 (a run of zeros) one bit, 1 and
	// 2 two bits each.
	for _, sym := range codeOrder[:18] {
		w.bits(uint64(precodeLen[sym]), 3)
	}
	// The literal/length lengths: literal 0 two bits, 1-255 none, end of
	// block (256) two bits, lengths 257-284 none, 285 (258) one bit; and
	// the one distance code (1) one bit, which RFC 1951 allows alone.
	w.precode(2)
	w.zeroRun(138)
	w.zeroRun(117)
	w.precode(2)
	w.zeroRun(28)
	w.precode(1)
	w.precode(1)
	// Canonical codes (RFC 1951 §3.2.2): 285 is 0, literal 0 is 10, end
	// of block 11; distance 1 is 0. Huffman codes go most significant bit
	// first: reversed, 10 is written as the two bits 0 then 1.
	const (
		zero  = 0b01 // the literal 0
		match = 0b00 // 285 then distance 1, neither with extra bits
		end   = 0b11 // end of block
	)
	w.bits(zero, 2)
	left := n - 1
	for ; left >= 258*16; left -= 258 * 16 {
		w.bits(0, 32) // 16 matches
	}
	for ; left >= 258; left -= 258 {
		w.bits(match, 2)
	}
	for ; left > 0; left-- {
		w.bits(zero, 2)
	}
	w.bits(end, 2)
	// The sync flush's empty stored block: BFINAL 0, BTYPE 00, then to
	// the byte boundary; LEN and NLEN (00 00 ff ff) are left out.
	w.bits(0, 3)
	return w.flush()
}

// codeOrder is the order of the code length code lengths, RFC 1951
// §3.2.7.
var codeOrder = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// precodeLen: the code length codes used and their lengths. Canonical
// codes: 18 is 0, 1 is 10, 2 is 11.
var precodeLen = [19]uint8{1: 2, 2: 2, 18: 1}

// bitWriter writes bits least significant first, as deflate packs them.
type bitWriter struct {
	buf []byte
	acc uint64 // bits not yet in buf, the first lowest
	n   uint   // how many: under 8 between calls
}

// bits writes the low k bits of v, k at most 32: fewer than 8 bits are
// pending between calls, so they all fit in acc.
func (w *bitWriter) bits(v uint64, k uint) {
	w.acc |= (v & (1<<k - 1)) << w.n
	w.n += k
	for w.n >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

// precode writes the code of the code length code sym (1 or 2).
func (w *bitWriter) precode(sym int) {
	switch sym {
	case 1:
		w.bits(0b01, 2) // 10 reversed
	case 2:
		w.bits(0b11, 2)
	}
}

// zeroRun writes code 18 (0 reversed is 0) and a run of 11-138 zeros.
func (w *bitWriter) zeroRun(k int) {
	w.bits(0, 1)
	w.bits(uint64(k-11), 7)
}

// flush returns the bytes written, the last one padded with zeros.
func (w *bitWriter) flush() []byte {
	if w.n > 0 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc, w.n = 0, 0
	}
	return w.buf
}
