package spill

import (
	"fmt"
	"os"
)

// leafRows is the number of rows in a full leaf of a connection's
// sequence: the rows of a leaf are read from disk together, and each leaf
// costs one node in memory (about 190 bytes), so memory is about 1.5
// bytes an event. The sequence of the whole capture, read for the
// overview and the lists, has leaves of allLeafRows (0.2 bytes an event).
const (
	leafRows    = 128
	allLeafRows = 1024
)

// fanout is the number of children of an inner node of a sequence's tree.
const fanout = 16

// Big is the largest message of a run of events in one direction: the
// timeline draws a merged mark as tall as it, in its colour.
type Big struct {
	Size int64
	ID   uint64
	Kind uint8
	Set  bool
}

// Summary counts a run of events: what the timeline needs to draw them
// merged, and to decide whether to ask for them one by one.
type Summary struct {
	TMin, TMax int64
	N          uint32                // events
	First      uint64                // the ID of the first event
	Last       uint64                // the ID of the last event
	Msgs       [2][NumClasses]uint32 // messages by direction (client, server) and kind class
	Frames     [2]uint32             // ws.frame events by direction
	Warn       [3]uint32             // events with warnings, by Row.From
	WarnMsgs   [2]uint32             // messages with warnings, by direction
	Special    uint32                // events for which Row.Special
	Opens      uint32                // tcp.open
	Closes     uint32                // tcp.close
	Big        [2]Big                // the largest message by direction
}

func dirIndex(from uint8) int {
	if from == FromServer {
		return 1
	}
	return 0
}

// add counts r.
func (s *Summary) add(r *Row) {
	if s.N == 0 || r.Time < s.TMin {
		s.TMin = r.Time
	}
	if s.N == 0 || r.Time > s.TMax {
		s.TMax = r.Time
	}
	if s.N == 0 {
		s.First = r.ID
	}
	s.Last = r.ID
	s.N++
	if r.Flags&FlagWarning != 0 && r.From <= FromServer {
		s.Warn[r.From]++
	}
	d := dirIndex(r.From)
	switch r.Type {
	case TypeWSMessage:
		s.Msgs[d][Class(r.Kind)]++
		if r.Flags&FlagWarning != 0 {
			s.WarnMsgs[d]++
		}
		if b := &s.Big[d]; !b.Set || r.Size > b.Size {
			*b = Big{Size: r.Size, ID: r.ID, Kind: r.Kind, Set: true}
		}
	case TypeWSFrame:
		s.Frames[d]++
	case TypeTCPOpen:
		s.Special++
		s.Opens++
	case TypeTCPClose:
		s.Special++
		s.Closes++
	default:
		s.Special++
	}
}

// merge adds the counts of o.
func (s *Summary) merge(o *Summary) {
	if o.N == 0 {
		return
	}
	if s.N == 0 || o.TMin < s.TMin {
		s.TMin = o.TMin
	}
	if s.N == 0 || o.TMax > s.TMax {
		s.TMax = o.TMax
	}
	if s.N == 0 {
		s.First = o.First
	}
	s.Last = max(s.Last, o.Last)
	s.First = min(s.First, o.First)
	s.N += o.N
	for d := range s.Msgs {
		for c := range s.Msgs[d] {
			s.Msgs[d][c] += o.Msgs[d][c]
		}
		s.Frames[d] += o.Frames[d]
		s.WarnMsgs[d] += o.WarnMsgs[d]
		if b := o.Big[d]; b.Set && (!s.Big[d].Set || b.Size > s.Big[d].Size) {
			s.Big[d] = b
		}
	}
	for i := range s.Warn {
		s.Warn[i] += o.Warn[i]
	}
	s.Special += o.Special
	s.Opens += o.Opens
	s.Closes += o.Closes
}

// Messages returns the number of messages of the summary that pass f,
// counting by direction and class; with f.WarnOnly, the events with
// warnings of the directions that pass instead (the summary does not know
// their classes).
func (s *Summary) Messages(f *Filter) uint32 {
	var n uint32
	for d := range 2 {
		if f.Dir != 0 && dirIndex(f.Dir) != d {
			continue
		}
		if f.WarnOnly {
			n += s.Warn[d+1]
			continue
		}
		for c := range NumClasses {
			if f.Classes&(1<<c) != 0 {
				n += s.Msgs[d][c]
			}
		}
	}
	return n
}

// node is one node of a sequence's tree: a leaf (level 0), whose rows are
// in the rows file, or an inner node summing up to fanout nodes of the
// level below.
type node struct {
	sum  Summary
	off  int64  // leaves: offset of the rows in the rows file
	size uint32 // leaves: bytes of the encoded rows
}

// seq is a sequence of rows in the order they were added (capture order),
// with a tree of summaries over runs of them: the events of one
// connection, of the whole capture, or of a search's matches. The rows of
// full leaves are on disk (rowsFile); the last, partial leaf is in memory.
// Not safe for concurrent use: the Store's lock guards it.
type seq struct {
	rf     *rowsFile
	full   int      // rows in a full leaf
	levels [][]node // levels[0] are the leaves
	// The partial leaf.
	pend    []byte
	pendN   int
	pendSum Summary
	prev    Row // the last row added to pend
	total   Summary
}

func newSeq(rf *rowsFile, full int) *seq { return &seq{rf: rf, full: full} }

// add appends r.
func (q *seq) add(r *Row) error {
	q.pend = appendRow(q.pend, r, &q.prev)
	q.prev = *r
	q.pendN++
	q.pendSum.add(r)
	q.total.add(r)
	if q.pendN == q.full {
		return q.flush()
	}
	return nil
}

// flush writes the partial leaf, if any, as a leaf.
func (q *seq) flush() error {
	if q.pendN == 0 {
		return nil
	}
	off, err := q.rf.write(q.pend)
	if err != nil {
		return err
	}
	q.push(node{sum: q.pendSum, off: off, size: uint32(len(q.pend))})
	q.pend = q.pend[:0]
	q.pendN = 0
	q.pendSum = Summary{}
	q.prev = Row{}
	return nil
}

// push appends the leaf n and counts it in its ancestors, making new
// inner nodes (and levels) as needed. An inner node made anew sums the
// children it has, the new leaf included.
func (q *seq) push(n node) {
	if len(q.levels) == 0 {
		q.levels = append(q.levels, nil)
	}
	q.levels[0] = append(q.levels[0], n)
	i := len(q.levels[0]) - 1
	for l := 1; len(q.levels[l-1]) > 1; l++ {
		i /= fanout
		if l == len(q.levels) {
			q.levels = append(q.levels, nil)
		}
		if i < len(q.levels[l]) {
			q.levels[l][i].sum.merge(&n.sum)
			continue
		}
		var p node
		lo, hi := q.children(l, i)
		for c := lo; c < hi; c++ {
			p.sum.merge(&q.levels[l-1][c].sum)
		}
		q.levels[l] = append(q.levels[l], p)
	}
}

// children returns the index range of the children of node i of level l.
func (q *seq) children(l, i int) (int, int) {
	lo := i * fanout
	return lo, min(lo+fanout, len(q.levels[l-1]))
}

// leafRowsOf decodes the rows of leaf i into buf, reading through
// scratch.
func (q *seq) leafRowsOf(i int, buf []Row, scratch *[]byte) ([]Row, error) {
	n := &q.levels[0][i]
	b, err := q.rf.read(n.off, n.size, scratch)
	if err != nil {
		return buf, err
	}
	return decodeRows(b, buf)
}

// pendRows decodes the rows of the partial leaf into buf.
func (q *seq) pendRows(buf []Row) ([]Row, error) { return decodeRows(q.pend, buf) }

func decodeRows(b []byte, buf []Row) ([]Row, error) {
	var prev Row
	for len(b) > 0 {
		var r Row
		var err error
		if b, err = readRow(b, &prev, &r); err != nil {
			return buf, err
		}
		buf = append(buf, r)
		prev = r
	}
	return buf, nil
}

// visit walks the tree over the rows whose time may lie in [t0, t1]:
// inner(l, i, sum) is called for each overlapping node above the leaves
// and says whether to go down into it (false: the node was counted
// whole); leaf(rows) gets the rows of each overlapping leaf the walk
// reaches, the partial leaf included, in order. leafWhole, when set, is
// asked first for a leaf whether its summary is enough.
func (q *seq) visit(t0, t1 int64, inner func(sum *Summary, leaf bool) bool, leaf func(rows []Row) error, buf []Row) error {
	var scratch []byte
	overlaps := func(s *Summary) bool { return s.N > 0 && s.TMax >= t0 && s.TMin <= t1 }
	var walk func(l, i int) error
	walk = func(l, i int) error {
		n := &q.levels[l][i]
		if !overlaps(&n.sum) || !inner(&n.sum, l == 0) {
			return nil
		}
		if l == 0 {
			rows, err := q.leafRowsOf(i, buf[:0], &scratch)
			if err != nil {
				return err
			}
			buf = rows
			return leaf(rows)
		}
		lo, hi := q.children(l, i)
		for c := lo; c < hi; c++ {
			if err := walk(l-1, c); err != nil {
				return err
			}
		}
		return nil
	}
	if top := len(q.levels) - 1; top >= 0 {
		for i := range q.levels[top] {
			if err := walk(top, i); err != nil {
				return err
			}
		}
	}
	if q.pendN > 0 && overlaps(&q.pendSum) && inner(&q.pendSum, true) {
		rows, err := q.pendRows(buf[:0])
		if err != nil {
			return err
		}
		return leaf(rows)
	}
	return nil
}

// count returns the summary of the rows whose time lies in [t0, t1],
// reading the leaves at the edges of the range.
func (q *seq) count(t0, t1 int64, buf []Row) (Summary, error) {
	var s Summary
	err := q.visit(t0, t1, func(sum *Summary, _ bool) bool {
		if sum.TMin >= t0 && sum.TMax <= t1 {
			s.merge(sum)
			return false
		}
		return true
	}, func(rows []Row) error {
		for i := range rows {
			if r := &rows[i]; r.Time >= t0 && r.Time <= t1 {
				s.add(r)
			}
		}
		return nil
	}, buf)
	return s, err
}

// nth finds the k-th row (from 0) that passes f among those of the
// sequence, walking down the tree by counts; pass must agree with f.
// It returns false when there are fewer.
func (q *seq) nth(k uint64, count func(*Summary) uint64, pass func(*Row) bool, buf []Row) (Row, bool, error) {
	var walk func(l, i int) (Row, bool, error)
	walk = func(l, i int) (Row, bool, error) {
		n := &q.levels[l][i]
		c := count(&n.sum)
		if k >= c {
			k -= c
			return Row{}, false, nil
		}
		if l == 0 {
			var scratch []byte
			rows, err := q.leafRowsOf(i, buf[:0], &scratch)
			if err != nil {
				return Row{}, false, err
			}
			return pickNth(rows, &k, pass)
		}
		lo, hi := q.children(l, i)
		for ch := lo; ch < hi; ch++ {
			if r, ok, err := walk(l-1, ch); ok || err != nil {
				return r, ok, err
			}
		}
		return Row{}, false, fmt.Errorf("spill: summary counts disagree with rows")
	}
	if top := len(q.levels) - 1; top >= 0 {
		for i := range q.levels[top] {
			if r, ok, err := walk(top, i); ok || err != nil {
				return r, ok, err
			}
		}
	}
	if q.pendN > 0 {
		rows, err := q.pendRows(buf[:0])
		if err != nil {
			return Row{}, false, err
		}
		return pickNth(rows, &k, pass)
	}
	return Row{}, false, nil
}

func pickNth(rows []Row, k *uint64, pass func(*Row) bool) (Row, bool, error) {
	for i := range rows {
		if pass(&rows[i]) {
			if *k == 0 {
				return rows[i], true, nil
			}
			*k--
		}
	}
	return Row{}, false, nil
}

// after calls fn with the rows of the sequence from the first whose ID is
// at least id, in order, until fn returns false.
func (q *seq) after(id uint64, fn func(*Row) bool, buf []Row) error {
	// Leaves are in ID order: find the first leaf that may hold id by the
	// last IDs, walking down from the root.
	stop := false
	var scratch []byte
	var walk func(l, i int) error
	walk = func(l, i int) error {
		if stop {
			return nil
		}
		n := &q.levels[l][i]
		if n.sum.N == 0 {
			return nil
		}
		if l == 0 {
			rows, err := q.leafRowsOf(i, buf[:0], &scratch)
			if err != nil {
				return err
			}
			buf = rows
			if len(rows) > 0 && rows[len(rows)-1].ID < id {
				return nil
			}
			for j := range rows {
				if rows[j].ID >= id && !fn(&rows[j]) {
					stop = true
					return nil
				}
			}
			return nil
		}
		lo, hi := q.children(l, i)
		for c := lo; c < hi && !stop; c++ {
			if c+1 < hi && q.firstID(l-1, c+1) <= id {
				continue // the next child starts at or before id: this one ends before it
			}
			if err := walk(l-1, c); err != nil {
				return err
			}
		}
		return nil
	}
	if top := len(q.levels) - 1; top >= 0 {
		for i := range q.levels[top] {
			if i+1 < len(q.levels[top]) && q.firstID(top, i+1) <= id {
				continue
			}
			if err := walk(top, i); err != nil || stop {
				return err
			}
		}
	}
	if q.pendN > 0 && !stop {
		rows, err := q.pendRows(buf[:0])
		if err != nil {
			return err
		}
		for j := range rows {
			if rows[j].ID >= id && !fn(&rows[j]) {
				return nil
			}
		}
	}
	return nil
}

// firstID returns the ID of the first row under node i of level l.
func (q *seq) firstID(l, i int) uint64 {
	for l > 0 {
		i *= fanout
		l--
	}
	return q.levels[0][i].sum.First
}

// rowsFile is the append-only file of the leaves' rows, written through a
// buffer; reads of what is still in the buffer are served from it.
type rowsFile struct {
	f       *os.File
	buf     []byte
	flushed int64 // bytes in the file
}

const rowsBuffer = 256 << 10

func (rf *rowsFile) write(b []byte) (int64, error) {
	off := rf.flushed + int64(len(rf.buf))
	rf.buf = append(rf.buf, b...)
	if len(rf.buf) >= rowsBuffer {
		if err := rf.sync(); err != nil {
			return 0, err
		}
	}
	return off, nil
}

func (rf *rowsFile) sync() error {
	if len(rf.buf) == 0 {
		return nil
	}
	if _, err := rf.f.Write(rf.buf); err != nil {
		return fmt.Errorf("spill: write rows: %w", err)
	}
	rf.flushed += int64(len(rf.buf))
	rf.buf = rf.buf[:0]
	return nil
}

// read returns the bytes at off: a slice of the buffer (valid until the
// next write) or of *scratch (grown as needed), read from the file.
func (rf *rowsFile) read(off int64, size uint32, scratch *[]byte) ([]byte, error) {
	if off >= rf.flushed {
		s := off - rf.flushed
		if s+int64(size) > int64(len(rf.buf)) {
			return nil, errCorrupt
		}
		return rf.buf[s : s+int64(size)], nil
	}
	if cap(*scratch) < int(size) {
		*scratch = make([]byte, size)
	}
	b := (*scratch)[:size]
	if _, err := rf.f.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("spill: read rows: %w", err)
	}
	return b, nil
}

func (rf *rowsFile) size() int64 { return rf.flushed + int64(len(rf.buf)) }
