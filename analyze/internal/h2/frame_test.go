package h2

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// write is one call of Conn.Write, or of Conn.Gap when gap is set.
type write struct {
	side int
	b    string
	gap  int64
}

func cw(b ...string) write { return write{Client, strings.Join(b, ""), 0} }
func sw(b ...string) write { return write{Server, strings.Join(b, ""), 0} }

// gap is a call of Conn.Gap.
func gap(side int, n int64) write { return write{side, "", n} }

// run writes ws to a Conn, the i-th at packet i+1, whole or one byte per
// Write, and returns the calls it made.
func run(t *testing.T, opts Options, ws []write, oneByte bool) (*Conn, *recorder) {
	t.Helper()
	r := newRecorder(false)
	c := NewConnOptions(r, opts)
	for i, w := range ws {
		pkt := int64(i + 1)
		switch {
		case w.gap != 0:
			c.Gap(w.side, w.gap, pkt)
		case oneByte:
			for j := range len(w.b) {
				c.Write(w.side, []byte{w.b[j]}, pkt)
			}
		default:
			c.Write(w.side, []byte(w.b), pkt)
		}
	}
	if r.bad != "" {
		t.Errorf("broken invariant: %s", r.bad)
	}
	return c, r
}

// show quotes writes for a message, shortened.
func show(ws []write) string {
	var b strings.Builder
	for _, w := range ws {
		q := fmt.Sprintf("%s:%q ", sideName(w.side), w.b)
		if w.gap != 0 {
			q = fmt.Sprintf("%s:gap(%d) ", sideName(w.side), w.gap)
		}
		if len(q) > 200 {
			q = q[:200] + "…"
		}
		b.WriteString(q)
	}
	return b.String()
}

const long300 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" // 62 bytes

// frameTest is a case of TestFrames: writes, and the calls they make.
type frameTest struct {
	name    string
	preface bool // the client begins with the connection preface
	in      []write
	want    []string
}

var debug310 = strings.Repeat(long300, 5)

// frameTests holds each frame type, well formed and not.
var frameTests = []frameTest{
	// RFC 9113 §3.4
	{"preface and SETTINGS", true, []write{cw(preface, fr(frameSettings, 0, 0, set(3, 100)+set(8, 1)))}, []string{"c S [3=100 8=1] @1"}},
	{"preface alone", true, []write{cw(preface)}, nil},
	{"bad preface", true, []write{cw("GET / HTTP/1.1\r\n\r\n"), cw(fr(frameData, 1, 1, "x"))}, []string{"c P h2.bad_preface 0 fatal @1"}},
	{"preface wrong late", true, []write{cw(preface[:20]), cw("\r\r\n\r\n")}, []string{"c P h2.bad_preface 0 fatal @2"}},
	{"server sends no preface", true, []write{sw(fr(frameSettings, 0, 0, ""))}, []string{"s S [] @1"}},

	// DATA, RFC 9113 §6.1
	{"DATA", false, []write{cw(fr(frameData, 0, 1, "hello"))}, []string{`c D 1 "hello" @1`}},
	{"DATA END_STREAM", false, []write{cw(fr(frameData, flagEndStream, 1, "hi"))}, []string{`c D 1 "hi" @1`, "c E 1 @1"}},
	{"empty DATA END_STREAM", false, []write{sw(fr(frameData, flagEndStream, 2, ""))}, []string{"s E 2 @1"}},
	{"empty DATA", false, []write{sw(fr(frameData, 0, 2, ""))}, nil},
	{"padded DATA", false, []write{cw(fr(frameData, flagPadded|flagEndStream, 3, "\x03hey\x00\x00\x00"))}, []string{`c D 3 "hey" @1`, "c E 3 @1"}},
	{"padded DATA all padding", false, []write{cw(fr(frameData, flagPadded, 3, "\x02\x00\x00"))}, nil},
	{"padded DATA padding too long", false, []write{cw(fr(frameData, flagPadded|flagEndStream, 3, "\x04abc"), fr(frameData, 0, 3, "ok"))}, []string{"c P h2.padding 3 @1", `c D 3 "ok" @1`}},
	{"padded DATA without Pad Length", false, []write{cw(fr(frameData, flagPadded, 3, "")), cw(fr(frameData, 0, 3, "ok"))}, []string{"c P h2.frame_size 3 @1", `c D 3 "ok" @2`}},
	{"DATA on stream 0", false, []write{cw(fr(frameData, flagEndStream, 0, "zero"), fr(frameData, 0, 1, "one"))}, []string{"c P h2.stream_id 0 @1", `c D 1 "one" @1`}},
	{"reserved bit of the stream ignored", false, []write{cw(fr(frameData, flagEndStream, 1<<31|1, "r"))}, []string{`c D 1 "r" @1`, "c E 1 @1"}},

	// HEADERS, RFC 9113 §6.2
	{"HEADERS", false, []write{cw(fr(frameHeaders, flagEndHeaders|flagEndStream, 1, hGet+hPath+hHTTP))}, []string{"c H 1 end [:method: GET, :path: /, :scheme: http] @1", "c E 1 @1"}},
	{"HEADERS padded with priority", false, []write{cw(fr(frameHeaders, flagEndHeaders|flagPadded|flagPriority, 1, "\x02"+"\x80\x00\x00\x03"+"\x10"+hGet+"\x00\x00"))}, []string{"c H 1 [:method: GET] @1"}},
	{"HEADERS and CONTINUATIONs", false, []write{cw(fr(frameHeaders, flagEndStream, 1, hGet)), cw(fr(frameContinuation, 0, 1, hPath)), cw(fr(frameContinuation, flagEndHeaders, 1, hHTTP))}, []string{"c H 1 end [:method: GET, :path: /, :scheme: http] @3", "c E 1 @3"}},
	{"empty HEADERS", false, []write{cw(fr(frameHeaders, flagEndHeaders, 1, ""))}, []string{"c H 1 [] @1"}},
	{"trailers", false, []write{sw(fr(frameHeaders, flagEndHeaders, 1, hStatus)), sw(fr(frameData, 0, 1, "x")), sw(fr(frameHeaders, flagEndHeaders|flagEndStream, 1, lit("grpc-status", "0")))}, []string{
		"s H 1 [:status: 200] @1", `s D 1 "x" @2`, "s H 1 end trailers [grpc-status: 0] @3", "s E 1 @3"}},
	{"no trailers after END_STREAM", false, []write{cw(fr(frameHeaders, flagEndHeaders|flagEndStream, 1, hGet)), cw(fr(frameHeaders, flagEndHeaders, 3, hGet)), cw(fr(frameHeaders, flagEndHeaders, 3, hGet))}, []string{
		"c H 1 end [:method: GET] @1", "c E 1 @1", "c H 3 [:method: GET] @2", "c H 3 trailers [:method: GET] @3"}},
	{"trailers in flight after the peer's RST_STREAM", false, []write{sw(fr(frameHeaders, flagEndHeaders, 1, hStatus)), cw(fr(frameRSTStream, 0, 1, u32(8))), sw(fr(frameHeaders, flagEndHeaders, 1, hStatus))}, []string{
		"s H 1 [:status: 200] @1", "c R 1 CANCEL @2", "s H 1 trailers [:status: 200] @3"}},
	{"stream forgotten after its own RST_STREAM", false, []write{sw(fr(frameHeaders, flagEndHeaders, 1, hStatus)), sw(fr(frameRSTStream, 0, 1, u32(2))), sw(fr(frameHeaders, flagEndHeaders, 1, hStatus))}, []string{
		"s H 1 [:status: 200] @1", "s R 1 INTERNAL_ERROR @2", "s H 1 [:status: 200] @3"}},
	{"HEADERS interrupted by DATA", false, []write{cw(fr(frameHeaders, flagEndStream, 1, hGet)), cw(fr(frameData, 0, 1, "x")), cw(fr(frameHeaders, flagEndHeaders|flagEndStream, 3, hGet))}, []string{
		"c P h2.continuation 1 fatal @2", `c D 1 "x" @2`, "c E 3 @3"}},
	{"CONTINUATION of another stream", false, []write{cw(fr(frameHeaders, flagEndStream, 1, hGet), fr(frameContinuation, flagEndHeaders, 3, hPath), fr(frameData, flagEndStream, 3, "y"))}, []string{
		"c P h2.continuation 3 fatal @1", `c D 3 "y" @1`, "c E 3 @1"}},
	{"CONTINUATION of nothing", false, []write{cw(fr(frameContinuation, flagEndHeaders, 1, hGet)), cw(fr(frameHeaders, flagEndHeaders|flagEndStream, 1, hGet))}, []string{"c P h2.continuation 1 fatal @1", "c E 1 @2"}},
	{"unknown frame in a header block", false, []write{cw(fr(frameHeaders, 0, 1, hGet), fr(0x20, 0, 0, "zz"), fr(frameContinuation, flagEndHeaders, 1, hPath))}, []string{
		"c P h2.continuation 0 fatal @1", "c P h2.continuation 1 @1"}},
	{"HEADERS padding too long", false, []write{cw(fr(frameHeaders, flagEndHeaders|flagEndStream|flagPadded, 1, "\x02"+hGet)), cw(fr(frameHeaders, flagEndHeaders|flagEndStream, 3, hGet))}, []string{
		"c P h2.padding 1 fatal @1", "c E 3 @2"}},
	{"HEADERS too short for priority", false, []write{cw(fr(frameHeaders, flagEndHeaders|flagPriority, 1, "\x80"), fr(frameData, 0, 1, "d"))}, []string{"c P h2.frame_size 1 fatal @1", `c D 1 "d" @1`}},
	{"HEADERS on stream 0 still indexes", false, []write{cw(fr(frameHeaders, flagEndHeaders, 0, lit("x-a", "1"))), cw(fr(frameHeaders, flagEndHeaders, 1, "\xbe"))}, []string{
		"c P h2.stream_id 0 @1", "c H 1 [x-a: 1] @2"}},
	{"dynamic table", false, []write{cw(fr(frameHeaders, flagEndHeaders, 1, lit("x-a", "1")+lit("x-b", "2"))), cw(fr(frameHeaders, flagEndHeaders, 3, "\xbe\xbf"))}, []string{
		"c H 1 [x-a: 1, x-b: 2] @1", "c H 3 [x-b: 2, x-a: 1] @2"}},
	{"HPACK error", false, []write{cw(fr(frameHeaders, flagEndHeaders, 1, "\xbe")), cw(fr(frameHeaders, flagEndHeaders|flagEndStream, 3, hGet), fr(frameData, 0, 3, "z"))}, []string{
		"c P h2.hpack 1 fatal @1", "c E 3 @2", `c D 3 "z" @2`}},
	{"HPACK truncated", false, []write{cw(fr(frameHeaders, flagEndHeaders, 1, "\x40\x03x-"))}, []string{"c P h2.hpack 1 fatal @1"}},
	{"HPACK table size update past the allowed", false, []write{cw(fr(frameHeaders, flagEndHeaders, 1, "\x3f\xe1\x3f"+hGet))}, []string{"c P h2.hpack 1 fatal @1"}},
	{"HPACK two table size updates", false, []write{cw(fr(frameHeaders, flagEndHeaders, 1, lit("x-a", "1"))), cw(fr(frameHeaders, flagEndHeaders, 3, "\x3f\x11"+"\x3f\xe1\x1f"+"\xbe"))}, []string{
		"c H 1 [x-a: 1] @1", "c H 3 [x-a: 1] @2"}},
	{"HPACK table size update to 0 empties the table", false, []write{cw(fr(frameHeaders, flagEndHeaders, 1, lit("x-a", "1"))), cw(fr(frameHeaders, flagEndHeaders, 3, "\x20"+"\x3f\xe1\x1f"+"\xbe"))}, []string{
		"c H 1 [x-a: 1] @1", "c P h2.hpack 3 fatal @2"}},
	{"HPACK table size update in the middle", false, []write{cw(fr(frameHeaders, flagEndHeaders, 1, lit("x-a", "1"))), cw(fr(frameHeaders, flagEndHeaders, 3, hGet+"\x3f\x11"))}, []string{
		"c H 1 [x-a: 1] @1", "c P h2.hpack 3 fatal @2"}},
	{"HPACK table size update overflows", false, []write{cw(fr(frameHeaders, flagEndHeaders, 1, "\x3f\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"))}, []string{"c P h2.hpack 1 fatal @1"}},
	{"HPACK table size update cut short", false, []write{cw(fr(frameHeaders, flagEndHeaders, 1, "\x3f\xff"))}, []string{"c P h2.hpack 1 fatal @1"}},
	{"HPACK table size the peer allows", false, []write{sw(fr(frameSettings, 0, 0, set(SettingHeaderTableSize, 8192))), cw(fr(frameHeaders, flagEndHeaders, 1, "\x3f\xe1\x3f"+hGet))}, []string{
		"s S [1=8192] @1", "c H 1 [:method: GET] @2"}},

	// PUSH_PROMISE, RFC 9113 §6.6
	{"PUSH_PROMISE", false, []write{sw(fr(framePushPromise, flagEndHeaders, 1, u32(2)+hGet+hPath+hHTTP)), sw(fr(frameHeaders, flagEndHeaders, 2, hStatus))}, []string{
		"s H 2 push [:method: GET, :path: /, :scheme: http] @1", "s H 2 [:status: 200] @2"}},
	{"PUSH_PROMISE padded with CONTINUATION", false, []write{sw(fr(framePushPromise, flagPadded, 1, "\x01"+u32(1<<31|4)+hGet+"\x00")), sw(fr(frameContinuation, flagEndHeaders, 1, hPath))}, []string{
		"s H 4 push [:method: GET, :path: /] @2"}},
	{"PUSH_PROMISE of stream 0", false, []write{sw(fr(framePushPromise, flagEndHeaders, 1, u32(0)+hGet))}, []string{"s P h2.stream_id 1 @1"}},
	{"PUSH_PROMISE too short", false, []write{sw(fr(framePushPromise, flagEndHeaders, 1, "\x00\x00"))}, []string{"s P h2.frame_size 1 fatal @1"}},

	// PRIORITY, RFC 9113 §6.3
	{"PRIORITY", false, []write{cw(fr(framePriority, 0, 1, "\x00\x00\x00\x00\x10"))}, nil},
	{"PRIORITY wrong length", false, []write{cw(fr(framePriority, 0, 1, "\x00"))}, []string{"c P h2.frame_size 1 @1"}},
	{"PRIORITY on stream 0", false, []write{cw(fr(framePriority, 0, 0, "\x00\x00\x00\x00\x10"))}, []string{"c P h2.stream_id 0 @1"}},

	// RST_STREAM, RFC 9113 §6.4
	{"RST_STREAM", false, []write{cw(fr(frameRSTStream, 0, 1, u32(8))), sw(fr(frameRSTStream, 0, 3, u32(0x1f)))}, []string{"c R 1 CANCEL @1", "s R 3 0x1f @2"}},
	{"RST_STREAM wrong length", false, []write{cw(fr(frameRSTStream, 0, 1, "\x00\x00\x08"))}, []string{"c P h2.frame_size 1 @1"}},
	{"RST_STREAM on stream 0", false, []write{cw(fr(frameRSTStream, 0, 0, u32(8)))}, []string{"c P h2.stream_id 0 @1"}},

	// SETTINGS, RFC 9113 §6.5
	{"SETTINGS ACK", false, []write{cw(fr(frameSettings, flagAck, 0, ""))}, nil},
	{"SETTINGS ACK with payload", false, []write{cw(fr(frameSettings, flagAck, 0, set(1, 1)))}, []string{"c P h2.frame_size 0 @1"}},
	{"SETTINGS not a multiple of 6", false, []write{cw(fr(frameSettings, 0, 0, set(1, 1)+"\x00"))}, []string{"c P h2.frame_size 0 @1"}},
	{"SETTINGS on a stream", false, []write{cw(fr(frameSettings, 0, 1, set(1, 1)))}, []string{"c P h2.stream_id 1 @1"}},
	{"SETTINGS too large", false, []write{cw(fr(frameSettings, 0, 0, strings.Repeat(set(3, 1), MaxSettings/settingLen+1)), fr(frameSettings, 0, 0, set(3, 2)))}, []string{"c P h2.frame_size 0 @1", "c P h2.settings_too_large 0 @1", "c S [3=2] @1"}},
	{"SETTINGS values", false, []write{cw(fr(frameSettings, 0, 0, set(2, 2)+set(5, 100)+set(4, 1<<31)+set(8, 2)+set(9, 5)+set(0x77, 9)))}, []string{
		"c P h2.settings_value 0 @1", "c P h2.settings_value 0 @1", "c P h2.settings_value 0 @1", "c P h2.settings_value 0 @1", "c P h2.settings_value 0 @1",
		"c S [2=2 5=100 4=2147483648 8=2 9=5 119=9] @1"}},
	{"SETTINGS_ENABLE_PUSH from a server", false, []write{cw(fr(frameSettings, 0, 0, set(2, 1))), sw(fr(frameSettings, 0, 0, set(2, 1)))}, []string{"c S [2=1] @1", "s P h2.settings_value 0 @2", "s S [2=1] @2"}},
	{"SETTINGS_ENABLE_CONNECT_PROTOCOL taken back", false, []write{sw(fr(frameSettings, 0, 0, set(8, 1))), sw(fr(frameSettings, 0, 0, set(8, 1)+set(8, 0)))}, []string{"s S [8=1] @1", "s P h2.settings_value 0 @2", "s S [8=1 8=0] @2"}},

	// PING, RFC 9113 §6.7
	{"PING", false, []write{cw(fr(framePing, 0, 0, "12345678")), sw(fr(framePing, flagAck, 0, "12345678"))}, nil},
	{"PING wrong length", false, []write{cw(fr(framePing, 0, 0, "1234"))}, []string{"c P h2.frame_size 0 @1"}},
	{"PING on a stream, wrong length", false, []write{cw(fr(framePing, 0, 1, "123"))}, []string{"c P h2.stream_id 1 @1", "c P h2.frame_size 1 @1"}},

	// GOAWAY, RFC 9113 §6.8
	{"GOAWAY", false, []write{sw(fr(frameGoAway, 0, 0, u32(1<<31|5)+u32(0)+"bye"))}, []string{`s A 5 NO_ERROR "bye" @1`}},
	{"GOAWAY long debug data", false, []write{sw(fr(frameGoAway, 0, 0, u32(1)+u32(0xb)+debug310)), sw(fr(frameData, 0, 1, "after"))}, []string{
		fmt.Sprintf("s A 1 ENHANCE_YOUR_CALM %q @1", debug310[:MaxGoAwayDebug]), `s D 1 "after" @2`}},
	{"GOAWAY too short", false, []write{sw(fr(frameGoAway, 0, 0, u32(1)))}, []string{"s P h2.frame_size 0 @1"}},
	{"GOAWAY on a stream", false, []write{sw(fr(frameGoAway, 0, 3, u32(1)+u32(0)))}, []string{"s P h2.stream_id 3 @1"}},

	// WINDOW_UPDATE, RFC 9113 §6.9
	{"WINDOW_UPDATE", false, []write{cw(fr(frameWindowUpdate, 0, 0, u32(1000)), fr(frameWindowUpdate, 0, 1, u32(1<<31|1)))}, nil},
	{"WINDOW_UPDATE of 0", false, []write{cw(fr(frameWindowUpdate, 0, 5, u32(1<<31)))}, []string{"c P h2.window_update 5 @1"}},
	{"WINDOW_UPDATE wrong length", false, []write{cw(fr(frameWindowUpdate, 0, 0, "\x00\x01"))}, []string{"c P h2.frame_size 0 @1"}},

	// RFC 9113 §5.5
	{"unknown type", false, []write{cw(fr(0xfa, 0xff, 7, "whatever"), fr(frameData, 0, 7, "d"))}, []string{`c D 7 "d" @1`}},
}

// TestFrames decodes each frame type, well formed and not, and checks the
// calls it makes, packet numbers included; then again one byte per Write,
// each byte with the packet of its write: the calls must be the same, Data
// cut into one call per byte.
func TestFrames(t *testing.T) { checkCases(t, frameTests) }

func checkCases(t *testing.T, cases []frameTest) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, r := run(t, Options{SkipPreface: !tc.preface}, tc.in, false)
			if !slices.Equal(r.events(), tc.want) {
				t.Errorf("Write(%s) =\n\t%s\nwant\n\t%s", show(tc.in), strings.Join(r.events(), "\n\t"), strings.Join(tc.want, "\n\t"))
			}
			_, r = run(t, Options{SkipPreface: !tc.preface}, tc.in, true)
			if got, want := joinData(r.events()), joinData(tc.want); !slices.Equal(got, want) {
				t.Errorf("Write(%s) one byte at a time =\n\t%s\nwant\n\t%s", show(tc.in), strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
			}
		})
	}
}

var dataLine = regexp.MustCompile(`^(\w D \d+) (".*") (@\d+)$`)

// joinData joins consecutive Data lines of a side, stream and packet.
func joinData(lines []string) []string {
	var out []string
	var last []string // the previous line's submatches, if it was Data
	for _, l := range lines {
		m := dataLine.FindStringSubmatch(l)
		if m != nil && last != nil && m[1] == last[1] && m[3] == last[3] {
			a, _ := strconv.Unquote(last[2])
			b, _ := strconv.Unquote(m[2])
			last[2] = strconv.Quote(a + b)
			out[len(out)-1] = fmt.Sprintf("%s %s %s", last[1], last[2], last[3])
			continue
		}
		out = append(out, l)
		last = m
	}
	return out
}
