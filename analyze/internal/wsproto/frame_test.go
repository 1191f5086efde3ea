package wsproto

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"slices"
	"testing"
)

var (
	client        = Config{Client: true, MaxPayload: -1}
	server        = Config{MaxPayload: -1}
	clientDeflate = Config{Client: true, Deflate: true, MaxPayload: -1}
	serverDeflate = Config{Deflate: true, MaxPayload: -1}
)

// TestHeaderProblems checks that every violation in a header is reported on
// its frame, all of them, and that decoding goes on after it.
func TestHeaderProblems(t *testing.T) {
	long := string(bytes.Repeat([]byte("x"), 126))
	// nonMinimal16 is a server text frame of 5 bytes with a 16-bit length.
	nonMinimal16 := cat([]byte{finalBit | OpText, len16Marker, 0, 5}, []byte("hello"))
	nonMinimal64 := cat([]byte{finalBit | OpBinary, len64Marker, 0, 0, 0, 0, 0, 0, 0, 3}, []byte("abc"))
	nonMinimal64b := cat([]byte{finalBit | OpBinary, len64Marker, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, make([]byte, 0xffff))
	overflow := []byte{finalBit | OpBinary, len64Marker, 0x80, 0, 0, 0, 0, 0, 0, 1}

	tests := []struct {
		name   string
		cfg    Config
		in     []byte
		frames []string // problem codes per frame, "-" for none
		msgs   int      // messages delivered
		synced bool
	}{
		{"valid client text", client, cf(true, OpText, "hi"), []string{"-"}, 1, true},
		{"valid server binary", server, sf(true, OpBinary, "hi"), []string{"-"}, 1, true},
		{"unmasked client frame", client, sf(true, OpText, "hi"), []string{CodeUnmaskedClientFrame}, 1, true},
		{"masked server frame", server, cf(true, OpText, "hi"), []string{CodeMaskedServerFrame}, 1, true},
		{"reserved opcode 3 then valid", server, cat(sf(true, 0x3, "abc"), sf(true, OpText, "ok")),
			[]string{CodeReservedOpcode, "-"}, 1, true},
		{"reserved opcode 7", server, sf(true, 0x7, ""), []string{CodeReservedOpcode}, 0, true},
		{"reserved opcode 0xB", server, sf(true, 0xB, "x"), []string{CodeReservedOpcode}, 0, true},
		{"reserved opcode 0xF", client, cf(true, 0xF, "x"), []string{CodeReservedOpcode}, 0, true},
		{"RSV2", server, encode(frameSpec{fin: true, rsv: RSV2, op: OpText, payload: []byte("a")}),
			[]string{CodeReservedBits}, 1, true},
		{"RSV3 with deflate", serverDeflate, encode(frameSpec{fin: true, rsv: RSV3, op: OpBinary}),
			[]string{CodeReservedBits}, 1, true},
		{"RSV1 without deflate", server, encode(frameSpec{fin: true, rsv: RSV1, op: OpText, payload: []byte("a")}),
			[]string{CodeReservedBits}, 1, true},
		{"RSV1 on continuation", serverDeflate, cat(
			encode(frameSpec{rsv: RSV1, op: OpText, payload: []byte{0x4a, 0x04}}),
			encode(frameSpec{fin: true, rsv: RSV1, op: OpContinuation, payload: []byte{0x00}})),
			[]string{"-", CodeReservedBits}, 1, true},
		{"RSV1 on control", serverDeflate, encode(frameSpec{fin: true, rsv: RSV1, op: OpPing}),
			[]string{CodeReservedBits}, 1, true},
		{"RSV1 RSV2 RSV3 without deflate", server, encode(frameSpec{fin: true, rsv: 7, op: OpBinary}),
			[]string{CodeReservedBits + "," + CodeReservedBits}, 1, true},
		{"control frame too long", server, sf(true, OpPing, long), []string{CodeControlFrameTooLong}, 1, true},
		{"fragmented control frame", server, sf(false, OpPong, "p"), []string{CodeFragmentedControlFrame}, 1, true},
		{"unexpected continuation", server, cat(sf(true, OpContinuation, "abc"), sf(true, OpText, "ok")),
			[]string{CodeUnexpectedContinuation, "-"}, 1, true},
		{"data frame interrupted", server, cat(sf(false, OpText, "ab"), sf(true, OpBinary, "cd")),
			[]string{"-", CodeDataFrameInterrupted}, 2, true},
		{"non-minimal 16-bit length", server, nonMinimal16, []string{CodeNonMinimalLength}, 1, true},
		{"non-minimal 64-bit length", server, nonMinimal64, []string{CodeNonMinimalLength}, 1, true},
		{"non-minimal 64-bit length 65535", server, nonMinimal64b, []string{CodeNonMinimalLength}, 1, true},
		{"length overflow stops decoding", server, cat(overflow, sf(true, OpText, "never")),
			[]string{CodeLengthOverflow}, 0, false},
		{"every problem at once", client,
			cat([]byte{finalBit | rsv2Bit | rsv1Bit | 0x5, len16Marker, 0, 1}, []byte("z")),
			[]string{CodeUnmaskedClientFrame + "," + CodeReservedOpcode + "," + CodeReservedBits + "," + CodeReservedBits + "," + CodeNonMinimalLength},
			0, true},
		{"control: too long, fragmented, masked", server,
			encode(frameSpec{op: OpClose, masked: true, mask: testMask, payload: []byte(long)}),
			[]string{CodeMaskedServerFrame + "," + CodeControlFrameTooLong + "," + CodeFragmentedControlFrame}, 1, true},
		{"control non-minimal length not too long", server, cat([]byte{finalBit | OpPing, len16Marker, 0, 2}, []byte("hi")),
			[]string{CodeNonMinimalLength}, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, mode := range []string{"whole", "bytewise"} {
				r := &recorder{}
				s := NewStream(tc.cfg, r)
				if mode == "whole" {
					s.Write(tc.in, 1)
				} else {
					feedBytes(s, tc.in)
				}
				if got := r.frameCodes(); !slices.Equal(got, tc.frames) {
					t.Errorf("%s: Decode(%q) frames = %v, want %v", mode, tc.in, got, tc.frames)
				}
				if len(r.msgs) != tc.msgs {
					t.Errorf("%s: Decode(%q) = %d messages, want %d", mode, tc.in, len(r.msgs), tc.msgs)
				}
				if s.Synced() != tc.synced {
					t.Errorf("%s: Decode(%q) Synced() = %v, want %v", mode, tc.in, s.Synced(), tc.synced)
				}
			}
		})
	}
}

// TestHeaderFields checks the decoded fields for each length form.
func TestHeaderFields(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536} {
		for _, masked := range []bool{false, true} {
			t.Run(fmt.Sprintf("len%d/masked=%v", n, masked), func(t *testing.T) {
				payload := bytes.Repeat([]byte{0xa5}, n)
				in := encode(frameSpec{fin: true, op: OpBinary, masked: masked, mask: testMask, payload: payload})
				r := decode(Config{Client: masked, MaxPayload: -1}, in)
				if len(r.frames) != 1 {
					t.Fatalf("Decode = %d frames, want 1", len(r.frames))
				}
				f := r.frames[0]
				wantHL := 2 + map[bool]int{false: 0, true: 4}[masked]
				switch {
				case n > 0xffff:
					wantHL += 8
				case n >= 126:
					wantHL += 2
				}
				want := Frame{Fin: true, Opcode: OpBinary, Masked: masked, Len: uint64(n), HeaderLen: wantHL, Header: in[:wantHL]}
				if masked {
					want.Mask = testMask
				}
				f.Problems = nil
				if fmt.Sprint(f) != fmt.Sprint(want) {
					t.Errorf("Decode frame = %+v, want %+v", f, want)
				}
				if len(r.msgs) != 1 || !bytes.Equal(r.msgs[0].Payload, payload) {
					t.Errorf("Decode payload differs from the %d bytes sent", n)
				}
			})
		}
	}
}

// TestHugeFrameNoAllocation checks that a frame claiming 2^62 bytes is only
// counted down: nothing is allocated for it.
func TestHugeFrameNoAllocation(t *testing.T) {
	hdr := []byte{OpBinary, len64Marker}
	hdr = binary.BigEndian.AppendUint64(hdr, 1<<62)
	r := &recorder{}
	s := NewStream(Config{MaxPayload: 1024}, r)
	chunk := make([]byte, 64<<10)
	s.Write(hdr, 1)
	allocs := testing.AllocsPerRun(100, func() { s.Write(chunk, 2) })
	if allocs != 0 {
		t.Errorf("Write of payload of a 2^62 frame: %v allocs, want 0", allocs)
	}
	if len(r.frames) != 0 {
		t.Fatalf("Decode(2^62 header, part of its payload) = %+v, want no frame before its last byte", r.frames)
	}
	s.End(3)
	// A frame cut short by the end of the stream is still reported.
	if len(r.frames) != 1 || r.frames[0].Len != 1<<62 || len(r.frames[0].Problems) != 0 {
		t.Fatalf("Decode(2^62 header) then End = %+v, want one clean frame of 2^62", r.frames)
	}
	if len(r.msgs) != 1 || !hasCode(r.msgs[0].Problems, CodeIncomplete) || !r.msgs[0].Truncated || len(r.msgs[0].Payload) != 1024 {
		t.Errorf("End after partial 2^62 frame = %+v, want one truncated incomplete message with 1024 bytes kept", r.msgs)
	}
}

func TestProbe(t *testing.T) {
	text := cf(true, OpText, "hello")
	tests := []struct {
		name   string
		in     []byte
		client bool
		want   bool
	}{
		{"client text", text, true, true},
		{"client text as server", text, false, false},
		{"server frames", cat(sf(true, OpText, "a"), sf(true, OpPing, ""), sf(true, OpBinary, "xyz")), false, true},
		{"server frame as client", sf(true, OpText, "a"), true, false},
		{"final partial frame", cat(text, cf(true, OpBinary, "0123456789")[:8]), true, true},
		{"final partial header", cat(text, cf(true, OpBinary, "0123456789")[:1]), true, true},
		{"final partial header bad", cat(text, []byte{0x73}), true, false},
		{"only a partial header", cf(true, OpText, "hello")[:3], true, false},
		{"empty", nil, true, false},
		// A continuation, or an unfinished fragment, first is refused: it is
		// what other protocols' length prefixes look like (DNS, SMB, Modbus).
		{"continuation first", cat(sf(true, OpContinuation, "tail"), sf(true, OpText, "x")), false, false},
		{"unfinished fragment first", cat(sf(false, OpBinary, "ab"), sf(true, OpContinuation, "x")), false, false},
		{"continuation without message", cat(sf(true, OpText, "x"), sf(true, OpContinuation, "tail")), false, false},
		{"interrupted", cat(sf(false, OpText, "x"), sf(true, OpText, "y")), false, false},
		{"compressed", encode(frameSpec{fin: true, rsv: RSV1, op: OpText, payload: []byte{0xf2, 0x48, 0x05, 0x00}}), false, true},
		{"RSV2", encode(frameSpec{fin: true, rsv: RSV2, op: OpText}), false, false},
		{"reserved opcode", sf(true, 0x3, ""), false, false},
		{"ping too long", sf(true, OpPing, string(make([]byte, 126))), false, false},
		{"ping without FIN", sf(false, OpPing, ""), false, false},
		{"close of 1 byte", sf(true, OpClose, "x"), false, false},
		{"invalid UTF-8 text", sf(true, OpText, "\xff\xfe"), false, false},
		{"invalid UTF-8 text fragment", sf(false, OpText, "ok\xc0"), false, false},
		{"invalid UTF-8 partial text", sf(true, OpText, "ab\xffcdefgh")[:5], false, false},
		{"UTF-8 cut at fragment end", cat(sf(true, OpPing, ""), sf(false, OpText, "\xe2\x82")), false, true},
		{"non-minimal", cat([]byte{finalBit | OpText, len16Marker, 0, 1}, []byte("a")), false, false},
		{"HTTP request", []byte("GET /chat HTTP/1.1\r\nHost: example.com\r\n\r\n"), true, false},
		{"HTTP response", []byte("HTTP/1.1 101 Switching Protocols\r\n\r\n"), false, false},
		{"TLS handshake", []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}, false, false},
		{"TLS application data", []byte{0x17, 0x03, 0x03, 0x00, 0x20, 0xaa, 0xbb}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Probe(tc.in, tc.client); got != tc.want {
				t.Errorf("Probe(%q, %v) = %v, want %v", tc.in, tc.client, got, tc.want)
			}
		})
	}
}

// TestProbeRandom checks that random bytes are rejected (for either side)
// nearly always: a false match would resync a stream at a wrong offset. One
// header is only a few bits of evidence: a buffer that starts with a valid
// binary header with a 16-bit length longer than the buffer passes, about
// once in 10^4.
func TestProbeRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	matches := 0
	const runs = 20000
	for i := range runs {
		buf := make([]byte, 100+i%1400)
		rng.Read(buf)
		if Probe(buf, true) || Probe(buf, false) {
			matches++
		}
	}
	if matches > runs/2000 {
		t.Errorf("Probe(random bytes) matched %d of %d times, want at most %d", matches, runs, runs/2000)
	}
}

// TestHeaderBytes checks that Frame.Header is the header exactly as sent,
// non-minimal lengths included, whole or a byte per Write.
func TestHeaderBytes(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		wire []byte
		hlen int
	}{
		{"7-bit", server, []byte{0x82, 0x03, 'a', 'b', 'c'}, 2},
		{"16-bit, non-minimal", server, []byte{0x82, 0x7e, 0x00, 0x03, 'a', 'b', 'c'}, 4},
		{"64-bit, non-minimal", server, []byte{0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0x03, 'a', 'b', 'c'}, 10},
		{"masked 16-bit", Config{Client: true}, []byte{0x81, 0xfe, 0x00, 0x01, 1, 2, 3, 4, 'a' ^ 1}, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, bytewise := range []bool{false, true} {
				r := &recorder{}
				s := NewStream(tc.cfg, r)
				if bytewise {
					feedBytes(s, tc.wire)
				} else {
					s.Write(tc.wire, 1)
				}
				if len(r.frames) != 1 {
					t.Fatalf("Decode(%x) = %d frames, want 1", tc.wire, len(r.frames))
				}
				if got := r.frames[0].Header; !bytes.Equal(got, tc.wire[:tc.hlen]) {
					t.Errorf("Decode(%x) bytewise=%v: Header = %x, want %x", tc.wire, bytewise, got, tc.wire[:tc.hlen])
				}
			}
		})
	}
}
