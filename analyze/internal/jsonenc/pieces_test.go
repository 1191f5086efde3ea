package jsonenc

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// inPieces encodes s as AppendBytes or AppendBase64 would, a piece of
// about n bytes at a time.
func inPieces(s []byte, n int, text bool) []byte {
	var out []byte
	if text {
		out = append(out, '"')
	}
	for len(s) > 0 {
		var k int
		if text {
			k = TextCut(s, n)
			out = AppendStringPiece(out, s[:k])
		} else {
			k = Base64Cut(s, n)
			out = AppendBase64(out, s[:k])
		}
		if k == 0 {
			panic("empty piece")
		}
		s = s[k:]
	}
	if text {
		out = append(out, '"')
	}
	return out
}

// TestPiecesMatchWhole checks that payloads encoded in pieces give the
// bytes of the whole's encoding, on text dense with the cases a cut can
// fall into: multi-byte sequences, truncated and invalid ones, runs of
// continuation bytes, U+2028, escapes.
func TestPiecesMatchWhole(t *testing.T) {
	atoms := [][]byte{
		[]byte("a"), []byte(`"`), []byte("\\"), []byte("\n"), []byte{0x01},
		[]byte("é"), []byte("€"), []byte("𝄞"), []byte("\u2028"), []byte("\u2029"),
		{0x80}, {0xbf, 0x80, 0x80, 0x80, 0x80}, {0xe2, 0x82}, {0xf0, 0x9d, 0x84}, {0xff}, {0xc0, 0xaf},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 3000 {
		var s []byte
		for range rng.IntN(60) {
			s = append(s, atoms[rng.IntN(len(atoms))]...)
		}
		n := 4 + rng.IntN(12)
		if round%10 == 0 {
			n = 4 + rng.IntN(200)
		}
		if got, want := inPieces(s, n, true), AppendBytes(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("text %q in pieces of %d = %s, want %s", s, n, got, want)
		}
		if got, want := inPieces(s, n, false), AppendBase64(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("base64 of %q in pieces of %d = %s, want %s", s, n, got, want)
		}
	}
}

func TestTextCut(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want int
	}{
		{"abcdef", 4, 4},
		{"abc", 4, 3},
		{"ab€def", 4, 2},                   // € is e2 82 ac at 2..4: back to its first byte
		{"abc€def", 4, 3},                  // cut at the € itself
		{"a\x80\x80\x80\x80\x80", 4, 4},    // four continuation bytes end at 4: nothing reaches 4
		{"\xf0\x80\x80\x80\x80\x80", 4, 4}, // the lead at 0 is invalid with 4 after it
		{"ab\xf0\x9d\x84\x9e", 4, 2},       // 𝄞 at 2..5
	} {
		if got := TextCut([]byte(tc.s), tc.n); got != tc.want {
			t.Errorf("TextCut(%q, %d) = %d, want %d", tc.s, tc.n, got, tc.want)
		}
	}
}
