package transcript

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// h2Chat says how to play h2ChatPcap: the streams the two WebSockets get,
// whether the feed's messages come before the chat's, and the feed's
// second item.
type h2Chat struct {
	chat, feed uint32
	feedFirst  bool
	item       string
	more       string // the path of a GET on stream 7 at the end, "" for none
}

var defaultChat = h2Chat{chat: 1, feed: 3, item: "feed item 2"}

// h2ChatPcap writes a chat()-like conversation (analyze/h2ws_test.go) to
// a pcap and returns its path: two WebSockets, /chat compressed
// (permessage-deflate) and /feed plain, and a GET on stream 5, on one
// HTTP/2 connection; the feed closes cleanly and both sides end its
// stream, the client resets the chat's (CANCEL).
func h2ChatPcap(t *testing.T, p h2Chat) string {
	t.Helper()
	c := capturetest.NewCapture(capturetest.Options{})
	k := c.Conn("10.0.0.1:50000", "10.0.0.2:443")
	k.Handshake()
	h := analyzetest.OpenH2(k, true)
	h.Authority = "example.com:443"
	opens := []func(){
		func() { h.Connect(p.chat, "/chat", "sec-websocket-extensions", "permessage-deflate") },
		func() { h.Connect(p.feed, "/feed") },
	}
	if p.feed < p.chat {
		// RFC 9113 §5.1.1: a client opens streams in increasing order.
		opens[0], opens[1] = opens[1], opens[0]
	}
	opens[0]()
	opens[1]()
	h.Answer(p.chat, "200", "sec-websocket-extensions", "permessage-deflate")
	h.Answer(p.feed, "200")
	h.Get(5, "/index.html")
	var cd, sd analyzetest.Deflater
	compressed := func(client bool, d *analyzetest.Deflater, s string) []byte {
		f := analyzetest.Frame{Fin: true, RSV: 4, Opcode: analyzetest.OpText, Payload: d.Compress([]byte(s))}
		if client {
			f.Mask = &analyzetest.DefaultMask
		}
		return f.Bytes()
	}
	chat := func() {
		h.ClientData(p.chat, false, compressed(true, &cd, `{"type":"hello","user":"ada"}`))
		h.ServerData(p.chat, false, compressed(false, &sd, `{"type":"welcome","user":"ada"}`))
		h.ClientData(p.chat, false, compressed(true, &cd, "hello again"), analyzetest.Text(true, "plain"))
	}
	feed := func() {
		h.ServerData(p.feed, false, analyzetest.Text(false, "feed item 1"))
		h.ServerData(p.feed, false, analyzetest.Text(false, p.item))
		h.ClientData(p.feed, false, analyzetest.Close(true, 1000, "bye"))
		h.ServerData(p.feed, true, analyzetest.Close(false, 1000, "bye"))
		h.ClientData(p.feed, true)
	}
	if p.feedFirst {
		feed()
		chat()
	} else {
		chat()
		feed()
	}
	h.ClientSends(analyzetest.H2RSTStreamFrame(p.chat, 0x8)) // CANCEL (RFC 9113 §7)
	if p.more != "" {
		h.Get(7, p.more)
	}
	h.Close()
	return c.TempFile(t, "h2.pcap")
}

// TestH2Golden pins the transcript of h2ChatPcap (in
// testdata/h2-chat.transcript; go test -update rewrites it): every line of
// a stream says its stream, the connection is named by both WebSockets,
// RFC 8441's answer has no accept, each stream's end says how; and the
// text reads back (Parse) to the same text, comparing equal with Diff.
func TestH2Golden(t *testing.T) {
	tr := transcribe(t, h2ChatPcap(t, defaultChat), Options{})
	got := tr.String()
	golden := "testdata/h2-chat.transcript"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./transcript -run TestH2Golden -update)", err)
	}
	if got != string(want) {
		t.Errorf("transcript differs from %s (go test ./transcript -run TestH2Golden -update rewrites it):\n%s", golden, textDiff(t, string(want), got))
	}
	for _, line := range []string{
		"\nconnection 1 websocket /chat /feed\n",
		"\n  stream=1 request CONNECT /chat HTTP/2\n",
		"\n  stream=1 websocket rfc8441 extensions \"permessage-deflate\"\n    deflate ",
		"\n  stream=3 websocket rfc8441\n",
		"\n  stream=5 request GET /index.html HTTP/2\n",
		"\n  stream=3 server text 11 text \"feed item 1\"\n",
		"\n  stream=1 client text 29 json {\"type\":\"hello\",\"user\":\"ada\"}\n",
		"\n  stream=3 end end_stream\n",
		"\n  stream=1 end rst_stream client CANCEL\n  end fin\n",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("the transcript has no %q:\n%s", line, got)
		}
	}
	if strings.Contains(got, "accept") || strings.Contains(got, "event h2.stream_close") {
		t.Errorf("the transcript says accept or event h2.stream_close:\n%s", got)
	}
	back, err := Parse(bytes.NewReader(want))
	if err != nil {
		t.Fatalf("Parse(%s): %v", golden, err)
	}
	if back.String() != string(want) {
		t.Errorf("Parse(%s).String() differs from the file:\n%s", golden, textDiff(t, string(want), back.String()))
	}
	for i, l := range back.Conns[0].Lines {
		if w := tr.Conns[0].Lines[i]; l != w {
			t.Errorf("Parse: line %d = %+v, want %+v", i, l, w)
		}
	}
	if d := diffText(t, back, tr, DiffOptions{}); d != "" {
		t.Errorf("Diff(golden, capture):\n%s", d)
	}

	// Without the port, :authority loses it as Host does.
	noPort := transcribe(t, h2ChatPcap(t, defaultChat), Options{Keep: KeepNone}).String()
	if !strings.Contains(noPort, "    header :authority: example.com\n") || strings.Contains(noPort, "443") {
		t.Errorf("keep none: the port is left in:\n%s", noPort)
	}
}

// TestH2TimesRoundTrip: the stream label goes after the time, and both
// read back.
func TestH2TimesRoundTrip(t *testing.T) {
	tr := transcribe(t, h2ChatPcap(t, defaultChat), Options{Keep: KeepTimes | KeepFrames | KeepPort})
	text := tr.String()
	if !strings.Contains(text, " stream=3 server text 11 wire=11 frames=1 text \"feed item 1\"\n    frame fin rsv=0 opcode=1 len=11\n") {
		t.Errorf("times and frames:\n%s", text)
	}
	back, err := Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if back.String() != text {
		t.Errorf("Parse(...).String() differs:\n%s", textDiff(t, text, back.String()))
	}
}
