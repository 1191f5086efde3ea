package wsviztest_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture/capturetest"
	"github.com/wsviz/wsviz/wsviztest"
)

// h2Recording writes a capture of one HTTP/2 connection carrying two
// WebSockets (RFC 8441), /chat on stream chat and /feed on stream feed,
// the feed's messages before the chat's when feedFirst; item is the feed's
// second message. It stands for one recording of a session a user's test
// compares with its golden transcript.
func h2Recording(t *testing.T, chat, feed uint32, feedFirst bool, item string) string {
	t.Helper()
	c := capturetest.NewCapture(capturetest.Options{})
	k := c.Conn("10.0.0.1:50000", "10.0.0.2:443")
	k.Handshake()
	h := analyzetest.OpenH2(k, true)
	ids := []uint32{chat, feed}
	paths := []string{"/chat", "/feed"}
	if feed < chat {
		// RFC 9113 §5.1.1: a client opens streams in increasing order.
		slices.Reverse(ids)
		slices.Reverse(paths)
	}
	for i, id := range ids {
		h.Connect(id, paths[i])
		h.Answer(id, "200")
	}
	chatSays := func() {
		h.ClientData(chat, false, analyzetest.Text(true, `{"type":"hello"}`))
		h.ServerData(chat, false, analyzetest.Text(false, `{"type":"welcome"}`))
	}
	feedSays := func() {
		h.ServerData(feed, false, analyzetest.Text(false, "feed item 1"))
		h.ServerData(feed, false, analyzetest.Text(false, item))
	}
	if feedFirst {
		feedSays()
		chatSays()
	} else {
		chatSays()
		feedSays()
	}
	for _, id := range ids {
		h.ClientData(id, false, analyzetest.Close(true, 1000, ""))
		h.ServerData(id, true, analyzetest.Close(false, 1000, ""))
		h.ClientData(id, true)
	}
	h.Close()
	return c.TempFile(t, "h2.pcap")
}

// TestCompareH2: a golden transcript of two WebSockets sharing an HTTP/2
// connection matches another recording where they got other streams and
// their messages interleaved otherwise; a message changed on one stream
// fails the test with a short diff naming that stream.
func TestCompareH2(t *testing.T) {
	golden := filepath.Join(t.TempDir(), "h2.transcript")
	wsviztest.CompareOptions(t, h2Recording(t, 1, 3, false, "feed item 2"), golden, wsviztest.Options{Update: true})
	wsviztest.Compare(t, h2Recording(t, 3, 1, true, "feed item 2"), golden)

	var r recorder
	wsviztest.Compare(&r, h2Recording(t, 3, 1, true, "feed item 3"), golden)
	if len(r.errors) != 1 || len(r.fatals) != 0 {
		t.Fatalf("errors %q, fatals %q: want one error", r.errors, r.fatals)
	}
	msg := r.errors[0]
	for _, want := range []string{"1 connection differs",
		"@@ connection 1 websocket /chat /feed, stream 3 /feed (stream 1 in the new), message 2 (server text) @@",
		"\n-  stream=3 server text 11 text \"feed item 2\"\n+  stream=1 server text 11 text \"feed item 3\"\n"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the report lacks %q:\n%s", want, msg)
		}
	}
	if strings.Count(msg, "@@") != 2 || strings.Contains(msg, "/chat,") {
		t.Errorf("the report names more than the feed's stream:\n%s", msg)
	}
}
