package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/internal/echotest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenCaptures are the captures whose `wsviz events` output is pinned:
// the real loopback captures, one per warning code and one per way of
// carrying a session (IP fragments, tunnels).
func goldenCaptures(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"../../testdata/*.pcap*", "../../testdata/violations/*.pcap*", "../../testdata/encap/*.pcap", "../../testdata/h2/*.pcap*"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("found %d captures in testdata, want the shipped ones", len(files))
	}
	return files
}

// TestEventsGolden runs `wsviz events -r` on every shipped capture and
// compares the JSON Lines with NAME.golden beside it; go test -update
// rewrites them. The output is the contract scripts depend on.
func TestEventsGolden(t *testing.T) {
	t.Setenv("SSLKEYLOGFILE", "") // the goldens decode with the secrets the files carry, no others
	for _, file := range goldenCaptures(t) {
		name := strings.TrimPrefix(file, "../../testdata/")
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run([]string{"events", "-r", file}, &stdout, &stderr); code != 0 {
				t.Fatalf("wsviz events -r %s: exit %d: %s", file, code, stderr.String())
			}
			golden := strings.TrimSuffix(file, filepath.Ext(file)) + ".golden"
			if *update {
				if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/wsviz -run TestEventsGolden -update)", err)
			}
			if !bytes.Equal(stdout.Bytes(), want) {
				t.Errorf("wsviz events -r %s differs from %s:\n%s", file, golden, lineDiff(string(want), stdout.String()))
			}
			// Every line is a JSON object that reads back as an Event.
			for i, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
				var ev analyze.Event
				if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Type == "" || ev.Note == "" {
					t.Fatalf("line %d is not a full event (%v): %s", i+1, err, line)
				}
			}
		})
	}
}

// lineDiff shows the first lines that differ, with diff(1) when present.
func lineDiff(want, got string) string {
	dir, err := os.MkdirTemp("", "golden")
	if err == nil {
		defer os.RemoveAll(dir)
		w, g := filepath.Join(dir, "want"), filepath.Join(dir, "got")
		os.WriteFile(w, []byte(want), 0o644)
		os.WriteFile(g, []byte(got), 0o644)
		if out, _ := exec.Command("diff", "-u", w, g).CombinedOutput(); len(out) > 0 {
			if len(out) > 4000 {
				out = append(out[:4000], "\n..."...)
			}
			return string(out)
		}
	}
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n-" + w + "\n+" + g
		}
	}
	return ""
}

// TestEventsErrors checks what a user sees for bad input: a usage error,
// a file that is not a capture, and a capture cut in the middle of a
// record, whose earlier packets are still decoded before the error.
func TestEventsErrors(t *testing.T) {
	dir := t.TempDir()
	notCapture := filepath.Join(dir, "notes.txt")
	os.WriteFile(notCapture, []byte("hello, this is not a capture file at all\n"), 0o644)
	whole, err := os.ReadFile("../../testdata/demo.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcapng")
	os.WriteFile(cut, whole[:len(whole)*2/3], 0o644)

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
		wantEvents bool
	}{
		{"no source", []string{"events"}, 2, "give -r FILE (or -r - for standard input) or -i IFACE", false},
		{"both sources", []string{"events", "-r", cut, "-i", "lo"}, 2, "give exactly one", false},
		{"missing file", []string{"events", "-r", filepath.Join(dir, "nope.pcap")}, 1, "no such file", false},
		{"not a capture", []string{"events", "-r", notCapture}, 1, "not a pcap or pcapng file", false},
		{"cut in a record", []string{"events", "-r", cut}, 1, "byte offset", true},
		{"bad filter", []string{"events", "-r", cut, "port", "and"}, 2, `filter: "port and" at offset 5`, false},
		{"bad display filter", []string{"events", "-r", cut, "-Y", "lenn > 3"}, 2, "-Y: display filter: offset 0: unknown field \"lenn\"", false},
		{"bad format", []string{"events", "-r", cut, "-T", "pdml"}, 2, "the formats are json and text", false},
		{"bad conn", []string{"events", "-r", cut, "--conn", "0"}, 2, "connections count from 1", false},
		{"-w with -Y on stdin", []string{"events", "-r", "-", "-w", filepath.Join(dir, "x.pcapng"), "-Y", "conn == 1"}, 2, "give a file, not -r -", false},
		{"-w with ui -r", []string{"ui", "-r", cut, "-w", filepath.Join(dir, "x.pcapng")}, 2, "cut packets out of a file with wsviz events", false},
		{"--duration without -i", []string{"events", "-r", cut, "--duration", "1s"}, 2, "--duration needs -i", false},
		{"flag before the command", []string{"-r", cut}, 2, "flags come after the command", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr)
			if code != tc.wantCode || !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("wsviz %v = exit %d, stderr %q; want exit %d with %q", tc.args, code, stderr.String(), tc.wantCode, tc.wantStderr)
			}
			if got := stdout.Len() > 0; got != tc.wantEvents {
				t.Errorf("wsviz %v printed events: %v, want %v", tc.args, got, tc.wantEvents)
			}
			if tc.wantEvents && !strings.Contains(stdout.String(), `"type":"ws.message"`) {
				t.Errorf("wsviz %v: no message decoded before the cut", tc.args)
			}
		})
	}
}

// TestFileShortcut checks that "wsviz FILE" is "wsviz ui -r FILE": the
// command is dispatched to ui (which then fails on purpose here, on a bad
// flag value, so that no server starts).
func TestFileShortcut(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"no-such-capture.pcap"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "wsviz: no-such-capture.pcap: no such file") {
		t.Errorf("wsviz no-such-capture.pcap = exit %d, %q; want no such file", code, stderr.String())
	}
	stderr.Reset()
	code = run([]string{"evnets"}, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), `unknown command "evnets"`) {
		t.Errorf("wsviz evnets = exit %d, %q; want unknown command", code, stderr.String())
	}
	dir := t.TempDir()
	notCapture := filepath.Join(dir, "x.pcap")
	os.WriteFile(notCapture, []byte("not a capture"), 0o644)
	stderr.Reset()
	code = run([]string{notCapture}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "wsviz ui:") || !strings.Contains(stderr.String(), "not a pcap or pcapng file") {
		t.Errorf("wsviz %s = exit %d, %q; want the ui command's error about the file", notCapture, code, stderr.String())
	}
}

// TestEventsLive runs the command a user types, `wsviz events -i lo
// --duration D tcp port P`, while a gorilla client talks to an echo server
// on port P: every message appears exactly once, nothing from another
// port, and the stream ends with capture.stats. Standard error says when
// the capture is open, and at the end what it captured.
func TestEventsLive(t *testing.T) {
	// Probe the permission the way the command will, skipping without it
	// (outside CI).
	probe := openLiveOrSkip(t, []string{"-i", "lo"}, liveOptions{}, io.Discard)
	probe.Close()

	port, url := echotest.Server(t, true)
	_, other := echotest.Server(t, false) // traffic the filter must leave out
	var stdout, stderr syncBuffer
	done := make(chan int)
	go func() {
		done <- run([]string{"events", "-i", "lo", "--duration", "3s", "tcp", "port", strconv.Itoa(port)}, &stdout, &stderr)
	}()
	// The capture says when it is open, as tcpdump's "listening on" does:
	// the traffic starts after that line, not after a guessed delay.
	waitUntil(t, "the line that says the capture is open", func() bool { return strings.Contains(stderr.String(), "\n") })
	first, _, _ := strings.Cut(stderr.String(), "\n")
	if want := fmt.Sprintf("wsviz: capturing on lo (tcp port %d), link-type Ethernet, snapshot length 262144 bytes; stops after 3s or at Ctrl-C", port); first != want {
		t.Errorf("stderr's first line = %q, want %q", first, want)
	}
	conn := echotest.Dial(t, url, true)
	sent := converse(t, conn, "live", 20)
	converse(t, echotest.Dial(t, other, false), "elsewhere", 5)
	conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"))
	if code := <-done; code != 0 {
		t.Fatalf("wsviz events -i lo: exit %d: %s", code, stderr.String())
	}
	var events []analyze.Event
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var ev analyze.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		events = append(events, ev)
	}
	counts := messageCounts(events)
	for _, m := range sent {
		if counts["client:"+m] != 1 || counts["server:re:"+m] != 1 {
			t.Errorf("message %q seen %d times from the client and its echo %d times, want once each", m, counts["client:"+m], counts["server:re:"+m])
		}
	}
	for k := range counts {
		if strings.Contains(k, "elsewhere") {
			t.Errorf("message %q from another port was captured", k)
		}
	}
	last := events[len(events)-1]
	if last.Type != analyze.TypeCaptureStats || last.Capture.Packets == 0 || last.Capture.Drops != 0 {
		t.Errorf("last event = %s %+v, want capture.stats with packets and no drops", last.Type, last.Capture)
	}
	if !strings.Contains(stderr.String(), "0 dropped by the kernel") {
		t.Errorf("stderr = %q, want the summary", stderr.String())
	}
}

// TestEventsLiveNothingCaptured: a live capture that sees no packet still
// says when it opened and ends with one capture.stats, dated when the
// capture stopped (not the zero time: there was no packet to take one
// from); -q leaves standard error empty.
func TestEventsLiveNothingCaptured(t *testing.T) {
	probe := openLiveOrSkip(t, []string{"-i", "lo"}, liveOptions{}, io.Discard)
	probe.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0") // a port nothing talks to
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	for _, quiet := range []bool{false, true} {
		args := []string{"events", "-i", "lo", "--duration", "300ms", "tcp", "port", strconv.Itoa(port)}
		if quiet {
			args = append(args, "-q")
		}
		var stdout, stderr syncBuffer
		start := time.Now()
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("wsviz %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
		}
		end := time.Now()
		var ev analyze.Event
		if err := json.Unmarshal([]byte(strings.TrimSpace(stdout.String())), &ev); err != nil {
			t.Fatalf("stdout = %q, want one event: %v", stdout.String(), err)
		}
		if ev.Type != analyze.TypeCaptureStats || ev.Capture.Packets != 0 || ev.Time.Before(start.Add(-time.Second)) || ev.Time.After(end.Add(time.Second)) {
			t.Errorf("quiet=%v: the one event = %s at %v, want capture.stats of 0 packets between %v and %v", quiet, ev.Type, ev.Time, start, end)
		}
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		switch {
		case quiet && stderr.String() != "":
			t.Errorf("with -q, stderr = %q, want nothing", stderr.String())
		case !quiet && (len(lines) != 2 || !strings.HasPrefix(lines[0], "wsviz: capturing on lo (tcp port ") || !strings.HasSuffix(lines[0], "; stops after 300ms or at Ctrl-C") || !strings.HasPrefix(lines[1], "wsviz: captured 0 packets")):
			t.Errorf("stderr = %q, want the line that says the capture opened, then the summary", stderr.String())
		}
	}
}
