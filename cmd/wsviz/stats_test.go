package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// h2Chat writes a capture of one HTTP/2 connection carrying two
// WebSockets (RFC 8441), /chat on stream chat and /feed on stream 3, and a
// GET on stream 5, as analyze's chat() does; item is the feed's second
// message. It returns the capture's path.
func h2Chat(t *testing.T, chat uint32, item string) string {
	t.Helper()
	c := capturetest.NewCapture(capturetest.Options{})
	k := c.Conn("10.0.0.1:50000", "10.0.0.2:443")
	k.Handshake()
	h := analyzetest.OpenH2(k, true)
	h.Connect(chat, "/chat")
	h.Connect(3, "/feed")
	h.Get(5, "/index.html")
	h.Answer(chat, "200")
	h.Answer(3, "200")
	h.ClientData(chat, false, analyzetest.Text(true, "hello"))
	h.ServerData(3, false, analyzetest.Text(false, "feed item 1"))
	h.ServerData(chat, false, analyzetest.Text(false, "welcome"))
	h.ServerData(3, false, analyzetest.Text(false, item))
	h.ClientSends(analyzetest.H2RSTStreamFrame(3, 0x8)) // CANCEL
	h.ClientSends(analyzetest.H2RSTStreamFrame(chat, 0x8))
	h.Close()
	return c.TempFile(t, "h2chat.pcap")
}

// TestStatsH2WebSockets: an HTTP/2 connection with two WebSockets counts
// two in the totals; its row says how many and names both, its JSON lists
// them with their streams.
func TestStatsH2WebSockets(t *testing.T) {
	path := h2Chat(t, 1, "feed item 2")
	code, stdout, stderr := runWsviz("stats", "-r", path)
	if code != 0 {
		t.Fatalf("wsviz stats: exit %d: %s", code, stderr)
	}
	lines := strings.Split(stdout, "\n")
	if len(lines) < 3 || !strings.Contains(lines[1], "  2 WebSockets: /chat, /feed  ") || !strings.Contains(lines[2], "  1 connection   2 WebSocket  ") {
		t.Errorf("wsviz stats:\n%s\nwant the row to say 2 WebSockets: /chat, /feed and the total 2 WebSocket", stdout)
	}

	code, stdout, stderr = runWsviz("stats", "-r", path, "-T", "json")
	var r statsReport
	if err := json.Unmarshal([]byte(stdout), &r); code != 0 || err != nil || len(r.Connections) != 1 {
		t.Fatalf("wsviz stats -T json: exit %d, %v, %s", code, err, stderr)
	}
	c := r.Connections[0]
	want := []h2WebSocket{{1, "/chat"}, {3, "/feed"}}
	if r.Totals.WebSockets != 2 || c.Path != "/chat" || !slices.Equal(c.H2WebSockets, want) {
		t.Errorf("wsviz stats -T json: websockets %d, path %q, h2_websockets %+v; want 2, /chat, %+v", r.Totals.WebSockets, c.Path, c.H2WebSockets, want)
	}
	if c.Messages.Client != 1 || c.Messages.Server != 3 {
		t.Errorf("wsviz stats -T json: messages %+v, want 1 and 3", c.Messages)
	}
}

// TestStatsHTTP1Unchanged: a connection of HTTP/1.1 has no h2_websockets
// and counts one WebSocket, as before HTTP/2.
func TestStatsHTTP1Unchanged(t *testing.T) {
	code, stdout, _ := runWsviz("stats", "-r", demoCapture, "-T", "json")
	var r statsReport
	if err := json.Unmarshal([]byte(stdout), &r); code != 0 || err != nil {
		t.Fatalf("wsviz stats -T json: exit %d, %v", code, err)
	}
	if r.Totals.WebSockets != len(r.Connections) || strings.Contains(stdout, "h2_websockets") {
		t.Errorf("wsviz stats -T json on the demo: %d WebSockets of %d connections, or h2_websockets:\n%s", r.Totals.WebSockets, len(r.Connections), stdout)
	}
}
