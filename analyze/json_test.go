package analyze

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var jsonTime = time.Date(2024, 1, 2, 3, 4, 5, 600, time.UTC)

func TestEventJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		want string // a substring the JSON must contain
	}{
		{"tcp.open", Event{Type: TypeTCPOpen, Time: jsonTime, Conn: 1, Packet: 1, Note: "n",
			TCPOpen: TCPOpen{Client: "127.0.0.1:5", Server: "[::1]:80", SYN: true}},
			`"client":"127.0.0.1:5","server":"[::1]:80","syn":true`},
		{"tcp.close", Event{Type: TypeTCPClose, Time: jsonTime, Conn: 2, Packet: 9, Note: "n",
			TCPClose: TCPClose{How: CloseRST, ClientBytes: 10, ServerBytes: 20}},
			`"how":"rst","client_bytes":10,"server_bytes":20`},
		{"capture.stats", Event{Type: TypeCaptureStats, Time: jsonTime, Packet: 5000, Note: "n",
			Capture: Capture{Packets: 5000, Drops: 12}},
			`"packet":5000,"captured":5000,"dropped":12`},
		{"tcp.gap", Event{Type: TypeTCPGap, Time: jsonTime, Conn: 2, From: FromServer, Packet: 9, Note: "n",
			TCPGap: TCPGap{Offset: 100, Size: 1448}, Warnings: []Warning{{"tcp.gap", "m"}}},
			`"offset":100,"size":1448`},
		{"http.request", Event{Type: TypeHTTPRequest, Time: jsonTime, Conn: 1, From: FromClient, Packet: 4, Note: "n",
			HTTP: HTTP{Method: "GET", Target: "/chat", Proto: "HTTP/1.1", Header: http.Header{"Upgrade": {"websocket"}, "A": {"1", "2"}}}},
			`"method":"GET","target":"/chat","proto":"HTTP/1.1","headers":{"A":["1","2"],"Upgrade":["websocket"]}`},
		{"http.response", Event{Type: TypeHTTPResponse, Time: jsonTime, Conn: 1, From: FromServer, Packet: 6, Note: "n",
			HTTP: HTTP{Status: 403, Reason: "Forbidden", Proto: "HTTP/1.1", Header: http.Header{}}},
			`"status":403,"reason":"Forbidden"`},
		{"ws.open", Event{Type: TypeWSOpen, Time: jsonTime, Conn: 1, Packet: 6, Note: "n",
			WSOpen: WSOpen{Path: "/", Subprotocol: "chat", Offered: []string{"chat", "x"}, Extensions: "permessage-deflate",
				Deflate: &Deflate{ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 10}, Accept: "ok"}},
			`"deflate":{"server_no_context_takeover":false,"client_no_context_takeover":true,"server_max_window_bits":15,"client_max_window_bits":10}`},
		{"ws.frame masked", Event{Type: TypeWSFrame, Time: jsonTime, Conn: 1, From: FromClient, Packet: 7, Note: "n",
			Frame: Frame{Fin: true, RSV: 4, Opcode: 1, Masked: true, Mask: [4]byte{0xde, 0xad, 0xbe, 0xef}, Len: 1 << 40}},
			`"fin":true,"rsv":4,"opcode":1,"masked":true,"mask":"deadbeef","len":1099511627776`},
		{"ws.frame unmasked", Event{Type: TypeWSFrame, Time: jsonTime, Conn: 1, From: FromServer, Packet: 7, Note: "n",
			Frame: Frame{Opcode: 2, Len: 3}},
			`"fin":false,"rsv":0,"opcode":2,"masked":false,"len":3`},
		{"ws.message text", Event{Type: TypeWSMessage, Time: jsonTime, Conn: 1, From: FromServer, Packet: 8, Note: "n",
			Message: Message{Opcode: "text", Len: 5, WireLen: 7, Compressed: true, Frames: 1, Packets: []int64{8}, Payload: []byte("hé\"\n<")}},
			`"opcode":"text","len":5,"wire_len":7,"compressed":true,"frames":1,"packets":[8],"text":"hé\"\n<"`},
		{"ws.message binary truncated", Event{Type: TypeWSMessage, Time: jsonTime, Conn: 1, From: FromClient, Packet: 8, Note: "n",
			Message: Message{Opcode: "binary", Len: 5000, WireLen: 5000, Frames: 2, Packets: []int64{7, 8}, Payload: []byte{0, 1, 2}, Truncated: true}},
			`"base64":"AAEC","truncated":true`},
		{"ws.message close", Event{Type: TypeWSMessage, Time: jsonTime, Conn: 1, From: FromClient, Packet: 8, Note: "n",
			Message: Message{Opcode: "close", Len: 5, WireLen: 5, Frames: 1, Packets: []int64{8}, Payload: []byte{3, 232, 'b', 'y', 'e'}, Code: 1000, Reason: "bye"}},
			`"code":1000,"reason":"bye"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.ev.AppendJSON(nil)
			if !json.Valid(b) {
				t.Fatalf("AppendJSON = %s, not valid JSON", b)
			}
			if !strings.Contains(string(b), tc.want) {
				t.Errorf("AppendJSON = %s, want it to contain %s", b, tc.want)
			}
			if !strings.HasPrefix(string(b), `{"type":"`+tc.ev.Type+`","t":"2024-01-02T03:04:05.000000600Z"`) {
				t.Errorf("AppendJSON = %s, want type and fixed-width time first", b)
			}
			var got Event
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("Unmarshal(%s): %v", b, err)
			}
			want := tc.ev.Clone()
			normalize(&got)
			normalize(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip of %s:\n got %+v\nwant %+v", b, got, want)
			}
		})
	}
}

// normalize makes nil and empty slices equal for comparison.
func normalize(e *Event) {
	if len(e.Warnings) == 0 {
		e.Warnings = nil
	}
	if len(e.WSOpen.Offered) == 0 {
		e.WSOpen.Offered = nil
	}
	if len(e.Message.Packets) == 0 {
		e.Message.Packets = nil
	}
	if len(e.Message.Payload) == 0 {
		e.Message.Payload = nil
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	tests := []string{"", "plain", "quote\" back\\ slash", "\x00\x01\x1f\x7f", "tab\tnl\ncr\r",
		"é日本語🎉", "bad \xff utf8 \xc3", "line\u2028sep\u2029", "<script>&</script>"}
	for _, s := range tests {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("appendJSONString(%q) = %s: not valid JSON: %v", s, got, err)
			continue
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("appendJSONString(%q) decodes to %q, want %q", s, back, wantBack)
		}
	}
}

func TestAppendJSONAllocs(t *testing.T) {
	ev := Event{Type: TypeWSMessage, Time: jsonTime, Conn: 1, From: FromServer, Packet: 8, Note: "the server sent a text message",
		Message: Message{Opcode: "text", Len: 5, Frames: 1, Packets: []int64{8}, Payload: []byte(`{"a":1}`)}}
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { buf = ev.AppendJSON(buf[:0]) }); n != 0 {
		t.Errorf("AppendJSON allocates %v times per event, want 0", n)
	}
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
			got := string(appendBase64(prefix, src))
			want := "x" + base64.StdEncoding.EncodeToString(src)
			if got != want {
				t.Errorf("%s: appendBase64(% x) = %q, want %q", enc.name, src, got, want)
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
			if got := string(appendBase64(nil, src)); got != want {
				t.Fatalf("%s: appendBase64(% x) = %q, want %q", enc.name, src, got, want)
			}
		}
	})
}

// TestAppendJSONStringEscapesEveryPosition puts each byte that needs
// escaping at every offset of a 20-byte string, so the eight-byte fast path
// meets it at every position of its words.
func TestAppendJSONStringEscapesEveryPosition(t *testing.T) {
	for _, special := range []string{"\"", "\\", "\x00", "\x1f", "\n", "\u00e9", "\u2028", "\xff", "\x7f", " "} {
		for pos := range 20 {
			s := strings.Repeat("a", pos) + special + strings.Repeat("b", 20-pos)
			got := appendJSONString(nil, s)
			var back string
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("appendJSONString(%q) = %s: not valid JSON: %v", s, got, err)
			}
			if want := appendJSONStringSimple(nil, s); string(got) != string(want) {
				t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
			}
			if bytesGot := appendJSONBytes(nil, []byte(s)); string(bytesGot) != string(got) {
				t.Errorf("appendJSONString([]byte(%q)) = %s, want %s as for the string", s, bytesGot, got)
			}
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	note := ("the server sent a text message of 87 bytes without being asked: WebSocket has no request and response")
	payload := make([]byte, 4096)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	var buf []byte
	text := `{"type":"tick","conn":99,"seq":0,"symbol":"WSVZ","price":798.24,"volume":902434,"bids":[118.26,149.40,189.11,133.80,103.45,118.53,122.85]}`
	frameNote := "server → client: text frame, 147 bytes of payload"
	for _, s := range []struct{ name, s string }{{"note", note}, {"frame-note", frameNote}, {"json-text", text}} {
		b.Run("string/"+s.name, func(b *testing.B) {
			b.SetBytes(int64(len(s.s)))
			for b.Loop() {
				buf = appendJSONString(buf[:0], s.s)
			}
		})
	}
	b.Run("base64", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			buf = appendBase64(buf[:0], payload)
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
// power of ten and at the extremes.
func TestAppendUint(t *testing.T) {
	vals := []uint64{0, ^uint64(0), 1<<63 - 1, 1 << 63}
	for p := uint64(1); p <= 1e19; p *= 10 {
		vals = append(vals, p-1, p, p+1, 2*p+3)
		if p == 1e19 {
			break
		}
	}
	for _, v := range vals {
		if got, want := string(appendUint([]byte("x"), v)), "x"+strconv.FormatUint(v, 10); got != want {
			t.Errorf("appendUint(%d) = %q, want %q", v, got, want)
		}
		if got, want := string(appendInt64(nil, int64(v))), strconv.FormatInt(int64(v), 10); got != want {
			t.Errorf("appendInt64(%d) = %q, want %q", int64(v), got, want)
		}
	}
}

// appendJSONStringSimple is the byte-at-a-time form appendJSONString must
// equal.
func appendJSONStringSimple(b []byte, s string) []byte {
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

// TestAppendJSONStringLong compares the chunked, word-at-a-time encoder with
// the simple one on long random strings whose escapes and multi-byte runes
// fall across its chunk and word boundaries.
func TestAppendJSONStringLong(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"a", "bcdefgh", `"`, `\`, "\n", "\x01", "\x7f", "é", "日本", "🎉", "\u2028", "\xff", "\xe6\x97", " ", "{\"k\":1}"}
	for range 300 {
		var sb strings.Builder
		n := rng.IntN(5000)
		for sb.Len() < n {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := sb.String()
		prefix := []byte("[")
		got := appendJSONString(prefix, s)
		want := appendJSONStringSimple([]byte("["), s)
		if string(got) != string(want) {
			t.Fatalf("appendJSONString(%q) =\n%s\nwant\n%s", s, got, want)
		}
		if !json.Valid(got[1:]) {
			t.Fatalf("appendJSONString(%q) = %s: not valid JSON", s, got)
		}
	}
}

// BenchmarkAppendJSONEvent encodes the events a WebSocket capture is made
// of: frames, and text and binary messages.
func BenchmarkAppendJSONEvent(b *testing.B) {
	bin := make([]byte, 4096)
	for i := range bin {
		bin[i] = byte(i * 13)
	}
	events := []struct {
		name string
		ev   Event
	}{
		{"frame", Event{Type: TypeWSFrame, Time: jsonTime, Conn: 101, From: FromServer, Packet: 1101,
			Frame: Frame{Fin: true, Opcode: 1, Len: 147}, noteBytes: []byte("server → client: text frame, 147 bytes of payload")}},
		{"text", Event{Type: TypeWSMessage, Time: jsonTime, Conn: 101, From: FromServer, Packet: 1101,
			Message: Message{Opcode: "text", Len: 138, WireLen: 138, Frames: 1, Packets: []int64{1101},
				Payload: []byte(`{"type":"tick","conn":99,"seq":0,"symbol":"WSVZ","price":798.24,"volume":902434,"bids":[118.26,149.40,189.11,133.80,103.45,118.53,122.85]}`)},
			noteBytes: []byte("the server sent a text message of 138 bytes without being asked: WebSocket has no request and response")}},
		{"binary", Event{Type: TypeWSMessage, Time: jsonTime, Conn: 101, From: FromClient, Packet: 1101,
			Message:   Message{Opcode: "binary", Len: 5000, WireLen: 5000, Frames: 1, Packets: []int64{1100, 1101, 1102, 1103}, Payload: bin, Truncated: true},
			noteBytes: []byte("the client sent a binary message of 5000 bytes; payload shown in part")}},
	}
	buf := make([]byte, 0, 64<<10)
	for _, e := range events {
		b.Run(e.name, func(b *testing.B) {
			for b.Loop() {
				buf = e.ev.AppendJSON(buf[:0])
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

// FuzzAppendJSONString checks the word-at-a-time encoder against the
// byte-at-a-time reference on any string.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `{"type":"tick","bids":[1.5,2]}`, "server → client", "\x00\x1f\"\\", "bad \xff \xe6\x97", "\u2028\u2029é日本🎉"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := appendJSONString(nil, s), appendJSONStringSimple(nil, s); string(got) != string(want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}
