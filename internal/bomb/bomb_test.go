package bomb

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"testing"
)

// TestZerosInflate checks Zeros against compress/flate: with the four
// bytes of the sync flush put back, as RFC 7692 §7.2.2 tells a receiver,
// each payload inflates to exactly n zeros and then needs more input
// (the stream is not final).
func TestZerosInflate(t *testing.T) {
	for _, n := range []int64{1, 2, 257, 258, 259, 260, 258 * 16, 258*16 + 1, 258*16 + 2, 258*32 + 1, 258 * 33, 1 << 20, 1<<20 + 12345, 5 << 20} {
		z := append(Zeros(n), 0, 0, 0xff, 0xff)
		r := flate.NewReader(bytes.NewReader(z))
		got, err := io.ReadAll(r)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("n=%d: inflating ended with %v, want io.ErrUnexpectedEOF (a stream that goes on)", n, err)
		}
		if int64(len(got)) != n || bytes.IndexFunc(got, func(r rune) bool { return r != 0 }) >= 0 {
			t.Errorf("n=%d: inflated to %d bytes (zeros: %v), want %d zeros", n, len(got), bytes.Count(got, []byte{0}) == len(got), n)
		}
	}
}

// TestZerosSize checks the ratio that makes it a bomb: about 1,032 to 1.
func TestZerosSize(t *testing.T) {
	n := int64(1 << 30)
	z := Zeros(n)
	if want := n / 1032; int64(len(z)) < want || int64(len(z)) > want+32 {
		t.Errorf("Zeros(1 GiB) is %d bytes, want %d and a header of at most 32", len(z), want)
	}
}

func BenchmarkZeros(b *testing.B) {
	for b.Loop() {
		Zeros(1 << 30)
	}
}
