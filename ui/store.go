package ui

import (
	"errors"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/ui/internal/spill"
)

// store is the server's view of the spill store (ui/internal/spill), which
// keeps every published event on disk: details and payloads in compressed
// blocks, rows in per-connection leaves under trees of summaries. Memory
// holds about 4 bytes an event in all (the old index took 50 and more),
// so the server stays near 100 MB for captures of gigabytes. The store has its own lock: the server's is
// not needed to read it.
type store struct {
	sp *spill.Store
}

func newStore(dir string, maxFile int64, maxPayload int) (*store, error) {
	sp, err := spill.Open(spill.Options{Dir: dir, MaxDetails: maxFile, MaxPayload: maxPayload})
	if err != nil {
		return nil, err
	}
	return &store{sp: sp}, nil
}

func (s *store) len() int { return int(s.sp.Len()) }

// add stores ev with extra row flags and returns its id.
func (s *store) add(ev *analyze.Event, flags uint8) (int, error) {
	w := rowOf(ev)
	r, err := s.sp.AddRow(ev, spill.Row{Time: w.time, Size: w.size, Packet: w.packet, Conn: w.conn, Stream: w.stream,
		Type: w.typ, From: w.from, Kind: w.kind, Flags: w.flags | flags})
	return int(r.ID), err
}

// row returns the row of event id.
func (s *store) row(id int) (row, error) {
	r, err := s.sp.Row(uint64(id))
	return rowOfSpill(&r), err
}

// connIDs calls fn with the ids of connection c's events from id on.
func (s *store) connIDs(c uint32, from int, fn func(id int, r row) bool) {
	s.sp.ConnRows(c, uint64(from), func(r *spill.Row) bool { return fn(int(r.ID), rowOfSpill(r)) })
}

// conns returns the connections with events, ascending.
func (s *store) conns() []uint32 { return s.sp.Conns() }

func (s *store) closeFile() { s.sp.Close() }

// errNoDetail means the event's details were not kept.
var errNoDetail = spill.ErrNoDetail

// record returns event id's JSON form (without payload), its payload and
// its row; errNoDetail (with the row) when its details were not kept.
func (s *store) record(id int) ([]byte, []byte, row, error) {
	rec, err := s.sp.Record(uint64(id))
	if errors.Is(err, spill.ErrNoDetail) {
		r, rerr := s.row(id)
		if rerr != nil {
			return nil, nil, r, rerr
		}
		return nil, nil, r, errNoDetail
	}
	return rec.JSON, rec.Payload, rowOfSpill(&rec.Row), err
}

// decodeRecord rebuilds the event of a record: its JSON form with the
// payload put back.
func decodeRecord(jsonForm, payload []byte) (analyze.Event, error) {
	var ev analyze.Event
	if err := ev.UnmarshalJSON(jsonForm); err != nil {
		return ev, err
	}
	ev.Message.Payload = payload
	return ev, nil
}

func rowOfSpill(r *spill.Row) row {
	return row{time: r.Time, size: r.Size, packet: r.Packet, conn: r.Conn, stream: r.Stream, typ: r.Type, from: r.From, kind: r.Kind, flags: r.Flags}
}

func lowerASCII(b []byte) {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
}
