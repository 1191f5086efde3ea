package browsertests

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/wsviz/wsviz/internal/bench"
)

// scaleMessages is the messages per connection of the scale test's
// capture: 20 connections × 1,000 messages (16 MB, 40,000 events) by
// default, enough that a fit-all view merges every lane; WSVIZ_SCALE_MESSAGES
// makes it bigger (2000 × 200 connections is the 1x capture of uibench).
func scaleCapture(t *testing.T) (string, int) {
	conns, msgs := 20, 1000
	if v := os.Getenv("WSVIZ_SCALE_MESSAGES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10 {
			t.Fatalf("WSVIZ_SCALE_MESSAGES=%q: want a number ≥ 10", v)
		}
		conns, msgs = 200, n
	}
	path := filepath.Join(t.TempDir(), "scale.pcap")
	st, err := bench.GenerateFile(path, bench.Config{Conns: conns, Messages: msgs, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scale capture: %d connections, %d messages, %.0f MB", conns, st.Messages, float64(st.Bytes)/1e6)
	return path, int(st.Messages)
}

// fitAllMerged reports whether the timeline drew every lane in view (the
// first five) from merged tiles of its level: a tile that holds only the
// capture's last moments may list its few events one by one.
const fitAllMerged = `(() => {
		const tl = wsviz.app.timeline, f = tl.stats;
		if (!f.complete || f.marks === 0 || f.tiles[1] === 0) return false;
		const L = tl.level(), span = Math.pow(2, L) / 1000 * 256;
		const i0 = Math.floor(tl.v0 / span), i1 = Math.floor(tl.v1 / span);
		return tl.lanes().slice(0, 5).every((c) => {
			for (let i = i0; i <= i1; i++) if (tl.tiles.forDraw(L, i, c).some((t) => t.merged && t.L === L)) return true;
			return false;
		});
	})()`

// TestZoomFitAllToOneMessageAndBack opens a capture too big for the page to
// hold one mark per event, zooms from fit-all into a single message in the
// middle of it and back out, and checks at each end that the timeline draws
// what the server says is there: merged marks over the whole capture, the
// message itself (and so its id) when zoomed in. On the way it uses what
// is now asked of the server rather than held by the page: clicking the
// mark selects the message (the inspector asks for that one event), the
// ladder pages to it in the middle of its connection, j and k step through
// the connection's steps, n to the next event of any connection; and the
// page's JS heap stays bounded.
func TestZoomFitAllToOneMessageAndBack(t *testing.T) {
	timeout := 90 * time.Second
	if os.Getenv("WSVIZ_SCALE_MESSAGES") != "" {
		timeout = 15 * time.Minute // a capture of hundreds of MB is decoded first
	}
	ctx := newBrowserTimeout(t, timeout)
	path, messages := scaleCapture(t)
	u := serve(t, path)
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.wsviz && wsviz.axisCompleteMs() >= 0`,
		chromedp.WithPollingTimeout(time.Until(deadline(ctx))-10*time.Second))); err != nil {
		t.Fatalf("the timeline never showed the whole capture: %v; status %s, frame %s", err,
			evalQuiet(ctx, `JSON.stringify(wsviz.status())`), evalQuiet(ctx, `JSON.stringify({...wsviz.frame(), ids: wsviz.frame().ids.length})`))
	}
	if got := eval[int](t, ctx, `wsviz.status().messages`); got != messages {
		t.Fatalf("summary counts %d messages, want %d", got, messages)
	}
	// Fit-all: every lane in view is drawn from merged tiles.
	eval[bool](t, ctx, `wsviz.app.timeline.fit(), true`)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fitAllMerged,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("fit-all: %v; frame %s", err, eval[string](t, ctx, `JSON.stringify({...wsviz.frame(), ids: wsviz.frame().ids.length})`))
	}
	screenshot(t, ctx, "scale-fit-all")
	// An update of the connections table (one comes with every status
	// while a capture is read) keeps the tiles at hand: nothing is asked
	// again and the frame stays complete. (Keyed by the connection filter,
	// every answer slower than an update was thrown away and a capture
	// being read showed no mark.)
	if got := eval[string](t, ctx, `(() => {
		const tl = wsviz.app.timeline, n = tl.tiles.requests;
		wsviz.app.filter.updateConns();
		tl.draw();
		return tl.tiles.busy.size + ' asked, ' + (tl.tiles.requests - n) + ' answered, complete ' + tl.stats.complete;
	})()`); got != "0 asked, 0 answered, complete true" {
		t.Errorf("after an update of the connections: %s, want 0 asked, 0 answered, complete true", got)
	}

	// The message in the middle of the capture, from the server's list.
	type page struct {
		Total  int         `json:"total"`
		Offset int         `json:"offset"`
		Found  bool        `json:"found"`
		Rows   [][]float64 `json:"rows"`
	}
	get := func(q string) page {
		t.Helper()
		var p page
		resp, err := http.Get(u + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
			t.Fatalf("GET %s: %v", q, err)
		}
		return p
	}
	mid := get(fmt.Sprintf("api/list?list=messages&offset=%d&limit=1", messages/2))
	if len(mid.Rows) != 1 || mid.Total != messages {
		t.Fatalf("api/list: %+v", mid)
	}
	id, at, conn := int(mid.Rows[0][0]), mid.Rows[0][1], int(mid.Rows[0][4])

	// Zoom in around it, frame by frame as a wheel would, to 4 µs.
	eval[bool](t, ctx, fmt.Sprintf(`(() => {
		const tl = wsviz.app.timeline;
		tl.scrollToConn(%d);
		window.zoomDone = false;
		const steps = 60, target = 4, f = Math.pow(target / (tl.v1 - tl.v0), 1 / steps);
		let k = 0;
		const tick = () => {
			const x = tl.xOf(%f);
			tl.zoom(f, x);
			if (++k < steps) requestAnimationFrame(tick); else { tl.setView(%f - 2, %f + 2); window.zoomDone = true; }
		};
		requestAnimationFrame(tick);
		return true;
	})()`, conn, at, at, at))
	poll(t, ctx, `window.zoomDone`)
	poll(t, ctx, fmt.Sprintf(`wsviz.frame().complete && wsviz.frame().ids.includes(%d)`, id))
	if span := eval[float64](t, ctx, `wsviz.app.timeline.v1 - wsviz.app.timeline.v0`); span > 10 {
		t.Errorf("zoomed view spans %.1f µs, want about 4", span)
	}
	// One message drawn on its own: its lane's tiles hold its events one
	// by one, and a click on its mark selects it.
	if merged := eval[int](t, ctx, `wsviz.frame().tiles[1]`); merged != 0 {
		t.Errorf("%d tiles still merged at 4 µs", merged)
	}
	screenshot(t, ctx, "scale-one-message")
	xy := eval[struct{ X, Y float64 }](t, ctx, fmt.Sprintf(`wsviz.markXY(%d)`, id))
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(xy.X, xy.Y)); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, fmt.Sprintf(`wsviz.app.selected === %d && document.getElementById('payload') !== null`, id))
	if title := eval[string](t, ctx, `document.getElementById('insp-title').textContent`); !strings.HasPrefix(title, fmt.Sprintf("#%d ws.message", conn)) {
		t.Errorf("inspector title %q, want connection %d's message", title, conn)
	}
	// The ladder pages to it, in the middle of its connection.
	at2 := get(fmt.Sprintf("api/list?list=steps&conn=%d&limit=100&id=%d", conn, id))
	if !at2.Found || at2.Offset == 0 {
		t.Fatalf("steps of %d around %d: %+v", conn, id, at2)
	}
	poll(t, ctx, fmt.Sprintf(`document.querySelector('#ladder .ladder-row.selected')?.dataset.id === '%d'`, id))
	steps := get(fmt.Sprintf("api/list?list=steps&conn=%d&offset=%d&limit=300", conn, at2.Offset))
	k := slices.IndexFunc(steps.Rows, func(r []float64) bool { return int(r[0]) == id })
	if k < 1 || k+1 >= len(steps.Rows) {
		t.Fatalf("event %d is not inside its page of steps", id)
	}
	next, prev := int(steps.Rows[k+1][0]), int(steps.Rows[k-1][0])
	// j and k: the next and previous steps of the connection, the
	// server's answers.
	for _, c := range []struct {
		key  string
		want int
	}{{"j", next}, {"k", id}, {"k", prev}, {"j", id}} {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(c.key)); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, fmt.Sprintf(`wsviz.app.selected === %d && document.querySelector('#ladder .ladder-row.selected')?.dataset.id === '%d'`, c.want, c.want))
	}
	// n: the next event of any connection, however far in the capture.
	var step struct{ Row []float64 }
	resp, err := http.Get(fmt.Sprintf("%sapi/step?from=%d", u, id))
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&step)
	resp.Body.Close()
	if step.Row == nil {
		t.Fatal("no event after the middle message")
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("n")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, fmt.Sprintf(`wsviz.app.selected === %d`, int(step.Row[0])))

	// And back out to fit-all: the whole capture again.
	eval[bool](t, ctx, `wsviz.app.timeline.fit(), true`)
	poll(t, ctx, fitAllMerged)
	// The overview counts every message of the capture.
	poll(t, ctx, fmt.Sprintf(`(() => { const o = wsviz.app.timeline.ovBins; return !!o && o.bins.reduce((a, b) => a + b, 0) === %d; })()`, messages))
	// The page holds no event it does not show: its heap is bounded.
	if heap := eval[float64](t, ctx, `performance.memory ? performance.memory.usedJSHeapSize : 0`); heap > 100e6 {
		t.Errorf("JS heap %.0f MB, want at most 100 MB", heap/1e6)
	}
}
