package browsertests

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/ui"
)

// warned lists, in capture order, the ids of the events that carry code
// ("" for any code).
func warned(evs []analyze.Event, code string) []int {
	var out []int
	for i := range evs {
		for _, w := range evs[i].Warnings {
			if code == "" || w.Code == code {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

func click(t testing.TB, ctx context.Context, sel string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(sel)); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

// jsClick clicks the element sel from inside the page, in one step: rows of
// virtual lists are rebuilt when their details arrive, and a click through
// the protocol may find the node it looked up gone.
func jsClick(t testing.TB, ctx context.Context, sel string) {
	t.Helper()
	poll(t, ctx, fmt.Sprintf(`document.querySelector(%q) !== null`, sel))
	eval[any](t, ctx, fmt.Sprintf(`document.querySelector(%q).click(), 0`, sel))
}

func pollFor(t testing.TB, ctx context.Context, d time.Duration, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(d))); err != nil {
		t.Fatalf("waiting %v for %s: %v", d, js, err)
	}
}

func key(t testing.TB, ctx context.Context, k string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.KeyEvent(k)); err != nil {
		t.Fatalf("key %q: %v", k, err)
	}
}

// TestWarningsPanelShowsEveryCode: every warning code of the hostile
// capture is in the Warnings panel with its count, each occurrence links to
// its event, the frames with warnings (and the frame of a reserved opcode,
// which makes no message) are drawn on the timeline, and w walks through
// every warned event by keyboard.
func TestWarningsPanelShowsEveryCode(t *testing.T) {
	ctx := newBrowser(t)
	path := hostileCapture(t)
	evs := decoded(t, path)
	errs := consoleErrors(ctx)
	openPage(t, ctx, serve(t, path)+"#panel=warnings", len(evs))

	counts := map[string]int{}
	var order []string
	total := 0
	for i := range evs {
		for _, w := range evs[i].Warnings {
			if counts[w.Code] == 0 {
				order = append(order, w.Code)
			}
			counts[w.Code]++
			total++
		}
	}
	if len(order) < 9 {
		t.Fatalf("the hostile capture decodes to %d warning codes (%v), want at least 9", len(order), order)
	}
	poll(t, ctx, fmt.Sprintf(`document.querySelectorAll('#warn-codes .wcode').length === %d`, len(order)))
	screenshot(t, ctx, "warnings-panel")
	type codeRow struct{ Code, Count, Meaning, RFC string }
	rows := eval[[]codeRow](t, ctx, `[...document.querySelectorAll('#warn-codes .wcode')].map(b => ({Code: b.dataset.code, Count: b.querySelector('.wc-count').textContent, Meaning: b.querySelector('.wc-meaning').textContent, RFC: b.querySelector('.wc-rfc').textContent}))`)
	for i, r := range rows {
		info, ok := analyze.LookupCode(order[i])
		if r.Code != order[i] || r.Count != fmt.Sprint(counts[r.Code]) || !ok || r.Meaning != info.Description || !strings.HasPrefix(r.RFC, info.RFC) {
			t.Errorf("Warnings row %d = %+v, want %s × %d with the registry's meaning %q and %q", i, r, order[i], counts[order[i]], info.Description, info.RFC)
		}
	}
	if got := eval[string](t, ctx, `document.getElementById('s-warnings').textContent`); got != fmt.Sprint(total) {
		t.Errorf("summary warnings = %q, want %d", got, total)
	}

	// Each code lists its occurrences; the first one selects its event.
	for _, code := range order {
		jsClick(t, ctx, fmt.Sprintf(`#warn-codes .wcode[data-code=%q]`, code))
		ids := warned(evs, code)
		poll(t, ctx, fmt.Sprintf(`document.querySelectorAll('#warn-list .wocc[data-id]').length === %d`, len(ids)))
		got := eval[[]int](t, ctx, `[...document.querySelectorAll('#warn-list .wocc[data-id]')].sort((a, b) => a.dataset.row - b.dataset.row).map(r => Number(r.dataset.id))`)
		if !slices.Equal(got, ids) {
			t.Errorf("occurrences of %s = %v, want %v", code, got, ids)
		}
		jsClick(t, ctx, fmt.Sprintf(`#warn-list .wocc[data-id="%d"]`, ids[0]))
		poll(t, ctx, fmt.Sprintf(`wsviz.app.selected === %d && [...document.querySelectorAll('#inspector .insp-warn code')].some(c => c.textContent === %q)`, ids[0], code))
		if h := hashParams(t, ctx); h.Get("code") != code || h.Get("panel") != "warnings" {
			t.Errorf("hash after choosing %s = %v", code, h)
		}
	}
	screenshot(t, ctx, "warnings-occurrence")

	// Every warned event is on the timeline, frames included.
	drawn := drawnIDs(t, ctx)
	for _, id := range warned(evs, "") {
		if _, ok := slices.BinarySearch(drawn, id); !ok {
			t.Errorf("warned event %d (%s) is not drawn on the timeline", id, evs[id].Type)
		}
	}
	if got, want := drawn, drawable(evs, nil); !slices.Equal(got, want) {
		t.Errorf("timeline marks %v, want %v", got, want)
	}

	// Keyboard: w from nothing selected visits every warned event in order.
	eval[any](t, ctx, `wsviz.app.select(-1), document.activeElement.blur(), 0`)
	// The page asks the server for the next warned event (/api/step): each
	// key is followed by waiting for the selection to move.
	var visited []int
	prev := -1
	for range warned(evs, "") {
		key(t, ctx, "w")
		pollQuiet(ctx, fmt.Sprintf(`wsviz.app.selected !== %d`, prev))
		prev = eval[int](t, ctx, `wsviz.app.selected`)
		visited = append(visited, prev)
	}
	if want := warned(evs, ""); !slices.Equal(visited, want) {
		t.Errorf("w visits %v, want %v", visited, want)
	}
	key(t, ctx, "W")
	pollQuiet(ctx, fmt.Sprintf(`wsviz.app.selected !== %d`, prev))
	if got, want := eval[int](t, ctx, `wsviz.app.selected`), warned(evs, "")[len(warned(evs, ""))-2]; got != want {
		t.Errorf("W goes back to %d, want %d", got, want)
	}

	// "warnings only" keeps exactly the warned events.
	click(t, ctx, `#f-warn`)
	want := warned(evs, "")
	poll(t, ctx, fmt.Sprintf(`wsviz.frame().ids.length === %d`, len(want)))
	if got := drawnIDs(t, ctx); !slices.Equal(got, want) {
		t.Errorf("warnings only: marks %v, want %v", got, want)
	}
	if e := errs(); len(e) > 0 {
		t.Errorf("console errors: %q", e)
	}
}

// TestConnectionStates: plain HTTP is labelled plain HTTP (not a refused
// upgrade), a refused upgrade is refused, a gap damages its connection, and
// the colours of rows and ladder arrows say the same.
func TestConnectionStates(t *testing.T) {
	ctx := newBrowser(t)
	path := hostileCapture(t)
	evs := decoded(t, path)
	openPage(t, ctx, serve(t, path)+"#conn=1", len(evs))
	type row struct{ Conn, State, Class string }
	rows := eval[[]row](t, ctx, `[...document.querySelectorAll('#conn-list .conn-row')].map(r => ({Conn: r.dataset.conn, State: r.querySelector('.c-state').textContent, Class: r.querySelector('.state').className}))`)
	want := []row{{"1", "plain HTTP 404", "state http"}, {"2", "closed cleanly", "state closed"}, {"3", "damaged by a gap", "state gap"}}
	if !slices.Equal(rows, want) {
		t.Errorf("connection states = %+v, want %+v", rows, want)
	}
	// The responses of plain HTTP are drawn as plain HTTP, not refusals.
	for i := range evs {
		if evs[i].Conn == 1 && evs[i].Type == analyze.TypeHTTPResponse {
			if d := eval[string](t, ctx, fmt.Sprintf(`wsviz.describe(%d)`, i)); !strings.Contains(d, "(plain HTTP)") {
				t.Errorf("response %d described as %q, want plain HTTP", i, d)
			}
		}
	}
	poll(t, ctx, `document.querySelectorAll('#ladder .ladder-row .arrow.c-plain').length === 2`)
	if n := eval[int](t, ctx, `document.querySelectorAll('#ladder .ladder-row .c-rst').length`); n != 0 {
		t.Errorf("the plain HTTP ladder has %d red (refused or reset) steps, want none", n)
	}
	screenshot(t, ctx, "plain-http")

	// The refused upgrade of the test capture.
	openPage(t, ctx, serve(t, testCapture(t))+"#conn=3", len(decoded(t, testCapture(t))))
	if got := eval[string](t, ctx, `document.querySelector('#conn-list .conn-row[data-conn="3"] .c-state').textContent`); got != "refused 403" {
		t.Errorf("rejected upgrade state = %q, want refused 403", got)
	}
	poll(t, ctx, `document.querySelectorAll('#ladder .ladder-row .arrow.c-rst').length === 1`)

	// HTTP/2 (testdata/h2): Go's client and server over TLS 1.3 with ALPN
	// h2, and in cleartext with prior knowledge and after a 101 to h2c.
	for _, tc := range []struct {
		file  string
		conns []row
	}{
		{"../testdata/h2/h2-tls.pcapng", []row{{"1", "HTTP/2TLS 1.3", "state h2"}}},
		{"../testdata/h2/h2c.pcap", []row{{"1", "HTTP/2", "state h2"}, {"2", "HTTP/2", "state h2"}}},
	} {
		openPage(t, ctx, serve(t, tc.file), len(decoded(t, tc.file)))
		rows := eval[[]row](t, ctx, `[...document.querySelectorAll('#conn-list .conn-row')].map(r => ({Conn: r.dataset.conn, State: r.querySelector('.c-state').textContent, Class: r.querySelector('.state').className}))`)
		if !slices.Equal(rows, tc.conns) {
			t.Errorf("%s: connection states = %+v, want %+v", tc.file, rows, tc.conns)
		}
	}
	screenshot(t, ctx, "http2")
}

// TestLadderDrawsCapturedPackets: the ladder draws the TCP handshake from
// the packets tcp.open carries, each with its own time and packet number.
func TestLadderDrawsCapturedPackets(t *testing.T) {
	path := testCapture(t)
	evs := decoded(t, path)
	open := find(t, evs, func(ev *analyze.Event) bool { return ev.Type == analyze.TypeTCPOpen && ev.Conn == 1 })
	var fields struct {
		Handshake []struct {
			Flags, From string
			Packet      int64
		}
	}
	json.Unmarshal(evs[open].AppendJSON(nil), &fields)
	ctx := newBrowser(t)
	openPage(t, ctx, serve(t, path)+"#conn=1", len(evs))
	type step struct{ Label, Pkt string }
	steps := func() []step {
		return eval[[]step](t, ctx, fmt.Sprintf(`[...document.querySelectorAll('#ladder .ladder-row[data-id="%d"]')].sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top)).map(r => ({Label: r.querySelector('.alabel').textContent, Pkt: r.querySelector('.lr-pkt')?.textContent ?? ''}))`, open))
	}
	if len(fields.Handshake) == 0 {
		// Before tcp.open carried its packets the ladder drew one SYN
		// row and invented nothing.
		poll(t, ctx, fmt.Sprintf(`document.querySelectorAll('#ladder .ladder-row[data-id="%d"]').length === 1`, open))
		if got := steps(); len(got) != 1 || got[0].Label != "SYN" {
			t.Errorf("ladder tcp.open rows = %+v, want one SYN row", got)
		}
		t.Skip(`tcp.open has no "handshake" field in this build: the three-packet ladder cannot be checked`)
	}
	poll(t, ctx, fmt.Sprintf(`document.querySelectorAll('#ladder .ladder-row[data-id="%d"]').length === %d`, open, len(fields.Handshake)))
	got := steps()
	if len(got) != 3 || got[0].Label != "SYN" || got[1].Label != "SYN-ACK" || got[2].Label != "ACK" {
		t.Fatalf("ladder handshake rows = %+v, want SYN, SYN-ACK, ACK", got)
	}
	seen := map[string]bool{}
	for i, s := range got {
		if want := fmt.Sprintf("pkt %d", fields.Handshake[i].Packet); s.Pkt != want || seen[s.Pkt] {
			t.Errorf("handshake row %d packet = %q, want %q, distinct", i, s.Pkt, want)
		}
		seen[s.Pkt] = true
	}
	screenshot(t, ctx, "ladder-handshake")
}

// TestFrameHeaderFromWire: the frame with a non-minimal length shows the
// 16-bit form it was sent in, from the header bytes.
func TestFrameHeaderFromWire(t *testing.T) {
	path := hostileCapture(t)
	evs := decoded(t, path)
	id := warned(evs, "ws.non_minimal_length")[0]
	var fields struct{ Header string }
	json.Unmarshal(evs[id].AppendJSON(nil), &fields)
	ctx := newBrowser(t)
	openPage(t, ctx, serve(t, path)+fmt.Sprintf("#event=%d", id), len(evs))
	poll(t, ctx, `document.querySelectorAll('#inspector .bits .bit').length > 0`)
	bits := eval[string](t, ctx, `[...document.querySelectorAll('#inspector .bits .bit')].map(b => b.textContent).join('|')`)
	if fields.Header == "" {
		if !strings.Contains(eval[string](t, ctx, `document.querySelector('#inspector .bit-raw').textContent`), "rebuilt") {
			t.Errorf("a header rebuilt from decoded fields does not say so")
		}
		t.Skipf(`ws.frame has no "header" field in this build (cells %q): the wire form cannot be drawn`, bits)
	}
	if !strings.Contains(bits, "length126|extended length5") {
		t.Errorf("non-minimal header cells = %q, want length 126 then extended length 5", bits)
	}
	screenshot(t, ctx, "non-minimal-header")
}

// TestMessagesPanel: one row per message in order, filtered by regular
// expression and direction, the row opens the message; binary shows as hex,
// base64 and UTF-8; arrows move through the rows.
func TestMessagesPanel(t *testing.T) {
	ctx := newBrowser(t)
	path := testCapture(t)
	evs := decoded(t, path)
	openPage(t, ctx, serve(t, path)+"#panel=messages", len(evs))
	var msgs []int
	for i := range evs {
		if evs[i].Type == analyze.TypeWSMessage {
			msgs = append(msgs, i)
		}
	}
	rowIDs := func() []int {
		return eval[[]int](t, ctx, `[...document.querySelectorAll('#messages .msg-row[data-id]')].sort((a, b) => a.dataset.row - b.dataset.row).map(r => Number(r.dataset.id))`)
	}
	poll(t, ctx, fmt.Sprintf(`document.querySelectorAll('#messages .msg-row[data-id]').length === %d`, len(msgs)))
	if got := rowIDs(); !slices.Equal(got, msgs) {
		t.Errorf("message rows = %v, want %v", got, msgs)
	}
	poll(t, ctx, `[...document.querySelectorAll('#messages .m-preview')].some(p => p.textContent.includes('"type":"welcome"'))`)
	screenshot(t, ctx, "messages-panel")

	// A regular expression.
	click(t, ctx, `#f-regex`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(`#f-search`, `^\{"type":"(hello|welcome)"`)); err != nil {
		t.Fatal(err)
	}
	hello, welcome := find(t, evs, textMessage(`{"type":"hello","user":"ada"}`)), find(t, evs, textMessage(chatJSON))
	poll(t, ctx, `new URLSearchParams(location.hash.slice(1)).get('q') === '^\\{"type":"(hello|welcome)"'`)
	poll(t, ctx, `document.querySelectorAll('#messages .msg-row[data-id]').length === 2`)
	if got := rowIDs(); !slices.Equal(got, []int{hello, welcome}) {
		t.Errorf("rows matching the regex = %v, want %v", got, []int{hello, welcome})
	}
	// And a direction.
	if err := chromedp.Do(ctx, chromedp.SetValue(`#f-dir`, "2"), chromedp.Evaluate[chromedp.Void](`document.getElementById('f-dir').dispatchEvent(new Event('change'))`)); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, `document.querySelectorAll('#messages .msg-row[data-id]').length === 1`)
	if got := rowIDs(); !slices.Equal(got, []int{welcome}) {
		t.Errorf("server rows matching the regex = %v, want [%d]", got, welcome)
	}
	h := hashParams(t, ctx)
	if h.Get("q") != `^\{"type":"(hello|welcome)"` || h.Get("re") != "1" || h.Get("dir") != "2" || h.Get("panel") != "messages" {
		t.Errorf("hash = %v, want the search, regex, direction and panel", h)
	}
	jsClick(t, ctx, fmt.Sprintf(`#messages .msg-row[data-id="%d"]`, welcome))
	poll(t, ctx, fmt.Sprintf(`wsviz.app.selected === %d && document.getElementById('payload')?.dataset.view === 'json'`, welcome))

	// Clear the filters; the binary message reads as hex, base64, UTF-8.
	eval[any](t, ctx, `(() => { const s = document.getElementById('f-search'); s.value = ''; s.dispatchEvent(new Event('input')); const d = document.getElementById('f-dir'); d.value = '0'; d.dispatchEvent(new Event('change')); })()`)
	poll(t, ctx, fmt.Sprintf(`document.querySelectorAll('#messages .msg-row[data-id]').length === %d`, len(msgs)))
	bin := find(t, evs, func(ev *analyze.Event) bool { return ev.Type == analyze.TypeWSMessage && ev.Message.Opcode == "binary" })
	jsClick(t, ctx, fmt.Sprintf(`#messages .msg-row[data-id="%d"]`, bin))
	poll(t, ctx, `document.getElementById('payload')?.dataset.view === 'hex'`)
	tabs := eval[[]string](t, ctx, `[...document.querySelectorAll('#inspector .tabs button')].map(b => b.dataset.view)`)
	if !slices.Equal(tabs, []string{"hex", "base64", "utf8"}) {
		t.Errorf("binary payload views = %v, want hex, base64, utf8", tabs)
	}
	click(t, ctx, `#inspector .tabs button[data-view=base64]`)
	if got, want := eval[string](t, ctx, `document.getElementById('payload').textContent`), b64(evs[bin].Message.Payload); got != want {
		t.Errorf("base64 view = %q, want %q", got, want)
	}
	// Keyboard: the list has the focus; ↓ selects the next message.
	key(t, ctx, "m")
	key(t, ctx, kb.ArrowDown)
	next := msgs[slices.Index(msgs, bin)+1]
	poll(t, ctx, fmt.Sprintf(`wsviz.app.selected === %d`, next))
}

// TestFilteredHARKeepsHandshake: a HAR exported with a search that hides
// the handshake still holds the connection's request and 101.
func TestFilteredHARKeepsHandshake(t *testing.T) {
	ctx := newBrowser(t)
	path := testCapture(t)
	evs := decoded(t, path)
	openPage(t, ctx, serve(t, path), len(evs))
	if err := chromedp.Do(ctx, chromedp.SendKeys(`#f-search`, "welcome")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, `wsviz.frame().ids.length === 1`)
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
		BrowserContextID: chromedp.FromContext(ctx).BrowserContextID}); err != nil {
		t.Fatal(err)
	}
	click(t, ctx, `#export-har`)
	file := filepath.Join(dir, "wsviz-events.har")
	var data []byte
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(file); err == nil && len(b) > 0 && json.Valid(b) {
			data = b
			break
		}
	}
	var h struct {
		Log struct {
			Entries []struct {
				Request struct {
					URL     string
					Headers []struct{ Name, Value string }
				}
				Response          struct{ Status int }
				WebSocketMessages []struct{ Type, Data string } `json:"_webSocketMessages"`
			}
		}
	}
	if err := json.Unmarshal(data, &h); err != nil {
		t.Fatalf("exported HAR: %v\n%s", err, data)
	}
	if len(h.Log.Entries) != 1 {
		t.Fatalf("exported HAR has %d entries, want 1:\n%s", len(h.Log.Entries), data)
	}
	e := h.Log.Entries[0]
	if !strings.HasSuffix(e.Request.URL, "/chat?room=7") || e.Response.Status != 101 || len(e.Request.Headers) == 0 {
		t.Errorf("the filtered HAR lost the handshake: %+v", e)
	}
	if len(e.WebSocketMessages) != 1 || e.WebSocketMessages[0].Data != chatJSON {
		t.Errorf("filtered HAR messages = %+v, want the welcome message only", e.WebSocketMessages)
	}
	// A filter that leaves nothing exports nothing, and says so.
	if err := chromedp.Do(ctx, chromedp.SendKeys(`#f-search`, "no such text anywhere")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, `wsviz.frame().ids.length === 0`)
	click(t, ctx, `#export-har`)
	poll(t, ctx, `!document.getElementById('notice').hidden && document.getElementById('notice').textContent.startsWith('Nothing to export')`)
}

// TestURLKeepsTheView: panel, zoom window, filters, search and the time
// axis come back from the address.
func TestURLKeepsTheView(t *testing.T) {
	ctx := newBrowser(t)
	path := testCapture(t)
	evs := decoded(t, path)
	u := serve(t, path) + "#panel=messages&view=1000,9000&dir=1&hide=ping,pong&warn=1&conns=chat&q=ada&time=abs"
	openPage(t, ctx, u, len(evs))
	type state struct {
		Panel      string
		V0, V1     float64
		Dir        string
		Ping, Pong bool
		Text       bool
		Warn       bool
		Conns, Q   string
		Time       string
	}
	got := eval[state](t, ctx, `({Panel: wsviz.panel(), V0: wsviz.app.timeline.v0, V1: wsviz.app.timeline.v1, Dir: document.getElementById('f-dir').value,
		Ping: document.querySelector('#f-kinds input[value=ping]').checked, Pong: document.querySelector('#f-kinds input[value=pong]').checked,
		Text: document.querySelector('#f-kinds input[value=text]').checked, Warn: document.getElementById('f-warn').checked,
		Conns: document.getElementById('f-conn').value, Q: document.getElementById('f-search').value, Time: wsviz.app.timeMode})`)
	want := state{"messages", 1000, 9000, "1", false, false, true, true, "chat", "ada", "abs"}
	if got != want {
		t.Errorf("state from the address = %+v, want %+v", got, want)
	}
	if lbl := eval[string](t, ctx, `document.querySelector('#messages .m-time')?.textContent ?? ''`); lbl != "" && !strings.Contains(lbl, ":") {
		t.Errorf("absolute time label = %q, want a time of day", lbl)
	}
	// Zooming writes the window back.
	click(t, ctx, `#fit`)
	poll(t, ctx, `!new URLSearchParams(location.hash.slice(1)).has('view')`)
	click(t, ctx, `#zoom-in`)
	poll(t, ctx, `new URLSearchParams(location.hash.slice(1)).has('view')`)
	key(t, ctx, "t")
	if h := hashParams(t, ctx); h.Get("time") != "" {
		t.Errorf("after t the hash still says time=%q", h.Get("time"))
	}
}

// TestLayoutSizes: from 1280×720 to 4K nothing overflows, the ladder shows
// several steps with their notes, the connections table keeps its ⚠ column;
// screenshots at 1366×768 and 1920×1080 of each panel, to be looked at.
func TestLayoutSizes(t *testing.T) {
	ctx := newBrowser(t)
	path := hostileCapture(t)
	evs := decoded(t, path)
	u := serve(t, path)
	for _, sz := range []struct{ w, h int }{{1280, 720}, {1366, 768}, {1920, 1080}, {3840, 2160}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(sz.w), int64(sz.h))); err != nil {
			t.Fatal(err)
		}
		openPage(t, ctx, u+"#conn=2", len(evs))
		poll(t, ctx, `document.querySelectorAll('#ladder .ladder-row').length > 0`)
		type layout struct {
			ScrollW, InnerW, Rows, Warn int
			WarnVisible                 bool
		}
		l := eval[layout](t, ctx, `(() => {
			const list = document.getElementById('ladder').getBoundingClientRect();
			const rows = [...document.querySelectorAll('#ladder .ladder-row')].filter(r => { const b = r.getBoundingClientRect(); return b.top >= list.top && b.bottom <= list.bottom; }).length;
			const w = document.querySelector('#conn-list .conn-row[data-conn="2"] .c-warn').getBoundingClientRect();
			const p = document.getElementById('conns-panel').getBoundingClientRect();
			return {ScrollW: document.documentElement.scrollWidth, InnerW: innerWidth, Rows: rows, Warn: 0, WarnVisible: w.width > 0 && w.right <= p.right};
		})()`)
		if l.ScrollW > l.InnerW || l.Rows < 7 || !l.WarnVisible {
			t.Errorf("at %d×%d: page %d px wide in %d, %d ladder rows in view (want ≥ 7), ⚠ column visible %v", sz.w, sz.h, l.ScrollW, l.InnerW, l.Rows, l.WarnVisible)
		}
		if (sz.w == 1366 || sz.w == 1920) && !testing.Short() {
			screenshot(t, ctx, fmt.Sprintf("layout-%dx%d-ladder", sz.w, sz.h))
			for _, p := range []string{"messages", "warnings"} {
				key(t, ctx, map[string]string{"messages": "m", "warnings": "e"}[p])
				poll(t, ctx, fmt.Sprintf(`wsviz.panel() === %q`, p))
				time.Sleep(300 * time.Millisecond)
				screenshot(t, ctx, fmt.Sprintf("layout-%dx%d-%s", sz.w, sz.h, p))
			}
		}
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// serveEvents starts a ui.Server on 127.0.0.1 fed by the test, as a live
// capture feeds it.
func serveEvents(t testing.TB) (*ui.Server, string) {
	t.Helper()
	srv, err := ui.NewServer(ui.Options{TempDir: t.TempDir(), FlushInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	srv.SetSource("live: test")
	srv.SetStats(ui.Stats{Capturing: true})
	return srv, "http://" + ln.Addr().String() + "/"
}

// TestLiveSearchFollowsNewEvents: a search typed while a capture runs finds
// the matching messages that arrive after it, and the filters apply to them.
func TestLiveSearchFollowsNewEvents(t *testing.T) {
	var evs []analyze.Event
	Synth(SynthOptions{Conns: 2, Messages: 40, Text: func(c, m int) []byte {
		if c == 2 && m == 36 {
			return []byte(`{"text":"the needle arrives late"}`)
		}
		return nil
	}}, func(ev *analyze.Event) { evs = append(evs, ev.Clone()) })
	late := find(t, evs, func(ev *analyze.Event) bool {
		return ev.Type == analyze.TypeWSMessage && strings.Contains(string(ev.Message.Payload), "needle")
	})
	srv, u := serveEvents(t)
	half := late - 20
	for i := range evs[:half] {
		srv.Publish(&evs[i])
	}
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(u+"#panel=messages")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, fmt.Sprintf(`window.wsviz && wsviz.events() === %d`, half))
	if err := chromedp.Do(ctx, chromedp.SendKeys(`#f-search`, "NEEDLE")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, `wsviz.app.filter.query === 'NEEDLE'`)
	// No match yet: the timeline draws nothing (after the next frame).
	poll(t, ctx, `wsviz.frame().ids.length === 0`)
	for i := range evs[half:] {
		srv.Publish(&evs[half+i])
	}
	poll(t, ctx, fmt.Sprintf(`wsviz.events() === %d`, len(evs)))
	poll(t, ctx, `wsviz.frame().ids.length === 1`)
	if got := drawnIDs(t, ctx); !slices.Equal(got, []int{late}) {
		t.Errorf("marks matching the live search = %v, want [%d]", got, late)
	}
	poll(t, ctx, fmt.Sprintf(`document.querySelectorAll('#messages .msg-row[data-id="%d"]').length === 1`, late))
	if n := eval[int](t, ctx, `document.querySelectorAll('#messages .msg-row[data-id]').length`); n != 1 {
		t.Errorf("messages listed = %d, want the needle only", n)
	}
	// A direction filter applies to new events too: the needle came from
	// the client (message 36 is even).
	if err := chromedp.Do(ctx, chromedp.SetValue(`#f-dir`, "2"), chromedp.Evaluate[chromedp.Void](`document.getElementById('f-dir').dispatchEvent(new Event('change'))`)); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, `wsviz.frame().ids.length === 0`)
}

// TestMessagesPanelScale: 400,000 messages list in the Messages panel with
// only the rows in view in the page, the first, middle and last reachable
// by scrolling; scrolling frame times are logged (speed is measured by
// uibench, not asserted here).
func TestMessagesPanelScale(t *testing.T) {
	if testing.Short() {
		t.Skip("400,000 messages: not with -short")
	}
	srv, u := serveEvents(t)
	msgs := 0
	var last int
	id := 0
	Synth(SynthOptions{Conns: 200, Messages: 2000, Gap: time.Millisecond}, func(ev *analyze.Event) {
		if ev.Type == analyze.TypeWSMessage {
			msgs++
			last = id
		}
		srv.Publish(ev)
		id++
	})
	srv.Done(nil)
	if msgs < 400_000 {
		t.Fatalf("synthesised %d messages, want 400,000", msgs)
	}
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(u+"#panel=messages")); err != nil {
		t.Fatal(err)
	}
	pollFor(t, ctx, 3*time.Minute, fmt.Sprintf(`window.wsviz && wsviz.events() === %d`, id))
	pollFor(t, ctx, time.Minute, fmt.Sprintf(`wsviz.app.messages.index.count() === %d`, msgs))
	type view struct {
		Rows, First, Last int
		Frames, Renders   []float64
	}
	scroll := func(js string) view {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[view](`new Promise((resolve) => {
			const el = document.getElementById('messages');
			const frames = [];
			let last = performance.now(), k = 0;
			const step = () => {
				const now = performance.now();
				frames.push(now - last); last = now;
				`+js+`
				if (++k < 60) { requestAnimationFrame(step); return; }
				// The rows come in pages from the server: wait (up to 5 s)
				// until those in view have arrived.
				const t0 = performance.now();
				const done = () => {
					const rows = [...el.querySelectorAll('.msg-row[data-id]')].sort((a, b) => a.dataset.row - b.dataset.row);
					const all = el.querySelectorAll('.msg-row').length;
					if ((rows.length === 0 || rows.length < all) && performance.now() - t0 < 5000) { setTimeout(done, 20); return; }
					resolve({Rows: rows.length, First: rows.length ? Number(rows[0].dataset.id) : -1, Last: rows.length ? Number(rows[rows.length - 1].dataset.id) : -1, Frames: frames.slice(1), Renders: wsviz.app.messages.list.renderMs.slice(-60)});
				};
				requestAnimationFrame(() => requestAnimationFrame(done));
			};
			requestAnimationFrame(step);
		})`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("scrolling the Messages panel: %v", err)
		}
		return v
	}
	v := scroll(`el.scrollTop += 2000;`)
	if v.Rows == 0 || v.Rows > 80 {
		t.Errorf("rows in the page while scrolling = %d, want only those in view", v.Rows)
	}
	// The time the list takes to draw a scrolled frame is what it adds to
	// a frame; the frame interval also counts everything else the machine
	// runs (uibench measures it on a quiet machine).
	slices.Sort(v.Frames)
	slices.Sort(v.Renders)
	t.Logf("scrolling 400,000 messages, 60 frames: the list drew in p50 %.2f ms, p95 %.2f ms, max %.2f ms; frame interval p50 %.1f ms, p95 %.1f ms",
		v.Renders[len(v.Renders)/2], v.Renders[len(v.Renders)*95/100], v.Renders[len(v.Renders)-1],
		v.Frames[len(v.Frames)/2], v.Frames[len(v.Frames)*95/100])
	end := scroll(`el.scrollTop = el.scrollHeight;`)
	if end.Last != last {
		t.Errorf("scrolled to the end: last row is event %d, want %d", end.Last, last)
	}
	mid := scroll(`el.scrollTop = el.scrollHeight / 2;`)
	if mid.First < id/3 || mid.Last > 2*id/3 {
		t.Errorf("scrolled to the middle: rows %d..%d of %d events", mid.First, mid.Last, id)
	}
	screenshot(t, ctx, "messages-400k")
}
