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
// from the old one's lines to the new one's, or, when both speak HTTP/2,
// their streams matched and compared one by one.
type connPair struct {
	o, n    int // indexes in old.Conns, new.Conns
	edits   []edit
	streams *streamMatch // when both have streams
	equal   bool
}

// streamMatch is how the streams of two HTTP/2 connections match: each
// stream (and the connections' own lines, stream 0) is a part compared on
// its own, as connections are, so that the order in which the streams'
// lines interleave, and the ids the client chose, do not matter.
type streamMatch struct {
	old, new         []*Conn // the parts, in order of opening
	pairs            []connPair
	onlyOld, onlyNew []int
}

// Diff compares two transcripts made with the same options (see
// Normalize and Resolve). Connections are matched by what they are, not
// by number or order: first those with the same kind and path and equal
// lines, then, among those left with the same kind and path, the most
// alike, then any two left that share at least half their lines. Two
// HTTP/2 connections are compared stream by stream: their streams are
// matched the same way (a WebSocket's by its path, a request's by its
// target; in order of opening among alike ones), so that the WebSockets
// of one connection are told apart and the order in which their lines
// interleave does not count. The
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

// lineEqual compares two lines, times within the tolerance. Their HTTP/2
// streams are not compared: a stream's id is the client's choice, as its
// port is, and streams are matched before their lines are compared.
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

// connEqual compares two connections; two HTTP/2 ones stream by stream.
func (d *Difference) connEqual(a, b *Conn) bool {
	if hasStreams(a) && hasStreams(b) {
		return a.Kind == b.Kind && samePaths(a, b) && d.matchStreams(a, b).equal()
	}
	return d.linesEqual(a, b)
}

// linesEqual compares two connections line by line.
func (d *Difference) linesEqual(a, b *Conn) bool {
	if a.Kind != b.Kind || !samePaths(a, b) || len(a.Lines) != len(b.Lines) {
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
	d.pairs, d.onlyOld, d.onlyNew = matchConns(d.old.Conns, d.new.Conns, d.connEqual, connKey)
	for k := range d.pairs {
		p := &d.pairs[k]
		a, b := d.old.Conns[p.o], d.new.Conns[p.n]
		if hasStreams(a) && hasStreams(b) {
			p.streams = d.matchStreams(a, b)
			p.equal = p.streams.equal()
			continue
		}
		if d.linesEqual(a, b) {
			p.equal = true
			continue
		}
		p.edits = diffLines(a.Lines, b.Lines, d.lineEqual)
	}
}

// matchConns matches connections (or the streams of two connections) by
// what they are: equal ones (eq; key finds the candidates), then among
// those left of the same kind and path the most alike, then any two left
// that share at least half their lines. Ties go to the earlier ones. The
// pairs are in olds' order.
func matchConns(olds, news []*Conn, eq func(a, b *Conn) bool, key func(*Conn) string) (pairs []connPair, onlyOld, onlyNew []int) {
	usedO := make([]bool, len(olds))
	usedN := make([]bool, len(news))
	pair := func(i, j int) {
		usedO[i], usedN[j] = true, true
		pairs = append(pairs, connPair{o: i, n: j})
	}
	// 1. Equal ones: candidates are found by their text without times
	// (key), then compared with eq.
	byText := map[string][]int{}
	for j, c := range news {
		k := key(c)
		byText[k] = append(byText[k], j)
	}
	for i, c := range olds {
		for _, j := range byText[key(c)] {
			if !usedN[j] && eq(c, news[j]) {
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
				if usedN[j] || (sameKey && (olds[i].Kind != news[j].Kind || !samePaths(olds[i], news[j]))) {
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
			onlyOld = append(onlyOld, i)
		}
	}
	for j := range news {
		if !usedN[j] {
			onlyNew = append(onlyNew, j)
		}
	}
	slices.SortFunc(pairs, func(a, b connPair) int { return a.o - b.o })
	return pairs, onlyOld, onlyNew
}

// hasStreams reports whether a connection spoke HTTP/2: some of its lines
// are about a stream.
func hasStreams(c *Conn) bool {
	for _, l := range c.Lines {
		if l.Stream != 0 {
			return true
		}
	}
	return false
}

// streams splits a connection by HTTP/2 stream: its own lines (stream 0)
// first, then each stream's, in order of opening (of their first line).
// Each part is a Conn of its own: a stream that opened a WebSocket is of
// kind "websocket" and named by its target, a request's stream "http", the
// connection's own lines "tcp".
func streams(c *Conn) []*Conn {
	parts := []*Conn{{Kind: "tcp"}}
	index := map[uint32]int{0: 0}
	for _, l := range c.Lines {
		k, ok := index[l.Stream]
		if !ok {
			k = len(parts)
			index[l.Stream] = k
			parts = append(parts, &Conn{Kind: "http"})
		}
		p := parts[k]
		p.Lines = append(p.Lines, l)
		if l.Depth != 0 || l.Stream == 0 {
			continue
		}
		switch kind, rest, _ := strings.Cut(l.Text, " "); {
		case kind == "request" && p.Path == "":
			// request METHOD TARGET PROTO
			if _, rest, err := nextToken(rest); err == nil {
				if target, _, err := nextToken(rest); err == nil {
					p.Path, _ = unword(target)
				}
			}
		case kind == "websocket":
			p.Kind = "websocket"
		}
	}
	return parts
}

// streamID is the stream of a part made by streams.
func streamID(p *Conn) uint32 {
	if len(p.Lines) == 0 {
		return 0
	}
	return p.Lines[0].Stream
}

// matchStreams matches the streams of two HTTP/2 connections: the
// connections' own lines with each other, then the streams by what they
// are, as connections are matched.
func (d *Difference) matchStreams(a, b *Conn) *streamMatch {
	m := &streamMatch{old: streams(a), new: streams(b)}
	m.pairs = []connPair{{o: 0, n: 0}}
	pairs, onlyOld, onlyNew := matchConns(m.old[1:], m.new[1:], d.linesEqual, linesKey)
	for _, p := range pairs {
		m.pairs = append(m.pairs, connPair{o: p.o + 1, n: p.n + 1})
	}
	for _, i := range onlyOld {
		m.onlyOld = append(m.onlyOld, i+1)
	}
	for _, j := range onlyNew {
		m.onlyNew = append(m.onlyNew, j+1)
	}
	for k := range m.pairs {
		p := &m.pairs[k]
		pa, pb := m.old[p.o], m.new[p.n]
		if d.linesEqual(pa, pb) {
			p.equal = true
			continue
		}
		p.edits = diffLines(pa.Lines, pb.Lines, d.lineEqual)
	}
	return m
}

// equal reports whether every stream of one side is equal to one of the
// other.
func (m *streamMatch) equal() bool {
	if len(m.onlyOld) > 0 || len(m.onlyNew) > 0 {
		return false
	}
	for _, p := range m.pairs {
		if !p.equal {
			return false
		}
	}
	return true
}

// connKey is a connection's identity and lines, times left out; on
// HTTP/2 (connKey of a connection with streams), its own lines then each
// stream's, the streams in sorted order: the same whatever order their
// lines interleaved in and whatever ids they had.
func connKey(c *Conn) string {
	var b strings.Builder
	b.WriteString(c.Kind + "\x00" + c.Path)
	for _, p := range c.MorePaths {
		b.WriteString("\x00" + p)
	}
	if !hasStreams(c) {
		writeLines(&b, c.Lines)
		return b.String()
	}
	parts := streams(c)
	writeLines(&b, parts[0].Lines)
	keys := make([]string, 0, len(parts)-1)
	for _, p := range parts[1:] {
		keys = append(keys, linesKey(p))
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString("\x00\x01" + k)
	}
	return b.String()
}

// linesKey is a connection's (or a stream's) identity and lines, times and
// streams left out.
func linesKey(c *Conn) string {
	var b strings.Builder
	b.WriteString(c.Kind + "\x00" + c.Path)
	writeLines(&b, c.Lines)
	return b.String()
}

func writeLines(b *strings.Builder, lines []Line) {
	for _, l := range lines {
		fmt.Fprintf(b, "\x00%d %s", l.Depth, l.Text)
	}
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
		switch {
		case p.equal:
		case p.streams != nil:
			d.writeStreams(bw, p)
		default:
			a, b := d.old.Conns[p.o], d.new.Conns[p.n]
			d.writeHunks(bw, d.connName(p), a, b, p.edits)
		}
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
	writeFirstLines(w, c, sign)
}

// writeFirstLines writes the first lines of a connection or stream found
// on one side only.
func writeFirstLines(w io.Writer, c *Conn, sign string) {
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

// writeStreams writes how two HTTP/2 connections differ, stream by
// stream: the hunks of each pair of streams that differ, then the streams
// found on one side only.
func (d *Difference) writeStreams(w io.Writer, p connPair) {
	conn := d.connName(p)
	m := p.streams
	for _, sp := range m.pairs {
		if sp.equal {
			continue
		}
		a, b := m.old[sp.o], m.new[sp.n]
		name := conn
		if sp.o > 0 {
			name += ", " + streamName(a)
			if ia, ib := streamID(a), streamID(b); ia != ib {
				name += fmt.Sprintf(" (stream %d in the new)", ib)
			}
		}
		d.writeHunks(w, name, a, b, sp.edits)
	}
	for _, only := range []struct {
		parts      []*Conn
		idx        []int
		sign, side string
	}{{m.old, m.onlyOld, "-", "old"}, {m.new, m.onlyNew, "+", "new"}} {
		for _, i := range only.idx {
			c := only.parts[i]
			fmt.Fprintf(w, "@@ %s, %s: only in the %s (%d %s) @@\n", conn, streamName(c), only.side, len(c.Lines), plural(len(c.Lines), "line", "lines"))
			writeFirstLines(w, c, only.sign)
		}
	}
}

// streamName names a stream made by streams: "stream 3 /feed".
func streamName(c *Conn) string {
	s := fmt.Sprintf("stream %d", streamID(c))
	if c.Path != "" {
		s += " " + word(c.Path)
	}
	return s
}

// writeHunks writes the hunks of an edit script from a's lines to b's,
// each headed by name and where the change starts.
func (d *Difference) writeHunks(w io.Writer, name string, a, b *Conn, edits []edit) {
	ctx := d.opts.Context
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
		fmt.Fprintf(w, "@@ %s, %s @@\n", name, place)
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
