package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// h2Open starts an HTTP/2 connection in cleartext (prior knowledge, RFC
// 9113 §3.3) whose server allows extended CONNECT (RFC 8441 §3), its
// requests for chat.example:8080.
func h2Open(c *capturetest.Capture, clientAddr string) *analyzetest.H2Conn {
	k := c.Conn(clientAddr, "10.0.0.2:8080")
	k.Handshake()
	h := analyzetest.OpenH2(k, true)
	h.Scheme, h.Authority = "http", "chat.example:8080"
	return h
}

// chatV2 offers and selects the subprotocol chat.v2.
var chatV2 = []string{"sec-websocket-protocol", "chat.v2"}

// h2Capture is a capture of three HTTP/2 connections in cleartext:
//
//  1. two WebSockets on streams 3 (/chat) and 5 (/feed) among plain GETs
//     on streams 1 and 7; stream 3 closes and ends both ways
//     (END_STREAM), stream 5 closes and the server resets it with
//     NO_ERROR (as Chromium's servers do); then TCP FIN;
//  2. an extended CONNECT the server refuses with 403;
//  3. a WebSocket on stream 1 the client resets (RST_STREAM CANCEL) in
//     the middle.
func h2Capture() *capturetest.Capture {
	c := capturetest.NewCapture(capturetest.Options{})
	h := h2Open(c, "10.0.0.1:50001")
	h.Request(1, "GET", "/")
	h.ServerSends(h.Server.Headers(1, false, ":status", "200", "content-type", "text/html"))
	h.ServerData(1, true, []byte("<html>the page</html>"))
	h.Connect(3, "/chat?room=1", chatV2...)
	h.Connect(5, "/feed", chatV2...)
	h.Answer(3, "200", chatV2...)
	h.Answer(5, "200", chatV2...)
	h.ClientData(3, false, analyzetest.Text(true, "hello on 3"))
	h.ServerData(5, false, analyzetest.Text(false, "feed item 1"))
	h.ServerData(3, false, analyzetest.Text(false, "reply on 3"))
	h.ClientData(5, false, analyzetest.Binary(true, []byte{1, 2, 3}))
	h.Request(7, "GET", "/favicon.ico")
	h.ServerSends(h.Server.Headers(7, true, ":status", "404"))
	h.ClientData(3, false, analyzetest.Close(true, 1000, "bye"))
	h.ServerData(3, true, analyzetest.Close(false, 1000, "bye"))
	h.ClientData(3, true)
	h.ServerData(5, false, analyzetest.Close(false, 1001, "going away"))
	h.ClientData(5, false, analyzetest.Close(true, 1001, ""))
	h.ServerSends(analyzetest.H2RSTStreamFrame(5, 0)) // NO_ERROR
	h.Close()

	h = h2Open(c, "10.0.0.1:50002")
	h.Connect(1, "/admin", chatV2...)
	h.ServerSends(h.Server.Headers(1, true, ":status", "403"))
	h.Close()

	h = h2Open(c, "10.0.0.1:50003")
	h.Connect(1, "/live", chatV2...)
	h.Answer(1, "200", chatV2...)
	h.ServerData(1, false, analyzetest.Text(false, "tick"))
	h.ClientSends(analyzetest.H2RSTStreamFrame(1, 0x8)) // CANCEL
	h.Close()
	return c
}

// h2Events decodes h2Capture, and fails on any warning but the refusal's:
// it is meant to keep every rule.
func h2Events(t *testing.T) []analyze.Event {
	t.Helper()
	var out []analyze.Event
	err := analyze.Decode(h2Capture().Open(), analyze.Options{}, func(ev *analyze.Event) error {
		if len(ev.Warnings) > 0 && !(len(ev.Warnings) == 1 && ev.HasWarning("http.upgrade_rejected")) {
			t.Errorf("h2Capture: %s %+v", ev.Type, ev.Warnings)
		}
		out = append(out, ev.Clone())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestH2Capture checks that h2Capture decodes as the tests below expect:
// the WebSockets and their streams' ends.
func TestH2Capture(t *testing.T) {
	var got []string
	for _, ev := range h2Events(t) {
		switch ev.Type {
		case analyze.TypeWSOpen, analyze.TypeH2StreamClose:
			got = append(got, fmt.Sprintf("%d %s s%d %s %s", ev.Conn, ev.Type, ev.Stream, ev.H2Close.How, ev.H2Close.ErrorCode))
		}
	}
	want := []string{
		"1 ws.open s3  ", "1 ws.open s5  ", "1 h2.stream_close s3 end_stream ", "1 h2.stream_close s5 rst_stream NO_ERROR",
		"3 ws.open s1  ", "3 h2.stream_close s1 rst_stream CANCEL",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("h2Capture decodes as\n%q\nwant\n%q", got, want)
	}
}

// TestConnStateHTTP2: an HTTP/2 connection that carried WebSockets (RFC
// 8441) is a WebSocket connection whose state sums up its streams'; one
// without is in state h2, or handshake or rejected for its extended
// CONNECTs.
func TestConnStateHTTP2(t *testing.T) {
	tls := analyze.Event{Type: analyze.TypeTLSHandshake, TLS: analyze.TLS{Version: "TLS 1.3", Keys: true, ALPN: "h2"}}
	get := func(id uint32) []analyze.Event {
		return []analyze.Event{
			{Type: analyze.TypeHTTPRequest, From: "client", Stream: id, HTTP: analyze.HTTP{Method: "GET", Target: "/", Proto: "HTTP/2", Header: http.Header{":method": {"GET"}, ":path": {"/"}}}},
			{Type: analyze.TypeHTTPResponse, From: "server", Stream: id, HTTP: analyze.HTTP{Status: 200, Proto: "HTTP/2", Header: http.Header{":status": {"200"}}}},
		}
	}
	connect := func(id uint32, path string) analyze.Event {
		return analyze.Event{Type: analyze.TypeHTTPRequest, From: "client", Stream: id, HTTP: analyze.HTTP{Method: "CONNECT", Target: path, Proto: "HTTP/2",
			Header: http.Header{":method": {"CONNECT"}, ":protocol": {"websocket"}, ":path": {path}, ":authority": {"example.com"}}}}
	}
	answer := func(id uint32, status int) analyze.Event {
		return analyze.Event{Type: analyze.TypeHTTPResponse, From: "server", Stream: id, HTTP: analyze.HTTP{Status: status, Proto: "HTTP/2", Header: http.Header{":status": {fmt.Sprint(status)}}}}
	}
	// opened is a WebSocket asked for and accepted on stream id.
	opened := func(id uint32, path string) []analyze.Event {
		return []analyze.Event{connect(id, path), answer(id, 200), {Type: analyze.TypeWSOpen, Stream: id, WSOpen: analyze.WSOpen{Path: path, Subprotocol: "chat"}}}
	}
	closeMsg := func(id uint32, from string) analyze.Event {
		return analyze.Event{Type: analyze.TypeWSMessage, From: from, Stream: id, Message: analyze.Message{Opcode: "close", Code: 1000}}
	}
	closes := func(id uint32) []analyze.Event {
		return []analyze.Event{closeMsg(id, "client"), closeMsg(id, "server")}
	}
	end := func(id uint32) analyze.Event {
		return analyze.Event{Type: analyze.TypeH2StreamClose, From: "client", Stream: id, H2Close: analyze.H2Close{How: analyze.CloseEndStream}}
	}
	rst := func(id uint32, code string) analyze.Event {
		return analyze.Event{Type: analyze.TypeH2StreamClose, From: "server", Stream: id, H2Close: analyze.H2Close{How: analyze.CloseRSTStream, ErrorCode: code}}
	}
	tcp := func(how string) analyze.Event {
		return analyze.Event{Type: analyze.TypeTCPClose, TCPClose: analyze.TCPClose{How: how}}
	}
	cat := func(parts ...any) []analyze.Event {
		var out []analyze.Event
		for _, p := range parts {
			switch p := p.(type) {
			case analyze.Event:
				out = append(out, p)
			case []analyze.Event:
				out = append(out, p...)
			}
		}
		return out
	}
	tests := []struct {
		name string
		evs  []analyze.Event
		want string
	}{
		{"plain requests", cat(tls, get(1), get(3), tcp("fin")), StateHTTP2},
		{"extended CONNECT unanswered", cat(tls, get(1), connect(3, "/ws")), StateHandshake},
		{"extended CONNECT unanswered, reset", cat(tls, connect(1, "/ws"), tcp("rst")), StateReset},
		{"extended CONNECT interim answer", cat(tls, connect(1, "/ws"), answer(1, 103)), StateHandshake},
		{"extended CONNECT refused", cat(tls, connect(1, "/ws"), answer(1, 403), get(3), tcp("fin")), StateRejected},
		{"extended CONNECT reset before its answer", cat(tls, connect(1, "/ws"), rst(1, "CANCEL"), get(3)), StateHTTP2},
		{"refused, then another accepted", cat(tls, connect(1, "/ws"), answer(1, 403), opened(3, "/ws")), StateOpen},
		{"open", cat(tls, get(1), opened(3, "/ws")), StateOpen},
		{"closed: end_stream", cat(tls, opened(1, "/ws"), closes(1), end(1)), StateClosed},
		{"closed: rst_stream NO_ERROR after both closes", cat(tls, opened(1, "/ws"), closes(1), rst(1, "NO_ERROR"), tcp("fin")), StateClosed},
		{"closed: two WebSockets, then more requests", cat(tls, opened(1, "/a"), opened(3, "/b"), closes(3), end(3), closes(1), rst(1, "NO_ERROR"), get(5)), StateClosed},
		{"closed: TCP FIN after both closes", cat(tls, opened(1, "/ws"), closes(1), tcp("fin")), StateClosed},
		{"unclean: end_stream without close", cat(tls, opened(1, "/ws"), end(1)), StateUnclean},
		{"unclean: rst_stream NO_ERROR after one close", cat(tls, opened(1, "/ws"), closeMsg(1, "client"), rst(1, "NO_ERROR")), StateUnclean},
		{"unclean: TCP FIN while open", cat(tls, opened(1, "/a"), opened(3, "/b"), closes(1), tcp("fin")), StateUnclean},
		{"unclean: one ended without close, none open", cat(tls, opened(1, "/a"), opened(3, "/b"), closes(1), end(1), end(3)), StateUnclean},
		{"open beats an earlier unclean stream", cat(tls, opened(1, "/a"), end(1), opened(3, "/b")), StateOpen},
		{"reset: rst_stream CANCEL", cat(tls, opened(1, "/a"), opened(3, "/b"), closes(1), end(1), rst(3, "CANCEL")), StateReset},
		{"reset: rst_stream CANCEL after both closes", cat(tls, opened(1, "/a"), closes(1), rst(1, "CANCEL")), StateReset},
		{"reset: TCP RST after clean streams", cat(tls, opened(1, "/a"), closes(1), end(1), tcp("rst")), StateReset},
		{"gap", cat(tls, opened(1, "/a"), analyze.Event{Type: analyze.TypeTCPGap}, closes(1), end(1)), StateGap},
		{"ended", cat(tls, opened(1, "/a"), closes(1), end(1), opened(3, "/b"), tcp("end")), StateEnded},
		{"prior knowledge, no TLS", cat(opened(1, "/ws"), closes(1), end(1), tcp("fin")), StateClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c connInfo
			var s ConnState // wsviz stats names states through it
			for i := range tc.evs {
				tc.evs[i].Time = t0
				c.update(&tc.evs[i], t0.UnixNano())
				s.Update(&tc.evs[i])
			}
			if c.State != tc.want || s.State() != tc.want {
				t.Errorf("state after %s = %q (ConnState %q), want %q", tc.name, c.State, s.State(), tc.want)
			}
			if !c.HTTP2 {
				t.Errorf("%s: HTTP2 = false", tc.name)
			}
		})
	}
}

// TestConnInfoHTTP2 checks the table's summary of each connection of
// h2Capture: the first WebSocket names the connection, and the others are
// counted.
func TestConnInfoHTTP2(t *testing.T) {
	conns := map[int]*connInfo{}
	for _, ev := range h2Events(t) {
		c := conns[ev.Conn]
		if c == nil {
			c = &connInfo{ID: ev.Conn}
			conns[ev.Conn] = c
		}
		c.update(&ev, t0.UnixNano())
	}
	type summary struct {
		State, Path, Subprotocol, Host string
		WS, HTTP2                      bool
		WSStreams                      int
		Stream                         uint32
		Status, Requests               int
		Messages                       [2]int64
	}
	want := map[int]summary{
		1: {StateClosed, "/chat?room=1", "chat.v2", "chat.example:8080", true, true, 2, 3, 200, 4, [2]int64{4, 4}},
		2: {StateRejected, "/admin", "", "chat.example:8080", false, true, 0, 0, 403, 1, [2]int64{}},
		3: {StateReset, "/live", "chat.v2", "chat.example:8080", true, true, 1, 1, 200, 1, [2]int64{0, 1}},
	}
	for id, w := range want {
		c := conns[id]
		got := summary{c.State, c.Path, c.Subprotocol, c.Host, c.WS, c.HTTP2, c.WSStreams, c.Stream, c.Status, c.Requests, c.Messages}
		if got != w {
			t.Errorf("connection %d = %+v, want %+v", id, got, w)
		}
	}
	b, err := json.Marshal(conns[1])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"ws_streams":2`)) || !bytes.Contains(b, []byte(`"stream":3`)) || !bytes.Contains(b, []byte(`"h2":true`)) {
		t.Errorf("connection 1 as the page gets it: %s", b)
	}
}

// TestH2RowsCarryTheirStream: the rows of the list, step, event and tiles
// APIs say the HTTP/2 stream of the events that have one (a tenth
// element, absent on the others: rows of HTTP/1.1 are as before), and the
// ladder's steps of one connection can be asked for one stream alone.
func TestH2RowsCarryTheirStream(t *testing.T) {
	s, hs := newTestServer(t, Options{})
	evs := h2Events(t)
	publishAll(t, s, evs)
	checkRow := func(what string, raw json.RawMessage) {
		t.Helper()
		var row []float64
		if err := json.Unmarshal(raw, &row); err != nil {
			t.Fatalf("%s: row %s: %v", what, raw, err)
		}
		id := int(row[0])
		want := 9
		if evs[id].Stream != 0 {
			want = 10
		}
		if len(row) != want || want == 10 && row[9] != float64(evs[id].Stream) {
			t.Errorf("%s: row of event %d (%s, stream %d) = %s", what, id, evs[id].Type, evs[id].Stream, raw)
		}
	}
	var page struct {
		Total int
		Rows  []json.RawMessage
	}
	if code := getJSON(t, hs.URL+"/api/list?list=steps&conn=1&limit=1000", &page); code != 200 {
		t.Fatalf("steps: status %d", code)
	}
	for _, r := range page.Rows {
		checkRow("steps", r)
	}
	if code := getJSON(t, hs.URL+"/api/list?list=messages&limit=1000", &page); code != 200 || page.Total != 9 {
		t.Fatalf("messages: status %d, %d messages", code, page.Total)
	}
	for _, r := range page.Rows {
		checkRow("messages", r)
	}
	var step struct{ Row json.RawMessage }
	if code := getJSON(t, hs.URL+"/api/step?from=0", &step); code != 200 {
		t.Fatalf("step: status %d", code)
	}
	checkRow("step", step.Row)
	for id := range evs {
		var ev eventJSON
		if code := getJSON(t, fmt.Sprintf("%s/api/event?id=%d", hs.URL, id), &ev); code != 200 {
			t.Fatalf("event %d: status %d", id, code)
		}
		checkRow("event", ev.Row)
		if want := fmt.Sprintf(`"stream":%d,`, evs[id].Stream); evs[id].Stream != 0 && !strings.Contains(string(ev.Event), want) {
			t.Errorf("event %d: %s lacks %s", id, ev.Event, want)
		}
	}
	for _, e := range getTiles(t, hs.URL+"/api/tiles?l=10&i0=0&i1=1&conns=1,2,3") {
		for k, r := range e.rows {
			if id := int(r[0]); e.streams[k] != evs[id].Stream {
				t.Errorf("tiles: row of event %d has stream %d, want %d", id, e.streams[k], evs[id].Stream)
			}
		}
	}

	// The steps of stream 3 and of stream 5 of connection 1: their own
	// events, from the extended CONNECT to the stream's end.
	for _, stream := range []uint32{3, 5} {
		var want []int
		for id, ev := range evs {
			if ev.Conn == 1 && ev.Stream == stream && ev.Type != analyze.TypeWSFrame {
				want = append(want, id)
			}
		}
		if code := getJSON(t, fmt.Sprintf("%s/api/list?list=steps&conn=1&stream=%d&limit=1000", hs.URL, stream), &page); code != 200 {
			t.Fatalf("steps of stream %d: status %d", stream, code)
		}
		var got []int
		for _, r := range page.Rows {
			var row []float64
			json.Unmarshal(r, &row)
			got = append(got, int(row[0]))
		}
		if page.Total != len(want) || !slices.Equal(got, want) || evs[got[0]].Type != analyze.TypeHTTPRequest || evs[got[len(got)-1]].Type != analyze.TypeH2StreamClose {
			t.Errorf("steps of stream %d = %v (total %d), want %v", stream, got, page.Total, want)
		}
	}
	for _, bad := range []string{"list=steps&conn=1&stream=x", "list=steps&conn=1&stream=-1", "list=messages&stream=3"} {
		if code := getJSON(t, hs.URL+"/api/list?"+bad, nil); code != http.StatusBadRequest {
			t.Errorf("/api/list?%s: status %d, want 400", bad, code)
		}
	}
}

// TestWriteHARHTTP2: each WebSocket of an HTTP/2 connection is an entry of
// its own (RFC 8441): its extended CONNECT and answer, and its stream's
// messages only; plain requests are not entries, a refused extended
// CONNECT is one without messages.
func TestWriteHARHTTP2(t *testing.T) {
	evs := h2Events(t)
	// Connection 3's WebSocket as a browser asks for it over TLS.
	for i := range evs {
		if evs[i].Conn == 3 && evs[i].Type == analyze.TypeHTTPRequest {
			evs[i].HTTP.Header[":scheme"] = []string{"https"}
		}
	}
	var buf bytes.Buffer
	if err := WriteHAR(&buf, slices.Values(ptrs(evs))); err != nil {
		t.Fatal(err)
	}
	var h harFile
	if err := json.Unmarshal(buf.Bytes(), &h); err != nil {
		t.Fatalf("HAR is not JSON: %v\n%s", err, buf.Bytes())
	}
	type msg struct{ Type, Data string }
	type entry struct {
		URL, Method, ReqVersion, RespVersion, StatusText string
		Status                                           int
		Messages                                         string
	}
	var got []entry
	for _, e := range h.Log.Entries {
		var ms []string
		for _, m := range e.WebSocketMessages {
			ms = append(ms, m.Type+" "+m.Data)
		}
		got = append(got, entry{e.Request.URL, e.Request.Method, e.Request.HTTPVersion, e.Response.HTTPVersion, e.Response.StatusText, e.Response.Status, strings.Join(ms, "|")})
		if !slices.Contains(e.Request.Headers, struct{ Name, Value string }{":protocol", "websocket"}) {
			t.Errorf("entry %s: request headers %v lack :protocol websocket", e.Request.URL, e.Request.Headers)
		}
	}
	want := []entry{
		{"ws://chat.example:8080/chat?room=1", "CONNECT", "HTTP/2", "HTTP/2", "", 200, "send hello on 3|receive reply on 3"},
		{"ws://chat.example:8080/feed", "CONNECT", "HTTP/2", "HTTP/2", "", 200, "receive feed item 1|send AQID"},
		{"ws://chat.example:8080/admin", "CONNECT", "HTTP/2", "HTTP/2", "", 403, ""},
		{"wss://chat.example:8080/live", "CONNECT", "HTTP/2", "HTTP/2", "", 200, "receive tick"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("HAR entries =\n%+v\nwant\n%+v", got, want)
	}
	if e := h.Log.Entries[0]; len(e.Request.QueryString) != 1 || e.Request.QueryString[0].Name != "room" || e.ServerIPAddress != "10.0.0.2" {
		t.Errorf("entry 0: queryString %+v, server %q", e.Request.QueryString, e.ServerIPAddress)
	}

	// A message chosen (as the page's filtered export does) brings its
	// stream's entry, not its connection's other WebSocket.
	s, hs := newTestServer(t, Options{})
	publishAll(t, s, evs)
	feed := slices.IndexFunc(evs, func(ev analyze.Event) bool { return string(ev.Message.Payload) == "feed item 1" })
	h, body := exportHAR(t, hs.URL, feed)
	if len(h.Log.Entries) != 1 || h.Log.Entries[0].Request.URL != "ws://chat.example:8080/feed" || len(h.Log.Entries[0].WebSocketMessages) != 1 {
		t.Errorf("filtered HAR = %s", body)
	}
}
