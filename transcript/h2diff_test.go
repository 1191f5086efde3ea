package transcript

import (
	"slices"
	"strings"
	"testing"
)

// TestDiffH2Streams: two HTTP/2 connections are compared stream by
// stream: the same conversation with the WebSockets on other streams, their
// messages interleaved otherwise, is equal; a message changed on the feed's
// stream is reported on that stream only.
func TestDiffH2Streams(t *testing.T) {
	a := transcribe(t, h2ChatPcap(t, defaultChat), Options{})
	for _, p := range []h2Chat{
		{chat: 1, feed: 3, feedFirst: true, item: defaultChat.item},
		{chat: 3, feed: 1, item: defaultChat.item},
		{chat: 7, feed: 1, feedFirst: true, item: defaultChat.item},
	} {
		b := transcribe(t, h2ChatPcap(t, p), Options{})
		if b.String() == a.String() {
			t.Fatalf("%+v: the same text as the default", p)
		}
		if d := diffText(t, a, b, DiffOptions{}); d != "" {
			t.Errorf("%+v: Diff:\n%s", p, d)
		}
	}

	changed := defaultChat
	changed.item = "feed item 3"
	b := transcribe(t, h2ChatPcap(t, changed), Options{})
	d, err := Diff(a, b, DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Summary(), "1 connection differs (of 1 and 1 connections)"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	got := diffText(t, a, b, DiffOptions{Context: -1})
	want := `--- old
+++ new
@@ connection 1 websocket /chat /feed, stream 3 /feed, message 2 (server text) @@
   stream=3 server text 11 text "feed item 1"
-  stream=3 server text 11 text "feed item 2"
+  stream=3 server text 11 text "feed item 3"
   stream=3 client close 5 code=1000 text "bye"
`
	if got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}

	// On other streams, the hunk names both.
	changed.chat, changed.feed, changed.feedFirst = 3, 1, true
	got = diffText(t, a, transcribe(t, h2ChatPcap(t, changed), Options{}), DiffOptions{})
	if !strings.Contains(got, "@@ connection 1 websocket /chat /feed, stream 3 /feed (stream 1 in the new), message 2 (server text) @@\n") ||
		!strings.Contains(got, "\n+  stream=1 server text 11 text \"feed item 3\"\n") || strings.Contains(got, "/chat,") {
		t.Errorf("diff with the streams swapped:\n%s", got)
	}
}

// TestDiffH2OnlyOneSide: a stream found on one side only is listed under
// its connection.
func TestDiffH2OnlyOneSide(t *testing.T) {
	a := transcribe(t, h2ChatPcap(t, defaultChat), Options{})
	more := defaultChat
	more.more = "/more.html"
	got := diffText(t, a, transcribe(t, h2ChatPcap(t, more), Options{}), DiffOptions{})
	want := "@@ connection 1 websocket /chat /feed, stream 7 /more.html: only in the new (8 lines) @@\n+  stream=7 request GET /more.html HTTP/2\n"
	if !strings.Contains(got, want) || strings.Count(got, "@@") != 2 {
		t.Errorf("diff:\n%s\nwant it to hold:\n%s", got, want)
	}
}

// TestH2Unordered: with Unordered, each stream's messages are sorted on
// their own, in the places the stream's lines held.
func TestH2Unordered(t *testing.T) {
	a := transcribe(t, h2ChatPcap(t, defaultChat), Options{Unordered: true})
	var lines []string
	for _, l := range a.Conns[0].Lines {
		if l.Depth == 0 && l.Stream == 1 && isMessageLine(l.Text) {
			lines = append(lines, l.Text)
		}
	}
	want := []string{`client text 11 text "hello again"`, `client text 29 json {"type":"hello","user":"ada"}`,
		`client text 5 text "plain"`, `server text 31 json {"type":"welcome","user":"ada"}`}
	if !slices.Equal(lines, want) {
		t.Errorf("stream 1's messages:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	b := transcribe(t, h2ChatPcap(t, h2Chat{chat: 3, feed: 1, feedFirst: true, item: defaultChat.item}), Options{Unordered: true})
	if d := diffText(t, a, b, DiffOptions{}); d != "" {
		t.Errorf("Diff:\n%s", d)
	}
}
