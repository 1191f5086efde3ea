package ui

import (
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

// h2Side writes what one side of an HTTP/2 connection sends, its HPACK
// state carried from block to block.
type h2Side struct {
	k      *capturetest.Conn
	client bool
	enc    *analyzetest.H2
}

func (s *h2Side) send(b ...[]byte) {
	if s.client {
		s.k.Client(slices.Concat(b...))
	} else {
		s.k.Server(slices.Concat(b...))
	}
}

// headers sends a HEADERS frame of fields on stream id.
func (s *h2Side) headers(id uint32, end bool, fields ...string) {
	s.send(s.enc.Headers(id, end, fields...))
}

// data sends a DATA frame on stream id.
func (s *h2Side) data(id uint32, end bool, p []byte) { s.send(analyzetest.H2DataFrame(id, end, p)) }

// h2Open starts an HTTP/2 connection in cleartext (prior knowledge, RFC
// 9113 §3.3) whose server allows extended CONNECT (RFC 8441 §3), and
// returns its two sides.
func h2Open(c *capturetest.Capture, clientAddr string) (cli, srv *h2Side) {
	k := c.Conn(clientAddr, "10.0.0.2:8080")
	k.Handshake()
	cli = &h2Side{k, true, analyzetest.NewH2()}
	srv = &h2Side{k, false, analyzetest.NewH2()}
	cli.send([]byte(analyzetest.H2Preface), analyzetest.H2SettingsFrame())
	srv.send(analyzetest.H2SettingsFrame(analyzetest.H2SettingEnableConnectProtocol, 1), analyzetest.H2Frame(analyzetest.H2Settings, 1, 0, nil))
	cli.send(analyzetest.H2Frame(analyzetest.H2Settings, 1, 0, nil))
	return cli, srv
}

// connect asks for a WebSocket on stream id (RFC 8441 §4).
func (s *h2Side) connect(id uint32, path string) {
	s.headers(id, false, ":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":path", path, ":authority", "chat.example:8080",
		"sec-websocket-version", "13", "sec-websocket-protocol", "chat.v2")
}

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
	cli, srv := h2Open(c, "10.0.0.1:50001")
	cli.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/", ":authority", "chat.example:8080")
	srv.headers(1, false, ":status", "200", "content-type", "text/html")
	srv.data(1, true, []byte("<html>the page</html>"))
	cli.connect(3, "/chat?room=1")
	cli.connect(5, "/feed")
	srv.headers(3, false, ":status", "200", "sec-websocket-protocol", "chat.v2")
	srv.headers(5, false, ":status", "200", "sec-websocket-protocol", "chat.v2")
	cli.data(3, false, analyzetest.Text(true, "hello on 3"))
	srv.data(5, false, analyzetest.Text(false, "feed item 1"))
	srv.data(3, false, analyzetest.Text(false, "reply on 3"))
	cli.data(5, false, analyzetest.Binary(true, []byte{1, 2, 3}))
	cli.headers(7, true, ":method", "GET", ":scheme", "http", ":path", "/favicon.ico", ":authority", "chat.example:8080")
	srv.headers(7, true, ":status", "404")
	cli.data(3, false, analyzetest.Close(true, 1000, "bye"))
	srv.data(3, true, analyzetest.Close(false, 1000, "bye"))
	cli.data(3, true, nil)
	srv.data(5, false, analyzetest.Close(false, 1001, "going away"))
	cli.data(5, false, analyzetest.Close(true, 1001, ""))
	srv.send(analyzetest.H2RSTStreamFrame(5, 0)) // NO_ERROR
	cli.k.CloseFIN(true)
	cli.k.CloseFIN(false)

	cli, srv = h2Open(c, "10.0.0.1:50002")
	cli.connect(1, "/admin")
	srv.headers(1, true, ":status", "403")
	cli.k.CloseFIN(true)
	cli.k.CloseFIN(false)

	cli, srv = h2Open(c, "10.0.0.1:50003")
	cli.connect(1, "/live")
	srv.headers(1, false, ":status", "200", "sec-websocket-protocol", "chat.v2")
	srv.data(1, false, analyzetest.Text(false, "tick"))
	cli.send(analyzetest.H2RSTStreamFrame(1, 0x8)) // CANCEL
	cli.k.CloseFIN(true)
	cli.k.CloseFIN(false)
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
