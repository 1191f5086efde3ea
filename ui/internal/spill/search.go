package spill

import (
	"bytes"
	"fmt"
	"os"
	"sync"
)

// maxSearches is how many searches a store keeps; a new one closes the
// least recently used.
const maxSearches = 4

// MaxSearchLen bounds the text of a search.
const MaxSearchLen = 1024

// Search is a text search over the payloads of the messages, ignoring
// ASCII case. It scans the details file in the background, then follows
// new events as they are added; its matches form an index of their own
// (per connection and for the whole capture), so that window queries,
// the overview and the message list can be restricted to them.
type Search struct {
	Key     string // what it searches for, as given to SearchFunc
	matchFn func([]byte) bool

	store *Store
	rf    *rowsFile

	mu      sync.Mutex
	conns   map[uint32]*seq
	all     *seq
	scanned uint64 // events looked at
	done    bool   // the scan caught up: new events are matched as added
	err     error
	low     []byte

	following bool // under store.mu: Add matches new events
	stop      chan struct{}
	finished  chan struct{}
}

// Search returns the search for text in the messages' payloads, ignoring
// ASCII case, starting it unless a search for the same text is kept.
func (s *Store) Search(text string) (*Search, error) {
	if text == "" || len(text) > MaxSearchLen {
		return nil, fmt.Errorf("spill: search text must be 1 to %d bytes", MaxSearchLen)
	}
	needle := []byte(text)
	lowerASCII(needle)
	return s.SearchFunc("text:"+text, func(p []byte) bool {
		if len(p) < len(needle) {
			return false
		}
		lowerASCII(p)
		return bytes.Contains(p, needle)
	})
}

// SearchFunc returns the search named key whose matches are the messages
// whose payload match reports true for, starting it unless a search of
// the same key is kept. match gets a copy of each payload, which it may
// change; it is called from one goroutine at a time.
func (s *Store) SearchFunc(key string, match func(payload []byte) bool) (*Search, error) {
	s.lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	for i, q := range s.searches {
		if q.Key == key {
			copy(s.searches[1:i+1], s.searches[:i])
			s.searches[0] = q
			s.mu.Unlock()
			return q, nil
		}
	}
	f, err := os.CreateTemp(s.opts.Dir, "wsviz-ui-*.search")
	if err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("spill: create search file: %w", err)
	}
	q := &Search{
		Key:      key,
		matchFn:  match,
		store:    s,
		rf:       &rowsFile{f: f},
		conns:    make(map[uint32]*seq),
		stop:     make(chan struct{}),
		finished: make(chan struct{}),
	}
	q.all = newSeq(q.rf, allLeafRows)
	var old *Search
	if len(s.searches) == maxSearches {
		old = s.searches[len(s.searches)-1]
		s.searches = s.searches[:len(s.searches)-1]
	}
	s.searches = append([]*Search{q}, s.searches...)
	s.mu.Unlock()
	if old != nil {
		old.Close()
	}
	go q.scan()
	return q, nil
}

// SearchProgress says how far a search has come.
type SearchProgress struct {
	Key     string `json:"key"`
	Matches uint64 `json:"matches"`
	Scanned uint64 `json:"scanned"` // events looked at
	Done    bool   `json:"done"`    // caught up: new events are matched as they come
	Error   string `json:"error,omitempty"`
}

// Progress returns how far the search has come.
func (q *Search) Progress() SearchProgress {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := SearchProgress{Key: q.Key, Matches: uint64(q.all.total.N), Scanned: q.scanned, Done: q.done}
	if q.err != nil {
		p.Error = q.err.Error()
	}
	return p
}

// Wait waits until the search has caught up with the events added so far.
func (q *Search) Wait() {
	<-q.finished
}

// Close stops the search and removes its file.
func (q *Search) Close() {
	q.mu.Lock()
	select {
	case <-q.stop:
		q.mu.Unlock()
		return
	default:
	}
	close(q.stop)
	q.mu.Unlock()
	<-q.finished
	q.store.mu.Lock()
	q.following = false
	for i, o := range q.store.searches {
		if o == q {
			q.store.searches = append(q.store.searches[:i], q.store.searches[i+1:]...)
			break
		}
	}
	q.store.mu.Unlock()
	q.mu.Lock()
	q.rf.f.Close()
	os.Remove(q.rf.f.Name())
	q.mu.Unlock()
}

// scan looks at every event so far, without the store's lock, then at
// the few added meanwhile with it held, and from then on Add calls live.
func (q *Search) scan() {
	defer close(q.finished)
	s := q.store
	var from uint64
	look := func(r *Record) bool {
		select {
		case <-q.stop:
			return false
		default:
		}
		q.mu.Lock()
		q.match(&r.Row, r.Payload)
		q.scanned = r.Row.ID + 1
		q.mu.Unlock()
		from = r.Row.ID + 1
		return true
	}
	for range 8 {
		if err := s.Records(from, look); err != nil {
			q.fail(err)
			return
		}
		select {
		case <-q.stop:
			return
		default:
		}
		s.rlock()
		caught := from >= s.n
		s.mu.RUnlock()
		if caught {
			break
		}
	}
	// The last few, with the store locked so that none is added between
	// the scan and following.
	s.lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if err := s.recordsLocked(from, look); err != nil {
		q.fail(err)
		return
	}
	q.mu.Lock()
	q.scanned = s.n
	q.done = true
	q.mu.Unlock()
	q.following = true
}

func (q *Search) fail(err error) {
	q.mu.Lock()
	q.err = err
	q.mu.Unlock()
}

// live matches an event being added. The store's lock is held.
func (q *Search) live(r *Row, payload []byte) {
	if !q.following {
		return
	}
	q.mu.Lock()
	q.match(r, payload)
	q.scanned = r.ID + 1
	q.mu.Unlock()
}

// match adds r to the matches if its payload holds the text. q.mu is held.
func (q *Search) match(r *Row, payload []byte) {
	if r.Type != TypeWSMessage || q.err != nil {
		return
	}
	q.low = append(q.low[:0], payload...)
	if !q.matchFn(q.low) {
		return
	}
	c := q.conns[r.Conn]
	if c == nil {
		c = newSeq(q.rf, leafRows)
		q.conns[r.Conn] = c
	}
	if err := c.add(r); err != nil {
		q.err = err
	}
	if err := q.all.add(r); err != nil {
		q.err = err
	}
}

// recordsLocked is Records for a caller holding the store's lock: it reads
// the written blocks from id on, then the block being filled.
func (s *Store) recordsLocked(id uint64, fn func(*Record) bool) error {
	d := s.det
	if len(d.blocks) > 0 && (d.curN == 0 || id < d.curFirst) {
		for i := max(0, d.findBlock(d.blocks, id)); i < len(d.blocks); i++ {
			raw, err := d.block(i, d.blocks[i])
			if err != nil {
				return err
			}
			stop := false
			err = eachRecord(raw, func(r *Record) bool {
				if r.Row.ID < id {
					return true
				}
				stop = !fn(r)
				return !stop
			})
			if err != nil || stop {
				return err
			}
		}
	}
	if d.curN == 0 {
		return nil
	}
	return eachRecord(d.cur, func(r *Record) bool {
		if r.Row.ID < id {
			return true
		}
		return fn(r)
	})
}

func lowerASCII(b []byte) {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
}
