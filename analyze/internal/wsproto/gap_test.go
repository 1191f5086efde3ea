package wsproto

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// step is one call on a Stream: a Write of data, or a Gap of gap bytes.
type step struct {
	data []byte
	gap  int64
}

func run(cfg Config, steps ...step) (*recorder, *Stream) {
	r := &recorder{}
	s := NewStream(cfg, r)
	for i, st := range steps {
		if st.gap > 0 {
			s.Gap(st.gap, int64(i+1))
		} else {
			s.Write(st.data, int64(i+1))
		}
	}
	return r, s
}

func w(b []byte) step  { return step{data: b} }
func gap(n int64) step { return step{gap: n} }
func msgOps(r *recorder) string {
	var b strings.Builder
	for _, m := range r.msgs {
		fmt.Fprintf(&b, "[%d %d/%d %q %v %v]", m.Opcode, len(m.Payload), m.Len, m.Payload, m.Truncated, codes(m.Problems))
	}
	return b.String()
}

func TestGapInsidePayload(t *testing.T) {
	// A masked text frame of 2+4+100 bytes: the gap of 3 bytes (not a
	// multiple of 4) is inside its payload; the text after it holds
	// multi-byte code points, so a wrong mask offset would show as invalid
	// UTF-8.
	text := strings.Repeat("€é", 20) // 100 bytes
	a := cf(true, OpText, text)
	next := cf(true, OpBinary, "next")
	r, s := run(client, w(a[:6+10]), gap(3), w(a[6+13:]), w(next))
	if !s.Synced() {
		t.Fatalf("Synced() = false after a gap inside a payload")
	}
	if len(r.msgs) != 2 {
		t.Fatalf("Decode = %s, want 2 messages", msgOps(r))
	}
	m := r.msgs[0]
	if m.Len != 100 || m.WireLen != 100 || string(m.Payload) != text[:10] || !m.Truncated ||
		!slices.Equal(codes(m.Problems), []string{CodeGap}) || !strings.Contains(m.Problems[0].Msg, "3 bytes") {
		t.Errorf("message with gap = Len %d WireLen %d Payload %q Truncated %v Problems %v, want 100 100 %q true [tcp.gap: 3 bytes]",
			m.Len, m.WireLen, m.Payload, m.Truncated, m.Problems, text[:10])
	}
	if got := r.msgs[1]; string(got.Payload) != "next" || got.Truncated || len(got.Problems) != 0 {
		t.Errorf("message after gap = %s, want clean \"next\"", msgOps(r))
	}
	if !slices.Equal(r.msgs[0].Packets, []int64{1, 3}) {
		t.Errorf("Packets = %v, want [1 3]", r.msgs[0].Packets)
	}
}

func TestGapToFrameEnd(t *testing.T) {
	a := sf(false, OpBinary, "0123456789")
	b := sf(true, OpContinuation, "abc")
	r, s := run(server, w(a[:5]), gap(7), w(b))
	if !s.Synced() || len(r.msgs) != 1 {
		t.Fatalf("Decode = %s synced %v, want one message, synced", msgOps(r), s.Synced())
	}
	m := r.msgs[0]
	if m.Len != 13 || string(m.Payload) != "012" || !m.Truncated || m.Frames != 2 {
		t.Errorf("Decode = %s frames %d, want Len 13, \"012\", truncated, 2 frames", msgOps(r), m.Frames)
	}
}

func TestGapLosesSync(t *testing.T) {
	a := sf(false, OpText, "hello ")
	b := sf(true, OpContinuation, "world")
	c := sf(true, OpText, "again")
	tests := []struct {
		name  string
		steps []step
		want  string
	}{
		{"gap over a header", []step{w(a), gap(int64(len(b))), w(b[3:]), w(c)},
			`[1 6/6 "hello " true [tcp.gap]][1 5/5 "again" false []]`},
		{"gap past the frame end", []step{w(a[:4]), gap(10), w([]byte("junk")), w(c)},
			`[1 2/2 "he" true [tcp.gap]][1 5/5 "again" false []]`},
		{"gap inside a header", []step{w(a), w(b[:1]), gap(2), w(c)},
			`[1 6/6 "hello " true [tcp.gap]][1 5/5 "again" false []]`},
		// Probe refuses a continuation first, so resync waits for the
		// next whole message.
		{"continuation after resync", []step{w(a), gap(1), w(b), w(c)},
			`[1 6/6 "hello " true [tcp.gap]][1 5/5 "again" false []]`},
		{"gap while lost", []step{w(a), gap(1), gap(5), w([]byte{0xff, 0xff}), w(c)},
			`[1 6/6 "hello " true [tcp.gap]][1 5/5 "again" false []]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, s := run(server, tc.steps...)
			if got := msgOps(r); got != tc.want {
				t.Errorf("Decode = %s, want %s", got, tc.want)
			}
			if !s.Synced() {
				t.Errorf("Synced() = false at the end, want true")
			}
		})
	}
	// After a length overflow nothing more is decoded: not the rest of
	// the Write, not later Writes that start with frames, not a gap.
	for _, steps := range [][]step{
		{w(a), w(cat([]byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}, c)), w(c), gap(3), w(c)},
		{w(a), w([]byte{0x82, 0x7f, 0x80}), w([]byte{0, 0, 0, 0, 0, 0, 0, 'x'}), w(c), w(c)},
	} {
		r, s := run(server, steps...)
		if got, want := msgOps(r), `[1 6/6 "hello " true [ws.incomplete]]`; got != want {
			t.Errorf("Decode after a length overflow = %s, want %s", got, want)
		}
		if len(r.frames) != 2 {
			t.Errorf("frames after a length overflow = %d, want 2 (the message's and the overflowing one)", len(r.frames))
		}
		if s.Synced() || !s.Stopped() {
			t.Errorf("after a length overflow Synced() = %v, Stopped() = %v, want false, true", s.Synced(), s.Stopped())
		}
		s.End(99)
		if s.Stopped() {
			t.Errorf("Stopped() = true after End, want false (End resets)")
		}
	}

	// Until a Write starts with frames, Synced is false.
	_, s := run(server, w(a), gap(1), w([]byte("not a frame at all")))
	if s.Synced() {
		t.Errorf("Synced() = true after a gap and junk, want false")
	}
}

// TestGapTextCodePoint checks that a code point cut by a gap is not an
// invalid_utf8 problem.
func TestGapTextCodePoint(t *testing.T) {
	text := "ab€€€cd" // € is 3 bytes
	a := sf(true, OpText, text)
	r, _ := run(server, w(a[:2+3]), gap(2), w(a[2+5:]))
	if len(r.msgs) != 1 || hasCode(r.msgs[0].Problems, CodeInvalidUTF8) {
		t.Errorf("Decode = %s, want one message without invalid_utf8", msgOps(r))
	}
}

// TestGapCompressed checks that a compressed message with lost bytes is not
// inflated, and that a later message referring to it is reported as
// missing history, never with wrong bytes.
func TestGapCompressed(t *testing.T) {
	m1 := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog. "), 50)
	m2 := m1[:400] // only back-references into m1
	z := deflateMessages(t, [][]byte{m1, m2}, true)
	f1 := encode(frameSpec{fin: true, rsv: RSV1, op: OpText, payload: z[0]})
	f2 := encode(frameSpec{fin: true, rsv: RSV1, op: OpText, payload: z[1]})
	r, _ := run(serverDeflate, w(f1[:6]), gap(2), w(f1[8:]), w(f2))
	if len(r.msgs) != 2 {
		t.Fatalf("Decode = %s, want 2 messages", msgOps(r))
	}
	if m := r.msgs[0]; !m.Truncated || !m.Undecodable || m.Len != 0 || m.WireLen != int64(len(z[0])) || len(m.Payload) != 0 || !slices.Equal(codes(m.Problems), []string{CodeGap}) {
		t.Errorf("message with gap = %s (undecodable %v, wire %d), want truncated, undecodable, empty, its wire length, [tcp.gap]", msgOps(r), m.Undecodable, m.WireLen)
	}
	if m := r.msgs[1]; !m.Truncated || !m.Undecodable || len(m.Payload) != 0 || !slices.Equal(codes(m.Problems), []string{CodeDeflateMissingHistory}) {
		t.Errorf("message after = %s, want truncated, undecodable, empty, [ws.deflate_missing_history]", msgOps(r))
	}
	// A message whose start was lost under permessage-deflate: it may be
	// compressed, so none of it can be known.
	r, _ = run(Config{Deflate: true, MaxPayload: -1, Midstream: true}, w(encode(frameSpec{fin: true, op: OpContinuation, payload: []byte("tail")})))
	if len(r.msgs) != 1 || !r.msgs[0].Undecodable || r.msgs[0].WireLen != 4 {
		t.Errorf("continuation of a message not captured, with deflate = %s, want one undecodable message of 4 wire bytes", msgOps(r))
	}
}
