package ui

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsviz/wsviz/analyze"
)

const hostile = `<script>alert(1)</script><img src=x onerror=alert(1)>`

func TestStaticFilesAndHeaders(t *testing.T) {
	_, hs := newTestServer(t, Options{})
	tests := []struct {
		path, wantType string
		wantStatus     int
		wantBody       string
	}{
		{"/", "text/html", 200, `<script type="module" src="/static/app.js">`},
		{"/static/app.js", "javascript", 200, "class App"},
		{"/static/style.css", "text/css", 200, "--text:"},
		{"/static/nope.js", "", 404, ""},
		{"/api/event?id=0", "", 404, ""},
		{"/api/event?id=x", "", 400, ""},
		{"/elsewhere", "", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get(hs.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("GET %s: status = %d, want %d", tc.path, resp.StatusCode, tc.wantStatus)
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != contentSecurityPolicy {
				t.Errorf("GET %s: CSP = %q, want %q", tc.path, got, contentSecurityPolicy)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("GET %s: X-Content-Type-Options = %q, want nosniff", tc.path, got)
			}
			if got := resp.Header.Get("Content-Type"); !strings.Contains(got, tc.wantType) {
				t.Errorf("GET %s: Content-Type = %q, want %q", tc.path, got, tc.wantType)
			}
			if !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("GET %s: body lacks %q", tc.path, tc.wantBody)
			}
		})
	}
}

// The page must not need what the CSP forbids: no inline script or style,
// no inline event handler, no innerHTML with data.
func TestPageNeedsNothingTheCSPForbids(t *testing.T) {
	entries, err := staticFiles.ReadDir("static")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := staticFiles.ReadFile("static/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", " onclick=", " onload=", "<style", "style=\""} {
			if strings.Contains(src, bad) {
				t.Errorf("static/%s contains %q", e.Name(), bad)
			}
		}
		if strings.HasSuffix(e.Name(), ".html") && strings.Count(src, "<script") != strings.Count(src, `<script type="module" src=`)+strings.Count(src, `<script src=`) {
			t.Errorf("static/%s has an inline script", e.Name())
		}
	}
}

func TestHostAllowed(t *testing.T) {
	tests := []struct {
		host    string
		allowed []string
		want    bool
	}{
		{"127.0.0.1:8080", nil, true},
		{"localhost:8080", nil, true},
		{"LOCALHOST", nil, true},
		{"[::1]:8080", nil, true},
		{"192.168.1.5:8080", nil, true}, // an IP literal cannot be rebound
		{"evil.example:8080", nil, false},
		{"evil.example", nil, false},
		{"", nil, false},
		{"mybox:8080", []string{"mybox"}, true},
		{"MyBox:8080", []string{"mybox"}, true},
		{"other:8080", []string{"mybox"}, false},
		{"anything:1", []string{"*"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			if got := hostAllowed(tc.host, tc.allowed); got != tc.want {
				t.Errorf("hostAllowed(%q, %q) = %v, want %v", tc.host, tc.allowed, got, tc.want)
			}
		})
	}
}

func TestRebindingHostRefused(t *testing.T) {
	_, hs := newTestServer(t, Options{})
	req, _ := http.NewRequest("GET", hs.URL+"/api/search?q=x", nil)
	req.Host = "attacker.example:80"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET with Host %q: status = %d, want 403", req.Host, resp.StatusCode)
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("403 response without CSP")
	}
}

func TestWebSocketChecksOrigin(t *testing.T) {
	_, hs := newTestServer(t, Options{})
	u := "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
	host := strings.TrimPrefix(hs.URL, "http://")
	tests := []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"http://" + host, true},
		{"http://evil.example", false},
		{"http://" + host + ".evil.example", false},
	}
	for _, tc := range tests {
		t.Run(tc.origin, func(t *testing.T) {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			c, resp, err := websocket.DefaultDialer.Dial(u, h)
			if c != nil {
				c.Close()
			}
			if (err == nil) != tc.ok {
				status := 0
				if resp != nil {
					status = resp.StatusCode
				}
				t.Errorf("Dial with Origin %q: err = %v (status %d), want ok = %v", tc.origin, err, status, tc.ok)
			}
		})
	}
}

func TestStreamMatchesEvents(t *testing.T) {
	s, hs := newTestServer(t, Options{FlushInterval: 5 * time.Millisecond})
	s.SetSource("test.pcapng")
	evs := conversation(1, t0, text("hello"), binaryMsg([]byte{0, 1, 2, 255}), text(hostile))
	evs = append(evs, conversation(2, t0.Add(time.Second), text("second"))...)
	// The first half arrives before the tab opens, the rest after: the
	// status tells the tab how many events there are as they come.
	half := len(evs) / 2
	publishAll(t, s, evs[:half])
	c := dial(t, hs)
	var tb tab
	tb.readUntil(t, c, func(tb *tab) bool { return tb.status.Events == half })
	publishAll(t, s, evs[half:])
	s.Progress(100, 100)
	s.Done(nil)
	tb.readUntil(t, c, func(tb *tab) bool { return tb.status.Events == len(evs) && tb.status.Done && len(tb.conns) == 2 })

	// Each event's row, as the page asks for it.
	for i, ev := range evs {
		want := rowOf(&ev)
		if ev.Type == analyze.TypeHTTPRequest || ev.Type == analyze.TypeHTTPResponse {
			want.flags |= flagUpgrade // an upgrade request, and the response that answers it
		}
		var got struct{ Row []float64 }
		getJSON(t, hs.URL+"/api/event?id="+itoa(i), &got)
		wantT := float64(ev.Time.Sub(evs[0].Time).Nanoseconds()) / 1e3
		wantRow := []float64{float64(i), wantT, float64(want.size), float64(ev.Packet), float64(ev.Conn),
			float64(want.typ), float64(want.from), float64(want.kind), float64(want.flags)}
		if !slices.Equal(got.Row, wantRow) {
			t.Errorf("event %d (%s): row %v, want %v", i, ev.Type, got.Row, wantRow)
		}
	}
	st := tb.status
	if st.Source != "test.pcapng" || st.Events != len(evs) || st.Conns != 2 || st.Messages != 8 || !st.Done || st.Read != 100 {
		t.Errorf("status = %+v", st)
	}
	if st.T0 != evs[0].Time.Format(time.RFC3339Nano) || st.T0Sec != evs[0].Time.Unix() {
		t.Errorf("status t0 = %q %d, want %q", st.T0, st.T0Sec, evs[0].Time.Format(time.RFC3339Nano))
	}
	c1 := tb.conns[1]
	if c1.Client != "127.0.0.1:50001" || c1.Server != "127.0.0.1:9001" || c1.Path != "/chat?room=1" || c1.Subprotocol != "chat" ||
		c1.State != StateClosed || c1.Messages != [2]int64{3, 2} || c1.Status != 101 || c1.Host != "example.test:9001" {
		t.Errorf("conn 1 = %+v", c1)
	}
}

func TestSecondTabGetsEverything(t *testing.T) {
	s, hs := newTestServer(t, Options{FlushInterval: 5 * time.Millisecond})
	evs := conversation(1, t0, text("a"), text("b"))
	publishAll(t, s, evs)
	tabs := []*websocket.Conn{dial(t, hs), dial(t, hs), dial(t, hs)}
	for i, c := range tabs {
		var tb tab
		tb.readUntil(t, c, func(tb *tab) bool { return tb.status.Events == len(evs) && len(tb.conns) == 1 })
		if tb.conns[1].State != StateClosed {
			t.Errorf("tab %d: connection 1 %q, want closed", i, tb.conns[1].State)
		}
	}
}

// A tab that does not read must not block Publish nor grow the server's
// memory: its queue fills, it is marked behind, and when it reads again it
// is told so and re-synced to the latest status. The tab's connection
// takes no write until the test lets it (stalledListener), so the stall is
// certain whatever the machine's speed, and nothing here is timed: were
// Publish to wait for the tab, it would never return and the test would
// fail by its timeout.
func TestSlowTabIsReSynced(t *testing.T) {
	s, err := NewServer(Options{TempDir: t.TempDir(), QueueLen: 2, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(s.Handler())
	gate := make(chan struct{})
	hs.Listener = &stalledListener{Listener: hs.Listener, gate: gate}
	hs.Start()
	defer hs.Close()
	defer s.Close()
	c := dial(t, hs)
	var evs []analyze.Event
	for i := 1; len(evs) < 2000; i++ {
		evs = append(evs, conversation(i, t0.Add(time.Duration(i)*time.Second), text("a"), text("b"), text("c"))...)
	}
	for i := range evs {
		s.Publish(&evs[i])
		if i%50 == 0 {
			// Many flushes, so that the two-slot queue overflows while
			// the tab's first write is stalled.
			s.mu.Lock()
			s.flushLocked()
			s.mu.Unlock()
		}
	}
	s.Done(nil)
	s.mu.Lock()
	queued, behind := 0, false
	for cl := range s.clients {
		queued, behind = len(cl.send), cl.behind
	}
	s.mu.Unlock()
	if queued > 2 || !behind {
		t.Errorf("stalled tab: %d updates queued, behind %v; want at most 2, true", queued, behind)
	}
	// Let the tab read: it is told it fell behind, then gets the
	// latest status and every connection.
	close(gate)
	var tb tab
	tb.readUntil(t, c, func(tb *tab) bool {
		return tb.behind > 0 && tb.status.Done && tb.status.Events == len(evs) && len(tb.conns) == evs[len(evs)-1].Conn
	})
	s.mu.Lock()
	resyncs := 0
	for cl := range s.clients {
		resyncs = cl.resyncs
	}
	s.mu.Unlock()
	if resyncs == 0 {
		t.Errorf("the stalled tab was never re-synced")
	}
}

// stalledListener hands out connections whose writes wait until gate is
// closed (their write deadlines are ignored, so the stall cannot end in a
// timeout): a browser tab that stopped reading.
type stalledListener struct {
	net.Listener
	gate chan struct{}
}

func (l *stalledListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &stalledConn{Conn: c, gate: l.gate}, nil
}

type stalledConn struct {
	net.Conn
	gate chan struct{}
}

func (c *stalledConn) Write(p []byte) (int, error) {
	if isWebSocketFrame(p) {
		<-c.gate
	}
	return c.Conn.Write(p)
}

func (c *stalledConn) SetWriteDeadline(time.Time) error { return nil }
func (c *stalledConn) SetDeadline(time.Time) error      { return nil }

// isWebSocketFrame tells the frames the server writes after the upgrade
// from the HTTP answer to the upgrade, which must pass for the tab to
// connect.
func isWebSocketFrame(p []byte) bool { return !bytes.HasPrefix(p, []byte("HTTP/")) }

func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == 200 && v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
	}
	return resp.StatusCode
}

func TestEventAndPayloadAPI(t *testing.T) {
	s, hs := newTestServer(t, Options{})
	evs := conversation(1, t0, text(hostile), binaryMsg([]byte{0, 0xff, 0x80}))
	publishAll(t, s, evs)
	var msgID int
	for i, ev := range evs {
		if ev.Type == analyze.TypeWSMessage && ev.Message.Opcode == "text" {
			msgID = i
			break
		}
	}
	var got eventJSON
	if code := getJSON(t, hs.URL+"/api/event?id="+itoa(msgID), &got); code != 200 {
		t.Fatalf("GET /api/event = %d", code)
	}
	var ev analyze.Event
	if err := ev.UnmarshalJSON(got.Event); err != nil {
		t.Fatal(err)
	}
	if ev.Type != analyze.TypeWSMessage || ev.Note != "text message" || ev.Message.Len != int64(len(hostile)) || got.PayloadLen != len(hostile) {
		t.Errorf("GET /api/event?id=%d = %+v, payload_len %d", msgID, ev, got.PayloadLen)
	}
	if len(got.Frames) != 1 || got.Frames[0].ID != msgID-1 {
		t.Errorf("frames of message %d = %+v, want the frame %d", msgID, got.Frames, msgID-1)
	}
	for _, tc := range []struct {
		id   int
		want []byte
	}{{msgID, []byte(hostile)}, {msgID + 2, []byte{0, 0xff, 0x80}}, {0, nil}} {
		resp, err := http.Get(hs.URL + "/api/payload?id=" + itoa(tc.id))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(b, tc.want) || resp.Header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("GET /api/payload?id=%d = %q (%s), want %q", tc.id, b, resp.Header.Get("Content-Type"), tc.want)
		}
	}
	var list []eventJSON
	if code := getJSON(t, hs.URL+"/api/events?ids=0,"+itoa(msgID), &list); code != 200 || len(list) != 2 || list[1].Preview != hostile {
		t.Errorf("GET /api/events = %d %+v", code, list)
	}
	for _, bad := range []string{"/api/events?ids=a", "/api/events?ids=-1", "/api/payload?id=99999", "/api/event?id=-3"} {
		if code := getJSON(t, hs.URL+bad, nil); code == 200 {
			t.Errorf("GET %s = 200, want an error", bad)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestMessageFramesFragmented(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Millisecond) }
	fr := func(i int, from string, op uint8, fin bool) analyze.Event {
		return analyze.Event{Type: analyze.TypeWSFrame, Conn: 1, From: from, Time: at(i), Packet: int64(i + 1), Frame: analyze.Frame{Opcode: op, Fin: fin}}
	}
	msg := func(i int, from, op string) analyze.Event {
		return analyze.Event{Type: analyze.TypeWSMessage, Conn: 1, From: from, Time: at(i), Packet: int64(i + 1), Message: analyze.Message{Opcode: op}}
	}
	c, sv := analyze.FromClient, analyze.FromServer
	evs := []analyze.Event{
		fr(0, c, opText, true), msg(1, c, "text"), // 0, 1
		fr(2, c, opBinary, false), // 2: first fragment
		fr(3, sv, opText, true),   // 3: the server talks in between
		fr(4, c, opContinuation, false),
		fr(5, c, opPing, true), msg(6, c, "ping"), // 5, 6: a ping between fragments (RFC 6455 §5.4)
		fr(7, c, opContinuation, true), msg(8, c, "binary"), // 7, 8
		msg(9, sv, "text"), // 9: the server's message
	}
	publishAll(t, s, evs)
	tests := []struct {
		id   int
		want []int
	}{
		{1, []int{0}},
		{6, []int{5}},
		{8, []int{2, 4, 7}},
		{9, []int{3}},
		{0, nil},
	}
	for _, tc := range tests {
		got := s.messageFrames(tc.id)
		if !equalInts(got, tc.want) {
			t.Errorf("messageFrames(%d) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSearch(t *testing.T) {
	s, hs := newTestServer(t, Options{})
	evs := conversation(1, t0, text("Hello World"), text("nothing"), binaryMsg([]byte("xxHELLOxx")), text("héllo"))
	publishAll(t, s, evs)
	ids := func(q string) []int {
		var res struct {
			IDs      []int
			Searched int
		}
		if code := getJSON(t, hs.URL+"/api/search?q="+url.QueryEscape(q), &res); code != 200 {
			t.Fatalf("search %q: status %d", q, code)
		}
		if res.Searched != len(evs) {
			t.Errorf("search %q: searched %d, want %d", q, res.Searched, len(evs))
		}
		return res.IDs
	}
	msgIDs := map[string]int{}
	for i, ev := range evs {
		if ev.Type == analyze.TypeWSMessage {
			msgIDs[string(ev.Message.Payload)] = i
		}
	}
	tests := []struct {
		q    string
		want []int
	}{
		{"hello", []int{msgIDs["Hello World"], msgIDs["xxHELLOxx"]}},
		{"WORLD", []int{msgIDs["Hello World"]}},
		{"héllo", []int{msgIDs["héllo"]}},
		{"absent", nil},
	}
	for _, tc := range tests {
		if got := ids(tc.q); !equalInts(got, tc.want) {
			t.Errorf("search %q = %v, want %v", tc.q, got, tc.want)
		}
	}
	if code := getJSON(t, hs.URL+"/api/search?q=", nil); code != 400 {
		t.Errorf("empty search: status %d, want 400", code)
	}
}

func TestExportJSONL(t *testing.T) {
	s, hs := newTestServer(t, Options{})
	evs := conversation(1, t0, text(hostile), binaryMsg([]byte{1, 2, 3}))
	publishAll(t, s, evs)
	tests := []struct {
		name string
		ids  string
		want []int
	}{
		{"all", "", seq(0, len(evs))},
		{"ranges", "0,5-7,2", []int{0, 2, 5, 6, 7}},
		{"overlap", "1-3,2-4", []int{1, 2, 3, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.PostForm(hs.URL+"/api/export", url.Values{"format": {"jsonl"}, "ids": {tc.ids}})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("export: status %d, disposition %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
			}
			var want []byte
			for _, id := range tc.want {
				want = append(evs[id].AppendJSON(want), '\n')
			}
			if !bytes.Equal(body, want) {
				t.Errorf("export ids=%q =\n%s\nwant\n%s", tc.ids, body, want)
			}
		})
	}
	for _, bad := range []string{"9999", "3-1", "x", "-1"} {
		resp, _ := http.PostForm(hs.URL+"/api/export", url.Values{"format": {"jsonl"}, "ids": {bad}})
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("export ids=%q: status %d, want 400", bad, resp.StatusCode)
		}
	}
	resp, _ := http.Get(hs.URL + "/api/export?format=xml")
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("export format=xml: status %d, want 400", resp.StatusCode)
	}
}

func seq(a, b int) []int {
	var out []int
	for i := a; i < b; i++ {
		out = append(out, i)
	}
	return out
}

func TestParseRanges(t *testing.T) {
	tests := []struct {
		in      string
		n       int
		want    idList
		wantErr bool
	}{
		{"", 5, idList{{0, 5}}, false},
		{" ", 0, nil, false}, // FuzzParseRanges: no events, no empty range
		{"3", 5, idList{{3, 4}}, false},
		{"0-1,3-4", 5, idList{{0, 2}, {3, 5}}, false},
		{"3-4,0-1,1-2", 5, idList{{0, 3}, {3, 5}}, false},
		{"5", 5, nil, true},
		{"2-1", 5, nil, true},
		{"a-b", 5, nil, true},
		{"1,,2", 5, nil, true},
	}
	for _, tc := range tests {
		got, err := parseRanges(tc.in, tc.n)
		if (err != nil) != tc.wantErr || (err == nil && !equalRanges(got, tc.want)) {
			t.Errorf("parseRanges(%q, %d) = %v, %v; want %v, err %v", tc.in, tc.n, got, err, tc.want, tc.wantErr)
		}
	}
}

func equalRanges(a, b idList) bool {
	// Adjacent ranges may be kept apart: compare the ids they cover.
	var x, y []int
	for _, l := range []struct {
		r   idList
		out *[]int
	}{{a, &x}, {b, &y}} {
		next := l.r.iter()
		for id, ok := next(); ok; id, ok = next() {
			*l.out = append(*l.out, id)
		}
	}
	return equalInts(x, y)
}

func TestLimits(t *testing.T) {
	s, hs := newTestServer(t, Options{MaxEvents: 10, MaxPayload: 4})
	evs := conversation(1, t0, text("0123456789"), text("ab"))
	publishAll(t, s, evs)
	s.mu.Lock()
	st := s.status
	s.mu.Unlock()
	if st.Events != 10 || st.Dropped != int64(len(evs)-10) || st.Messages != 4 {
		t.Errorf("status = events %d dropped %d messages %d, want 10, %d, 4", st.Events, st.Dropped, st.Messages, len(evs)-10)
	}
	resp, err := http.Get(hs.URL + "/api/payload?id=5")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "0123" {
		t.Errorf("payload cut to 4 bytes = %q, want %q", b, "0123")
	}
	var got eventJSON
	getJSON(t, hs.URL+"/api/event?id=5", &got)
	var ev analyze.Event
	ev.UnmarshalJSON(got.Event)
	if !ev.Message.Truncated || ev.Message.Len != 10 {
		t.Errorf("cut message: truncated %v len %d, want true 10", ev.Message.Truncated, ev.Message.Len)
	}
	if r, _ := s.st.row(5); r.flags&flagTruncated == 0 {
		t.Errorf("cut message row lacks the truncated flag")
	}
}

func TestSpillLimitKeepsIndex(t *testing.T) {
	s, hs := newTestServer(t, Options{MaxSpill: 1})
	evs := conversation(1, t0, text("a"))
	publishAll(t, s, evs)
	// The first record fits (the limit is checked before writing), the
	// rest are shown without details.
	var got eventJSON
	if code := getJSON(t, hs.URL+"/api/event?id=3", &got); code != 200 {
		t.Fatalf("status %d", code)
	}
	var ev analyze.Event
	if err := ev.UnmarshalJSON(got.Event); err != nil {
		t.Fatal(err)
	}
	if ev.Type != analyze.TypeWSOpen || !strings.Contains(ev.Note, "not kept") {
		t.Errorf("event without details = %+v", ev)
	}
	if r, _ := s.st.row(3); r.flags&flagNoDetail == 0 {
		t.Errorf("row 3 lacks flagNoDetail")
	}
}

func TestConnState(t *testing.T) {
	tests := []struct {
		name string
		evs  []analyze.Event
		want string
	}{
		{"tcp only", []analyze.Event{{Type: analyze.TypeTCPOpen}}, StateTCP},
		{"tls without keys", []analyze.Event{{Type: analyze.TypeTCPOpen}, {Type: analyze.TypeTLSHandshake, TLS: analyze.TLS{Version: "TLS 1.3"}}, {Type: analyze.TypeTLSRecord}, {Type: analyze.TypeTCPClose, TCPClose: analyze.TCPClose{How: "fin"}}}, StateTLS},
		{"tls decrypted", []analyze.Event{{Type: analyze.TypeTLSHandshake, TLS: analyze.TLS{Version: "TLS 1.3", Keys: true}}, {Type: analyze.TypeWSOpen}}, StateOpen},
		{"handshake", []analyze.Event{{Type: analyze.TypeHTTPRequest, HTTP: analyze.HTTP{Target: "/", Header: http.Header{"Upgrade": {"WebSocket"}}}}}, StateHandshake},
		{"plain http", []analyze.Event{{Type: analyze.TypeHTTPRequest, HTTP: analyze.HTTP{Target: "/health"}}, {Type: analyze.TypeHTTPResponse, HTTP: analyze.HTTP{Status: 200}}, {Type: analyze.TypeTCPClose, TCPClose: analyze.TCPClose{How: "fin"}}}, StateHTTP},
		{"plain http 404", []analyze.Event{{Type: analyze.TypeHTTPRequest, HTTP: analyze.HTTP{Target: "/favicon.ico"}}, {Type: analyze.TypeHTTPResponse, HTTP: analyze.HTTP{Status: 404}}}, StateHTTP},
		{"gap", []analyze.Event{{Type: analyze.TypeWSOpen}, {Type: analyze.TypeTCPGap}, {Type: analyze.TypeWSMessage, From: "client", Message: analyze.Message{Opcode: "close"}}, {Type: analyze.TypeWSMessage, From: "server", Message: analyze.Message{Opcode: "close"}}, {Type: analyze.TypeTCPClose, TCPClose: analyze.TCPClose{How: "fin"}}}, StateGap},
		{"midstream", []analyze.Event{{Type: analyze.TypeWSOpen, WSOpen: analyze.WSOpen{Midstream: true}}, {Type: analyze.TypeTCPClose, TCPClose: analyze.TCPClose{How: "end"}}}, StateMidstream},
		{"reset beats gap", []analyze.Event{{Type: analyze.TypeWSOpen}, {Type: analyze.TypeTCPGap}, {Type: analyze.TypeTCPClose, TCPClose: analyze.TCPClose{How: "rst"}}}, StateReset},
		{"rejected", []analyze.Event{{Type: analyze.TypeHTTPRequest, HTTP: analyze.HTTP{Target: "/", Header: http.Header{"Upgrade": {"websocket"}}}}, {Type: analyze.TypeHTTPResponse, HTTP: analyze.HTTP{Status: 403}}, {Type: analyze.TypeTCPClose, TCPClose: analyze.TCPClose{How: "fin"}}}, StateRejected},
		{"http/2 over tls", []analyze.Event{{Type: analyze.TypeTCPOpen}, {Type: analyze.TypeTLSHandshake, TLS: analyze.TLS{Version: "TLS 1.3", Keys: true, ALPN: "h2"}}, {Type: analyze.TypeTCPClose, TCPClose: analyze.TCPClose{How: "rst"}}}, StateHTTP2},
		{"http/1.1 over tls", []analyze.Event{{Type: analyze.TypeTLSHandshake, TLS: analyze.TLS{Version: "TLS 1.3", ALPN: "http/1.1"}}}, StateTLS},
		{"http/2 prior knowledge", []analyze.Event{{Type: analyze.TypeTCPOpen}, {Type: analyze.TypeHTTPRequest, Stream: 1, HTTP: analyze.HTTP{Method: "GET", Target: "/", Proto: "HTTP/2"}}, {Type: analyze.TypeTCPClose, TCPClose: analyze.TCPClose{How: "fin"}}}, StateHTTP2},
		{"101 to h2c", []analyze.Event{{Type: analyze.TypeHTTPRequest, HTTP: analyze.HTTP{Target: "/", Header: http.Header{"Upgrade": {"h2c"}}}}, {Type: analyze.TypeHTTPResponse, HTTP: analyze.HTTP{Status: 101, Header: http.Header{"Upgrade": {"H2C"}}}}}, StateHTTP2},
		{"200 to an h2c upgrade", []analyze.Event{{Type: analyze.TypeHTTPRequest, HTTP: analyze.HTTP{Target: "/", Header: http.Header{"Upgrade": {"h2c"}}}}, {Type: analyze.TypeHTTPResponse, HTTP: analyze.HTTP{Status: 200, Header: http.Header{"Upgrade": {"h2c"}}}}}, StateHTTP},
		{"another http error", []analyze.Event{{Type: analyze.TypeTCPOpen}, {Type: analyze.TypeHTTPError, Warnings: []analyze.Warning{{Code: "http.bad_request"}}}}, StateTCP},
		{"open", []analyze.Event{{Type: analyze.TypeWSOpen}}, StateOpen},
		{"reset", []analyze.Event{{Type: analyze.TypeWSOpen}, {Type: analyze.TypeTCPClose, TCPClose: analyze.TCPClose{How: "rst"}}}, StateReset},
		{"unclean", []analyze.Event{{Type: analyze.TypeWSOpen}, {Type: analyze.TypeTCPClose, TCPClose: analyze.TCPClose{How: "fin"}}}, StateUnclean},
		{"ended", []analyze.Event{{Type: analyze.TypeWSOpen}, {Type: analyze.TypeTCPClose, TCPClose: analyze.TCPClose{How: "end"}}}, StateEnded},
		{"closed", []analyze.Event{{Type: analyze.TypeWSOpen},
			{Type: analyze.TypeWSMessage, From: "client", Message: analyze.Message{Opcode: "close", Code: 1000}},
			{Type: analyze.TypeWSMessage, From: "server", Message: analyze.Message{Opcode: "close", Code: 1000}},
			{Type: analyze.TypeTCPClose, TCPClose: analyze.TCPClose{How: "fin"}}}, StateClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c connInfo
			for i := range tc.evs {
				tc.evs[i].Time = t0
				c.update(&tc.evs[i], t0.UnixNano())
			}
			if c.State != tc.want {
				t.Errorf("state after %s = %q, want %q", tc.name, c.State, tc.want)
			}
		})
	}
}

func TestPublishAfterClose(t *testing.T) {
	dir := t.TempDir()
	s, err := NewServer(Options{TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	evs := conversation(1, t0)
	publishAll(t, s, evs[:1])
	s.Close()
	if err := s.Publish(&evs[1]); err == nil {
		t.Errorf("Publish after Close = nil, want an error")
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1/", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("GET / after Close = %d, want 503", rec.Code)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("spill files left after Close: %v", left)
	}
}

// TestIndexInlinesBoot checks the page as served: boot.js inlined once in
// place of its <script src>, its text byte for byte, and the CSP allowing
// exactly that script by its hash (a script with any other text would not
// run).
func TestIndexInlinesBoot(t *testing.T) {
	_, hs := newTestServer(t, Options{})
	resp, err := http.Get(hs.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	boot, err := staticFiles.ReadFile("static/boot.js")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(page), "<script"); n != 2 {
		t.Errorf("the page has %d scripts, want 2 (boot inlined, app.js)", n)
	}
	if strings.Contains(string(page), bootTag) {
		t.Errorf("the page still loads boot.js with %s", bootTag)
	}
	start := strings.Index(string(page), bootInline)
	if start < 0 {
		t.Fatalf("no %s in the page", bootInline)
	}
	start += len(bootInline)
	inline := page[start : start+strings.Index(string(page[start:]), "</script>")]
	if !bytes.Equal(inline, boot) {
		t.Errorf("the inlined script (%d bytes) is not boot.js (%d bytes)", len(inline), len(boot))
	}
	sum := sha256.Sum256(inline)
	want := "script-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "';"
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, want) || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP = %q, want it to allow the inlined script alone (%s)", csp, want)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
}

// TestNotesOnce: a note about the source is kept once, however often it
// is noted, in the order first noted, and marks the status to be sent.
func TestNotesOnce(t *testing.T) {
	s, err := NewServer(Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, n := range []string{"interface 1 skipped", "interface 2 skipped", "interface 1 skipped"} {
		s.Note(n)
	}
	s.mu.Lock()
	notes, dirty := s.status.Notes, s.statusDirty
	s.mu.Unlock()
	if !slices.Equal(notes, []string{"interface 1 skipped", "interface 2 skipped"}) || !dirty {
		t.Errorf("notes %q (status to send: %v), want each once, in order, and the status to send", notes, dirty)
	}
}
