// Command firefoxcap records a real Firefox's wss:// traffic on loopback
// into a pcapng file with its TLS secrets: testdata/firefox-wss.pcapng, and
// what each endpoint logged it sent: testdata/firefox-wss.sent.
//
// A Go TLS server (a self-signed certificate; HTTP/2 and HTTP/1.1, so the
// page comes over HTTP/2 as browsers load pages) serves TestChromiumWSS's
// page and echoing WebSocket (browsertests.WSSHandler): text, Unicode,
// JSON, a 70 KB message and binary messages of the sizes where the frame
// length changes form, closed once the server echoed them all. Headless Firefox ESR (NSS: the TLS stack neither Go's nor
// Chromium's tests exercise) loads it with SSLKEYLOGFILE set, driven by
// firefox.mjs through puppeteer-core (WebDriver BiDi); `wsviz events -i lo
// --keylog KEYS -w FILE` captures and saves the secrets into FILE.
//
// Run as root (live capture needs CAP_NET_RAW), from browsertests, with
// Firefox ESR and node installed (apt-get install firefox-esr nodejs npm):
//
//	(cd cmd/firefoxcap && npm install)
//	go run ./cmd/firefoxcap -o ../testdata/firefox-wss.pcapng
//
// Not run by CI: the capture it made is in testdata, and
// analyze's TestFirefoxWSS checks it against the .sent file.
package main

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/wsviz/wsviz/browsertests"
)

func main() {
	out := flag.String("o", "../testdata/firefox-wss.pcapng", "pcapng `file` to write (FILE without .pcapng and .sent: the messages)")
	flag.Parse()
	if err := run(*out); err != nil {
		log.Fatal(err)
	}
}

func run(out string) error {
	dir, err := os.MkdirTemp("", "firefoxcap")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	keys := filepath.Join(dir, "keys.log")
	if err := os.WriteFile(keys, nil, 0o600); err != nil {
		return err
	}

	var mu sync.Mutex
	var serverSent []browsertests.Sent
	handler := browsertests.WSSHandler("Firefox", func(text bool, b []byte) {
		mu.Lock()
		serverSent = append(serverSent, browsertests.SentOf("server", text, b))
		mu.Unlock()
	})
	srv := httptest.NewUnstartedServer(handler)
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	srv.StartTLS()
	defer srv.Close()

	// The capture, with the wsviz of this repository.
	if out, err = filepath.Abs(out); err != nil {
		return err
	}
	stop, err := browsertests.CaptureLoopback("..", dir, out, keys, srv.Listener.Addr().String())
	if err != nil {
		return err
	}

	browse := exec.Command("node", "firefox.mjs", srv.URL+"/", keys)
	browse.Dir = "cmd/firefoxcap"
	browse.Stderr = os.Stderr
	b, err := browse.Output()
	if err != nil {
		return fmt.Errorf("node firefox.mjs: %w", err)
	}
	var r struct {
		Sent []browsertests.PageSent
		UA   string
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("firefox.mjs printed %q: %w", b, err)
	}
	fmt.Fprintln(os.Stderr, "firefoxcap:", r.UA)
	if err := stop(); err != nil {
		return err
	}

	mu.Lock()
	defer mu.Unlock()
	return browsertests.WriteSent(strings.TrimSuffix(out, ".pcapng")+".sent", r.Sent, serverSent)
}
