package browsertests

import (
	"testing"

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
