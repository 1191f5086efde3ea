package wsproto

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// fuzzConfig derives a Config from the fuzzer's flag byte.
func fuzzConfig(flags uint8) Config {
	return Config{
		Client:            flags&1 != 0,
		Deflate:           flags&2 != 0,
		NoContextTakeover: flags&4 != 0,
		Midstream:         flags&8 != 0,
		MaxPayload:        []int{-1, 0, 7, 64}[flags>>4&3],
		// Every window the sender may agree to (8 counting as 9), with
		// the payload limits above: no flag bit is left.
		WindowBits: []int{15, 9, 12, 8}[flags>>4&3],
		MaxMessage: 1 << 16,
	}
}

// fuzzRecord decodes data, cut where cuts says (each byte of cuts is the
// size of the next Write, 0 meaning a Gap of 1..4 bytes when gaps is set;
// a byte of 128 or more also sends the packet numbers back by 3, as
// reassembly hands over bytes of packets out of order), and returns the
// callbacks as strings without packet numbers, and the first broken
// invariant (a packet listed twice among them).
func fuzzRecord(cfg Config, data, cuts []byte, gaps bool) (events []string, bad string) {
	r := &recorder{}
	s := NewStream(cfg, r)
	pkt := int64(1)
	for i := 0; len(data) > 0; i++ {
		n := len(data)
		if len(cuts) > 0 {
			c := int(cuts[i%len(cuts)])
			if c == 0 && gaps {
				g := int64(1 + i%4)
				s.Gap(g, pkt)
				data = data[min(len(data), int(g)):]
				pkt++
				continue
			}
			n = min(n, max(c, 1))
			if c >= 128 {
				pkt = max(1, pkt-3)
			}
		}
		s.Write(data[:n], pkt)
		data = data[n:]
		pkt++
	}
	s.End(pkt)
	fi, mi := 0, 0
	for _, o := range r.order {
		if o == 'F' {
			f := r.frames[fi]
			fi++
			if f.HeaderLen < 2 || f.HeaderLen > maxHeaderLen || len(f.Header) != f.HeaderLen {
				bad = fmt.Sprintf("HeaderLen %d, Header %x", f.HeaderLen, f.Header)
			}
			f.Problems = nil
			events = append(events, fmt.Sprintf("F%+v %v", f, codes(r.frames[fi-1].Problems)))
			continue
		}
		m := r.msgs[mi]
		mi++
		if b := checkInvariants(m, cfg); b != "" && bad == "" {
			bad = b
		}
		events = append(events, "M"+summary(m))
	}
	return events, bad
}

// FuzzFrame decodes arbitrary bytes, cut at arbitrary points, for both
// directions with and without deflate: it must not panic, every message
// must keep the invariants, and (without gaps, and before any length that
// loses the framing) the result must not depend on where the bytes were
// cut.
func FuzzFrame(f *testing.F) {
	f.Add([]byte("\x81\x05hello"), []byte{1}, uint8(0))
	f.Add(cf(true, OpText, "hello"), []byte{3, 1}, uint8(1))
	f.Add(cat(sf(false, OpText, "a\xe2"), sf(true, OpPing, "p"), sf(true, OpContinuation, "\x82\xac")), []byte{2, 5, 1}, uint8(0x10))
	f.Add(encode(frameSpec{fin: true, rsv: RSV1, op: OpText, payload: []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}}), []byte{4}, uint8(2))
	f.Add(sf(true, OpClose, closeBody(1000, "bye")), []byte{}, uint8(0x20))
	f.Add([]byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}, []byte{0}, uint8(0x40))
	// Packet numbers 1, 2, 1, ...: a packet comes back after another.
	f.Add(sf(true, OpBinary, strings.Repeat("0", 300)), []byte{136, 48}, uint8(0))
	f.Fuzz(func(t *testing.T, data, cuts []byte, flags uint8) {
		cfg := fuzzConfig(flags)
		gaps := flags&0x40 != 0
		whole, bad := fuzzRecord(cfg, data, nil, false)
		if bad != "" {
			t.Fatalf("Decode(%q) whole: %s", data, bad)
		}
		cut, bad := fuzzRecord(cfg, data, cuts, gaps)
		if bad != "" {
			t.Fatalf("Decode(%q) cut %v: %s", data, cuts, bad)
		}
		if gaps {
			return
		}
		if !slices.Equal(whole, cut) {
			t.Fatalf("Decode(%q) whole = %v,\ncut at %v = %v", data, whole, cuts, cut)
		}
	})
}

// FuzzInflate feeds arbitrary bytes as compressed messages (twice, so the
// second may refer to the first), cut into frames: inflating must not
// panic, must stop at MaxMessage, and must not depend on the cuts.
func FuzzInflate(f *testing.F) {
	f.Add([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, []byte{3}, uint8(2))
	f.Add([]byte{0x4a, 0x4c, 0x4a, 0x4e, 0x44, 0x42, 0x00}, []byte{1, 2}, uint8(6))
	f.Add([]byte{0xff, 0xff}, []byte{}, uint8(2))
	f.Add([]byte{0x02, 0x00}, []byte{1}, uint8(0x1a))
	f.Fuzz(func(t *testing.T, z, cuts []byte, flags uint8) {
		cfg := fuzzConfig(flags | 2)
		var wire []byte
		for range 2 {
			rest := z
			first := true
			for i := 0; first || len(rest) > 0; i++ {
				n := len(rest)
				if len(cuts) > 0 {
					n = min(n, max(1, int(cuts[i%len(cuts)])))
				}
				var rsv byte
				op := byte(OpContinuation)
				if first {
					rsv, op = RSV1, OpBinary
					if flags&0x80 != 0 {
						op = OpText
					}
				}
				wire = append(wire, encode(frameSpec{fin: n == len(rest), rsv: rsv, op: op, masked: cfg.Client, mask: testMask, payload: rest[:n]})...)
				rest = rest[n:]
				first = false
			}
		}
		whole, bad := fuzzRecord(cfg, wire, nil, false)
		if bad != "" {
			t.Fatalf("Decode(%x) whole: %s", z, bad)
		}
		bytewise, bad := fuzzRecord(cfg, wire, []byte{1}, false)
		if bad != "" {
			t.Fatalf("Decode(%x) bytewise: %s", z, bad)
		}
		if !slices.Equal(whole, bytewise) {
			t.Fatalf("Decode(%x) whole = %v,\nbytewise = %v", z, whole, bytewise)
		}
	})
}
