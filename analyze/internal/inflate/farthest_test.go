package inflate

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/wsviz/wsviz/internal/race"
)

// fixedWriter writes a fixed-Huffman DEFLATE block (RFC 1951 §3.2.6) of
// literals and matches chosen by the test, so that the distance of every
// match is known without a decoder.
type fixedWriter struct{ bitWriter }

// code writes a Huffman code of n bits, most significant bit first.
func (w *fixedWriter) code(v uint32, n uint) { w.write(uint64(reverse(v, n)), n) }

func (w *fixedWriter) litLen(sym int) {
	switch {
	case sym < 144:
		w.code(uint32(0x30+sym), 8)
	case sym < 256:
		w.code(uint32(0x190+sym-144), 9)
	case sym < 280:
		w.code(uint32(sym-256), 7)
	default:
		w.code(uint32(0xc0+sym-280), 8)
	}
}

// Base values and extra bits of the length and distance codes, RFC 1951
// §3.2.5.
var (
	lengthBase  = []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = []uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = []int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = []uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// match writes a match of length 3-258 at distance 1-32768.
func (w *fixedWriter) match(length, dist int) {
	c := len(lengthBase) - 1
	for lengthBase[c] > length {
		c--
	}
	w.litLen(257 + c)
	w.write(uint64(length-lengthBase[c]), lengthExtra[c])
	c = len(distBase) - 1
	for distBase[c] > dist {
		c--
	}
	w.code(uint32(c), 5)
	w.write(uint64(dist-distBase[c]), distExtra[c])
}

// TestFarthest writes streams of random literals and matches whose
// distances it chose (into a history of random length, and within the
// stream) and decodes each with a random limit: Farthest must be the
// longest distance past the limit, none without one, and the output what
// compress/flate gives, whatever the limit.
func TestFarthest(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var d Decoder
	for k := range 3000 {
		if !race.Keep(k) {
			continue
		}
		hist := make([]byte, rng.IntN(3)*rng.IntN(WindowSize+1))
		for i := range hist {
			hist[i] = byte(rng.IntN(4))
		}
		var w fixedWriter
		w.write(1, 1) // final
		w.write(1, 2) // fixed
		n := len(hist)
		farthest := 0
		for range 1 + rng.IntN(200) {
			if n == 0 || rng.IntN(3) == 0 {
				w.litLen(rng.IntN(256))
				n++
				continue
			}
			// Short and long distances alike: up to 32 KiB, or all there is.
			dist := 1 + rng.IntN(min(n, WindowSize))
			if rng.IntN(2) == 0 {
				dist = 1 + rng.IntN(min(n, 1<<(4+rng.IntN(12))))
			}
			length := 3 + rng.IntN(256)
			w.match(length, dist)
			n += length
			farthest = max(farthest, dist)
		}
		w.litLen(256)
		in := w.b
		want, werr := reference(in, hist, 1<<30)
		if werr != io.EOF {
			t.Fatalf("stream %d: compress/flate: %v", k, werr)
		}
		limit := 1 << (8 + rng.IntN(8)) // 256 B to 32 KiB
		if k%10 == 0 {
			limit = 0 // none
		}
		wantFar := farthest
		if limit == 0 || farthest <= limit {
			wantFar = 0
		}
		// The assembly fast loop where there is one, and the Go one.
		for _, pureGo := range []bool{false, true} {
			d.pureGo = pureGo
			d.LimitDistance(limit)
			got, err, _ := decodeAll(&d, in, hist, WindowCap, 1<<30)
			if err != io.EOF || !bytes.Equal(got, want) {
				t.Fatalf("stream %d, limit %d, Go loop %v: %d bytes, %v; want %d bytes, EOF", k, limit, pureGo, len(got), err, len(want))
			}
			if d.Farthest() != wantFar {
				t.Fatalf("stream %d (history %d, farthest match %d), limit %d, Go loop %v: Farthest() = %d, want %d", k, len(hist), farthest, limit, pureGo, d.Farthest(), wantFar)
			}
			if d.BeforeWindow() != 0 {
				t.Fatalf("stream %d: BeforeWindow() = %d after a good stream", k, d.BeforeWindow())
			}
		}
	}
}

// TestBeforeWindow writes a match reaching before the history given to
// Reset, with and without a limit, after literals and matches of random
// number: the error is compress/flate's, and BeforeWindow says by how many
// bytes it reached too far.
func TestBeforeWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var d Decoder
	for k := range 2000 {
		hist := bytes.Repeat([]byte("h"), rng.IntN(1000))
		var w fixedWriter
		w.write(1, 1)
		w.write(1, 2)
		n := len(hist)
		for range rng.IntN(50) {
			if n == 0 || rng.IntN(2) == 0 {
				w.litLen('a')
				n++
			} else {
				length := 3 + rng.IntN(256)
				w.match(length, 1+rng.IntN(n))
				n += length
			}
		}
		if n >= WindowSize {
			continue
		}
		over := 1 + rng.IntN(WindowSize-n)
		w.match(3+rng.IntN(256), n+over)
		w.litLen(256)
		in := w.b
		_, werr := reference(in, hist, 1<<30)
		if _, ok := werr.(flate.CorruptInputError); !ok {
			t.Fatalf("stream %d: compress/flate: %v, want a corrupt input error", k, werr)
		}
		d.pureGo = k%2 == 0
		d.LimitDistance([]int{0, 512, 4096}[k%3])
		_, err, _ := decodeAll(&d, in, hist, WindowCap, 1<<30)
		if !errorsEqual(err, werr) {
			t.Fatalf("stream %d, Go loop %v: %v, want %v", k, d.pureGo, err, werr)
		}
		if d.BeforeWindow() != over {
			t.Fatalf("stream %d, Go loop %v: BeforeWindow() = %d, want %d", k, d.pureGo, d.BeforeWindow(), over)
		}
	}
	d.LimitDistance(0)
	if _, err, _ := decodeAll(&d, []byte{0x07}, nil, WindowCap, 1<<30); err == nil || d.BeforeWindow() != 0 {
		t.Fatalf("reserved block type: %v, BeforeWindow() = %d; want an error and 0", err, d.BeforeWindow())
	}
}
