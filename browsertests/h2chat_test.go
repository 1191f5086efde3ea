package browsertests

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// h2ChatCapture writes a capture of one cleartext HTTP/2 connection (prior
// knowledge, RFC 9113 §3.3) that carries two WebSockets (RFC 8441) among
// plain requests: the page's GET on stream 1, /chat on stream 3 and /feed
// on stream 5, whose messages interleave, and a GET on stream 7. Stream 3
// closes both ways and ends with END_STREAM; stream 5 closes both ways and
// the server resets it with NO_ERROR, as Chromium's servers do.
func h2ChatCapture(t testing.TB) string {
	t.Helper()
	c := capturetest.NewCapture(capturetest.Options{NG: true, Step: 2 * time.Millisecond})
	k := c.Conn("127.0.0.1:50101", "127.0.0.1:8443")
	k.Handshake()
	h := analyzetest.OpenH2(k, true)
	h.Scheme, h.Authority = "http", "127.0.0.1:8443"
	h.Request(1, "GET", "/")
	h.ServerSends(h.Server.Headers(1, false, ":status", "200", "content-type", "text/html"), analyzetest.H2DataFrame(1, true, []byte("<html>chat</html>")))
	h.Connect(3, "/chat")
	h.Connect(5, "/feed")
	h.Answer(3, "200")
	h.Answer(5, "200")
	h.ClientData(3, false, analyzetest.Text(true, "hello on the chat"))
	h.ServerData(5, false, analyzetest.Text(false, "feed item 1"))
	h.ServerData(3, false, analyzetest.Text(false, "welcome to the chat"))
	h.Request(7, "GET", "/favicon.ico")
	h.ServerSends(h.Server.Headers(7, true, ":status", "404"))
	h.ServerData(5, false, analyzetest.Text(false, "feed item 2"))
	h.ClientData(3, false, analyzetest.Close(true, 1000, "bye"))
	h.ServerData(3, true, analyzetest.Close(false, 1000, "bye"))
	h.ClientData(3, true)
	h.ClientData(5, false, analyzetest.Close(true, 1001, ""))
	h.ServerData(5, false, analyzetest.Close(false, 1001, ""))
	h.ServerSends(analyzetest.H2RSTStreamFrame(5, 0)) // NO_ERROR
	h.Close()
	return c.TempFile(t, "h2-chat.pcapng")
}

// h2LadderRow is a ladder row with the stream it says.
type h2LadderRow struct {
	ID     int
	Sub    string
	Label  string
	Note   string
	Stream string // the text of its stream button, "" when it has none
	Arrow  string // the class of its arrow or band
}

// h2LadderRows returns the want rows of the ladder, in order, each drawn
// from its event's details.
func h2LadderRows(t *testing.T, ctx context.Context, want int) []h2LadderRow {
	t.Helper()
	poll(t, ctx, fmt.Sprintf(`wsviz.app.ladder.n === %d && document.querySelectorAll('#ladder .ladder-row').length === %d && [...document.querySelectorAll('#ladder .ladder-row')].every(r => /^\d+:\d+d/.test(r.dataset.key || ''))`, want, want))
	return eval[[]h2LadderRow](t, ctx, `[...document.querySelectorAll('#ladder .ladder-row')].sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top)).map(r => ({
		ID: Number(r.dataset.id), Sub: r.dataset.sub ?? '', Label: r.querySelector('.alabel').textContent,
		Note: r.querySelector('.lr-note').textContent, Stream: r.querySelector('.lr-stream')?.textContent ?? '',
		Arrow: (r.querySelector('.arrow') || r.querySelector('.band')).className}))`)
}

// TestH2Ladder: on an HTTP/2 connection that carries WebSockets (RFC
// 8441), every ladder row of an event with a stream says it ("stream 3"),
// the rows without one (TCP, TLS) say none; each WebSocket's stream ends
// with its h2.stream_close row, drawn with its note; HTTP/2 requests and
// responses show method, path and status with no reason phrase; the
// stream button shows that stream's steps alone (and says so in the title
// and the address) until "all streams"; the connections table names the
// first WebSocket, counts them and says HTTP/2; the Messages panel says
// each message's stream. Checked against the analyzer's events, on a
// synthetic capture and on Chromium's (testdata/h2-websocket.pcapng, when
// present).
func TestH2Ladder(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		conn       int
	}{
		{"synthetic", "", 1},
		{"chromium", "../testdata/h2-websocket.pcapng", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = h2ChatCapture(t)
			} else if _, err := os.Stat(path); err != nil {
				t.Skipf("no %s: %v", path, err)
			}
			evs := decoded(t, path)
			var ids []int
			steps := 0
			streams := map[uint32][]int{} // stream → its drawn events
			for i := range evs {
				ev := &evs[i]
				if ev.Conn != tc.conn || ev.Type == analyze.TypeWSFrame && !frameDrawn(ev) {
					continue
				}
				ids = append(ids, i)
				steps += max(1, len(tcpPackets(ev)))
				if ev.Stream != 0 {
					streams[ev.Stream] = append(streams[ev.Stream], i)
				}
			}
			ctx := newBrowser(t)
			// Tall enough for the ladder to hold every row.
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(1600, int64(1600+44*steps))); err != nil {
				t.Fatal(err)
			}
			errs := consoleErrors(ctx)
			openPage(t, ctx, serve(t, path)+fmt.Sprintf("#conn=%d", tc.conn), len(evs))
			rows := h2LadderRows(t, ctx, steps)
			closes := 0
			for _, r := range rows {
				ev := &evs[r.ID]
				want := ""
				if ev.Stream != 0 {
					want = fmt.Sprint("stream ", ev.Stream)
				}
				if r.Stream != want {
					t.Errorf("row of event %d (%s, stream %d) says %q, want %q", r.ID, ev.Type, ev.Stream, r.Stream, want)
				}
				switch ev.Type {
				case analyze.TypeH2StreamClose:
					closes++
					label := "END_STREAM both ways"
					if ev.H2Close.How == analyze.CloseRSTStream {
						label = "RST_STREAM " + ev.H2Close.ErrorCode
					}
					// On TLS the note goes on to say it travelled encrypted.
					if r.Label != label || !strings.HasPrefix(r.Note, want+ev.Note) || !strings.Contains(r.Arrow, "c-tcp") {
						t.Errorf("h2.stream_close row %+v, want label %q and note %q", r, label, ev.Note)
					}
				case analyze.TypeHTTPRequest:
					label := ev.HTTP.Method + " " + ev.HTTP.Target + " HTTP/2"
					if ev.HTTP.Method == "CONNECT" {
						label += " · :protocol websocket"
					}
					if r.Label != label {
						t.Errorf("request row label %q, want %q", r.Label, label)
					}
				case analyze.TypeHTTPResponse:
					if label := fmt.Sprint(ev.HTTP.Status, " HTTP/2"); r.Label != label {
						t.Errorf("response row label %q, want %q (no reason phrase on HTTP/2)", r.Label, label)
					}
					// The answer that opened a WebSocket is drawn as an
					// upgrade, the others as plain HTTP.
					color := "c-plain"
					if slices.ContainsFunc(evs, func(o analyze.Event) bool {
						return o.Conn == ev.Conn && o.Stream == ev.Stream && o.Type == analyze.TypeWSOpen
					}) {
						color = "c-http"
					}
					if !strings.Contains(r.Arrow, color) {
						t.Errorf("response row of stream %d: arrow %q, want %s", ev.Stream, r.Arrow, color)
					}
				}
			}
			wsStreams := 0
			for _, ev := range evs {
				if ev.Conn == tc.conn && ev.Type == analyze.TypeWSOpen {
					wsStreams++
				}
			}
			if closes == 0 || closes > wsStreams {
				t.Errorf("%d h2.stream_close rows for %d WebSockets", closes, wsStreams)
			}
			screenshot(t, ctx, "h2-ladder-"+tc.name)
			screenshotOf(t, ctx, "#steps-panel", "h2-ladder-"+tc.name+"-panel")

			// The connections table.
			type connRow struct{ State, Path string }
			cr := eval[connRow](t, ctx, fmt.Sprintf(`(() => { const r = document.querySelector('#conn-list .conn-row[data-conn="%d"]'); return {State: r.querySelector('.c-state').textContent, Path: r.querySelector('.c-path').textContent}; })()`, tc.conn))
			var first analyze.WSOpen
			for _, ev := range evs {
				if ev.Conn == tc.conn && ev.Type == analyze.TypeWSOpen {
					first = ev.WSOpen
					break
				}
			}
			if !strings.HasPrefix(cr.State, "closed cleanly") || !strings.Contains(cr.State, "HTTP/2") || !strings.HasPrefix(cr.Path, first.Path) ||
				(wsStreams > 1) != strings.Contains(cr.Path, fmt.Sprintf("· %d WebSockets", wsStreams)) {
				t.Errorf("connection %d in the table: %+v; want closed cleanly, HTTP/2, path %s and %d WebSockets", tc.conn, cr, first.Path, wsStreams)
			}
			screenshotOf(t, ctx, "#conns-panel", "h2-conns-"+tc.name)

			// One stream alone: its button, then "all streams".
			var lastWS uint32 // the WebSocket of the highest stream
			for s := range streams {
				if slices.ContainsFunc(streams[s], func(i int) bool { return evs[i].Type == analyze.TypeWSOpen }) {
					lastWS = max(lastWS, s)
				}
			}
			jsClick(t, ctx, fmt.Sprintf(`#ladder .ladder-row[data-id="%d"] .lr-stream`, streams[lastWS][0]))
			only := h2LadderRows(t, ctx, len(streams[lastWS]))
			var got []int
			for _, r := range only {
				got = append(got, r.ID)
			}
			if !slices.Equal(got, streams[lastWS]) {
				t.Errorf("stream %d alone: rows of events %v, want %v", lastWS, got, streams[lastWS])
			}
			if title := eval[string](t, ctx, `document.getElementById('ladder-title').textContent`); !strings.Contains(title, fmt.Sprintf("HTTP/2 stream %d only", lastWS)) {
				t.Errorf("ladder title %q, want it to name stream %d", title, lastWS)
			}
			if h := hashParams(t, ctx); h.Get("stream") != fmt.Sprint(lastWS) {
				t.Errorf("address %v, want stream=%d", h, lastWS)
			}
			screenshotOf(t, ctx, "#steps-panel", "h2-ladder-"+tc.name+"-one-stream")
			click(t, ctx, `#ladder-all-streams`)
			h2LadderRows(t, ctx, steps)
			if hidden := eval[bool](t, ctx, `document.getElementById('ladder-all-streams').hidden`); !hidden {
				t.Errorf("the all-streams button is still shown with every stream in the ladder")
			}

			// The Messages panel says each message's stream.
			click(t, ctx, `#tab-messages`)
			var msgs []string
			for _, ev := range evs {
				if ev.Type == analyze.TypeWSMessage {
					msgs = append(msgs, fmt.Sprintf("#%ds%d", ev.Conn, ev.Stream))
				}
			}
			poll(t, ctx, `document.querySelectorAll('#pane-messages .msg-row[data-id]').length > 0`)
			shown := eval[[]string](t, ctx, `[...document.querySelectorAll('#pane-messages .msg-row[data-id]')].sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top)).map(r => r.querySelector('.m-conn').textContent)`)
			if len(shown) > len(msgs) || !slices.Equal(shown, msgs[:len(shown)]) {
				t.Errorf("Messages panel connections %q, want %q", shown, msgs[:len(shown)])
			}
			if e := errs(); len(e) > 0 {
				t.Errorf("console errors: %q", e)
			}
		})
	}
}
