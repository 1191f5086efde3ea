package wsviztest_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsviz/wsviz/transcript"
	"github.com/wsviz/wsviz/wsviztest"
)

// update is declared as a user's test package declares it: Compare reads it
// by name.
var update = flag.Bool("update", false, "rewrite the golden files")

const dir = "../testdata/session/"

// TestMain keeps -update from rewriting the shipped files these tests
// compare against (they are the transcript package's golden files: go test
// ./transcript -run TestGolden -update remakes them).
func TestMain(m *testing.M) {
	flag.Parse()
	if *update {
		fmt.Fprintln(os.Stderr, "wsviztest: -update ignored: these tests compare against the transcript package's golden files")
		*update = false
	}
	os.Exit(m.Run())
}

// recorder is a TB that keeps what Compare reports.
type recorder struct {
	errors, fatals []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
}

// TestCompare: the golden transcript of one recording matches the other
// recording of the same session.
func TestCompare(t *testing.T) {
	wsviztest.Compare(t, dir+"ba.pcapng", dir+"ab.transcript")
	wsviztest.Compare(t, dir+"changed.pcapng", dir+"changed.transcript")
}

func TestCompareFails(t *testing.T) {
	var r recorder
	wsviztest.Compare(&r, dir+"changed.pcapng", dir+"ab.transcript")
	if len(r.errors) != 1 || len(r.fatals) != 0 {
		t.Fatalf("errors %q, fatals %q: want one error", r.errors, r.fatals)
	}
	msg := r.errors[0]
	for _, want := range []string{"1 connection differs", "go test -update rewrites it", "@@ connection 2 websocket /chat, message 2 (server text) @@",
		`+  server text 68 json {"motd":"the lobby is closed"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("the report lacks %q:\n%s", want, msg)
		}
	}
	if n := strings.Count(msg, "\n"); n > 8 {
		t.Errorf("the report has %d lines for one changed message:\n%s", n, msg)
	}
}

// TestCompareUpdate: with -update, Compare writes the golden file, which
// then compares equal.
func TestCompareUpdate(t *testing.T) {
	golden := filepath.Join(t.TempDir(), "sub", "session.transcript")
	var r recorder
	wsviztest.Compare(&r, dir+"ab.pcapng", golden)
	if len(r.fatals) != 1 || !strings.Contains(r.fatals[0], "go test -update rewrites it") {
		t.Errorf("no golden file yet: fatals %q, want one saying how to write it", r.fatals)
	}
	was := *update
	if err := flag.Set("update", "true"); err != nil {
		t.Fatal(err)
	}
	wsviztest.Compare(t, dir+"ab.pcapng", golden)
	flag.Set("update", fmt.Sprint(was))
	got, err := os.ReadFile(golden)
	want, _ := os.ReadFile(dir + "ab.transcript")
	if err != nil || string(got) != string(want) {
		t.Fatalf("-update wrote %q (%v), want ab.transcript", got, err)
	}
	wsviztest.Compare(t, dir+"ba.pcapng", golden)
}

// TestCompareOptions: a golden file with times, compared with another
// recording within a tolerance.
func TestCompareOptions(t *testing.T) {
	golden := filepath.Join(t.TempDir(), "timed.transcript")
	o := wsviztest.Options{Transcript: transcript.Options{Keep: transcript.KeepPort | transcript.KeepTimes}, Update: true}
	wsviztest.CompareOptions(t, dir+"ab.pcapng", golden, o)
	if b, _ := os.ReadFile(golden); !strings.Contains(string(b), "keep port,times\n") {
		t.Fatalf("the golden file does not keep times:\n%s", b)
	}
	var r recorder
	wsviztest.CompareOptions(&r, dir+"ba.pcapng", golden, wsviztest.Options{Diff: transcript.DiffOptions{TimeTolerance: time.Nanosecond}})
	if len(r.errors) != 1 {
		t.Errorf("times compared exactly: errors %q, want the recordings to differ", r.errors)
	}
	wsviztest.CompareOptions(t, dir+"ba.pcapng", golden, wsviztest.Options{Diff: transcript.DiffOptions{TimeTolerance: time.Second}})
}

func TestCompareBadInput(t *testing.T) {
	tmp := t.TempDir()
	whole, err := os.ReadFile(dir + "ab.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(tmp, "cut.pcapng")
	os.WriteFile(cut, whole[:len(whole)/2], 0o644)
	notes := filepath.Join(tmp, "notes.txt")
	os.WriteFile(notes, []byte("notes\n"), 0o644)
	for _, tc := range []struct {
		capture, golden, want string
	}{
		{cut, dir + "ab.transcript", "is incomplete: capture: cut.pcapng: truncated record"},
		{dir + "ab.pcapng", dir + "ba.pcapng", "ba.pcapng is a capture, not a golden transcript"},
		{dir + "ab.pcapng", notes, "is neither a capture (pcap, pcapng) nor a wsviz transcript"},
		{notes, dir + "ab.transcript", "not a pcap or pcapng file"},
	} {
		var r recorder
		wsviztest.Compare(&r, tc.capture, tc.golden)
		if len(r.fatals) != 1 || !strings.Contains(r.fatals[0], tc.want) {
			t.Errorf("Compare(%s, %s): fatals %q, errors %q; want %q", tc.capture, tc.golden, r.fatals, r.errors, tc.want)
		}
	}
}
