package browsertests

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/wsviz/wsviz/internal/bench"
)

// scaleMessages is the messages per connection of the scale test's
// capture: 20 connections × 3,000 messages (48 MB, 120,000 events) by
// default, enough that a fit-all view merges every lane; WSVIZ_SCALE_MESSAGES
// makes it bigger (2000 × 200 connections is the 1x capture of uibench).
func scaleCapture(t *testing.T) (string, int) {
	conns, msgs := 20, 3000
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

// TestZoomFitAllToOneMessageAndBack opens a capture too big for the page to
// hold one mark per event, zooms from fit-all into a single message in the
// middle of it and back out, and checks at each end that the timeline draws
// what the server says is there: merged marks over the whole capture, the
// message itself (and so its id) when zoomed in.
func TestZoomFitAllToOneMessageAndBack(t *testing.T) {
	ctx := newBrowser(t)
	path, messages := scaleCapture(t)
	u := serve(t, path)
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.wsviz && wsviz.axisCompleteMs() >= 0`,
		chromedp.WithPollingTimeout(3*time.Minute))); err != nil {
		t.Fatalf("the timeline never showed the whole capture: %v", err)
	}
	if got := eval[int](t, ctx, `wsviz.status().messages`); got != messages {
		t.Fatalf("summary counts %d messages, want %d", got, messages)
	}
	// Fit-all: every lane in view is merged, with marks.
	eval[bool](t, ctx, `wsviz.app.timeline.fit(), true`)
	poll(t, ctx, `wsviz.frame().marks > 0 && wsviz.app.windows.win && [...wsviz.app.windows.win.lanes.values()].every(l => l.merged)`)
	screenshot(t, ctx, "scale-fit-all")

	// The message in the middle of the capture, from the server's list.
	var page struct {
		Total int         `json:"total"`
		Rows  [][]float64 `json:"rows"`
	}
	resp, err := http.Get(fmt.Sprintf("%sapi/list?list=messages&offset=%d&limit=1", u, messages/2))
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || len(page.Rows) != 1 || page.Total != messages {
		t.Fatalf("api/list: %v, %+v", err, page)
	}
	id, at, conn := int(page.Rows[0][0]), page.Rows[0][1], int(page.Rows[0][4])

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
	poll(t, ctx, fmt.Sprintf(`wsviz.frame().ids.includes(%d)`, id))
	if span := eval[float64](t, ctx, `wsviz.app.timeline.v1 - wsviz.app.timeline.v0`); span > 10 {
		t.Errorf("zoomed view spans %.1f µs, want about 4", span)
	}
	// One message drawn one by one: its lane is not merged, and a click on
	// its mark selects it.
	if merged := eval[bool](t, ctx, fmt.Sprintf(`wsviz.app.windows.lane(%d).merged`, conn)); merged {
		t.Errorf("lane %d is still merged at 4 µs", conn)
	}
	screenshot(t, ctx, "scale-one-message")

	// And back out to fit-all: the whole capture again.
	eval[bool](t, ctx, `wsviz.app.timeline.fit(), true`)
	poll(t, ctx, `(() => { const w = wsviz.app.windows.win, tl = wsviz.app.timeline;
		return w && w.t0 <= tl.v0 && w.t1 >= tl.v1 && wsviz.frame().marks > 0 && [...w.lanes.values()].every(l => l.merged); })()`)
	// The overview counts every message of the capture.
	poll(t, ctx, fmt.Sprintf(`(() => { const o = wsviz.app.timeline.ovBins; return !!o && o.bins.reduce((a, b) => a + b, 0) === %d; })()`, messages))
}
