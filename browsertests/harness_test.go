package browsertests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture/capturetest"
	"github.com/wsviz/wsviz/ui"
)

// browserPath finds Chromium. Without one the test is skipped, unless CI
// is set: CI installs Chromium, so there a missing browser is a failure.
func browserPath(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium found: CI must run the browser tests (apt-get install chromium)")
	}
	t.Skip("no Chromium found (apt-get install chromium); skipping browser tests")
	return ""
}

// newBrowser returns a context for a new tab, in a browser context of its
// own (its own cookies, storage, cache and downloads, as a fresh profile
// has), of the Chromium the tests share; the tab is closed at the end of
// the test.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	return newBrowserTimeout(t, 90*time.Second)
}

// newBrowserTimeout is newBrowser whose context ends after d.
//
// Starting Chromium takes two seconds of the machine's two cores; a tab in
// a new browser context, a tenth of that. Tests that need flags of their
// own (a key log, certificate errors ignored) start their own Chromium
// with launchBrowser.
func newBrowserTimeout(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	for attempt := 1; ; attempt++ {
		tab, cancelTab := chromedp.NewContext(sharedBrowser(t), chromedp.WithNewBrowserContext())
		ctx, cancelT := context.WithTimeout(tab, d)
		err := chromedp.Do(ctx) // the first call opens the tab
		if err == nil {
			t.Cleanup(func() {
				cancelT()
				cancelTab()
			})
			return ctx
		}
		cancelT()
		cancelTab()
		if attempt == 2 {
			t.Fatalf("opening a tab in the shared Chromium: %v", err)
		}
		// The shared Chromium is gone (it crashed, or a test's failure took
		// it down): the next tab gets a new one.
		t.Logf("opening a tab in the shared Chromium: %v; starting Chromium again", err)
		stopSharedBrowser()
	}
}

// shared is the Chromium newBrowser's tabs open in, started by the first
// test that asks for one and stopped by TestMain.
var shared struct {
	sync.Mutex
	ctx     context.Context // the browser's first tab; nil when none runs
	stop    func()
	profile string
}

// sharedBrowser returns the context of the shared Chromium's first tab,
// starting Chromium when none runs.
func sharedBrowser(t testing.TB) context.Context {
	t.Helper()
	path := browserPath(t)
	shared.Lock()
	defer shared.Unlock()
	if shared.ctx != nil {
		return shared.ctx
	}
	// The profile outlives the test that starts the browser: not t.TempDir.
	profile, err := os.MkdirTemp("", "wsviz-browsertests-")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop, err := startBrowser(t, path, profile, 0)
	if err != nil {
		os.RemoveAll(profile)
		t.Fatal(err)
	}
	shared.ctx, shared.stop, shared.profile = ctx, stop, profile
	return ctx
}

// stopSharedBrowser stops the shared Chromium, if one runs, and removes its
// profile.
func stopSharedBrowser() {
	shared.Lock()
	defer shared.Unlock()
	if shared.ctx == nil {
		return
	}
	shared.stop()
	os.RemoveAll(shared.profile)
	shared.ctx, shared.stop, shared.profile = nil, nil, ""
}

// launchAttempts is how many times launchBrowser starts Chromium before it
// gives up.
const launchAttempts = 3

// launchBrowser starts the Chromium at path with a fresh profile and the flags of
// AllocatorOptions plus extra, opens one tab, and returns its context, which
// ends after d, and the func that stops the browser.
//
// Chromium now and then exits before it prints its DevTools address: CI saw
// it once, 0.5 s after the start, with nothing but the usual D-Bus lines on
// its output, in one test of a run whose other tests started it fine. That
// exit is no behaviour of wsviz's page, so it is logged and Chromium is
// started again with a new profile, up to launchAttempts times; any other
// error, or the last attempt's, fails the test.
func launchBrowser(t testing.TB, path string, d time.Duration, extra ...chromedp.ExecAllocatorOption) (context.Context, func()) {
	t.Helper()
	ctx, stop, err := startBrowser(t, path, t.TempDir(), d, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, stop
}

// startBrowser is launchBrowser with the profile directory given, a
// context that ends after d (never for 0), and an error instead of a
// failed test.
func startBrowser(t testing.TB, path, profile string, d time.Duration, extra ...chromedp.ExecAllocatorOption) (context.Context, func(), error) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		dir, err := os.MkdirTemp(profile, "profile-")
		if err != nil {
			return nil, nil, err
		}
		opts := append(AllocatorOptions(path, dir), extra...)
		actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(actx)
		cancelT := func() {}
		if d > 0 {
			ctx, cancelT = context.WithTimeout(ctx, d)
		}
		stop := func() {
			cancelT()
			cancel()
			cancelA()
		}
		err = chromedp.Do(ctx) // the first call starts the browser
		if err == nil {
			return ctx, stop, nil
		}
		stop()
		if attempt == launchAttempts || !strings.HasPrefix(err.Error(), "chrome failed to start") {
			return nil, nil, fmt.Errorf("starting Chromium (attempt %d of %d): %v", attempt, launchAttempts, err)
		}
		t.Logf("Chromium exited before it was ready (attempt %d of %d); starting it again: %v", attempt, launchAttempts, err)
		time.Sleep(500 * time.Millisecond)
	}
}

// The test capture, made once per run with gorilla/websocket as the
// encoder: see buildCapture.
var (
	captureOnce sync.Once
	capturePath string
	captureErr  error
)

const hostile = `<script>alert(1)</script><img src=x onerror=alert(1)>`

// chatJSON is a JSON text message the tests click on.
const chatJSON = `{"type":"welcome","users":["ada","bob"],"room":{"id":7,"topic":"WebSocket"}}`

// testCapture returns the path of a capture with four connections:
//
//  1. a chat (subprotocol chat.v1): JSON text both ways, the hostile text,
//     binary, a ping answered by a pong, and a clean close;
//  2. permessage-deflate text, closed by the server;
//  3. an upgrade the server rejects with 403;
//  4. a WebSocket reset by the client in the middle.
func testCapture(t testing.TB) string {
	t.Helper()
	captureOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wsviz-browsertests-")
		if err != nil {
			captureErr = err
			return
		}
		capturePath = filepath.Join(dir, "ui-test.pcapng")
		captureErr = buildCapture(capturePath)
	})
	if captureErr != nil {
		t.Fatal(captureErr)
	}
	return capturePath
}

func buildCapture(path string) error {
	bin := make([]byte, 40)
	for i := range bin {
		bin[i] = byte(i * 13)
	}
	chat, err := Record(Conversation{Path: "/chat?room=7", Subprotocol: "chat.v1", Steps: []Step{
		{true, websocket.TextMessage, []byte(`{"type":"hello","user":"ada"}`)},
		{false, websocket.TextMessage, []byte(chatJSON)},
		{true, websocket.TextMessage, []byte(hostile)},
		{false, websocket.BinaryMessage, bin},
		{true, websocket.PingMessage, []byte("hb")},
		{false, websocket.TextMessage, []byte("plain words, not JSON")},
		{true, websocket.CloseMessage, websocket.FormatCloseMessage(1000, "bye")},
	}})
	if err != nil {
		return err
	}
	long := strings.Repeat("compress me, compress me. ", 20)
	deflated, err := Record(Conversation{Path: "/deflate", Compress: true, Steps: []Step{
		{true, websocket.TextMessage, []byte(long)},
		{false, websocket.TextMessage, []byte(long)},
		{false, websocket.CloseMessage, websocket.FormatCloseMessage(1001, "going away")},
	}})
	if err != nil {
		return err
	}
	reset, err := Record(Conversation{Path: "/feed", Steps: []Step{
		{false, websocket.TextMessage, []byte("tick 1")},
		{false, websocket.TextMessage, []byte("tick 2")},
	}})
	if err != nil {
		return err
	}
	c := capturetest.NewCapture(capturetest.Options{NG: true, Step: 2 * time.Millisecond})
	play := func(k *capturetest.Conn, chunks []Chunk) {
		for _, ch := range chunks {
			if ch.FromClient {
				k.Client(ch.Data)
			} else {
				k.Server(ch.Data)
			}
		}
	}
	k1 := c.Conn("127.0.0.1:50001", "127.0.0.1:9001")
	k1.Handshake()
	play(k1, chat)
	k1.CloseFIN(false)
	k1.CloseFIN(true)

	k2 := c.Conn("127.0.0.1:50002", "127.0.0.1:9001")
	k2.Handshake()
	play(k2, deflated)
	k2.CloseFIN(false)
	k2.CloseFIN(true)

	k3 := c.Conn("127.0.0.1:50003", "127.0.0.1:9001")
	k3.Handshake()
	k3.Client([]byte("GET /admin HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	k3.Server([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"))
	k3.CloseFIN(false)
	k3.CloseFIN(true)

	k4 := c.Conn("127.0.0.1:50004", "127.0.0.1:9001")
	k4.Handshake()
	play(k4, reset)
	k4.Reset(true)
	return c.WriteFile(path)
}

// decoded is what the analyzer makes of a capture: the truth the page is
// checked against.
func decoded(t testing.TB, path string) []analyze.Event {
	t.Helper()
	var out []analyze.Event
	err := analyze.DecodeFile(path, analyze.Options{MaxPayload: -1}, func(ev *analyze.Event) error {
		out = append(out, ev.Clone())
		return nil
	})
	if err != nil {
		t.Fatalf("DecodeFile(%s) = %v", path, err)
	}
	return out
}

func serve(t testing.TB, path string) string {
	t.Helper()
	u, stop, err := Serve(path, ui.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return u
}

// screenshotDir is where the tests leave their screenshots, to be looked
// at: $WSVIZ_SCREENSHOTS, or a folder in the temporary directory.
var screenshotDir = sync.OnceValue(func() string {
	if d := os.Getenv("WSVIZ_SCREENSHOTS"); d != "" {
		os.MkdirAll(d, 0o755)
		return d
	}
	d, _ := os.MkdirTemp("", "wsviz-screenshots-")
	return d
})

func screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(screenshotDir(), name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Error(err)
	}
	t.Logf("screenshot: %s", p)
}

// openPage navigates to u and waits until every event has arrived.
func openPage(t testing.TB, ctx context.Context, u string, want int) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("Navigate(%s) = %v", u, err)
	}
	// Every event read, and the timeline drew every tile in view as the
	// server has it now (the page holds the rows of what it drew).
	cond := fmt.Sprintf(`window.wsviz && wsviz.allEventsMs() >= 0 && wsviz.events() === %d && wsviz.frame().complete`, want)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`window.wsviz ? wsviz.events() : -1`))
		t.Fatalf("page never showed all %d events (has %d): %v", want, n, err)
	}
}

func eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("Evaluate(%s) = %v", js, err)
	}
	return v
}

// evalQuiet returns the value of js as JSON text, or the error, for a
// failure's message.
func evalQuiet(ctx context.Context, js string) string {
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		return err.Error()
	}
	return v
}

// deadline returns ctx's deadline, or a minute from now.
func deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(time.Minute)
}

// pollQuiet waits up to 5 s for js to be true, and returns either way: the
// caller checks what it then finds.
func pollQuiet(ctx context.Context, js string) {
	chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(5*time.Second)))
}

func poll(t testing.TB, ctx context.Context, js string) {
	t.Helper()
	// A deadline, not a measure: it ends as soon as js is true, and CI's
	// two cores run the race-built server, Chromium and other packages'
	// tests at once.
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("waiting for %s: %v", js, err)
	}
}

// consoleErrors collects the page's errors, exceptions and CSP violations
// from now on; call the returned function to get them.
func consoleErrors(ctx context.Context) func() []string {
	var mu sync.Mutex
	var out []string
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == "error" || strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				out = append(out, m.String())
				mu.Unlock()
			}
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), out...)
	}
}

// TestLaunchRetriesAnEarlyExit: a Chromium that exits before it prints its
// DevTools address the first two times it starts is started again, and the
// third start gives a page that works.
func TestLaunchRetriesAnEarlyExit(t *testing.T) {
	real := browserPath(t)
	dir := t.TempDir()
	flaky := filepath.Join(dir, "flaky-chromium")
	script := fmt.Sprintf(`#!/bin/sh
n=$(cat %[1]s/starts 2>/dev/null || echo 0)
echo $((n+1)) > %[1]s/starts
if [ "$n" -lt 2 ]; then echo "exiting early, as Chromium now and then does" >&2; exit 1; fi
exec %[2]s "$@"
`, dir, real)
	if err := os.WriteFile(flaky, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, stop := launchBrowser(t, flaky, 60*time.Second)
	defer stop()
	if got := eval[int](t, ctx, `6 * 7`); got != 42 {
		t.Errorf("the page evaluated 6 * 7 = %d", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "starts")); strings.TrimSpace(string(b)) != "3" {
		t.Errorf("Chromium started %q times, want 3", b)
	}
}

// TestSharedBrowserStartsAgain: when the shared Chromium is gone (killed
// here, as a crash would), the next test's tab opens in a new one.
func TestSharedBrowserStartsAgain(t *testing.T) {
	// browser opens a tab, checks that its page runs, and returns its
	// Chromium's process.
	browser := func(t *testing.T) *os.Process {
		ctx := newBrowser(t)
		if sum, err := chromedp.Run(ctx, chromedp.Evaluate[int](`1 + 1`)); err != nil || sum != 2 {
			t.Fatalf("1 + 1 in a tab of the shared Chromium = %d, %v", sum, err)
		}
		return chromedp.FromContext(ctx).Browser.Process()
	}
	killed := browser(t)
	if err := killed.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Run("next test", func(t *testing.T) {
		if p := browser(t); p.Pid == killed.Pid {
			t.Errorf("the tab opened in the killed Chromium (pid %d)", p.Pid)
		}
	})
}
