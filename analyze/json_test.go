package analyze

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsviz/wsviz/analyze/internal/jsonenc"
	"github.com/wsviz/wsviz/analyze/internal/wsproto"
)

var jsonTime = time.Date(2024, 1, 2, 3, 4, 5, 600, time.UTC)

func TestEventJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		want string // a substring the JSON must contain
	}{
		{"tcp.open", Event{Type: TypeTCPOpen, Time: jsonTime, Conn: 1, Packet: 1, Note: "n",
			TCPOpen: TCPOpen{Client: "127.0.0.1:5", Server: "[::1]:80", SYN: true}},
			`"client":"127.0.0.1:5","server":"[::1]:80","syn":true`},
		{"tcp.open in tunnels", Event{Type: TypeTCPOpen, Time: jsonTime, Conn: 1, Packet: 1, Note: "n",
			TCPOpen: TCPOpen{Client: "192.168.0.1:5", Server: "192.168.0.2:80", Tunnel: []Tunnel{
				{Kind: "vxlan", Src: "10.0.0.1", Dst: "10.0.0.2", VNI: 42},
				{Kind: "gre", Src: "172.16.0.1", Dst: "172.16.0.2", Key: 0, HasKey: true},
				{Kind: "gre", Src: "2001:db8::1", Dst: "2001:db8::2"},
				{Kind: "mpls", Label: 16},
				{Kind: "6in4", Src: "192.0.2.1", Dst: "192.0.2.2"}}}},
			`"syn":false,"tunnel":[{"kind":"vxlan","src":"10.0.0.1","dst":"10.0.0.2","vni":42},{"kind":"gre","src":"172.16.0.1","dst":"172.16.0.2","key":0},{"kind":"gre","src":"2001:db8::1","dst":"2001:db8::2"},{"kind":"mpls","label":16},{"kind":"6in4","src":"192.0.2.1","dst":"192.0.2.2"}]`},
		{"tcp.close", Event{Type: TypeTCPClose, Time: jsonTime, Conn: 2, Packet: 9, Note: "n",
			TCPClose: TCPClose{How: CloseRST, ClientBytes: 10, ServerBytes: 20}},
			`"how":"rst","client_bytes":10,"server_bytes":20`},
		{"capture.stats", Event{Type: TypeCaptureStats, Time: jsonTime, Packet: 5000, Note: "n",
			Capture: Capture{Packets: 5000, Drops: 12}},
			`"packet":5000,"captured":5000,"dropped":12`},
		{"tcp.gap", Event{Type: TypeTCPGap, Time: jsonTime, Conn: 2, From: FromServer, Packet: 9, Note: "n",
			TCPGap: TCPGap{Offset: 100, Size: 1448}, Warnings: []Warning{{"tcp.gap", "m"}}},
			`"offset":100,"size":1448`},
		{"http.request", Event{Type: TypeHTTPRequest, Time: jsonTime, Conn: 1, From: FromClient, Packet: 4, Note: "n",
			HTTP: HTTP{Method: "GET", Target: "/chat", Proto: "HTTP/1.1", Header: http.Header{"Upgrade": {"websocket"}, "A": {"1", "2"}}}},
			`"method":"GET","target":"/chat","proto":"HTTP/1.1","headers":{"A":["1","2"],"Upgrade":["websocket"]}`},
		{"http.response", Event{Type: TypeHTTPResponse, Time: jsonTime, Conn: 1, From: FromServer, Packet: 6, Note: "n",
			HTTP: HTTP{Status: 403, Reason: "Forbidden", Proto: "HTTP/1.1", Header: http.Header{}}},
			`"status":403,"reason":"Forbidden"`},
		{"ws.open", Event{Type: TypeWSOpen, Time: jsonTime, Conn: 1, Packet: 6, Note: "n",
			WSOpen: WSOpen{Path: "/", Subprotocol: "chat", Offered: []string{"chat", "x"}, Extensions: "permessage-deflate",
				Deflate: &Deflate{ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 10}, Accept: "ok"}},
			`"deflate":{"server_no_context_takeover":false,"client_no_context_takeover":true,"server_max_window_bits":15,"client_max_window_bits":10}`},
		{"ws.frame masked", Event{Type: TypeWSFrame, Time: jsonTime, Conn: 1, From: FromClient, Packet: 7, Note: "n",
			Frame: Frame{Fin: true, RSV: 4, Opcode: 1, Masked: true, Mask: [4]byte{0xde, 0xad, 0xbe, 0xef}, Len: 1 << 40,
				Header: []byte{0xc1, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef}}},
			`"fin":true,"rsv":4,"opcode":1,"masked":true,"mask":"deadbeef","len":1099511627776,"header":"c1ff0000010000000000deadbeef"`},
		{"ws.frame unmasked", Event{Type: TypeWSFrame, Time: jsonTime, Conn: 1, From: FromServer, Packet: 7, Note: "n",
			Frame: Frame{Opcode: 2, Len: 3, Header: []byte{0x02, 0x7e, 0x00, 0x03}}},
			`"fin":false,"rsv":0,"opcode":2,"masked":false,"len":3,"header":"027e0003"`},
		{"ws.message undecodable", Event{Type: TypeWSMessage, Time: jsonTime, Conn: 1, From: FromServer, Packet: 8, Note: "n",
			Message: Message{Opcode: "text", WireLen: 7, Compressed: true, Frames: 1, Packets: []int64{8}, Truncated: true, Undecodable: true}},
			`"opcode":"text","wire_len":7,"compressed":true,"frames":1,"packets":[8],"undecodable":true,"truncated":true,"note"`},
		{"ws.message text", Event{Type: TypeWSMessage, Time: jsonTime, Conn: 1, From: FromServer, Packet: 8, Note: "n",
			Message: Message{Opcode: "text", Len: 5, WireLen: 7, Compressed: true, Frames: 1, Packets: []int64{8}, Payload: []byte("hé\"\n<")}},
			`"opcode":"text","len":5,"wire_len":7,"compressed":true,"frames":1,"packets":[8],"text":"hé\"\n<"`},
		{"ws.message binary truncated", Event{Type: TypeWSMessage, Time: jsonTime, Conn: 1, From: FromClient, Packet: 8, Note: "n",
			Message: Message{Opcode: "binary", Len: 5000, WireLen: 5000, Frames: 2, Packets: []int64{7, 8}, Payload: []byte{0, 1, 2}, Truncated: true}},
			`"base64":"AAEC","truncated":true`},
		{"ws.message close", Event{Type: TypeWSMessage, Time: jsonTime, Conn: 1, From: FromClient, Packet: 8, Note: "n",
			Message: Message{Opcode: "close", Len: 5, WireLen: 5, Frames: 1, Packets: []int64{8}, Payload: []byte{3, 232, 'b', 'y', 'e'}, Code: 1000, Reason: "bye"}},
			`"code":1000,"reason":"bye"`},
		// Words outside the constants appendJSONAt writes for the
		// common ones (ws.frame, ws.message, client, server, text,
		// binary) are escaped as any string.
		{"ws.message from elsewhere", Event{Type: TypeWSMessage, Time: jsonTime, Conn: 1, From: `a "side"`, Packet: 8, Note: "n",
			Message: Message{Opcode: `pong"`, Len: 1, WireLen: 1, Frames: 1, Packets: []int64{8}, Payload: []byte{1}}},
			`"from":"a \"side\"","packet":8,"opcode":"pong\"","len":1`},
		{"ws.frame from nowhere", Event{Type: TypeWSFrame, Time: jsonTime, Conn: 1, Packet: 7, Note: "n",
			Frame: Frame{Fin: true, Opcode: 9, Len: 0, Header: []byte{0x89, 0}}},
			`"conn":1,"packet":7,"fin":true,"rsv":0,"opcode":9`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.ev.AppendJSON(nil)
			if !json.Valid(b) {
				t.Fatalf("AppendJSON = %s, not valid JSON", b)
			}
			if !strings.Contains(string(b), tc.want) {
				t.Errorf("AppendJSON = %s, want it to contain %s", b, tc.want)
			}
			if !strings.HasPrefix(string(b), `{"type":"`+tc.ev.Type+`","t":"2024-01-02T03:04:05.000000600Z"`) {
				t.Errorf("AppendJSON = %s, want type and fixed-width time first", b)
			}
			var got Event
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("Unmarshal(%s): %v", b, err)
			}
			want := tc.ev.Clone()
			normalize(&got)
			normalize(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip of %s:\n got %+v\nwant %+v", b, got, want)
			}
		})
	}
}

// normalize makes nil and empty slices equal for comparison.
func normalize(e *Event) {
	if len(e.Warnings) == 0 {
		e.Warnings = nil
	}
	if len(e.WSOpen.Offered) == 0 {
		e.WSOpen.Offered = nil
	}
	if len(e.Message.Packets) == 0 {
		e.Message.Packets = nil
	}
	if len(e.Message.Payload) == 0 {
		e.Message.Payload = nil
	}
}

func TestAppendJSONAllocs(t *testing.T) {
	ev := Event{Type: TypeWSMessage, Time: jsonTime, Conn: 1, From: FromServer, Packet: 8, Note: "the server sent a text message",
		Message: Message{Opcode: "text", Len: 5, Frames: 1, Packets: []int64{8}, Payload: []byte(`{"a":1}`)}}
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { buf = ev.AppendJSON(buf[:0]) }); n != 0 {
		t.Errorf("AppendJSON allocates %v times per event, want 0", n)
	}
}

// BenchmarkAppendJSONEvent encodes the events a WebSocket capture is made
// of: frames, and text and binary messages, with notes built as the
// Analyzer builds them, by the encoder of DecodeJSON ("notes") and by
// AppendJSON, which escapes them ("escaped").
func BenchmarkAppendJSONEvent(b *testing.B) {
	bin := make([]byte, 4096)
	for i := range bin {
		bin[i] = byte(i * 13)
	}
	notes := new(jsonenc.Notes)
	events := []struct {
		name string
		ev   Event
	}{
		{"frame", Event{Type: TypeWSFrame, Time: jsonTime, Conn: 101, From: FromServer, Packet: 1101,
			Frame: Frame{Fin: true, Opcode: 1, Len: 147},
			Note:  notes.Frame(FromServer, FromClient, "text", &wsproto.Frame{Fin: true, Opcode: 1, Len: 147})}},
		{"text", Event{Type: TypeWSMessage, Time: jsonTime, Conn: 101, From: FromServer, Packet: 1101,
			Message: Message{Opcode: "text", Len: 138, WireLen: 138, Frames: 1, Packets: []int64{1101},
				Payload: []byte(`{"type":"tick","conn":99,"seq":0,"symbol":"WSVZ","price":798.24,"volume":902434,"bids":[118.26,149.40,189.11,133.80,103.45,118.53,122.85]}`)},
			Note: notes.DataMessage(FromServer, true, &wsproto.Message{Opcode: opText, Len: 138, WireLen: 138, Frames: 1})}},
		{"binary", Event{Type: TypeWSMessage, Time: jsonTime, Conn: 101, From: FromClient, Packet: 1101,
			Message: Message{Opcode: "binary", Len: 5000, WireLen: 5000, Frames: 1, Packets: []int64{1100, 1101, 1102, 1103}, Payload: bin, Truncated: true},
			Note:    notes.DataMessage(FromClient, false, &wsproto.Message{Opcode: opBinary, Len: 5000, WireLen: 5000, Frames: 1, Truncated: true})}},
	}
	buf := make([]byte, 0, 64<<10)
	var times jsonenc.TimeCache
	for _, e := range events {
		b.Run(e.name+"/notes", func(b *testing.B) {
			for b.Loop() {
				buf = e.ev.appendJSON(buf[:0], &times, notes)
			}
			b.SetBytes(int64(len(buf)))
		})
		b.Run(e.name+"/escaped", func(b *testing.B) {
			for b.Loop() {
				buf = e.ev.AppendJSON(buf[:0])
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}
