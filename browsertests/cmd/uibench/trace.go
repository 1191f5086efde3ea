package main

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/tracing"
	"github.com/chromedp/chromedp"
)

// traceCategories are what a start-up trace records: the renderer's
// tasks (parsing, scripts, style, layout, paint), V8's compiling, the
// network and the page's own marks.
var traceCategories = []string{
	"devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute", "v8",
	"blink.user_timing", "loading", "toplevel", "netlog", "blink", "disabled-by-default-v8.cpu_profiler",
}

// chromeTrace records a Chromium trace (chrome://tracing, Perfetto) of a
// page from start until stop.
type chromeTrace struct {
	events [][]byte
	done   chan struct{}
}

// startTrace starts recording the trace of the page of ctx.
func startTrace(ctx context.Context) (*chromeTrace, error) {
	t := &chromeTrace{done: make(chan struct{})}
	if err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *tracing.EventDataCollected:
			for _, v := range ev.Value {
				t.events = append(t.events, bytes.Clone(v))
			}
		case *tracing.EventTracingComplete:
			close(t.done)
		}
	}); err != nil {
		return nil, err
	}
	_, err := chromedp.Call(ctx, tracing.Start, tracing.StartParams{TransferMode: tracing.StartTransferModeReportEvents,
		TraceConfig: &tracing.TraceConfig{IncludedCategories: traceCategories}})
	return t, err
}

// stop ends the recording and writes the trace to path.
func (t *chromeTrace) stop(ctx context.Context, path string) error {
	if _, err := chromedp.Call(ctx, tracing.End, cdp.Empty{}); err != nil {
		return err
	}
	select {
	case <-t.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	var b bytes.Buffer
	b.WriteString(`{"traceEvents":[`)
	for i, e := range t.events {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.Write(e)
	}
	b.WriteString("]}\n")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("         trace: %s (%d events)\n", path, len(t.events))
	return nil
}
