package ui

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/wsviz/wsviz/analyze"
)

// record says where an event's details live in the spill file: its JSON form
// (with the payload left out), followed by the raw payload bytes.
type record struct {
	off        int64
	jsonLen    uint32
	payloadLen uint32
}

// store keeps every published event: a compact index in memory (rows, about
// 50 bytes an event) and the details (JSON form and payload) in a spill file
// on disk, read back when the page asks for them. It is not safe for
// concurrent use; Server guards it with its mutex, except for reads of
// already flushed file regions (readAt), which are safe concurrently.
type store struct {
	rows []row
	recs []record
	// byConn lists the ids of each connection's events, in capture order.
	byConn map[uint32][]uint32

	file    *os.File
	w       *bufio.Writer
	written int64 // bytes handed to w
	flushed int64 // bytes known to be in the file
	maxFile int64

	maxPayload int
	buf        []byte
	scratch    analyze.Event
}

func newStore(dir string, maxFile int64, maxPayload int) (*store, error) {
	f, err := os.CreateTemp(dir, "wsviz-ui-*.spill")
	if err != nil {
		return nil, fmt.Errorf("ui: create spill file: %w", err)
	}
	return &store{
		byConn:     make(map[uint32][]uint32),
		file:       f,
		w:          bufio.NewWriterSize(f, 256<<10),
		maxFile:    maxFile,
		maxPayload: maxPayload,
	}, nil
}

func (s *store) len() int { return len(s.rows) }

// add stores ev and returns its id. The details are dropped (and the row
// flagged) once the spill file reached its limit, or after a write error.
func (s *store) add(ev *analyze.Event) (int, error) {
	id := len(s.rows)
	r := rowOf(ev)
	var rec record
	var err error
	if s.file != nil && s.written < s.maxFile {
		// The JSON form without the payload: a shallow copy, so that the
		// caller's event is not touched.
		s.scratch = *ev
		payload := ev.Message.Payload
		if s.maxPayload >= 0 && len(payload) > s.maxPayload {
			payload = payload[:s.maxPayload]
			s.scratch.Message.Truncated = true
			r.flags |= flagTruncated
		}
		s.scratch.Message.Payload = nil
		s.buf = s.scratch.AppendJSON(s.buf[:0])
		s.scratch = analyze.Event{}
		if len(s.buf) <= maxRecordPart && len(payload) <= maxRecordPart {
			rec = record{off: s.written, jsonLen: uint32(len(s.buf)), payloadLen: uint32(len(payload))}
			if _, err = s.w.Write(s.buf); err == nil {
				_, err = s.w.Write(payload)
			}
			if err != nil {
				err = fmt.Errorf("ui: write spill file: %w", err)
				s.closeFile()
				rec = record{}
			} else {
				s.written += int64(len(s.buf)) + int64(len(payload))
			}
		}
	}
	if rec.jsonLen == 0 {
		r.flags |= flagNoDetail
	}
	s.rows = append(s.rows, r)
	s.recs = append(s.recs, rec)
	if r.conn != 0 {
		s.byConn[r.conn] = append(s.byConn[r.conn], uint32(id))
	}
	return id, err
}

// maxRecordPart bounds one record's JSON or payload, so that lengths fit the
// record's uint32 fields with room to spare.
const maxRecordPart = 1 << 30

// sync makes sure every record up to the end of rec is in the file, so it can
// be read with readAt without the lock.
func (s *store) sync(rec record) error {
	end := rec.off + int64(rec.jsonLen) + int64(rec.payloadLen)
	if end <= s.flushed || s.w == nil {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("ui: write spill file: %w", err)
	}
	s.flushed = s.written
	return nil
}

func (s *store) closeFile() {
	if s.file == nil {
		return
	}
	s.file.Close()
	os.Remove(s.file.Name())
	s.file = nil
	s.w = nil
}

// errNoDetail means the event's details were not kept.
var errNoDetail = errors.New("ui: event details not kept (spill limit reached or write failed)")

// readRecord reads an event's JSON form and payload from f. The caller has
// synced the record. It is safe to call without the server's lock.
func readRecord(f *os.File, rec record) (jsonForm, payload []byte, err error) {
	if rec.jsonLen == 0 || f == nil {
		return nil, nil, errNoDetail
	}
	buf := make([]byte, int(rec.jsonLen)+int(rec.payloadLen))
	if _, err := f.ReadAt(buf, rec.off); err != nil {
		return nil, nil, fmt.Errorf("ui: read spill file: %w", err)
	}
	return buf[:rec.jsonLen], buf[rec.jsonLen:], nil
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

// searchFile scans the payloads of the records in recs (sorted by offset,
// with their ids) and returns the ids whose payload match reports true for.
// match may change the bytes it is given.
func searchFile(f *os.File, ids []uint32, recs []record, match func([]byte) bool) ([]uint32, error) {
	if f == nil {
		return nil, nil
	}
	var out []uint32
	var pos int64
	var r *bufio.Reader
	var low []byte
	for i, rec := range recs {
		if rec.payloadLen == 0 {
			continue
		}
		start := rec.off + int64(rec.jsonLen)
		if r == nil || start < pos || start-pos > 1<<20 {
			r = bufio.NewReaderSize(io.NewSectionReader(f, start, 1<<62), 1<<20)
			pos = start
		}
		if _, err := r.Discard(int(start - pos)); err != nil {
			return out, fmt.Errorf("ui: read spill file: %w", err)
		}
		pos = start
		if cap(low) < int(rec.payloadLen) {
			low = make([]byte, rec.payloadLen)
		}
		low = low[:rec.payloadLen]
		if _, err := io.ReadFull(r, low); err != nil {
			return out, fmt.Errorf("ui: read spill file: %w", err)
		}
		pos += int64(rec.payloadLen)
		if match(low) {
			out = append(out, ids[i])
		}
	}
	return out, nil
}

func lowerASCII(b []byte) {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
}
