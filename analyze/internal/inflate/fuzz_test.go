package inflate

import (
	"bytes"
	"compress/flate"
	"io"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

// deflateTail is what permessage-deflate appends to each message before
// inflating (RFC 7692 §7.2.2, and a final empty stored block).
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// messageWriter compresses messages as a permessage-deflate sender does:
// one compressor for the direction (context takeover) or a fresh one per
// message, each message flushed and its trailing 00 00 ff ff removed.
type messageWriter struct {
	buf      bytes.Buffer
	w        resetter
	takeover bool
	started  bool
}

type resetter interface {
	io.Writer
	Flush() error
	Reset(io.Writer)
}

func (m *messageWriter) message(p []byte) []byte {
	if m.started && !m.takeover {
		m.w.Reset(&m.buf)
	}
	m.started = true
	m.buf.Reset()
	m.w.Write(p)
	m.w.Flush()
	return bytes.Clone(bytes.TrimSuffix(m.buf.Bytes(), []byte{0, 0, 0xff, 0xff}))
}

// FuzzDecoder compares the Decoder with compress/flate, the way
// permessage-deflate uses it: plain is cut into messages at the cuts,
// compressed with context takeover or not by compress/flate or
// klauspost/compress (ctl picks which, the level and klauspost's window
// size), one message is corrupted (a byte changed, or cut short without
// its tail) when ctl says so, and each message is inflated by one Decoder
// whose window goes on from message to message and by flate with the last
// 32 KiB of the output before as its dictionary: the same output and the
// same error, message by message, until the first error. plain itself is
// also inflated as a raw stream by both.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte("hello, hello, hello world"), []byte{5, 9}, uint32(0))
	f.Add([]byte(`{"type":"tick","price":100.25}{"type":"tick","price":100.50}`), []byte{30}, uint32(0x2a6))
	f.Add(bytes.Repeat([]byte("record:0000000001;state=ok;"), 100), []byte{200, 7}, uint32(0x1ff13))
	f.Add([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, []byte{}, uint32(0x40000))
	f.Add([]byte{0x05, 0xc0, 0x21, 0x0d, 0x00, 0x00, 0x00, 0x80, 0xa0, 0xfc, 0xa9, 0x07}, []byte{3}, uint32(0x60315))
	var d Decoder
	dg := Decoder{pureGo: true}
	winGo := make([]byte, 0, WindowCap)
	writers := map[[3]int]resetter{}
	f.Fuzz(func(t *testing.T, plain, cuts []byte, ctl uint32) {
		if len(plain) > 1<<16 {
			return
		}
		// plain as a raw stream, with and without a dictionary.
		if msg := same(&d, plain, nil, WindowCap); msg != "" {
			t.Fatalf("raw %x: %s", plain, msg)
		}
		if msg := same(&d, plain, cuts, 64<<10); msg != "" {
			t.Fatalf("raw %x, dictionary %x: %s", plain, cuts, msg)
		}

		level := int(ctl%12) - 2 // -2 (Huffman only) to 9
		klaus := ctl&0x10 != 0
		takeover := ctl&0x20 == 0
		// klauspost's custom window: 32 bytes to 32 KiB.
		window := min(max(1<<(5+(ctl>>6&15)%11), kflate.MinCustomWindowSize), kflate.MaxCustomWindowSize)
		corrupt := ctl >> 10 & 3 // 0, 1: none; 2: a byte changed; 3: cut short
		where := int(ctl >> 12)
		mw := &messageWriter{takeover: takeover}
		// Compressors are reused across inputs (they are large): Reset.
		key := [3]int{level, 0, 0}
		switch {
		case !klaus:
		case ctl&0x200 != 0 && level > 0:
			key[1], key[2] = 2, window
		default:
			key[1] = 1
		}
		w, ok := writers[key]
		if !ok {
			var err error
			switch key[1] {
			case 0:
				w, err = flate.NewWriter(nil, level)
			case 1:
				w, err = kflate.NewWriter(nil, level)
			default:
				w, err = kflate.NewWriterWindow(nil, window)
			}
			if err != nil {
				t.Fatal(err)
			}
			writers[key] = w
		}
		w.Reset(&mw.buf)
		mw.w = w
		var msgs [][]byte
		for i, rest := 0, plain; len(rest) > 0 || i == 0; i++ {
			n := len(rest)
			if len(cuts) > 0 {
				n = min(n, int(cuts[i%len(cuts)])*int(1+ctl>>28))
			}
			msgs = append(msgs, rest[:n])
			rest = rest[n:]
			if i > 1000 {
				msgs = append(msgs, rest)
				break
			}
		}
		win := make([]byte, 0, 64<<10)
		var hist []byte    // all output so far, for flate's dictionary
		corrupted := false // a message was changed: the output need not be what was sent
		for k, p := range msgs {
			z := append(mw.message(p), deflateTail...)
			if k == where%len(msgs) {
				switch corrupt {
				case 2:
					z[where%len(z)] ^= byte(1 + where>>8%255)
					corrupted = true
				case 3:
					z = z[:where%len(z)]
					corrupted = true
				}
			}
			dict := hist
			if !takeover {
				dict, win = nil, win[:0]
			}
			want, werr := reference(z, dict[max(0, len(dict)-WindowSize):], 1<<30)
			// The Go fast loop (which the limit below selects where there
			// is an assembly one), on a copy of the window: the same output
			// and error. It notes the matches past the compressor's window:
			// none from klauspost's custom window (a sender that keeps to
			// the window it agreed to), only distances past it otherwise.
			var gotGo []byte
			var errGo error
			dg.LimitDistance(window)
			dg.Reset(z, append(winGo[:0], win...))
			for errGo == nil {
				var b []byte
				b, errGo = dg.Next()
				gotGo = append(gotGo, b...)
			}
			if far := dg.Farthest(); far != 0 && (far <= window || far > WindowSize || key[1] == 2 && !corrupted) {
				t.Fatalf("message %d of %d (window %d, compressor %v): Farthest() = %d", k, len(msgs), window, key, far)
			}
			// The assembly loop where there is one, with the same limit
			// half the time (it must note the same farthest match as the
			// Go loop), without one the other half.
			limited := where&1 == 0
			if limited {
				d.LimitDistance(window)
			} else {
				d.LimitDistance(0)
			}
			d.Reset(z, win)
			var got []byte
			var gerr error
			for gerr == nil {
				var b []byte
				b, gerr = d.Next()
				got = append(got, b...)
			}
			if want := dg.Farthest(); !limited && d.Farthest() != 0 || limited && d.Farthest() != want {
				t.Fatalf("message %d of %d (window %d, limited %v): Farthest() = %d, the Go loop's %d", k, len(msgs), window, limited, d.Farthest(), want)
			}
			if !bytes.Equal(got, want) || (gerr != werr && !errorsEqual(gerr, werr)) {
				t.Fatalf("message %d of %d (takeover %v, %d bytes in): %d bytes, %v; want %d bytes, %v",
					k, len(msgs), takeover, len(z), len(got), gerr, len(want), werr)
			}
			if !bytes.Equal(gotGo, want) || (errGo != werr && !errorsEqual(errGo, werr)) {
				t.Fatalf("message %d of %d (takeover %v, %d bytes in), Go loop: %d bytes, %v; want %d bytes, %v",
					k, len(msgs), takeover, len(z), len(gotGo), errGo, len(want), werr)
			}
			if werr != io.EOF {
				return
			}
			// A changed byte of a stored block, or a stream cut at a block's
			// end, still inflates without error: only the comparison with
			// flate above holds then (and for the messages after it, whose
			// history differs).
			if !corrupted && !bytes.Equal(want, p) {
				t.Fatalf("message %d: inflated %d bytes, sent %d", k, len(want), len(p))
			}
			win = d.Window()
			if !takeover {
				hist = hist[:0]
			}
			hist = append(hist, want...)
			if len(hist) > 2*WindowSize {
				hist = hist[len(hist)-WindowSize:]
			}
			n := min(len(hist), WindowSize)
			if len(win) < n || !bytes.Equal(win[len(win)-n:], hist[len(hist)-n:]) {
				t.Fatalf("message %d: the window does not end with the last %d bytes of output", k, n)
			}
		}
	})
}

func errorsEqual(a, b error) bool {
	ca, ok1 := a.(flate.CorruptInputError)
	cb, ok2 := b.(flate.CorruptInputError)
	return ok1 && ok2 && ca == cb
}
