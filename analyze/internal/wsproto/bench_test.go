package wsproto

import (
	"math/rand"
	"strings"
	"testing"
)

// nopHandler discards what it is given.
type nopHandler struct{ frames, msgs int }

func (h *nopHandler) Frame(*Frame)     { h.frames++ }
func (h *nopHandler) Message(*Message) { h.msgs++ }

// mixedTraffic is client traffic: small masked text frames (some of them
// fragmented, with pings in between) and 4 KiB binary frames.
func mixedTraffic(n int) []byte {
	rng := rand.New(rand.NewSource(1))
	var wire []byte
	for i := range n {
		key := [4]byte{byte(i), byte(i >> 8), 0x5a, 0xc3}
		switch i % 4 {
		case 0, 1:
			wire = append(wire, encode(frameSpec{fin: true, op: OpText, masked: true, mask: key,
				payload: testPayload(rng, 20+rng.Intn(100), true)})...)
		case 2:
			wire = append(wire, encode(frameSpec{fin: true, op: OpBinary, masked: true, mask: key,
				payload: testPayload(rng, 4096, false)})...)
		case 3:
			wire = append(wire, encode(frameSpec{op: OpText, masked: true, mask: key, payload: []byte(`{"type":"upd`)})...)
			wire = append(wire, encode(frameSpec{fin: true, op: OpPing, masked: true, mask: key, payload: []byte("hb")})...)
			wire = append(wire, encode(frameSpec{fin: true, op: OpContinuation, masked: true, mask: key, payload: []byte(`ate","v":1}`)})...)
		}
	}
	return wire
}

// writePackets writes wire in TCP-segment-sized pieces.
func writePackets(s *Stream, wire []byte) {
	pkt := int64(1)
	for len(wire) > 0 {
		n := min(len(wire), 1448)
		s.Write(wire[:n], pkt)
		wire = wire[n:]
		pkt++
	}
}

// compressedTraffic is server traffic of JSON-like messages compressed with
// context takeover.
func compressedTraffic(t testing.TB, n int) []byte {
	rng := rand.New(rand.NewSource(2))
	var msgs [][]byte
	for i := range n {
		msgs = append(msgs, []byte(`{"id":`+string(rune('0'+i%10))+`,"price":`+string(testPayload(rng, 8, true))+`,"status":"ok"}`))
	}
	var wire []byte
	for _, z := range deflateMessages(t, msgs, true) {
		wire = append(wire, encode(frameSpec{fin: true, rsv: RSV1, op: OpText, payload: z})...)
	}
	return wire
}

// TestSteadyStateAllocs checks that decoding allocates nothing once the
// buffers have grown: not per frame, not per Write, not per message.
func TestSteadyStateAllocs(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		wire []byte
	}{
		{"masked mixed", Config{Client: true, MaxPayload: 1024}, mixedTraffic(200)},
		{"masked mixed, keep all", Config{Client: true, MaxPayload: -1}, mixedTraffic(200)},
		{"deflate with takeover", Config{Deflate: true, MaxPayload: 1024}, compressedTraffic(t, 200)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &nopHandler{}
			s := NewStream(tc.cfg, h)
			writePackets(s, tc.wire) // grow the buffers
			allocs := testing.AllocsPerRun(20, func() { writePackets(s, tc.wire) })
			if allocs != 0 {
				t.Errorf("decoding %d bytes: %v allocs per run, want 0", len(tc.wire), allocs)
			}
			if h.msgs == 0 {
				t.Fatalf("no messages decoded")
			}
		})
	}
}

func BenchmarkStream(b *testing.B) {
	wire := mixedTraffic(1000)
	s := NewStream(Config{Client: true, MaxPayload: 1024}, &nopHandler{})
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		writePackets(s, wire)
	}
}

func BenchmarkStreamDeflate(b *testing.B) {
	wire := compressedTraffic(b, 1000)
	s := NewStream(Config{Deflate: true, MaxPayload: 1024}, &nopHandler{})
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		writePackets(s, wire)
	}
}

func BenchmarkMask(b *testing.B) {
	buf := make([]byte, 4096)
	key := [4]byte{1, 2, 3, 4}
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		maskBytes(key, 1, buf)
	}
}

// TestHistoryWindowsReused checks that the history buffers of Streams that
// are released go back to their Shared's pool and are used again: 200
// Streams inflating in turn, each released after its messages, hold one
// window at a time, so the pool never needs more than one mapping (or,
// off Linux, none).
func TestHistoryWindowsReused(t *testing.T) {
	wire := compressedTraffic(t, 20)
	sh := NewShared(0)
	for i := range 200 {
		h := &nopHandler{}
		s := NewStream(Config{Deflate: true, MaxPayload: 1024, Shared: sh}, h)
		writePackets(s, wire)
		if h.msgs != 20 {
			t.Fatalf("stream %d: %d messages, want 20", i, h.msgs)
		}
		if got := sh.HistoryBytes(); got != 2*histSize {
			t.Fatalf("stream %d: %d bytes of history held, want %d", i, got, 2*histSize)
		}
		s.Release()
		if got := sh.HistoryBytes(); got != 0 {
			t.Fatalf("stream %d released: %d bytes of history held, want 0", i, got)
		}
	}
	if n := len(sh.windows.mappings); n > 1 {
		t.Errorf("%d mappings of windows for one window in use at a time, want at most 1", n)
	}
}

// TestCompressedBuffersShared: Streams that take turns with compressed
// messages hold no buffer of compressed bytes between messages; the
// Shared's few spare buffers serve them all (releaseCompressed).
func TestCompressedBuffersShared(t *testing.T) {
	wire := compressedTraffic(t, 5)
	sh := NewShared(0)
	for i := range 100 {
		h := &nopHandler{}
		s := NewStream(Config{Deflate: true, MaxPayload: 1024, Shared: sh}, h)
		writePackets(s, wire)
		if h.msgs != 5 {
			t.Fatalf("stream %d: %d messages, want 5", i, h.msgs)
		}
		if s.zbuf != nil {
			t.Fatalf("stream %d: holds a buffer of %d bytes for compressed messages between messages", i, cap(s.zbuf))
		}
	}
	if n := len(sh.spare); n > 2 {
		t.Errorf("%d spare buffers for 100 Streams taking turns, want at most 2 (a message's payload and its compressed bytes)", n)
	}
}

// BenchmarkLongMessageReordered: one message of 100,000 packets whose
// first two came in the wrong order, as reassembly hands over a segment
// that filled a hole. Listing its packets searched the list at every
// packet once they were out of order: quadratic.
func BenchmarkLongMessageReordered(b *testing.B) {
	const pieces = 100_000
	wire := sf(true, OpBinary, strings.Repeat("x", 16*pieces))
	h := &nopHandler{}
	s := NewStream(server, h)
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < len(wire); i += 16 {
			pkt := int64(i/16 + 1)
			switch pkt {
			case 1:
				pkt = 2
			case 2:
				pkt = 1
			}
			s.Write(wire[i:min(i+16, len(wire))], pkt)
		}
	}
	if h.msgs != b.N {
		b.Fatalf("%d messages decoded in %d runs", h.msgs, b.N)
	}
}
