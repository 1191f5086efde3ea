package browsertests

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// BrowserFlags are the flags the tests and the benchmark run Chromium with.
// Without --no-proxy-server, pages on 127.0.0.1 never load here.
var BrowserFlags = []string{
	"headless=new", "no-sandbox", "disable-gpu", "no-proxy-server", "disable-background-networking",
	"disable-component-update", "disable-sync", "no-first-run", "no-default-browser-check",
}

// AllocatorOptions returns chromedp options that start the Chromium at
// path with BrowserFlags, a 1600×1000 window and the fresh profile folder
// profile.
func AllocatorOptions(path, profile string) []chromedp.ExecAllocatorOption {
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.UserDataDir(profile), chromedp.WindowSize(1600, 1000)}
	for _, f := range BrowserFlags {
		if name, value, ok := strings.Cut(f, "="); ok {
			opts = append(opts, chromedp.Flag(name, value))
		} else {
			opts = append(opts, chromedp.Flag(name, true))
		}
	}
	return opts
}

// PageResult is what a recorder's page reports once it is done: the
// messages it logged as it sent them (window.sent), its error
// (window.error, "" for none) and the browser's user agent.
type PageResult struct {
	Sent  []PageSent
	Error string
	UA    string
}

// RunPage loads url in ctx's Chromium, waits (at most 60 seconds) until
// the page is done (window.done) or failed (window.error), and returns what
// it reports; a page that failed is an error too.
func RunPage(ctx context.Context, url string) (PageResult, error) {
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return PageResult{}, fmt.Errorf("chromium: %w", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.done === true || window.error !== ""`, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		return PageResult{}, fmt.Errorf("chromium: %w", err)
	}
	r, err := chromedp.Run(ctx, chromedp.Evaluate[PageResult](`({sent: window.sent, error: window.error, ua: navigator.userAgent})`))
	if err != nil {
		return r, fmt.Errorf("chromium: %w", err)
	}
	if r.Error != "" {
		return r, fmt.Errorf("the page: %s", r.Error)
	}
	return r, nil
}
