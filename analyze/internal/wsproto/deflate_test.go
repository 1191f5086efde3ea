package wsproto

import (
	"bytes"
	"compress/flate"
	"math/rand"
	"runtime"
	"slices"
	"testing"
)

// zframe is an unmasked compressed text frame.
func zframe(z []byte) []byte {
	return encode(frameSpec{fin: true, rsv: RSV1, op: OpText, payload: z})
}

// zbinary is an unmasked compressed binary frame.
func zbinary(z []byte) []byte {
	return encode(frameSpec{fin: true, rsv: RSV1, op: OpBinary, payload: z})
}

// TestDeflateHistory checks what happens to messages that refer to earlier
// ones when the history is complete, unknown (mid-stream) and regained.
func TestDeflateHistory(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	m1 := bytes.Repeat([]byte("permessage-deflate keeps its window between messages. "), 20)
	m2 := slices.Concat(m1[100:300], []byte("and new text"), m1[:50])
	m3 := testPayload(rng, 40<<10, true) // fresh bytes, more than a window
	m4 := slices.Concat(m3[len(m3)-2000:], m3[len(m3)-5000:len(m3)-4000])
	msgs := [][]byte{m1, m2, m3, m4}
	z := deflateMessages(t, msgs, true)
	wire := make([][]byte, len(z))
	for i := range z {
		wire[i] = zbinary(z[i])
	}

	type result struct {
		payload  []byte
		problems []string
	}
	ok := func(m []byte) result { return result{m, nil} }
	missing := result{[]byte{}, []string{CodeDeflateMissingHistory}}
	tests := []struct {
		name string
		cfg  Config
		wire [][]byte
		want []result
	}{
		{"full history", serverDeflate, wire, []result{ok(m1), ok(m2), ok(m3), ok(m4)}},
		{"midstream: missing, then regained", Config{Deflate: true, MaxPayload: -1, Midstream: true}, wire[1:],
			[]result{missing, ok(m3), ok(m4)}},
		{"takeover sent, no takeover told", Config{Deflate: true, NoContextTakeover: true, MaxPayload: -1}, wire[:2],
			[]result{ok(m1), {nil, []string{CodeDeflateError}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := decode(tc.cfg, slices.Concat(tc.wire...))
			if len(r.msgs) != len(tc.want) {
				t.Fatalf("Decode = %s, want %d messages", msgOps(r), len(tc.want))
			}
			for i, m := range r.msgs {
				w := tc.want[i]
				if !slices.Equal(codes(m.Problems), w.problems) {
					t.Errorf("message %d problems = %v, want %v", i, codes(m.Problems), w.problems)
				}
				if w.payload != nil && !bytes.Equal(m.Payload, w.payload) {
					t.Errorf("message %d payload = %d bytes %q..., want %d bytes", i, len(m.Payload), m.Payload[:min(20, len(m.Payload))], len(w.payload))
				}
				if len(w.problems) > 0 && !m.Truncated {
					t.Errorf("message %d with %v not Truncated", i, w.problems)
				}
				if !m.Compressed {
					t.Errorf("message %d not Compressed", i)
				}
			}
		})
	}
}

// TestDeflateMidstreamNoTakeover checks that without context takeover a
// mid-stream capture inflates every message.
func TestDeflateMidstreamNoTakeover(t *testing.T) {
	msgs := [][]byte{[]byte("hello hello hello"), []byte("hello again")}
	z := deflateMessages(t, msgs, false)
	r := decode(Config{Deflate: true, NoContextTakeover: true, Midstream: true, MaxPayload: -1}, cat(zframe(z[0]), zframe(z[1])))
	if got := msgOps(r); got != `[1 17/17 "hello hello hello" false []][1 11/11 "hello again" false []]` {
		t.Errorf("Decode = %s", got)
	}
}

// TestDeflateError checks that with full history a corrupt message is a
// deflate_error, keeping only the bytes inflated before the error, and the
// next message is missing history.
func TestDeflateError(t *testing.T) {
	msgs := [][]byte{[]byte("abcabcabcabc"), []byte("abcabc")}
	z := deflateMessages(t, msgs, true)
	corrupt := []byte{0xff, 0xff, 0xff} // BTYPE 11 is reserved (RFC 1951 §3.2.3)
	r := decode(serverDeflate, cat(zframe(corrupt), zframe(z[0]), zframe(z[1])))
	if len(r.msgs) != 3 {
		t.Fatalf("Decode = %s, want 3 messages", msgOps(r))
	}
	if m := r.msgs[0]; !slices.Equal(codes(m.Problems), []string{CodeDeflateError}) || !m.Truncated {
		t.Errorf("corrupt message = %s, want truncated [ws.deflate_error]", msgOps(r))
	}
	// z[0] refers to nothing before it: fine even with the history lost.
	if m := r.msgs[1]; string(m.Payload) != "abcabcabcabc" || len(m.Problems) != 0 {
		t.Errorf("self-contained message = %s", msgOps(r))
	}
	// z[1] refers to z[0], whose output is a correct (short) history.
	if m := r.msgs[2]; string(m.Payload) != "abcabc" || len(m.Problems) != 0 {
		t.Errorf("message referring to the one before = %s", msgOps(r))
	}
}

// TestDecompressionLimit checks the limit on inflated size and on buffered
// compressed bytes, and that the history is lost after it.
func TestDecompressionLimit(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 1000) // 10000 bytes
	after := big[:500]
	z := deflateMessages(t, [][]byte{big, after}, true)
	cfg := Config{Deflate: true, MaxPayload: 100, MaxMessage: 4096}
	r := decode(cfg, cat(zframe(z[0]), zframe(z[1])))
	if len(r.msgs) != 2 {
		t.Fatalf("Decode = %s, want 2 messages", msgOps(r))
	}
	if m := r.msgs[0]; m.Len != 4096 || !m.Truncated || !bytes.Equal(m.Payload, big[:100]) ||
		!slices.Equal(codes(m.Problems), []string{CodeDecompressionLimit}) {
		t.Errorf("over-limit message = %s, want Len 4096, truncated, [ws.decompression_limit]", msgOps(r))
	}
	if m := r.msgs[1]; !slices.Equal(codes(m.Problems), []string{CodeDeflateMissingHistory}) {
		t.Errorf("message after the limit = %s, want [ws.deflate_missing_history]", msgOps(r))
	}

	// Incompressible bytes: the compressed message itself is over the limit.
	rnd := make([]byte, 10000)
	rand.New(rand.NewSource(1)).Read(rnd)
	z = deflateMessages(t, [][]byte{rnd}, false)
	r = decode(Config{Deflate: true, NoContextTakeover: true, MaxPayload: -1, MaxMessage: 5000}, zframe(z[0]))
	if m := r.msgs[0]; !hasCode(m.Problems, CodeDecompressionLimit) || !m.Truncated || m.Len > 5000 ||
		!bytes.Equal(m.Payload, rnd[:len(m.Payload)]) {
		t.Errorf("over-limit compressed bytes = Len %d Truncated %v Problems %v, want <= 5000, truncated, limit, a correct prefix",
			m.Len, m.Truncated, codes(m.Problems))
	}
}

// TestDeflateBomb inflates 1 GiB of zeros with a 16 MiB limit: it must stop
// at the limit and allocate little beyond the compressed bytes it buffers.
func TestDeflateBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("compresses 1 GiB")
	}
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.BestSpeed)
	zeros := make([]byte, 1<<20)
	for range 1024 {
		zw.Write(zeros)
	}
	zw.Flush()
	z := bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
	wire := encode(frameSpec{fin: true, rsv: RSV1, op: OpBinary, masked: true, mask: testMask, payload: z})
	zeros, buf = nil, bytes.Buffer{}

	const limit = 16 << 20
	r := &recorder{}
	s := NewStream(Config{Client: true, Deflate: true, MaxPayload: 1024, MaxMessage: limit}, r)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for len(wire) > 0 {
		n := min(len(wire), 1460)
		s.Write(wire[:n], 1)
		wire = wire[n:]
	}
	runtime.ReadMemStats(&after)
	if len(r.msgs) != 1 {
		t.Fatalf("Decode(bomb) = %d messages, want 1", len(r.msgs))
	}
	m := r.msgs[0]
	if m.Len != limit || !m.Truncated || !slices.Equal(codes(m.Problems), []string{CodeDecompressionLimit}) || len(m.Payload) != 1024 {
		t.Errorf("Decode(bomb) = Len %d Truncated %v Problems %v Payload %d, want %d true [ws.decompression_limit] 1024",
			m.Len, m.Truncated, codes(m.Problems), len(m.Payload), limit)
	}
	// The compressed bytes (about 1.3 MB) are buffered, growing by
	// doubling; the inflater, its window and the history are a few hundred
	// KiB. Nothing near the 16 MiB of output may be allocated.
	grown := after.TotalAlloc - before.TotalAlloc
	if max := uint64(4*len(z) + 1<<20); grown > max {
		t.Errorf("Decode(bomb of %d compressed bytes) allocated %d bytes, want at most %d", len(z), grown, max)
	}
	t.Logf("bomb: %d compressed bytes, %d bytes allocated while decoding", len(z), grown)
}
