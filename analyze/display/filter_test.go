package display

import (
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/internal/race"
)

// sampleEvents are one event of each kind, named for the tables below.
func sampleEvents() map[string]*analyze.Event {
	t0 := time.Date(2026, 11, 25, 5, 47, 40, 640271974, time.UTC)
	ev := map[string]*analyze.Event{
		"open": {Type: analyze.TypeTCPOpen, Time: t0, Conn: 1, Packet: 1,
			TCPOpen: analyze.TCPOpen{Client: "127.0.0.1:45558", Server: "127.0.0.1:8080", SYN: true}, Note: "client opened"},
		"req": {Type: analyze.TypeHTTPRequest, Time: t0.Add(time.Millisecond), Conn: 1, From: "client", Packet: 4,
			HTTP: analyze.HTTP{Method: "GET", Target: "/chat?room=1", Proto: "HTTP/1.1",
				Header: http.Header{"Upgrade": {"websocket"}, "Sec-Websocket-Protocol": {"chat, superchat"}}}},
		"resp": {Type: analyze.TypeHTTPResponse, Time: t0.Add(2 * time.Millisecond), Conn: 1, From: "server", Packet: 6,
			HTTP: analyze.HTTP{Status: 101, Reason: "Switching Protocols", Proto: "HTTP/1.1", Header: http.Header{"Upgrade": {"websocket"}}}},
		"wsopen": {Type: analyze.TypeWSOpen, Time: t0.Add(2 * time.Millisecond), Conn: 1, Packet: 6,
			WSOpen: analyze.WSOpen{Path: "/chat?room=1", Subprotocol: "chat", Offered: []string{"chat", "superchat"}, Accept: "ok",
				Deflate: &analyze.Deflate{ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 10}}},
		"frame": {Type: analyze.TypeWSFrame, Time: t0.Add(3 * time.Millisecond), Conn: 1, From: "client", Packet: 8,
			Frame: analyze.Frame{Fin: true, RSV: 4, Opcode: 1, Masked: true, Mask: [4]byte{0x96, 0xf6, 0xae, 0x43}, Len: 1500}},
		"bigframe": {Type: analyze.TypeWSFrame, Time: t0.Add(3 * time.Millisecond), Conn: 2, From: "server", Packet: 9,
			Frame: analyze.Frame{Opcode: 15, Len: 1<<64 - 1}, Warnings: []analyze.Warning{{Code: "ws.length_msb", Msg: "most significant bit set"}}},
		"text": {Type: analyze.TypeWSMessage, Time: t0.Add(3 * time.Millisecond), Conn: 1, From: "client", Packet: 8,
			Message: analyze.Message{Opcode: "text", Len: 1500, WireLen: 900, Compressed: true, Frames: 1, Packets: []int64{8},
				Payload: []byte(`{"type":"chat","text":"an Error occurred"}`)}},
		"binary": {Type: analyze.TypeWSMessage, Time: t0.Add(4 * time.Millisecond), Conn: 2, From: "server", Packet: 12,
			Message:  analyze.Message{Opcode: "binary", Len: 4, WireLen: 4, Frames: 2, Packets: []int64{11, 12}, Payload: []byte{0, 1, 0xfe, 0xff}},
			Warnings: []analyze.Warning{{Code: "tcp.gap", Msg: "bytes missing"}, {Code: "ws.bad_utf8", Msg: "not UTF-8"}}},
		"close": {Type: analyze.TypeWSMessage, Time: t0.Add(5 * time.Millisecond), Conn: 3, From: "server", Packet: 20,
			Message: analyze.Message{Opcode: "close", Len: 6, WireLen: 6, Frames: 1, Packets: []int64{20}, Payload: []byte{3, 0xe8, 'b', 'y', 'e', '!'}, Code: 1000, Reason: "bye!"}},
		"gap": {Type: analyze.TypeTCPGap, Time: t0.Add(6 * time.Millisecond), Conn: 2, From: "server", Packet: 13,
			TCPGap: analyze.TCPGap{Offset: 100, Size: 1448}, Warnings: []analyze.Warning{{Code: "tcp.gap", Msg: "bytes missing"}}},
		"tcpclose": {Type: analyze.TypeTCPClose, Time: t0.Add(7 * time.Millisecond), Conn: 1, Packet: 30,
			TCPClose: analyze.TCPClose{How: "fin", ClientBytes: 2000, ServerBytes: 300}},
		"stats": {Type: analyze.TypeCaptureStats, Time: t0.Add(8 * time.Millisecond), Packet: 31,
			Capture: analyze.Capture{Packets: 31, Drops: 2}},
	}
	return ev
}

func TestMatch(t *testing.T) {
	events := sampleEvents()
	tests := []struct {
		expr string
		want string // the names of the matching sample events, sorted, space-separated
	}{
		{"", "binary bigframe close frame gap open req resp stats tcpclose text wsopen"},
		{`type == "ws.message"`, "binary close text"},
		{`type == ws.message`, "binary close text"},
		{`type eq ws.message and from eq client`, "text"},
		{`type == "ws.message" && from == "client" && len > 1000`, "text"},
		{`len > 1000`, "bigframe frame text"},
		{`len >= 18446744073709551615`, "bigframe"},
		{`len > -1`, "binary bigframe close frame text"},
		{`len < 5`, "binary"},
		{`conn in {2 3}`, "bigframe binary close gap"},
		{`conn in {2, 3}`, "bigframe binary close gap"},
		{`conn in {1..2}`, "bigframe binary frame gap open req resp tcpclose text wsopen"},
		{`conn`, "bigframe binary close frame gap open req resp tcpclose text wsopen"},
		{`!conn`, "stats"},
		{`text contains "error"`, ""},
		{`text contains "Error"`, "text"},
		{`text matches "error"`, "text"}, // case-insensitive, as Wireshark's
		{`text matches "(?-i)error"`, ""},
		{`text matches "^\{"`, "text"},
		{`text ~ "chat"`, "text"},
		{`payload contains "\xfe\xff"`, "binary"},
		{`payload contains "bye"`, "close"},
		{`warnings`, "bigframe binary gap"},
		{`!warnings`, "close frame open req resp stats tcpclose text wsopen"},
		{`has warnings.code == "tcp.gap"`, "binary gap"},
		{`warnings.code == "tcp.gap"`, "binary gap"},
		{`warnings == tcp.gap`, "binary gap"},
		{`warnings.code != "tcp.gap"`, "bigframe"}, // no warning equal; absent is false
		{`all warnings.code == "tcp.gap"`, "gap"},
		{`any warnings.code contains "utf8"`, "binary"},
		{`warnings.msg contains "missing"`, "binary gap"},
		{`opcode == "text"`, "frame text"},
		{`opcode == 1`, "frame"},
		{`opcode == reserved-15`, "bigframe"},
		{`opcode in {ping pong close}`, "close"},
		{`code == 1000 && reason == "bye!"`, "close"},
		{`reason contains "Switching"`, "resp"},
		{`code != 1000`, ""}, // absent on every other event
		{`!(code == 1000)`, "bigframe binary frame gap open req resp stats tcpclose text wsopen"},
		{`status == 101`, "resp"},
		{`method == GET && target contains "room"`, "req"},
		{`headers.upgrade == websocket`, "req resp"},
		{`headers.Sec-WebSocket-Protocol contains "superchat"`, "req"},
		{`headers == "Sec-Websocket-Protocol"`, "req"},
		{`path matches "^/chat"`, "wsopen"},
		{`subprotocol == chat && offered == superchat`, "wsopen"},
		{`deflate`, "wsopen"},
		{`deflate.server_no_context_takeover && !deflate.client_no_context_takeover`, "wsopen"},
		{`deflate.client_max_window_bits < 15`, "wsopen"},
		{`accept == ok && !midstream`, "wsopen"},
		{`fin == true && rsv == 4 && masked && mask == 96f6ae43`, "frame"},
		{`masked == false`, "bigframe"},
		{`compressed && wire_len < 1000`, "text"},
		{`frames > 1 && packets == 11`, "binary"},
		{`packets in {20..30}`, "close"},
		{`truncated`, ""},
		{`syn && client == 127.0.0.1:45558 && server == "127.0.0.1:8080"`, "open"},
		{`how == fin && client_bytes > 1999`, "tcpclose"},
		{`offset == 100 && size == 0x5a8`, "gap"},
		{`captured == 31 && dropped > 0`, "stats"},
		{`packet >= 12 && packet <= 20`, "binary close gap"},
		{`t >= "2026-11-25T05:47:40.645"`, "close gap stats tcpclose"},
		{`note contains "opened"`, "open"},
		{`type == ws.frame || type == tcp.gap && size > 1000`, "bigframe frame gap"},
		{`(type == ws.frame || type == tcp.gap) && conn == 2`, "bigframe gap"},
		{`not (type == ws.frame or type == ws.message)`, "gap open req resp stats tcpclose wsopen"},
		{`!!warnings`, "bigframe binary gap"},
		{`from in {client "server"} && !type == ws.message`, "bigframe frame gap req resp"},
		{`type in {"tcp.a".."tcp.z"}`, "gap open tcpclose"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			f, err := Compile(tc.expr)
			if err != nil {
				t.Fatalf("Compile(%q) = %v", tc.expr, err)
			}
			want := strings.Fields(tc.want)
			slices.Sort(want)
			tc.want = strings.Join(want, " ")
			if got := matching(f, events); got != tc.want {
				t.Errorf("Compile(%q) matches %q, want %q", tc.expr, got, tc.want)
			}
			// The canonical form means the same.
			g, err := Compile(f.String())
			if err != nil {
				t.Fatalf("Compile(%q) (the String of %q) = %v", f.String(), tc.expr, err)
			}
			if got := matching(g, events); got != tc.want {
				t.Errorf("Compile(%q) (the String of %q) matches %q, want %q", f.String(), tc.expr, got, tc.want)
			}
		})
	}
}

func matching(f *Filter, events map[string]*analyze.Event) string {
	var names []string
	for name, ev := range events {
		if f.Match(ev) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return strings.Join(names, " ")
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		expr   string
		offset int
		msg    string // a part of the message
	}{
		{`lenn > 3`, 0, `unknown field "lenn"`},
		{`type == "ws.message" && lenn > 3`, 24, `unknown field "lenn"`},
		{`len > "big"`, 6, `"len" holds a number, not a string`},
		{`len > big`, 6, `"len" holds a number, found "big"`},
		{`len > 1.5`, 6, `"1.5" is not a number`},
		{`len > wire_len`, 6, "comparing two fields is not supported"},
		{`type = "ws.message"`, 5, `"=" is not an operator`},
		{`type == 'x'`, 8, "double quotes"},
		{`conn & 1`, 5, `"and" is "&&"`},
		{`type == "ws.message`, 8, "string not closed"},
		{`text == "\xZZ"`, 9, "bad escape"},
		{`text == "\u12"`, 9, "bad escape"},
		{`(type == ws.frame`, 0, "( is never closed"},
		{`type == ws.frame)`, 16, `unexpected ")"`},
		{`type == ws.frame conn == 1`, 17, "missing && or ||"},
		{`type ==`, 7, "found the end of the expression"},
		{`&& conn`, 0, "expected a field name"},
		{`conn in 2`, 8, "in takes a set"},
		{`conn in {`, 8, "{ is never closed"},
		{`conn in {}`, 8, "the set is empty"},
		{`conn in {1..b}`, 12, `"conn" holds a number`},
		{`len contains "x"`, 4, "contains works on strings"},
		{`text contains 3`, 14, "takes a quoted string"},
		{`text matches "("`, 13, "bad regular expression"},
		{`syn > true`, 4, "compare it with == or !="},
		{`syn == yes`, 7, `"syn" holds true or false`},
		{`has type == x`, 4, "holds one value, not a list"},
		{`all warnings`, 12, "needs a comparison"},
		{`type == ws.frame && é`, 20, "unexpected character"},
		{strings.Repeat("(", MaxDepth+1) + "conn", MaxDepth, "nested more than"},
		{strings.Repeat("!", MaxDepth+1) + "conn", MaxDepth, "nested more than"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			f, err := Compile(tc.expr)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q) = %v, %v; want a *SyntaxError", tc.expr, f, err)
			}
			if se.Offset != tc.offset || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("Compile(%q) = offset %d %q; want offset %d and %q", tc.expr, se.Offset, se.Msg, tc.offset, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "display filter: offset ") {
				t.Errorf("Compile(%q).Error() = %q", tc.expr, err)
			}
		})
	}
	if _, err := Compile(strings.Repeat(" ", MaxLength+1)); err == nil {
		t.Errorf("Compile of %d bytes succeeded", MaxLength+1)
	}
}

func TestCaret(t *testing.T) {
	_, err := Compile("type == \"ws.message\" &&\tlenn > 3")
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatal(err)
	}
	want := "type == \"ws.message\" && lenn > 3\n                        ^"
	if got := se.Caret(); got != want {
		t.Errorf("Caret() =\n%s\nwant\n%s", got, want)
	}
}

func TestNilAndEmpty(t *testing.T) {
	ev := sampleEvents()["open"]
	var nilFilter *Filter
	if !nilFilter.Match(ev) || !nilFilter.Empty() || nilFilter.Expr() != "" {
		t.Error("a nil *Filter must match everything")
	}
	f, err := Compile("  \t ")
	if err != nil || !f.Match(ev) || !f.Empty() || f.String() != "" {
		t.Errorf("Compile(blank) = %v, %v; want an empty filter", f, err)
	}
}

func TestMatchAllocates(t *testing.T) {
	if race.Enabled {
		t.Skip("the race detector allocates")
	}
	events := sampleEvents()
	f, err := Compile(`type == "ws.message" && (text contains "chat" || payload matches "bye") && !has warnings.code == "tcp.gap" && conn in {1..3} && headers.upgrade != x`)
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, ev := range events {
			f.Match(ev)
		}
	})
	if allocs != 0 {
		t.Errorf("Match allocates %.0f times per round, want 0", allocs)
	}
}

func TestCmpNum(t *testing.T) {
	nums := []number{numInt(-1 << 63), numInt(-5), numInt(-1), {neg: true}, numInt(0), numInt(1), numInt(1<<63 - 1), numUint(1 << 63), numUint(1<<64 - 1)}
	for i, a := range nums {
		for j, b := range nums {
			want := 0
			switch {
			case i < j && !(i == 3 && j == 4):
				want = -1
			case i > j && !(i == 4 && j == 3):
				want = 1
			}
			if got := cmpNum(a, b); got != want {
				t.Errorf("cmpNum(%v, %v) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	events := sampleEvents()
	list := make([]*analyze.Event, 0, len(events))
	for _, ev := range events {
		list = append(list, ev)
	}
	f, err := Compile(`type == "ws.message" && from == "client" && len > 1000 || has warnings.code == "tcp.gap"`)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.Match(list[i%len(list)])
	}
}

// TestFieldsDocumented checks that docs/filters.md lists every field.
func TestFieldsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/filters.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		if !strings.Contains(string(doc), "| `"+f.name+"` |") {
			t.Errorf("docs/filters.md does not list the field %q", f.name)
		}
	}
}

// TestMatchHTTP2 names the fields of WebSocket over HTTP/2: stream on
// every event of a stream, and how, error_code and the byte counts on
// h2.stream_close as on tcp.close.
func TestMatchHTTP2(t *testing.T) {
	events := map[string]*analyze.Event{
		"msg3":  {Type: analyze.TypeWSMessage, Conn: 1, Stream: 3, From: "client", Message: analyze.Message{Opcode: "text", Len: 2, Payload: []byte("hi")}},
		"msg5":  {Type: analyze.TypeWSMessage, Conn: 1, Stream: 5, From: "server", Message: analyze.Message{Opcode: "text", Len: 2, Payload: []byte("ho")}},
		"plain": {Type: analyze.TypeWSMessage, Conn: 2, From: "server", Message: analyze.Message{Opcode: "text", Len: 2, Payload: []byte("hu")}},
		"end3": {Type: analyze.TypeH2StreamClose, Conn: 1, Stream: 3, From: "server",
			H2Close: analyze.H2Close{How: analyze.CloseRSTStream, ErrorCode: "CANCEL", ClientBytes: 10, ServerBytes: 20}},
		"tcpclose": {Type: analyze.TypeTCPClose, Conn: 1, TCPClose: analyze.TCPClose{How: "fin", ClientBytes: 100, ServerBytes: 200}},
	}
	for _, tc := range []struct{ expr, want string }{
		{`stream == 3`, "end3 msg3"},
		{`stream`, "end3 msg3 msg5"},
		{`!stream`, "plain tcpclose"},
		{`stream > 3 || conn == 2`, "msg5 plain"},
		{`how == rst_stream`, "end3"},
		{`how == fin`, "tcpclose"},
		{`error_code == "CANCEL"`, "end3"},
		{`server_bytes == 20`, "end3"},
		{`client_bytes >= 10`, "end3 tcpclose"},
	} {
		f, err := Compile(tc.expr)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.expr, err)
		}
		var got []string
		for name, ev := range events {
			if f.Match(ev) {
				got = append(got, name)
			}
		}
		slices.Sort(got)
		if strings.Join(got, " ") != tc.want {
			t.Errorf("Compile(%q) matches %q, want %q", tc.expr, strings.Join(got, " "), tc.want)
		}
	}
}
