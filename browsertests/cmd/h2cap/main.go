// Command h2cap records headless Chromium's WebSocket over HTTP/2 (RFC
// 8441) on loopback into a pcapng file with its TLS secrets:
// testdata/h2-websocket.pcapng, and what each endpoint logged it sent:
// testdata/h2-websocket.sent.
//
// A Go TLS server (a self-signed certificate; HTTP/2 and HTTP/1.1) serves
// TestChromiumWSS's page over HTTP/2 and, on the same connection, its
// WebSocket as an extended CONNECT (browsertests.H2WSSHandler): text,
// Unicode, JSON, a 70 KB message and binary messages of the sizes where the
// frame length changes form, echoed with permessage-deflate and context
// takeover both ways, the larger echoes in 16 KiB continuation frames,
// closed once the server echoed them all. Go's HTTP/2 server takes extended
// CONNECT only with GODEBUG=http2xconnect=1, read when the process starts:
// h2cap runs the server in a child, itself started again with it
// (browsertests.StartH2Server). Chromium writes its TLS secrets to a key log
// (--ssl-key-log-file); `wsviz events -i lo --keylog KEYS -w FILE`
// captures and saves them into FILE.
//
// Run as root (live capture needs CAP_NET_RAW), from browsertests, with
// Chromium installed (apt-get install chromium):
//
//	go run ./cmd/h2cap -o ../testdata/h2-websocket.pcapng
//
// Not run by CI: the capture it made is in testdata.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/wsviz/wsviz/browsertests"
)

func main() {
	browsertests.ServeH2Child() // in the server's process, serves and exits
	out := flag.String("o", "../testdata/h2-websocket.pcapng", "pcapng `file` to write (FILE without .pcapng and .sent: the messages)")
	chromium := flag.String("chromium", "chromium", "the Chromium to run")
	flag.Parse()
	if err := run(*out, *chromium); err != nil {
		log.Fatal(err)
	}
}

func run(out, chromium string) error {
	dir, err := os.MkdirTemp("", "h2cap")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if out, err = filepath.Abs(out); err != nil {
		return err
	}
	// Chromium takes only an absolute --ssl-key-log-file.
	keys := filepath.Join(dir, "keys.log")
	if err := os.WriteFile(keys, nil, 0o600); err != nil {
		return err
	}

	srv, err := browsertests.StartH2Server("Chromium")
	if err != nil {
		return err
	}
	defer srv.Close()
	stop, err := browsertests.CaptureLoopback("..", dir, out, keys, srv.Addr)
	if err != nil {
		return err
	}

	opts := append(browsertests.AllocatorOptions(chromium, filepath.Join(dir, "profile")),
		chromedp.Flag("ssl-key-log-file", keys), chromedp.Flag("ignore-certificate-errors", true))
	ctx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	r, err := browsertests.RunPage(ctx, srv.URL+"/")
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "h2cap:", r.UA)
	cancel()

	// The server logged its last echo; it stops once its requests end,
	// and then the capture.
	for deadline := time.Now().Add(10 * time.Second); len(srv.Sent()) < len(r.Sent) && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	if err := srv.Close(); err != nil {
		return fmt.Errorf("the server: %w", err)
	}
	if err := stop(); err != nil {
		return err
	}
	// The point of the capture: Chromium used RFC 8441.
	if reqs := srv.Requests(); len(reqs) != 1 || reqs[0].Method != "CONNECT" || reqs[0].Protocol != "websocket" {
		return fmt.Errorf("requests to /ws %+v, want one extended CONNECT with :protocol websocket", reqs)
	}
	return browsertests.WriteSent(strings.TrimSuffix(out, ".pcapng")+".sent", r.Sent, srv.Sent())
}
