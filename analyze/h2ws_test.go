package analyze_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// h2Script is an HTTP/2 conversation, written onto a connection opened
// by analyzetest.OpenH2 (the prefaces exchanged, extended CONNECT
// allowed unless it says otherwise).
type h2Script func(h *analyzetest.H2Conn)

// capture writes the conversation on one TCP connection, each step cut
// into segments at cuts(len) (nil: one segment a step), the WebSocket
// bytes in DATA frames made by data (nil: one a step).
func (script h2Script) capture(connect bool, cuts func(n int) []int, data func(uint32, bool, []byte) []byte) []byte {
	c := capturetest.NewCapture(capturetest.Options{})
	k := c.Conn("10.0.0.1:50000", "10.0.0.2:443")
	k.Handshake()
	h := analyzetest.OpenH2(k, connect)
	h.Cut, h.Data = cuts, data
	script(h)
	h.Close()
	return c.Bytes()
}

// deflate is permessage-deflate's extension offer and answer, as the
// fields of an extended CONNECT or its answer.
var deflate = []string{"sec-websocket-extensions", "permessage-deflate"}

// chat is a conversation with two WebSockets and a plain GET interleaved on
// one connection: stream 1 compressed with context takeover, stream 3
// plain, stream 5 a GET with a body; both WebSockets close cleanly and end
// their streams.
func chat(h *analyzetest.H2Conn) {
	h.Connect(1, "/chat", "sec-websocket-extensions", "permessage-deflate; client_max_window_bits")
	h.Connect(3, "/feed")
	h.ClientSends(h.Client.Headers(5, true, ":method", "GET", ":scheme", "https", ":path", "/index.html", ":authority", "example.com"))
	h.Answer(1, "200", deflate...)
	h.Answer(3, "200")
	var cd, sd analyzetest.Deflater
	cd.Level, sd.Level = 6, 6
	compressed := func(client bool, d *analyzetest.Deflater, s string) []byte {
		f := analyzetest.Frame{Fin: true, RSV: 4, Opcode: analyzetest.OpText, Payload: d.Compress([]byte(s))}
		if client {
			f.Mask = &analyzetest.DefaultMask
		}
		return f.Bytes()
	}
	h.ClientData(1, false, compressed(true, &cd, "hello from the chat client, hello"))
	h.ServerSends(h.Server.Headers(5, false, ":status", "200", "content-type", "text/html"))
	h.ServerData(5, true, []byte("<html>not a websocket</html>"))
	h.ServerData(1, false, compressed(false, &sd, "hello from the chat server, hello"))
	h.ServerData(3, false, analyzetest.Text(false, "feed item 1"))
	// One WebSocket frame in two DATA frames, and two frames in one.
	big := analyzetest.Binary(false, []byte(strings.Repeat("0123456789", 300)))
	h.ServerData(3, false, big[:1000])
	h.ServerData(3, false, big[1000:])
	h.ClientData(1, false, compressed(true, &cd, "hello again from the chat client, hello"), analyzetest.Text(true, "plain"))
	h.ClientData(3, false, analyzetest.Close(true, 1000, "bye"))
	h.ServerData(3, true, analyzetest.Close(false, 1000, "bye"))
	h.ClientData(3, true)
	h.ClientData(1, true, analyzetest.Close(true, 1001, ""))
	h.ServerData(1, true, analyzetest.Close(false, 1001, ""))
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
	r := rand.New(rand.NewPCG(1, 2))
	type framing struct {
		cuts func(n int) []int
		data func(uint32, bool, []byte) []byte
	}
	cases := map[string]framing{
		"whole": {},
		"bytes": {cuts: func(n int) []int {
			var at []int
			for i := 1; i < n; i++ {
				at = append(at, i)
			}
			return at
		}},
	}
	random := func(n int) []int {
		var at []int
		for i := 1; i < n; i++ {
			if r.IntN(max(n/4, 2)) == 0 {
				at = append(at, i)
			}
		}
		return at
	}
	for seed := range 20 {
		cases[fmt.Sprint("random ", seed)] = framing{cuts: random}
		// DATA frames cut anywhere, not where WebSocket frames are: a
		// frame's header in one DATA frame and its payload in the next,
		// empty DATA frames, padding (RFC 9113 §6.1).
		rd := rand.New(rand.NewPCG(uint64(seed), 7))
		cases[fmt.Sprint("DATA frames cut, ", seed)] = framing{cuts: random, data: func(stream uint32, endStream bool, p []byte) []byte {
			var b []byte
			for {
				n := min(len(p), rd.IntN(8))
				if rd.IntN(3) == 0 {
					pad := rd.IntN(5)
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
		}}
	}
	for name, f := range cases {
		data := h2Script(chat).capture(true, f.cuts, f.data)
		for _, workers := range []int{1, 2} {
			got := h2Lines(t, decodeEvents(t, data, workers))
			if !slices.Equal(got, chatWant) {
				t.Fatalf("%s, %d workers: events\n%s\nwant\n%s", name, workers, strings.Join(got, "\n"), strings.Join(chatWant, "\n"))
			}
		}
	}
}

// TestH2WebSocketEnds: how a WebSocket's stream ends, and what its events
// then say, each case on one worker and two.
func TestH2WebSocketEnds(t *testing.T) {
	hello := func(h *analyzetest.H2Conn) {
		h.Connect(1, "/chat")
		h.Answer(1, "200")
		h.ClientData(1, false, analyzetest.Text(true, "hi"))
	}
	closes := func(h *analyzetest.H2Conn) {
		h.ClientData(1, false, analyzetest.Close(true, 1000, ""))
		h.ServerData(1, true, analyzetest.Close(false, 1000, ""))
	}
	for _, tc := range []struct {
		name   string
		script h2Script
		want   []string // the events from the first message on, as h2Lines
		codes  string   // warning codes, in order
	}{
		{"the client resets", func(h *analyzetest.H2Conn) {
			hello(h)
			h.ClientSends(analyzetest.H2RSTStreamFrame(1, 8))
		}, []string{"ws.frame client s1", "ws.message client s1 text hi", "h2.stream_close client s1 rst_stream CANCEL"}, ""},
		{"the server resets with NO_ERROR after its END_STREAM and the closing handshake", func(h *analyzetest.H2Conn) {
			hello(h)
			closes(h)
			h.ServerSends(analyzetest.H2RSTStreamFrame(1, 0))
		}, []string{"ws.frame client s1", "ws.message client s1 text hi", "ws.frame client s1", "ws.message client s1 close 1000",
			"ws.frame server s1", "ws.message server s1 close 1000", "h2.stream_close server s1 rst_stream NO_ERROR after end"}, ""},
		{"the server resets with NO_ERROR before any close", func(h *analyzetest.H2Conn) {
			hello(h)
			h.ServerSends(analyzetest.H2DataFrame(1, true, nil), analyzetest.H2RSTStreamFrame(1, 0))
		}, []string{"ws.frame client s1", "ws.message client s1 text hi", "h2.stream_close server s1 rst_stream NO_ERROR"}, ""},
		{"TCP ends first, a message cut", func(h *analyzetest.H2Conn) {
			hello(h)
			h.ServerData(1, false, analyzetest.Text(false, "cut here")[:5])
		}, []string{"ws.frame client s1", "ws.message client s1 text hi", "ws.frame server s1", "ws.message server s1 text cut"}, "ws.incomplete"},
		{"client data before the answer", func(h *analyzetest.H2Conn) {
			h.Connect(1, "/chat")
			h.ClientData(1, false, analyzetest.Text(true, "early"))
			h.Answer(1, "200")
			h.ClientData(1, false, analyzetest.Text(true, "hi"))
		}, []string{"ws.frame client s1", "ws.message client s1 text early", "ws.frame client s1", "ws.message client s1 text hi"}, ""},
		{"client data before the answer past 64 KiB", func(h *analyzetest.H2Conn) {
			h.Connect(1, "/chat")
			h.ClientData(1, false, analyzetest.Text(true, "early"))
			big := analyzetest.Binary(true, make([]byte, 70000))
			for i := 0; i < len(big); i += 16384 {
				h.ClientData(1, false, big[i:min(i+16384, len(big))])
			}
			h.Answer(1, "200")
			h.ClientData(1, false, analyzetest.Text(true, "hi"))
		}, []string{"ws.open s1", "ws.frame client s1", "ws.message client s1 text early", "ws.frame client s1", "ws.message client s1 binary 70000",
			"ws.frame client s1", "ws.message client s1 text hi"}, "http.pending_too_large tcp.gap"},
		{"refused", func(h *analyzetest.H2Conn) {
			h.Connect(1, "/chat")
			h.ClientData(1, false, analyzetest.Text(true, "early"))
			h.ServerSends(h.Server.Headers(1, true, ":status", "404"))
			h.ClientData(1, false, analyzetest.Text(true, "late"))
		}, []string{"http.response server s1 404"}, "http.upgrade_rejected"},
		{"an interim 103 first", func(h *analyzetest.H2Conn) {
			h.Connect(1, "/chat")
			h.Answer(1, "103")
			h.Answer(1, "200")
			h.ClientData(1, false, analyzetest.Text(true, "hi"))
		}, []string{"http.response server s1 103", "http.response server s1 200", "ws.open s1", "ws.frame client s1", "ws.message client s1 text hi"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.script.capture(true, nil, nil)
			for _, workers := range []int{1, 2} {
				events := decodeEvents(t, data, workers)
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

// TestH2Ways reaches HTTP/2 each way a cleartext connection can (RFC
// 9113 §3.3 prior knowledge, the client first or the server's SETTINGS
// first; RFC 7540 §3.2's Upgrade: h2c, the client's preface after the 101
// or sent at once behind its request), then opens the same WebSocket on
// stream 3: the same events each way, on one worker and two.
func TestH2Ways(t *testing.T) {
	const upgrade = "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n"
	const switched = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
	preface := slices.Concat([]byte(analyzetest.H2Preface), analyzetest.H2SettingsFrame())
	settings := analyzetest.H2SettingsFrame(analyzetest.H2SettingEnableConnectProtocol, 1)
	for _, tc := range []struct {
		name  string
		start func(h *analyzetest.H2Conn)
	}{
		{"prior knowledge, the client first", func(h *analyzetest.H2Conn) {
			h.ClientSends(preface)
			h.ServerSends(settings)
		}},
		{"prior knowledge, the server's SETTINGS first", func(h *analyzetest.H2Conn) {
			h.ServerSends(settings)
			h.ClientSends(preface)
		}},
		{"h2c, the preface after the 101", func(h *analyzetest.H2Conn) {
			h.ClientSends([]byte(upgrade))
			h.ServerSends([]byte(switched), settings)
			h.ClientSends(preface)
			h.ServerSends(h.Server.Headers(1, true, ":status", "200"))
		}},
		{"h2c, the preface behind the request", func(h *analyzetest.H2Conn) {
			h.ClientSends([]byte(upgrade), preface)
			h.ServerSends([]byte(switched))
			h.ServerSends(settings, h.Server.Headers(1, true, ":status", "200"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := capturetest.NewCapture(capturetest.Options{})
			k := c.Conn("10.0.0.1:50000", "10.0.0.2:80")
			k.Handshake()
			h := &analyzetest.H2Conn{K: k, Client: analyzetest.NewH2(), Server: analyzetest.NewH2(), Scheme: "http", Authority: "a"}
			tc.start(h)
			h.Connect(3, "/chat")
			h.Answer(3, "200")
			h.ClientData(3, false, analyzetest.Text(true, "hi"))
			h.ServerData(3, false, analyzetest.Text(false, "ho"))
			h.CloseWebSocket(3)
			h.Close()
			want := []string{"http.request client s3 CONNECT /chat", "http.response server s3 200", "ws.open s3",
				"ws.frame client s3", "ws.message client s3 text hi", "ws.frame server s3", "ws.message server s3 text ho",
				"ws.frame client s3", "ws.message client s3 close 1000", "ws.frame server s3", "ws.message server s3 close 1000",
				"h2.stream_close server s3 end_stream"}
			for _, workers := range []int{1, 2} {
				got := h2Lines(t, decodeEvents(t, c.Bytes(), workers))
				i := slices.Index(got, want[0])
				if i < 0 || !slices.Equal(got[i:], want) {
					t.Errorf("%d workers: events\n%s\nwant them to end with\n%s", workers, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
		})
	}
}

// TestH2ProblemNotes: the note of each HTTP/2 problem's http.error says
// what became of decoding, on the problem's violation capture: a side not
// decoded from its start, a limit passed, header blocks no longer decoded,
// the framing lost, or a broken rule decoding went past.
func TestH2ProblemNotes(t *testing.T) {
	for code, want := range map[string]string{
		"h2.bad_preface":            "not its connection preface",
		"h2.header_list_too_large":  "passed a limit of wsviz",
		"h2.settings_too_large":     "passed a limit of wsviz",
		"h2.hpack":                  "no longer decodes the client's HTTP/2 header blocks",
		"h2.gap_in_headers":         "no longer decodes the client's HTTP/2 header blocks",
		"h2.continuation":           "no longer decodes the client's HTTP/2 header blocks",
		"h2.header_block_too_large": "no longer decodes the client's HTTP/2 header blocks",
		"h2.lost_sync":              "stopped decoding the server's HTTP/2 frames",
		"h2.frame_size":             "broke HTTP/2's framing rules; decoding goes on",
		"h2.stream_id":              "broke HTTP/2's framing rules; decoding goes on",
		"h2.padding":                "broke HTTP/2's framing rules; decoding goes on",
		"h2.settings_value":         "broke HTTP/2's framing rules; decoding goes on",
		"h2.window_update":          "broke HTTP/2's framing rules; decoding goes on",
	} {
		data, err := os.ReadFile("../testdata/violations/" + code + ".pcap")
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, ev := range decodeEvents(t, data, 1) {
			if ev.Type == analyze.TypeHTTPError && ev.HasWarning(code) {
				found = true
				if !strings.Contains(ev.Note, want) {
					t.Errorf("%s: note %q, want it to say %q", code, ev.Note, want)
				}
			}
		}
		if !found {
			t.Errorf("%s: no http.error carries it", code)
		}
	}
}
