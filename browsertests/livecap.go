package browsertests

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// CaptureLoopback builds this repository's wsviz (repo is its root) into
// dir and starts `wsviz events -i lo -q -w out tcp port PORT` for the
// server at addr, with --keylog keylog when keylog is not empty (the
// secrets are saved into out). It returns once the capture shows a probe
// connection to addr, so that nothing after it is missed. stop waits a
// second for the last FIN and ACK packets, interrupts the capture and
// waits for it to write out. The recorders (cmd/firefoxcap,
// cmd/pythoncap) use it; live capture needs root (CAP_NET_RAW).
func CaptureLoopback(repo, dir, out, keylog, addr string) (stop func() error, err error) {
	return CaptureInterface(repo, dir, out, keylog, "lo", addr)
}

// CaptureInterface is CaptureLoopback on interface iface, which the probe
// connection to addr must cross (cmd/rstcap: a veth pair).
func CaptureInterface(repo, dir, out, keylog, iface, addr string) (stop func() error, err error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	wsviz := filepath.Join(dir, "wsviz")
	build := exec.Command("go", "build", "-o", wsviz, "./cmd/wsviz")
	build.Dir, build.Stdout, build.Stderr = repo, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("go build ./cmd/wsviz: %w", err)
	}
	// Run the binary, not `go run`: go run does not pass SIGINT on.
	args := []string{"events", "-i", iface, "-q", "-w", out}
	if keylog != "" {
		args = append(args, "--keylog", keylog)
	}
	capture := exec.Command(wsviz, append(args, "tcp", "port", port)...)
	capture.Stderr = os.Stderr
	events, err := capture.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := capture.Start(); err != nil {
		return nil, err
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
	deadline := time.Now().Add(30 * time.Second)
	for ready := false; !ready; {
		if time.Now().After(deadline) {
			capture.Process.Kill()
			capture.Wait()
			return nil, fmt.Errorf("wsviz events -i %s saw no connection to port %s in 30 s", iface, port)
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
		}
		select {
		case <-opened:
			ready = true
		case <-time.After(300 * time.Millisecond):
		}
	}
	return func() error {
		time.Sleep(time.Second) // the last FIN and ACK packets
		capture.Process.Signal(syscall.SIGINT)
		if err := capture.Wait(); err != nil {
			return fmt.Errorf("wsviz events -i %s: %w", iface, err)
		}
		return nil
	}, nil
}

// Sent is one line of a recorder's .sent file: a message an endpoint
// logged as it sent it, by its SHA-256 (payloads reach 100 KB). analyze's
// tests of the recorded captures read these files.
type Sent struct {
	From   string `json:"from"`
	Opcode string `json:"opcode"`
	Len    int    `json:"len"`
	SHA256 string `json:"sha256"`
}

// SentOf is the line for payload b sent by from ("client", "server").
func SentOf(from string, text bool, b []byte) Sent {
	h := sha256.Sum256(b)
	op := "binary"
	if text {
		op = "text"
	}
	return Sent{from, op, len(b), hex.EncodeToString(h[:])}
}

// PageSent is a message as a recorder's page logs it (window.sent): text
// for text messages, base64 for binary ones.
type PageSent struct{ Opcode, Text, Base64 string }

// WriteSent writes the .sent file path: the page's messages as the
// client's, then the server's lines.
func WriteSent(path string, page []PageSent, server []Sent) error {
	var lines []Sent
	for _, m := range page {
		if m.Opcode == "text" {
			lines = append(lines, SentOf("client", true, []byte(m.Text)))
			continue
		}
		p, err := base64.StdEncoding.DecodeString(m.Base64)
		if err != nil {
			return err
		}
		lines = append(lines, SentOf("client", false, p))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, l := range append(lines, server...) {
		enc.Encode(l)
	}
	return f.Close()
}
