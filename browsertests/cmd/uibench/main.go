// Command uibench measures the wsviz timeline page at scale: it writes the
// synthetic captures of internal/bench (200 connections × 2,000 messages,
// "1x", about 320 MB; "4x" and "10x" have 4 and 10 times the messages),
// serves each with the real `wsviz ui -r` binary in a child process, opens
// the page in headless Chromium at once (while the capture is still being
// decoded) and reports:
//
//   - first marks: when the timeline first drew a mark, in ms after the
//     navigation started, and whether the server was still decoding then
//     (the progress the page showed);
//   - where the time to the first marks went: the page, its files, the
//     page's own marks (wsviz:boot, app, ws-open, status, conns,
//     tiles-asked, tiles-answered, first-marks) and each request before
//     them with the time the server spent on it (its Server-Timing);
//   - whole axis: when the page's timeline covered the whole capture (the
//     server had read it all and the page drew the last of it);
//   - frame times while panning at fit-all, panning zoomed in ×50, and
//     zooming from fit-all into a single message and back, and panning at
//     each zoom level from fit-all down to one message (each stop 8 times
//     narrower): the interval between animation frames (what a user sees)
//     and the time the timeline spent drawing, as p50/p95/max;
//   - the server's peak RSS (VmHWM of the wsviz process), the page's JS
//     heap, the size of the server's temporary files (the spill) before it
//     exits, and whether it left any behind;
//   - the machine's load average before and after, since the machine is
//     shared and its speed drifts, and how long the run took;
//   - for each target of issue 13, met or NOT MET over the runs.
//
// Usage:
//
//	cd browsertests && go run ./cmd/uibench                     # 1x, 4x, 10x, one run each
//	go run ./cmd/uibench -captures 1x,10x -runs 3 -dir /tmp/caps # keep the captures, three runs each
//	go run ./cmd/uibench -file some.pcapng                       # any capture
//	go run ./cmd/uibench -captures 1x -serve                     # only serve, to look at it yourself
//	go run ./cmd/uibench -captures 1x -runs 5 -startup           # only the first marks and their breakdown
//	go run ./cmd/uibench -captures 1x -runs 6 -startup -wsviz /tmp/a,/tmp/b # two builds, in turn
//
// Captures already in -dir are reused.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/wsviz/wsviz/browsertests"
	"github.com/wsviz/wsviz/internal/bench"
)

func main() {
	captures := flag.String("captures", "1x,4x,10x", "comma-separated synthetic captures: NxM means N times the 2,000 messages per connection of the default")
	file := flag.String("file", "", "measure this capture `file` instead of the synthetic ones")
	dir := flag.String("dir", "", "directory for the generated captures; existing ones are reused (default: a temporary one, removed at the end)")
	runs := flag.Int("runs", 1, "runs per capture (this machine's speed drifts: compare spreads, not single runs)")
	frames := flag.Int("frames", 240, "animation frames measured per panning or zooming pass")
	wsviz := flag.String("wsviz", "", "the wsviz binary to serve with (default: build ../cmd/wsviz); several, comma-separated, are run in turn, one run each per round, and compared")
	browser := flag.String("chromium", "/usr/bin/chromium", "the browser to drive")
	serveOnly := flag.Bool("serve", false, "only serve the first capture and print the address (Ctrl-C to quit)")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up on a run after this long")
	startupOnly := flag.Bool("startup", false, "measure only the start-up: the first marks and where the time to them went, then stop the run")
	flag.StringVar(&traceDir, "trace", "", "write a Chromium trace of each run's start-up (navigation to first marks) into `dir`, for chrome://tracing or Perfetto")
	flag.Parse()
	if err := run(*captures, *file, *dir, *runs, *frames, *wsviz, *browser, *serveOnly, *startupOnly, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "uibench:", err)
		os.Exit(1)
	}
}

// traceDir is where -trace writes the start-up traces ("" for none).
var traceDir string

// traceRuns counts the traces written, to name them.
var traceRuns int

func run(captures, file, dir string, runs, frames int, wsviz, browser string, serveOnly, startupOnly bool, timeout time.Duration) error {
	tmp, err := os.MkdirTemp("", "uibench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if dir == "" {
		dir = tmp
	}
	if wsviz == "" {
		wsviz = filepath.Join(tmp, "wsviz")
		build := exec.Command("go", "build", "-o", wsviz, "./cmd/wsviz")
		build.Dir = ".."
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building wsviz: %w", err)
		}
	}
	var paths []string
	if file != "" {
		paths = []string{file}
	} else {
		for _, name := range strings.Split(captures, ",") {
			p, err := syntheticCapture(dir, strings.TrimSpace(name))
			if err != nil {
				return err
			}
			paths = append(paths, p)
		}
	}
	if serveOnly {
		srv, err := startServer(wsviz, paths[0], tmp)
		if err != nil {
			return err
		}
		defer srv.stop()
		fmt.Println("serving", srv.url, "(Ctrl-C to quit)")
		select {}
	}
	if _, err := exec.LookPath(browser); err != nil {
		return fmt.Errorf("no browser at %s (apt-get install chromium): %w", browser, err)
	}
	cpu, _ := os.ReadFile("/proc/cpuinfo")
	fmt.Printf("machine: %d CPUs (%s), %s\n", strings.Count(string(cpu), "processor\t:"), cpuModel(string(cpu)), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	// Several binaries are compared round by round (this machine's speed
	// drifts: runs one after the other would compare two moments).
	bins := strings.Split(wsviz, ",")
	for _, path := range paths {
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		fmt.Printf("\n%s: %.0f MB\n", filepath.Base(path), float64(st.Size())/1e6)
		all := make([][]result, len(bins))
		for i := range runs {
			for b, bin := range bins {
				began := time.Now()
				r, err := measure(bin, browser, path, tmp, frames, startupOnly, timeout)
				r.Elapsed = time.Since(began)
				if err != nil {
					return fmt.Errorf("%s, run %d: %w", filepath.Base(path), i+1, err)
				}
				r.CaptureBytes = st.Size()
				label := ""
				if len(bins) > 1 {
					label = " (" + bin + ")"
				}
				fmt.Printf("  run %d%s: %s\n", i+1, label, r)
				all[b] = append(all[b], r)
			}
		}
		for b, bin := range bins {
			if len(bins) > 1 {
				fmt.Printf("  %s:\n", bin)
			}
			if runs > 1 {
				fmt.Printf("  spread over %d runs: %s\n", runs, spread(all[b]))
			}
			printTargets(all[b])
		}
	}
	return nil
}

func cpuModel(cpuinfo string) string {
	for _, l := range strings.Split(cpuinfo, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// syntheticCapture returns the path of the capture named like "4x" in
// dir, writing it first unless it is there.
func syntheticCapture(dir, name string) (string, error) {
	m, err := strconv.Atoi(strings.TrimSuffix(name, "x"))
	if err != nil || m <= 0 || !strings.HasSuffix(name, "x") {
		return "", fmt.Errorf("bad capture name %q (want 1x, 4x, 10x...)", name)
	}
	path := filepath.Join(dir, "plain-"+name+".pcap")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	start := time.Now()
	st, err := bench.GenerateFile(path+".tmp", bench.Config{Conns: 200, Messages: 2000 * m, Seed: 1})
	if err != nil {
		return "", err
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return "", err
	}
	fmt.Printf("wrote %s: %d packets, %d messages, %.0f MB in %v\n", path, st.Packets, st.Messages, float64(st.Bytes)/1e6, time.Since(start).Round(time.Millisecond))
	return path, nil
}

// server is a `wsviz ui -r` child process.
type server struct {
	cmd    *exec.Cmd
	url    string
	tmpDir string
}

var urlRE = regexp.MustCompile(`http://[^ ]+/`)

// startServer runs wsviz ui on path with its own temporary directory
// (TMPDIR), so that its spill files can be measured.
func startServer(wsviz, path, tmp string) (*server, error) {
	tdir, err := os.MkdirTemp(tmp, "server-tmp-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(wsviz, "ui", "-r", path)
	cmd.Env = append(os.Environ(), "TMPDIR="+tdir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, tmpDir: tdir}
	line, err := bufio.NewReader(out).ReadString('\n')
	s.url = urlRE.FindString(line)
	if s.url == "" {
		s.stop()
		return nil, fmt.Errorf("wsviz ui printed no address (%q, %v)", line, err)
	}
	return s, nil
}

// vmHWM returns the child's peak resident set size in bytes.
func (s *server) vmHWM() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return -1
}

// tempBytes returns the size of the files in the child's temporary
// directory (allocated blocks, so sparse files count as what they use).
func (s *server) tempBytes() int64 {
	var n int64
	filepath.WalkDir(s.tmpDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			var st syscall.Stat_t
			if syscall.Stat(p, &st) == nil {
				n += st.Blocks * 512
			}
		}
		return nil
	})
	return n
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// leftover returns the files the server left in its temporary directory.
func (s *server) leftover() []string {
	var out []string
	filepath.WalkDir(s.tmpDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

type frameStats struct {
	// Gap is the interval between animation frames, Draw the time the
	// timeline spent drawing in them: p50, p95, max, in ms.
	Gap, Draw [3]float64
	N         int
}

func (f frameStats) String() string {
	return fmt.Sprintf("frame %.1f/%.1f/%.1f ms (draw %.1f/%.1f/%.1f)", f.Gap[0], f.Gap[1], f.Gap[2], f.Draw[0], f.Draw[1], f.Draw[2])
}

// answers compares the two forms of a fit-all answer for 20 lanes.
type answers struct {
	JSONBytes, BinBytes float64
	JSONMs, BinMs       float64
}

// zoomStop is the panning measured at one zoom level of the ladder of
// zooms: from fit-all, each stop 8 times narrower, down to one message.
type zoomStop struct {
	Level  int     // the tile level drawn
	Span   float64 // µs in view
	Frames frameStats
}

// firstStatus is what the page's summary said when it drew its first marks.
type firstStatus struct {
	Done        bool
	Read, Total float64
	Events      float64
}

type result struct {
	FirstMarks, WholeAxis, SourceDone float64 // ms after navigation
	FirstStatus                       *firstStatus
	Startup                           []startStep
	StartupOnly                       bool // -startup: nothing measured past the first marks
	Note                              string
	PanFit, PanZoom, Zoom             frameStats
	Stops                             []zoomStop
	CaptureBytes                      int64
	Elapsed                           time.Duration
	HeapMB                            float64
	PeakRSS, Temp                     int64
	Load                              [2]string
	Leftover                          []string
	Answers                           answers
	TileBytes                         float64 // bytes of tiles the page fetched in the whole run
}

func (r result) String() string {
	first := "before the page had a status"
	if st := r.FirstStatus; st != nil && st.Done {
		first = "after the server had read the whole capture"
	} else if st != nil && st.Total > 0 {
		first = fmt.Sprintf("while decoding: progress %.0f%% shown, %.0f events", 100*st.Read/st.Total, st.Events)
	} else if st != nil {
		first = fmt.Sprintf("while decoding: %.0f MB read shown, %.0f events", st.Read/1e6, st.Events)
	}
	s := fmt.Sprintf("first marks %.0f ms (%s), whole axis %.0f ms (server read all at %.0f ms)%s\n",
		r.FirstMarks, first, r.WholeAxis, r.SourceDone, r.Note)
	if r.StartupOnly {
		s = fmt.Sprintf("first marks %.0f ms (%s)\n", r.FirstMarks, first)
	}
	if len(r.Startup) > 0 {
		s += "         start-up " + startupText(r.Startup) + "\n"
	}
	if r.StartupOnly {
		return s + fmt.Sprintf("         load average %s → %s", r.Load[0], r.Load[1])
	}
	s += fmt.Sprintf("         pan fit-all %s\n         pan ×50     %s\n         zoom in/out %s\n", r.PanFit, r.PanZoom, r.Zoom)
	for _, z := range r.Stops {
		s += fmt.Sprintf("         pan at %-9s %s (level %d)\n", spanText(z.Span), z.Frames, z.Level)
	}
	s += fmt.Sprintf("         server peak RSS %.0f MB, temp files (spill) %.0f MB for a %.0f MB capture, JS heap %.0f MB; load average %s → %s; run took %v",
		float64(r.PeakRSS)/1e6, float64(r.Temp)/1e6, float64(r.CaptureBytes)/1e6, r.HeapMB, r.Load[0], r.Load[1], r.Elapsed.Round(time.Second))
	if r.Answers.JSONBytes > 0 {
		s += fmt.Sprintf("\n         fit-all answer for 20 lanes: JSON window %.0f KB, parsed in %.1f ms; binary tiles %.0f KB, read in %.1f ms; tiles fetched in the run %.1f MB",
			r.Answers.JSONBytes/1e3, r.Answers.JSONMs, r.Answers.BinBytes/1e3, r.Answers.BinMs, r.TileBytes/1e6)
	}
	if len(r.Leftover) > 0 {
		s += fmt.Sprintf("\n         LEFT BEHIND after exit: %v", r.Leftover)
	}
	return s
}

// spanText writes a span of µs as the view's label would.
func spanText(us float64) string {
	switch {
	case us >= 1e6:
		return fmt.Sprintf("%.3g s", us/1e6)
	case us >= 1e3:
		return fmt.Sprintf("%.3g ms", us/1e3)
	}
	return fmt.Sprintf("%.3g µs", us)
}

// startStep is one step of the page's start-up, up to its first marks:
// the page itself, each file it loaded, each request it made (with the
// time the server spent on it, from its Server-Timing header) and the
// page's own marks (wsviz:*, performance.mark). Times are ms after the
// navigation started.
type startStep struct {
	Name       string
	Start, End float64
	// Server is the time the handler spent, when it said (Server-Timing).
	Server float64
}

// firstMarksJS resolves once the page drew its first marks: when its mark
// wsviz:first-marks is made (a page without it is looked at every 100 ms).
const firstMarksJS = `new Promise((resolve) => {
  const done = () => wsviz.firstMarksMs() > 0;
  if (done()) return resolve(true);
  const po = new PerformanceObserver((list) => {
    if (list.getEntries().some((e) => e.name === 'wsviz:first-marks')) { po.disconnect(); resolve(true); }
  });
  po.observe({ type: 'mark' });
  const t = setInterval(() => { if (done()) { clearInterval(t); po.disconnect(); resolve(true); } }, 100);
})`

// startupJS lists the page's start-up steps up to its first marks.
const startupJS = `(() => {
  const fm = wsviz.firstMarksMs();
  const out = [];
  const nav = performance.getEntriesByType('navigation')[0];
  if (nav) {
    out.push({Name: 'html', Start: nav.requestStart, End: nav.responseEnd});
    out.push({Name: 'dom', Start: nav.responseEnd, End: nav.domContentLoadedEventEnd});
  }
  for (const r of performance.getEntriesByType('resource')) {
    if (r.startTime > fm) continue;
    const u = new URL(r.name);
    const st = (r.serverTiming || []).find((x) => x.name === 'query');
    out.push({Name: u.pathname.replace('/static/', '') + (u.pathname.startsWith('/api/') ? u.search.slice(0, 24) : ''), Start: r.startTime, End: r.responseEnd, Server: st ? st.duration : -1});
  }
  for (const m of performance.getEntriesByType('mark')) {
    if (m.name.startsWith('wsviz:') && m.startTime <= fm + 1) out.push({Name: m.name.slice(6), Start: m.startTime, End: m.startTime, Server: -1});
  }
  out.sort((a, b) => a.Start - b.Start);
  return out;
})()`

// startupText sums up the start-up: the page, its scripts (first start to
// last end), then each mark and request in time order.
func startupText(steps []startStep) string {
	var parts []string
	scripts, lo, hi := 0, -1.0, 0.0
	for _, st := range steps {
		if strings.HasSuffix(st.Name, ".js") || strings.HasSuffix(st.Name, ".css") {
			scripts++
			if lo < 0 || st.Start < lo {
				lo = st.Start
			}
			hi = max(hi, st.End)
		}
	}
	for _, st := range steps {
		switch {
		case strings.HasSuffix(st.Name, ".js") || strings.HasSuffix(st.Name, ".css") || strings.HasSuffix(st.Name, ".svg"):
			continue
		case st.Name == "html" || st.Name == "dom":
			parts = append(parts, fmt.Sprintf("%s %.0f–%.0f", st.Name, st.Start, st.End))
			if st.Name == "html" && scripts > 0 {
				parts = append(parts, fmt.Sprintf("%d files %.0f–%.0f", scripts, lo, hi))
			}
		case st.End > st.Start:
			p := fmt.Sprintf("%s %.0f–%.0f", st.Name, st.Start, st.End)
			if st.Server >= 0 {
				p += fmt.Sprintf(" (server %.0f)", st.Server)
			}
			parts = append(parts, p)
		default:
			parts = append(parts, fmt.Sprintf("%s %.0f", st.Name, st.Start))
		}
	}
	return strings.Join(parts, ", ") + " ms"
}

// The targets of issue 13.
const (
	targetFirstMarksMs = 1000 // first marks within 1 s, while the capture is decoded
	targetFrameP95Ms   = 20   // pan and zoom: frame p95 ≤ 20 ms at every zoom level
	targetPeakRSS      = 200e6
	targetHeap         = 100 // MB
)

// target is one target of issue 13 and whether a run met it.
type target struct {
	name, got string
	met       bool
}

// targets checks r against the targets.
func (r result) targets() []target {
	var ts []target
	whileDecoding := r.FirstStatus != nil && !r.FirstStatus.Done && r.FirstMarks < r.SourceDone
	ts = append(ts, target{"first marks < 1 s, while decoding, progress shown",
		fmt.Sprintf("%.0f ms, %s", r.FirstMarks, map[bool]string{true: "while decoding", false: "NOT while decoding"}[whileDecoding]),
		r.FirstMarks >= 0 && r.FirstMarks < targetFirstMarksMs && whileDecoding})
	worst, where, worstDraw := 0.0, "", 0.0
	check := func(name string, f frameStats) {
		if f.Gap[1] > worst || where == "" {
			worst, where = f.Gap[1], name
		}
		worstDraw = max(worstDraw, f.Draw[1])
	}
	check("pan fit-all", r.PanFit)
	check("pan ×50", r.PanZoom)
	check("zoom in/out", r.Zoom)
	for _, z := range r.Stops {
		check("pan at "+spanText(z.Span), z.Frames)
	}
	ts = append(ts, target{"pan and zoom frame p95 ≤ 20 ms at every zoom level",
		fmt.Sprintf("worst p95 %.1f ms (%s); the page's own drawing: worst p95 %.1f ms", worst, where, worstDraw), worst <= targetFrameP95Ms})
	ts = append(ts, target{"server peak RSS (VmHWM) ≤ 200 MB", fmt.Sprintf("%.0f MB", float64(r.PeakRSS)/1e6), r.PeakRSS > 0 && r.PeakRSS <= targetPeakRSS})
	ts = append(ts, target{"JS heap ≤ 100 MB", fmt.Sprintf("%.0f MB", r.HeapMB), r.HeapMB <= targetHeap})
	ts = append(ts, target{"spill smaller than the capture", fmt.Sprintf("%.0f MB for %.0f MB", float64(r.Temp)/1e6, float64(r.CaptureBytes)/1e6), r.Temp < r.CaptureBytes})
	ts = append(ts, target{"temporary files removed at exit", fmt.Sprintf("%d left", len(r.Leftover)), len(r.Leftover) == 0})
	return ts
}

func printTargets(rs []result) {
	fmt.Printf("  targets (issue 13), over %d run(s):\n", len(rs))
	n := len(rs[0].targets())
	if rs[0].StartupOnly {
		n = 1 // the first marks alone were measured
	}
	for k := range n {
		met := 0
		var got []string
		for _, r := range rs {
			t := r.targets()[k]
			if t.met {
				met++
			}
			got = append(got, t.got)
		}
		verdict := "met"
		if met < len(rs) {
			verdict = fmt.Sprintf("NOT MET (%d of %d runs met it)", met, len(rs))
		}
		fmt.Printf("    %-52s %-9s %s\n", rs[0].targets()[k].name+":", verdict, strings.Join(got, " | "))
	}
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// pageHooks is evaluated once the page is up: the benchmark's own
// drivers, written against window.wsviz and the timeline's onDraw hook
// (the page's test hooks), so that they work on any version of the page.
const pageHooks = `
window.uibench = {
  // axisDone reports whether the timeline shows the whole capture: the
  // server read it all and the page has what it needs to draw all of it.
  axisDone() {
    const st = wsviz.status();
    if (!st || !st.done) return false;
    if (wsviz.axisCompleteMs) return wsviz.axisCompleteMs() >= 0;
    return wsviz.allEventsMs() >= 0;
  },
  axisMs() { return wsviz.axisCompleteMs ? wsviz.axisCompleteMs() : wsviz.allEventsMs(); },
  // frames runs step(k) in each of n animation frames and returns the
  // frame intervals and the timeline's draw times.
  frames(n, step) {
    return new Promise((resolve) => {
      const tl = wsviz.app.timeline;
      const draws = [], gaps = [];
      let last = 0, k = 0;
      const prev = tl.onDraw;
      tl.onDraw = (ms) => draws.push(ms);
      const tick = (ts) => {
        if (last) gaps.push(ts - last);
        last = ts;
        if (k >= n) { tl.onDraw = prev; resolve({ draws, gaps }); return; }
        step(k++);
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
  },
  pan(n) {
    const tl = wsviz.app.timeline;
    return this.frames(n, (k) => {
      tl.pan((k % 120 < 60 ? -1 : 1) * tl.plotW / 40);
      tl.scrollY += (k % 200 < 100 ? 3 : -3);
    });
  },
  // answers fetches what fit-all shows of the lanes in view both ways the
  // server can answer (the JSON window of /api/window, the binary tiles the
  // page uses) and times reading each on the page's thread: the choice of
  // the binary tiles is this measurement.
  async answers() {
    const tl = wsviz.app.timeline;
    tl.fit();
    const lanes = tl.lanes().slice(0, 20).join(',');
    const a = tl.v0, b = tl.v1, span = b - a;
    const win = await (await fetch('/api/window?t0=' + (a - span) + '&t1=' + (b + span) + '&w=' + Math.round(tl.plotW) + '&conns=' + lanes)).text();
    let t = performance.now();
    JSON.parse(win);
    const jsonMs = performance.now() - t;
    const L = tl.level(), ts = Math.pow(2, L) / 1000 * 256;
    const buf = await (await fetch('/api/tiles?l=' + L + '&i0=' + (Math.floor(a / ts) - 1) + '&i1=' + (Math.floor(b / ts) + 1) + '&conns=' + lanes)).arrayBuffer();
    const Tiles = tl.tiles.constructor;
    const scratch = new Tiles(() => {});
    t = performance.now();
    scratch.read(buf, { L, version: 'x', settled: Infinity });
    const binMs = performance.now() - t;
    return { jsonBytes: win.length, jsonMs, binBytes: buf.byteLength, binMs };
  },
  // stops pans n frames at each zoom level from fit-all down to about
  // 4 µs around the middle of the capture, each stop 8 times narrower, and
  // returns the frame intervals and draw times of each stop.
  async stops(n) {
    const tl = wsviz.app.timeline;
    tl.fit();
    const out = [];
    for (;;) {
      const span = tl.v1 - tl.v0;
      const r = await this.pan(n);
      out.push({ level: tl.level(), span, draws: r.draws, gaps: r.gaps });
      if (span <= 4) break;
      const m = (tl.v0 + tl.v1) / 2, s = Math.max(2, span / 8);
      tl.setView(m - s / 2, m + s / 2);
      await new Promise((res) => setTimeout(res, 50));
    }
    return out;
  },
  // zoom goes from fit-all to a span of about 2 µs around the middle of
  // the capture (one message) in n/2 frames, and back out.
  zoom(n) {
    const tl = wsviz.app.timeline;
    tl.fit();
    const span = tl.v1 - tl.v0;
    const half = Math.max(1, Math.floor(n / 2));
    const f = Math.pow(2 / span, 1 / half);
    return this.frames(2 * half, (k) => tl.zoom(k < half ? f : 1 / f));
  },
};
true`

func measure(wsviz, browser, path, tmp string, frames int, startupOnly bool, timeout time.Duration) (result, error) {
	var r result
	r.Load[0] = loadavg()
	profile, err := os.MkdirTemp(tmp, "profile-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(profile)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), browsertests.AllocatorOptions(browser, profile)...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, timeout)
	defer cancelT()
	// Start the browser first, so that its start-up is not counted.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		return r, err
	}
	var trace *chromeTrace
	if traceDir != "" {
		if trace, err = startTrace(ctx); err != nil {
			return r, fmt.Errorf("starting the trace: %w", err)
		}
	}
	srv, err := startServer(wsviz, path, tmp)
	if err != nil {
		return r, err
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.stop()
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url)); err != nil {
		return r, err
	}
	poll := func(cond string) error {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(100*time.Millisecond)))
		return err
	}
	if err := poll(`!!(window.wsviz && wsviz.app)`); err != nil {
		return r, fmt.Errorf("the page never started: %w", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](pageHooks)); err != nil {
		return r, err
	}
	eval := func(expr string) float64 {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](expr))
		if err != nil {
			return -1
		}
		return v
	}
	// Wait for the first marks without asking the page again and again:
	// each question is a task on the page's main thread, which the
	// start-up measured here needs (asked every 20 ms, they held it up).
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](firstMarksJS, chromedp.EvalAwaitPromise)); err != nil {
		return r, errors.Join(errors.New("the page never drew a mark"), err)
	}
	if trace != nil {
		traceRuns++
		name := fmt.Sprintf("trace-%s-%d.json", strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), traceRuns)
		if err := trace.stop(ctx, filepath.Join(traceDir, name)); err != nil {
			return r, fmt.Errorf("writing the trace: %w", err)
		}
	}
	if startupOnly {
		r.StartupOnly = true
	} else if err := poll(`uibench.axisDone()`); err != nil {
		return r, errors.Join(errors.New("the page never showed the whole capture"), err)
	}
	r.FirstMarks = eval(`wsviz.firstMarksMs()`)
	if v, err := chromedp.Run(ctx, chromedp.Evaluate[*firstStatus](`wsviz.firstMarksStatus ? wsviz.firstMarksStatus() : null`)); err == nil {
		r.FirstStatus = v
	}
	if v, err := chromedp.Run(ctx, chromedp.Evaluate[[]startStep](startupJS)); err == nil {
		r.Startup = v
	}
	// finish reads the server's peak memory, stops the page and the server
	// and looks for files the server left behind.
	finish := func() result {
		r.PeakRSS = srv.vmHWM()
		r.Load[1] = loadavg()
		cancelT()
		cancel()
		srv.stop()
		stopped = true
		r.Leftover = srv.leftover()
		return r
	}
	if startupOnly {
		r.SourceDone = eval(`wsviz.sourceDoneMs()`)
		if r.SourceDone < 0 {
			r.SourceDone = math.Inf(1) // still decoding when the run stopped
		}
		return finish(), nil
	}
	r.WholeAxis = eval(`uibench.axisMs()`)
	r.SourceDone = eval(`wsviz.sourceDoneMs()`)
	if shown, total := eval(`wsviz.events()`), eval(`wsviz.status().events + (wsviz.status().dropped || 0)`); !hasWindows(ctx) && shown < total {
		r.Note = fmt.Sprintf("; the page has %.0f of %.0f events (the rest past --max-events)", shown, total)
	}
	if hasWindows(ctx) {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`uibench.answers().then(a => window.uibenchAnswers = a)`)); err == nil {
			poll(`!!window.uibenchAnswers`)
			a, _ := chromedp.Run(ctx, chromedp.Evaluate[answers](`window.uibenchAnswers`))
			r.Answers = a
		}
	}
	chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`wsviz.app.timeline.fit()`))
	if r.PanFit, err = framesOf(ctx, fmt.Sprintf(`uibench.pan(%d)`, frames)); err != nil {
		return r, err
	}
	if r.Zoom, err = framesOf(ctx, fmt.Sprintf(`uibench.zoom(%d)`, frames)); err != nil {
		return r, err
	}
	chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`wsviz.app.timeline.fit(); wsviz.app.timeline.zoom(1/50)`))
	if r.PanZoom, err = framesOf(ctx, fmt.Sprintf(`uibench.pan(%d)`, frames)); err != nil {
		return r, err
	}
	if r.Stops, err = stopsOf(ctx, frames/4); err != nil {
		return r, err
	}
	r.HeapMB = eval(`performance.memory ? performance.memory.usedJSHeapSize : 0`) / 1e6
	r.TileBytes = eval(`wsviz.tileBytes ? wsviz.tileBytes() : 0`)
	r.Temp = srv.tempBytes()
	return finish(), nil
}

// hasWindows reports whether the page asks the server for windows (and so
// never holds every event).
func hasWindows(ctx context.Context) bool {
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!wsviz.axisCompleteMs`))
	return err == nil && v
}

// stopsOf runs uibench.stops with n frames a stop.
func stopsOf(ctx context.Context, n int) ([]zoomStop, error) {
	res, err := chromedp.Run(ctx, chromedp.Evaluate[[]struct {
		Level       int
		Span        float64
		Draws, Gaps []float64
	}](fmt.Sprintf(`uibench.stops(%d).then(rs => rs.map(r => ({Level: r.level, Span: r.span, Draws: r.draws, Gaps: r.gaps})))`, n), chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, err
	}
	var out []zoomStop
	for _, s := range res {
		out = append(out, zoomStop{Level: s.Level, Span: s.Span, Frames: frameStats{Gap: quantiles(s.Gaps), Draw: quantiles(s.Draws), N: len(s.Gaps)}})
	}
	return out, nil
}

// quantiles returns p50, p95 and the maximum of xs.
func quantiles(xs []float64) [3]float64 {
	if len(xs) == 0 {
		return [3]float64{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	at := func(p float64) float64 { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return [3]float64{at(.5), at(.95), s[len(s)-1]}
}

func framesOf(ctx context.Context, expr string) (frameStats, error) {
	res, err := chromedp.Run(ctx, chromedp.Evaluate[struct{ Draws, Gaps []float64 }](
		expr+`.then(r => ({Draws: r.draws, Gaps: r.gaps}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		return frameStats{}, err
	}
	if len(res.Gaps) == 0 {
		return frameStats{}, errors.New("no animation frames")
	}
	return frameStats{Gap: quantiles(res.Gaps), Draw: quantiles(res.Draws), N: len(res.Gaps)}, nil
}

// spread sums up several runs as min–max of each figure.
func spread(rs []result) string {
	mm := func(f func(result) float64) string {
		lo, hi := f(rs[0]), f(rs[0])
		for _, r := range rs[1:] {
			lo, hi = min(lo, f(r)), max(hi, f(r))
		}
		return fmt.Sprintf("%.0f–%.0f", lo, hi)
	}
	mm1 := func(f func(result) float64) string {
		lo, hi := f(rs[0]), f(rs[0])
		for _, r := range rs[1:] {
			lo, hi = min(lo, f(r)), max(hi, f(r))
		}
		return fmt.Sprintf("%.1f–%.1f", lo, hi)
	}
	worstStop := func(r result) float64 {
		w := 0.0
		for _, z := range r.Stops {
			w = max(w, z.Frames.Gap[1])
		}
		return w
	}
	if rs[0].StartupOnly {
		fm := make([]float64, len(rs))
		for i, r := range rs {
			fm[i] = r.FirstMarks
		}
		slices.Sort(fm)
		return fmt.Sprintf("first marks %s ms, median %.0f", mm(func(r result) float64 { return r.FirstMarks }), (fm[(len(fm)-1)/2]+fm[len(fm)/2])/2)
	}
	return fmt.Sprintf("first marks %s ms, whole axis %s ms, pan fit-all p95 %s ms, pan ×50 p95 %s ms, zoom p95 %s ms, worst zoom stop p95 %s ms, peak RSS %s MB, JS heap %s MB, temp %s MB",
		mm(func(r result) float64 { return r.FirstMarks }), mm(func(r result) float64 { return r.WholeAxis }),
		mm1(func(r result) float64 { return r.PanFit.Gap[1] }), mm1(func(r result) float64 { return r.PanZoom.Gap[1] }),
		mm1(func(r result) float64 { return r.Zoom.Gap[1] }), mm1(worstStop),
		mm(func(r result) float64 { return float64(r.PeakRSS) / 1e6 }), mm(func(r result) float64 { return r.HeapMB }),
		mm(func(r result) float64 { return float64(r.Temp) / 1e6 }))
}
