package browsertests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/wsviz/wsviz/analyze"
)

// find returns the id (the index in capture order) of the first event
// that matches.
func find(t testing.TB, evs []analyze.Event, match func(*analyze.Event) bool) int {
	t.Helper()
	for i := range evs {
		if match(&evs[i]) {
			return i
		}
	}
	t.Fatal("no such event in the capture")
	return -1
}

func textMessage(s string) func(*analyze.Event) bool {
	return func(ev *analyze.Event) bool {
		return ev.Type == analyze.TypeWSMessage && ev.Message.Opcode == "text" && string(ev.Message.Payload) == s
	}
}

// drawable lists the ids of the events the timeline marks: all but frames,
// which show in the inspector through their message, except frames with a
// warning and frames of a reserved opcode (which make no message).
func drawable(evs []analyze.Event, keep func(*analyze.Event) bool) []int {
	var out []int
	for i := range evs {
		if (evs[i].Type != analyze.TypeWSFrame || frameDrawn(&evs[i])) && (keep == nil || keep(&evs[i])) {
			out = append(out, i)
		}
	}
	return out
}

func frameDrawn(ev *analyze.Event) bool {
	switch ev.Frame.Opcode {
	case 0, 1, 2, 8, 9, 10:
		return len(ev.Warnings) > 0
	}
	return true
}

// hashParams reads the page's address fragment.
func hashParams(t testing.TB, ctx context.Context) url.Values {
	t.Helper()
	h := eval[string](t, ctx, `location.hash`)
	v, err := url.ParseQuery(strings.TrimPrefix(h, "#"))
	if err != nil {
		t.Fatalf("location.hash %q: %v", h, err)
	}
	return v
}

func drawnIDs(t testing.TB, ctx context.Context) []int {
	t.Helper()
	ids := eval[[]int](t, ctx, `wsviz.frame().ids`)
	slices.Sort(ids)
	return ids
}

func TestConnectionsAndMarksMatchEvents(t *testing.T) {
	ctx := newBrowser(t)
	path := testCapture(t)
	evs := decoded(t, path)
	u := serve(t, path)
	errs := consoleErrors(ctx)
	openPage(t, ctx, u, len(evs))
	screenshot(t, ctx, "overview")

	// One row per connection, with its ends and the state the events say.
	type row struct{ Conn, Text string }
	// The full ends are the address cell's title; its text may shorten them.
	rows := eval[[]row](t, ctx, `[...document.querySelectorAll('#conn-list .conn-row')].map(r => ({Conn: r.dataset.conn, Text: r.querySelector('.c-addr').title + ' ' + r.textContent}))`)
	want := []struct{ ends, path, state string }{
		{"127.0.0.1:50001 → 127.0.0.1:9001", "/chat?room=7 [chat.v1]", "closed cleanly"},
		{"127.0.0.1:50002 → 127.0.0.1:9001", "/deflate", "closed cleanly"},
		{"127.0.0.1:50003 → 127.0.0.1:9001", "/admin", "refused 403"},
		{"127.0.0.1:50004 → 127.0.0.1:9001", "/feed", "reset"},
	}
	if len(rows) > 0 && !strings.HasPrefix(rows[0].Text, "127.0.0.1:50001 → 127.0.0.1:9001 1:50001 → :9001") {
		t.Errorf("row 1 = %q, want the ends shortened to :50001 → :9001 (both ports kept)", rows[0].Text)
	}
	if len(rows) != len(want) {
		t.Fatalf("connection rows = %d (%v), want %d", len(rows), rows, len(want))
	}
	for i, w := range want {
		if rows[i].Conn != fmt.Sprint(i+1) || !strings.Contains(rows[i].Text, w.ends) || !strings.Contains(rows[i].Text, w.path) || !strings.Contains(rows[i].Text, w.state) {
			t.Errorf("connection row %d = %q, want %q, %q and %q", i+1, rows[i].Text, w.ends, w.path, w.state)
		}
	}
	if got := eval[string](t, ctx, `document.getElementById('s-conns').textContent`); got != "4" {
		t.Errorf("summary connections = %q, want 4", got)
	}
	var msgs int
	for _, ev := range evs {
		if ev.Type == analyze.TypeWSMessage {
			msgs++
		}
	}
	if got := eval[string](t, ctx, `document.getElementById('s-messages').textContent`); got != fmt.Sprint(msgs) {
		t.Errorf("summary messages = %q, want %d", got, msgs)
	}

	// The timeline marks every event but frames, each at its own place.
	if got, want := drawnIDs(t, ctx), drawable(evs, nil); !slices.Equal(got, want) {
		t.Errorf("timeline marks events %v, want %v", got, want)
	}
	// Each mark is drawn where its time and lane say.
	for _, id := range []int{find(t, evs, textMessage(chatJSON)), len(evs) - 1} {
		var xy struct{ X, Y float64 }
		xy = eval[struct{ X, Y float64 }](t, ctx, fmt.Sprintf(`wsviz.markXY(%d)`, id))
		hit := eval[int](t, ctx, fmt.Sprintf(`(() => { const r = document.getElementById('timeline').getBoundingClientRect(); return wsviz.app.timeline.hit(%f - r.left, %f - r.top); })()`, xy.X, xy.Y))
		if hit != id {
			t.Errorf("the mark of event %d at (%.0f, %.0f) hits event %d", id, xy.X, xy.Y, hit)
		}
	}
	if e := errs(); len(e) > 0 {
		t.Errorf("console errors: %q", e)
	}
}

func TestClickingAMessageShowsItsPayload(t *testing.T) {
	ctx := newBrowser(t)
	path := testCapture(t)
	evs := decoded(t, path)
	openPage(t, ctx, serve(t, path), len(evs))
	id := find(t, evs, textMessage(chatJSON))
	xy := eval[struct{ X, Y float64 }](t, ctx, fmt.Sprintf(`wsviz.markXY(%d)`, id))
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(xy.X, xy.Y)); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, `document.getElementById('payload') && document.getElementById('payload').dataset.view === 'json'`)
	screenshot(t, ctx, "clicked-json-message")

	got := eval[string](t, ctx, `document.getElementById('payload').textContent`)
	var gotV, wantV any
	if err := json.Unmarshal([]byte(got), &gotV); err != nil {
		t.Fatalf("payload shown as JSON = %q, not JSON: %v", got, err)
	}
	json.Unmarshal([]byte(chatJSON), &wantV)
	if !reflect.DeepEqual(gotV, wantV) {
		t.Errorf("payload shown = %q, want %s", got, chatJSON)
	}
	// As a tree: the object and its array and object fold.
	if n := eval[int](t, ctx, `document.querySelectorAll('#payload details').length`); n != 3 {
		t.Errorf("JSON tree has %d foldable nodes, want 3 (the object, users, room)", n)
	}
	if h := hashParams(t, ctx); h.Get("conn") != "1" || h.Get("event") != fmt.Sprint(id) {
		t.Errorf("location.hash = %v, want conn 1 and event %d", h, id)
	}
	// The inspector draws the frame header bit by bit.
	bits := eval[string](t, ctx, `[...document.querySelectorAll('.bits .bit')].map(b => b.textContent).join('|')`)
	if !strings.HasPrefix(bits, "FIN1|RSV10|RSV20|RSV30|opcode0001 text|MASK0|length") {
		t.Errorf("frame header cells = %q", bits)
	}
	// The ladder marks the same step.
	if sel := eval[string](t, ctx, `document.querySelector('#ladder .ladder-row.selected')?.dataset.id ?? ''`); sel != fmt.Sprint(id) {
		t.Errorf("ladder selected row = %q, want %d", sel, id)
	}
	// The ladder tells the story in order, starting with the TCP packets
	// that were captured: see TestLadderDrawsCapturedPackets.
	labels := eval[[]string](t, ctx, `[...document.querySelectorAll('#ladder .ladder-row')].sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top)).slice(0, 6).map(r => r.querySelector('.alabel').textContent)`)
	i := slices.IndexFunc(labels, func(l string) bool { return strings.HasPrefix(l, "GET /chat?room=7") })
	if len(labels) < 6 || labels[0] != "SYN" || i < 0 || i+1 >= len(labels) || !strings.HasPrefix(labels[i+1], "101") {
		t.Errorf("ladder starts %q", labels)
	}
}

func TestHostilePayloadIsShownAsText(t *testing.T) {
	ctx := newBrowser(t)
	path := testCapture(t)
	evs := decoded(t, path)
	id := find(t, evs, textMessage(hostile))
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	opened := make(chan string, 4)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			opened <- ev.Message
		}
	}()
	errs := consoleErrors(ctx)
	// Open the page on the event through the address, as a shared link does.
	openPage(t, ctx, serve(t, path)+fmt.Sprintf("#conn=1&event=%d", id), len(evs))
	poll(t, ctx, `document.getElementById('payload') && document.getElementById('payload').dataset.view === 'text'`)
	poll(t, ctx, `[...document.querySelectorAll('#ladder .alabel')].some(l => l.textContent.includes('<script>'))`)
	screenshot(t, ctx, "hostile-payload")

	if got := eval[string](t, ctx, `document.getElementById('payload').textContent`); got != hostile {
		t.Errorf("payload shown = %q, want it literally: %q", got, hostile)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('img').length`); n != 0 {
		t.Errorf("the page has %d <img> elements, want none", n)
	}
	if n := eval[int](t, ctx, `[...document.scripts].filter(s => s.src === '' ? s.id !== 'boot' : !s.src.endsWith('/static/app.js')).length`); n != 0 {
		t.Errorf("the page has %d scripts besides app.js and the inlined boot.js", n)
	}
	if got := eval[bool](t, ctx, `'onerror' in window && window.onerror === null`); !got {
		t.Errorf("window.onerror was touched")
	}
	// Give a dialog, if any, time to open, then look.
	time.Sleep(300 * time.Millisecond)
	select {
	case m := <-opened:
		t.Errorf("a dialog opened: %q", m)
	default:
	}
	if e := errs(); len(e) > 0 {
		t.Errorf("console errors: %q", e)
	}
}

func TestKeyboardFiltersAndLinks(t *testing.T) {
	ctx := newBrowser(t)
	path := testCapture(t)
	evs := decoded(t, path)
	u := serve(t, path)
	first := find(t, evs, textMessage(`{"type":"hello","user":"ada"}`))
	openPage(t, ctx, u+fmt.Sprintf("#event=%d", first), len(evs))
	poll(t, ctx, fmt.Sprintf(`wsviz.app.selected === %d`, first))

	// j moves to the next step of the connection: the server's answer.
	next := find(t, evs, textMessage(chatJSON))
	if err := chromedp.Do(ctx, chromedp.KeyEvent("j")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, fmt.Sprintf(`new URLSearchParams(location.hash.slice(1)).get('event') === '%d'`, next))
	if err := chromedp.Do(ctx, chromedp.KeyEvent("k")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, fmt.Sprintf(`new URLSearchParams(location.hash.slice(1)).get('event') === '%d'`, first))
	if h := hashParams(t, ctx); h.Get("conn") != "1" {
		t.Errorf("location.hash = %v, want conn 1", h)
	}

	// The link survives a reload.
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, fmt.Sprintf(`window.wsviz && wsviz.app.selected === %d && wsviz.app.selectedConn === 1`, first))

	// Unticking "text" hides text messages (and frames never show).
	if err := chromedp.Do(ctx, chromedp.Click(`#f-kinds input[value=text]`)); err != nil {
		t.Fatal(err)
	}
	noText := drawable(evs, func(ev *analyze.Event) bool {
		return !(ev.Type == analyze.TypeWSMessage && ev.Message.Opcode == "text")
	})
	poll(t, ctx, fmt.Sprintf(`wsviz.frame().ids.length === %d`, len(noText)))
	if got := drawnIDs(t, ctx); !slices.Equal(got, noText) {
		t.Errorf("marks without text = %v, want %v", got, noText)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#f-kinds input[value=text]`)); err != nil {
		t.Fatal(err)
	}

	// Direction: server → client only.
	if err := chromedp.Do(ctx, chromedp.SetValue(`#f-dir`, "2"), chromedp.Evaluate[chromedp.Void](`document.getElementById('f-dir').dispatchEvent(new Event('change'))`)); err != nil {
		t.Fatal(err)
	}
	fromServer := drawable(evs, func(ev *analyze.Event) bool { return ev.From == analyze.FromServer })
	poll(t, ctx, fmt.Sprintf(`wsviz.frame().ids.length === %d`, len(fromServer)))
	if got := drawnIDs(t, ctx); !slices.Equal(got, fromServer) {
		t.Errorf("marks from the server = %v, want %v", got, fromServer)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(`#f-dir`, "0"), chromedp.Evaluate[chromedp.Void](`document.getElementById('f-dir').dispatchEvent(new Event('change'))`)); err != nil {
		t.Fatal(err)
	}

	// Search in payloads: only the hostile message has "onerror".
	if err := chromedp.Do(ctx, chromedp.SendKeys(`#f-search`, "ONERROR")); err != nil {
		t.Fatal(err)
	}
	hostileID := find(t, evs, textMessage(hostile))
	poll(t, ctx, `wsviz.frame().ids.length === 1`)
	if got := drawnIDs(t, ctx); !slices.Equal(got, []int{hostileID}) {
		t.Errorf("marks matching the search = %v, want [%d]", got, hostileID)
	}
	screenshot(t, ctx, "search")

	// Export the filtered events as JSON Lines through the page's button.
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
		BrowserContextID: chromedp.FromContext(ctx).BrowserContextID}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#export-jsonl`)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "wsviz-events.jsonl")
	var data []byte
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(file); err == nil && len(b) > 0 {
			data = b
			break
		}
	}
	want := append(evs[hostileID].AppendJSON(nil), '\n')
	if string(data) != string(want) {
		t.Errorf("exported JSON Lines =\n%s\nwant\n%s", data, want)
	}
}
