package inflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	kflate "github.com/klauspost/compress/flate"

	"github.com/wsviz/wsviz/internal/race"
)

// reference inflates in with compress/flate, dict as the history, as the
// permessage-deflate decoder did before this package: it returns the
// output (up to limit bytes) and the error that ended it.
func reference(in, dict []byte, limit int) ([]byte, error) {
	fr := flate.NewReaderDict(bytes.NewReader(in), dict)
	var out []byte
	buf := make([]byte, 8<<10)
	for {
		n, err := fr.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return out, err
		}
		if len(out) > limit {
			return out[:limit], nil
		}
	}
}

// decodeAll inflates in with a Decoder whose window holds dict (its last
// 32 KiB), in a window of winCap bytes: the output, up to limit bytes, the
// error, and the window after.
func decodeAll(d *Decoder, in, dict []byte, winCap, limit int) ([]byte, error, []byte) {
	dict = dict[max(0, len(dict)-WindowSize):]
	win := append(make([]byte, 0, winCap), dict...)[:len(dict):WindowCap]
	d.Reset(in, win)
	var out []byte
	for {
		b, err := d.Next()
		out = append(out, b...)
		if err != nil {
			return out, err, d.Window()
		}
		if len(out) > limit {
			return out[:limit], nil, d.Window()
		}
	}
}

// same reports how the Decoder differs from compress/flate on in with
// dict, or "": with the assembly fast loop and with the Go one where the
// assembly one is there.
func same(d *Decoder, in, dict []byte, winCap int) string {
	defer func() { d.pureGo = false }()
	for _, pureGo := range []bool{false, true} {
		if pureGo && !haveRoundAsm {
			break
		}
		d.pureGo = pureGo
		if msg := same1(d, in, dict, winCap); msg != "" {
			if pureGo {
				return "the Go loop: " + msg
			}
			return msg
		}
	}
	return ""
}

// same1 is same for one fast loop.
func same1(d *Decoder, in, dict []byte, winCap int) string {
	const limit = 1 << 22
	want, werr := reference(in, dict, limit)
	got, gerr, win := decodeAll(d, in, dict, winCap, limit)
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		return fmt.Sprintf("output: %d bytes, want %d; first difference at %d (err %v, want %v)", len(got), len(want), i, gerr, werr)
	}
	if !errors.Is(gerr, werr) && gerr != werr {
		return fmt.Sprintf("error %v (%T), want %v (%T)", gerr, gerr, werr, werr)
	}
	if werr == nil {
		return ""
	}
	// The window ends with the history the next message refers to.
	hist := append(append([]byte{}, dict...), want...)
	n := min(len(hist), WindowSize)
	if len(win) < n || !bytes.Equal(win[len(win)-n:], hist[len(hist)-n:]) {
		return fmt.Sprintf("window: the last %d bytes differ from the output's", n)
	}
	return ""
}

// compressor makes deflate streams with compress/flate or
// klauspost/compress at a level.
type compressor struct {
	name  string
	level int
	new   func(w io.Writer, level int, dict []byte) (interface {
		io.Writer
		Flush() error
		Close() error
	}, error)
}

func compressors() []compressor {
	var cs []compressor
	std := func(w io.Writer, level int, dict []byte) (interface {
		io.Writer
		Flush() error
		Close() error
	}, error) {
		return flate.NewWriterDict(w, level, dict)
	}
	kp := func(w io.Writer, level int, dict []byte) (interface {
		io.Writer
		Flush() error
		Close() error
	}, error) {
		return kflate.NewWriterDict(w, level, dict)
	}
	for level := -2; level <= 9; level++ {
		cs = append(cs, compressor{fmt.Sprintf("flate/%d", level), level, std})
		cs = append(cs, compressor{fmt.Sprintf("klauspost/%d", level), level, kp})
	}
	return cs
}

// corpus returns test inputs: text, records, noise, runs, in several sizes.
func corpus(rng *rand.Rand) [][]byte {
	var out [][]byte
	words := []string{"permessage", "deflate", "window", "{\"type\":", "\"tick\",", "price", "0.25", "]}", "\n", " ", "websocket", "history"}
	for _, n := range []int{0, 1, 2, 7, 64, 200, 1000, 5000, 40000, 100000} {
		var text, rec, noise, runs []byte
		for len(text) < n {
			text = append(text, words[rng.IntN(len(words))]...)
		}
		for len(rec) < n {
			rec = fmt.Appendf(rec, "record:%08d;state=ok;v=%d;", len(rec)/32, rng.IntN(100))
		}
		for len(noise) < n {
			noise = append(noise, byte(rng.Uint32()))
		}
		for len(runs) < n {
			runs = append(runs, bytes.Repeat([]byte{byte(rng.IntN(4))}, 1+rng.IntN(300))...)
		}
		out = append(out, text[:n], rec[:n], noise[:n], runs[:n])
	}
	return out
}

// TestAgainstFlate decodes streams of every compressor at every level, whole
// and with a dictionary, and compares with compress/flate.
func TestAgainstFlate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := corpus(rng)
	var d Decoder
	for ci, c := range compressors() {
		for k, in := range inputs {
			if !race.Keep(ci, k) {
				continue
			}
			var dict []byte
			if k%3 == 1 {
				dict = inputs[(k+5)%len(inputs)]
			}
			var buf bytes.Buffer
			w, err := c.new(&buf, c.level, dict)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(in)
			w.Close()
			for _, winCap := range []int{WindowCap, 80 << 10} {
				if msg := same(&d, buf.Bytes(), dict, winCap); msg != "" {
					t.Errorf("%s, input %d (%d bytes, dict %d), window %d: %s", c.name, k, len(in), len(dict), winCap, msg)
				}
			}
			out, err, _ := decodeAll(&d, buf.Bytes(), dict, 64<<10, 1<<30)
			if err != io.EOF || !bytes.Equal(out, in) {
				t.Errorf("%s, input %d: round trip = %d bytes, %v; want %d bytes, EOF", c.name, k, len(out), err, len(in))
			}
		}
	}
}

// TestTruncatedAndCorrupt compares every prefix of some streams, and
// streams with bytes changed, with compress/flate.
func TestTruncatedAndCorrupt(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	inputs := corpus(rng)
	var d Decoder
	for ci, c := range compressors()[:8] {
		for k, in := range inputs[:24] {
			if !race.Keep(ci, k) {
				continue
			}
			var buf bytes.Buffer
			w, _ := c.new(&buf, c.level, nil)
			w.Write(in)
			w.Close()
			z := buf.Bytes()
			for n := range len(z) {
				if msg := same(&d, z[:n], nil, WindowCap); msg != "" {
					t.Fatalf("%s, input %d cut at %d of %d: %s", c.name, k, n, len(z), msg)
				}
			}
			for range 50 {
				bad := bytes.Clone(z)
				for range 1 + rng.IntN(3) {
					if len(bad) > 0 {
						bad[rng.IntN(len(bad))] ^= byte(1 + rng.IntN(255))
					}
				}
				if msg := same(&d, bad, inputs[k+1], WindowCap); msg != "" {
					t.Fatalf("%s, input %d corrupted %x: %s", c.name, k, bad, msg)
				}
			}
		}
	}
}

// TestHandMade checks streams made bit by bit for the corners compress/flate
// treats its own way.
func TestHandMade(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		dict string
	}{
		{"empty", nil, ""},
		{"stored empty final", []byte{0x01, 0x00, 0x00, 0xff, 0xff}, ""},
		{"stored bad nlen", []byte{0x01, 0x00, 0x00, 0xfe, 0xff}, ""},
		{"stored short", []byte{0x01, 0x05, 0x00, 0xfa, 0xff, 'a', 'b'}, ""},
		{"reserved type", []byte{0x07}, ""},
		{"fixed, distance before the start", []byte{0x63, 0x00, 0x02, 0x00}, ""},
		{"fixed, distance into the dictionary", []byte{0x63, 0x00, 0x02, 0x00}, "abc"},
		{"sync flush then final", []byte{0x00, 0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}, ""},
		{"trailing bytes after the final block", []byte{0x01, 0x00, 0x00, 0xff, 0xff, 0x12, 0x34}, ""},
		{"fixed symbol 286", []byte{0x1b, 0x03}, ""},
		{"fixed distance 30", []byte{0x03, 0x02, 0xf8, 0x01}, "x"},
		{"dynamic, hlit too large", []byte{0xfd, 0xff, 0xff}, ""},
		{"dynamic, all zero lengths", []byte{0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, ""},
	}
	var d Decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if msg := same(&d, tc.in, []byte(tc.dict), WindowCap); msg != "" {
				t.Errorf("Decode(%x) differs from compress/flate: %s", tc.in, msg)
			}
		})
	}
}

// bitWriter writes bits least significant first, as DEFLATE packs them.
type bitWriter struct {
	b  []byte
	nb uint
}

func (w *bitWriter) write(v uint64, n uint) {
	for range n {
		if w.nb%8 == 0 {
			w.b = append(w.b, 0)
		}
		w.b[len(w.b)-1] |= byte(v&1) << (w.nb % 8)
		v >>= 1
		w.nb++
	}
}

// TestCodeLengthsAgainstFlate writes dynamic blocks with random code
// lengths (complete, incomplete, over-subscribed, single codes, empty
// distance codes) followed by random bits, and compares the Decoder with
// compress/flate on each: buildTable must accept exactly the codes flate
// accepts, and decode them the same.
func TestCodeLengthsAgainstFlate(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var d Decoder
	for k := range 20000 {
		if !race.Keep(k) {
			continue
		}
		nlit := 257 + rng.IntN(30)
		ndist := 1 + rng.IntN(30)
		lens := make([]uint8, nlit+ndist)
		switch k % 4 {
		case 0: // random lengths: mostly invalid codes
			for i := range lens {
				if rng.IntN(4) == 0 {
					lens[i] = uint8(rng.IntN(16))
				}
			}
		case 1: // a complete code from a random tree, the rest zero
			complete(rng, lens[:nlit])
			complete(rng, lens[nlit:])
		case 2: // one code of length 1, or none
			lens[rng.IntN(nlit)] = 1
			if rng.IntN(2) == 0 {
				lens[nlit+rng.IntN(ndist)] = 1
			}
		default: // complete, then one length changed
			complete(rng, lens[:nlit])
			complete(rng, lens[nlit:])
			lens[rng.IntN(len(lens))] = uint8(rng.IntN(16))
		}
		var w bitWriter
		w.write(1, 1) // final
		w.write(2, 2) // dynamic
		w.write(uint64(nlit-257), 5)
		w.write(uint64(ndist-1), 5)
		w.write(15, 4) // 19 code length code lengths
		for _, sym := range codeOrder {
			if sym < 16 {
				w.write(4, 3) // 0-15: a complete code of 4-bit codes
			} else {
				w.write(0, 3)
			}
		}
		for _, l := range lens {
			// Code length code l is the bit-reversed 4-bit code l.
			w.write(uint64(reverse(uint32(l), 4)), 4)
		}
		for range rng.IntN(40) {
			w.write(rng.Uint64(), 8)
		}
		in := w.b
		if msg := same(&d, in, []byte("some history of a few bytes"), WindowCap); msg != "" {
			t.Fatalf("block %d, lengths %v: %s", k, lens, msg)
		}
	}
}

// complete sets lens to the code lengths of a random complete prefix code
// over a random subset of them, lengths at most 15.
func complete(rng *rand.Rand, lens []uint8) {
	if len(lens) == 1 {
		lens[0] = 1
		return
	}
	n := 2 + rng.IntN(len(lens)-1)
	// Split leaves at random until there are n of them.
	leaves := []uint8{1, 1}
	for len(leaves) < n {
		i := rng.IntN(len(leaves))
		if leaves[i] == 15 {
			continue
		}
		leaves[i]++
		leaves = append(leaves, leaves[i])
	}
	perm := rng.Perm(len(lens))
	for i, l := range leaves {
		lens[perm[i]] = l
	}
}

func reverse(v uint32, n uint) uint32 {
	var r uint32
	for range n {
		r = r<<1 | v&1
		v >>= 1
	}
	return r
}

// TestWindowEnd decodes messages made of long and short matches (of
// distances 1, 3 and more) and literal runs with every length of history
// before them from outMargin*2 before the window's end to its end, so that
// matches and literal runs end at every place near the end of the window
// (a match of 258 bytes starting where the fast loop stops ends 8 bytes
// before it: its last word and the eight bytes after it are the last of
// the window). The window's capacity is exactly WindowCap (the Go loops
// would panic past it), and the bytes after it in its array must stay as
// they were (the assembly ones have no bounds checks).
func TestWindowEnd(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	hist := make([]byte, WindowCap)
	for k := range hist {
		hist[k] = byte('a' + rng.IntN(6))
	}
	// A message: a 258-byte copy from the history, then runs of literals,
	// copies from the history, and repeats of a byte or of three bytes.
	var msg []byte
	msg = append(msg, hist[1000:1258]...)
	for len(msg) < 3000 {
		switch rng.IntN(4) {
		case 0:
			for range 1 + rng.IntN(20) {
				msg = append(msg, byte(rng.IntN(256)))
			}
		case 1:
			k := rng.IntN(len(hist) - 300)
			msg = append(msg, hist[k:k+3+rng.IntN(300)]...)
		case 2:
			msg = append(msg, bytes.Repeat([]byte{byte(rng.IntN(256))}, 3+rng.IntN(300))...)
		default:
			msg = append(msg, bytes.Repeat([]byte("xyz"), 1+rng.IntN(90))...)
		}
	}
	const guard = 64
	buf := make([]byte, WindowCap+guard)
	var d Decoder
	for n := WindowCap - 2*outMargin - 16; n <= WindowCap; n++ {
		if !race.Keep(n) && n != WindowCap {
			continue
		}
		dict := hist[n-WindowSize : n]
		var z bytes.Buffer
		w, _ := flate.NewWriterDict(&z, 6, dict)
		w.Write(msg)
		w.Close()
		for _, pureGo := range []bool{false, true} {
			if pureGo && !haveRoundAsm {
				break
			}
			d.pureGo = pureGo
			for k := range buf {
				buf[k] = 0xee
			}
			copy(buf, hist[:n])
			d.Reset(z.Bytes(), buf[:n:WindowCap])
			var out []byte
			var err error
			for err == nil {
				var b []byte
				b, err = d.Next()
				out = append(out, b...)
			}
			if err != io.EOF || !bytes.Equal(out, msg) {
				t.Fatalf("history %d, Go loop %v: %d bytes, %v; want %d bytes, EOF", n, pureGo, len(out), err, len(msg))
			}
			if g := buf[WindowCap:]; !bytes.Equal(g, bytes.Repeat([]byte{0xee}, guard)) {
				t.Fatalf("history %d, Go loop %v: the bytes after the window were written: %x", n, pureGo, g)
			}
		}
	}
}
