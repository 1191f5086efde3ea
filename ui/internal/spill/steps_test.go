package spill

import (
	"slices"
	"testing"

	"github.com/wsviz/wsviz/analyze"
)

// TestStepsMatchEveryRow pages through the steps of each connection's
// ladder under several filters, while events are still being added (the
// steps index then counts the new leaves), and checks every page and
// every position against the rows given.
func TestStepsMatchEveryRow(t *testing.T) {
	evs := genEvents(11, 5, 900)
	s := openStore(t, Options{})
	filters := []Filter{
		{Classes: AllClasses},
		{Classes: AllClasses, Dir: FromServer},
		{Classes: 1<<ClassText | ClassSpecialBit},
		{Classes: AllClasses, WarnOnly: true},
		{Classes: 1 << ClassPing},
	}
	var rows []Row
	check := func(t *testing.T) {
		for c := uint32(1); c <= 5; c++ {
			for _, f := range filters {
				var want []Row
				for _, r := range rows {
					if r.Conn == c && drawn(&r) && f.Pass(&r) {
						want = append(want, r)
					}
				}
				q := ListQuery{Kind: ListSteps, Conn: c, Filter: f}
				for _, off := range []int{0, 1, 63, 127, 128, len(want) / 2, len(want) - 1, len(want)} {
					if off < 0 {
						continue
					}
					q.Offset, q.Limit = uint64(off), 50
					page, err := s.List(q)
					if err != nil {
						t.Fatal(err)
					}
					if page.Total != uint64(len(want)) {
						t.Fatalf("steps of %d %+v: Total = %d, want %d", c, f, page.Total, len(want))
					}
					end := min(len(want), off+50)
					if !slices.Equal(page.Rows, want[min(off, end):end]) {
						t.Fatalf("steps of %d %+v at %d: %d rows, want %d", c, f, off, len(page.Rows), end-off)
					}
				}
				for _, k := range []int{0, len(want) / 3, len(want) - 1} {
					if k < 0 || k >= len(want) {
						continue
					}
					at, ok, err := s.Locate(q, want[k].ID)
					if err != nil || !ok || at != uint64(k) {
						t.Fatalf("Locate(steps of %d %+v, %d) = %d, %v, %v; want %d", c, f, want[k].ID, at, ok, err, k)
					}
				}
			}
		}
	}
	half := len(evs) / 2
	rows = fill(t, s, evs[:half])
	t.Run("half", check)
	for i := half; i < len(evs); i++ {
		r, err := s.Add(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	t.Run("all", check)
}

// TestStepFindsNextAndPrevious walks every drawn event forwards and
// backwards with Step, of all connections, of one, and of the warned ones.
func TestStepFindsNextAndPrevious(t *testing.T) {
	evs := genEvents(12, 4, 700)
	s := openStore(t, Options{})
	rows := fill(t, s, evs)
	cases := []struct {
		name string
		q    StepQuery
		want func(*Row) bool
	}{
		{"all", StepQuery{Filter: Filter{Classes: AllClasses}}, func(r *Row) bool { return drawn(r) }},
		{"conn 2", StepQuery{Conn: 2, Filter: Filter{Classes: AllClasses}}, func(r *Row) bool { return drawn(r) && r.Conn == 2 }},
		{"conns 1 and 3, text", StepQuery{Conns: map[uint32]bool{1: true, 3: true}, Filter: Filter{Classes: 1 << ClassText}}, func(r *Row) bool {
			return drawn(r) && (r.Conn == 1 || r.Conn == 3) && (r.Type == TypeWSMessage || r.Type == TypeWSFrame) && Class(r.Kind) == ClassText
		}},
		{"warned", StepQuery{Warned: true, Filter: Filter{Classes: AllClasses}}, func(r *Row) bool { return drawn(r) && r.Flags&FlagWarning != 0 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want []uint64
			for _, r := range rows {
				if c.want(&r) {
					want = append(want, r.ID)
				}
			}
			if len(want) < 3 {
				t.Fatalf("only %d events to step through", len(want))
			}
			var got []uint64
			q := c.q
			q.From = 0
			if c.want(&rows[0]) {
				got = append(got, 0)
			}
			for {
				r, ok, err := s.Step(q)
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				got = append(got, r.ID)
				q.From = r.ID
			}
			if !slices.Equal(got, want) {
				t.Fatalf("forwards: %d events, want %d", len(got), len(want))
			}
			got = got[:0]
			q.Back, q.From = true, uint64(len(rows))
			for {
				r, ok, err := s.Step(q)
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				got = append(got, r.ID)
				q.From = r.ID
			}
			slices.Reverse(got)
			if !slices.Equal(got, want) {
				t.Fatalf("backwards: %d events, want %d", len(got), len(want))
			}
		})
	}
}

// TestStepsOfOneStream: rows keep their HTTP/2 stream (in the rows file
// and the details file alike), and the steps of one stream of a
// connection are its rows of that stream, counted and paged as the
// connection's are.
func TestStepsOfOneStream(t *testing.T) {
	evs := genEvents(13, 3, 600)
	for i := range evs {
		ev := &evs[i]
		if ev.Conn == 2 && ev.Type != analyze.TypeTCPOpen && ev.Type != analyze.TypeTCPClose {
			ev.Stream = 1 + 2*uint32(i%3) // streams 1, 3 and 5, interleaved
		}
		if ev.Conn == 2 && i%7 == 0 && ev.Type == analyze.TypeWSMessage {
			ev.Stream = 1<<31 - 1 // the largest (RFC 9113 §5.1.1)
		}
	}
	s := openStore(t, Options{})
	rows := fill(t, s, evs)
	for i, r := range rows {
		if r.Stream != evs[i].Stream {
			t.Fatalf("Add(event %d with stream %d): row stream %d", i, evs[i].Stream, r.Stream)
		}
		got, err := s.Row(uint64(i))
		if err != nil || got != r {
			t.Fatalf("Row(%d) = %+v, %v; want %+v", i, got, err, r)
		}
		rec, err := s.Record(uint64(i))
		if err != nil || rec.Row != r {
			t.Fatalf("Record(%d).Row = %+v, %v; want %+v", i, rec.Row, err, r)
		}
	}
	for _, stream := range []uint32{0, 1, 3, 5, 1<<31 - 1, 7} {
		for _, conn := range []uint32{1, 2} {
			var want []Row
			for _, r := range rows {
				if r.Conn == conn && drawn(&r) && (stream == 0 || r.Stream == stream) {
					want = append(want, r)
				}
			}
			q := ListQuery{Kind: ListSteps, Conn: conn, Stream: stream, Filter: Filter{Classes: AllClasses}, Limit: 1000}
			var got []Row
			for q.Offset = 0; ; q.Offset += 100 {
				q.Limit = 100
				page, err := s.List(q)
				if err != nil {
					t.Fatal(err)
				}
				if page.Total != uint64(len(want)) {
					t.Fatalf("steps of conn %d stream %d: Total = %d, want %d", conn, stream, page.Total, len(want))
				}
				got = append(got, page.Rows...)
				if len(page.Rows) < q.Limit {
					break
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("steps of conn %d stream %d: %d rows, want %d", conn, stream, len(got), len(want))
			}
			if len(want) > 0 {
				k := len(want) / 2
				at, ok, err := s.Locate(q, want[k].ID)
				if err != nil || !ok || at != uint64(k) {
					t.Fatalf("Locate(steps of conn %d stream %d, %d) = %d, %v, %v; want %d", conn, stream, want[k].ID, at, ok, err, k)
				}
			}
		}
	}
}
