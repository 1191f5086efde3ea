package analyze_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// h2Conv is an HTTP/2 conversation as each side sends it: a list of
// (side, bytes) steps, in order.
type h2Conv struct {
	cli, srv *analyzetest.H2
	steps    []h2Step
}

type h2Step struct {
	client bool
	b      []byte
}

func newH2Conv() *h2Conv { return &h2Conv{cli: analyzetest.NewH2(), srv: analyzetest.NewH2()} }

func (v *h2Conv) client(b ...[]byte) { v.steps = append(v.steps, h2Step{true, slices.Concat(b...)}) }
func (v *h2Conv) server(b ...[]byte) { v.steps = append(v.steps, h2Step{false, slices.Concat(b...)}) }

// opening is the preface, both SETTINGS (the server's allowing extended
// CONNECT when connect is true) and their ACKs.
func (v *h2Conv) opening(connect bool) {
	v.client([]byte(analyzetest.H2Preface), analyzetest.H2SettingsFrame())
	var s []byte
	if connect {
		s = analyzetest.H2SettingsFrame(analyzetest.H2SettingEnableConnectProtocol, 1)
	} else {
		s = analyzetest.H2SettingsFrame()
	}
	v.server(s, analyzetest.H2Frame(analyzetest.H2Settings, 1, 0, nil))
	v.client(analyzetest.H2Frame(analyzetest.H2Settings, 1, 0, nil))
}

// connect asks for a WebSocket on stream id, offering extensions ("" for
// none).
func (v *h2Conv) connect(id uint32, path, extensions string) {
	fields := []string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":path", path, ":authority", "example.com",
		"sec-websocket-version", "13", "origin", "https://example.com"}
	if extensions != "" {
		fields = append(fields, "sec-websocket-extensions", extensions)
	}
	v.client(v.cli.Headers(id, false, fields...))
}

// accept answers stream id with status and the extensions answer.
func (v *h2Conv) accept(id uint32, status, extensions string) {
	fields := []string{":status", status}
	if extensions != "" {
		fields = append(fields, "sec-websocket-extensions", extensions)
	}
	v.server(v.srv.Headers(id, false, fields...))
}

// script writes the conversation on one TCP connection, each step cut into
// segments at cuts(len) (none: one segment per step).
func (v *h2Conv) script(c *capturetest.Capture, cuts func(n int) []int) {
	k := c.Conn("10.0.0.1:50000", "10.0.0.2:443")
	k.Handshake()
	for _, s := range v.steps {
		var at []int
		if cuts != nil {
			at = cuts(len(s.b))
		}
		if s.client {
			k.ClientSegments(s.b, at...)
		} else {
			k.ServerSegments(s.b, at...)
		}
	}
	k.CloseFIN(true)
	k.CloseFIN(false)
}

// chat is a conversation with two WebSockets and a plain GET interleaved on
// one connection: stream 1 compressed with context takeover, stream 3
// plain, stream 5 a GET with a body; both WebSockets close cleanly and end
// their streams.
func chat() *h2Conv { return chatFramed(analyzetest.H2DataFrame) }

// chatFramed is chat with its DATA frames made by data, which may cut a
// payload into several frames (padded, empty) as it likes.
func chatFramed(data func(stream uint32, endStream bool, p []byte) []byte) *h2Conv {
	v := newH2Conv()
	v.opening(true)
	v.connect(1, "/chat", "permessage-deflate; client_max_window_bits")
	v.connect(3, "/feed", "")
	v.client(v.cli.Headers(5, true, ":method", "GET", ":scheme", "https", ":path", "/index.html", ":authority", "example.com"))
	v.accept(1, "200", "permessage-deflate")
	v.accept(3, "200", "")
	var cd, sd analyzetest.Deflater
	cd.Level, sd.Level = 6, 6
	compressed := func(client bool, d *analyzetest.Deflater, s string) []byte {
		f := analyzetest.Frame{Fin: true, RSV: 4, Opcode: analyzetest.OpText, Payload: d.Compress([]byte(s))}
		if client {
			f.Mask = &analyzetest.DefaultMask
		}
		return f.Bytes()
	}
	v.client(data(1, false, compressed(true, &cd, "hello from the chat client, hello")))
	v.server(v.srv.Headers(5, false, ":status", "200", "content-type", "text/html"), data(5, true, []byte("<html>not a websocket</html>")))
	v.server(data(1, false, compressed(false, &sd, "hello from the chat server, hello")))
	v.server(data(3, false, analyzetest.Text(false, "feed item 1")))
	// One WebSocket frame in two DATA frames, and two frames in one.
	big := analyzetest.Binary(false, []byte(strings.Repeat("0123456789", 300)))
	v.server(data(3, false, big[:1000]), data(3, false, big[1000:]))
	v.client(data(1, false, slices.Concat(compressed(true, &cd, "hello again from the chat client, hello"), analyzetest.Text(true, "plain"))))
	v.client(data(3, false, analyzetest.Close(true, 1000, "bye")))
	v.server(data(3, true, analyzetest.Close(false, 1000, "bye")))
	v.client(data(3, true, nil))
	v.client(data(1, true, analyzetest.Close(true, 1001, "")))
	v.server(data(1, true, analyzetest.Close(false, 1001, "")))
	return v
}

// chatWant is what chat's events say, one line per event of the two
// WebSockets and the GET, in order (tcp.* left out).
var chatWant = []string{
	"http.request client s1 CONNECT /chat",
	"http.request client s3 CONNECT /feed",
	"http.request client s5 GET /index.html",
	"http.response server s1 200",
	"ws.open s1 deflate",
	"http.response server s3 200",
	"ws.open s3",
	"ws.frame client s1",
	"ws.message client s1 text hello from the chat client, hello",
	"http.response server s5 200",
	"ws.frame server s1",
	"ws.message server s1 text hello from the chat server, hello",
	"ws.frame server s3",
	"ws.message server s3 text feed item 1",
	"ws.frame server s3",
	"ws.message server s3 binary 3000",
	"ws.frame client s1",
	"ws.message client s1 text hello again from the chat client, hello",
	"ws.frame client s1",
	"ws.message client s1 text plain",
	"ws.frame client s3",
	"ws.message client s3 close 1000",
	"ws.frame server s3",
	"ws.message server s3 close 1000",
	"h2.stream_close client s3 end_stream",
	"ws.frame client s1",
	"ws.message client s1 close 1001",
	"ws.frame server s1",
	"ws.message server s1 close 1001",
	"h2.stream_close server s1 end_stream",
}

// h2Lines sums events up as chatWant does, and fails on any warning.
func h2Lines(t *testing.T, events []analyze.Event) []string {
	t.Helper()
	var got []string
	for _, ev := range events {
		if len(ev.Warnings) > 0 {
			t.Errorf("%s has warnings: %+v", ev.Type, ev.Warnings)
		}
		if strings.HasPrefix(ev.Type, "tcp.") {
			continue
		}
		got = append(got, h2Line(&ev))
	}
	return got
}

// h2Line sums an event up in a line: type, side, stream, and what it
// says in a few words.
func h2Line(ev *analyze.Event) string {
	line := ev.Type
	if ev.From != "" {
		line += " " + ev.From
	}
	line += fmt.Sprintf(" s%d", ev.Stream)
	switch ev.Type {
	case analyze.TypeHTTPRequest:
		line += " " + ev.HTTP.Method + " " + ev.HTTP.Target
	case analyze.TypeHTTPResponse:
		line += fmt.Sprint(" ", ev.HTTP.Status)
	case analyze.TypeWSOpen:
		if ev.WSOpen.Deflate != nil {
			line += " deflate"
		}
	case analyze.TypeWSMessage:
		switch m := ev.Message; m.Opcode {
		case "text":
			line += " text " + string(m.Payload)
		case "close":
			line += fmt.Sprint(" close ", m.Code)
		default:
			line += fmt.Sprint(" ", m.Opcode, " ", m.Len)
		}
	case analyze.TypeH2StreamClose:
		line += " " + ev.H2Close.How
		if ev.H2Close.ErrorCode != "" {
			line += " " + ev.H2Close.ErrorCode
		}
	}
	return line
}

// TestH2WebSockets decodes two WebSockets and a plain request sharing one
// HTTP/2 connection (RFC 8441), each step in one segment, then cut at
// random places (one byte per segment included), with the WebSocket bytes
// in DATA frames cut at random places too, on one worker and two: every
// message on its stream, the same events each time.
func TestH2WebSockets(t *testing.T) {
	v := chat()
	r := rand.New(rand.NewPCG(1, 2))
	cutters := map[string]func(n int) []int{
		"whole": nil,
		"bytes": func(n int) []int {
			var at []int
			for i := 1; i < n; i++ {
				at = append(at, i)
			}
			return at
		},
	}
	for seed := range 20 {
		cutters[fmt.Sprint("random ", seed)] = func(n int) []int {
			var at []int
			for i := 1; i < n; i++ {
				if r.IntN(max(n/4, 2)) == 0 {
					at = append(at, i)
				}
			}
			return at
		}
	}
	convs := map[string]*h2Conv{}
	for name := range cutters {
		convs[name] = v
	}
	// DATA frames cut anywhere, not where WebSocket frames are: a frame's
	// header in one DATA frame and its payload in the next, empty DATA
	// frames, padding (RFC 9113 §6.1).
	for seed := range 20 {
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		name := fmt.Sprint("DATA frames cut, ", seed)
		convs[name] = chatFramed(func(stream uint32, endStream bool, p []byte) []byte {
			var b []byte
			for {
				n := min(len(p), r.IntN(8))
				if r.IntN(3) == 0 {
					pad := r.IntN(5)
					payload := append([]byte{byte(pad)}, p[:n]...)
					payload = append(payload, make([]byte, pad)...)
					var flags uint8 = analyzetest.H2Padded
					if endStream && n == len(p) {
						flags |= analyzetest.H2EndStream
					}
					b = append(b, analyzetest.H2Frame(analyzetest.H2Data, flags, stream, payload)...)
				} else {
					b = append(b, analyzetest.H2DataFrame(stream, endStream && n == len(p), p[:n])...)
				}
				p = p[n:]
				if len(p) == 0 && (n > 0 || len(b) > 0) {
					return b
				}
			}
		})
		cutters[name] = cutters[fmt.Sprint("random ", seed)]
	}
	for name, cuts := range cutters {
		c := capturetest.NewCapture(capturetest.Options{})
		convs[name].script(c, cuts)
		for _, workers := range []int{1, 2} {
			got := h2Lines(t, decodeEvents(t, c.Bytes(), workers))
			if !slices.Equal(got, chatWant) {
				t.Fatalf("%s, %d workers: events\n%s\nwant\n%s", name, workers, strings.Join(got, "\n"), strings.Join(chatWant, "\n"))
			}
		}
	}
}

// TestH2WebSocketEnds: how a WebSocket's stream ends, and what its events
// then say, each case on one worker and two.
func TestH2WebSocketEnds(t *testing.T) {
	hello := func(v *h2Conv) {
		v.opening(true)
		v.connect(1, "/chat", "")
		v.accept(1, "200", "")
		v.client(analyzetest.H2DataFrame(1, false, analyzetest.Text(true, "hi")))
	}
	closes := func(v *h2Conv) {
		v.client(analyzetest.H2DataFrame(1, false, analyzetest.Close(true, 1000, "")))
		v.server(analyzetest.H2DataFrame(1, true, analyzetest.Close(false, 1000, "")))
	}
	for _, tc := range []struct {
		name   string
		script func(v *h2Conv)
		want   []string // the events from the first message on, as h2Lines
		codes  string   // warning codes, in order
	}{
		{"the client resets", func(v *h2Conv) {
			hello(v)
			v.client(analyzetest.H2RSTStreamFrame(1, 8))
		}, []string{"ws.frame client s1", "ws.message client s1 text hi", "h2.stream_close client s1 rst_stream CANCEL"}, ""},
		{"the server resets with NO_ERROR after its END_STREAM and the closing handshake", func(v *h2Conv) {
			hello(v)
			closes(v)
			v.server(analyzetest.H2RSTStreamFrame(1, 0))
		}, []string{"ws.frame client s1", "ws.message client s1 text hi", "ws.frame client s1", "ws.message client s1 close 1000",
			"ws.frame server s1", "ws.message server s1 close 1000", "h2.stream_close server s1 rst_stream NO_ERROR after end"}, ""},
		{"the server resets with NO_ERROR before any close", func(v *h2Conv) {
			hello(v)
			v.server(analyzetest.H2DataFrame(1, true, nil), analyzetest.H2RSTStreamFrame(1, 0))
		}, []string{"ws.frame client s1", "ws.message client s1 text hi", "h2.stream_close server s1 rst_stream NO_ERROR"}, ""},
		{"TCP ends first, a message cut", func(v *h2Conv) {
			hello(v)
			v.server(analyzetest.H2DataFrame(1, false, analyzetest.Text(false, "cut here")[:5]))
		}, []string{"ws.frame client s1", "ws.message client s1 text hi", "ws.frame server s1", "ws.message server s1 text cut"}, "ws.incomplete"},
		{"client data before the answer", func(v *h2Conv) {
			v.opening(true)
			v.connect(1, "/chat", "")
			v.client(analyzetest.H2DataFrame(1, false, analyzetest.Text(true, "early")))
			v.accept(1, "200", "")
			v.client(analyzetest.H2DataFrame(1, false, analyzetest.Text(true, "hi")))
		}, []string{"ws.frame client s1", "ws.message client s1 text early", "ws.frame client s1", "ws.message client s1 text hi"}, ""},
		{"client data before the answer past 64 KiB", func(v *h2Conv) {
			v.opening(true)
			v.connect(1, "/chat", "")
			v.client(analyzetest.H2DataFrame(1, false, analyzetest.Text(true, "early")))
			big := analyzetest.Binary(true, make([]byte, 70000))
			for i := 0; i < len(big); i += 16384 {
				v.client(analyzetest.H2DataFrame(1, false, big[i:min(i+16384, len(big))]))
			}
			v.accept(1, "200", "")
			v.client(analyzetest.H2DataFrame(1, false, analyzetest.Text(true, "hi")))
		}, []string{"ws.open s1", "ws.frame client s1", "ws.message client s1 text early", "ws.frame client s1", "ws.message client s1 binary 70000",
			"ws.frame client s1", "ws.message client s1 text hi"}, "http.pending_too_large tcp.gap"},
		{"refused", func(v *h2Conv) {
			v.opening(true)
			v.connect(1, "/chat", "")
			v.client(analyzetest.H2DataFrame(1, false, analyzetest.Text(true, "early")))
			v.server(v.srv.Headers(1, true, ":status", "404"))
			v.client(analyzetest.H2DataFrame(1, false, analyzetest.Text(true, "late")))
		}, []string{"http.response server s1 404"}, "http.upgrade_rejected"},
		{"an interim 103 first", func(v *h2Conv) {
			v.opening(true)
			v.connect(1, "/chat", "")
			v.accept(1, "103", "")
			v.accept(1, "200", "")
			v.client(analyzetest.H2DataFrame(1, false, analyzetest.Text(true, "hi")))
		}, []string{"http.response server s1 103", "http.response server s1 200", "ws.open s1", "ws.frame client s1", "ws.message client s1 text hi"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newH2Conv()
			tc.script(v)
			c := capturetest.NewCapture(capturetest.Options{})
			v.script(c, nil)
			for _, workers := range []int{1, 2} {
				events := decodeEvents(t, c.Bytes(), workers)
				var got []string
				var codes []string
				from := -1
				for _, ev := range events {
					for _, w := range ev.Warnings {
						codes = append(codes, w.Code)
					}
					if strings.HasPrefix(ev.Type, "tcp.") {
						continue
					}
					line := h2Line(&ev)
					if ev.Type == analyze.TypeH2StreamClose && strings.Contains(ev.Note, "after its END_STREAM") {
						line += " after end"
					}
					got = append(got, line)
					if from < 0 && (line == tc.want[0]) {
						from = len(got) - 1
					}
				}
				if from < 0 || !slices.Equal(got[from:], tc.want) || strings.Join(codes, " ") != tc.codes {
					t.Errorf("%d workers: events\n%s\nwarnings %v; want the events to end with\n%s\nand warnings %q", workers, strings.Join(got, "\n"), codes, strings.Join(tc.want, "\n"), tc.codes)
				}
			}
		})
	}
}
