package transcript

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// DiffOptions tune Diff.
type DiffOptions struct {
	// TimeTolerance is how far apart two times may be and still be equal,
	// when the transcripts keep times. 0 means exactly equal (to the
	// microsecond written).
	TimeTolerance time.Duration
	// Context is the number of unchanged lines shown around each change;
	// negative means DefaultContext.
	Context int
}

// DefaultContext is the number of unchanged lines Diff shows around each
// change by default: enough to see where a message sits, short enough to
// read at a glance.
const DefaultContext = 1

// ErrIncomplete is wrapped by Diff's error when a side's capture could not
// be read to the end: comparing part of a session says nothing.
var ErrIncomplete = errors.New("incomplete")

// Difference is the outcome of Diff: which connections match which, and
// how the matched ones differ.
type Difference struct {
	opts  DiffOptions
	old   *Transcript
	new   *Transcript
	pairs []connPair // matched connections, in the old transcript's order
	// connections found on one side only, by index
	onlyOld, onlyNew []int
}

// connPair is a connection of each side, matched, with the edit script
// from the old one's lines to the new one's.
type connPair struct {
	o, n  int // indexes in old.Conns, new.Conns
	edits []edit
	equal bool
}

// Diff compares two transcripts made with the same options (see
// Normalize and Resolve). Connections are matched by what they are, not
// by number or order: first those with the same kind and path and equal
// lines, then, among those left with the same kind and path, the most
// alike, then any two left that share at least half their lines. The
// error is for transcripts that cannot be compared: one incomplete (it
// wraps ErrIncomplete), or made with different details kept.
func Diff(old, new *Transcript, opts DiffOptions) (*Difference, error) {
	for _, side := range []struct {
		name string
		t    *Transcript
	}{{"the old side", old}, {"the new side", new}} {
		if side.t.Incomplete != "" {
			return nil, fmt.Errorf("%s is %w: %s", side.name, ErrIncomplete, side.t.Incomplete)
		}
	}
	if !old.Options.Keep.Equal(new.Options.Keep) {
		return nil, fmt.Errorf("transcript: the old side keeps %s, the new side %s", old.Options.Keep, new.Options.Keep)
	}
	if opts.Context < 0 {
		opts.Context = DefaultContext
	}
	d := &Difference{opts: opts, old: old, new: new}
	d.match()
	return d, nil
}

// Equal reports whether the transcripts are the same.
func (d *Difference) Equal() bool {
	if len(d.onlyOld) > 0 || len(d.onlyNew) > 0 {
		return false
	}
	for _, p := range d.pairs {
		if !p.equal {
			return false
		}
	}
	return true
}

// lineEqual compares two lines, times within the tolerance.
func (d *Difference) lineEqual(a, b Line) bool {
	if a.Depth != b.Depth || a.Text != b.Text || a.Timed != b.Timed {
		return false
	}
	if !a.Timed {
		return true
	}
	diff := a.At - b.At
	return max(diff, -diff) <= d.opts.TimeTolerance
}

func (d *Difference) connEqual(a, b *Conn) bool {
	if a.Kind != b.Kind || a.Path != b.Path || len(a.Lines) != len(b.Lines) {
		return false
	}
	for i := range a.Lines {
		if !d.lineEqual(a.Lines[i], b.Lines[i]) {
			return false
		}
	}
	return true
}

// maxScored bounds the pairs of connections whose likeness is measured;
// past it the leftovers of a kind and path are matched in order.
const maxScored = 1 << 16

func (d *Difference) match() {
	olds, news := d.old.Conns, d.new.Conns
	usedO := make([]bool, len(olds))
	usedN := make([]bool, len(news))
	pair := func(i, j int) {
		usedO[i], usedN[j] = true, true
		d.pairs = append(d.pairs, connPair{o: i, n: j})
	}
	// 1. Equal connections. Both sides are sorted by kind, path and
	// lines, so candidates are found by their text without times.
	byText := map[string][]int{}
	for j, c := range news {
		k := connKey(c)
		byText[k] = append(byText[k], j)
	}
	for i, c := range olds {
		for _, j := range byText[connKey(c)] {
			if !usedN[j] && d.connEqual(c, news[j]) {
				pair(i, j)
				break
			}
		}
	}
	// 2. Among the rest of the same kind and path, the most alike first.
	group := func(sameKey bool) {
		var cands [][3]int // score, i, j
		var left [][2]int
		for i := range olds {
			if usedO[i] {
				continue
			}
			for j := range news {
				if usedN[j] || (sameKey && (olds[i].Kind != news[j].Kind || olds[i].Path != news[j].Path)) {
					continue
				}
				left = append(left, [2]int{i, j})
			}
		}
		if len(left) > maxScored {
			// Too many to measure: in order.
			for _, ij := range left {
				if !usedO[ij[0]] && !usedN[ij[1]] && sameKey {
					pair(ij[0], ij[1])
				}
			}
			return
		}
		for _, ij := range left {
			s := likeness(olds[ij[0]], news[ij[1]])
			if !sameKey && 2*s < min(len(olds[ij[0]].Lines), len(news[ij[1]].Lines)) {
				continue
			}
			cands = append(cands, [3]int{s, ij[0], ij[1]})
		}
		slices.SortStableFunc(cands, func(a, b [3]int) int { return b[0] - a[0] })
		for _, c := range cands {
			if !usedO[c[1]] && !usedN[c[2]] {
				pair(c[1], c[2])
			}
		}
	}
	group(true)
	group(false)
	for i := range olds {
		if !usedO[i] {
			d.onlyOld = append(d.onlyOld, i)
		}
	}
	for j := range news {
		if !usedN[j] {
			d.onlyNew = append(d.onlyNew, j)
		}
	}
	slices.SortFunc(d.pairs, func(a, b connPair) int { return a.o - b.o })
	for k := range d.pairs {
		p := &d.pairs[k]
		a, b := olds[p.o], news[p.n]
		if d.connEqual(a, b) {
			p.equal = true
			continue
		}
		p.edits = diffLines(a.Lines, b.Lines, d.lineEqual)
	}
}

// connKey is a connection's identity and lines, times left out.
func connKey(c *Conn) string {
	var b strings.Builder
	b.WriteString(c.Kind + "\x00" + c.Path)
	for _, l := range c.Lines {
		fmt.Fprintf(&b, "\x00%d %s", l.Depth, l.Text)
	}
	return b.String()
}

// likeness counts the lines two connections have in common, as multisets.
func likeness(a, b *Conn) int {
	count := map[string]int{}
	for _, l := range a.Lines {
		count[l.Text]++
	}
	n := 0
	for _, l := range b.Lines {
		if count[l.Text] > 0 {
			count[l.Text]--
			n++
		}
	}
	if a.Path == b.Path {
		n++
	}
	return n
}

// Summary says in one line how the transcripts differ, or that they do
// not.
func (d *Difference) Summary() string {
	if d.Equal() {
		return fmt.Sprintf("%d %s, all equal", len(d.old.Conns), plural(len(d.old.Conns), "connection", "connections"))
	}
	changed := 0
	for _, p := range d.pairs {
		if !p.equal {
			changed++
		}
	}
	var parts []string
	if changed > 0 {
		parts = append(parts, fmt.Sprintf("%d %s", changed, plural(changed, "connection differs", "connections differ")))
	}
	if n := len(d.onlyOld); n > 0 {
		parts = append(parts, fmt.Sprintf("%d only in the old", n))
	}
	if n := len(d.onlyNew); n > 0 {
		parts = append(parts, fmt.Sprintf("%d only in the new", n))
	}
	return fmt.Sprintf("%s (of %d and %d %s)", strings.Join(parts, ", "), len(d.old.Conns), len(d.new.Conns), "connections")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// WriteTo writes the differences as a unified diff of the transcripts'
// text, oldName and newName in the file headers. Each hunk's header names
// the connection (by its number in the old transcript, and in the new one
// when that differs) and the message, or the line, where the change
// starts. Connections found on one side only are listed with their first
// lines. Nothing is written when the transcripts are equal.
func (d *Difference) WriteTo(w io.Writer, oldName, newName string) error {
	if d.Equal() {
		return nil
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "--- %s\n+++ %s\n", oldName, newName)
	for _, p := range d.pairs {
		if p.equal {
			continue
		}
		d.writeHunks(bw, p)
	}
	for _, i := range d.onlyOld {
		d.writeOnly(bw, d.old, i, "-", "old")
	}
	for _, j := range d.onlyNew {
		d.writeOnly(bw, d.new, j, "+", "new")
	}
	return bw.Flush()
}

// maxOnlyLines is how many lines of a connection found on one side are
// shown.
const maxOnlyLines = 4

func (d *Difference) writeOnly(w io.Writer, t *Transcript, i int, sign, side string) {
	c := t.Conns[i]
	fmt.Fprintf(w, "@@ connection %d %s: only in the %s (%d %s) @@\n", i+1, c.title(), side, len(c.Lines), plural(len(c.Lines), "line", "lines"))
	fmt.Fprintf(w, "%sconnection %d %s\n", sign, i+1, c.title())
	for k, l := range c.Lines {
		if k == maxOnlyLines {
			fmt.Fprintf(w, "%s  ... %d more\n", sign, len(c.Lines)-k)
			break
		}
		fmt.Fprintf(w, "%s%s\n", sign, l.String())
	}
}

// connName names a pair's connection: "connection 2 websocket /chat", with
// its number on the new side when that differs.
func (d *Difference) connName(p connPair) string {
	a, b := d.old.Conns[p.o], d.new.Conns[p.n]
	s := fmt.Sprintf("connection %d %s", p.o+1, a.title())
	switch {
	case p.o != p.n && a.title() != b.title():
		s += fmt.Sprintf(" (connection %d %s in the new)", p.n+1, b.title())
	case p.o != p.n:
		s += fmt.Sprintf(" (connection %d in the new)", p.n+1)
	case a.title() != b.title():
		s += fmt.Sprintf(" (%s in the new)", b.title())
	}
	return s
}

// where names the line at index i of a connection: its message number
// ("message 3, server text") or the first word of the line of depth 0 it
// belongs to ("request", "end").
func where(c *Conn, i int) string {
	if i >= len(c.Lines) {
		return "the end"
	}
	top := i
	for top > 0 && c.Lines[top].Depth > 0 {
		top--
	}
	n := 0
	for k := 0; k <= top; k++ {
		if c.Lines[k].Depth == 0 && isMessageLine(c.Lines[k].Text) {
			n++
		}
	}
	text := c.Lines[top].Text
	if isMessageLine(text) {
		if m, err := parseMessage(text); err == nil {
			return fmt.Sprintf("message %d (%s %s)", n, m.From, m.Opcode)
		}
	}
	kind, _, _ := strings.Cut(text, " ")
	if isOrphanFrame(text) {
		kind = "frame after message " + fmt.Sprint(n)
	}
	return kind
}

func (d *Difference) writeHunks(w io.Writer, p connPair) {
	a, b := d.old.Conns[p.o], d.new.Conns[p.n]
	ctx := d.opts.Context
	edits := p.edits
	for start := 0; start < len(edits); {
		// Find the next change, then extend the hunk while changes are
		// within 2*ctx lines of each other.
		for start < len(edits) && edits[start].op == opEqual {
			start++
		}
		if start == len(edits) {
			break
		}
		end := start
		for k := start; k < len(edits); k++ {
			if edits[k].op != opEqual {
				end = k + 1
				continue
			}
			if k-end >= 2*ctx {
				break
			}
		}
		from := max(0, start-ctx)
		to := min(len(edits), end+ctx)
		first := edits[start]
		// Where the change starts: in the old connection's numbering,
		// or the new one's for an insertion.
		place := where(a, first.i)
		if first.op == opInsert {
			place = where(b, first.j)
		}
		fmt.Fprintf(w, "@@ %s, %s @@\n", d.connName(p), place)
		for _, e := range edits[from:to] {
			switch e.op {
			case opEqual:
				fmt.Fprintf(w, " %s\n", a.Lines[e.i].String())
			case opDelete:
				fmt.Fprintf(w, "-%s\n", a.Lines[e.i].String())
			case opInsert:
				fmt.Fprintf(w, "+%s\n", b.Lines[e.j].String())
			}
		}
		start = to
	}
}

// edit is one step of an edit script: keep a[i] (= b[j]), delete a[i], or
// insert b[j].
type edit struct {
	op   byte
	i, j int
}

const (
	opEqual  = '='
	opDelete = '-'
	opInsert = '+'
)

// maxEditDistance bounds the work of diffLines (Myers' algorithm is
// O((N+M)·D) in time and here O(D²) in memory): past it the middle is
// written as deleted and inserted whole.
const maxEditDistance = 2000

// diffLines returns an edit script from a to b: the common prefix and
// suffix, and Myers' shortest edit script between them.
func diffLines(a, b []Line, eq func(x, y Line) bool) []edit {
	pre := 0
	for pre < len(a) && pre < len(b) && eq(a[pre], b[pre]) {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && eq(a[len(a)-1-suf], b[len(b)-1-suf]) {
		suf++
	}
	var out []edit
	for k := range pre {
		out = append(out, edit{opEqual, k, k})
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	mid, ok := myers(len(ma), len(mb), func(i, j int) bool { return eq(ma[i], mb[j]) })
	if !ok {
		mid = mid[:0]
		for i := range ma {
			mid = append(mid, edit{opDelete, i, 0})
		}
		for j := range mb {
			mid = append(mid, edit{opInsert, len(ma), j})
		}
	}
	for _, e := range mid {
		e.i += pre
		e.j += pre
		out = append(out, e)
	}
	for k := range suf {
		out = append(out, edit{opEqual, len(a) - suf + k, len(b) - suf + k})
	}
	return out
}

// myers finds a shortest edit script between sequences of n and m items
// (E. W. Myers, "An O(ND) Difference Algorithm and Its Variations", 1986),
// keeping each round's furthest reaching paths to walk back. It gives up
// (false) past maxEditDistance.
func myers(n, m int, eq func(i, j int) bool) ([]edit, bool) {
	if n == 0 && m == 0 {
		return nil, true
	}
	maxD := min(n+m, maxEditDistance)
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	var trace [][]int
	for dist := 0; dist <= maxD; dist++ {
		snap := make([]int, 2*dist+1)
		for k := -dist; k <= dist; k += 2 {
			var x int
			if k == -dist || (k != dist && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1] // down: an insertion
			} else {
				x = v[off+k-1] + 1 // right: a deletion
			}
			y := x - k
			for x < n && y < m && eq(x, y) {
				x, y = x+1, y+1
			}
			v[off+k] = x
			if x >= n && y >= m {
				for kk := -dist; kk <= dist; kk += 2 {
					snap[kk+dist] = v[off+kk]
				}
				trace = append(trace, snap)
				return backtrack(trace, n, m), true
			}
		}
		for k := -dist; k <= dist; k += 2 {
			snap[k+dist] = v[off+k]
		}
		trace = append(trace, snap)
	}
	return nil, false
}

// backtrack walks the furthest reaching paths back from (n, m).
func backtrack(trace [][]int, n, m int) []edit {
	var rev []edit
	x, y := n, m
	for dist := len(trace) - 1; dist > 0; dist-- {
		prev := trace[dist-1]
		at := func(k int) int { return prev[k+dist-1] }
		k := x - y
		var pk int
		if k == -dist || (k != dist && at(k-1) < at(k+1)) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := at(pk)
		py := px - pk
		for x > px && y > py {
			x, y = x-1, y-1
			rev = append(rev, edit{opEqual, x, y})
		}
		if pk == k+1 {
			y--
			rev = append(rev, edit{opInsert, x, y})
		} else {
			x--
			rev = append(rev, edit{opDelete, x, y})
		}
	}
	for x > 0 && y > 0 {
		x, y = x-1, y-1
		rev = append(rev, edit{opEqual, x, y})
	}
	slices.Reverse(rev)
	return rev
}
