package spill

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wsviz/wsviz/analyze"
)

// genEvents makes a capture's worth of events: conns connections that each
// open, upgrade, exchange msgs messages (each after its frame) of every
// kind, some with warnings, a gap now and then, and close; the
// connections interleaved with random time steps.
func genEvents(seed uint64, conns, msgs int) []analyze.Event {
	var out []analyze.Event
	genEach(seed, conns, msgs, func(ev *analyze.Event) { out = append(out, *ev) })
	return out
}

// genEach is genEvents one event at a time: ev is reused.
func genEach(seed uint64, conns, msgs int, emit func(*analyze.Event)) {
	rng := rand.New(rand.NewPCG(seed, 7))
	t := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	var pkt int64
	type state struct{ step int }
	st := make([]state, conns)
	live := conns
	kinds := []string{"text", "text", "text", "binary", "ping", "pong", "reserved-3"}
	for live > 0 {
		c := rng.IntN(conns)
		s := &st[c]
		if s.step < 0 {
			continue
		}
		t = t.Add(time.Duration(1+rng.IntN(2000)) * time.Microsecond)
		pkt++
		ev := analyze.Event{Time: t, Conn: c + 1, Packet: pkt}
		switch {
		case s.step == 0:
			ev.Type = analyze.TypeTCPOpen
			ev.TCPOpen = analyze.TCPOpen{Client: fmt.Sprintf("10.0.0.1:%d", 40000+c), Server: "10.0.0.2:80", SYN: true}
			ev.Note = "opened"
		case s.step == 1:
			ev.Type, ev.From = analyze.TypeHTTPRequest, analyze.FromClient
			ev.HTTP = analyze.HTTP{Method: "GET", Target: "/x", Proto: "HTTP/1.1"}
		case s.step == 2:
			ev.Type, ev.From = analyze.TypeHTTPResponse, analyze.FromServer
			ev.HTTP = analyze.HTTP{Status: 101, Proto: "HTTP/1.1"}
		case s.step == 3:
			ev.Type = analyze.TypeWSOpen
		case s.step < 4+2*msgs:
			from := analyze.FromClient
			if rng.IntN(2) == 0 {
				from = analyze.FromServer
			}
			kind := kinds[rng.IntN(len(kinds))]
			payload := fmt.Appendf(nil, `{"conn":%d,"step":%d,"Word":"%s"}`, c+1, s.step, []string{"Alpha", "beta", "GAMMA"}[rng.IntN(3)])
			payload = append(payload, bytes.Repeat([]byte{'x'}, rng.IntN(300))...)
			ev.Type, ev.From = analyze.TypeWSFrame, from
			ev.Frame = analyze.Frame{Fin: true, Opcode: MessageOpcode(kind) & 0xf, Len: uint64(len(payload))}
			if rng.IntN(40) == 0 {
				ev.Warnings = []analyze.Warning{{Code: "ws.masked_server_frame", Msg: "RFC 6455 §5.1"}}
			}
			emit(&ev)
			s.step++
			pkt++
			ev = analyze.Event{Time: t, Conn: c + 1, Packet: pkt, Type: analyze.TypeWSMessage, From: from}
			ev.Message = analyze.Message{Opcode: kind, Len: int64(len(payload)), WireLen: int64(len(payload)), Frames: 1, Payload: payload}
			ev.Note = "a message"
			if rng.IntN(30) == 0 {
				ev.Warnings = []analyze.Warning{{Code: "ws.invalid_utf8", Msg: "RFC 6455 §8.1"}, {Code: "ws.other", Msg: "x"}}
			}
			if rng.IntN(200) == 0 {
				emit(&ev)
				pkt++
				ev = analyze.Event{Time: t, Conn: c + 1, Packet: pkt, Type: analyze.TypeTCPGap, From: from}
				ev.TCPGap = analyze.TCPGap{Size: 100}
				ev.Warnings = []analyze.Warning{{Code: "tcp.gap", Msg: "bytes missing"}}
			}
		default:
			ev.Type = analyze.TypeTCPClose
			ev.TCPClose = analyze.TCPClose{How: analyze.CloseFIN}
			s.step = -2
			live--
		}
		emit(&ev)
		s.step++
	}
}

func openStore(t testing.TB, opts Options) *Store {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func fill(t testing.TB, s *Store, evs []analyze.Event) []Row {
	t.Helper()
	rows := make([]Row, 0, len(evs))
	for i := range evs {
		r, err := s.Add(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		if r.ID != uint64(i) {
			t.Fatalf("Add #%d gave ID %d", i, r.ID)
		}
		rows = append(rows, r)
	}
	return rows
}

// TestAddDoesNotWaitForReaders adds events while a query holds the read
// lock: they wait in the queue, Add returns at once, and the next reader
// sees them all, in order, with their warnings counted.
func TestAddDoesNotWaitForReaders(t *testing.T) {
	evs := genEvents(4, 3, 50)
	s := openStore(t, Options{MaxPayload: 64})
	rows := fill(t, s, evs[:10])
	s.mu.RLock() // a query under way
	added := make(chan error)
	go func() {
		for i := 10; i < len(evs); i++ {
			r, err := s.Add(&evs[i])
			if err == nil && r.ID != uint64(i) {
				err = fmt.Errorf("Add #%d gave ID %d", i, r.ID)
			}
			if err != nil {
				added <- err
				return
			}
		}
		added <- nil
	}()
	select {
	case err := <-added:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		s.mu.RUnlock()
		t.Fatal("Add waited for the reader")
	}
	if n := s.pendN.Load(); n != int64(len(evs)-10) {
		t.Errorf("%d events queued, want %d", n, len(evs)-10)
	}
	s.mu.RUnlock()
	if n := s.Len(); n != uint64(len(evs)) {
		t.Fatalf("Len() = %d after the queue, want %d", n, len(evs))
	}
	want := genEvents(4, 3, 50)
	codes := map[string]uint64{}
	for i := range want {
		rec, err := s.Record(uint64(i))
		if err != nil || rec.Row.ID != uint64(i) || rec.Row.Conn != uint32(want[i].Conn) {
			t.Fatalf("Record(%d) = %+v, %v", i, rec.Row, err)
		}
		if i < len(rows) && rec.Row != rows[i] {
			t.Fatalf("Record(%d).Row = %+v, want %+v", i, rec.Row, rows[i])
		}
		for _, w := range want[i].Warnings {
			codes[w.Code]++
		}
	}
	for code, n := range codes {
		if got := s.codes[code]; got == nil || got.n != n {
			t.Errorf("code %s counted %v, want %d", code, got, n)
		}
	}
}

// TestRecordWhileAdding reads written events while more are added, as the
// server does while a capture is read: under -race, the reader must not
// touch the block list the writer appends to.
func TestRecordWhileAdding(t *testing.T) {
	evs := genEvents(2, 5, 400)
	s := openStore(t, Options{MaxPayload: 64})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range evs {
			if _, err := s.Add(&evs[i]); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
		}
		if n := s.Len(); n > 0 {
			// Ids spread over the written blocks, more than the block
			// cache holds, so that blocks are read from the file.
			for k := uint64(0); k < 16; k++ {
				id := k * (n - 1) / 15
				if rec, err := s.Record(id); err != nil || rec.Row.ID != id {
					t.Fatalf("Record(%d) while adding = row %d, %v", id, rec.Row.ID, err)
				}
			}
			n := 0
			s.Records(0, func(*Record) bool { n++; return n < 200 })
		}
	}
}

func TestRecordsRoundTrip(t *testing.T) {
	evs := genEvents(1, 7, 300)
	s := openStore(t, Options{MaxPayload: 200})
	rows := fill(t, s, evs)
	check := func(id int) {
		t.Helper()
		rec, err := s.Record(uint64(id))
		if err != nil {
			t.Fatalf("Record(%d): %v", id, err)
		}
		ev := evs[id]
		wantPayload := ev.Message.Payload
		if len(wantPayload) > 200 {
			wantPayload = wantPayload[:200]
			ev.Message.Truncated = true
		}
		ev.Message.Payload = nil
		if want := ev.AppendJSON(nil); !bytes.Equal(rec.JSON, want) {
			t.Fatalf("Record(%d).JSON = %s, want %s", id, rec.JSON, want)
		}
		if !bytes.Equal(rec.Payload, wantPayload) {
			t.Fatalf("Record(%d).Payload = %q, want %q", id, rec.Payload, wantPayload)
		}
		if rec.Row != rows[id] {
			t.Fatalf("Record(%d).Row = %+v, want %+v", id, rec.Row, rows[id])
		}
	}
	// In the block being filled, then all of them written.
	check(len(evs) - 1)
	for id := range evs {
		check(id)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int{0, 1, 63, 64, 65, len(evs) - 1} {
		check(id)
	}
	if _, err := s.Record(uint64(len(evs))); err == nil {
		t.Errorf("Record past the end: no error")
	}
	// Rows and ConnRows give the rows from any id on.
	for _, id := range []int{0, 5, 64, 200, len(evs) - 1} {
		if r, err := s.Row(uint64(id)); err != nil || r != rows[id] {
			t.Fatalf("Row(%d) = %+v, %v; want %+v", id, r, err, rows[id])
		}
		var got, want []Row
		s.ConnRows(3, uint64(id), func(r *Row) bool { got = append(got, *r); return true })
		for _, r := range rows[id:] {
			if r.Conn == 3 {
				want = append(want, r)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("ConnRows(3, %d) gave %d rows, want %d", id, len(got), len(want))
		}
		n := 0
		s.Rows(uint64(id), func(r *Row) bool { n++; return n < 10 })
		if n != min(10, len(evs)-id) {
			t.Fatalf("Rows(%d) stopped after %d rows", id, n)
		}
	}
	// Records walks them all in order, from anywhere.
	for _, from := range []uint64{0, 100, uint64(len(evs) - 3)} {
		next := from
		err := s.Records(from, func(r *Record) bool {
			if r.Row.ID != next {
				t.Fatalf("Records(%d) gave %d, want %d", from, r.Row.ID, next)
			}
			next++
			return true
		})
		if err != nil || next != uint64(len(evs)) {
			t.Fatalf("Records(%d) ended at %d (%v), want %d", from, next, err, len(evs))
		}
	}
}

// bruteWindow is what a window should hold, from every row.
func bruteCount(rows []Row, conn uint32, t0, t1 int64, f Filter) (msgs []Row, drawnRows []Row) {
	for _, r := range rows {
		if r.Conn != conn || r.Time < t0 || r.Time > t1 {
			continue
		}
		if drawn(&r) && f.Pass(&r) {
			drawnRows = append(drawnRows, r)
		}
		if r.Type == TypeWSMessage && f.Pass(&r) {
			msgs = append(msgs, r)
		}
	}
	return
}

func TestWindowMatchesEveryRow(t *testing.T) {
	evs := genEvents(2, 5, 3000)
	s := openStore(t, Options{})
	rows := fill(t, s, evs)
	tmin, tmax := rows[0].Time, rows[len(rows)-1].Time
	rng := rand.New(rand.NewPCG(3, 3))
	filters := []Filter{
		{Classes: AllClasses},
		{Classes: AllClasses, Dir: FromServer},
		{Classes: 1<<ClassText | 1<<ClassPing, Dir: FromClient},
		{Classes: ClassSpecialBit},
	}
	for k := range 60 {
		t0 := tmin + rng.Int64N(tmax-tmin)
		t1 := t0 + rng.Int64N(tmax-t0+1)
		if k%4 == 0 {
			t0, t1 = tmin-5, tmax+5 // fit-all
		}
		f := filters[k%len(filters)]
		buckets := 1 + rng.IntN(500)
		maxEvents := []int{10, 200, 5000}[k%3]
		q := WindowQuery{T0: t0, T1: t1, Buckets: buckets, Conns: []uint32{1, 2, 3, 4, 5, 99}, Filter: f, MaxEvents: maxEvents, MaxMarks: 1 << 20}
		got, err := s.Window(q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(q.Conns) {
			t.Fatalf("Window gave %d lanes, want %d", len(got), len(q.Conns))
		}
		for _, lw := range got {
			msgs, want := bruteCount(rows, lw.Conn, t0, t1, f)
			if int(lw.Count) != len(msgs) {
				t.Fatalf("window %d lane %d: Count %d, want %d", k, lw.Conn, lw.Count, len(msgs))
			}
			if !lw.Merged {
				if !slices.Equal(lw.Events, want) {
					t.Fatalf("window %d lane %d: %d events one by one, want %d", k, lw.Conn, len(lw.Events), len(want))
				}
				continue
			}
			// Buckets: exactly the messages of each column.
			bk := bucketer{t0: t0, w: float64(t1-t0+1) / float64(buckets), n: buckets}
			type key struct {
				b int
				d uint8
			}
			wantB := map[key]*Bucket{}
			for _, r := range msgs {
				d := uint8(FromClient)
				if r.From == FromServer {
					d = FromServer
				}
				kk := key{bk.of(r.Time), d}
				b := wantB[kk]
				if b == nil {
					b = &Bucket{Index: kk.b, Dir: d}
					wantB[kk] = b
				}
				b.N++
				b.Classes[Class(r.Kind)]++
				if r.Flags&FlagWarning != 0 {
					b.Warn++
				}
				if !b.Big.Set || r.Size > b.Big.Size {
					b.Big = Big{Size: r.Size, ID: r.ID, Kind: r.Kind, Set: true}
				}
			}
			// Every message is counted once, in its column or, for a leaf
			// spread over a few columns, within splitColumns of it.
			var total uint32
			for _, b := range lw.Buckets {
				total += b.N
				near := false
				for k := b.Index - splitColumns; k <= b.Index+splitColumns; k++ {
					if w := wantB[key{k, b.Dir}]; w != nil {
						near = true
					}
				}
				if !near || b.N == 0 {
					t.Fatalf("window %d lane %d: bucket %+v has no message within %d columns", k, lw.Conn, b, splitColumns)
				}
			}
			if int(total) != len(msgs) {
				t.Fatalf("window %d lane %d: buckets count %d messages, want %d", k, lw.Conn, total, len(msgs))
			}
			for kk, w := range wantB {
				found := false
				for _, b := range lw.Buckets {
					if b.Dir == kk.d && b.Index >= kk.b-splitColumns && b.Index <= kk.b+splitColumns {
						found = true
					}
				}
				if !found {
					t.Fatalf("window %d lane %d: no bucket near %+v", k, lw.Conn, w)
				}
			}
			// Marks: the special and warned events, one by one.
			var wantMarks []Row
			for _, r := range want {
				if r.Special() || r.Flags&FlagWarning != 0 {
					wantMarks = append(wantMarks, r)
				}
			}
			if !slices.Equal(lw.Marks, wantMarks) {
				t.Fatalf("window %d lane %d: %d marks, want %d", k, lw.Conn, len(lw.Marks), len(wantMarks))
			}
		}
	}
}

func TestOverview(t *testing.T) {
	evs := genEvents(4, 6, 2000)
	s := openStore(t, Options{})
	rows := fill(t, s, evs)
	t0, t1 := rows[0].Time, rows[len(rows)-1].Time
	for _, n := range []int{1, 7, 300, 5000} {
		f := Filter{Classes: AllClasses}
		got, err := s.Overview(t0, t1, n, f, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]OverviewBucket, n)
		bk := bucketer{t0: t0, w: float64(t1-t0+1) / float64(n), n: n}
		for _, r := range rows {
			if r.Type == TypeWSMessage {
				want[bk.of(r.Time)].N++
			}
			if r.Flags&FlagWarning != 0 {
				want[bk.of(r.Time)].Warn++
			}
		}
		var gotN, wantN uint32
		for k := range got {
			gotN += got[k].N
			wantN += want[k].N
			if got[k].N == 0 {
				continue
			}
			near := false
			for j := max(0, k-splitColumns); j <= min(n-1, k+splitColumns); j++ {
				near = near || want[j].N > 0
			}
			if !near {
				t.Fatalf("Overview(%d columns): column %d counts %d, no message within %d columns", n, k, got[k].N, splitColumns)
			}
		}
		if gotN != wantN {
			t.Fatalf("Overview(%d columns) counts %d messages, want %d", n, gotN, wantN)
		}
	}
}

func TestListPages(t *testing.T) {
	evs := genEvents(5, 4, 1500)
	s := openStore(t, Options{})
	rows := fill(t, s, evs)
	type tc struct {
		name string
		q    ListQuery
		pass func(*Row) bool
	}
	cases := []tc{
		{"messages", ListQuery{Kind: ListMessages, Filter: Filter{Classes: AllClasses}}, func(r *Row) bool { return r.Type == TypeWSMessage }},
		{"server binary", ListQuery{Kind: ListMessages, Filter: Filter{Classes: 1 << ClassBinary, Dir: FromServer}}, func(r *Row) bool {
			return r.Type == TypeWSMessage && r.From == FromServer && r.Kind == OpBinary
		}},
		{"warned server messages", ListQuery{Kind: ListMessages, Filter: Filter{Classes: 1 << ClassText, Dir: FromServer, WarnOnly: true}}, func(r *Row) bool {
			return r.Type == TypeWSMessage && r.From == FromServer && r.Flags&FlagWarning != 0
		}},
		{"warnings", ListQuery{Kind: ListWarnings}, func(r *Row) bool { return r.Flags&FlagWarning != 0 }},
		{"client warnings", ListQuery{Kind: ListWarnings, Filter: Filter{Dir: FromClient}}, func(r *Row) bool {
			return r.Flags&FlagWarning != 0 && r.From != FromServer
		}},
		{"one code", ListQuery{Kind: ListWarnings, Code: "ws.invalid_utf8"}, func(r *Row) bool {
			return evs[r.ID].Type == analyze.TypeWSMessage && len(evs[r.ID].Warnings) == 2
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want []Row
			for _, r := range rows {
				if c.pass(&r) {
					want = append(want, r)
				}
			}
			for _, off := range []int{0, 1, 99, 100, len(want) / 2, len(want) - 5, len(want)} {
				q := c.q
				q.Offset, q.Limit = uint64(off), 37
				page, err := s.List(q)
				if err != nil {
					t.Fatal(err)
				}
				if page.Total != uint64(len(want)) {
					t.Fatalf("List(%s).Total = %d, want %d", c.name, page.Total, len(want))
				}
				end := min(len(want), off+37)
				if !slices.Equal(page.Rows, want[off:end]) {
					t.Fatalf("List(%s, offset %d) = %d rows, want %d (first %v, want %v)", c.name, off, len(page.Rows), end-off, page.Rows[:min(1, len(page.Rows))], want[off:min(off+1, end)])
				}
			}
			if len(want) > 10 {
				at, ok, err := s.Locate(c.q, want[10].ID)
				if err != nil || !ok || at != 10 {
					t.Fatalf("Locate(%s, %d) = %d, %v, %v; want 10", c.name, want[10].ID, at, ok, err)
				}
			}
		})
	}
	codes := s.Codes()
	var names []string
	for _, c := range codes {
		names = append(names, c.Code)
	}
	if !slices.Contains(names, "ws.invalid_utf8") || !slices.Contains(names, "tcp.gap") {
		t.Errorf("Codes() = %v, missing some", names)
	}
}

func TestSearchFollowsNewEvents(t *testing.T) {
	evs := genEvents(6, 5, 1000)
	s := openStore(t, Options{})
	half := len(evs) / 2
	rows := fill(t, s, evs[:half])
	q, err := s.Search("gamma")
	if err != nil {
		t.Fatal(err)
	}
	q.Wait()
	for i := half; i < len(evs); i++ {
		r, err := s.Add(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	var want []Row
	for _, r := range rows {
		if r.Type == TypeWSMessage && bytes.Contains(bytes.ToLower(evs[r.ID].Message.Payload), []byte("gamma")) {
			want = append(want, r)
		}
	}
	p := q.Progress()
	if !p.Done || p.Matches != uint64(len(want)) || p.Scanned != uint64(len(evs)) {
		t.Fatalf("Progress() = %+v, want %d matches of %d", p, len(want), len(evs))
	}
	page, err := s.List(ListQuery{Kind: ListMessages, Filter: Filter{Classes: AllClasses}, Search: q, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(page.Rows, want[:min(1000, len(want))]) {
		t.Fatalf("the search's list has %d rows, want %d", len(page.Rows), len(want))
	}
	// The same text gives the same search; a window over it has only matches.
	if q2, _ := s.Search("gamma"); q2 != q {
		t.Errorf("Search of the same text started another")
	}
	lws, err := s.Window(WindowQuery{T0: rows[0].Time, T1: rows[len(rows)-1].Time, Buckets: 10, Conns: []uint32{1}, Filter: Filter{Classes: AllClasses}, Search: q, MaxEvents: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range lws[0].Events {
		if r.Type == TypeWSMessage && !bytes.Contains(bytes.ToLower(evs[r.ID].Message.Payload), []byte("gamma")) {
			t.Fatalf("window of a search holds %d, not a match", r.ID)
		}
	}
	// Searches beyond the kept ones are closed, their files removed.
	for i := range maxSearches + 2 {
		q, err := s.Search(fmt.Sprintf("step\":%d", i))
		if err != nil {
			t.Fatal(err)
		}
		q.Wait()
	}
	files, _ := filepath.Glob(filepath.Join(s.opts.Dir, "*.search"))
	if len(files) != maxSearches {
		t.Errorf("%d search files, want %d", len(files), maxSearches)
	}
}

func TestCloseRemovesFiles(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, Options{Dir: dir})
	fill(t, s, genEvents(7, 2, 50))
	q, _ := s.Search("alpha")
	q.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Errorf("Close left %d files", len(left))
	}
	if _, err := s.Add(&analyze.Event{Type: analyze.TypeTCPOpen}); err != ErrClosed {
		t.Errorf("Add after Close = %v, want ErrClosed", err)
	}
}

func TestDetailsLimit(t *testing.T) {
	evs := genEvents(8, 3, 500)
	s := openStore(t, Options{MaxDetails: 20 << 10})
	rows := fill(t, s, evs)
	if !s.Usage().NoDetail {
		t.Fatalf("20 KiB of details kept %d events", len(evs))
	}
	last := rows[len(rows)-1]
	if last.Flags&FlagNoDetail == 0 {
		t.Errorf("the last event is not flagged FlagNoDetail")
	}
	if _, err := s.Record(0); err != nil {
		t.Errorf("Record(0): %v", err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record(last.ID); err != ErrNoDetail {
		t.Errorf("Record(last) = %v, want ErrNoDetail", err)
	}
	// The rows are all there.
	page, err := s.List(ListQuery{Kind: ListMessages, Filter: Filter{Classes: AllClasses}, Offset: 0, Limit: 1000})
	if err != nil || page.Total != uint64(sumMsgs(s.Total())) {
		t.Errorf("List after the limit: %d, %v", page.Total, err)
	}
}

func sumMsgs(s Summary) uint32 {
	var n uint32
	for d := range s.Msgs {
		for _, c := range s.Msgs[d] {
			n += c
		}
	}
	return n
}

func TestRowEncoding(t *testing.T) {
	rows := []Row{
		{},
		{ID: 1<<64 - 1, Time: -1 << 62, Size: 1<<63 - 1, Packet: -5, Conn: 1<<32 - 1, Type: 8, From: 2, Kind: 255, Flags: 255},
		{ID: 3, Time: 1 << 62, Size: -1, Packet: 1 << 62, Conn: 0},
	}
	var b []byte
	var prev Row
	for i := range rows {
		b = appendRow(b, &rows[i], &prev)
		prev = rows[i]
	}
	got, err := decodeRows(b, nil)
	if err != nil || !slices.Equal(got, rows) {
		t.Fatalf("decodeRows(appendRow(%v)) = %v, %v", rows, got, err)
	}
	for n := 1; n < len(b); n++ {
		got, err := decodeRows(b[:n], nil)
		if err == nil && len(got) == len(rows) {
			t.Fatalf("decodeRows of %d of %d bytes gave every row", n, len(b))
		}
	}
}
