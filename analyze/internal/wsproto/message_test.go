package wsproto

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// closeBody is a close payload with a status code and reason.
func closeBody(code int, reason string) string {
	return string(binary.BigEndian.AppendUint16(nil, uint16(code))) + reason
}

// TestMessages checks reassembly, UTF-8, close bodies and what End reports,
// for whole, byte-by-byte and randomly cut input.
func TestMessages(t *testing.T) {
	type want struct {
		op       uint8
		payload  string
		problems []string
		trunc    bool
		code     int
		reason   string
	}
	euro := "€" // e2 82 ac
	tests := []struct {
		name string
		cfg  Config
		in   []byte
		end  bool // End at the end
		want []want
	}{
		{"single text", client, cf(true, OpText, "hello"), false, []want{{op: OpText, payload: "hello"}}},
		{"fragments", client, cat(cf(false, OpText, "hel"), cf(false, OpContinuation, "lo "), cf(true, OpContinuation, "world")), false,
			[]want{{op: OpText, payload: "hello world"}}},
		{"ping between fragments", server, cat(sf(false, OpBinary, "ab"), sf(true, OpPing, "p1"), sf(false, OpContinuation, "cd"),
			sf(true, OpPong, ""), sf(true, OpContinuation, "ef")), false,
			[]want{{op: OpPing, payload: "p1"}, {op: OpPong, payload: ""}, {op: OpBinary, payload: "abcdef"}}},
		{"code point split across fragments", client, cat(cf(false, OpText, "a"+euro[:1]), cf(false, OpContinuation, euro[1:2]),
			cf(true, OpContinuation, euro[2:]+"b")), false, []want{{op: OpText, payload: "a" + euro + "b"}}},
		{"invalid UTF-8", server, sf(true, OpText, "a\xffb"), false,
			[]want{{op: OpText, payload: "a\xffb", problems: []string{CodeInvalidUTF8}}}},
		{"code point cut at message end", server, cat(sf(false, OpText, "a"), sf(true, OpContinuation, euro[:2])), false,
			[]want{{op: OpText, payload: "a" + euro[:2], problems: []string{CodeInvalidUTF8}}}},
		{"invalid UTF-8 in binary is fine", server, sf(true, OpBinary, "\xff"), false, []want{{op: OpBinary, payload: "\xff"}}},
		{"empty close", client, cf(true, OpClose, ""), false, []want{{op: OpClose, payload: ""}}},
		{"close 1000", server, sf(true, OpClose, closeBody(1000, "bye")), false,
			[]want{{op: OpClose, payload: closeBody(1000, "bye"), code: 1000, reason: "bye"}}},
		{"close 4999", server, sf(true, OpClose, closeBody(4999, "")), false,
			[]want{{op: OpClose, payload: closeBody(4999, ""), code: 4999}}},
		{"close 1-byte body", server, sf(true, OpClose, "\x03"), false,
			[]want{{op: OpClose, payload: "\x03", problems: []string{CodeInvalidClosePayload}}}},
		{"close reason invalid UTF-8", client, cf(true, OpClose, closeBody(1001, "\xc3")), false,
			[]want{{op: OpClose, payload: closeBody(1001, "\xc3"), code: 1001, reason: "\xc3", problems: []string{CodeInvalidUTF8}}}},
		{"close code bytes are not UTF-8 checked", server, sf(true, OpClose, closeBody(3000+0xff-0xff, "ok")), false,
			[]want{{op: OpClose, payload: closeBody(3000, "ok"), code: 3000, reason: "ok"}}},
		{"data frame interrupted", server, cat(sf(false, OpText, "ab"), sf(true, OpText, "cd")), false,
			[]want{{op: OpText, payload: "ab", trunc: true, problems: []string{CodeDataFrameInterrupted}}, {op: OpText, payload: "cd"}}},
		{"unexpected continuation skipped", server, cat(sf(true, OpContinuation, "zz"), sf(true, OpText, "ok")), false,
			[]want{{op: OpText, payload: "ok"}}},
		{"end mid payload", server, sf(true, OpText, "hello")[:4], true,
			[]want{{op: OpText, payload: "he", trunc: true, problems: []string{CodeIncomplete}}}},
		{"end between fragments", server, sf(false, OpBinary, "hello"), true,
			[]want{{op: OpBinary, payload: "hello", trunc: true, problems: []string{CodeIncomplete}}}},
		{"end mid ping inside message", server, cat(sf(false, OpBinary, "ab"), sf(true, OpPing, "ping")[:4]), true,
			[]want{{op: OpPing, payload: "pi", trunc: true, problems: []string{CodeIncomplete}},
				{op: OpBinary, payload: "ab", trunc: true, problems: []string{CodeIncomplete}}}},
		{"end mid header", client, cf(true, OpPing, "x")[:3], true,
			[]want{{op: OpPing, payload: "", trunc: true, problems: []string{CodeIncomplete}}}},
		{"midstream continuation", Config{MaxPayload: -1, Midstream: true}, cat(sf(true, OpPing, ""), sf(true, OpContinuation, "tail"), sf(true, OpText, "x")), false,
			[]want{{op: OpPing, payload: ""}, {op: OpContinuation, payload: "tail", trunc: true, problems: []string{CodeLostStart}}, {op: OpText, payload: "x"}}},
		{"midstream deflate continuation", Config{Deflate: true, MaxPayload: -1, Midstream: true}, sf(true, OpContinuation, "\x01\x02"), false,
			[]want{{op: OpContinuation, payload: "", trunc: true, problems: []string{CodeLostStart}}}},
	}
	for _, c := range []struct {
		code  int
		valid bool
	}{{999, false}, {1000, true}, {1003, true}, {1004, false}, {1005, false}, {1006, false}, {1007, true}, {1011, true},
		{1012, true}, {1014, true}, {1015, false}, {1016, false}, {2999, false}, {3000, true}, {4000, true}, {5000, false}, {65535, false}} {
		w := want{op: OpClose, payload: closeBody(c.code, "r"), code: c.code, reason: "r"}
		if !c.valid {
			w.problems = []string{CodeInvalidCloseCode}
		}
		tests = append(tests, struct {
			name string
			cfg  Config
			in   []byte
			end  bool
			want []want
		}{fmt.Sprintf("close code %d", c.code), server, sf(true, OpClose, closeBody(c.code, "r")), false, []want{w}})
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for seed := int64(-1); seed < 20; seed++ {
				r := &recorder{}
				s := NewStream(tc.cfg, r)
				switch seed {
				case -1:
					s.Write(tc.in, 1)
				case 0:
					feedBytes(s, tc.in)
				default:
					feed(s, tc.in, seed, 8, 1)
				}
				if tc.end {
					s.End(1000)
				}
				var got []want
				for _, m := range r.msgs {
					got = append(got, want{m.Opcode, string(m.Payload), codes(m.Problems), m.Truncated, m.CloseCode, m.CloseReason})
					if bad := checkInvariants(m, tc.cfg); bad != "" {
						t.Errorf("seed %d: Decode(%q): %s", seed, tc.in, bad)
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Fatalf("seed %d: Decode(%q) = %+v, want %+v", seed, tc.in, got, tc.want)
				}
			}
		})
	}
}

// TestPackets checks that a message lists the distinct packets that carried
// its header or payload bytes, and only those.
func TestPackets(t *testing.T) {
	r := &recorder{}
	s := NewStream(server, r)
	a := sf(false, OpBinary, "abcd")  // 6 bytes
	p := sf(true, OpPing, "p")        // 3 bytes
	b := sf(true, OpContinuation, "") // 2 bytes
	s.Write(a[:1], 1)                 // header byte
	s.Write(a[1:4], 2)                // header byte + 2 payload bytes
	s.Write(cat(a[4:], p[:1]), 3)     // rest of a, ping header
	s.Write(p[1:], 4)                 // ping
	s.Write(p[1:1], 5)                // empty
	s.Write(b, 6)
	want := [][]int64{{3, 4}, {1, 2, 3, 6}}
	var got [][]int64
	for _, m := range r.msgs {
		got = append(got, m.Packets)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Packets = %v, want %v", got, want)
	}
	// Out-of-order packet numbers are still listed once.
	r = &recorder{}
	s = NewStream(server, r)
	msg := sf(true, OpBinary, "abcdef")
	for i, pkt := range []int64{9, 7, 9, 8, 7, 9, 9, 10} {
		s.Write(msg[i:i+1], pkt)
	}
	if got, want := r.msgs[0].Packets, []int64{9, 7, 8, 10}; !slices.Equal(got, want) {
		t.Errorf("Packets = %v, want %v", got, want)
	}
}

// TestMaxPayload checks that only MaxPayload bytes are kept while Len
// counts all, and that UTF-8 is checked beyond the kept bytes.
func TestMaxPayload(t *testing.T) {
	text := strings.Repeat("héllo ", 1000)
	for _, keep := range []int{0, 1, 2, 100, len(text), len(text) + 1} {
		for _, masked := range []bool{false, true} {
			cfg := Config{Client: masked, MaxPayload: keep}
			in := encode(frameSpec{op: OpText, masked: masked, mask: testMask, payload: []byte(text[:3000])})
			in = cat(in, encode(frameSpec{fin: true, op: OpContinuation, masked: masked, mask: testMask, payload: []byte(text[3000:] + "\xff")}))
			r := decode(cfg, in)
			if len(r.msgs) != 1 {
				t.Fatalf("Decode = %d messages, want 1", len(r.msgs))
			}
			m := r.msgs[0]
			wantKeep := min(keep, len(text)+1)
			if m.Len != int64(len(text)+1) || !bytes.Equal(m.Payload, []byte(text + "\xff")[:wantKeep]) || m.Truncated != (wantKeep < len(text)+1) {
				t.Errorf("MaxPayload %d masked %v: Len %d Payload %d bytes Truncated %v", keep, masked, m.Len, len(m.Payload), m.Truncated)
			}
			if !hasCode(m.Problems, CodeInvalidUTF8) {
				t.Errorf("MaxPayload %d: invalid UTF-8 after the kept bytes not found: %v", keep, m.Problems)
			}
		}
	}
}

// TestControlKeepsCloseBody checks that the close body is parsed even when
// MaxPayload keeps less of it.
func TestControlKeepsCloseBody(t *testing.T) {
	r := decode(Config{MaxPayload: 1}, sf(true, OpClose, closeBody(1001, "going away")))
	m := r.msgs[0]
	if m.CloseCode != 1001 || m.CloseReason != "going away" || len(m.Payload) != 1 || !m.Truncated {
		t.Errorf("Decode(close) = code %d reason %q payload %q truncated %v, want 1001 %q, 1 byte, truncated",
			m.CloseCode, m.CloseReason, m.Payload, m.Truncated, "going away")
	}
}

// TestMaskOffsets checks unmasking, in place and into another buffer, from
// every key offset and length against a byte-at-a-time reference.
func TestMaskOffsets(t *testing.T) {
	key := [4]byte{1, 2, 4, 8}
	for n := range 70 {
		for pos := range 4 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(i * 7)
			}
			want := bytes.Clone(b)
			for i := range want {
				want[i] ^= key[(pos+i)%4]
			}
			dst := bytes.Repeat([]byte{0xee}, n+3)
			if next := maskCopy(dst, b, key, pos); next != (pos+n)%4 || !bytes.Equal(dst[:n], want) || !bytes.Equal(dst[n:], []byte{0xee, 0xee, 0xee}) {
				t.Errorf("maskCopy(len %d, pos %d) = %x next %d, want %x next %d", n, pos, dst, next, want, (pos+n)%4)
			}
			if next := maskBytes(key, pos, b); next != (pos+n)%4 || !bytes.Equal(b, want) {
				t.Errorf("maskBytes(len %d, pos %d) = %x next %d, want %x next %d", n, pos, b, next, want, (pos+n)%4)
			}
		}
	}
}

// TestWriteKeepsCallerBytes checks that Write never modifies the data it is
// given: it aliases the caller's packet buffer.
func TestWriteKeepsCallerBytes(t *testing.T) {
	for _, cfg := range []Config{{Client: true, MaxPayload: -1}, {Client: true, Deflate: true, MaxPayload: 10}} {
		wire := mixedTraffic(40)
		z := deflateMessages(t, [][]byte{[]byte("compressed compressed")}, true)
		wire = append(wire, encode(frameSpec{fin: true, rsv: RSV1, op: OpText, masked: true, mask: testMask, payload: z[0]})...)
		orig := bytes.Clone(wire)
		s := NewStream(cfg, &nopHandler{})
		feed(s, wire, 1, 3000, 1)
		if !bytes.Equal(wire, orig) {
			t.Errorf("Write(%+v) modified the caller's bytes", cfg)
		}
	}
}

// TestReset checks that a reused Stream decodes like a new one.
func TestReset(t *testing.T) {
	a := cat(cf(false, OpText, "left "), cf(true, OpPing, "x")) // unfinished
	b := cat(sf(true, OpText, "fresh"), sf(true, OpClose, closeBody(1000, "")))
	r := &recorder{}
	s := NewStream(client, r)
	s.Write(a, 1)
	s.Reset(server)
	r.msgs, r.frames, r.order = nil, nil, nil
	s.Write(b, 2)
	fresh := decode(server, b)
	if got, want := msgOps(r), msgOps(fresh); got != want {
		t.Errorf("Decode after Reset = %s, want %s", got, want)
	}
}

// keeper is a Handler that keeps the Payloads longer than OwnedPayload as
// given, without copying them, and a copy of each beside them.
type keeper struct {
	kept, copies [][]byte
}

func (k *keeper) Frame(*Frame) {}

func (k *keeper) Message(m *Message) {
	if len(m.Payload) > OwnedPayload {
		k.kept = append(k.kept, m.Payload)
		k.copies = append(k.copies, bytes.Clone(m.Payload))
	}
}

// TestOwnedPayload checks that a Payload longer than OwnedPayload is never
// written to again by its Stream, nor by another Stream of the same
// Shared: analyze's DecodeJSON writes it after the callback. Messages of
// every kind follow, plain and compressed, large and small, kept whole.
func TestOwnedPayload(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	big := func(n int) []byte {
		p := make([]byte, n)
		for i := range p {
			p[i] = "abcdefgh"[rng.Intn(8)]
		}
		return p
	}
	msgs := [][]byte{big(OwnedPayload + 1), big(3 * OwnedPayload), []byte("small"), big(OwnedPayload + 5000), big(100), big(2 * OwnedPayload)}
	z := deflateMessages(t, msgs, true)
	var plain, compressed []byte
	for i, m := range msgs {
		plain = cat(plain, encode(frameSpec{fin: true, op: OpBinary, payload: m}))
		compressed = cat(compressed, zbinary(z[i]))
	}
	k := &keeper{}
	sh := NewShared(0)
	a := NewStream(Config{MaxPayload: -1, Shared: sh}, k)
	b := NewStream(Config{Deflate: true, MaxPayload: -1, Shared: sh}, k)
	for i := 0; i < 2; i++ {
		feed(a, plain, int64(i), 5000, 1)
		feed(b, compressed, int64(i), 5000, 1)
	}
	if len(k.kept) != 16 {
		t.Fatalf("kept %d payloads longer than OwnedPayload, want 16", len(k.kept))
	}
	for i := range k.kept {
		if !bytes.Equal(k.kept[i], k.copies[i]) {
			t.Errorf("payload %d (%d bytes) was written to after its callback", i, len(k.kept[i]))
		}
	}
}

// TestPacketsAnyOrder: whatever numbers the packets carrying a run of
// messages have (increasing, reordered, repeated, as reassembly can hand
// them over), each message lists, in order, the first occurrence of every
// packet that carried a byte of its frames, and nothing else.
func TestPacketsAnyOrder(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for trial := range 500 {
		// Messages of one to three frames, with their wire ranges.
		var wire []byte
		var ranges [][2]int
		for range 1 + rng.Intn(5) {
			start := len(wire)
			frames := 1 + rng.Intn(3)
			for f := range frames {
				op := byte(OpContinuation)
				if f == 0 {
					op = OpBinary
				}
				wire = append(wire, sf(f == frames-1, op, strings.Repeat("x", rng.Intn(300)))...)
			}
			ranges = append(ranges, [2]int{start, len(wire)})
		}
		// Pieces of any size with any packet numbers, some repeated.
		type piece struct {
			from, to int
			pkt      int64
		}
		var pieces []piece
		for at := 0; at < len(wire); {
			n := min(len(wire)-at, 1+rng.Intn(1+rng.Intn(100)))
			pkt := int64(1 + rng.Intn(40))
			if trial%5 == 0 {
				pkt = int64(len(pieces) + 1) // increasing, the usual case
			}
			pieces = append(pieces, piece{at, at + n, pkt})
			at += n
		}
		r := &recorder{}
		s := NewStream(server, r)
		for _, p := range pieces {
			s.Write(wire[p.from:p.to], p.pkt)
		}
		if len(r.msgs) != len(ranges) {
			t.Fatalf("trial %d: %d messages, want %d", trial, len(r.msgs), len(ranges))
		}
		for i, rg := range ranges {
			var want []int64
			for _, p := range pieces {
				if p.from < rg[1] && p.to > rg[0] && !slices.Contains(want, p.pkt) {
					want = append(want, p.pkt)
				}
			}
			if got := r.msgs[i].Packets; !slices.Equal(got, want) {
				t.Fatalf("trial %d, message %d: Packets = %v, want %v", trial, i, got, want)
			}
		}
	}
}
