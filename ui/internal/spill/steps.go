package spill

import (
	"fmt"
	"math"
	"sort"
	"sync"
)

// The steps of a connection are the rows its ladder lists: the events the
// timeline draws (messages, the special events, frames with warnings) that
// pass the filter, in capture order. The summaries cannot count them for
// every filter (a special event's direction, a warned frame's class are
// not in them), so a steps index counts them once per leaf, the first time
// a (connection, filter, search) is asked for, and then only the leaves
// added since: a page anywhere in the list is then one leaf read away.

// maxStepIndexes is how many steps indexes a store keeps (the least
// recently used goes first); each is 4 bytes per leaf of its connection.
const maxStepIndexes = 16

type stepIndex struct {
	key    string
	src    *seq
	counts []uint64 // counts[i]: the steps in leaves 0..i
}

type stepCache struct {
	mu   sync.Mutex
	list []*stepIndex // most recently used first
}

// stepPass reports whether r is a step of q's ladder: drawn, passing its
// filter, of its stream when it names one.
func stepPass(q *ListQuery) func(*Row) bool {
	f, stream := &q.Filter, q.Stream
	return func(r *Row) bool { return drawn(r) && f.Pass(r) && (stream == 0 || r.Stream == stream) }
}

// stepsSource returns the sequence a steps query reads: the connection's,
// or the search's matches of it. The caller holds s.mu (read) and, with a
// search, q.Search.mu.
func (s *Store) stepsSource(q *ListQuery) *seq {
	if q.Search != nil {
		return q.Search.conns[q.Conn]
	}
	return s.conns[q.Conn]
}

// stepIndexOf returns the steps index of src under key, counting the
// leaves it has not counted yet. The caller holds s.mu (read).
func (s *Store) stepIndexOf(src *seq, key string, pass func(*Row) bool) (*stepIndex, error) {
	c := &s.stepCache
	c.mu.Lock()
	defer c.mu.Unlock()
	var ix *stepIndex
	for i, x := range c.list {
		if x.key == key && x.src == src {
			ix = x
			copy(c.list[1:i+1], c.list[:i])
			c.list[0] = x
			break
		}
	}
	if ix == nil {
		ix = &stepIndex{key: key, src: src}
		if len(c.list) == maxStepIndexes {
			c.list = c.list[:len(c.list)-1]
		}
		c.list = append([]*stepIndex{ix}, c.list...)
	}
	if len(src.levels) == 0 {
		return ix, nil
	}
	var buf []Row
	var scratch []byte
	for i := len(ix.counts); i < len(src.levels[0]); i++ {
		var err error
		buf, err = src.leafRowsOf(i, buf[:0], &scratch)
		if err != nil {
			return ix, err
		}
		var n uint64
		if len(ix.counts) > 0 {
			n = ix.counts[len(ix.counts)-1]
		}
		for k := range buf {
			if pass(&buf[k]) {
				n++
			}
		}
		ix.counts = append(ix.counts, n)
	}
	return ix, nil
}

// full returns the steps in the full leaves.
func (ix *stepIndex) full() uint64 {
	if len(ix.counts) == 0 {
		return 0
	}
	return ix.counts[len(ix.counts)-1]
}

func stepKey(q *ListQuery) string {
	k := fmt.Sprintf("%d/%d/%d/%v/%d", q.Conn, q.Filter.Dir, q.Filter.Classes, q.Filter.WarnOnly, q.Stream)
	if q.Search != nil {
		k += "/" + q.Search.Key
	}
	return k
}

// steps answers a ListSteps query; the caller holds s.mu (read).
func (s *Store) steps(q *ListQuery) (ListPage, error) {
	if q.Search != nil {
		q.Search.mu.Lock()
		defer q.Search.mu.Unlock()
	}
	src := s.stepsSource(q)
	if src == nil {
		return ListPage{}, nil
	}
	pass := stepPass(q)
	ix, err := s.stepIndexOf(src, stepKey(q), pass)
	if err != nil {
		return ListPage{}, err
	}
	pend, err := src.pendRows(nil)
	if err != nil {
		return ListPage{}, err
	}
	var page ListPage
	page.Total = ix.full()
	for k := range pend {
		if pass(&pend[k]) {
			page.Total++
		}
	}
	if q.Offset >= page.Total {
		return page, nil
	}
	// The leaf that holds the Offset-th step, and how many come before it.
	leaf := len(ix.counts)
	var before uint64
	if q.Offset < ix.full() {
		leaf = sort.Search(len(ix.counts), func(i int) bool { return ix.counts[i] > q.Offset })
	}
	if leaf > 0 {
		before = ix.counts[leaf-1]
	}
	var buf []Row
	var scratch []byte
	skip := q.Offset - before
	for i := leaf; len(page.Rows) < q.Limit; i++ {
		rows := pend
		if i < len(ix.counts) {
			if buf, err = src.leafRowsOf(i, buf[:0], &scratch); err != nil {
				return page, err
			}
			rows = buf
		}
		for k := range rows {
			if !pass(&rows[k]) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			page.Rows = append(page.Rows, rows[k])
			if len(page.Rows) == q.Limit {
				break
			}
		}
		if i >= len(ix.counts) {
			break
		}
	}
	return page, nil
}

// locateStep returns the position of event id among the steps of q; the
// caller holds s.mu (read).
func (s *Store) locateStep(q *ListQuery, id uint64) (uint64, bool, error) {
	if q.Search != nil {
		q.Search.mu.Lock()
		defer q.Search.mu.Unlock()
	}
	src := s.stepsSource(q)
	if src == nil {
		return 0, false, nil
	}
	pass := stepPass(q)
	ix, err := s.stepIndexOf(src, stepKey(q), pass)
	if err != nil {
		return 0, false, err
	}
	var leaves []node
	if len(src.levels) > 0 {
		leaves = src.levels[0]
	}
	leaf := sort.Search(len(leaves), func(i int) bool { return leaves[i].sum.Last >= id })
	var rows []Row
	var before uint64
	if leaf < len(leaves) {
		var scratch []byte
		if rows, err = src.leafRowsOf(leaf, nil, &scratch); err != nil {
			return 0, false, err
		}
	} else if rows, err = src.pendRows(nil); err != nil {
		return 0, false, err
	}
	if leaf > 0 {
		before = ix.counts[leaf-1]
	}
	for k := range rows {
		r := &rows[k]
		if r.ID >= id {
			return before, r.ID == id && pass(r), nil
		}
		if pass(r) {
			before++
		}
	}
	return before, false, nil
}

// StepQuery asks for the event that follows (or precedes) an event among
// those the page shows: the keys n, p, w and W, and j and k when the ladder
// is not at hand.
type StepQuery struct {
	From uint64 // the id to start after (or before)
	Back bool   // the previous one rather than the next
	// Ends, instead of From, starts from the first event (or, with Back,
	// the last).
	Ends bool
	// Conn, when not 0, keeps to one connection; else Conns, when not
	// nil, lists the connections shown.
	Conn   uint32
	Conns  map[uint32]bool
	Filter Filter
	Search *Search
	// Warned keeps to the events with warnings.
	Warned bool
}

// Step returns the first drawn event after (or before) q.From that passes
// q, or false when there is none. Leaves whose summaries say they hold no
// such event are not read.
func (s *Store) Step(q StepQuery) (Row, bool, error) {
	s.rlock()
	defer s.mu.RUnlock()
	if s.closed {
		return Row{}, false, ErrClosed
	}
	var src *seq
	if q.Search != nil {
		q.Search.mu.Lock()
		defer q.Search.mu.Unlock()
		src = q.Search.all
		if q.Conn != 0 {
			src = q.Search.conns[q.Conn]
		}
	} else {
		src = s.all
		if q.Conn != 0 {
			src = s.conns[q.Conn]
		}
	}
	if src == nil {
		return Row{}, false, nil
	}
	f := q.Filter
	pass := func(r *Row) bool {
		if !q.Ends && (q.Back && r.ID >= q.From || !q.Back && r.ID <= q.From) {
			return false
		}
		if q.Warned && r.Flags&FlagWarning == 0 || !drawn(r) || !f.Pass(r) {
			return false
		}
		return q.Conn != 0 || q.Conns == nil || q.Conns[r.Conn]
	}
	may := func(sum *Summary) bool {
		if sum.N == 0 {
			return false
		}
		if q.Warned || f.WarnOnly {
			return sum.Warn[0]+sum.Warn[1]+sum.Warn[2] > 0
		}
		return true
	}
	var leaves []node
	if len(src.levels) > 0 {
		leaves = src.levels[0]
	}
	var buf []Row
	var scratch []byte
	scan := func(rows []Row) (Row, bool) {
		if q.Back {
			for k := len(rows) - 1; k >= 0; k-- {
				if pass(&rows[k]) {
					return rows[k], true
				}
			}
			return Row{}, false
		}
		for k := range rows {
			if pass(&rows[k]) {
				return rows[k], true
			}
		}
		return Row{}, false
	}
	if q.Ends {
		q.From = 0
		if q.Back {
			q.From = math.MaxUint64
		}
	}
	if q.Back {
		if src.pendN > 0 && src.pendSum.First < q.From && may(&src.pendSum) {
			rows, err := src.pendRows(nil)
			if err != nil {
				return Row{}, false, err
			}
			if r, ok := scan(rows); ok {
				return r, true, nil
			}
		}
		// The last leaf that starts before From, and back from there.
		i := sort.Search(len(leaves), func(i int) bool { return leaves[i].sum.First >= q.From }) - 1
		for ; i >= 0; i-- {
			if !may(&leaves[i].sum) {
				continue
			}
			var err error
			if buf, err = src.leafRowsOf(i, buf[:0], &scratch); err != nil {
				return Row{}, false, err
			}
			if r, ok := scan(buf); ok {
				return r, true, nil
			}
		}
		return Row{}, false, nil
	}
	i := 0
	if !q.Ends {
		i = sort.Search(len(leaves), func(i int) bool { return leaves[i].sum.Last > q.From })
	}
	for ; i < len(leaves); i++ {
		if !may(&leaves[i].sum) {
			continue
		}
		var err error
		if buf, err = src.leafRowsOf(i, buf[:0], &scratch); err != nil {
			return Row{}, false, err
		}
		if r, ok := scan(buf); ok {
			return r, true, nil
		}
	}
	if src.pendN > 0 && may(&src.pendSum) {
		rows, err := src.pendRows(nil)
		if err != nil {
			return Row{}, false, err
		}
		if r, ok := scan(rows); ok {
			return r, true, nil
		}
	}
	return Row{}, false, nil
}
