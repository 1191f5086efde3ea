package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/display"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
)

const demoCapture = "../../testdata/demo.pcapng"

// TestEventsTextGolden pins `wsviz events -T text` on every shipped
// capture: NAME.text.golden beside NAME.pcapng (go test -update rewrites).
func TestEventsTextGolden(t *testing.T) {
	for _, file := range goldenCaptures(t) {
		name := strings.TrimPrefix(file, "../../testdata/")
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runWsviz("events", "-r", file, "-T", "text")
			if code != 0 {
				t.Fatalf("wsviz events -T text -r %s: exit %d: %s", file, code, stderr)
			}
			golden := strings.TrimSuffix(file, filepath.Ext(file)) + ".text.golden"
			if *update {
				if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/wsviz -run TestEventsTextGolden -update)", err)
			}
			if stdout != string(want) {
				t.Errorf("wsviz events -T text -r %s differs from %s:\n%s", file, golden, lineDiff(string(want), stdout))
			}
			// As many lines as events, none with a control character
			// (payloads are escaped), no colour when not a terminal.
			_, jsonOut, _ := runWsviz("events", "-r", file)
			if got, want := strings.Count(stdout, "\n"), strings.Count(jsonOut, "\n"); got != want {
				t.Errorf("%d text lines for %d events", got, want)
			}
			if i := strings.IndexFunc(strings.ReplaceAll(stdout, "\n", ""), func(r rune) bool { return r < ' ' || r == 0x7f }); i >= 0 {
				t.Errorf("text output has a control character at %d", i)
			}
		})
	}
}

func TestAppendEscaped(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain {\"json\": 1}", "plain {\"json\": 1}"},
		{"two\nlines\r\tx", `two\nlines\r\tx`},
		{"\x1b[31mred", `\x1b[31mred`},
		{"bad \xff utf8", `bad \xff utf8`},
		{"bidi \u202egnp.exe", `bidi \u202egnp.exe`},
		{"héllo wörld", "héllo wörld"},
	}
	for _, tc := range tests {
		if got := string(appendEscaped(nil, tc.in, 0)); got != tc.want {
			t.Errorf("appendEscaped(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := string(appendEscaped(nil, "abcdef", 3)); got != "abc…" {
		t.Errorf("appendEscaped(abcdef, 3) = %q", got)
	}
}

// decodeLines parses JSON Lines into events.
func decodeLines(t *testing.T, out string) []analyze.Event {
	t.Helper()
	var events []analyze.Event
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var ev analyze.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		events = append(events, ev)
	}
	return events
}

// TestDisplayFilterCommand checks -Y and --conn on events: the lines
// printed are exactly the events of the whole output that the filter
// matches, flags may come after the packet filter, and a bad expression
// is a usage error with a caret.
func TestDisplayFilterCommand(t *testing.T) {
	code, all, stderr := runWsviz("events", "-r", demoCapture)
	if code != 0 {
		t.Fatal(stderr)
	}
	events := decodeLines(t, all)
	tests := []struct {
		name string
		args []string
		expr string // what the kept events match
	}{
		{"-Y", []string{"events", "-r", demoCapture, "-Y", `type == "ws.message" && from == "client" && len > 50`}, `type == "ws.message" && from == "client" && len > 50`},
		{"-Y after the filter", []string{"events", "tcp", "port", "36065", "-r", demoCapture, "-Y", `conn in {2 3} && type == ws.message`}, `conn in {2 3} && type == ws.message`},
		{"--conn", []string{"events", "-r", demoCapture, "--conn", "2,4"}, `conn in {2 4}`},
		{"--conn and -Y", []string{"events", "--conn", "1-2", "-Y", `text contains "hi"`, "-r", demoCapture}, `conn in {1..2} && text contains "hi"`},
		{"-- ends the flags", []string{"events", "-r", demoCapture, "-Y", "opcode == ping", "--", "tcp"}, "opcode == ping"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runWsviz(tc.args...)
			if code != 0 {
				t.Fatalf("wsviz %q: exit %d: %s", tc.args, code, stderr)
			}
			f, err := display.Compile(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for i := range events {
				if f.Match(&events[i]) {
					want = append(want, string(events[i].AppendJSON(nil)))
				}
			}
			got := strings.Split(strings.TrimSpace(out), "\n")
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf("wsviz %q printed %d events, want the %d of the whole output that match %q", tc.args, len(got), len(want), tc.expr)
			}
		})
	}
	code, _, stderr = runWsviz("events", "-r", demoCapture, "-Y", `type == "ws.message" && lenn > 3`)
	want := "wsviz events: -Y: display filter: offset 24: unknown field \"lenn\""
	caret := "  type == \"ws.message\" && lenn > 3\n                          ^\n"
	if code != 2 || !strings.Contains(stderr, want) || !strings.HasSuffix(stderr, caret) {
		t.Errorf("bad -Y: exit %d, stderr %q; want 2, %q and the caret", code, stderr, want)
	}
}

// TestCountWithFile checks -c with -r: only the first N packets that pass
// the packet filter are decoded.
func TestCountWithFile(t *testing.T) {
	code, out, stderr := runWsviz("events", "-r", demoCapture, "-c", "20")
	if code != 0 {
		t.Fatal(stderr)
	}
	events := decodeLines(t, out)
	var maxPacket int64
	for _, ev := range events {
		maxPacket = max(maxPacket, ev.Packet)
	}
	if maxPacket != 20 {
		t.Errorf("-c 20: the last event is of packet %d, want 20", maxPacket)
	}
	code, out, _ = runWsviz("stats", "-r", demoCapture, "-c", "7", "-T", "json")
	var r statsReport
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil || r.Totals.Packets != 7 {
		t.Errorf("stats -c 7: exit %d, %v, %d packets; want 7", code, err, r.Totals.Packets)
	}
}

// TestHARExitStatus checks the two bugs of issue 14: har -o exited 0 on a
// missing file and on a truncated one.
func TestHARExitStatus(t *testing.T) {
	dir := t.TempDir()
	whole, err := os.ReadFile(demoCapture)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcapng")
	os.WriteFile(cut, whole[:len(whole)*2/3], 0o644)

	out := filepath.Join(dir, "missing.har")
	code, _, stderr := runWsviz("har", "-r", filepath.Join(dir, "nope.pcap"), "-o", out)
	if code != 1 || !strings.Contains(stderr, "no such file") {
		t.Errorf("har -r missing -o: exit %d, %q; want 1 and no such file", code, stderr)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("har -r missing -o %s created the output (%v)", out, err)
	}

	for _, withO := range []bool{true, false} {
		out := filepath.Join(dir, "cut.har")
		args := []string{"har", "-r", cut}
		if withO {
			args = append(args, "-o", out)
		}
		code, stdout, stderr := runWsviz(args...)
		if code != 1 || !strings.Contains(stderr, "writing what was decoded before it") {
			t.Errorf("wsviz %q: exit %d, %q; want 1 and the reason", args, code, stderr)
		}
		data := []byte(stdout)
		if withO {
			data, _ = os.ReadFile(out)
		}
		var h struct {
			Log struct{ Entries []json.RawMessage }
		}
		if err := json.Unmarshal(data, &h); err != nil || len(h.Log.Entries) == 0 {
			t.Errorf("wsviz %q: the HAR of what came before the cut is missing (%v)", args, err)
		}
	}
}

func TestVersion(t *testing.T) {
	want := "wsviz " + versionString() + " go"
	for _, arg := range []string{"version", "--version"} {
		code, stdout, stderr := runWsviz(arg)
		if code != 0 || !strings.HasPrefix(stdout, want) || stderr != "" {
			t.Errorf("wsviz %s = exit %d, %q, %q; want %q...", arg, code, stdout, stderr, want)
		}
	}
	// HAR's creator says the same.
	code, stdout, _ := runWsviz("har", "-r", demoCapture)
	var h struct {
		Log struct {
			Creator struct{ Name, Version string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &h); code != 0 || err != nil || h.Log.Creator.Version != versionString() {
		t.Errorf("HAR creator = %+v (%v), want version %q", h.Log.Creator, err, versionString())
	}
}

func TestDescribeBuild(t *testing.T) {
	info := &debug.BuildInfo{}
	info.Main.Version = "v1.2.3"
	if got := describeBuild(info); got != "v1.2.3" {
		t.Errorf("describeBuild(v1.2.3) = %q", got)
	}
	info.Main.Version = ""
	info.Settings = append(info.Settings,
		debug.BuildSetting{Key: "vcs.revision", Value: "7ca17b0d4a5e9f0011223344556677889900aabb"},
		debug.BuildSetting{Key: "vcs.time", Value: "2026-11-30T01:54:31Z"},
		debug.BuildSetting{Key: "vcs.modified", Value: "true"})
	if got, want := describeBuild(info), "(devel) commit 7ca17b0d4a5e 2026-11-30T01:54:31Z modified"; got != want {
		t.Errorf("describeBuild = %q, want %q", got, want)
	}
}

func TestListInterfaces(t *testing.T) {
	code, stdout, stderr := runWsviz("-D")
	if code != 0 || !regexp.MustCompile(`(?m)^\d+\. lo \(127\.0\.0\.1/8.*\) \[up, running, loopback\]$`).MatchString(stdout) ||
		!regexp.MustCompile(`(?m)^\d+\. any `).MatchString(stdout) {
		t.Errorf("wsviz -D = exit %d, %q, %q; want lo with its address, and any", code, stdout, stderr)
	}
}

// TestStdin feeds captures to `wsviz events -r -` on standard input, as
// `tcpdump -w - | wsviz events -r -` does: pcapng, pcap, and gzip.
func TestStdin(t *testing.T) {
	pcap, err := filepath.Glob("../../testdata/violations/*.pcap")
	if err != nil || len(pcap) == 0 {
		t.Fatalf("no pcap capture in testdata/violations (%v)", err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	demo, _ := os.ReadFile(demoCapture)
	zw.Write(demo)
	zw.Close()
	tests := []struct {
		name  string
		input []byte
		file  string // whose output it must equal
	}{
		{"pcapng", demo, demoCapture},
		{"pcap", must(os.ReadFile(pcap[0])), pcap[0]},
		{"gzip", gz.Bytes(), demoCapture},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, want, _ := runWsviz("events", "-r", tc.file)
			cmd := wsvizCommand(t, "events", "-r", "-")
			cmd.Stdin = bytes.NewReader(tc.input)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || string(out) != want || want == "" {
				t.Errorf("wsviz events -r - < %s: %v, %s; %d bytes, want the %d of -r %s", tc.name, err, stderr.String(), len(out), len(want), tc.file)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestClosedStdout: a reader that goes away (wsviz events | head -1)
// ends wsviz quietly with status 0; another write error (a full disk)
// still fails with status 1.
func TestClosedStdout(t *testing.T) {
	big := bigCapture(t)
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			cmd := wsvizCommand(t, "events", "-r", big, "-T", format)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil || line == "" {
				t.Fatalf("first line: %q, %v", line, err)
			}
			stdout.Close() // head -1 exits
			err = cmd.Wait()
			if err != nil || stderr.Len() != 0 {
				t.Errorf("wsviz events -T %s | head -1: %v, stderr %q; want status 0 and silence", format, err, stderr.String())
			}
		})
	}
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	cmd := wsvizCommand(t, "events", "-r", demoCapture)
	cmd.Stdout = full
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "no space left on device") {
		t.Errorf("wsviz events > /dev/full: %v, %q; want status 1 and the error", err, stderr.String())
	}
}

// bigCapture returns a capture with more output than a pipe holds: the
// demo capture's packets repeated, shifted in time (connections reopen on
// the same ports after their close, so each copy decodes again).
func bigCapture(t *testing.T) string {
	t.Helper()
	f, err := capture.OpenFile(demoCapture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var packets []capture.Packet
	for {
		p, err := f.ReadPacket()
		if err != nil {
			break
		}
		p.Data = slices.Clone(p.Data)
		packets = append(packets, p)
	}
	path := filepath.Join(t.TempDir(), "big.pcapng")
	out, err := newPcapngCut(path, f)
	if err != nil {
		t.Fatal(err)
	}
	span := packets[len(packets)-1].Timestamp.Sub(packets[0].Timestamp) + time.Second
	for i := range 40 {
		for _, p := range packets {
			p.Timestamp = p.Timestamp.Add(time.Duration(i) * span)
			if err := out.write(&p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := out.close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestProgress runs wsviz with its standard error on a pseudo-terminal:
// the progress line is drawn (bytes, percent, rate) and erased; with -q,
// with stderr not a terminal, and with standard input, nothing is drawn.
func TestProgress(t *testing.T) {
	big := bigCapture(t)
	runPTY := func(args ...string) string {
		t.Helper()
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Skipf("no pseudo-terminal: %v", err)
		}
		defer ptmx.Close()
		cmd := wsvizCommand(t, args...)
		cmd.Stdout = io.Discard
		cmd.Stderr = tty
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		tty.Close()
		var out bytes.Buffer
		done := make(chan struct{})
		go func() { io.Copy(&out, ptmx); close(done) }() // ends with EIO once the child exits
		if err := cmd.Wait(); err != nil {
			t.Errorf("wsviz %q: %v", args, err)
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the pseudo-terminal never closed")
		}
		return out.String()
	}
	got := runPTY("events", "-r", big)
	size := byteSize(must(os.Stat(big)).Size())
	if !strings.Contains(got, "wsviz: "+size+" of "+size+" (100.0%)") || !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("progress on a terminal = %q; want the line at 100%% of %s, then erased", got, size)
	}
	if got := runPTY("stats", "-r", big); !strings.Contains(got, "(100.0%)") {
		t.Errorf("stats: progress = %q", got)
	}
	if got := runPTY("events", "-r", big, "-q"); got != "" {
		t.Errorf("with -q: %q on the terminal, want nothing", got)
	}
	cmd := wsvizCommand(t, "events", "-r", big)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() != 0 {
		t.Errorf("stderr not a terminal: %v, %q; want nothing", err, stderr.String())
	}
}

func TestProgressLine(t *testing.T) {
	tests := []struct {
		read, total int64
		elapsed     time.Duration
		want        string
	}{
		{0, 2_100_000_000, 0, "wsviz: 0 B of 2.10 GB (0.0%)"},
		{312_400_000, 2_100_000_000, 2600 * time.Millisecond, "wsviz: 312 MB of 2.10 GB (14.9%), 120 MB/s, 15s left"},
		{950, 950, time.Second, "wsviz: 950 B of 950 B (100.0%), 950 B/s"},
	}
	for _, tc := range tests {
		if got := progressLine(tc.read, tc.total, tc.elapsed); got != tc.want {
			t.Errorf("progressLine(%d, %d, %v) = %q, want %q", tc.read, tc.total, tc.elapsed, got, tc.want)
		}
	}
}

// requireTshark returns tshark's path, skipping without it outside CI
// (.ci/run installs it).
func requireTshark(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark is not installed (.ci/run installs it)")
		}
		t.Skip("tshark is not installed")
	}
	return path
}

// readPackets reads every packet of a capture file with the interface's
// link type and snap length.
type savedPacket struct {
	Timestamp time.Time
	Data      string
	Length    int
	LinkType  uint32
}

func readPackets(t *testing.T, path string) []savedPacket {
	t.Helper()
	f, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []savedPacket
	for {
		p, err := f.ReadPacket()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, savedPacket{p.Timestamp, string(p.Data), p.Length, f.Interfaces()[p.Interface].LinkTypeNumber})
	}
}

// cutCaptures are the captures TestCutMatchesTshark cuts: several
// connections each, one of them a pcap from another tool.
func cutCaptures(t *testing.T) []string {
	files := []string{demoCapture, "../../testdata/chromium.pcapng"}
	corpus, _ := filepath.Glob("../../../shared/corpus/*/*.pcap*")
	for _, f := range corpus {
		if !strings.HasSuffix(f, ".tsv") {
			files = append(files, f)
		}
	}
	return files
}

// TestCutMatchesTshark cuts connections out of captures with
// `wsviz events -r IN -w OUT --conn N` and checks that OUT holds exactly
// the packets of tshark's tcp.stream N-1 (tshark numbers streams from 0,
// wsviz connections from 1): same timestamps, bytes, lengths and link
// types, in the same order. For the demo capture OUT is compared with
// tshark's own export, `tshark -r IN -Y tcp.stream==N-1 -w`; for the
// others with the packets tshark assigns to the stream (tshark -T fields,
// one run per capture: each run takes seconds). wsviz stats' packets per
// connection are checked against the same streams, as tshark -z conv,tcp
// counts them.
func TestCutMatchesTshark(t *testing.T) {
	tshark := requireTshark(t)
	dir := t.TempDir()
	for _, file := range cutCaptures(t) {
		name := filepath.Base(file)
		code, out, stderr := runWsviz("stats", "-r", file, "-T", "json", "-q")
		var r statsReport
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("stats -r %s: exit %d %v %s", file, code, err, stderr)
		}
		fields, err := exec.Command(tshark, "-r", file, "-T", "fields", "-e", "frame.number", "-e", "tcp.stream").Output()
		if err != nil {
			t.Fatalf("tshark -T fields: %v", err)
		}
		streams := map[int][]int{} // stream → frame numbers
		var order []int            // streams in order of their first frame
		for _, line := range strings.Split(strings.TrimSpace(string(fields)), "\n") {
			frame, stream, ok := strings.Cut(line, "\t")
			if !ok || stream == "" {
				continue
			}
			s, _ := strconv.Atoi(stream)
			f, _ := strconv.Atoi(frame)
			if streams[s] == nil {
				order = append(order, s)
			}
			streams[s] = append(streams[s], f)
		}
		all := readPackets(t, file)
		if len(r.Connections) != len(order) {
			t.Errorf("%s: %d connections, tshark %d streams", name, len(r.Connections), len(streams))
		}
		for i, c := range r.Connections {
			if i < len(order) && int64(len(streams[order[i]])) != c.Packets.total() {
				t.Errorf("%s: stats counts %d packets in connection %d, tshark %d in its stream", name, c.Packets.total(), c.Conn, len(streams[order[i]]))
			}
			if i >= 5 && i < len(r.Connections)-5 {
				continue // cutting is checked on the first and last five
			}
			t.Run(name+"/conn"+strconv.Itoa(c.Conn), func(t *testing.T) {
				ours := filepath.Join(dir, name+".wsviz.pcapng")
				code, _, stderr := runWsviz("events", "-r", file, "-w", ours, "--conn", strconv.Itoa(c.Conn), "-q")
				if code != 0 {
					t.Fatalf("wsviz events -w --conn %d: exit %d: %s", c.Conn, code, stderr)
				}
				// Stream numbers are usually conn-1, but tshark may skip
				// one (a TCP header quoted in an ICMP error opens a
				// stream of no frame of its own): match them in order.
				if c.Conn > len(order) {
					t.Fatalf("conn %d, but tshark has %d streams", c.Conn, len(order))
				}
				stream := order[c.Conn-1]
				var want []savedPacket
				for _, f := range streams[stream] {
					want = append(want, all[f-1])
				}
				if file == demoCapture && c.Conn == 2 {
					theirs := filepath.Join(dir, name+".tshark.pcapng")
					if msg, err := exec.Command(tshark, "-r", file, "-Y", "tcp.stream=="+strconv.Itoa(stream), "-w", theirs, "-F", "pcapng").CombinedOutput(); err != nil {
						t.Fatalf("tshark: %v: %s", err, msg)
					}
					want = readPackets(t, theirs)
				}
				got := readPackets(t, ours)
				if len(want) == 0 || int64(len(got)) != c.Packets.total() {
					t.Errorf("--conn %d saved %d packets; tshark %d, stats %d", c.Conn, len(got), len(want), c.Packets.total())
				}
				if !slices.Equal(got, want) {
					t.Errorf("--conn %d: the %d packets saved differ from tshark's %d", c.Conn, len(got), len(want))
				}
			})
		}
	}
	// -Y selects the connections with a matching event: here the one whose
	// path names dee.
	ours := filepath.Join(dir, "dee.pcapng")
	theirs := filepath.Join(dir, "dee.tshark.pcapng")
	code, _, stderr := runWsviz("events", "-r", demoCapture, "-w", ours, "-Y", `path contains "dee"`)
	if code != 0 || !strings.Contains(stderr, "of the 1 connection with an event matching -Y") {
		t.Fatalf("events -w -Y: exit %d, %q", code, stderr)
	}
	if msg, err := exec.Command(tshark, "-r", demoCapture, "-Y", `tcp.stream==1`, "-w", theirs).CombinedOutput(); err != nil {
		t.Fatalf("tshark: %v: %s", err, msg)
	}
	if got, want := readPackets(t, ours), readPackets(t, theirs); len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("-Y 'path contains \"dee\"' saved %d packets, tshark's stream 1 has %d", len(got), len(want))
	}
	// Without a selection: every packet that passes the packet filter and -c.
	code, _, _ = runWsviz("events", "-r", demoCapture, "-w", ours, "-c", "30", "tcp", "port", "36065")
	if got := readPackets(t, ours); code != 0 || len(got) != 30 {
		t.Errorf("-w -c 30: %d packets, want 30", len(got))
	}
}

// TestCutLinkTypes cuts a connection out of captures of link types whose
// numbers differ from their low 8 bits' meaning: Linux cooked capture v2
// (LINKTYPE 276, what tcpdump -i any writes with libpcap 1.10) and Apple's
// PKTAP (258, tcpdump -i pktap on macOS, rvi0) are saved with their own
// numbers and packets, as tshark reads them; a number wsviz cannot
// represent is refused with a clear error, not saved as another link type.
func TestCutLinkTypes(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		link   capture.LinkType
		number uint32
		field  string // one tshark reads from the link header
	}{
		{"sll2", capture.LinkTypeLinuxSLL2, 276, "sll.ifindex"},
		{"pktap", capture.LinkTypePKTAP, 258, "pktap.ifname"},
	} {
		c := capturetest.NewCapture(capturetest.Options{LinkType: tc.link})
		k := c.Conn("10.0.0.1:40000", "10.0.0.2:80")
		k.Handshake()
		k.Client([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		k.Server([]byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
		k.CloseFIN(true)
		in, out := filepath.Join(dir, tc.name+".pcap"), filepath.Join(dir, tc.name+"-cut.pcapng")
		if err := c.WriteFile(in); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runWsviz("events", "-r", in, "-w", out, "--conn", "1", "-q")
		if code != 0 {
			t.Fatalf("events -w --conn 1 on %s: exit %d: %s", tc.name, code, stderr)
		}
		want, got := readPackets(t, in), readPackets(t, out)
		if len(want) == 0 || want[0].LinkType != tc.number || !slices.Equal(got, want) {
			t.Errorf("saved %v, want the capture's %d packets of link type %d unchanged", got, len(want), tc.number)
		}
		if tshark, err := exec.LookPath("tshark"); err == nil {
			fields, err := exec.Command(tshark, "-r", out, "-T", "fields", "-e", tc.field, "-e", "tcp.srcport").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			if lines := strings.Split(strings.TrimSpace(string(fields)), "\n"); len(lines) != len(want) || !regexp.MustCompile(`^\S+\t40000$`).MatchString(lines[0]) {
				t.Errorf("tshark reads the cut as %q, want %d %s packets of TCP from port 40000", fields, len(want), tc.name)
			}
		}
	}

	// LINKTYPE 257: its low 8 bits are Ethernet's 1; 2, unassigned, is
	// what PKTAP's 258 is held as.
	for _, number := range []uint16{257, 2} {
		ng := capturetest.NewCapture(capturetest.Options{NG: true})
		ng.Conn("10.0.0.1:40000", "10.0.0.2:80").Handshake()
		data := ng.Bytes()
		// The first interface description block follows the section header
		// block (its length at offset 4): its link type is the 16 bits after
		// its type and length.
		idb := int(binary.LittleEndian.Uint32(data[4:]))
		if binary.LittleEndian.Uint32(data[idb:]) != 1 || binary.LittleEndian.Uint16(data[idb+8:]) != 1 {
			t.Fatalf("capturetest's pcapng does not start with an Ethernet interface block")
		}
		binary.LittleEndian.PutUint16(data[idb+8:], number)
		in := filepath.Join(dir, fmt.Sprintf("%d.pcapng", number))
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runWsviz("events", "-r", in, "-w", filepath.Join(dir, fmt.Sprintf("%d-cut.pcapng", number)), "-q")
		if code == 0 || !strings.Contains(stderr, fmt.Sprintf("cannot save packets of link type %d", number)) {
			t.Errorf("events -w on LINKTYPE %d: exit %d, %q; want an error naming the link type", number, code, stderr)
		}
	}
}

// tsharkAddr writes "[::1]:80" as tshark's conversation table does, "::1:80".
func tsharkAddr(s string) string {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return s
	}
	return ap.Addr().String() + ":" + strconv.Itoa(int(ap.Port()))
}

// TestStatsGolden pins the table of wsviz stats on the demo capture.
func TestStatsGolden(t *testing.T) {
	code, stdout, stderr := runWsviz("stats", "-r", demoCapture)
	if code != 0 {
		t.Fatal(stderr)
	}
	golden := "testdata/demo.stats.golden"
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(golden, []byte(stdout), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./cmd/wsviz -run TestStatsGolden -update)", err)
	}
	if stdout != string(want) {
		t.Errorf("wsviz stats differs from %s:\n%s", golden, lineDiff(string(want), stdout))
	}
	// -Y keeps the connections with a matching event.
	code, stdout, _ = runWsviz("stats", "-r", demoCapture, "-T", "json", "-Y", `path contains "ada"`)
	var r statsReport
	if err := json.Unmarshal([]byte(stdout), &r); code != 0 || err != nil || len(r.Connections) != 1 || r.Connections[0].Path != "/ws?name=ada" {
		t.Errorf("stats -Y: %d connections (%v), want ada's", len(r.Connections), err)
	}
}

// TestStatsStates: wsviz stats names each connection's state as the
// timeline's connections table does (ui.ConnState): plain HTTP page loads
// are http (stats once called them rejected), TLS without keys tls,
// damaged connections gap, WebSockets found mid-stream midstream, HTTP/2
// connections h2 (over TLS with ALPN h2, cleartext with prior knowledge,
// after a 101 to h2c), and the WebSocket endings.
func TestStatsStates(t *testing.T) {
	for file, want := range map[string]string{
		"../../testdata/python-chromium.pcapng":                "tcp http http tcp closed",
		"../../testdata/firefox-wss.pcapng":                    "tcp h2 reset",
		"../../testdata/wss.pcapng":                            strings.TrimSpace(strings.Repeat("tls ", 10)),
		"../../testdata/h2/h2-tls.pcapng":                      "h2",
		"../../testdata/h2/h2c.pcap":                           "h2 h2",
		"../../testdata/violations/tcp.gap.pcap":               "gap",
		"../../testdata/violations/ws.midstream.pcap":          "midstream",
		"../../testdata/violations/http.upgrade_rejected.pcap": "rejected",
		"../../testdata/violations/ws.incomplete.pcap":         "ended",
		"../../testdata/violations/tcp.buffer_limit.pcap":      "unclean",
		"../../testdata/violations/tcp.port_reused.pcap":       "open closed",
	} {
		code, stdout, stderr := runWsviz("stats", "-r", file, "-T", "json")
		var r statsReport
		if err := json.Unmarshal([]byte(stdout), &r); code != 0 || err != nil {
			t.Fatalf("wsviz stats -r %s: exit %d, %v: %s", file, code, err, stderr)
		}
		var got []string
		for _, c := range r.Connections {
			got = append(got, c.State)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("wsviz stats -r %s: states %v, want %s", file, got, want)
		}
	}
}

// TestTextColour: -T text is coloured when standard output is a terminal,
// and not with NO_COLOR or into a file (TestEventsTextGolden).
func TestTextColour(t *testing.T) {
	for _, noColor := range []bool{false, true} {
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Skipf("no pseudo-terminal: %v", err)
		}
		cmd := wsvizCommand(t, "events", "-r", demoCapture, "-T", "text", "-c", "12")
		if noColor {
			cmd.Env = append(cmd.Env, "NO_COLOR=1")
		}
		cmd.Stdout = tty
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		tty.Close()
		var out bytes.Buffer
		done := make(chan struct{})
		go func() { io.Copy(&out, ptmx); close(done) }()
		if err := cmd.Wait(); err != nil {
			t.Errorf("wsviz events -T text on a terminal: %v", err)
		}
		<-done
		ptmx.Close()
		coloured := strings.Contains(out.String(), colGreen+"ws.message")
		if coloured == noColor || !strings.Contains(out.String(), "ws.message") {
			t.Errorf("NO_COLOR=%v: coloured %v in %q", noColor, coloured, out.String())
		}
	}
}
