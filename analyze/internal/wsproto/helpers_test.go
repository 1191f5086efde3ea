package wsproto

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"slices"
	"strings"
)

// recorder is a Handler that keeps copies of everything it is given, in
// order.
type recorder struct {
	frames []Frame
	msgs   []Message
	order  []byte // 'F' or 'M' per callback
}

func (r *recorder) Frame(f *Frame) {
	c := *f
	c.Problems = slices.Clone(f.Problems)
	c.Header = bytes.Clone(f.Header)
	r.frames = append(r.frames, c)
	r.order = append(r.order, 'F')
}

func (r *recorder) Message(m *Message) {
	c := *m
	c.Payload = bytes.Clone(m.Payload)
	if c.Payload == nil {
		c.Payload = []byte{}
	}
	c.Packets = slices.Clone(m.Packets)
	c.Problems = slices.Clone(m.Problems)
	r.msgs = append(r.msgs, c)
	r.order = append(r.order, 'M')
}

// codes lists the problem codes of ps.
func codes(ps []Problem) []string {
	var cs []string
	for _, p := range ps {
		cs = append(cs, p.Code)
	}
	return cs
}

// hasCode reports whether ps holds a problem with code.
func hasCode(ps []Problem, code string) bool {
	return slices.Contains(codes(ps), code)
}

// frameCodes lists the problem codes of every frame recorded, one string per
// frame ("-" for none).
func (r *recorder) frameCodes() []string {
	var out []string
	for _, f := range r.frames {
		if len(f.Problems) == 0 {
			out = append(out, "-")
			continue
		}
		out = append(out, strings.Join(codes(f.Problems), ","))
	}
	return out
}

// testMask is a fixed masking key for hand-made frames.
var testMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// frameSpec describes a frame for encode.
type frameSpec struct {
	fin     bool
	rsv     byte // RSV1=4, RSV2=2, RSV3=1
	op      byte
	masked  bool
	mask    [4]byte
	payload []byte
}

// encode writes a frame with the minimal length encoding (RFC 6455 §5.2),
// masking the payload when asked.
func encode(f frameSpec) []byte {
	b0 := f.rsv<<4 | f.op
	if f.fin {
		b0 |= finalBit
	}
	var b []byte
	var mb byte
	if f.masked {
		mb = maskBit
	}
	n := len(f.payload)
	switch {
	case n < len16Marker:
		b = append(b, b0, mb|byte(n))
	case n <= 0xffff:
		b = append(b, b0, mb|len16Marker)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, b0, mb|len64Marker)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if f.masked {
		b = append(b, f.mask[:]...)
		p := bytes.Clone(f.payload)
		maskBytes(f.mask, 0, p)
		return append(b, p...)
	}
	return append(b, f.payload...)
}

// cf is a masked client frame, sf an unmasked server frame.
func cf(fin bool, op byte, payload string) []byte {
	return encode(frameSpec{fin: fin, op: op, masked: true, mask: testMask, payload: []byte(payload)})
}

func sf(fin bool, op byte, payload string) []byte {
	return encode(frameSpec{fin: fin, op: op, payload: []byte(payload)})
}

// cat joins byte slices.
func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// feed writes data to s cut at random boundaries (seeded), numbering each
// Write as a packet from first on, and returns the next packet number.
func feed(s *Stream, data []byte, seed int64, maxCut int, first int64) int64 {
	rng := rand.New(rand.NewSource(seed))
	pkt := first
	for len(data) > 0 {
		n := 1 + rng.Intn(maxCut)
		if rng.Intn(4) == 0 {
			n = 1 + rng.Intn(16) // many tiny pieces to cut headers
		}
		n = min(n, len(data))
		s.Write(data[:n], pkt)
		data = data[n:]
		pkt++
	}
	return pkt
}

// feedBytes writes data one byte per Write.
func feedBytes(s *Stream, data []byte) {
	for i := range data {
		s.Write(data[i:i+1], int64(i+1))
	}
}

// decode runs data through a new Stream in one Write and ends it.
func decode(cfg Config, data []byte) *recorder {
	r := &recorder{}
	s := NewStream(cfg, r)
	s.Write(data, 1)
	s.End(2)
	return r
}

// summary is a message without its packet numbers, for comparing decodes
// of the same bytes cut differently.
func summary(m Message) string {
	return fmt.Sprintf("op=%d len=%d wire=%d z=%v frames=%d trunc=%v close=%d/%q problems=%v payload=%x",
		m.Opcode, m.Len, m.WireLen, m.Compressed, m.Frames, m.Truncated, m.CloseCode, m.CloseReason, codes(m.Problems), m.Payload)
}

// checkInvariants returns a description of the first broken invariant of m,
// or "".
func checkInvariants(m Message, cfg Config) string {
	switch {
	case m.Len < int64(len(m.Payload)):
		return fmt.Sprintf("Len %d < len(Payload) %d", m.Len, len(m.Payload))
	case int64(len(m.Payload)) < m.Len && !m.Truncated:
		return fmt.Sprintf("Payload %d bytes of %d but not Truncated", len(m.Payload), m.Len)
	case cfg.MaxPayload >= 0 && len(m.Payload) > cfg.MaxPayload:
		return fmt.Sprintf("len(Payload) %d > MaxPayload %d", len(m.Payload), cfg.MaxPayload)
	case m.Compressed && cfg.MaxMessage > 0 && m.Len > cfg.MaxMessage:
		return fmt.Sprintf("inflated Len %d > MaxMessage %d", m.Len, cfg.MaxMessage)
	case m.Frames < 1:
		return fmt.Sprintf("Frames %d", m.Frames)
	case len(m.Packets) == 0:
		return "no Packets"
	}
	increasing := true
	for i := 1; i < len(m.Packets) && increasing; i++ {
		increasing = m.Packets[i-1] < m.Packets[i]
	}
	if increasing {
		return "" // no packet twice (the usual case: a map of a million packets is slow)
	}
	seen := map[int64]bool{}
	for _, p := range m.Packets {
		if seen[p] {
			return fmt.Sprintf("packet %d twice in %v", p, m.Packets)
		}
		seen[p] = true
	}
	return ""
}
