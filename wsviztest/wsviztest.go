package wsviztest

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/transcript"
)

// TB is the part of testing.TB that Compare uses; *testing.T and
// *testing.B are ones.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Options tune CompareOptions. The zero value means the defaults.
type Options struct {
	// Transcript says what the transcript keeps and how it is normalised
	// (--keep, --ignore, --ignore-header, --unordered of wsviz
	// transcript). A golden file records its own, which apply too.
	Transcript transcript.Options
	// Diff sets the time tolerance and the context lines of the diff (0
	// lines means transcript.DefaultContext here).
	Diff transcript.DiffOptions
	// Decode are the analyzer's limits.
	Decode analyze.Options
	// Update rewrites the golden file instead of comparing; when false,
	// the test binary's -update flag decides.
	Update bool
}

// UpdateFlag is the name of the test flag that makes Compare rewrite the
// golden files.
const UpdateFlag = "update"

// Compare fails t when the transcript of the capture at capturePath
// differs from the golden transcript at goldenPath, with the differences
// as a unified diff (each hunk naming the connection and the message).
// With -update it writes the golden file instead.
func Compare(t TB, capturePath, goldenPath string) {
	t.Helper()
	CompareOptions(t, capturePath, goldenPath, Options{})
}

// CompareOptions is Compare with options.
func CompareOptions(t TB, capturePath, goldenPath string, o Options) {
	t.Helper()
	o.Diff.Context = contextOrDefault(o.Diff.Context)
	if o.Update || updateFlag() {
		tr, err := transcript.ReadFile(capturePath, o.Transcript, o.Decode)
		if err != nil {
			t.Fatalf("wsviztest: %v", err)
			return
		}
		if tr.Incomplete != "" {
			t.Fatalf("wsviztest: %s is incomplete: %s", capturePath, tr.Incomplete)
			return
		}
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err == nil {
			err = os.WriteFile(goldenPath, []byte(tr.String()), 0o644)
		}
		if err != nil {
			t.Fatalf("wsviztest: writing the golden file: %v", err)
		}
		return
	}
	golden, err := transcript.OpenSide(goldenPath)
	if err != nil {
		t.Fatalf("wsviztest: %v (%s)", err, hint())
		return
	}
	if golden.IsCapture {
		t.Fatalf("wsviztest: %s is a capture, not a golden transcript", goldenPath)
		return
	}
	captured := &transcript.Side{Path: capturePath, IsCapture: true}
	keepGiven := o.Transcript.Keep != 0
	if _, err := transcript.Resolve(o.Transcript, keepGiven, o.Decode, golden, captured); err != nil {
		t.Fatalf("wsviztest: %v", err)
		return
	}
	d, err := transcript.Diff(golden.Transcript, captured.Transcript, o.Diff)
	if err != nil {
		t.Fatalf("wsviztest: %s against %s: %v", capturePath, goldenPath, err)
		return
	}
	if d.Equal() {
		return
	}
	var buf bytes.Buffer
	d.WriteTo(&buf, goldenPath, capturePath)
	t.Errorf("wsviztest: %s differs from %s: %s (%s)\n%s", capturePath, goldenPath, d.Summary(), hint(), buf.String())
}

// contextOrDefault maps the zero value of DiffOptions.Context to the
// default, as the zero Options promises.
func contextOrDefault(n int) int {
	if n == 0 {
		return transcript.DefaultContext
	}
	return n
}

// updateFlag reports whether the test binary was run with -update.
func updateFlag() bool {
	f := flag.Lookup(UpdateFlag)
	if f == nil {
		return false
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	b, ok := g.Get().(bool)
	return ok && b
}

// hint says how to rewrite the golden file.
func hint() string {
	if flag.Lookup(UpdateFlag) == nil {
		return fmt.Sprintf("declare var update = flag.Bool(%q, false, ...) in the test package, then go test -%s rewrites it", UpdateFlag, UpdateFlag)
	}
	return fmt.Sprintf("go test -%s rewrites it", UpdateFlag)
}
