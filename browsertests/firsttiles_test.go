package browsertests

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// TestFirstFrameDrawsTheStreamsTiles opens the page as a user does (no
// view in the address): the stream brings the tiles of the fit-all view
// between the first status and the connections table (ui/firsttiles.go),
// so the timeline's first frame with lanes draws marks without asking the
// server; the icon follows them. With a filter in the address the page
// asks for its own tiles.
func TestFirstFrameDrawsTheStreamsTiles(t *testing.T) {
	ctx := newBrowser(t)
	path := testCapture(t)
	evs := decoded(t, path)
	u := serve(t, path)
	errs := consoleErrors(ctx)
	openPage(t, ctx, u, len(evs))
	if n := eval[int](t, ctx, `performance.getEntriesByName('wsviz:first-tiles').length`); n != 1 {
		t.Errorf("wsviz:first-tiles marks = %d, want 1 (the stream's first tiles)", n)
	}
	if n := eval[int](t, ctx, `wsviz.app.timeline.tiles.firstEntries`); n == 0 {
		t.Errorf("the stream's first tiles had no entry")
	}
	if n := eval[int](t, ctx, `wsviz.app.timeline.firstLanesMarks`); n <= 0 {
		t.Errorf("the first frame with lanes drew %d marks, want the first tiles' marks", n)
	}
	// The icon comes once the first marks are out.
	poll(t, ctx, `document.getElementById('icon').href.endsWith('/static/favicon.svg')`)

	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	openPage(t, ctx, u+"#dir=1", len(evs))
	if n := eval[int](t, ctx, `performance.getEntriesByName('wsviz:first-tiles').length`); n != 0 {
		t.Errorf("with a filter in the address: %d wsviz:first-tiles marks, want none", n)
	}
	if n := eval[int](t, ctx, `wsviz.app.timeline.tiles.requests`); n == 0 {
		t.Errorf("with a filter in the address: no tiles asked")
	}
	if e := errs(); len(e) > 0 {
		t.Errorf("console errors: %q", e)
	}
}

// bootBarsJS lists where a canvas shows message bars: the page
// coordinates (CSS pixels, rounded) of its pixels of a message kind's
// colour (timeline.js KIND_COLOR), right of the lane labels.
const bootBarsJS = `((cv) => {
  const colors = new Set(['37,99,235', '124,58,237', '13,148,136', '101,163,13', '234,88,12']);
  const r = cv.getBoundingClientRect(), dpr = devicePixelRatio || 1;
  const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
  const out = [];
  for (let y = 0; y < cv.height; y++) for (let x = Math.ceil(250 * dpr); x < cv.width; x++) {
    const i = 4 * (y * cv.width + x);
    if (d[i + 3] === 255 && colors.has(d[i] + ',' + d[i + 1] + ',' + d[i + 2])) out.push([Math.round(r.left + x / dpr), Math.round(r.top + y / dpr)]);
  }
  return out;
})`

// TestBootFrameDrawsTheFirstMarks holds app.js back: boot.js alone (no
// module run, the page's elements out of the layout) draws the first
// marks from the stream's first tiles, at the place and geometry where
// the timeline then draws them; once the app runs, its timeline's first
// frame takes over (the boot frame gone, the page as before) and the first
// marks are the boot frame's.
func TestBootFrameDrawsTheFirstMarks(t *testing.T) {
	ctx := newBrowser(t)
	path := testCapture(t)
	evs := decoded(t, path)
	u := serve(t, path)
	errs := consoleErrors(ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	held := make(chan fetch.RequestID, 1)
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			held <- e.RequestID
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/static/app.js"}}}); err != nil {
		t.Fatal(err)
	}
	// The navigation ends only once app.js has run.
	navigated := make(chan error, 1)
	go func() { navigated <- chromedp.Do(ctx, chromedp.Navigate(u)) }()
	var id fetch.RequestID
	select {
	case id = <-held:
	case <-ctx.Done():
		t.Fatal("app.js never asked for")
	}
	// The tab may still name the blank page's context at first: ask again.
	var err error
	for range 20 {
		_, err = chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`performance.getEntriesByName('wsviz:first-marks').length === 1`, chromedp.WithPollingTimeout(20*time.Second)))
		if err == nil || !strings.Contains(err.Error(), "Cannot find context") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("no first marks with app.js held back: %v; boot %s", err, evalQuiet(ctx, `JSON.stringify({boot: wsvizBoot.boot, vis: document.visibilityState, marks: performance.getEntriesByType('mark').map((m) => m.name), cls: document.documentElement.className, url: wsvizBoot.takeSocket ? 1 : 0})`))
	}
	if eval[bool](t, ctx, `!!window.wsviz`) {
		t.Fatal("the app ran with app.js held back")
	}
	if got := eval[string](t, ctx, `[document.documentElement.className, getComputedStyle(document.querySelector('header')).display, getComputedStyle(document.querySelector('main')).display, String(!!document.getElementById('boot-frame'))].join(' ')`); got != "booting none none true" {
		t.Errorf("before the app: class, header and main display, boot frame = %q, want %q", got, "booting none none true")
	}
	if n := eval[int](t, ctx, `wsvizBoot.boot.marks`); n <= 0 {
		t.Errorf("the boot frame drew %d marks", n)
	}
	bootBars := eval[[][2]int](t, ctx, bootBarsJS+`(document.querySelector('#boot-frame canvas'))`)
	if len(bootBars) == 0 {
		t.Fatal("no message bar on the boot frame's canvas")
	}
	bootRect := eval[[4]float64](t, ctx, `(() => { const r = document.querySelector('#boot-frame canvas').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`)
	bootAt := eval[float64](t, ctx, `wsvizBoot.boot.at`)
	screenshot(t, ctx, "boot-frame")

	if _, err := chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, fetch.Disable, struct{}{}); err != nil {
		t.Fatal(err)
	}
	if err := <-navigated; err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, fmt.Sprintf(`window.wsviz && wsviz.allEventsMs() >= 0 && wsviz.events() === %d && wsviz.frame().complete`, len(evs)))
	if got := eval[string](t, ctx, `[document.documentElement.className, getComputedStyle(document.querySelector('header')).display, String(!!document.getElementById('boot-frame'))].join(' ')`); got != " flex false" {
		t.Errorf("after the app's first frame: class, header display, boot frame = %q, want %q", got, " flex false")
	}
	// The same marks as the timeline's first frame with lanes, by the same
	// count: every event in view (the opens, handshakes and closes too: at
	// the start of a capture being read the first tiles may hold nothing
	// else) and every merged column.
	if b, a := eval[int](t, ctx, `wsvizBoot.boot.marks`), eval[int](t, ctx, `wsviz.app.timeline.firstLanesMarks`); b != a {
		t.Errorf("the boot frame drew %d marks, the timeline's first frame with lanes %d", b, a)
	}
	if fm := eval[float64](t, ctx, `wsviz.firstMarksMs()`); fm != bootAt {
		t.Errorf("firstMarksMs() = %v, want the boot frame's %v", fm, bootAt)
	}
	if n := eval[int](t, ctx, `performance.getEntriesByName('wsviz:first-marks').length`); n != 1 {
		t.Errorf("wsviz:first-marks marks = %d, want 1", n)
	}
	rect := eval[[4]float64](t, ctx, `(() => { const r = document.getElementById('timeline').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`)
	for i := range rect {
		if math.Abs(rect[i]-bootRect[i]) > 1.5 {
			t.Errorf("the boot frame's plot at [left top width height] %v, the timeline's at %v", bootRect, rect)
			break
		}
	}
	// Every bar of the boot frame is where the timeline draws one: within
	// 2 px across (the timeline scales its tiles' bitmaps, the boot frame
	// draws the bars straight) and in the same half of its lane (the
	// timeline's other marks, the 101 pills, cover parts of some bars).
	app := map[[2]int]bool{}
	for _, p := range eval[[][2]int](t, ctx, bootBarsJS+`(document.getElementById('timeline'))`) {
		app[p] = true
	}
	missed := 0
	for _, p := range bootBars {
		found := false
		for dx := -2; dx <= 2 && !found; dx++ {
			for dy := -12; dy <= 12 && !found; dy++ {
				found = app[[2]int{p[0] + dx, p[1] + dy}]
			}
		}
		if !found {
			missed++
		}
	}
	if missed > 0 {
		t.Errorf("%d of the boot frame's %d bar pixels have no bar of the timeline near them", missed, len(bootBars))
	}
	screenshot(t, ctx, "boot-frame-after")
	if e := errs(); len(e) > 0 {
		t.Errorf("console errors: %q", e)
	}
}
