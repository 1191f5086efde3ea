package analyze

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestMatchH2Splits: for byte strings near HTTP/2's preface (cut short,
// one byte changed, a byte added, other request lines), matchH2 fed the
// string in random pieces says "preface" exactly when the string starts
// with the preface's first line, whatever the pieces, and says it once, in
// the piece that completes that line.
func TestMatchH2Splits(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 1))
	const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	bases := []string{preface, preface + "\x00\x00\x00\x04\x00\x00\x00\x00\x00", "PRI * HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n", "PRI"}
	for range 20000 {
		s := []byte(bases[rng.IntN(len(bases))])
		switch rng.IntN(4) {
		case 0:
			s = s[:rng.IntN(len(s)+1)]
		case 1:
			if len(s) > 0 {
				s[rng.IntN(len(s))] ^= byte(1 + rng.IntN(255))
			}
		case 2:
			s = append(s, byte(rng.IntN(256)))
		}
		want := strings.HasPrefix(string(s), h2PrefaceLine)
		// Where the answer must come: the piece holding the line's last byte.
		var matched int8
		got, at, pos := false, -1, 0
		for piece := 0; pos < len(s) || piece == 0; piece++ {
			end := min(len(s), pos+1+rng.IntN(12))
			if matched >= 0 && matchH2(&matched, s[pos:end]) {
				if got {
					t.Fatalf("%q: said twice", s)
				}
				got, at = true, end
			}
			pos = end
			if pos >= len(s) {
				break
			}
		}
		if got != want {
			t.Fatalf("%q in pieces: matchH2 said %v, want %v", s, got, want)
		}
		if got && (at < len(h2PrefaceLine) || at-len(h2PrefaceLine) > 11) {
			t.Fatalf("%q: said at byte %d, want in the piece ending the first line (%d bytes)", s, at, len(h2PrefaceLine))
		}
	}
}
