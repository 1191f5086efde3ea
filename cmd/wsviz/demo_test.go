package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture/live"
	"github.com/wsviz/wsviz/internal/demo"
)

// skipWithoutCapture skips a test when the process may not capture,
// except in CI (CI=true), which runs as root.
func skipWithoutCapture(t *testing.T) {
	t.Helper()
	s, err := live.Open("lo", live.Options{})
	var pe *live.PermissionError
	if errors.As(err, &pe) && os.Getenv("CI") != "true" {
		t.Skipf("no capture permission: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// demoShow summarizes what a demo capture decodes to.
type demoShow struct {
	handshakes, deflate      int
	fromClient, fromServer   int
	closes                   map[int]int // by close code
	binary, pings, pongs     int
	fragmented               int
	warnings                 []string
	messagesBeforeFirstClose int
}

func showOf(events []analyze.Event) demoShow {
	s := demoShow{closes: map[int]int{}}
	for _, ev := range events {
		for _, w := range ev.Warnings {
			s.warnings = append(s.warnings, fmt.Sprintf("event %s (packet %d): %s", ev.Type, ev.Packet, w.Code))
		}
		switch ev.Type {
		case analyze.TypeWSOpen:
			if ev.WSOpen.Accept == "ok" {
				s.handshakes++
			}
			if ev.WSOpen.Deflate != nil {
				s.deflate++
			}
		case analyze.TypeWSMessage:
			m := ev.Message
			switch m.Opcode {
			case "text", "binary":
				if ev.From == analyze.FromClient {
					s.fromClient++
				} else {
					s.fromServer++
				}
				if m.Opcode == "binary" {
					s.binary++
				}
				if m.Frames > 1 {
					s.fragmented++
				}
			case "close":
				s.closes[m.Code]++
			case "ping":
				s.pings++
			case "pong":
				s.pongs++
			}
		}
	}
	return s
}

func TestDemo(t *testing.T) {
	// The demo runs for a few seconds and shows everything it promises:
	// handshakes with permessage-deflate, messages both ways, binary,
	// pings, a fragmented message and closes with codes.
	skipWithoutCapture(t)
	path := filepath.Join(t.TempDir(), "demo.pcapng")
	var stdout, stderr syncBuffer
	code := run([]string{"demo", "--duration", "2500ms", "--pace", "250ms", "-w", path}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("wsviz demo exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "timeline: http://127.0.0.1:") || !strings.Contains(stdout.String(), "chat:     http://127.0.0.1:") {
		t.Errorf("stdout = %q, want both URLs", stdout.String())
	}
	if !strings.Contains(stderr.String(), "wsviz: captured ") || !strings.Contains(stderr.String(), " 0 dropped by the kernel") {
		t.Errorf("stderr = %q, want the summary", stderr.String())
	}
	events, err := analyze.ReadFile(path, analyze.Options{})
	if err != nil {
		t.Fatalf("ReadFile(demo capture) = %v", err)
	}
	s := showOf(events)
	if s.handshakes < 4 || s.deflate < 4 {
		t.Errorf("%d handshakes accepted, %d with permessage-deflate; want the 4 bots at least", s.handshakes, s.deflate)
	}
	if s.fromClient == 0 || s.fromServer == 0 {
		t.Errorf("%d messages from clients, %d from the server; want both", s.fromClient, s.fromServer)
	}
	if s.binary == 0 || s.pings == 0 || s.pongs == 0 || s.fragmented == 0 {
		t.Errorf("%d binary messages, %d pings, %d pongs, %d fragmented messages; want each", s.binary, s.pings, s.pongs, s.fragmented)
	}
	if s.closes[1000] == 0 || s.closes[demo.CodeCoffeeBreak] == 0 {
		t.Errorf("close codes %v, want 1000 (bots leaving at the end) and %d (dee's coffee break)", s.closes, demo.CodeCoffeeBreak)
	}
	if len(s.warnings) > 0 {
		t.Errorf("the demo's own traffic has warnings:\n%s", strings.Join(s.warnings, "\n"))
	}
}

func TestDemoInterrupt(t *testing.T) {
	// Ctrl-C: the bots say goodbye, the capture ends, and the pcapng file
	// is complete and valid. The timeline and the chat page are served
	// meanwhile.
	skipWithoutCapture(t)
	path := filepath.Join(t.TempDir(), "demo.pcapng")
	pr, pw := io.Pipe()
	var stderr syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run([]string{"demo", "--pace", "200ms", "-w", path}, pw, &stderr)
		pw.Close()
	}()
	urls := map[string]string{}
	lines := bufio.NewScanner(pr)
	for len(urls) < 2 && lines.Scan() {
		if name, url, ok := strings.Cut(lines.Text(), ":"); ok {
			urls[name] = strings.TrimSpace(url)
		}
	}
	go io.Copy(io.Discard, pr)
	if len(urls) < 2 {
		t.Fatalf("the demo printed %v before ending; stderr:\n%s", urls, stderr.String())
	}
	for name, url := range urls {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("GET %s page %s: %v", name, url, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s page %s = %s", name, url, resp.Status)
		}
	}
	time.Sleep(1500 * time.Millisecond)
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("wsviz demo exited %d after SIGINT; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("wsviz demo still running 15s after SIGINT")
	}
	n := countPackets(t, path) // fails on a truncated or invalid file
	events, err := analyze.ReadFile(path, analyze.Options{})
	if err != nil {
		t.Fatalf("ReadFile = %v", err)
	}
	s := showOf(events)
	if n == 0 || s.closes[1000] < 3 {
		t.Errorf("after SIGINT the file holds %d packets and %d closes with 1000; want the bots' goodbyes", n, s.closes[1000])
	}
	if !strings.Contains(stderr.String(), fmt.Sprintf("saved %d packets to %s", n, path)) {
		t.Errorf("stderr = %q, want the summary with %d saved packets", stderr.String(), n)
	}
}

const demoChildEnv = "WSVIZ_DEMO_PERMISSION_CHILD"

func TestDemoWithoutPermission(t *testing.T) {
	// Without CAP_NET_RAW the demo says why and how to fix it, and does
	// nothing else: no URL, no chat.
	const want = "wsviz demo: capture: cannot open lo: permission denied: run as root or `sudo setcap cap_net_raw,cap_net_admin+eip $(which wsviz)`\n"
	if os.Getenv(demoChildEnv) != "" {
		var stdout, stderr syncBuffer
		code := run([]string{"demo"}, &stdout, &stderr)
		fmt.Printf("CODE=%d\nSTDOUT=%q\nSTDERR=%q\n", code, stdout.String(), stderr.String())
		return
	}
	if _, err := live.Open("lo", live.Options{}); err != nil {
		// Already without permission: run it here.
		var stdout, stderr syncBuffer
		if code := run([]string{"demo"}, &stdout, &stderr); code != 1 || stdout.String() != "" || stderr.String() != want {
			t.Errorf("wsviz demo without permission = %d, stdout %q, stderr %q; want 1, nothing, %q", code, stdout.String(), stderr.String(), want)
		}
		return
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv not found: cannot drop CAP_NET_RAW to test the error")
	}
	cmd := exec.Command(setpriv, "--bounding-set=-net_raw,-net_admin", "--inh-caps=-net_raw,-net_admin",
		os.Args[0], "-test.run=^TestDemoWithoutPermission$")
	cmd.Env = append(os.Environ(), demoChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child without CAP_NET_RAW: %v\n%s", err, out)
	}
	wantOut := fmt.Sprintf("CODE=1\nSTDOUT=%q\nSTDERR=%q\n", "", want)
	if !strings.Contains(string(out), wantOut) {
		t.Errorf("wsviz demo without CAP_NET_RAW:\n%s\nwant:\n%s", out, wantOut)
	}
}
