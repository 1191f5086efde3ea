package jsonenc

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	tests := []string{"", "plain", "quote\" back\\ slash", "\x00\x01\x1f\x7f", "tab\tnl\ncr\r",
		"é日本語🎉", "bad \xff utf8 \xc3", "line\u2028sep\u2029", "<script>&</script>"}
	for _, form := range stringEncoders(t) {
		form.use()
		for _, s := range tests {
			checkMatchesEncodingJSON(t, form.name, s)
		}
	}
}

// checkMatchesEncodingJSON checks that AppendString(s) decodes to what
// encoding/json's encoding of s decodes to and, where both escape alike
// (encoding/json writes \b and \f, AppendString \u0008 and \u000c), that
// it is the same bytes as encoding/json's without HTML escapes.
func checkMatchesEncodingJSON(t *testing.T, form, s string) {
	t.Helper()
	got := AppendString(nil, s)
	var back string
	if err := json.Unmarshal(got, &back); err != nil {
		t.Errorf("%s: AppendString(%q) = %s: not valid JSON: %v", form, s, got, err)
		return
	}
	want, _ := json.Marshal(s)
	var wantBack string
	_ = json.Unmarshal(want, &wantBack)
	if back != wantBack {
		t.Errorf("%s: AppendString(%q) decodes to %q, want %q", form, s, back, wantBack)
	}
	if strings.ContainsAny(s, "\b\f") {
		return
	}
	var enc bytes.Buffer
	e := json.NewEncoder(&enc)
	e.SetEscapeHTML(false)
	_ = e.Encode(s)
	if want := bytes.TrimSuffix(enc.Bytes(), []byte("\n")); !bytes.Equal(got, want) {
		t.Errorf("%s: AppendString(%q) = %s, want %s as encoding/json writes it", form, s, got, want)
	}
}

// stringEncoder is one setting of useEscapeAVX2.
type stringEncoder struct {
	name string
	avx2 bool
}

func (e stringEncoder) use() { useEscapeAVX2 = e.avx2 }

// stringEncoders returns the forms of AppendString to test on this
// machine: the portable one, and AVX2 where the CPU has it. The setting
// is restored when t ends.
func stringEncoders(t testing.TB) []stringEncoder {
	avx2 := useEscapeAVX2
	t.Cleanup(func() { useEscapeAVX2 = avx2 })
	encs := []stringEncoder{{name: "portable"}}
	if avx2 {
		encs = append(encs, stringEncoder{name: "AVX2", avx2: true})
	}
	return encs
}

// TestAppendBase64 checks the fast encoder against encoding/base64 at every
// length around its eight-byte steps and on random bytes.
func TestAppendBase64(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	lengths := []int{4095, 4096, 4097, 9000}
	for n := range 100 {
		lengths = append(lengths, n)
	}
	for _, enc := range base64Encoders(t) {
		enc.use()
		for _, n := range lengths {
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(rng.Uint32())
			}
			if n == 50 {
				for i := range src {
					src[i] = 0xff
				}
			}
			prefix := []byte("x")
			got := string(AppendBase64(prefix, src))
			want := "x" + base64.StdEncoding.EncodeToString(src)
			if got != want {
				t.Errorf("%s: AppendBase64(% x) = %q, want %q", enc.name, src, got, want)
			}
		}
	}
}

// base64Encoder is one setting of useSSSE3 and useAVX2.
type base64Encoder struct {
	name        string
	ssse3, avx2 bool
}

func (e base64Encoder) use() { useSSSE3, useAVX2 = e.ssse3, e.avx2 }

// base64Encoders returns the encoders to test on this machine: the
// portable one, and SSSE3 and AVX2 where the CPU has them. The settings
// are restored when t ends.
func base64Encoders(t testing.TB) []base64Encoder {
	ssse3, avx2 := useSSSE3, useAVX2
	t.Cleanup(func() { useSSSE3, useAVX2 = ssse3, avx2 })
	encs := []base64Encoder{{name: "portable"}}
	if ssse3 {
		encs = append(encs, base64Encoder{name: "SSSE3", ssse3: true})
	}
	if ssse3 && avx2 {
		encs = append(encs, base64Encoder{name: "AVX2", ssse3: true, avx2: true})
	}
	return encs
}

// FuzzAppendBase64 checks every encoder against encoding/base64.
func FuzzAppendBase64(f *testing.F) {
	for _, n := range []int{0, 1, 11, 12, 15, 16, 17, 27, 28, 100} {
		f.Add(bytes.Repeat([]byte{0xfb, 0xef, 0xbe, 0x00}, n))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		want := base64.StdEncoding.EncodeToString(src)
		for _, enc := range base64Encoders(t) {
			enc.use()
			if got := string(AppendBase64(nil, src)); got != want {
				t.Fatalf("%s: AppendBase64(% x) = %q, want %q", enc.name, src, got, want)
			}
		}
	})
}

// TestAppendStringEscapesEveryPosition puts each byte that needs
// escaping at every offset of strings of 1 to 71 bytes, so the short
// strings' words, the eight-byte loop and the 32-byte blocks meet it at
// every position.
func TestAppendStringEscapesEveryPosition(t *testing.T) {
	for _, form := range stringEncoders(t) {
		form.use()
		for _, n := range []int{0, 3, 6, 7, 8, 12, 15, 20, 40, 70} {
			testEscapesEveryPosition(t, form.name, n)
		}
	}
}

func testEscapesEveryPosition(t *testing.T, form string, n int) {
	for _, special := range []string{"\"", "\\", "\x00", "\x1f", "\n", "\u00e9", "\u2028", "\xff", "\x7f", " ", "\"\"", "\x01\"", "\"\xe2\x80\xa8\\"} {
		for pos := range n + 1 {
			s := strings.Repeat("a", pos) + special + strings.Repeat("b", n-pos)
			got := AppendString(nil, s)
			var back string
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("AppendString(%q) = %s: not valid JSON: %v", s, got, err)
			}
			if want := appendStringSimple(nil, s); string(got) != string(want) {
				t.Errorf("%s: AppendString(%q) = %s, want %s", form, s, got, want)
			}
			if bytesGot := AppendBytes(nil, []byte(s)); string(bytesGot) != string(got) {
				t.Errorf("AppendString([]byte(%q)) = %s, want %s as for the string", s, bytesGot, got)
			}
		}
	}
}

func BenchmarkAppend(b *testing.B) {
	note := ("the server sent a text message of 87 bytes without being asked: WebSocket has no request and response")
	payload := make([]byte, 4096)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	var buf []byte
	text := `{"type":"tick","conn":99,"seq":0,"symbol":"WSVZ","price":798.24,"volume":902434,"bids":[118.26,149.40,189.11,133.80,103.45,118.53,122.85]}`
	frameNote := "server → client: text frame, 147 bytes of payload"
	for _, s := range []struct{ name, s string }{{"note", note}, {"frame-note", frameNote}, {"json-text", text}, {"from", "server"}, {"type", "ws.message"}} {
		b.Run("string/"+s.name, func(b *testing.B) {
			b.SetBytes(int64(len(s.s)))
			for b.Loop() {
				buf = AppendString(buf[:0], s.s)
			}
		})
	}
	b.Run("base64", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			buf = AppendBase64(buf[:0], payload)
		}
	})
	b.Run("base64-stdlib", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			buf = base64.StdEncoding.AppendEncode(buf[:0], payload)
		}
	})
}

// TestEscapeMask checks the word-at-a-time test against the byte rule for
// every byte value at every position, among neighbours that provoke carries.
func TestEscapeMask(t *testing.T) {
	for _, fill := range []byte{0x00, 0x20, 0x21, 0x5b, 0x7f, 0x80, 0xff} {
		for pos := range 8 {
			for v := range 256 {
				var w [8]byte
				for i := range w {
					w[i] = fill
				}
				w[pos] = byte(v)
				m := escapeMask(binary.LittleEndian.Uint64(w[:]))
				for i, c := range w {
					want := c < 0x20 || c == '"' || c == '\\' || c >= 0x80
					if got := m>>(8*i+7)&1 == 1; got != want || m&^swarHigh != 0 {
						t.Fatalf("escapeMask(% x) = %#x: byte %d (%#x) flagged %v, want %v", w, m, i, c, got, want)
					}
				}
			}
		}
	}
}

// TestAppendUint checks the decimal encoders against strconv around every
// power of ten, at the extremes, for every number below 200,000 and for a
// sequence of larger ones up to a billion (the eight-digit word and the
// array).
func TestAppendUint(t *testing.T) {
	vals := []uint64{0, ^uint64(0), 1<<63 - 1, 1 << 63}
	for p := uint64(1); p <= 1e19; p *= 10 {
		vals = append(vals, p-1, p, p+1, 2*p+3)
		if p == 1e19 {
			break
		}
	}
	for v := range uint64(200_000) {
		vals = append(vals, v)
	}
	for v := uint64(200_000); v < 1e9; v = v*5/4 + 7 {
		vals = append(vals, v)
	}
	for _, v := range vals {
		if got, want := string(AppendUint([]byte("x"), v)), "x"+strconv.FormatUint(v, 10); got != want {
			t.Errorf("AppendUint(%d) = %q, want %q", v, got, want)
		}
		if got, want := string(AppendInt(nil, int64(v))), strconv.FormatInt(int64(v), 10); got != want {
			t.Errorf("AppendInt(%d) = %q, want %q", int64(v), got, want)
		}
	}
}

// TestDigits8 checks the eight-digit word for every number below 10^8
// against a decimal odometer (checked itself against strconv now and
// then).
func TestDigits8(t *testing.T) {
	want := []byte("00000000")
	for v := range uint64(1e8) {
		if got := digits8(v); got != binary.LittleEndian.Uint64(want) {
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], got)
			t.Fatalf("digits8(%d) = %q, want %q", v, b[:], want)
		}
		if v%999_983 == 0 && string(want) != fmt.Sprintf("%08d", v) {
			t.Fatalf("odometer at %d reads %q", v, want)
		}
		for i := 7; i >= 0; i-- { // the next number
			if want[i]++; want[i] <= '9' {
				break
			}
			want[i] = '0'
		}
	}
}

// appendStringSimple is the byte-at-a-time form AppendString must
// equal.
func appendStringSimple(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, `\n`...)
			case c == '\r':
				b = append(b, `\r`...)
			case c == '\t':
				b = append(b, `\t`...)
			case c < 0x20:
				b = fmt.Appendf(b, `\u%04x`, c)
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = fmt.Appendf(b, `\u%04x`, r)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// TestAppendStringLong compares the chunked, word-at-a-time encoder with
// the simple one on long random strings whose escapes and multi-byte runes
// fall across its chunk and word boundaries.
func TestAppendStringLong(t *testing.T) {
	for _, form := range stringEncoders(t) {
		form.use()
		testAppendStringLong(t, form.name)
	}
}

func testAppendStringLong(t *testing.T, form string) {
	rng := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"a", "bcdefgh", `"`, `\`, "\n", "\x01", "\x7f", "é", "日本", "🎉", "\u2028", "\xff", "\xe6\x97", " ", "{\"k\":1}",
		"abcdefghijklmnopqrstuvwxyz0123456789", `"""""""""""""""""""""""""""""""""""""""`}
	for range 300 {
		var sb strings.Builder
		n := rng.IntN(5000)
		for sb.Len() < n {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := sb.String()
		prefix := []byte("[")
		got := AppendString(prefix, s)
		want := appendStringSimple([]byte("["), s)
		if string(got) != string(want) {
			t.Fatalf("%s: AppendString(%q) =\n%s\nwant\n%s", form, s, got, want)
		}
		if !json.Valid(got[1:]) {
			t.Fatalf("AppendString(%q) = %s: not valid JSON", s, got)
		}
	}
}

// FuzzAppendString checks every form of AppendString (the AVX2 one, the
// word-at-a-time one) against the byte-at-a-time reference and
// encoding/json on any string, appended to a buffer of any spare room
// (escapeAVX2 writes past what it reports, and stops when the room runs
// short).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `{"type":"tick","bids":[1.5,2]}`, "server → client", "\x00\x1f\"\\", "bad \xff \xe6\x97", "\u2028\u2029é日本🎉",
		`{"type":"tick","conn":0,"seq":0,"symbol":"WSVZ","price":902.73,"volume":801474,"bids":[191.75,162.51,140.90,184.86]}`,
		strings.Repeat(`"\`, 40), strings.Repeat("x", 70) + "\n" + strings.Repeat("é", 20)} {
		f.Add(s, uint16(0))
	}
	f.Fuzz(func(t *testing.T, s string, room uint16) {
		want := appendStringSimple([]byte("["), s)
		for _, form := range stringEncoders(t) {
			form.use()
			b := make([]byte, 1, 1+int(room)%200)
			b[0] = '['
			if got := AppendString(b, s); string(got) != string(want) {
				t.Fatalf("%s: AppendString(%q) = %s, want %s", form.name, s, got, want)
			}
			checkMatchesEncodingJSON(t, form.name, s)
		}
	})
}
