package browsertests

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/wsviz/wsviz/analyze"
)

// logged is a message an endpoint logged as it sent it.
type logged struct {
	Opcode string `json:"opcode"`
	Text   string `json:"text,omitempty"`
	Base64 string `json:"base64,omitempty"`
}

// emptyKeyLog makes the key log file Chromium is to write into dir, empty,
// and returns its absolute path: Chromium writes nothing to a relative
// one or one with "..", and wsviz's --keylog wants the file to exist.
func emptyKeyLog(t *testing.T, dir string) string {
	t.Helper()
	keys, err := filepath.Abs(filepath.Join(dir, "chromium.keys"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keys, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestChromiumWSS: Chromium as a real wss:// client. A Go TLS server
// (gorilla/websocket over crypto/tls, a self-signed certificate, with
// permessage-deflate) echoes what a page in headless Chromium sends it,
// while `wsviz events -i lo --keylog KEYS -w FILE` captures loopback live;
// Chromium writes its TLS secrets to KEYS (--ssl-key-log-file, an absolute
// path) as it goes, so the live decode follows a key log that grows. Every
// message each endpoint logged as it sent it must be decoded: live, from
// FILE alone (wsviz saved the secrets it used in it), and from FILE with
// the key log. Live capture needs CAP_NET_RAW (CI runs as root); without
// it the test is skipped, except under CI.
func TestChromiumWSS(t *testing.T) {
	browser := browserPath(t)
	dir := t.TempDir()
	keys := emptyKeyLog(t, dir)
	wsviz := buildWSViz(t, dir)

	// The server logs what it sends: the echo of each message.
	var mu sync.Mutex
	var serverSent []logged
	handler := WSSHandler("Chromium", func(text bool, b []byte) {
		mu.Lock()
		serverSent = append(serverSent, loggedOf(text, b))
		mu.Unlock()
	})
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the probes below are not TLS
	// The page over HTTP/2, as browsers load pages. Go's server does not
	// offer RFC 8441's extended CONNECT (GODEBUG=http2xconnect=1 would),
	// so the WebSocket goes over HTTP/1.1 on a connection of its own
	// (TestChromiumH2WebSocket has it on the page's HTTP/2 connection).
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	srv.StartTLS()
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	// The live capture, on loopback, of the server's port only.
	out := filepath.Join(dir, "chromium-wss.pcapng")
	capture := exec.Command(wsviz, "events", "-i", "lo", "--keylog", keys, "--full-payload", "-w", out, "tcp", "port", strconv.Itoa(port))
	stdout, err := capture.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	capture.Stderr = &stderr
	if err := capture.Start(); err != nil {
		t.Fatal(err)
	}
	defer capture.Process.Kill()
	var lmu sync.Mutex
	var lines []string
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			lmu.Lock()
			lines = append(lines, sc.Text())
			lmu.Unlock()
		}
	}()
	seen := func(s string) int {
		lmu.Lock()
		defer lmu.Unlock()
		n := 0
		for _, l := range lines {
			if strings.Contains(l, s) {
				n++
			}
		}
		return n
	}
	// The capture runs once a probe connection shows.
	deadline := time.Now().Add(60 * time.Second)
	for seen(`"type":"tcp.open"`) == 0 {
		select {
		case <-readDone:
			capture.Wait()
			msg := stderr.String()
			if strings.Contains(msg, "permission denied") && os.Getenv("CI") == "" {
				t.Skipf("live capture not permitted here: %s", msg)
			}
			t.Fatalf("wsviz events -i lo ended: %s", msg)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the live capture never showed a probe connection: %s", stderr.String())
		}
		if c, err := net.Dial("tcp", srv.Listener.Addr().String()); err == nil {
			c.Close()
		}
		time.Sleep(300 * time.Millisecond)
	}

	// Chromium, with its key log and the self-signed certificate accepted.
	ctx, stopBrowser := launchBrowser(t, browser, 120*time.Second, chromedp.Flag("ssl-key-log-file", keys), chromedp.Flag("ignore-certificate-errors", true))
	defer stopBrowser()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatalf("Navigate = %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.done === true`, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		t.Fatalf("the page never finished: %v (error %q)", err, eval[string](t, ctx, `window.error`))
	}
	pageSent := eval[[]logged](t, ctx, `window.sent`)
	stopBrowser()
	if len(pageSent) != 11 {
		t.Fatalf("the page logged %d messages, want 11", len(pageSent))
	}

	// The WebSocket's connection closed; then the capture stops (SIGINT,
	// as Ctrl-C) and saves the secrets it used into FILE.
	deadline = time.Now().Add(30 * time.Second)
	for seen(`"type":"ws.message"`) < 2*len(pageSent)+2 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	capture.Process.Signal(syscall.SIGINT)
	<-readDone
	if err := capture.Wait(); err != nil {
		t.Fatalf("wsviz events -i lo: %v: %s", err, stderr.String())
	}
	t.Logf("%s", strings.TrimSpace(stderr.String()))
	if d := os.Getenv("WSVIZ_KEEP_CAPTURE"); d != "" {
		// To look at it: wsviz ui -r DIR/chromium-wss.pcapng.
		if b, err := os.ReadFile(out); err == nil {
			os.WriteFile(filepath.Join(d, "chromium-wss.pcapng"), b, 0o644)
		}
	}
	mu.Lock()
	want := map[string][]logged{analyze.FromClient: pageSent, analyze.FromServer: serverSent}
	mu.Unlock()

	var live []analyze.Event
	for _, l := range lines {
		var ev analyze.Event
		if err := ev.UnmarshalJSON([]byte(l)); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		live = append(live, ev)
	}
	fileKeys, err := analyze.ReadKeyLogFile(keys)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := analyze.ReadFile(out, analyze.Options{MaxPayload: -1})
	if err != nil {
		t.Fatal(err)
	}
	withKeys, err := analyze.ReadFile(out, analyze.Options{MaxPayload: -1, Keys: fileKeys})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		events []analyze.Event
	}{{"live, the key log growing", live}, {"the saved file's own secrets", fromFile}, {"the saved file and the key log", withKeys}} {
		t.Run(tc.name, func(t *testing.T) {
			checkChromiumSession(t, tc.events, want)
			// The page came over HTTP/2, decoded: its GET on a stream.
			h2 := 0
			for _, ev := range tc.events {
				if ev.Type == analyze.TypeHTTPRequest && ev.HTTP.Proto == "HTTP/2" && ev.HTTP.Target == "/" && ev.Stream != 0 {
					h2++
				}
			}
			if h2 == 0 {
				t.Errorf("no HTTP/2 GET / decoded: the page did not come over HTTP/2, or it was not decoded")
			}
		})
	}

	// A CI gate on this capture passes: the page's HTTP/2 connection is not
	// a protocol violation (it failed wsviz check before session 29).
	check := exec.Command(wsviz, "check", "-r", out)
	if b, err := check.CombinedOutput(); err != nil {
		t.Errorf("wsviz check -r %s: %v\n%s", out, err, b)
	}
}

// checkChromiumSession checks that the one WebSocket connection of events
// carried, each way, exactly the messages its sender logged, over TLS 1.3
// decrypted with Chromium's keys.
func checkChromiumSession(t *testing.T, events []analyze.Event, want map[string][]logged) {
	t.Helper()
	wsConn := 0
	for _, ev := range events {
		if ev.Type == analyze.TypeWSOpen {
			if wsConn != 0 {
				t.Fatalf("two WebSocket connections: %d and %d", wsConn, ev.Conn)
			}
			wsConn = ev.Conn
		}
	}
	if wsConn == 0 {
		t.Fatal("no WebSocket connection decoded")
	}
	got := map[string][]logged{}
	var hs *analyze.Event
	for i, ev := range events {
		if ev.Conn != wsConn {
			continue
		}
		for _, w := range ev.Warnings {
			t.Errorf("%s at packet %d: warning %s: %s", ev.Type, ev.Packet, w.Code, w.Msg)
		}
		switch ev.Type {
		case analyze.TypeTLSHandshake:
			hs = &events[i]
		case analyze.TypeWSOpen:
			t.Logf("conn %d: WebSocket %s, extensions %q", wsConn, ev.WSOpen.Path, ev.WSOpen.Extensions)
		case analyze.TypeWSMessage:
			if ev.Message.Opcode == "text" || ev.Message.Opcode == "binary" {
				got[ev.From] = append(got[ev.From], loggedOf(ev.Message.Opcode == "text", ev.Message.Payload))
			}
		}
	}
	if hs == nil || !hs.TLS.Keys || hs.TLS.Version != "TLS 1.3" {
		t.Errorf("tls.handshake %+v: want TLS 1.3 with keys found", hs)
	} else {
		t.Logf("conn %d: %s", wsConn, hs.Note)
	}
	for _, from := range []string{analyze.FromClient, analyze.FromServer} {
		if a, b := fmt.Sprint(got[from]), fmt.Sprint(want[from]); a != b {
			t.Errorf("%s messages differ from what it logged it sent:\ngot  %d: %.300s\nwant %d: %.300s", from, len(got[from]), a, len(want[from]), b)
		}
	}
}

func loggedOf(text bool, b []byte) logged {
	if text {
		return logged{Opcode: "text", Text: string(b)}
	}
	return logged{Opcode: "binary", Base64: base64.StdEncoding.EncodeToString(b)}
}

// buildWSViz builds the wsviz command into dir.
func buildWSViz(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "wsviz")
	build := exec.Command("go", "build", "-o", bin, "./cmd/wsviz")
	build.Dir = ".."
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/wsviz: %v\n%s", err, b)
	}
	return bin
}
