// Command sameoutput checks that a change leaves the output of
// `wsviz events` byte for byte the same: it builds wsviz at a git revision
// (default main) and from the working tree, runs both on every capture of
// testdata/, on the shared corpus (../shared/corpus), on the wsviz-bench
// captures (plain and deflate) and on the hostile captures, each with one
// worker, with the default number of workers and with --full-payload, and
// reports every capture whose output (standard output, standard error and
// exit status) differs, with the first line that differs. A capture with a
// TLS key log beside it (FILE.keys, or FILE's name without its extension
// and .keys, as testdata/wss.pcapng has testdata/wss.keys) is decoded with
// --keylog, so the TLS decoder is compared too; the wss variant writes its
// key log that way.
//
// Run it from the module root:
//
//	go run ./internal/cmd/sameoutput                  # against main
//	go run ./internal/cmd/sameoutput -rev HEAD~3      # against another revision
//	go run ./internal/cmd/sameoutput -messages 200    # smaller bench captures
//	go run ./internal/cmd/sameoutput -variants plain,deflate,compressed,wss
//
// It exits with status 1 when any output differs. Builds and captures go
// to a temporary directory (-dir to choose it, -keep to keep it).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/wsviz/wsviz/internal/bench"
)

func main() {
	rev := flag.String("rev", "main", "git revision to compare the working tree against")
	corpus := flag.String("corpus", "../shared/corpus", "directory of corpus captures (searched recursively); empty to skip")
	conns := flag.Int("conns", 200, "connections of the bench captures")
	messages := flag.Int("messages", 2000, "messages per connection of the bench captures; 0 skips them")
	variants := flag.String("variants", "plain,deflate", "wsviz-bench variants to generate (plain, deflate, compressed, wss)")
	hostile := flag.Bool("hostile", true, "also compare on the hostile captures of internal/bench")
	dir := flag.String("dir", "", "work directory (default: a temporary one)")
	keep := flag.Bool("keep", false, "keep the work directory")
	flag.Parse()
	if err := run(*rev, *corpus, *conns, *messages, *variants, *hostile, *dir, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "sameoutput:", err)
		os.Exit(1)
	}
}

// optionSets are the ways each capture is decoded: the serial path, the
// sharded path, and whole payloads.
var optionSets = []struct {
	name string
	env  []string
	args []string
}{
	{"workers=1", []string{"GOMAXPROCS=1"}, nil},
	{"workers=2", []string{"GOMAXPROCS=2"}, nil},
	{"workers=2 --full-payload", []string{"GOMAXPROCS=2"}, []string{"--full-payload"}},
}

var errDiffer = errors.New("outputs differ")

func run(rev, corpus string, conns, messages int, variants string, hostile bool, dir string, keep bool) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "sameoutput")
		if err != nil {
			return err
		}
		dir = d
	}
	if keep {
		fmt.Fprintln(os.Stderr, "sameoutput: work directory", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	oldBin, newBin := filepath.Join(dir, "wsviz-old"), filepath.Join(dir, "wsviz-new")
	if err := buildAt(rev, filepath.Join(dir, "src-old"), oldBin); err != nil {
		return err
	}
	if err := goCmd(".", "build", "-o", newBin, "./cmd/wsviz"); err != nil {
		return fmt.Errorf("building the working tree: %w", err)
	}

	captures, err := findCaptures("testdata")
	if err != nil {
		return err
	}
	if corpus != "" {
		more, err := findCaptures(corpus)
		if err != nil {
			return err
		}
		captures = append(captures, more...)
	}
	if messages > 0 && variants != "" {
		for _, v := range strings.Split(variants, ",") {
			path := filepath.Join(dir, fmt.Sprintf("bench-%s-%dx%d.pcap", v, conns, messages))
			if err := goCmd(".", "run", "./internal/bench/cmd/wsviz-bench", "-gen", v, "-gen-out", path,
				"-conns", strconv.Itoa(conns), "-messages", strconv.Itoa(messages)); err != nil {
				return fmt.Errorf("generating the %s bench capture: %w", v, err)
			}
			captures = append(captures, path)
		}
	}
	if hostile {
		for _, h := range bench.HostileCaptures() {
			path := filepath.Join(dir, "hostile-"+h.Name+".pcap")
			if err := writeFile(path, h.Write); err != nil {
				return fmt.Errorf("writing hostile capture %s: %w", h.Name, err)
			}
			captures = append(captures, path)
		}
	}

	differ := 0
	for _, c := range captures {
		keys := keyLogFor(c)
		for _, o := range optionSets {
			args := []string{"events", "-r", c}
			if keys != "" {
				args = append(args, "--keylog", keys)
			}
			args = append(args, o.args...)
			lines, err := compare(oldBin, newBin, args, o.env)
			switch {
			case errors.Is(err, errDiffer):
				differ++
				fmt.Printf("DIFFERENT %s (%s): %v\n", c, o.name, err)
			case err != nil:
				return err
			default:
				with := ""
				if keys != "" {
					with = ", --keylog " + filepath.Base(keys)
				}
				fmt.Printf("same      %s (%s%s): %d lines\n", c, o.name, with, lines)
			}
		}
	}
	fmt.Printf("%d captures × %d option sets compared against %s: %d differ\n", len(captures), len(optionSets), rev, differ)
	if differ > 0 {
		return fmt.Errorf("%d outputs differ", differ)
	}
	return nil
}

// buildAt builds ./cmd/wsviz as of git revision rev into bin, from a copy
// of the tree at rev extracted into src.
func buildAt(rev, src, bin string) error {
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	archive := exec.Command("git", "archive", "--format=tar", rev)
	tar := exec.Command("tar", "-x", "-C", src)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return err
	}
	tar.Stdin = pipe
	archive.Stderr, tar.Stderr = os.Stderr, os.Stderr
	if err := archive.Start(); err != nil {
		return err
	}
	if err := tar.Run(); err != nil {
		return fmt.Errorf("extracting %s: %w", rev, err)
	}
	if err := archive.Wait(); err != nil {
		return fmt.Errorf("git archive %s: %w", rev, err)
	}
	if err := goCmd(src, "build", "-o", bin, "./cmd/wsviz"); err != nil {
		return fmt.Errorf("building %s: %w", rev, err)
	}
	return nil
}

func goCmd(dir string, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	err = write(bw)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// findCaptures lists the pcap and pcapng files under root (gzip-compressed
// too), sorted.
func findCaptures(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(d.Name(), ".gz")
		if !d.IsDir() && (strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng")) {
			out = append(out, path)
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

// keyLogFor returns the TLS key log that goes with a capture, or "": the
// capture's path with .keys added (what wsviz-bench -gen wss writes), or
// with its extensions (.pcap, .pcapng, .gz) replaced by .keys.
func keyLogFor(capture string) string {
	stem := strings.TrimSuffix(capture, ".gz")
	stem = strings.TrimSuffix(strings.TrimSuffix(stem, ".pcapng"), ".pcap")
	for _, p := range []string{capture + ".keys", stem + ".keys"} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// result is what one run of a binary produced.
type result struct {
	stderr bytes.Buffer
	err    error
}

// compare runs both binaries with args and env at once and compares their
// standard output line by line as it streams (the bench captures' outputs
// are gigabytes), then their standard error and exit status. It returns
// the number of lines, or an error wrapping errDiffer that says where the
// outputs part.
func compare(oldBin, newBin string, args, env []string) (int, error) {
	start := func(bin string, res *result) (*exec.Cmd, *bufio.Reader, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stderr = &res.stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, nil, err
		}
		return cmd, bufio.NewReaderSize(out, 1<<20), nil
	}
	var oldRes, newRes result
	oldCmd, oldOut, err := start(oldBin, &oldRes)
	if err != nil {
		return 0, err
	}
	newCmd, newOut, err := start(newBin, &newRes)
	if err != nil {
		oldCmd.Process.Kill()
		oldCmd.Wait()
		return 0, err
	}
	lines, diff := 0, error(nil)
	for {
		a, errA := oldOut.ReadSlice('\n')
		a = bytes.Clone(a) // the next ReadSlice may overwrite it
		b, errB := newOut.ReadSlice('\n')
		if errors.Is(errA, bufio.ErrBufferFull) || errors.Is(errB, bufio.ErrBufferFull) {
			// A line longer than the buffer: compare the rest in pieces.
			if !bytes.Equal(a, b) {
				diff = fmt.Errorf("%w at line %d (a line over 1 MiB)", errDiffer, lines+1)
				break
			}
			continue
		}
		if !bytes.Equal(a, b) {
			diff = fmt.Errorf("%w at line %d:\n  old: %s\n  new: %s", errDiffer, lines+1, clip(a), clip(b))
			break
		}
		if errA != nil || errB != nil {
			break
		}
		lines++
	}
	// Drain what is left so both processes can exit.
	var wg sync.WaitGroup
	for _, r := range []io.Reader{oldOut, newOut} {
		wg.Add(1)
		go func() { defer wg.Done(); io.Copy(io.Discard, r) }()
	}
	wg.Wait()
	oldRes.err, newRes.err = oldCmd.Wait(), newCmd.Wait()
	if diff != nil {
		return lines, diff
	}
	if !bytes.Equal(oldRes.stderr.Bytes(), newRes.stderr.Bytes()) {
		return lines, fmt.Errorf("%w on stderr:\n  old: %s\n  new: %s", errDiffer, clip(oldRes.stderr.Bytes()), clip(newRes.stderr.Bytes()))
	}
	if exitCode(oldRes.err) != exitCode(newRes.err) {
		return lines, fmt.Errorf("%w in exit status: old %v, new %v", errDiffer, oldRes.err, newRes.err)
	}
	return lines, nil
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func clip(b []byte) string {
	b = bytes.TrimRight(b, "\n")
	if len(b) > 400 {
		return string(b[:400]) + "…"
	}
	return string(b)
}
