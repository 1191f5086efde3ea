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
	"bufio"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
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
	"time"

	"github.com/wsviz/wsviz/browsertests"
)

// Sent is one line of the .sent file: a message an endpoint logged as it
// sent it, by its SHA-256 (the payloads reach 100 KB).
type Sent struct {
	From   string `json:"from"`
	Opcode string `json:"opcode"`
	Len    int    `json:"len"`
	SHA256 string `json:"sha256"`
}

func sentOf(from string, text bool, b []byte) Sent {
	h := sha256.Sum256(b)
	op := "binary"
	if text {
		op = "text"
	}
	return Sent{from, op, len(b), hex.EncodeToString(h[:])}
}

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
	var serverSent []Sent
	handler := browsertests.WSSHandler("Firefox", func(text bool, b []byte) {
		mu.Lock()
		serverSent = append(serverSent, sentOf("server", text, b))
		mu.Unlock()
	})
	srv := httptest.NewUnstartedServer(handler)
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	srv.StartTLS()
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	// The capture, with the wsviz of this repository.
	if out, err = filepath.Abs(out); err != nil {
		return err
	}
	wsviz := filepath.Join(dir, "wsviz")
	build := exec.Command("go", "build", "-o", wsviz, "./cmd/wsviz")
	build.Dir, build.Stdout, build.Stderr = "..", os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/wsviz: %w", err)
	}
	capture := exec.Command(wsviz, "events", "-i", "lo", "--keylog", keys, "-q", "-w", out, "tcp", "port", strconv.Itoa(port))
	capture.Stderr = os.Stderr
	events, err := capture.StdoutPipe()
	if err != nil {
		return err
	}
	if err := capture.Start(); err != nil {
		return err
	}
	opened := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(events)
		sc.Buffer(nil, 16<<20)
		once := sync.Once{}
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"type":"tcp.open"`) {
				once.Do(func() { close(opened) })
			}
		}
	}()
	// The capture runs once a probe connection shows.
	for ready := false; !ready; {
		if c, err := net.Dial("tcp", srv.Listener.Addr().String()); err == nil {
			c.Close()
		}
		select {
		case <-opened:
			ready = true
		case <-time.After(300 * time.Millisecond):
		}
	}

	browse := exec.Command("node", "firefox.mjs", srv.URL+"/", keys)
	browse.Dir = "cmd/firefoxcap"
	browse.Stderr = os.Stderr
	b, err := browse.Output()
	if err != nil {
		return fmt.Errorf("node firefox.mjs: %w", err)
	}
	var r struct {
		Sent []struct{ Opcode, Text, Base64 string }
		UA   string
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("firefox.mjs printed %q: %w", b, err)
	}
	fmt.Fprintln(os.Stderr, "firefoxcap:", r.UA)
	time.Sleep(time.Second) // the last FIN/ACKs
	capture.Process.Signal(syscall.SIGINT)
	if err := capture.Wait(); err != nil {
		return fmt.Errorf("wsviz events -i lo: %w", err)
	}

	var lines []Sent
	for _, m := range r.Sent {
		if m.Opcode == "text" {
			lines = append(lines, sentOf("client", true, []byte(m.Text)))
		} else {
			p, err := base64.StdEncoding.DecodeString(m.Base64)
			if err != nil {
				return err
			}
			lines = append(lines, sentOf("client", false, p))
		}
	}
	mu.Lock()
	lines = append(lines, serverSent...)
	mu.Unlock()
	f, err := os.Create(strings.TrimSuffix(out, ".pcapng") + ".sent")
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, l := range lines {
		enc.Encode(l)
	}
	return f.Close()
}
