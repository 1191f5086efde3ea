package transcript

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// two users on the same path, told apart by what they say.
func ada() script {
	return script{client: "10.0.0.1:5001", path: "/chat", steps: []step{
		client(`{"user":"ada"}`), server(`{"welcome":"ada"}`), client("one"), server("two"), client("three"), server("four")}}
}

func bob() script {
	return script{client: "10.0.0.1:5002", path: "/chat", steps: []step{
		client(`{"user":"bob"}`), server(`{"welcome":"bob"}`), client("one"), server("two"), client("three"), server("four")}}
}

// TestDiffMatchesByContent: the same connections opened in the other order,
// from other ports, are equal.
func TestDiffMatchesByContent(t *testing.T) {
	a := transcribe(t, writeCapture(t, ada(), bob()), Options{})
	b2, a2 := bob(), ada()
	b2.client, a2.client = "10.0.0.9:6000", "10.0.0.9:6001"
	b := transcribe(t, writeCapture(t, b2, a2), Options{})
	if a.String() != b.String() {
		t.Errorf("transcripts differ:\n%s\n%s", a, b)
	}
	if d := diffText(t, a, b, DiffOptions{}); d != "" {
		t.Errorf("Diff:\n%s", d)
	}
	// Even when their order in the transcripts is not the stable one.
	b.Conns[0], b.Conns[1] = b.Conns[1], b.Conns[0]
	if d := diffText(t, a, b, DiffOptions{}); d != "" {
		t.Errorf("Diff with the connections swapped:\n%s", d)
	}
}

// TestDiffNamesMessage: one changed message is reported in a few lines that
// name its connection and its number.
func TestDiffNamesMessage(t *testing.T) {
	a := transcribe(t, writeCapture(t, ada(), bob()), Options{})
	changed := bob()
	changed.steps[3] = server("TWO")
	b := transcribe(t, writeCapture(t, changed, ada()), Options{})
	got := diffText(t, a, b, DiffOptions{Context: -1})
	want := `--- old
+++ new
@@ connection 2 websocket /chat, message 4 (server text) @@
   client text 3 text "one"
-  server text 3 text "two"
+  server text 3 text "TWO"
   client text 5 text "three"
`
	if got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	for _, tc := range []struct {
		context int
		lines   int
	}{{0, 5}, {1, 7}, {3, 11}} {
		got := diffText(t, a, b, DiffOptions{Context: tc.context})
		if n := strings.Count(got, "\n"); n != tc.lines {
			t.Errorf("Context %d: %d lines, want %d:\n%s", tc.context, n, tc.lines, got)
		}
	}
}

func TestDiffTolerance(t *testing.T) {
	late := ada()
	late.steps[1] = late.steps[1].after(3 * time.Millisecond)
	a := transcribe(t, writeCapture(t, ada()), Options{Keep: KeepTimes})
	b := transcribe(t, writeCapture(t, late), Options{Keep: KeepTimes})
	for _, tc := range []struct {
		tol   time.Duration
		equal bool
	}{{0, false}, {time.Millisecond, false}, {3 * time.Millisecond, true}, {time.Second, true}} {
		got := diffText(t, a, b, DiffOptions{TimeTolerance: tc.tol})
		if (got == "") != tc.equal {
			t.Errorf("TimeTolerance %v: diff %q, want equal %v", tc.tol, got, tc.equal)
		}
		if got != "" && !strings.Contains(got, "-  +0.00") {
			t.Errorf("TimeTolerance %v: the diff shows no time:\n%s", tc.tol, got)
		}
	}
	// Without times, the delay is invisible.
	if got := diffText(t, transcribe(t, writeCapture(t, ada()), Options{}), transcribe(t, writeCapture(t, late), Options{}), DiffOptions{}); got != "" {
		t.Errorf("without times: %s", got)
	}
}

func TestDiffUnordered(t *testing.T) {
	inOrder := script{client: "10.0.0.1:5001", path: "/feed", steps: []step{client("sub a"), client("sub b"), server("tick 1"), server("tick 2")}}
	interleaved := script{client: "10.0.0.1:5001", path: "/feed", steps: []step{client("sub a"), server("tick 1"), client("sub b"), server("tick 2")}}
	pa, pb := writeCapture(t, inOrder), writeCapture(t, interleaved)
	if got := diffText(t, transcribe(t, pa, Options{}), transcribe(t, pb, Options{}), DiffOptions{}); got == "" {
		t.Error("interleaved messages compare equal without Unordered")
	}
	ua, ub := transcribe(t, pa, Options{Unordered: true}), transcribe(t, pb, Options{Unordered: true})
	if got := diffText(t, ua, ub, DiffOptions{}); got != "" {
		t.Errorf("with Unordered:\n%s", got)
	}
	// A message changed is still found.
	changed := interleaved
	changed.steps = append([]step(nil), interleaved.steps...)
	changed.steps[3] = server("tick 3")
	got := diffText(t, ua, transcribe(t, writeCapture(t, changed), Options{Unordered: true}), DiffOptions{})
	if !strings.Contains(got, `-  server text 6 text "tick 2"`) || !strings.Contains(got, `+  server text 6 text "tick 3"`) {
		t.Errorf("with Unordered, a changed message:\n%s", got)
	}
}

// TestDiffNormalize: options applied to a transcript read back work as
// they do on a capture.
func TestDiffNormalize(t *testing.T) {
	x := script{client: "10.0.0.1:5001", path: "/api", header: []string{"X-Trace: 1"}, steps: []step{client(`{"id":1,"q":"x"}`), server(`{"id":2,"a":"y"}`)}}
	y := x
	y.header = []string{"X-Trace: 2"}
	y.steps = []step{client(`{"id":3,"q":"x"}`), server(`{"id":4,"a":"y"}`)}
	tx := transcribe(t, writeCapture(t, x), Options{})
	back, err := Parse(strings.NewReader(tx.String()))
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Ignore: []string{"$.id"}, IgnoreHeaders: []string{"X-Trace"}}
	if err := back.Normalize(o); err != nil {
		t.Fatal(err)
	}
	ty := transcribe(t, writeCapture(t, y), o)
	if got := diffText(t, back, ty, DiffOptions{}); got != "" {
		t.Errorf("after Normalize:\n%s", got)
	}
	if err := back.Normalize(Options{Keep: KeepTimes}); err == nil {
		t.Error("Normalize to keep times a transcript without them: no error")
	}
}

func TestDiffOneSideOnly(t *testing.T) {
	a := transcribe(t, writeCapture(t, ada()), Options{})
	b := transcribe(t, writeCapture(t, ada(), bob()), Options{})
	got := diffText(t, a, b, DiffOptions{})
	if !strings.Contains(got, "@@ connection 2 websocket /chat: only in the new (") || !strings.Contains(got, "+connection 2 websocket /chat\n") {
		t.Errorf("a connection only in the new:\n%s", got)
	}
	if n := strings.Count(got, "\n"); n > 4+maxOnlyLines+1 {
		t.Errorf("%d lines for one connection, want a few:\n%s", n, got)
	}
	got = diffText(t, b, a, DiffOptions{})
	if !strings.Contains(got, "only in the old") {
		t.Errorf("a connection only in the old:\n%s", got)
	}
	d, _ := Diff(b, a, DiffOptions{})
	if s := d.Summary(); s != "1 only in the old (of 2 and 1 connections)" {
		t.Errorf("Summary() = %q", s)
	}
}

// TestDiffPathChanged: a connection whose path changed is still paired
// with its old self, and the hunk says so.
func TestDiffPathChanged(t *testing.T) {
	moved := ada()
	moved.path = "/chat2"
	got := diffText(t, transcribe(t, writeCapture(t, ada()), Options{}), transcribe(t, writeCapture(t, moved), Options{}), DiffOptions{})
	if !strings.Contains(got, "@@ connection 1 websocket /chat (websocket /chat2 in the new), request @@") {
		t.Errorf("diff:\n%s", got)
	}
}

// TestMyers checks the edit scripts against the longest common subsequence
// on random sequences.
func TestMyers(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for iter := 0; iter < 500; iter++ {
		a := randomLines(r, r.Intn(12))
		b := randomLines(r, r.Intn(12))
		eq := func(x, y Line) bool { return x.Text == y.Text }
		edits := diffLines(a, b, eq)
		// The script turns a into b.
		var out []string
		ai, bi := 0, 0
		changes := 0
		for _, e := range edits {
			switch e.op {
			case opEqual:
				if e.i != ai || e.j != bi || a[e.i].Text != b[e.j].Text {
					t.Fatalf("bad equal step %+v at %d,%d: %v → %v", e, ai, bi, a, b)
				}
				out = append(out, a[e.i].Text)
				ai, bi = ai+1, bi+1
			case opDelete:
				if e.i != ai {
					t.Fatalf("bad delete %+v at %d", e, ai)
				}
				ai++
				changes++
			case opInsert:
				if e.j != bi {
					t.Fatalf("bad insert %+v at %d", e, bi)
				}
				out = append(out, b[e.j].Text)
				bi++
				changes++
			}
		}
		if ai != len(a) || bi != len(b) || fmt.Sprint(out) != fmt.Sprint(texts(b)) {
			t.Fatalf("the script does not turn %v into %v", texts(a), texts(b))
		}
		if want := len(a) + len(b) - 2*lcs(a, b); changes != want {
			t.Fatalf("%d changes from %v to %v, want %d", changes, texts(a), texts(b), want)
		}
	}
}

func randomLines(r *rand.Rand, n int) []Line {
	l := make([]Line, n)
	for i := range l {
		l[i].Text = string(rune('a' + r.Intn(3)))
	}
	return l
}

func texts(l []Line) []string {
	s := make([]string, len(l))
	for i := range l {
		s[i] = l[i].Text
	}
	return s
}

func lcs(a, b []Line) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i].Text == b[j].Text {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// TestMyersGivesUp: past the edit distance bound the middle is replaced
// whole, still a correct script.
func TestMyersGivesUp(t *testing.T) {
	n := maxEditDistance + 10
	a, b := make([]Line, n), make([]Line, n)
	for i := range a {
		a[i].Text, b[i].Text = fmt.Sprint("a", i), fmt.Sprint("b", i)
	}
	edits := diffLines(a, b, func(x, y Line) bool { return x.Text == y.Text })
	if len(edits) != 2*n {
		t.Errorf("%d edits, want %d", len(edits), 2*n)
	}
}

// TestDiffTimesReadBack: a transcript that keeps times, read back, equals
// the capture it was made from, whose pcapng times have nanoseconds the
// text does not write.
func TestDiffTimesReadBack(t *testing.T) {
	for _, file := range []string{"../testdata/firefox-wss.pcapng", "../testdata/chromium.pcapng"} {
		tr := transcribe(t, file, Options{Keep: KeepPort | KeepTimes})
		back, err := Parse(strings.NewReader(tr.String()))
		if err != nil {
			t.Fatal(err)
		}
		if d := diffText(t, back, tr, DiffOptions{}); d != "" {
			t.Errorf("%s: Diff(read back, capture):\n%s", file, d)
		}
	}
}
