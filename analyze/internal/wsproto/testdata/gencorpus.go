//go:build ignore

// Gencorpus writes the seed corpus of FuzzFrame and FuzzInflate into
// testdata/fuzz. Run it from the package directory:
//
//	go run testdata/gencorpus.go
package main

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"log"
	"os"
	"path/filepath"
)

// Fuzz flag bits, as in fuzzConfig in fuzz_test.go.
const (
	fClient    = 1
	fDeflate   = 2
	fNoContext = 4
	fMidstream = 8
	fKeep7     = 0x20
	fKeep64    = 0x30
	fGaps      = 0x40
	fText      = 0x80 // FuzzInflate: text opcode
)

var mask = [4]byte{0x12, 0x34, 0x56, 0x78}

// frame encodes a frame with the minimal length form; b0 holds FIN, RSV
// and opcode.
func frame(b0 byte, masked bool, payload []byte) []byte {
	var mb byte
	if masked {
		mb = 0x80
	}
	n := len(payload)
	b := []byte{b0}
	switch {
	case n < 126:
		b = append(b, mb|byte(n))
	case n <= 0xffff:
		b = append(b, mb|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, mb|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	b = append(b, mask[:]...)
	for i, c := range payload {
		b = append(b, c^mask[i%4])
	}
	return b
}

// deflate compresses msgs with one writer (context takeover), each flushed
// and without its trailing 00 00 ff ff.
func deflate(msgs ...string) [][]byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	var out [][]byte
	for _, m := range msgs {
		buf.Reset()
		w.Write([]byte(m))
		w.Flush()
		out = append(out, bytes.TrimSuffix(bytes.Clone(buf.Bytes()), []byte{0, 0, 0xff, 0xff}))
	}
	return out
}

func write(target, name string, args ...any) {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case byte:
			fmt.Fprintf(&b, "byte(%q)\n", rune(v))
		}
	}
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

func main() {
	const fin = 0x80
	one := []byte{1}
	cuts := []byte{3, 1, 7, 2}
	z := deflate("hello hello hello", "hello again, hello")

	frames := []struct {
		name  string
		data  []byte
		flags byte
	}{
		{"text_client", frame(fin|0x1, true, []byte("hello")), fClient},
		{"fragments_with_ping", cat(frame(0x1, false, []byte("a\xe2")), frame(fin|0x9, false, []byte("p")),
			frame(fin|0x0, false, []byte("\x82\xac"))), fKeep7},
		{"len16", frame(fin|0x2, false, bytes.Repeat([]byte{7}, 300)), 0},
		{"len64", frame(fin|0x2, true, bytes.Repeat([]byte{9}, 70000)), fClient | fKeep64},
		{"len64_huge", []byte{0x82, 0x7f, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3}, 0},
		{"length_overflow_then_frame", cat([]byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}, frame(fin|0x1, false, []byte("x"))), 0},
		{"non_minimal", []byte{0x81, 126, 0, 1, 'a', 0x82, 127, 0, 0, 0, 0, 0, 0, 0, 1, 'b'}, 0},
		{"reserved_everything", []byte{0xf3, 0x01, 'x', 0x7b, 0x80, 0, 0, 0, 0}, fClient},
		{"control_violations", cat(frame(0x09, false, bytes.Repeat([]byte("p"), 130)), frame(fin|0x8, false, []byte{3})), 0},
		{"close_codes", cat(frame(fin|0x8, true, []byte{0x03, 0xe8, 'o', 'k'}), frame(fin|0x8, true, []byte{0x03, 0xed, 0xff})), fClient},
		{"interrupted", cat(frame(0x1, false, []byte("ab")), frame(fin|0x2, false, []byte("cd")), frame(fin|0x0, false, nil)), 0},
		{"deflate_takeover", cat(frame(fin|0x40|0x1, false, z[0]), frame(fin|0x40|0x1, false, z[1])), fDeflate},
		{"deflate_midstream", cat(frame(fin|0x40|0x1, true, z[1]), frame(fin|0x0, true, []byte("x"))), fClient | fDeflate | fMidstream},
		{"deflate_fragmented", cat(frame(0x40|0x2, false, z[0][:3]), frame(fin|0x0, false, z[0][3:])), fDeflate | fNoContext},
		{"gaps", cat(frame(0x1, false, []byte("hello world")), frame(fin|0x0, false, []byte("!"))), fGaps},
		{"partial_header", []byte{0x81, 0xfe, 0x01}, fClient},
	}
	for _, f := range frames {
		write("FuzzFrame", f.name, f.data, cuts, f.flags)
	}

	var zeros bytes.Buffer
	w, _ := flate.NewWriter(&zeros, flate.BestCompression)
	w.Write(make([]byte, 200<<10))
	w.Flush()
	bomb := bytes.TrimSuffix(zeros.Bytes(), []byte{0, 0, 0xff, 0xff})
	inflate := []struct {
		name  string
		z     []byte
		cuts  []byte
		flags byte
	}{
		{"text", z[0], one, fText},
		{"refers_back", deflate("abcdefgh", "abcdefgh abcdefgh")[1], cuts, fText},
		{"stored_block", []byte{0x00, 0x03, 0x00, 0xfc, 0xff, 'a', 'b', 'c'}, one, 0},
		{"final_block", []byte{0x4b, 0x4c, 0x4a, 0x06, 0x00}, one, fNoContext},
		{"reserved_block_type", []byte{0x07, 0xff}, one, 0},
		{"bomb_200k_zeros", bomb, []byte{200}, fKeep64},
		{"midstream", deflate("0123456789", "0123456789")[1], one, fMidstream | fClient},
	}
	for _, f := range inflate {
		write("FuzzInflate", f.name, f.z, f.cuts, f.flags)
	}
}
