package transcript

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// h2Conv is an HTTP/2 connection as each side sends it (RFC 9113 and RFC
// 8441), step by step: each side's HPACK encoder carries its dynamic table
// from block to block, as the peer's decoder does.
type h2Conv struct {
	cli, srv *analyzetest.H2
	steps    []step
}

// newH2Conv opens a conversation: the preface, both SETTINGS (the
// server's allowing extended CONNECT, RFC 8441 §3) and their ACKs.
func newH2Conv() *h2Conv {
	v := &h2Conv{cli: analyzetest.NewH2(), srv: analyzetest.NewH2()}
	v.client([]byte(analyzetest.H2Preface), analyzetest.H2SettingsFrame())
	v.server(analyzetest.H2SettingsFrame(analyzetest.H2SettingEnableConnectProtocol, 1), analyzetest.H2Frame(analyzetest.H2Settings, 1, 0, nil))
	v.client(analyzetest.H2Frame(analyzetest.H2Settings, 1, 0, nil))
	return v
}

func (v *h2Conv) client(b ...[]byte) {
	v.steps = append(v.steps, step{fromClient: true, data: slices.Concat(b...)})
}
func (v *h2Conv) server(b ...[]byte) { v.steps = append(v.steps, step{data: slices.Concat(b...)}) }

// connect asks for a WebSocket on stream id (extended CONNECT), offering
// extensions ("" for none).
func (v *h2Conv) connect(id uint32, path, extensions string) {
	fields := []string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":path", path,
		":authority", "example.com:443", "sec-websocket-version", "13"}
	if extensions != "" {
		fields = append(fields, "sec-websocket-extensions", extensions)
	}
	v.client(v.cli.Headers(id, false, fields...))
}

// accept answers stream id with 200 and the extensions answer.
func (v *h2Conv) accept(id uint32, extensions string) {
	fields := []string{":status", "200"}
	if extensions != "" {
		fields = append(fields, "sec-websocket-extensions", extensions)
	}
	v.server(v.srv.Headers(id, false, fields...))
}

// get sends a GET on stream id and its answer, a page.
func (v *h2Conv) get(id uint32, path string) {
	v.client(v.cli.Headers(id, true, ":method", "GET", ":scheme", "https", ":path", path, ":authority", "example.com:443"))
	v.server(v.srv.Headers(id, false, ":status", "200", "content-type", "text/html"), analyzetest.H2DataFrame(id, true, []byte("<html></html>")))
}

// data sends WebSocket frames in one DATA frame on stream id.
func (v *h2Conv) data(fromClient bool, id uint32, endStream bool, frames ...[]byte) {
	f := analyzetest.H2DataFrame(id, endStream, slices.Concat(frames...))
	if fromClient {
		v.client(f)
	} else {
		v.server(f)
	}
}

// write writes the conversation as one TCP connection, one segment per
// step, to a pcap and returns its path.
func (v *h2Conv) write(t *testing.T) string {
	t.Helper()
	c := capturetest.NewCapture(capturetest.Options{})
	k := c.Conn("10.0.0.1:50000", "10.0.0.2:443")
	k.Handshake()
	for _, s := range v.steps {
		if s.fromClient {
			k.Client(s.data)
		} else {
			k.Server(s.data)
		}
	}
	k.CloseFIN(true)
	k.CloseFIN(false)
	path := filepath.Join(t.TempDir(), "h2.pcap")
	if err := c.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// h2Chat says how to play h2ChatConv: the streams the two WebSockets get,
// whether the feed's messages come before the chat's, and the feed's
// second item.
type h2Chat struct {
	chat, feed uint32
	feedFirst  bool
	item       string
}

var defaultChat = h2Chat{chat: 1, feed: 3, item: "feed item 2"}

// h2ChatConv is a chat()-like conversation (analyze/h2ws_test.go): two
// WebSockets, /chat compressed (permessage-deflate) and /feed plain, and a
// GET on stream 5, on one HTTP/2 connection; the feed closes cleanly and
// both sides end its stream, the client resets the chat's (CANCEL).
func h2ChatConv(p h2Chat) *h2Conv {
	v := newH2Conv()
	opens := []func(){
		func() { v.connect(p.chat, "/chat", "permessage-deflate") },
		func() { v.connect(p.feed, "/feed", "") },
	}
	if p.feed < p.chat {
		// RFC 9113 §5.1.1: a client opens streams in increasing order.
		opens[0], opens[1] = opens[1], opens[0]
	}
	opens[0]()
	opens[1]()
	v.accept(p.chat, "permessage-deflate")
	v.accept(p.feed, "")
	v.get(5, "/index.html")
	var cd, sd analyzetest.Deflater
	compressed := func(client bool, d *analyzetest.Deflater, s string) []byte {
		f := analyzetest.Frame{Fin: true, RSV: 4, Opcode: analyzetest.OpText, Payload: d.Compress([]byte(s))}
		if client {
			f.Mask = &analyzetest.DefaultMask
		}
		return f.Bytes()
	}
	chat := func() {
		v.data(true, p.chat, false, compressed(true, &cd, `{"type":"hello","user":"ada"}`))
		v.data(false, p.chat, false, compressed(false, &sd, `{"type":"welcome","user":"ada"}`))
		v.data(true, p.chat, false, compressed(true, &cd, "hello again"), analyzetest.Text(true, "plain"))
	}
	feed := func() {
		v.data(false, p.feed, false, analyzetest.Text(false, "feed item 1"))
		v.data(false, p.feed, false, analyzetest.Text(false, p.item))
		v.data(true, p.feed, false, analyzetest.Close(true, 1000, "bye"))
		v.data(false, p.feed, true, analyzetest.Close(false, 1000, "bye"))
		v.data(true, p.feed, true)
	}
	if p.feedFirst {
		feed()
		chat()
	} else {
		chat()
		feed()
	}
	v.client(analyzetest.H2RSTStreamFrame(p.chat, 0x8)) // CANCEL (RFC 9113 §7)
	return v
}

// TestH2Golden pins the transcript of h2ChatConv (in
// testdata/h2-chat.transcript; go test -update rewrites it): every line of
// a stream says its stream, the connection is named by both WebSockets,
// RFC 8441's answer has no accept, each stream's end says how; and the
// text reads back (Parse) to the same text, comparing equal with Diff.
func TestH2Golden(t *testing.T) {
	tr := transcribe(t, h2ChatConv(defaultChat).write(t), Options{})
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
	noPort := transcribe(t, h2ChatConv(defaultChat).write(t), Options{Keep: KeepNone}).String()
	if !strings.Contains(noPort, "    header :authority: example.com\n") || strings.Contains(noPort, "443") {
		t.Errorf("keep none: the port is left in:\n%s", noPort)
	}
}

// TestH2TimesRoundTrip: the stream label goes after the time, and both
// read back.
func TestH2TimesRoundTrip(t *testing.T) {
	tr := transcribe(t, h2ChatConv(defaultChat).write(t), Options{Keep: KeepTimes | KeepFrames | KeepPort})
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
