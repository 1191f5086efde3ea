// Command uibench measures the wsviz timeline page at scale in headless
// Chromium: it writes a capture of 200 connections × 2,000 messages
// (400,000 messages), serves it as `wsviz ui -r` does, and reports the time
// to the first marks, the time to all events and the frame times while
// panning, for a tab opened as decoding starts and for one opened after.
//
//	cd browsertests && go run ./cmd/uibench [-conns 200] [-messages 2000]
//	go run ./cmd/uibench -serve     # keep serving, to look at it yourself
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/browsertests"
	"github.com/wsviz/wsviz/ui"
)

func main() {
	conns := flag.Int("conns", 200, "connections")
	messages := flag.Int("messages", 2000, "messages per connection")
	out := flag.String("capture", "", "write the capture to this `file` and keep it (default: a temporary file)")
	frames := flag.Int("frames", 300, "animation frames of panning to measure")
	serveOnly := flag.Bool("serve", false, "only serve the capture and print the address (Ctrl-C to quit)")
	browser := flag.String("chromium", "/usr/bin/chromium", "the browser to drive")
	flag.Parse()
	if err := run(*conns, *messages, *out, *frames, *serveOnly, *browser); err != nil {
		fmt.Fprintln(os.Stderr, "uibench:", err)
		os.Exit(1)
	}
}

func run(conns, messages int, out string, frames int, serveOnly bool, browser string) error {
	dir, err := os.MkdirTemp("", "uibench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := out
	if path == "" {
		path = filepath.Join(dir, "scale.pcapng")
	}
	start := time.Now()
	n, err := browsertests.ScaleCapture(path, conns, messages, time.Millisecond)
	if err != nil {
		return err
	}
	st, _ := os.Stat(path)
	fmt.Printf("capture: %d connections, %d messages, %.1f MB, written in %v\n", conns, n, float64(st.Size())/1e6, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	events := 0
	if err := analyze.DecodeFile(path, analyze.Options{MaxPayload: 1 << 20}, func(*analyze.Event) error { events++; return nil }); err != nil {
		return err
	}
	fmt.Printf("analyze alone: %d events in %v\n", events, time.Since(start).Round(time.Millisecond))

	if serveOnly {
		u, stop, err := browsertests.Serve(path, ui.Options{TempDir: dir})
		if err != nil {
			return err
		}
		defer stop()
		fmt.Println("serving", u)
		select {}
	}
	if _, err := exec.LookPath(browser); err != nil {
		return fmt.Errorf("no browser at %s (apt-get install chromium): %w", browser, err)
	}

	// A tab opened as decoding starts, then one opened once all is read.
	u, stop, err := browsertests.Serve(path, ui.Options{TempDir: dir})
	if err != nil {
		return err
	}
	defer stop()
	for _, scenario := range []string{"tab open while decoding", "tab opened after decoding"} {
		r, err := measure(browser, u, events, frames)
		if err != nil {
			return fmt.Errorf("%s: %w", scenario, err)
		}
		fmt.Printf("\n%s:\n", scenario)
		fmt.Printf("  first marks:      %6.0f ms after navigation\n", r.FirstMarks)
		fmt.Printf("  all %d events:  %6.0f ms after navigation (the server said it had read the whole capture at %.0f ms)\n", events, r.AllEvents, r.SourceDone)
		fmt.Printf("  pan, fit-all view (%d lanes visible of %d): draw median %.1f ms, p95 %.1f ms, max %.1f ms; frame interval median %.1f ms, p95 %.1f ms\n",
			r.Lanes, conns, r.Fit.DrawMedian, r.Fit.DrawP95, r.Fit.DrawMax, r.Fit.GapMedian, r.Fit.GapP95)
		fmt.Printf("  pan, zoomed ×50:  draw median %.1f ms, p95 %.1f ms; frame interval median %.1f ms, p95 %.1f ms\n",
			r.Zoom.DrawMedian, r.Zoom.DrawP95, r.Zoom.GapMedian, r.Zoom.GapP95)
		fmt.Printf("  JS heap used:     %.0f MB\n", r.HeapMB)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	fmt.Printf("\nserver (this process, capture generator included): Go heap in use %.0f MB after GC\n", float64(ms.HeapInuse)/1e6)
	return nil
}

type panStats struct {
	DrawMedian, DrawP95, DrawMax, GapMedian, GapP95 float64
}

type result struct {
	FirstMarks, AllEvents, SourceDone float64
	Lanes                             int
	Fit, Zoom                         panStats
	HeapMB                            float64
}

func measure(browser, u string, events, frames int) (result, error) {
	var r result
	profile, err := os.MkdirTemp("", "uibench-profile-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(profile)
	opts := browsertests.AllocatorOptions(browser, profile)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 5*time.Minute)
	defer cancelT()
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		return r, err
	}
	cond := fmt.Sprintf(`window.wsviz && wsviz.allEventsMs() >= 0 && wsviz.events() === %d`, events)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(4*time.Minute), chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		return r, errors.Join(errors.New("the page never had every event"), err)
	}
	if r.FirstMarks, err = chromedp.Run(ctx, chromedp.Evaluate[float64](`wsviz.firstMarksMs()`)); err != nil {
		return r, err
	}
	if r.AllEvents, err = chromedp.Run(ctx, chromedp.Evaluate[float64](`wsviz.allEventsMs()`)); err != nil {
		return r, err
	}
	if r.SourceDone, err = chromedp.Run(ctx, chromedp.Evaluate[float64](`wsviz.sourceDoneMs()`)); err != nil {
		return r, err
	}
	if r.Lanes, err = chromedp.Run(ctx, chromedp.Evaluate[int](`Math.ceil((wsviz.app.timeline.height - 26) / 30)`)); err != nil {
		return r, err
	}
	if r.Fit, err = pan(ctx, frames); err != nil {
		return r, err
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`wsviz.app.timeline.zoom(1/50)`)); err != nil {
		return r, err
	}
	if r.Zoom, err = pan(ctx, frames); err != nil {
		return r, err
	}
	heap, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`performance.memory ? performance.memory.usedJSHeapSize : 0`))
	r.HeapMB = heap / 1e6
	return r, err
}

func pan(ctx context.Context, frames int) (panStats, error) {
	var res struct{ Draws, Gaps []float64 }
	res, err := chromedp.Run(ctx, chromedp.Evaluate[struct{ Draws, Gaps []float64 }](
		fmt.Sprintf(`wsviz.benchPan(%d).then(r => ({Draws: r.draws, Gaps: r.gaps}))`, frames), chromedp.EvalAwaitPromise))
	if err != nil {
		return panStats{}, err
	}
	if len(res.Draws) == 0 || len(res.Gaps) == 0 {
		return panStats{}, errors.New("no frames drawn while panning")
	}
	q := func(xs []float64, p float64) float64 {
		s := slices.Clone(xs)
		slices.Sort(s)
		return s[min(len(s)-1, int(p*float64(len(s))))]
	}
	return panStats{
		DrawMedian: q(res.Draws, .5), DrawP95: q(res.Draws, .95), DrawMax: q(res.Draws, 1),
		GapMedian: q(res.Gaps, .5), GapP95: q(res.Gaps, .95),
	}, nil
}
