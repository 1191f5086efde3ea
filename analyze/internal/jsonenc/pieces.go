package jsonenc

// Large payloads are written in pieces (see analyze's DecodeJSON): the
// JSON of a message kept whole can be several times its size (base64 is
// 4/3 of it, an escaped control byte six bytes), so it is encoded a piece
// at a time into a small buffer and written, never held whole. The pieces'
// encodings, put together, are exactly the encoding of the whole.

// TextCut returns where to end the next piece of a text payload s that is
// to be encoded in pieces of about n bytes: min(n, len(s)), moved back to
// a byte at which AppendBytes(s) starts a character. AppendBytes reads s a
// UTF-8 sequence at a time, an invalid byte alone; a sequence is at most
// four bytes, and its bytes after the first are continuation bytes
// (10xxxxxx). So a byte that is not a continuation byte starts what
// AppendBytes reads next, and so does the fourth of four continuation
// bytes in a row, which no sequence can reach. n must be at least 4; the
// result is then at least 1.
func TextCut(s []byte, n int) int {
	if n >= len(s) {
		return len(s)
	}
	for k := n; k > n-4; k-- {
		if s[k]&0xc0 != 0x80 {
			return k
		}
	}
	return n // s[n-3:n+1] are four continuation bytes
}

// Base64Cut returns where to end the next piece of a payload to be
// base64-encoded in pieces of about n bytes: min(n, len(s)) rounded down to
// a multiple of 3 bytes (four characters, no padding) but for the last.
// n must be at least 3.
func Base64Cut(s []byte, n int) int {
	if n >= len(s) {
		return len(s)
	}
	return n - n%3
}

// AppendStringPiece appends piece s of a JSON string written in pieces
// (TextCut says where to cut): AppendBytes without the quotes.
func AppendStringPiece(b, s []byte) []byte {
	n := len(b)
	b = AppendBytes(b, s)
	copy(b[n:], b[n+1:len(b)-1])
	return b[:len(b)-2]
}
