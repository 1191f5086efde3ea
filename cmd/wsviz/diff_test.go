package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsviz/wsviz/capture/live"
	"github.com/wsviz/wsviz/internal/session"
)

// TestDiffRecordings compares the recordings of the deterministic session
// (testdata/session): the same session recorded twice, its two connections
// opened in the other order the second time, is equal; with one message
// changed it differs, and the diff names the message in a few lines; the
// golden transcript equals either recording.
func TestDiffRecordings(t *testing.T) {
	ab, ba, changed, golden := sessionDir+"ab.pcapng", sessionDir+"ba.pcapng", sessionDir+"changed.pcapng", sessionDir+"ab.transcript"
	for _, pair := range [][2]string{{ab, ba}, {ba, ab}, {golden, ba}, {ab, golden}, {golden, golden}} {
		if code, out, errOut := wsviz(t, "diff", pair[0], pair[1]); code != 0 || out != "" || errOut != "" {
			t.Errorf("wsviz diff %s %s: exit %d, want 0 and no output:\n%s%s", pair[0], pair[1], code, out, errOut)
		}
	}
	code, out, errOut := wsviz(t, "diff", ab, changed)
	want := `--- ../../testdata/session/ab.pcapng
+++ ../../testdata/session/changed.pcapng
@@ connection 2 websocket /chat, message 2 (server text) @@
   client text 37 json {"seq":1,"type":"hello","user":"bob"}
-  server text 66 json {"motd":"the lobby is open","seq":1,"type":"welcome","user":"bob"}
+  server text 68 json {"motd":"the lobby is closed","seq":1,"type":"welcome","user":"bob"}
   client binary 16 hex 627e40512b370418eafbc5d9aeb28c9d
`
	if code != 1 || out != want || errOut != "wsviz diff: 1 connection differs (of 2 and 2 connections)\n" {
		t.Errorf("wsviz diff ab changed: exit %d\n%s%s\nwant exit 1 and\n%s", code, out, errOut, want)
	}
	// The golden transcript against the changed recording.
	if code, out, _ := wsviz(t, "diff", golden, changed); code != 1 || !strings.Contains(out, "message 2 (server text)") {
		t.Errorf("wsviz diff golden changed: exit %d\n%s", code, out)
	}
}

// TestDiffNewRecording records the session again on loopback (as root, as
// in CI) and compares it with the golden transcript.
func TestDiffNewRecording(t *testing.T) {
	skipWithoutCapture(t)
	path := filepath.Join(t.TempDir(), "new.pcapng")
	var err error
	for try := 0; try < 5; try++ {
		// The golden keeps the server's port: record on the same one.
		if err = session.Record(path, session.Options{Reverse: try%2 == 1}); err == nil || errors.As(err, new(*live.PermissionError)) {
			break
		}
		t.Logf("recording: %v (retrying)", err)
		time.Sleep(time.Second)
	}
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := wsviz(t, "diff", sessionDir+"ab.transcript", path); code != 0 {
		t.Errorf("wsviz diff ab.transcript new.pcapng: exit %d\n%s%s", code, out, errOut)
	}
}

// TestDiffFlags shows each normalisation flag turning a difference into
// none.
func TestDiffFlags(t *testing.T) {
	conn := func(id, trace string, pause time.Duration, interleave bool) regressConn {
		c := regressConn{client: "10.0.0.1:5000", path: "/api", header: []string{"X-Trace: " + trace}}
		c.sends = []regressSend{{true, `{"op":"get","id":` + id + `}`, 0}, {true, "more", 0}, {false, `{"ok":true}`, pause}}
		if interleave {
			c.sends[1], c.sends[2] = c.sends[2], c.sends[1]
		}
		return c
	}
	base := writeRegressCapture(t, conn("1", "a", 0, false))
	tests := []struct {
		name    string
		other   string
		without []string // flags under which they differ
		with    []string // flags under which they are equal
	}{
		{"ignore", writeRegressCapture(t, conn("2", "a", 0, false)), nil, []string{"--ignore", "$.id"}},
		{"ignore descendant", writeRegressCapture(t, conn("2", "a", 0, false)), nil, []string{"--ignore", "$..id"}},
		{"ignore-header", writeRegressCapture(t, conn("1", "b", 0, false)), nil, []string{"--ignore-header", "X-Trace"}},
		{"unordered", writeRegressCapture(t, conn("1", "a", 0, true)), nil, []string{"--unordered"}},
		{"tolerance", writeRegressCapture(t, conn("1", "a", 4*time.Millisecond, false)),
			[]string{"--keep", "times", "--tolerance", "1ms"}, []string{"--keep", "times", "--tolerance", "10ms"}},
		{"keep port", writeRegressCapture(t, regressConn{client: "10.0.0.2:7000", path: "/api", header: []string{"X-Trace: a"},
			sends: conn("1", "a", 0, false).sends}), []string{"--keep", "addresses"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code, out, errOut := wsviz(t, append([]string{"diff", base, tc.other}, tc.without...)...); code != 1 || !strings.Contains(out, "@@ connection 1 ") {
				t.Errorf("wsviz diff %v: exit %d, want 1 and a diff:\n%s%s", tc.without, code, out, errOut)
			}
			if tc.with == nil {
				return
			}
			// Flags may come after the files too.
			if code, out, errOut := wsviz(t, append([]string{"diff", base, tc.other}, tc.with...)...); code != 0 || out != "" {
				t.Errorf("wsviz diff %v: exit %d, want 0:\n%s%s", tc.with, code, out, errOut)
			}
			// A transcript made with the flags carries them: diff needs none.
			golden := filepath.Join(t.TempDir(), "golden.transcript")
			flags := tc.with
			if tc.name == "tolerance" {
				flags = []string{"--keep", "times"}
			}
			if code, _, errOut := wsviz(t, append([]string{"transcript", "-o", golden, "-r", base}, flags...)...); code != 0 {
				t.Fatalf("wsviz transcript %v: exit %d: %s", tc.with, code, errOut)
			}
			args := []string{"diff", golden, tc.other}
			if tc.name == "tolerance" {
				args = append(args, "--tolerance", "10ms")
			}
			if code, out, errOut := wsviz(t, args...); code != 0 {
				t.Errorf("wsviz %v: exit %d, want 0:\n%s%s", args, code, out, errOut)
			}
		})
	}
}

func TestDiffOutputFlags(t *testing.T) {
	ab, changed := sessionDir+"ab.pcapng", sessionDir+"changed.pcapng"
	for _, tc := range []struct {
		args  []string
		lines int
	}{{[]string{"-U", "0"}, 5}, {[]string{"-U", "3"}, 11}, {nil, 7}, {[]string{"-q"}, 0}, {[]string{"--inline", "40"}, 7}} {
		code, out, errOut := wsviz(t, append([]string{"diff", ab, changed}, tc.args...)...)
		if code != 1 || strings.Count(out, "\n") != tc.lines || !strings.Contains(errOut, "1 connection differs") ||
			(len(tc.args) > 0 && tc.args[0] == "--inline") != strings.Contains(out, " sha256 ") {
			t.Errorf("wsviz diff %v: exit %d, %d lines, want 1 and %d lines:\n%s%s", tc.args, code, strings.Count(out, "\n"), tc.lines, out, errOut)
		}
	}
}

func TestDiffErrors(t *testing.T) {
	dir := t.TempDir()
	whole, err := os.ReadFile(sessionDir + "ab.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcapng")
	os.WriteFile(cut, whole[:len(whole)*2/3], 0o644)
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("these are my notes\n"), 0o644)
	broken := filepath.Join(dir, "broken.transcript")
	golden, _ := os.ReadFile(sessionDir + "ab.transcript")
	os.WriteFile(broken, []byte(strings.Replace(string(golden), "  end fin", "  end of the story", 1)), 0o644)
	timed := filepath.Join(dir, "timed.transcript")
	if code, _, errOut := wsviz(t, "transcript", "--keep", "times", "-r", sessionDir+"ab.pcapng", "-o", timed); code != 0 {
		t.Fatal(errOut)
	}
	ab := sessionDir + "ab.pcapng"
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"one file", []string{"diff", ab}, "want two files, OLD and NEW, got 1 arguments"},
		{"missing", []string{"diff", ab, filepath.Join(dir, "none.pcap")}, "no such file"},
		{"neither", []string{"diff", notes, ab}, `notes.txt is neither a capture (pcap, pcapng) nor a wsviz transcript: the first line is "these are my notes"`},
		{"broken transcript", []string{"diff", broken, ab}, "broken.transcript: transcript: line "},
		{"truncated capture", []string{"diff", ab, cut}, "cut.pcapng is incomplete, so the comparison would say nothing: capture: cut.pcapng: truncated record at byte offset"},
		{"keep differs from the transcript's", []string{"diff", "--keep", "frames", timed, ab}, "timed.transcript keeps port,times, not port,frames"},
		{"transcripts with different keeps", []string{"diff", timed, sessionDir + "ab.transcript"}, "transcripts made with different --keep cannot be compared"},
		{"bad ignore", []string{"diff", "--ignore", "$.", ab, ab}, "JSONPath"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := wsviz(t, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("wsviz %s: exit %d, stderr %q; want 2 and %q\n%s", strings.Join(tc.args, " "), code, errOut, tc.stderr, out)
			}
		})
	}
	// A transcript with times compares with a capture transcribed alike.
	if code, out, errOut := wsviz(t, "diff", "--tolerance", "1s", timed, sessionDir+"ba.pcapng"); code != 0 {
		t.Errorf("timed transcript against a capture: exit %d\n%s%s", code, out, errOut)
	}
}

// TestDiffH2Streams compares captures of one HTTP/2 connection carrying two
// WebSockets: the chat's on another stream is equal, and so is the golden
// transcript of one against the other; a message changed on the feed's
// stream is reported on that stream only.
func TestDiffH2Streams(t *testing.T) {
	a, moved, changed := h2Chat(t, 1, "feed item 2"), h2Chat(t, 7, "feed item 2"), h2Chat(t, 1, "feed item 3")
	golden := filepath.Join(t.TempDir(), "h2.transcript")
	if code, _, errOut := wsviz(t, "transcript", "-r", a, "-o", golden); code != 0 {
		t.Fatalf("wsviz transcript: exit %d: %s", code, errOut)
	}
	for _, pair := range [][2]string{{a, moved}, {golden, moved}} {
		if code, out, errOut := wsviz(t, "diff", pair[0], pair[1]); code != 0 || out != "" || errOut != "" {
			t.Errorf("wsviz diff %s %s: exit %d, want 0 and no output:\n%s%s", pair[0], pair[1], code, out, errOut)
		}
	}
	code, out, errOut := wsviz(t, "diff", golden, changed)
	want := `@@ connection 1 websocket /chat /feed, stream 3 /feed, message 2 (server text) @@
   stream=3 server text 11 text "feed item 1"
-  stream=3 server text 11 text "feed item 2"
+  stream=3 server text 11 text "feed item 3"
   stream=3 end rst_stream client CANCEL
`
	if code != 1 || !strings.HasSuffix(out, want) || strings.Count(out, "@@") != 2 || errOut != "wsviz diff: 1 connection differs (of 1 and 1 connections)\n" {
		t.Errorf("wsviz diff golden changed: exit %d\n%s%s\nwant exit 1 and\n%s", code, out, errOut, want)
	}
}
