// Command wsviz-bench measures `wsviz events -r` against tshark on synthetic
// captures it generates, 200 connections × 2,000 messages each by default:
// the plain mix (about 320 MB, 554k packets) and "compressed", whose every
// data message is compressed with permessage-deflate and context takeover,
// JSON texts and binary records compressed at zlib's default level (about
// 147 MB, 450k packets); "deflate", the earlier variant (noisy binaries
// compressed at BestSpeed, 214 MB), on request; and "wss", on request:
// the plain variant's connections and messages, in the same order and the
// same segments as far as TLS allows, each connection a TLS 1.3 session
// (TLS_AES_128_GCM_SHA256) whose every write (the upgrade's request and
// response, each frame) is sealed in one record, with its key log beside
// the capture (FILE.keys, one client random and four traffic secrets a
// connection), decoded with `wsviz events --keylog FILE.keys -r FILE`.
//
//	go run ./internal/bench/cmd/wsviz-bench                  # plain and compressed, tshark when installed
//	go run ./internal/bench/cmd/wsviz-bench -variants deflate
//	go run ./internal/bench/cmd/wsviz-bench -variants plain,wss -runs 3  # issue 10's ratio
//	go run ./internal/bench/cmd/wsviz-bench -messages 20000  # 10× the default file
//	go run ./internal/bench/cmd/wsviz-bench -keep -dir /tmp  # keep the captures
//	go run ./internal/bench/cmd/wsviz-bench -hostile         # time and peak RSS on the hostile captures
//
// Each tool runs -runs times (5 by default) on each capture, alternating
// tools and captures (plain, wss, plain, wss... for wsviz, tshark after
// wsviz on each), and the table shows its median run: seconds, MB/s, packets/s,
// messages/s, the child's peak RSS (from its rusage, the largest of the
// runs) and CPU use (user and system time over wall time: 200% is both
// cores busy), and the throughput ratio of the medians to tshark.
// tshark is not run on wss (its TLS dissection with the key log,
// -o tls.keylog_file:FILE.keys, would take minutes a run on the default
// capture); with plain and wss in one run the command prints issue 10's
// ratio, wsviz's median time on plain over its median time on wss: the
// two captures hold the same messages, so this is wss's messages per
// second over plain's, and the target is at least 0.70.
// Each tool's output goes into a pipe, as into a script consuming it; the
// command drains the pipe without copying it (splice into /dev/null on
// Linux), so the measuring takes no CPU from the tools on a small machine.
package main

import (
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/wsviz/wsviz/internal/bench"
)

func main() {
	conns := flag.Int("conns", 200, "connections in the synthetic capture")
	messages := flag.Int("messages", 2000, "messages per connection")
	variants := flag.String("variants", "plain,compressed", "comma-separated variants to run: plain, compressed, deflate, wss")
	dir := flag.String("dir", "", "directory for the captures (default: a temporary one)")
	keep := flag.Bool("keep", false, "keep the generated captures")
	wsviz := flag.String("wsviz", "", "wsviz binary to measure (default: build ./cmd/wsviz)")
	tshark := flag.String("tshark", "tshark", "tshark binary; empty to skip tshark")
	hostile := flag.Bool("hostile", false, "run wsviz on the hostile captures instead (seconds and peak RSS of each)")
	gen := flag.String("gen", "", "(used by the command itself) write the capture named VARIANT or hostile:NAME to -gen-out and exit")
	genOut := flag.String("gen-out", "", "(with -gen) the file to write")
	runs := flag.Int("runs", 5, "runs of each tool on each capture; the table shows the median (this machine's speed varies from run to run)")
	flag.Parse()
	if *runs < 1 {
		*runs = 1
	}
	measureRuns = *runs
	if *gen != "" {
		if err := generateHere(*gen, *genOut, *conns, *messages); err != nil {
			fmt.Fprintln(os.Stderr, "wsviz-bench:", err)
			os.Exit(1)
		}
		return
	}
	if *hostile {
		*variants = ""
	}
	if err := run(*conns, *messages, strings.Split(*variants, ","), *dir, *keep, *wsviz, *tshark, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "wsviz-bench:", err)
		os.Exit(1)
	}
}

func run(conns, messages int, variants []string, dir string, keep bool, wsviz, tshark string, extra []string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "wsviz-bench")
		if err != nil {
			return err
		}
		dir = d
		if !keep {
			defer os.RemoveAll(d)
		}
	}
	if wsviz == "" {
		wsviz = filepath.Join(dir, "wsviz")
		build := exec.Command("go", "build", "-o", wsviz, "./cmd/wsviz")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building wsviz (run from the module root, or give -wsviz): %w", err)
		}
	}
	if tshark != "" {
		if p, err := exec.LookPath(tshark); err == nil {
			tshark = p
		} else {
			fmt.Fprintf(os.Stderr, "wsviz-bench: %s not found; measuring wsviz only (apt-get install tshark)\n", tshark)
			tshark = ""
		}
	}
	var targets []string
	defer func() {
		if len(targets) == 0 {
			return
		}
		fmt.Println("\ntargets (issues 5, 10 and 15):")
		for _, t := range targets {
			fmt.Println("  " + t)
		}
	}()
	if len(variants) == 1 && variants[0] == "" {
		variants = nil
		if err := runHostile(dir, keep, wsviz, extra); err != nil {
			return err
		}
	}
	if len(variants) > 0 {
		fmt.Printf("%-10s %-7s %9s %9s %11s %11s %10s %9s %7s\n", "variant", "tool", "seconds", "MB/s", "packets/s", "messages/s", "peak RSS", "ratio", "CPU")
	}
	// Generate every capture first, so that the runs can alternate
	// between them.
	type capture struct {
		variant, path string
		st            bench.Stats
		args          []string // wsviz's
		ours, ts      []result
	}
	var captures []*capture
	defer func() {
		if keep {
			return
		}
		for _, c := range captures {
			os.Remove(c.path)
			os.Remove(c.path + ".keys")
		}
	}()
	for _, v := range variants {
		if v != "plain" && v != "compressed" && v != "deflate" && v != "wss" {
			return fmt.Errorf("unknown variant %q", v)
		}
		c := &capture{variant: v, path: filepath.Join(dir, fmt.Sprintf("%s-%dx%d.pcap", v, conns, messages))}
		captures = append(captures, c)
		t0 := time.Now()
		var err error
		if c.st, err = generate(v, c.path, conns, messages); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wsviz-bench: %s: %.1f MB, %d packets, %d messages, generated in %.1fs\n",
			c.path, float64(c.st.Bytes)/1e6, c.st.Packets, c.st.Messages, time.Since(t0).Seconds())
		if c.st.WireDataBytes < c.st.DataBytes {
			fmt.Printf("%s: data messages compressed from %.1f MB to %.1f MB on the wire (%.2f×)\n",
				v, float64(c.st.DataBytes)/1e6, float64(c.st.WireDataBytes)/1e6, float64(c.st.DataBytes)/float64(c.st.WireDataBytes))
		}
		c.args = []string{"events", "-r", c.path}
		if v == "wss" {
			c.args = []string{"events", "--keylog", c.path + ".keys", "-r", c.path}
		}
		c.args = append(c.args, extra...)
	}
	for range measureRuns {
		for _, c := range captures {
			r, err := measure(wsviz, c.args)
			if err != nil {
				return err
			}
			c.ours = append(c.ours, r)
			if tshark != "" && c.variant != "wss" {
				r, err := measure(tshark, []string{"-r", c.path, "-Y", "websocket", "-T", "fields",
					"-e", "frame.number", "-e", "websocket.opcode", "-e", "websocket.payload_length"})
				if err != nil {
					return err
				}
				c.ts = append(c.ts, r)
			}
		}
	}
	// Issue 10's ratio run by run too: each plain run over the wss run
	// that follows it, which the machine's drift touches less than the
	// ratio of medians taken minutes apart.
	var paired []float64
	if p := slices.IndexFunc(captures, func(c *capture) bool { return c.variant == "plain" }); p >= 0 {
		if w := slices.IndexFunc(captures, func(c *capture) bool { return c.variant == "wss" }); w >= 0 {
			for i := range captures[p].ours {
				paired = append(paired, captures[p].ours[i].wall.Seconds()/captures[w].ours[i].wall.Seconds())
			}
			slices.Sort(paired)
		}
	}
	medians := map[string]result{}
	for _, c := range captures {
		v, st := c.variant, c.st
		ours := median(v+" wsviz", c.ours)
		medians[v] = ours
		if len(c.ts) == 0 {
			report(v, "wsviz", st, ours, "")
		} else {
			ts := median(v+" tshark", c.ts)
			report(v, "tshark", st, ts, "")
			ratio := ts.wall.Seconds() / ours.wall.Seconds()
			report(v, "wsviz", st, ours, fmt.Sprintf("%.1f×", ratio))
			switch v {
			case "plain":
				// Issue 5 sets the speed target on the default capture.
				targets = append(targets, fmt.Sprintf("%s: at least 30× tshark's throughput: %s (%.1f×)", v, yes(ratio >= 30), ratio))
			case "compressed":
				// Issue 15: compressed captures at the speed of plain.
				targets = append(targets, fmt.Sprintf("%s: at least 25× tshark's throughput: %s (%.1f×)", v, yes(ratio >= 25), ratio))
			}
		}
		targets = append(targets, fmt.Sprintf("%s: peak RSS at most 100 MB: %s (%.0f MB)", v, yes(ours.maxRSS <= 100e6), float64(ours.maxRSS)/1e6))
	}
	if p, ok := medians["plain"]; ok {
		if w, ok := medians["wss"]; ok {
			// Issue 10: the same messages over TLS at least 70% as fast.
			ratio := p.wall.Seconds() / w.wall.Seconds()
			targets = append(targets, fmt.Sprintf("wss: at least 0.70 of plain's messages/s (wsviz's median on plain / on wss): %s (%.3f)", yes(ratio >= 0.70), ratio))
			targets = append(targets, fmt.Sprintf("     each plain run / the wss run after it: median %.3f (%.3f–%.3f, %d pairs)",
				paired[len(paired)/2], paired[0], paired[len(paired)-1], len(paired)))
		}
	}
	return nil
}

// runHostile writes each hostile capture and measures wsviz on it: the
// limits must keep its time and peak RSS bounded (150 MB, issue 5).
func runHostile(dir string, keep bool, wsviz string, extra []string) error {
	fmt.Printf("%-24s %9s %9s %10s %s\n", "hostile capture", "MB", "seconds", "peak RSS", "")
	for _, h := range bench.HostileCaptures() {
		path := filepath.Join(dir, h.Name+".pcap")
		if _, err := generate("hostile:"+h.Name, path, 0, 0); err != nil {
			return err
		}
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		r, err := measure(wsviz, append([]string{"events", "-r", path}, extra...))
		if err != nil {
			return err
		}
		fmt.Printf("%-24s %9.1f %9.2f %7.0f MB %s\n", h.Name, float64(fi.Size())/1e6, r.wall.Seconds(), float64(r.maxRSS)/1e6,
			"peak RSS at most 150 MB: "+yes(r.maxRSS <= 150e6))
		if !keep {
			os.Remove(path)
		}
	}
	return nil
}

// measureRuns is how many times each tool runs on each capture (-runs).
var measureRuns = 3

// median returns the run of median wall time, with the largest peak RSS
// of all runs, and logs every run's time to stderr.
func median(tool string, runs []result) result {
	slices.SortFunc(runs, func(a, b result) int { return cmp.Compare(a.wall, b.wall) })
	var secs []string
	var rss int64
	for _, r := range runs {
		secs = append(secs, fmt.Sprintf("%.2fs", r.wall.Seconds()))
		rss = max(rss, r.maxRSS)
	}
	fmt.Fprintf(os.Stderr, "wsviz-bench: %s runs: %s\n", tool, strings.Join(secs, " "))
	m := runs[len(runs)/2]
	m.maxRSS = rss
	return m
}

// result is one measured run of a child process.
type result struct {
	wall     time.Duration
	maxRSS   int64 // bytes
	outBytes int64
	cpu      time.Duration // user and system time of the child
}

// measure runs name with args and returns its wall time and peak RSS.
// Its standard output is a pipe, as when a script consumes it, drained as
// cheaply as the system allows (see drain) so that the measuring costs the
// two cores next to nothing.
func measure(name string, args []string) (result, error) {
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr
	if filepath.Base(name) == "tshark" {
		cmd.Stderr = nil // "Running as user root" and the like
	}
	pr, pw, err := newPipe()
	if err != nil {
		return result{}, err
	}
	defer pr.Close()
	cmd.Stdout = pw
	var r result
	t0 := time.Now()
	err = cmd.Start()
	pw.Close()
	if err != nil {
		return r, err
	}
	r.outBytes, err = drain(pr)
	if werr := cmd.Wait(); err == nil {
		err = werr
	}
	r.wall = time.Since(t0)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if err != nil {
		return r, fmt.Errorf("%s: %w", name, err)
	}
	return r, nil
}

// report prints one row of the table; ratio is wsviz's speed-up over
// tshark, when measured.
func report(variant, tool string, st bench.Stats, r result, ratio string) {
	s := r.wall.Seconds()
	fmt.Printf("%-10s %-7s %9.2f %9.1f %11.0f %11.0f %7.0f MB %9s %6.0f%%   (%.0f MB out)\n", variant, tool, s,
		float64(st.Bytes)/1e6/s, float64(st.Packets)/s, float64(st.Messages)/s, float64(r.maxRSS)/1e6, ratio,
		100*r.cpu.Seconds()/s, float64(r.outBytes)/1e6)
}

func yes(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// generate writes the capture named by spec (a variant, or hostile:NAME)
// to path in a child process, this command run with -gen, and returns its
// statistics. Generating in the command's own process would raise its
// peak RSS, and on Linux a child started with vfork, as os/exec does,
// reports in its rusage the peak RSS of the parent when it was started:
// the figures of the tools measured after would be the generator's.
func generate(spec, path string, conns, messages int) (bench.Stats, error) {
	self, err := os.Executable()
	if err != nil {
		return bench.Stats{}, err
	}
	cmd := exec.Command(self, "-gen", spec, "-gen-out", path, "-conns", fmt.Sprint(conns), "-messages", fmt.Sprint(messages))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return bench.Stats{}, fmt.Errorf("generating %s: %w", spec, err)
	}
	var st bench.Stats
	if err := json.Unmarshal(out, &st); err != nil {
		return bench.Stats{}, fmt.Errorf("generating %s: %w", spec, err)
	}
	return st, nil
}

// generateHere is -gen: it writes the capture and prints its statistics
// as JSON.
func generateHere(spec, path string, conns, messages int) error {
	var st bench.Stats
	if name, ok := strings.CutPrefix(spec, "hostile:"); ok {
		hostile := bench.HostileCaptures()
		i := slices.IndexFunc(hostile, func(h bench.Hostile) bool { return h.Name == name })
		if i < 0 {
			return fmt.Errorf("unknown hostile capture %q", name)
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		err = hostile[i].Write(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	} else {
		cfg := bench.Config{Conns: conns, Messages: messages, Seed: 1}
		switch spec {
		case "plain":
		case "wss":
			keys, err := os.Create(path + ".keys")
			if err != nil {
				return err
			}
			defer keys.Close()
			cfg.KeyLog = keys
		case "deflate":
			cfg.Deflate = true
		case "compressed":
			cfg.Deflate, cfg.Records = true, true
		default:
			return fmt.Errorf("unknown variant %q", spec)
		}
		var err error
		if st, err = bench.GenerateFile(path, cfg); err != nil {
			return err
		}
		if keys, ok := cfg.KeyLog.(*os.File); ok {
			if err := keys.Close(); err != nil {
				return err
			}
		}
	}
	return json.NewEncoder(os.Stdout).Encode(st)
}
