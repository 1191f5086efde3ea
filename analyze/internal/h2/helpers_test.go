package h2

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// recorder is a Handler that writes every call as a line, in order, and
// checks what every call must keep.
type recorder struct {
	lines []line
	// merge joins a side's Data calls of a stream into one line (without
	// packet) until the side's next call, so that where the bytes were cut
	// does not show.
	merge bool
	// bad is the first broken invariant.
	bad string
	// dead[side]: a problem lost the side's framing.
	dead [2]bool
	// last is the index in lines of the side's last line, or -1.
	last [2]int
	// dataBytes counts the Data and DataGap bytes per side.
	dataBytes [2]int64
	// headersDead[side]: a Fatal problem lost the side's header
	// decoding; with checkHeaders, a Headers call after it is a failure,
	// as is a block whose fields pass MaxHeaderList.
	headersDead  [2]bool
	checkHeaders bool
}

// line is one call; a merged Data line keeps its bytes in data.
type line struct {
	side   int
	text   string
	stream uint32
	data   []byte
	isData bool
}

func newRecorder(merge bool) *recorder {
	return &recorder{merge: merge, last: [2]int{-1, -1}}
}

// events returns the lines, both sides.
func (r *recorder) events() []string { return r.side(-1) }

// side returns the lines of one side (-1: both).
func (r *recorder) side(side int) []string {
	var out []string
	for _, l := range r.lines {
		if side < 0 || l.side == side {
			out = append(out, l.text+string(l.data))
		}
	}
	return out
}

func (r *recorder) add(side int, text string) {
	if side != Client && side != Server {
		r.fail("a call for side %d", side)
		return
	}
	if r.dead[side] {
		r.fail("a call after the framing of side %d was lost: %s", side, text)
	}
	r.lines = append(r.lines, line{side: side, text: text})
	r.last[side] = len(r.lines) - 1
}

func (r *recorder) fail(format string, args ...any) {
	if r.bad == "" {
		r.bad = fmt.Sprintf(format, args...)
	}
}

func sideName(side int) string { return [2]string{"c", "s"}[side&1] }

func (r *recorder) Headers(side int, b *Block) {
	if r.checkHeaders {
		if r.headersDead[side&1] {
			r.fail("a Headers call after header decoding of side %d was lost", side)
		}
		size := 0
		for _, h := range b.Fields {
			size += len(h.Name) + len(h.Value) + 32
		}
		if size > MaxHeaderList {
			r.fail("a block of %d bytes of fields", size)
		}
	}
	var f []string
	for _, h := range b.Fields {
		f = append(f, h.Name+": "+h.Value)
	}
	r.add(side, headersLine(side, b.Stream, b.EndStream, b.Push, b.Trailers, f)+r.at(b.Packet))
}

// headersLine is how recorder shows a Headers call, without its packet.
func headersLine(side int, stream uint32, end, push, trailers bool, fields []string) string {
	flags := ""
	if end {
		flags += " end"
	}
	if push {
		flags += " push"
	}
	if trailers {
		flags += " trailers"
	}
	return fmt.Sprintf("%s H %d%s [%s]", sideName(side), stream, flags, strings.Join(fields, ", "))
}

func (r *recorder) at(packet int64) string {
	if r.merge {
		return ""
	}
	return fmt.Sprintf(" @%d", packet)
}

func (r *recorder) Data(side int, stream uint32, p []byte, packet int64) {
	if len(p) == 0 {
		r.fail("an empty Data call")
	}
	r.dataBytes[side&1] += int64(len(p))
	if !r.merge {
		r.add(side, fmt.Sprintf("%s D %d %q%s", sideName(side), stream, p, r.at(packet)))
		return
	}
	if i := r.last[side&1]; i >= 0 && r.lines[i].isData && r.lines[i].stream == stream {
		r.lines[i].data = append(r.lines[i].data, p...)
		return
	}
	r.add(side, fmt.Sprintf("%s D %d ", sideName(side), stream))
	l := &r.lines[len(r.lines)-1]
	l.isData, l.stream, l.data = true, stream, append([]byte(nil), p...)
}

func (r *recorder) DataGap(side int, stream uint32, n int64, packet int64) {
	if n <= 0 {
		r.fail("DataGap of %d bytes", n)
	}
	r.dataBytes[side&1] += n
	r.add(side, fmt.Sprintf("%s G %d %d%s", sideName(side), stream, n, r.at(packet)))
}

func (r *recorder) EndStream(side int, stream uint32, packet int64) {
	r.add(side, fmt.Sprintf("%s E %d%s", sideName(side), stream, r.at(packet)))
}

func (r *recorder) Reset(side int, stream uint32, code uint32, packet int64) {
	r.add(side, fmt.Sprintf("%s R %d %s%s", sideName(side), stream, ErrCodeName(code), r.at(packet)))
}

func (r *recorder) Settings(side int, s []Setting, packet int64) {
	var f []string
	for _, p := range s {
		f = append(f, fmt.Sprintf("%d=%d", p.ID, p.Value))
	}
	r.add(side, fmt.Sprintf("%s S [%s]%s", sideName(side), strings.Join(f, " "), r.at(packet)))
}

func (r *recorder) GoAway(side int, lastStream uint32, code uint32, debug []byte, packet int64) {
	if len(debug) > MaxGoAwayDebug {
		r.fail("GOAWAY debug data of %d bytes", len(debug))
	}
	r.add(side, fmt.Sprintf("%s A %d %s %q%s", sideName(side), lastStream, ErrCodeName(code), debug, r.at(packet)))
}

func (r *recorder) Problem(side int, p Problem) {
	if !strings.Contains(p.Text, "RFC ") || !strings.HasPrefix(p.Code, "h2.") {
		r.fail("problem %q: %q names no RFC", p.Code, p.Text)
	}
	fatal := ""
	if p.Fatal {
		fatal = " fatal"
	}
	r.add(side, fmt.Sprintf("%s P %s %d%s%s", sideName(side), p.Code, p.Stream, fatal, r.at(p.Packet)))
	switch {
	case p.Code == CodeBadPreface || p.Code == CodeLostSync:
		if !p.Fatal {
			r.fail("%s not fatal", p.Code)
		}
		r.dead[side&1] = true
	case p.Fatal:
		if r.headersDead[side&1] {
			r.fail("a second problem %s is fatal to header decoding", p.Code)
		}
		r.headersDead[side&1] = true
	}
}

// fr builds a frame (RFC 9113 §4.1).
func fr(typ, flags uint8, stream uint32, payload string) string {
	var h [frameHeaderLen]byte
	h[0], h[1], h[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	h[3], h[4] = typ, flags
	binary.BigEndian.PutUint32(h[5:], stream)
	return string(h[:]) + payload
}

// u32 is v in 4 bytes, network order.
func u32(v uint32) string { return string(binary.BigEndian.AppendUint32(nil, v)) }

// set is a SETTINGS parameter (RFC 9113 §6.5.1).
func set(id uint16, v uint32) string {
	return string(binary.BigEndian.AppendUint16(nil, id)) + u32(v)
}

// HPACK representations of static table entries (RFC 7541 Appendix A),
// indexed (RFC 7541 §6.1).
const (
	hGet    = "\x82" // :method: GET
	hPath   = "\x84" // :path: /
	hHTTP   = "\x86" // :scheme: http
	hStatus = "\x88" // :status: 200
)

// lit is a literal field with incremental indexing and a new name (RFC
// 7541 §6.2.1), strings shorter than 127 bytes, not Huffman-coded.
func lit(name, value string) string {
	return "\x40" + string(rune(len(name))) + name + string(rune(len(value))) + value
}

// unquote undoes %q.
func unquote(s string) string {
	u, err := strconv.Unquote(s)
	if err != nil {
		return s
	}
	return u
}
