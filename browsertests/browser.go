package browsertests

import (
	"strings"

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
