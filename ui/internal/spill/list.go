package spill

import "fmt"

// List kinds.
const (
	ListMessages = "messages" // messages that pass the filter (or the search's matches)
	ListWarnings = "warnings" // events with warnings (of one code, with Code)
	ListSteps    = "steps"    // the steps of one connection's ladder (Conn): see steps.go
)

// ListQuery asks for a page of the Messages or Warnings panel.
type ListQuery struct {
	Kind string
	Code string // warnings: only the events that carry this code
	Conn uint32 // steps: the connection
	// Stream, when not 0, keeps the steps to the events of one HTTP/2
	// stream of Conn (one WebSocket of several, RFC 8441).
	Stream uint32
	Offset uint64
	Limit  int // default 100, at most 1,000
	// Filter applies its direction and classes to messages (with
	// WarnOnly, its direction only: the messages with warnings of every
	// kind), its direction to warnings.
	Filter Filter
	Search *Search // messages: only its matches
}

// ListPage is one page of a list: Total rows in all, and those from Offset.
type ListPage struct {
	Total uint64
	Rows  []Row
}

// List answers q, walking down the summaries to the Offset-th row, so a
// page costs the same anywhere in the list.
func (s *Store) List(q ListQuery) (ListPage, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 1000)
	s.rlock()
	defer s.mu.RUnlock()
	if s.closed {
		return ListPage{}, ErrClosed
	}
	if q.Kind == ListSteps {
		return s.steps(&q)
	}
	f := q.Filter
	var src *seq
	var count func(*Summary) uint64
	var pass func(*Row) bool
	switch q.Kind {
	case ListMessages:
		src = s.all
		if q.Search != nil {
			q.Search.mu.Lock()
			defer q.Search.mu.Unlock()
			src = q.Search.all
		}
		if f.WarnOnly {
			count = func(sum *Summary) uint64 {
				var n uint64
				for d := range 2 {
					if f.Dir == 0 || dirIndex(f.Dir) == d {
						n += uint64(sum.WarnMsgs[d])
					}
				}
				return n
			}
			pass = func(r *Row) bool {
				return r.Type == TypeWSMessage && r.Flags&FlagWarning != 0 && (f.Dir == 0 || dirIndex(r.From) == dirIndex(f.Dir))
			}
			break
		}
		count = func(sum *Summary) uint64 { return uint64(sum.Messages(&f)) }
		pass = func(r *Row) bool {
			return r.Type == TypeWSMessage && (f.Dir == 0 || dirIndex(r.From) == dirIndex(f.Dir)) && f.Classes&(1<<Class(r.Kind)) != 0
		}
	case ListWarnings:
		src = s.all
		if q.Code != "" {
			cc := s.codes[q.Code]
			if cc == nil {
				return ListPage{}, nil
			}
			src = cc.seq
		}
		count = func(sum *Summary) uint64 {
			n := uint64(sum.Warn[FromNone])
			if f.Dir != FromServer {
				n += uint64(sum.Warn[FromClient])
			}
			if f.Dir != FromClient {
				n += uint64(sum.Warn[FromServer])
			}
			return n
		}
		pass = func(r *Row) bool {
			return r.Flags&FlagWarning != 0 && (f.Dir == 0 || r.From == FromNone || r.From == f.Dir)
		}
	default:
		return ListPage{}, fmt.Errorf("spill: unknown list %q (want %s, %s or %s)", q.Kind, ListMessages, ListWarnings, ListSteps)
	}
	page := ListPage{Total: count(&src.total)}
	if q.Offset >= page.Total {
		return page, nil
	}
	first, ok, err := src.nth(q.Offset, count, pass, nil)
	if err != nil || !ok {
		return page, err
	}
	err = src.after(first.ID, func(r *Row) bool {
		if pass(r) {
			page.Rows = append(page.Rows, *r)
		}
		return len(page.Rows) < q.Limit
	}, nil)
	return page, err
}

// Locate returns the position of event id in the list q (its Offset and
// Limit are ignored): what the panels scroll to when an event is selected
// elsewhere. It reports false when the event is not in the list.
func (s *Store) Locate(q ListQuery, id uint64) (uint64, bool, error) {
	if q.Kind == ListSteps {
		s.rlock()
		defer s.mu.RUnlock()
		if s.closed {
			return 0, false, ErrClosed
		}
		return s.locateStep(&q, id)
	}
	// Binary search on the offsets by the IDs of the rows there.
	page, err := s.List(ListQuery{Kind: q.Kind, Code: q.Code, Filter: q.Filter, Search: q.Search, Limit: 1})
	if err != nil || page.Total == 0 {
		return 0, false, err
	}
	lo, hi := uint64(0), page.Total
	for lo < hi {
		m := lo + (hi-lo)/2
		p, err := s.List(ListQuery{Kind: q.Kind, Code: q.Code, Filter: q.Filter, Search: q.Search, Offset: m, Limit: 1})
		if err != nil {
			return 0, false, err
		}
		if len(p.Rows) == 0 {
			return 0, false, nil
		}
		if p.Rows[0].ID < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo >= page.Total {
		return 0, false, nil
	}
	p, err := s.List(ListQuery{Kind: q.Kind, Code: q.Code, Filter: q.Filter, Search: q.Search, Offset: lo, Limit: 1})
	if err != nil || len(p.Rows) == 0 {
		return 0, false, err
	}
	return lo, p.Rows[0].ID == id, nil
}
