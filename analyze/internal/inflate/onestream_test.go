//go:build linux

package inflate

import (
	"bytes"
	"compress/flate"
	"flag"
	"io"
	"os"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

// The Decoder against other inflaters on the same bytes: one direction of
// the bench's message mix (benchHot, the server side of one connection:
// JSON pushes and 1-9 KB record snapshots, 1,999 messages) joined into the
// one DEFLATE stream that context takeover makes of it, so that libraries
// without a message API (libdeflate, ISA-L, zlib) can inflate it in one
// call. internal/bench/inflatecmp runs the C libraries on the file
// TestOneStream writes; BenchmarkOneStream runs the Go ones.

var oneStreamPath = flag.String("onestream", "", "TestOneStream writes the joined stream to this file, and its inflated bytes to the file plus .out")

// oneStream joins s's messages into one stream: each message without the
// final empty stored block wsproto appends (the last five bytes of
// deflateTail), so that each ends at its sync flush's empty stored block,
// and after the last a final empty fixed block (BFINAL 1, BTYPE 01, code
// 256: 0x03 0x00).
func oneStream(s *benchStreams) []byte {
	var z []byte
	for _, m := range s.msgs {
		z = append(z, m.z[:len(m.z)-5]...)
	}
	return append(z, 0x03, 0x00)
}

// inflateAll inflates z, one stream, into a fresh window and appends the
// output to out.
func inflateAll(d *Decoder, win, z, out []byte) ([]byte, error) {
	d.Reset(z, win[:0])
	for {
		b, err := d.Next()
		out = append(out, b...)
		if err != nil {
			return out, err
		}
	}
}

// TestOneStream checks that the joined stream inflates to the messages one
// after the other, with compress/flate and with the Decoder (both fast
// loops), which is what the comparison rests on; with -onestream it writes
// the stream and its inflated bytes for internal/bench/inflatecmp.
func TestOneStream(t *testing.T) {
	messages := 400
	if *oneStreamPath != "" {
		messages = 4000 // benchHot's, which BenchmarkOneStream inflates
	}
	s := makeBenchStreams(1, messages, true).only(1)
	z := oneStream(s)
	want := bytes.Join(s.plain, nil)
	got, err := io.ReadAll(flate.NewReader(bytes.NewReader(z)))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("compress/flate: %d bytes, %v; want %d bytes, nil", len(got), err, len(want))
	}
	win := benchWindows(1)[0]
	for _, pureGo := range []bool{false, true} {
		d := Decoder{pureGo: pureGo}
		got, err := inflateAll(&d, win, z, nil)
		if err != io.EOF || !bytes.Equal(got, want) {
			t.Fatalf("Decoder (pureGo %v): %d bytes, %v; want %d bytes, EOF", pureGo, len(got), err, len(want))
		}
	}
	if *oneStreamPath != "" {
		if err := os.WriteFile(*oneStreamPath, z, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*oneStreamPath+".out", want, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes inflating to %d in %d messages", *oneStreamPath, len(z), len(want), len(s.msgs))
	}
}

// BenchmarkOneStream inflates the joined stream with the Decoder in one
// Reset (as libdeflate, ISA-L and zlib do in inflatecmp), with the Decoder
// message by message (as wsviz does, and as BenchmarkStreams/hot),
// and with compress/flate and klauspost/compress's inflaters (one Reset a
// stream, output to io.Discard). MB/s are of inflated output.
func BenchmarkOneStream(b *testing.B) {
	benchSetup()
	z := oneStream(benchHot)
	win := benchWindows(1)[0]
	b.Run("wsviz", func(b *testing.B) {
		var d Decoder
		b.SetBytes(benchHot.out)
		for b.Loop() {
			d.Reset(z, win[:0])
			for {
				if _, err := d.Next(); err != nil {
					break
				}
			}
		}
	})
	// The same output compressed by a sender that keeps to a 4 KiB window
	// (klauspost's custom window), as with server_max_window_bits=12;
	// decoded with and without the limit that checks it.
	plain, err := inflateAll(&Decoder{}, win, z, nil)
	if err != io.EOF {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	kw, _ := kflate.NewWriterWindow(&buf, 4096)
	kw.Write(plain)
	kw.Close()
	z4k := buf.Bytes()
	// The Go loop, which decodes where there is no assembly one; and the
	// cost of matches past the limit, which the fast loops hand to the
	// careful way (the 32 KiB stream under a 4 KiB limit: a sender that
	// does not keep to its window).
	for _, v := range []struct {
		name   string
		z      []byte
		pureGo bool
		limit  int
	}{
		{"wsviz-go", z, true, 0},
		{"wsviz-past-limit", z, false, 4096},
		{"wsviz-4k", z4k, false, 0},
		{"wsviz-4k-limited", z4k, false, 4096},
	} {
		b.Run(v.name, func(b *testing.B) {
			d := Decoder{pureGo: v.pureGo}
			d.LimitDistance(v.limit)
			b.SetBytes(benchHot.out)
			for b.Loop() {
				d.Reset(v.z, win[:0])
				for {
					if _, err := d.Next(); err != nil {
						break
					}
				}
			}
			if v.limit != 0 && (d.Farthest() == 0) != (&v.z[0] == &z4k[0]) {
				b.Fatalf("Farthest() = %d", d.Farthest())
			}
		})
	}
	b.Run("wsviz-messages", func(b *testing.B) {
		// BenchmarkStreams/hot, here to run beside the others.
		var d Decoder
		wins := benchWindows(benchHot.dirs)
		b.SetBytes(benchHot.out)
		for b.Loop() {
			benchHot.decode(&d, wins, nil)
		}
	})
	r := bytes.NewReader(z)
	for _, lib := range []struct {
		name string
		rc   io.ReadCloser
	}{
		{"compress-flate", flate.NewReader(r)},
		{"klauspost", kflate.NewReader(r)},
	} {
		b.Run(lib.name, func(b *testing.B) {
			b.SetBytes(benchHot.out)
			for b.Loop() {
				r.Reset(z)
				lib.rc.(flate.Resetter).Reset(r, nil)
				if n, err := io.Copy(io.Discard, lib.rc); err != nil || n != benchHot.out {
					b.Fatalf("%d bytes, %v", n, err)
				}
			}
		})
	}
}
