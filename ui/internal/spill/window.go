package spill

import (
	"math"
)

// Filter says which events the page shows. The zero value shows nothing;
// AllClasses with the rest zero shows everything.
type Filter struct {
	// Dir is 0 for both directions, FromClient or FromServer for one
	// (events without a direction, such as TCP open and close, then do
	// not pass, as on the page).
	Dir uint8
	// Classes is a bit mask of the message kind classes shown (1<<Class),
	// with ClassSpecialBit for the events that are not frames or messages.
	// Frames pass by the class of their opcode.
	Classes uint8
	// WarnOnly shows only events with warnings.
	WarnOnly bool
}

// ClassSpecialBit is the bit of Filter.Classes for TCP, HTTP and upgrade
// events.
const ClassSpecialBit = 1 << NumClasses

// AllClasses is a Filter.Classes that shows every kind.
const AllClasses = 1<<(NumClasses+1) - 1

// Pass reports whether r is shown.
func (f *Filter) Pass(r *Row) bool {
	if f.WarnOnly && r.Flags&FlagWarning == 0 {
		return false
	}
	if f.Dir != 0 && r.From != f.Dir {
		return false
	}
	switch r.Type {
	case TypeWSMessage, TypeWSFrame:
		if r.Kind == OpContinuation {
			return f.Classes&(1<<ClassText|1<<ClassBinary) != 0
		}
		return f.Classes&(1<<Class(r.Kind)) != 0
	}
	return f.Classes&ClassSpecialBit != 0
}

// drawn reports whether the timeline draws r on its own when it draws
// events one by one: messages and special events, and frames only when
// they carry a warning (a frame's message is its mark otherwise).
func drawn(r *Row) bool {
	return r.Type != TypeWSFrame || r.Flags&FlagWarning != 0
}

// WindowQuery asks for what the timeline shows of some connections over a
// time range.
type WindowQuery struct {
	T0, T1  int64    // Unix nanoseconds, inclusive
	Buckets int      // pixel columns the range is drawn in (merged marks)
	Conns   []uint32 // the lanes asked for
	Filter  Filter
	// MaxEvents is the most events of one lane returned one by one
	// (default 2,000); a lane with more in the range is returned as
	// buckets.
	MaxEvents int
	// MaxMarks bounds the special and warning marks of one lane in
	// bucket mode (default 1,000).
	MaxMarks int
	// Search, when set, restricts the messages to its matches.
	Search *Search
}

// LaneWindow is one lane of a window: its events one by one (Events) when
// few pass, or else merged per bucket (Buckets) with the special and
// warned events still one by one (Marks, up to MaxMarks; MoreMarks
// counts the rest).
type LaneWindow struct {
	Conn      uint32   `json:"conn"`
	Count     uint32   `json:"count"`  // messages in the range that pass the filter
	Merged    bool     `json:"merged"` // Buckets and Marks rather than Events
	Events    []Row    `json:"-"`
	Buckets   []Bucket `json:"-"`
	Marks     []Row    `json:"-"`
	MoreMarks int      `json:"more_marks"`
	// Sum counts every event of the lane in the range (no filter): by
	// kind and direction, warnings, opens and closes.
	Sum Summary `json:"-"`
}

// Bucket is the merged messages of one direction of a lane in one pixel
// column.
type Bucket struct {
	Index   int
	Dir     uint8 // FromClient or FromServer
	N       uint32
	Classes [NumClasses]uint32
	Warn    uint32
	Big     Big // the largest message: the mark's height, colour and click target
}

func (q *WindowQuery) setDefaults() {
	if q.MaxEvents <= 0 {
		q.MaxEvents = 2000
	}
	if q.MaxMarks <= 0 {
		q.MaxMarks = 1000
	}
	if q.Buckets <= 0 {
		q.Buckets = 1
	}
	if q.T1 < q.T0 {
		q.T0, q.T1 = q.T1, q.T0
	}
}

// Window answers q.
func (s *Store) Window(q WindowQuery) ([]LaneWindow, error) {
	q.setDefaults()
	s.rlock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	lanes := s.conns
	if q.Search != nil {
		q.Search.mu.Lock()
		defer q.Search.mu.Unlock()
		lanes = q.Search.conns
	}
	out := make([]LaneWindow, 0, len(q.Conns))
	var buf []Row
	for _, c := range q.Conns {
		lw := LaneWindow{Conn: c}
		var err error
		if src := lanes[c]; src != nil {
			buf, err = laneWindow(src, &q, &lw, buf)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, lw)
	}
	return out, nil
}

// bucketer maps times to buckets of a window.
type bucketer struct {
	t0 int64
	w  float64 // nanoseconds per bucket
	n  int
}

// splitColumns is the most columns a leaf may span and still be spread
// over them by time (split) instead of read row by row: a mark may then
// stand up to that many columns (3 pixels each) from where its messages
// are, and a window of a dense lane reads no rows.
const splitColumns = 4

// split spreads the counts of sum over the columns its time range covers,
// in proportion to the time each column covers, so that the counts still
// add up; the largest message is counted in each.
func (b bucketer) split(sum *Summary, add func(int, *Summary)) {
	first, last := b.of(sum.TMin), b.of(sum.TMax)
	span := float64(sum.TMax-sum.TMin) + 1
	var done Summary // what the columns so far got
	for k := first; k <= last; k++ {
		end := b.t0 + int64(math.Ceil(float64(k+1)*b.w)) - 1
		frac := 1.0
		if k < last {
			frac = min(1, float64(end-sum.TMin+1)/span)
		}
		part := Summary{TMin: max(sum.TMin, b.t0+int64(float64(k)*b.w)), TMax: min(sum.TMax, end), Big: sum.Big}
		upto := func(v uint32) uint32 { return uint32(math.Round(float64(v) * frac)) }
		for d := range 2 {
			for c := range NumClasses {
				n := upto(sum.Msgs[d][c])
				part.Msgs[d][c] = n - done.Msgs[d][c]
				done.Msgs[d][c] = n
			}
			n := upto(sum.WarnMsgs[d])
			part.WarnMsgs[d] = n - done.WarnMsgs[d]
			done.WarnMsgs[d] = n
		}
		for i := range sum.Warn {
			n := upto(sum.Warn[i])
			part.Warn[i] = n - done.Warn[i]
			done.Warn[i] = n
		}
		add(k, &part)
	}
}

func (b bucketer) of(t int64) int {
	i := int(math.Floor(float64(t-b.t0) / b.w))
	return min(max(i, 0), b.n-1)
}

func laneWindow(src *seq, q *WindowQuery, lw *LaneWindow, buf []Row) ([]Row, error) {
	var err error
	lw.Sum, err = src.count(q.T0, q.T1, buf)
	if err != nil {
		return buf, err
	}
	f := &q.Filter
	lw.Count = lw.Sum.Messages(f)
	if lw.Count+lw.Sum.Special <= uint32(q.MaxEvents) {
		// Few: every passing event one by one.
		err = src.visit(q.T0, q.T1, func(*Summary, bool) bool { return true }, func(rows []Row) error {
			for i := range rows {
				r := &rows[i]
				if r.Time >= q.T0 && r.Time <= q.T1 && drawn(r) && f.Pass(r) {
					lw.Events = append(lw.Events, *r)
				}
			}
			return nil
		}, buf)
		return buf, err
	}
	lw.Merged = true
	bk := bucketer{t0: q.T0, w: float64(q.T1-q.T0+1) / float64(q.Buckets), n: q.Buckets}
	type key struct {
		b int
		d uint8
	}
	byKey := make(map[key]int)
	bucket := func(b int, d uint8) *Bucket {
		k := key{b, d}
		i, ok := byKey[k]
		if !ok {
			i = len(lw.Buckets)
			byKey[k] = i
			lw.Buckets = append(lw.Buckets, Bucket{Index: b, Dir: d})
		}
		return &lw.Buckets[i]
	}
	addSum := func(b int, sum *Summary) {
		for d := range 2 {
			dir := uint8(FromClient + d)
			if f.Dir != 0 && f.Dir != dir {
				continue
			}
			var n uint32
			var cls [NumClasses]uint32
			for c := range NumClasses {
				if f.Classes&(1<<c) != 0 {
					cls[c] = sum.Msgs[d][c]
					n += cls[c]
				}
			}
			if f.WarnOnly {
				n = min(n, sum.Warn[dir])
			}
			if n == 0 {
				continue
			}
			bb := bucket(b, dir)
			bb.N += n
			for c := range cls {
				bb.Classes[c] += cls[c]
			}
			bb.Warn += sum.Warn[dir]
			if big := sum.Big[d]; big.Set && f.Classes&(1<<Class(big.Kind)) != 0 && (!bb.Big.Set || big.Size > bb.Big.Size) {
				bb.Big = big
			}
		}
	}
	addRow := func(r *Row) {
		if r.Type != TypeWSMessage || !f.Pass(r) || r.Time < q.T0 || r.Time > q.T1 {
			return
		}
		dir := uint8(FromClient)
		if r.From == FromServer {
			dir = FromServer
		}
		bb := bucket(bk.of(r.Time), dir)
		bb.N++
		bb.Classes[Class(r.Kind)]++
		if r.Flags&FlagWarning != 0 {
			bb.Warn++
		}
		if !bb.Big.Set || r.Size > bb.Big.Size {
			bb.Big = Big{Size: r.Size, ID: r.ID, Kind: r.Kind, Set: true}
		}
	}
	err = src.visit(q.T0, q.T1, func(sum *Summary, leaf bool) bool {
		if sum.TMin < q.T0 || sum.TMax > q.T1 {
			return true
		}
		b := bk.of(sum.TMin)
		if b == bk.of(sum.TMax) {
			addSum(b, sum)
			return false
		}
		if leaf && bk.of(sum.TMax)-b < splitColumns {
			// A leaf over a few columns: its counts spread over them
			// by time rather than its rows read.
			bk.split(sum, addSum)
			return false
		}
		return true // spans buckets: look closer
	}, func(rows []Row) error {
		// A leaf: merge it whole when it falls in one bucket, else row by row.
		if len(rows) > 0 {
			var sum Summary
			for i := range rows {
				sum.add(&rows[i])
			}
			if sum.TMin >= q.T0 && sum.TMax <= q.T1 && bk.of(sum.TMin) == bk.of(sum.TMax) {
				addSum(bk.of(sum.TMin), &sum)
				return nil
			}
		}
		for i := range rows {
			addRow(&rows[i])
		}
		return nil
	}, buf)
	if err != nil {
		return buf, err
	}
	return marks(src, q, lw, buf, func(r *Row) bool {
		return drawn(r) && (r.Special() || r.Flags&FlagWarning != 0)
	}, func(s *Summary) bool {
		return s.Special > 0 || s.Warn[0]+s.Warn[1]+s.Warn[2] > 0
	})
}

// marks adds to lw.Marks the events of src in the range that pass the
// filter and want, reading only the leaves whose summaries say (has) they
// may hold some.
func marks(src *seq, q *WindowQuery, lw *LaneWindow, buf []Row, want func(*Row) bool, has func(*Summary) bool) ([]Row, error) {
	f := &q.Filter
	err := src.visit(q.T0, q.T1, func(sum *Summary, _ bool) bool { return has(sum) }, func(rows []Row) error {
		for i := range rows {
			r := &rows[i]
			if r.Time < q.T0 || r.Time > q.T1 || !want(r) || !f.Pass(r) {
				continue
			}
			if len(lw.Marks) < q.MaxMarks {
				lw.Marks = append(lw.Marks, *r)
			} else {
				lw.MoreMarks++
			}
		}
		return nil
	}, buf)
	return buf, err
}

// OverviewBucket counts the messages that pass the filter in one column of
// the overview strip, and whether any event there has a warning.
type OverviewBucket struct {
	N    uint32
	Warn uint32
}

// Overview returns the density of the whole capture (or of a search's
// matches) over [t0, t1] in n columns.
func (s *Store) Overview(t0, t1 int64, n int, f Filter, search *Search) ([]OverviewBucket, error) {
	q := WindowQuery{T0: t0, T1: t1, Buckets: n, Filter: f, MaxEvents: -1}
	q.setDefaults()
	s.rlock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	src := s.all
	if search != nil {
		search.mu.Lock()
		defer search.mu.Unlock()
		src = search.all
	}
	out := make([]OverviewBucket, q.Buckets)
	bk := bucketer{t0: q.T0, w: float64(q.T1-q.T0+1) / float64(q.Buckets), n: q.Buckets}
	add := func(b int, sum *Summary) {
		out[b].N += sum.Messages(&q.Filter)
		out[b].Warn += sum.Warn[0] + sum.Warn[1] + sum.Warn[2]
	}
	err := src.visit(q.T0, q.T1, func(sum *Summary, leaf bool) bool {
		if sum.TMin < q.T0 || sum.TMax > q.T1 {
			return true
		}
		b := bk.of(sum.TMin)
		if b == bk.of(sum.TMax) {
			add(b, sum)
			return false
		}
		if leaf && bk.of(sum.TMax)-b < splitColumns {
			bk.split(sum, add)
			return false
		}
		return true
	}, func(rows []Row) error {
		for i := range rows {
			r := &rows[i]
			if r.Time < q.T0 || r.Time > q.T1 {
				continue
			}
			var one Summary
			one.add(r)
			add(bk.of(r.Time), &one)
		}
		return nil
	}, nil)
	return out, err
}
