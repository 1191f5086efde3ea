package transcript

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata")

// goldenCaptures are the captures in testdata whose transcripts are
// pinned: the real loopback recordings, one per warning code, the hostile
// ones and the recordings of the deterministic session.
func goldenCaptures(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"../testdata/*.pcap*", "../testdata/violations/*.pcap*",
		"../testdata/hostile/*.pcap*", "../testdata/session/*.pcap*", "../testdata/encap/*.pcap", "../testdata/h2/*.pcap*"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 30 {
		t.Fatalf("found %d captures in testdata, want the shipped ones", len(files))
	}
	return files
}

// goldenPath is the transcript beside a capture: NAME.transcript.
func goldenPath(capture string) string {
	for _, ext := range []string{".gz", ".pcapng", ".pcap"} {
		capture = strings.TrimSuffix(capture, ext)
	}
	return capture + ".transcript"
}

// TestGolden transcribes every capture in testdata and compares the text
// with NAME.transcript beside it; go test -update rewrites them. Each golden
// file also reads back (Parse) into the same text and compares equal with
// Diff.
func TestGolden(t *testing.T) {
	for _, file := range goldenCaptures(t) {
		name := strings.TrimPrefix(file, "../testdata/")
		t.Run(name, func(t *testing.T) {
			tr, err := ReadFile(file, Options{}, analyze.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tr.Incomplete != "" {
				t.Errorf("ReadFile(%s): incomplete: %s", file, tr.Incomplete)
			}
			got := tr.String()
			golden := goldenPath(file)
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./transcript -run TestGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("transcript of %s differs from %s (go test ./transcript -run TestGolden -update rewrites it):\n%s",
					file, golden, textDiff(t, string(want), got))
			}
			back, err := Parse(bytes.NewReader(want))
			if err != nil {
				t.Fatalf("Parse(%s): %v", golden, err)
			}
			if back.String() != string(want) {
				t.Errorf("Parse(%s).String() differs from the file:\n%s", golden, textDiff(t, string(want), back.String()))
			}
			d, err := Diff(back, tr, DiffOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !d.Equal() && got == string(want) {
				t.Errorf("Diff(golden, capture) finds differences in equal text: %s", d.Summary())
			}
		})
	}
}

// TestSessionRecordings checks the recordings of the deterministic session:
// the two connections were opened in the other order the second time, yet
// the transcripts are the same text; the changed one differs.
func TestSessionRecordings(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("../testdata/session/" + name + ".transcript")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	ab, ba, changed := read("ab"), read("ba"), read("changed")
	if ab != ba {
		t.Errorf("ab.transcript and ba.transcript differ:\n%s", textDiff(t, ab, ba))
	}
	if ab == changed {
		t.Error("changed.transcript is the same as ab.transcript")
	}
	// The connections really were opened in another order.
	firstUser := func(file string) string {
		evs, err := analyze.ReadFile(file, analyze.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Type == analyze.TypeWSMessage && ev.Conn == 1 && ev.From == analyze.FromClient {
				return string(ev.Message.Payload)
			}
		}
		return ""
	}
	if a, b := firstUser("../testdata/session/ab.pcapng"), firstUser("../testdata/session/ba.pcapng"); a == b {
		t.Errorf("connection 1 says %s in both recordings, want the users swapped", a)
	}
}

// textDiff shows how two texts differ, as Diff would (or line by line when
// they do not parse).
func textDiff(t *testing.T, want, got string) string {
	t.Helper()
	a, err1 := Parse(strings.NewReader(want))
	b, err2 := Parse(strings.NewReader(got))
	if err1 == nil && err2 == nil && a.Options.Keep.Equal(b.Options.Keep) && a.Incomplete == "" && b.Incomplete == "" {
		if d, err := Diff(a, b, DiffOptions{Context: -1}); err == nil && !d.Equal() {
			var buf bytes.Buffer
			d.WriteTo(&buf, "want", "got")
			return buf.String()
		}
	}
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "first difference at line " + strconv.Itoa(i+1) + ":\n-" + w + "\n+" + g
		}
	}
	return "(the same lines)"
}

// TestFilterInsideTunnels reads the tunnelled and fragmented captures with
// a packet filter naming the inner connection's port, as a team's golden
// test does with Options.Filter: the transcript must hold every
// connection, as `wsviz transcript -r FILE 'tcp port 9001'` does, and a
// filter on another port none. (The filter once tested only the outer
// packets here, so a tunnelled or fragmented capture lost its
// connections in wsviztest but not on the command line.)
func TestFilterInsideTunnels(t *testing.T) {
	files, err := filepath.Glob("../testdata/encap/*.pcap")
	if err != nil || len(files) < 10 {
		t.Fatalf("found %d encapsulation captures (%v), want the shipped ones", len(files), err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			all, err := ReadFile(file, Options{}, analyze.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(all.Conns) == 0 {
				t.Fatalf("%s has no connection", file)
			}
			for _, tc := range []struct {
				filter string
				want   int // connections, -1 for all of them
			}{
				{"tcp port 9001", -1},
				{"port 9001 and tcp", -1},
				{"tcp port 9002", 0},
			} {
				got, err := ReadFile(file, Options{Filter: tc.filter}, analyze.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if tc.want == 0 {
					if len(got.Conns) != 0 {
						t.Errorf("filter %q: %d connections, want none", tc.filter, len(got.Conns))
					}
					continue
				}
				got.Options.Filter = ""
				if got.String() != all.String() {
					t.Errorf("filter %q changed the transcript:\n%s", tc.filter, textDiff(t, all.String(), got.String()))
				}
			}
		})
	}
}
