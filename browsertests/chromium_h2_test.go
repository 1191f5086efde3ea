package browsertests

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestChromiumH2WebSocket: Chromium's WebSocket over HTTP/2 (RFC 8441).
// The server of H2WSSHandler (a child process, StartH2Server, in which Go's
// HTTP/2 server takes extended CONNECT) serves the page of TestChromiumWSS
// over HTTP/2; Chromium then opens the page's WebSocket as an extended
// CONNECT on the same connection, with permessage-deflate, while `wsviz
// events -i lo --keylog KEYS -w FILE` captures loopback (CaptureLoopback)
// and saves Chromium's TLS secrets into FILE.
//
// The server must have seen the extended CONNECT: Chromium really used RFC
// 8441. And wsviz must decode FILE (its own secrets) into the WebSocket on
// the page's connection: an http.request CONNECT with :protocol websocket
// on an HTTP/2 stream, its http.response 200, then one ws.open with
// permessage-deflate and every message each side logged it sent, in order,
// all carrying the stream's id ("stream"), none with a warning. Live
// capture needs CAP_NET_RAW (CI runs as root); without it the test is
// skipped, except under CI.
func TestChromiumH2WebSocket(t *testing.T) {
	browser := browserPath(t)
	dir := t.TempDir()
	keys := emptyKeyLog(t, dir)
	srv, err := StartH2Server("Chromium", h2ServerArgs...)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	out := filepath.Join(dir, "h2-websocket.pcapng")
	stopCapture, err := CaptureLoopback("..", dir, out, keys, srv.Addr)
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("live capture not possible here: %v", err)
		}
		t.Fatal(err)
	}
	captured := false
	defer func() {
		if !captured {
			stopCapture()
		}
	}()

	// Chromium, with its key log and the self-signed certificate accepted.
	ctx, stopBrowser := launchBrowser(t, browser, 120*time.Second, chromedp.Flag("ssl-key-log-file", keys), chromedp.Flag("ignore-certificate-errors", true))
	defer stopBrowser()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatalf("Navigate = %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.done === true || window.error !== ''`, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		t.Fatalf("the page never finished: %v (requests to /ws: %+v)", err, srv.Requests())
	}
	if e := eval[string](t, ctx, `window.error`); e != "" {
		t.Fatalf("the page: %s (requests to /ws: %+v)", e, srv.Requests())
	}
	pageSent := eval[[]logged](t, ctx, `window.sent`)
	stopBrowser()
	if len(pageSent) != 11 {
		t.Fatalf("the page logged %d messages, want 11", len(pageSent))
	}

	// The server logged its last echo; it stops once its requests end,
	// and then the capture, which saves the secrets it used into FILE.
	for deadline := time.Now().Add(10 * time.Second); len(srv.Sent()) < len(pageSent) && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("the server's process: %v", err)
	}
	captured = true
	if err := stopCapture(); err != nil {
		t.Fatal(err)
	}
	if d := os.Getenv("WSVIZ_KEEP_CAPTURE"); d != "" {
		// To look at it: wsviz ui -r DIR/h2-websocket.pcapng.
		if b, err := os.ReadFile(out); err == nil {
			os.WriteFile(filepath.Join(d, "h2-websocket.pcapng"), b, 0o644)
		}
	}

	t.Run("the server saw an extended CONNECT", func(t *testing.T) {
		want := H2Request{Method: "CONNECT", Proto: "HTTP/2.0", Protocol: "websocket"}
		got := srv.Requests()
		if len(got) != 1 || got[0].Method != want.Method || got[0].Proto != want.Proto || got[0].Protocol != want.Protocol {
			t.Fatalf("requests to /ws %+v, want one %+v: Chromium did not use RFC 8441", got, want)
		}
		t.Logf("Chromium asked for %+v", got[0])
	})

	want := map[string][]Sent{"client": nil, "server": srv.Sent()}
	for _, m := range pageSent {
		b := []byte(m.Text)
		if m.Opcode == "binary" {
			if b, err = base64.StdEncoding.DecodeString(m.Base64); err != nil {
				t.Fatal(err)
			}
		}
		want["client"] = append(want["client"], SentOf("client", m.Opcode == "text", b))
	}
	events := decodeJSONEvents(t, filepath.Join(dir, "wsviz"), out)
	t.Run("wsviz decoded the WebSocket over HTTP/2", func(t *testing.T) {
		checkH2WebSocket(t, events, want)
	})
}

// decodeJSONEvents runs `wsviz events -r file --full-payload` and returns
// its events as JSON objects: the fields of HTTP/2 (as "stream") come to
// the JSON form before they do to analyze.Event.
func decodeJSONEvents(t *testing.T, wsviz, file string) []map[string]any {
	t.Helper()
	cmd := exec.Command(wsviz, "events", "-q", "--full-payload", "-r", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("wsviz events -r %s: %v\n%s", file, err, stderr.Bytes())
	}
	var events []map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var ev map[string]any
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("wsviz events -r %s: %v", file, err)
		}
		events = append(events, ev)
	}
	return events
}

// checkH2WebSocket checks that events hold the one WebSocket of an RFC 8441
// session on the connection of the page's GET: its extended CONNECT on
// stream S, the 200 to it, one ws.open with permessage-deflate, and every
// message each side logged it sent (want), in order, all on stream S and
// after its 200, none with a warning.
func checkH2WebSocket(t *testing.T, events []map[string]any, want map[string][]Sent) {
	t.Helper()
	str := func(ev map[string]any, key string) string { s, _ := ev[key].(string); return s }
	num := func(ev map[string]any, key string) int { n, _ := ev[key].(float64); return int(n) }
	describe := func(i int) string { b, _ := json.Marshal(events[i]); return fmt.Sprintf("event %d %.400s", i, b) }

	// The page's GET, and its connection.
	page := slices.IndexFunc(events, func(ev map[string]any) bool {
		return str(ev, "type") == "http.request" && str(ev, "method") == "GET" && str(ev, "target") == "/"
	})
	if page < 0 {
		t.Fatal("no http.request GET / decoded: the page's request")
	}
	conn := num(events[page], "conn")

	// The extended CONNECT (RFC 8441 §4): its stream is the WebSocket's.
	connect, stream := -1, 0
	for i, ev := range events {
		if str(ev, "type") != "http.request" || str(ev, "method") != "CONNECT" {
			continue
		}
		if connect >= 0 {
			t.Fatalf("two CONNECT requests: %s and %s", describe(connect), describe(i))
		}
		connect, stream = i, num(ev, "stream")
		headers, _ := ev["headers"].(map[string]any)
		if p := fmt.Sprint(headers[":protocol"]); p != "[websocket]" || str(ev, "proto") != "HTTP/2" || num(ev, "conn") != conn || stream <= 0 || stream%2 != 1 {
			t.Errorf("%s: want :protocol [websocket] (got %s), proto HTTP/2, conn %d (the page's) and an odd stream > 0", describe(i), p, conn)
		}
	}
	if connect < 0 {
		t.Fatal("no http.request CONNECT decoded: the WebSocket's extended CONNECT (RFC 8441 §4)")
	}
	onStream := func(ev map[string]any) bool { return num(ev, "conn") == conn && num(ev, "stream") == stream }

	// Its answer, then the WebSocket.
	response := slices.IndexFunc(events, func(ev map[string]any) bool {
		return str(ev, "type") == "http.response" && onStream(ev)
	})
	if response < 0 || num(events[response], "status") != 200 || response < connect {
		t.Fatalf("no http.response 200 on conn %d stream %d after the CONNECT (%d): got %d", conn, stream, connect, response)
	}
	got := map[string][]Sent{}
	opens := 0
	for i, ev := range events {
		switch str(ev, "type") {
		case "ws.open":
			opens++
			if !onStream(ev) || ev["deflate"] == nil || i < response {
				t.Errorf("%s: want conn %d stream %d, after the 200 (event %d), with deflate", describe(i), conn, stream, response)
			}
		case "ws.message":
			if !onStream(ev) || i < response || ev["warnings"] != nil || ev["truncated"] != nil {
				t.Errorf("%s: want conn %d stream %d, after the 200 (event %d), whole, no warnings", describe(i), conn, stream, response)
			}
			var payload []byte
			switch op := str(ev, "opcode"); op {
			case "text":
				payload = []byte(str(ev, "text"))
			case "binary":
				var err error
				if payload, err = base64.StdEncoding.DecodeString(str(ev, "base64")); err != nil {
					t.Fatalf("%s: %v", describe(i), err)
				}
			default:
				continue
			}
			got[str(ev, "from")] = append(got[str(ev, "from")], SentOf(str(ev, "from"), str(ev, "opcode") == "text", payload))
		}
	}
	if opens != 1 {
		t.Errorf("%d ws.open events, want 1", opens)
	}
	for _, from := range []string{"client", "server"} {
		if a, b := fmt.Sprint(got[from]), fmt.Sprint(want[from]); a != b {
			t.Errorf("%s messages differ from what it logged it sent:\ngot  %d: %.300s\nwant %d: %.300s", from, len(got[from]), a, len(want[from]), b)
		}
	}
}
