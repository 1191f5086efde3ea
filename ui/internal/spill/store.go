package spill

import (
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/wsviz/wsviz/analyze"
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Dir is the directory of the spill files; "" means os.TempDir().
	Dir string
	// MaxDetails bounds the details file in bytes (default 16 GiB); past
	// it, events are still indexed and drawn but their details are not
	// kept (FlagNoDetail).
	MaxDetails int64
	// MaxPayload bounds the payload bytes kept per message (default 1 MiB);
	// negative keeps all the analyzer passed on.
	MaxPayload int
}

func (o *Options) setDefaults() {
	if o.MaxDetails <= 0 {
		o.MaxDetails = 16 << 30
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = 1 << 20
	}
}

// Store keeps every event of a capture on disk and answers the timeline's
// queries. In memory it keeps, per connection and for the whole capture,
// a tree of summaries over runs of 128 events (1,024 for the whole
// capture: about 4 bytes an event in all, BenchmarkWindowFitAll says),
// one reference per block of 64 events in the details file, and a count
// per warning code. Add is called from one goroutine; every other method
// may be called concurrently with it and with each other.
//
// Add never waits for readers: when a query holds the lock, the event
// waits in a short queue (pending) that the next query or Add applies
// first, so that a reader still sees every event added before it. (With
// one lock taken per event, each Add waited for the query under way: a
// page asking for tiles while a capture was read slowed the reading four
// times.)
type Store struct {
	opts Options

	// pendMu guards pending, pendBytes and next; it is taken after mu,
	// never before it except with TryLock.
	pendMu    sync.Mutex
	pending   []pendingEvent
	pendBytes int
	pendN     atomic.Int64 // len(pending), read without pendMu
	next      uint64       // the ID of the next event added
	closedA   atomic.Bool  // closed, read without mu
	lastErr   atomic.Pointer[error]

	mu    sync.RWMutex
	n     uint64
	det   *details
	rf    *rowsFile
	all   *seq
	conns map[uint32]*seq
	// codes counts warnings by code, in order of first appearance.
	codes     map[string]*codeCount
	codeOrder []string
	searches  []*Search
	closed    bool
	err       error // the first write error
	// stepCache keeps the steps indexes of the ladders asked for.
	stepCache stepCache

	scratch analyze.Event
	buf     []byte
}

// pendingEvent is an event added while a query held the lock: its row
// (with its ID), JSON form, payload and warning codes, copied.
type pendingEvent struct {
	row           Row
	json, payload []byte
	codes         []string
}

// The queue of pending events is bounded: past it, Add waits for the lock.
const (
	maxPending      = 8192
	maxPendingBytes = 16 << 20
)

type codeCount struct {
	n   uint64
	seq *seq // the events that carry the code
}

// Open creates a store with its two files in opts.Dir. Close removes them.
func Open(opts Options) (*Store, error) {
	opts.setDefaults()
	df, err := os.CreateTemp(opts.Dir, "wsviz-ui-*.events")
	if err != nil {
		return nil, fmt.Errorf("spill: create spill file: %w", err)
	}
	rf, err := os.CreateTemp(opts.Dir, "wsviz-ui-*.rows")
	if err != nil {
		df.Close()
		os.Remove(df.Name())
		return nil, fmt.Errorf("spill: create spill file: %w", err)
	}
	s := &Store{
		opts:  opts,
		det:   &details{f: df, maxSize: opts.MaxDetails},
		rf:    &rowsFile{f: rf},
		conns: make(map[uint32]*seq),
		codes: make(map[string]*codeCount),
	}
	s.all = newSeq(s.rf, allLeafRows)
	return s, nil
}

// Close removes the spill files and stops the searches. The store answers
// nothing afterwards.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.closedA.Store(true)
	s.pendMu.Lock()
	s.pending, s.pendBytes = nil, 0
	s.pendN.Store(0)
	s.pendMu.Unlock()
	searches := s.searches
	s.searches = nil
	s.mu.Unlock()
	for _, q := range searches {
		q.Close()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	for _, f := range []*os.File{s.det.f, s.rf.f} {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
		if err := os.Remove(f.Name()); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// ErrClosed is returned by the methods of a closed Store.
var ErrClosed = fmt.Errorf("spill: store closed")

// rlock takes the read lock after applying the pending events, so that a
// reader sees every event added before it.
func (s *Store) rlock() {
	if s.pendN.Load() > 0 {
		s.mu.Lock()
		s.applyLocked()
		s.mu.Unlock()
	}
	s.mu.RLock()
}

// lock takes the write lock and applies the pending events.
func (s *Store) lock() {
	s.mu.Lock()
	s.applyLocked()
}

// applyLocked adds the pending events, in order. The caller holds mu.
func (s *Store) applyLocked() {
	if s.pendN.Load() == 0 {
		return
	}
	s.pendMu.Lock()
	batch := s.pending
	s.pending, s.pendBytes = nil, 0
	s.pendN.Store(0)
	s.pendMu.Unlock()
	for i := range batch {
		p := &batch[i]
		s.addLocked(p.row, p.json, p.payload, p.codes, nil)
	}
}

// Len returns the number of events added.
func (s *Store) Len() uint64 {
	s.rlock()
	defer s.mu.RUnlock()
	return s.n
}

// Add stores ev and returns its row (with its ID). It copies what it
// keeps. An error means a spill file could not be written: the event is
// still counted and, if its row could be kept, drawn.
func (s *Store) Add(ev *analyze.Event) (Row, error) { return s.AddFlags(ev, 0) }

// AddFlags is Add with flags set in the row besides those RowOf sets:
// facts the caller knows from other events (ui marks a response that
// answers an upgrade request).
func (s *Store) AddFlags(ev *analyze.Event, flags uint8) (Row, error) {
	r := RowOf(ev)
	r.Flags |= flags
	return s.AddRow(ev, r)
}

// AddRow is Add with the row the caller made of ev (its ID is ignored).
// Type must be TypeWSMessage and TypeWSFrame for messages and frames.
func (s *Store) AddRow(ev *analyze.Event, r Row) (Row, error) {
	// The JSON form without the payload, built before taking the lock: a
	// shallow copy, so that the caller's event is not touched.
	s.scratch = *ev
	payload := ev.Message.Payload
	if s.opts.MaxPayload >= 0 && len(payload) > s.opts.MaxPayload {
		payload = payload[:s.opts.MaxPayload]
		s.scratch.Message.Truncated = true
		r.Flags |= FlagTruncated
	}
	s.scratch.Message.Payload = nil
	s.buf = s.scratch.AppendJSON(s.buf[:0])
	s.scratch = analyze.Event{}

	if s.closedA.Load() {
		return r, ErrClosed
	}
	s.pendMu.Lock()
	r.ID = s.next
	s.next++
	if len(s.pending) == 0 && s.mu.TryLock() {
		// Nothing waits and no query holds the lock: add it now.
		s.pendMu.Unlock()
		defer s.mu.Unlock()
		if s.closed {
			return r, ErrClosed
		}
		return s.addLocked(r, s.buf, payload, nil, ev.Warnings)
	}
	// A query holds the lock (or events wait already): queue a copy.
	p := pendingEvent{row: r, json: clone(s.buf), payload: clone(payload)}
	for _, w := range ev.Warnings {
		p.codes = append(p.codes, w.Code)
	}
	s.pending = append(s.pending, p)
	s.pendBytes += len(p.json) + len(p.payload)
	s.pendN.Store(int64(len(s.pending)))
	full := len(s.pending) >= maxPending || s.pendBytes >= maxPendingBytes
	s.pendMu.Unlock()
	if full {
		s.lock()
		s.mu.Unlock()
	} else if s.mu.TryLock() {
		s.applyLocked()
		s.mu.Unlock()
	}
	var err error
	if e := s.lastErr.Load(); e != nil {
		err = *e
	}
	return r, err
}

// addLocked adds one event (its row with its ID, JSON form, payload, and
// warning codes given as codes or as warnings). The caller holds mu.
func (s *Store) addLocked(r Row, jsonForm, payload []byte, codes []string, warnings []analyze.Warning) (Row, error) {
	if s.closed {
		return r, ErrClosed
	}
	if r.ID != s.n {
		panic(fmt.Sprintf("spill: event %d added after %d events", r.ID, s.n))
	}
	kept, err := s.det.add(&r, jsonForm, payload)
	if !kept {
		r.Flags |= FlagNoDetail
	}
	s.n++
	err = s.keep(err)
	err = s.keep(s.all.add(&r))
	c := s.conns[r.Conn]
	if c == nil {
		c = newSeq(s.rf, leafRows)
		s.conns[r.Conn] = c
	}
	err = s.keep(c.add(&r))
	for _, w := range warnings {
		codes = append(codes, w.Code)
	}
	for _, code := range codes {
		cc := s.codes[code]
		if cc == nil {
			cc = &codeCount{seq: newSeq(s.rf, leafRows)}
			s.codes[code] = cc
			s.codeOrder = append(s.codeOrder, code)
		}
		cc.n++
		if cc.seq.total.Last != r.ID || cc.seq.total.N == 0 {
			err = s.keep(cc.seq.add(&r))
		}
	}
	if r.Type == TypeTCPClose {
		// The connection's events are over: write its partial leaf now,
		// so that a capture of many short connections does not keep one
		// partial leaf each in memory.
		err = s.keep(c.flush())
	}
	for _, q := range s.searches {
		q.live(&r, payload)
	}
	return r, err
}

// keep records the first error and returns it.
func (s *Store) keep(err error) error {
	if err != nil && s.err == nil {
		s.err = err
		s.lastErr.Store(&err)
	}
	return s.err
}

// Flush writes the partial blocks, so that every event added so far can be
// read without the store's lock held for long. The store calls it itself
// as needed; the server calls it when the source is done.
func (s *Store) Flush() error {
	s.lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return s.keep(s.det.finish())
}

// Record returns the details of event id. The slices are the caller's.
func (s *Store) Record(id uint64) (Record, error) {
	s.rlock()
	if s.closed {
		s.mu.RUnlock()
		return Record{}, ErrClosed
	}
	if id >= s.n {
		s.mu.RUnlock()
		return Record{}, fmt.Errorf("spill: no event %d", id)
	}
	// In the block being filled?
	d := s.det
	if d.curN > 0 && id >= d.curFirst && id < d.curFirst+uint64(d.curN) {
		var out Record
		err := eachRecord(d.cur, func(r *Record) bool {
			if r.Row.ID != id {
				return true
			}
			out = Record{Row: r.Row, JSON: clone(r.JSON), Payload: clone(r.Payload)}
			return false
		})
		s.mu.RUnlock()
		return out, err
	}
	blocks := d.blocks
	s.mu.RUnlock()
	i := d.findBlock(blocks, id)
	if i < 0 {
		return Record{}, ErrNoDetail
	}
	raw, err := d.block(i, blocks[i])
	if err != nil {
		return Record{}, err
	}
	var out Record
	found := false
	err = eachRecord(raw, func(r *Record) bool {
		if r.Row.ID != id {
			return r.Row.ID < id
		}
		out = Record{Row: r.Row, JSON: clone(r.JSON), Payload: clone(r.Payload)}
		found = true
		return false
	})
	if err == nil && !found {
		err = ErrNoDetail
	}
	return out, err
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// Records calls fn with the details of the events from id on, in order,
// until fn returns false or the events end; events whose details were not
// kept are skipped. The slices are valid during the call only. It reads
// the file without holding the store's lock, so it may run long (exports,
// searches).
func (s *Store) Records(id uint64, fn func(*Record) bool) error {
	for {
		s.rlock()
		if s.closed {
			s.mu.RUnlock()
			return ErrClosed
		}
		d := s.det
		blocks := d.blocks
		// IDs below written are in the written blocks (or were not kept).
		written := s.n
		if d.curN > 0 {
			written = d.curFirst
		}
		if id >= written || len(blocks) == 0 {
			var recs []Record
			if d.curN > 0 {
				eachRecord(d.cur, func(r *Record) bool {
					if r.Row.ID >= id {
						recs = append(recs, Record{Row: r.Row, JSON: clone(r.JSON), Payload: clone(r.Payload)})
					}
					return true
				})
			}
			s.mu.RUnlock()
			for k := range recs {
				if !fn(&recs[k]) {
					return nil
				}
			}
			return nil
		}
		s.mu.RUnlock()
		i := max(0, d.findBlock(blocks, id))
		for ; i < len(blocks); i++ {
			raw, err := d.block(i, blocks[i])
			if err != nil {
				return err
			}
			stop := false
			err = eachRecord(raw, func(r *Record) bool {
				if r.Row.ID < id {
					return true
				}
				id = r.Row.ID + 1
				stop = !fn(r)
				return !stop
			})
			if err != nil || stop {
				return err
			}
		}
		id = max(id, written)
	}
}

// Row returns the row of event id.
func (s *Store) Row(id uint64) (Row, error) {
	var out Row
	found := false
	err := s.eachRow(s.all, id, func(r *Row) bool {
		out, found = *r, r.ID == id
		return false
	})
	if err == nil && !found {
		err = fmt.Errorf("spill: no event %d", id)
	}
	return out, err
}

// Rows calls fn with the rows of every event from id on, in order, until
// fn returns false. The store's lock is held during the calls: fn must
// not call the store.
func (s *Store) Rows(id uint64, fn func(*Row) bool) error { return s.eachRow(s.all, id, fn) }

// ConnRows calls fn with the rows of connection conn's events from id on,
// in order, until fn returns false. The store's lock is held during the
// calls: fn must not call the store.
func (s *Store) ConnRows(conn uint32, id uint64, fn func(*Row) bool) error {
	s.rlock()
	q := s.conns[conn]
	s.mu.RUnlock()
	if q == nil {
		return nil
	}
	return s.eachRow(q, id, fn)
}

func (s *Store) eachRow(q *seq, id uint64, fn func(*Row) bool) error {
	s.rlock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return q.after(id, fn, nil)
}

// Conns returns the connection numbers that have events, ascending.
func (s *Store) Conns() []uint32 {
	s.rlock()
	defer s.mu.RUnlock()
	out := make([]uint32, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Total returns the summary of every event.
func (s *Store) Total() Summary {
	s.rlock()
	defer s.mu.RUnlock()
	return s.all.total
}

// CodeCount is a warning code and how many times it was reported.
type CodeCount struct {
	Code   string `json:"code"`
	Count  uint64 `json:"count"`
	Events uint64 `json:"events"` // events that carry it
}

// Codes returns the warning codes reported so far, in order of first
// appearance, with their counts.
func (s *Store) Codes() []CodeCount {
	s.rlock()
	defer s.mu.RUnlock()
	out := make([]CodeCount, 0, len(s.codeOrder))
	for _, c := range s.codeOrder {
		cc := s.codes[c]
		out = append(out, CodeCount{Code: c, Count: cc.n, Events: uint64(cc.seq.total.N)})
	}
	return out
}

// Usage describes the store's resources.
type Usage struct {
	Events     uint64 `json:"events"`
	DiskBytes  int64  `json:"disk_bytes"`  // both spill files
	IndexNodes int    `json:"index_nodes"` // summary nodes in memory
	NoDetail   bool   `json:"no_detail"`   // details are no longer kept
}

// Usage returns the store's resource use.
func (s *Store) Usage() Usage {
	s.rlock()
	defer s.mu.RUnlock()
	u := Usage{Events: s.n, DiskBytes: s.det.size + s.rf.size(), NoDetail: s.det.failed}
	count := func(q *seq) {
		for _, l := range q.levels {
			u.IndexNodes += len(l)
		}
	}
	count(s.all)
	for _, q := range s.conns {
		count(q)
	}
	for _, c := range s.codes {
		count(c.seq)
	}
	return u
}
