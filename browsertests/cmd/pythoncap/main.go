// Command pythoncap records real Chromium talking to a server written with
// Python's websockets library on loopback: testdata/python-chromium.pcapng,
// and what each endpoint logged it sent: testdata/python-chromium.sent.
//
// websockets' default permessage-deflate asks for 4 KiB compression windows
// both ways (server_max_window_bits=12, client_max_window_bits=12):
// CPython's zlib compresses the server's messages and Chromium's its own
// within them. page.html sends messages that repeat themselves further
// back than that (JSON quotes, binary and text messages whose second half
// repeats the first 3-20 KB before, 70 KB of one letter); server.py echoes
// each. So the capture holds real senders keeping to a window smaller than
// deflate's, which analyze's TestPythonChromium checks wsviz decodes with
// no ws.deflate_window (a 32 KiB compressor would have referred further).
// `wsviz events -i lo -w FILE` captures; the page is served by server.py
// and loaded over ws:// (no TLS: the compression is what is recorded).
//
// Run as root (live capture needs CAP_NET_RAW), from browsertests, with
// Chromium and Python's websockets installed (apt-get install chromium
// python3-websockets):
//
//	go run ./cmd/pythoncap -o ../testdata/python-chromium.pcapng
//
// Not run by CI: the capture it made is in testdata.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/wsviz/wsviz/browsertests"
)

func main() {
	out := flag.String("o", "../testdata/python-chromium.pcapng", "pcapng `file` to write (FILE without .pcapng and .sent: the messages)")
	chromium := flag.String("chromium", "chromium", "the Chromium to run")
	python := flag.String("python", "/usr/bin/python3", "the Python to run, with websockets (Debian's, where apt-get installs python3-websockets)")
	flag.Parse()
	if err := run(*out, *chromium, *python); err != nil {
		log.Fatal(err)
	}
}

func run(out, chromium, python string) error {
	dir, err := os.MkdirTemp("", "pythoncap")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if out, err = filepath.Abs(out); err != nil {
		return err
	}

	// A free port for the Python server.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	l.Close()
	serverSent := filepath.Join(dir, "server.sent")
	server := exec.Command(python, "cmd/pythoncap/server.py", strconv.Itoa(l.Addr().(*net.TCPAddr).Port), "cmd/pythoncap/page.html", serverSent)
	server.Stderr = os.Stderr
	stdout, err := server.StdoutPipe()
	if err != nil {
		return err
	}
	if err := server.Start(); err != nil {
		return err
	}
	defer server.Process.Kill()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "listening\n" {
		return fmt.Errorf("server.py printed %q: %v", line, err)
	}

	stop, err := browsertests.CaptureLoopback("..", dir, out, "", addr)
	if err != nil {
		return err
	}

	ctx, cancel := chromedp.NewExecAllocator(context.Background(), browsertests.AllocatorOptions(chromium, filepath.Join(dir, "profile"))...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	r, err := browsertests.RunPage(ctx, "http://"+addr+"/")
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "pythoncap:", r.UA)
	cancel()
	if err := server.Wait(); err != nil {
		return fmt.Errorf("server.py: %w", err)
	}
	if err := stop(); err != nil {
		return err
	}

	b, err := os.ReadFile(serverSent)
	if err != nil {
		return err
	}
	var lines []browsertests.Sent
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var s browsertests.Sent
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			return fmt.Errorf("server.py logged %q: %w", l, err)
		}
		lines = append(lines, s)
	}
	return browsertests.WriteSent(strings.TrimSuffix(out, ".pcapng")+".sent", r.Sent, lines)
}
