package ui

import (
	"math"
	"net/url"
	"slices"
	"strconv"

	"github.com/wsviz/wsviz/ui/internal/spill"
)

// The first tiles: a tab that opens the WebSocket with /ws?fit=W&lanes=N
// gets, between the first status and connections table, the tiles of
// the view that fits the whole capture so far at W pixels (the timeline's
// plot width, as the page guesses it before its layout) for the first N
// connections, as one binary message in the form of /api/tiles. The
// timeline's first frame then has marks to draw without asking: before
// this, the tiles were asked only once the page had run its code, drawn an
// empty frame and read the status, a round trip the page's busy start
// made 150–250 ms long (docs/ui.md, "First marks"). The page draws them
// like any tile of a neighbouring level while the view's own are on their
// way (windows.js forDraw), and asks again for the view's own.

// firstView is what a tab asked the first tiles for.
type firstView struct {
	plotW float64 // pixels
	lanes int
}

// parseFirstView reads fit= and lanes= of a WebSocket request; ok is false
// when they are absent or out of range (the tab then asks by itself).
func parseFirstView(q url.Values) (v firstView, ok bool) {
	w, err1 := strconv.ParseFloat(q.Get("fit"), 64)
	n, err2 := strconv.Atoi(q.Get("lanes"))
	if err1 != nil || err2 != nil || !(w >= 10 && w <= 1e5) || n < 1 || n > maxWindowLanes {
		return firstView{}, false
	}
	return firstView{plotW: w, lanes: n}, true
}

// Mirrors of the page's view arithmetic (windows.js, timeline.js).
const (
	colPx      = 3    // windows.js COL_PX: a column's width in pixels at its level
	fitPadFrac = 0.02 // timeline.js fullRange: the margin on each side
)

// fitTiles returns the level and the tiles (i0..i1, one more on each side,
// as the timeline asks) of the view that fits a capture of duration µs at
// plotW pixels: timeline.js fullRange, windows.js levelFor.
func fitTiles(duration, plotW float64) (level int, i0, i1 int64) {
	a, b := 0.0, duration
	if b-a < 1 {
		a -= 500
		b += 500
	}
	pad := (b - a) * fitPadFrac
	a, b = a-pad, b+pad
	l := math.Round(math.Log2(colPx * (b - a) / plotW * 1000))
	if math.IsNaN(l) || l < 0 {
		l = 0
	}
	level = int(min(l, maxTileLevel))
	span := math.Ldexp(1, level+tileColsLog) / 1e3 // µs
	return level, int64(math.Floor(a/span)) - 1, int64(math.Floor(b/span)) + 1
}

// firstTiles returns the message of the first tiles of view v for a
// capture of duration µs so far, of the connections conns (the first
// v.lanes of them, in the order of the page's lanes: ascending), or nil
// when there is nothing to draw yet.
func (a *queryAPI) firstTiles(v firstView, duration float64, conns []uint32) ([]byte, error) {
	if len(conns) == 0 {
		return nil, nil
	}
	conns = slices.Clone(conns)
	slices.Sort(conns)
	conns = conns[:min(len(conns), v.lanes)]
	level, i0, i1 := fitTiles(duration, v.plotW)
	if i1-i0 >= maxTiles {
		return nil, nil
	}
	// The page's default filter: every kind, both directions (filterValues).
	return a.appendTiles(nil, spill.WindowQuery{Conns: conns, Filter: spill.Filter{Classes: spill.AllClasses}}, level, i0, i1)
}
