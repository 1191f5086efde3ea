package wsproto

import (
	"bytes"
	"fmt"
	"math/rand"
	"runtime"
	"slices"
	"testing"

	"github.com/wsviz/wsviz/internal/bomb"
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
			[]result{ok(m1), {[]byte{}, []string{CodeDeflateContext}}}},
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
				if want := slices.Contains(w.problems, CodeDeflateMissingHistory) || slices.Contains(w.problems, CodeDeflateContext); m.Undecodable != want || (want && (m.Len != 0 || len(m.Payload) != 0 || m.WireLen == 0)) {
					t.Errorf("message %d: Undecodable = %v, Len %d, payload %d bytes, WireLen %d; want Undecodable %v, and no length or payload but the wire length when undecodable",
						i, m.Undecodable, m.Len, len(m.Payload), m.WireLen, want)
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

// TestDecompressionLimitExact inflates messages of MaxMessage-1,
// MaxMessage and MaxMessage+1 bytes, ending in a match or in a run of
// literals, with MaxMessage around the end of the inflater's window: a
// message up to the limit is whole, one byte more is cut at the limit.
func TestDecompressionLimitExact(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for _, limit := range []int{100, 64<<10 - 266, 64<<10 - 8, 64 << 10, 64<<10 + 1} {
		for _, end := range []string{"match", "literals"} {
			for _, n := range []int{limit - 1, limit, limit + 1} {
				p := make([]byte, n)
				for k := range p {
					p[k] = byte('a' + rng.Intn(3))
				}
				if end == "match" {
					copy(p[n-40:], p[:40])
				} else {
					rng.Read(p[n-40:])
				}
				z := deflateMessages(t, [][]byte{p}, false)
				cfg := Config{Deflate: true, NoContextTakeover: true, MaxPayload: -1, MaxMessage: int64(limit)}
				r := decode(cfg, zbinary(z[0]))
				if len(r.msgs) != 1 {
					t.Fatalf("limit %d, %d bytes ending in %s: Decode = %s, want 1 message", limit, n, end, msgOps(r))
				}
				m := r.msgs[0]
				want, truncated, problems := p, false, []string(nil)
				if n > limit {
					want, truncated, problems = p[:limit], true, []string{CodeDecompressionLimit}
				}
				if m.Len != int64(len(want)) || m.Truncated != truncated || !bytes.Equal(m.Payload, want) || !slices.Equal(codes(m.Problems), problems) {
					t.Errorf("limit %d, %d bytes ending in %s: Len %d, Truncated %v, problems %v; want %d, %v, %v",
						limit, n, end, m.Len, m.Truncated, codes(m.Problems), len(want), truncated, problems)
				}
			}
		}
	}
}

// TestDeflateBomb inflates 1 GiB of zeros with a 16 MiB limit: it must stop
// at the limit and allocate little beyond the compressed bytes it buffers.
func TestDeflateBomb(t *testing.T) {
	z := bomb.Zeros(1 << 30) // 1 GiB of zeros in about 1 MB
	wire := encode(frameSpec{fin: true, rsv: RSV1, op: OpBinary, masked: true, mask: testMask, payload: z})

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
	// The compressed bytes (about 1 MB) are buffered, growing by
	// doubling; the inflater, its window and the history are a few hundred
	// KiB. Nothing near the 16 MiB of output may be allocated.
	grown := after.TotalAlloc - before.TotalAlloc
	if max := uint64(4*len(z) + 1<<20); grown > max {
		t.Errorf("Decode(bomb of %d compressed bytes) allocated %d bytes, want at most %d", len(z), grown, max)
	}
	t.Logf("bomb: %d compressed bytes, %d bytes allocated while decoding", len(z), grown)
}

// TestSharedHistoryBound runs three compressing directions through one
// Shared that holds two histories: the third drops the history of the one
// that inflated least recently, whose next message, referring back, is
// reported as ws.deflate_history_limit; the others decode whole. Release
// gives every byte back.
func TestSharedHistoryBound(t *testing.T) {
	sh := NewShared(2 * 2 * histSize) // two directions' buffers
	var recs [3]recorder
	var streams [3]*Stream
	var msgs [3][][]byte
	var wire [3][][]byte
	for i := range streams {
		cfg := serverDeflate
		cfg.Shared = sh
		streams[i] = NewStream(cfg, &recs[i])
		m1 := bytes.Repeat([]byte(fmt.Sprintf("direction %d says the same thing again and again. ", i)), 30)
		m2 := slices.Concat(m1[200:400], []byte("refers back"))
		msgs[i] = [][]byte{m1, m2}
		for _, z := range deflateMessages(t, msgs[i], true) {
			wire[i] = append(wire[i], zbinary(z))
		}
	}
	// First messages in order 0, 1, 2: the third history evicts 0's.
	for i := range streams {
		streams[i].Write(wire[i][0], int64(i+1))
		if got := sh.HistoryBytes(); got > 2*2*histSize {
			t.Fatalf("after direction %d: HistoryBytes = %d, want at most %d", i, got, 2*2*histSize)
		}
	}
	// Second messages: 2 and 1 still have their history, 0 lost it.
	for _, i := range []int{2, 1, 0} {
		streams[i].Write(wire[i][1], int64(10+i))
	}
	for i, r := range recs {
		if len(r.msgs) != 2 {
			t.Fatalf("direction %d: %d messages, want 2", i, len(r.msgs))
		}
		if !bytes.Equal(r.msgs[0].Payload, msgs[i][0]) || len(r.msgs[0].Problems) != 0 {
			t.Errorf("direction %d message 1 = %d bytes %v, want it whole", i, len(r.msgs[0].Payload), codes(r.msgs[0].Problems))
		}
		second := r.msgs[1]
		if i == 0 {
			if !hasCode(second.Problems, CodeDeflateHistoryLimit) || !second.Truncated || len(second.Payload) != 0 {
				t.Errorf("direction 0 message 2: problems %v, truncated %v, %d bytes; want %s and nothing shown",
					codes(second.Problems), second.Truncated, len(second.Payload), CodeDeflateHistoryLimit)
			}
		} else if !bytes.Equal(second.Payload, msgs[i][1]) || len(second.Problems) != 0 {
			t.Errorf("direction %d message 2 = %q %v, want %q", i, second.Payload, codes(second.Problems), msgs[i][1])
		}
	}
	for _, s := range streams {
		s.Release()
	}
	if got := sh.HistoryBytes(); got != 0 {
		t.Errorf("HistoryBytes after Release = %d, want 0", got)
	}
}

// TestSharedBuffersNotMixed decodes interleaved messages of many streams
// through one Shared, whose scratch and spare buffers they all use, and
// checks each stream gets exactly its own payloads.
func TestSharedBuffersNotMixed(t *testing.T) {
	sh := NewShared(0)
	rng := rand.New(rand.NewSource(9))
	const n = 20
	var recs [n]recorder
	var streams [n]*Stream
	var want [n][][]byte
	for i := range streams {
		cfg := Config{Client: i%2 == 0, MaxPayload: -1, Shared: sh}
		streams[i] = NewStream(cfg, &recs[i])
	}
	for round := range 30 {
		// Half of every stream's message, then the other halves: the
		// messages are in progress together.
		var rest [n][]byte
		for i, s := range streams {
			p := testPayload(rng, rng.Intn(20000), true)
			want[i] = append(want[i], p)
			spec := frameSpec{fin: true, op: OpText, payload: p}
			if i%2 == 0 {
				spec.masked, spec.mask = true, [4]byte{1, 2, byte(i), byte(round)}
			}
			w := encode(spec)
			s.Write(w[:len(w)/2], int64(round))
			rest[i] = w[len(w)/2:]
		}
		for i, s := range streams {
			s.Write(rest[i], int64(round))
		}
	}
	for i, r := range recs {
		if len(r.msgs) != len(want[i]) {
			t.Fatalf("stream %d: %d messages, want %d", i, len(r.msgs), len(want[i]))
		}
		for j, m := range r.msgs {
			if !bytes.Equal(m.Payload, want[i][j]) {
				t.Fatalf("stream %d message %d = %d bytes, want its own %d", i, j, len(m.Payload), len(want[i][j]))
			}
		}
	}
}
