package ui

import (
	"bufio"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/ui/internal/spill"
)

// Limits of export requests.
const (
	maxExportBody = 64 << 20 // bytes of an export request's form
	exportChunk   = 4096     // events read per lock in exports
)

// serveExport answers /api/export?format=jsonl|har&ids=RANGES (GET, or
// POST with a form for long id lists) with the events as a download.
// RANGES is a comma-separated list of ids and ranges "a-b" (inclusive);
// without ids, every event is exported. With filter=1 instead of ids, the
// events that pass the page's filter are exported: the filter and search
// parameters of the window API (dir, kinds, warn, q, re) and only=1,2,...
// for the connections shown (all when absent).
func (s *Server) serveExport(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxExportBody)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "ui: bad export request: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	n := s.st.len()
	s.mu.Unlock()
	all := idList{{0, n}}
	var sel func(int, *analyze.Event) bool
	if r.Form.Get("filter") == "1" {
		var err error
		if sel, err = exportFilter(r.Form); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	} else if r.Form.Get("ids") != "" {
		ids, err := parseRanges(r.Form.Get("ids"), n)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sel = func(id int, _ *analyze.Event) bool { return ids.has(id) }
		all = ids
	}
	format := r.Form.Get("format")
	name := "wsviz-events"
	switch format {
	case "jsonl":
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.jsonl"`)
		bw := bufio.NewWriterSize(w, 64<<10)
		var line []byte
		s.eachEventOf(all.iter(), func(id int, ev *analyze.Event) bool {
			if sel != nil && !sel(id, ev) {
				return true
			}
			line = append(ev.AppendJSON(line[:0]), '\n')
			_, err := bw.Write(line)
			return err == nil
		})
		bw.Flush()
	case "har":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.har"`)
		bw := bufio.NewWriterSize(w, 64<<10)
		s.writeHAR(bw, sel)
		bw.Flush()
	default:
		http.Error(w, fmt.Sprintf("ui: unknown export format %q (want jsonl or har)", format), http.StatusBadRequest)
	}
}

// exportFilter returns what the page's filter shows (filterValues and the
// search, only=1,2,... for the connections shown) as a test of events: a
// search keeps the messages whose payload matches, as the page shows.
func exportFilter(v url.Values) (func(int, *analyze.Event) bool, error) {
	f, err := filterValues(v)
	if err != nil {
		return nil, err
	}
	var only map[uint32]bool
	if v.Has("only") {
		only = make(map[uint32]bool)
		for _, c := range strings.Split(v.Get("only"), ",") {
			if c == "" {
				continue
			}
			n, err := strconv.ParseUint(c, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("ui: bad only %q", c)
			}
			only[uint32(n)] = true
		}
	}
	var match func([]byte) bool
	if text := v.Get("q"); text != "" {
		if len(text) > maxSearchLen {
			return nil, fmt.Errorf("ui: search text must be 1 to %d bytes", maxSearchLen)
		}
		if match, err = searchMatcher(text, v.Get("re") == "1"); err != nil {
			return nil, err
		}
	}
	var buf []byte
	return func(_ int, ev *analyze.Event) bool {
		w := rowOf(ev)
		r := spill.Row{Type: w.typ, From: w.from, Kind: w.kind, Flags: w.flags}
		if !f.Pass(&r) || only != nil && !only[w.conn] {
			return false
		}
		if match == nil {
			return true
		}
		if w.typ != codeWSMessage {
			return false
		}
		buf = append(buf[:0], ev.Message.Payload...)
		return match(buf)
	}, nil
}

// eachEvent calls fn with each event of ids, rebuilt from the spill file,
// until fn returns false. Events whose details were not kept are passed as
// placeholders.
func (s *Server) eachEvent(ids idList, fn func(*analyze.Event) bool) {
	s.eachEventOf(ids.iter(), func(_ int, ev *analyze.Event) bool { return fn(ev) })
}

// eachEventOf calls fn with each event whose id next yields (in
// ascending order), with its id, until fn returns false. Runs of
// consecutive ids are read from the store block by block.
func (s *Server) eachEventOf(next func() (int, bool), fn func(int, *analyze.Event) bool) {
	t0 := s.startTime()
	id, ok := next()
	for ok {
		// Read from id on, as long as the ids follow each other.
		want := id
		stop := false
		err := s.st.sp.Records(uint64(id), func(rec *spill.Record) bool {
			for int(rec.Row.ID) > want {
				// Not kept (no details): a placeholder.
				if !s.placeholder(want, t0, fn) {
					stop = true
					return false
				}
				if want, ok = next(); !ok || int(rec.Row.ID) < want {
					return false
				}
			}
			if int(rec.Row.ID) < want {
				return true
			}
			ev, err := decodeRecord(rec.JSON, rec.Payload)
			if err == nil && !fn(want, &ev) {
				stop = true
				return false
			}
			want, ok = next()
			return ok && want == int(rec.Row.ID)+1
		})
		if err != nil || stop {
			return
		}
		if ok && want == id {
			// Nothing read from id: its details were not kept.
			if !s.placeholder(want, t0, fn) {
				return
			}
			want, ok = next()
		}
		id = want
	}
}

// placeholder calls fn with a stand-in for event id, whose details were
// not kept.
func (s *Server) placeholder(id int, t0 int64, fn func(int, *analyze.Event) bool) bool {
	r, err := s.st.row(id)
	if err != nil {
		return true
	}
	var ev analyze.Event
	if ev.UnmarshalJSON(placeholderJSON(r, t0)) != nil {
		return true
	}
	return fn(id, &ev)
}

// idList is a sorted list of id ranges [lo, hi).
type idList [][2]int

// has reports whether id is in the list.
func (l idList) has(id int) bool {
	i, _ := slices.BinarySearchFunc(l, id, func(r [2]int, id int) int {
		switch {
		case r[1] <= id:
			return -1
		case r[0] > id:
			return 1
		}
		return 0
	})
	return i < len(l) && l[i][0] <= id && id < l[i][1]
}

func (l idList) iter() func() (int, bool) {
	i, id := 0, -1
	return func() (int, bool) {
		for i < len(l) {
			if id < l[i][0] {
				id = l[i][0]
			}
			if id < l[i][1] {
				v := id
				id++
				return v, true
			}
			i++
		}
		return 0, false
	}
}

// parseRanges parses "1,4-9,12" into ranges of ids below n, sorted and
// without overlaps. The empty string means every id.
func parseRanges(s string, n int) (idList, error) {
	if strings.TrimSpace(s) == "" {
		if n == 0 {
			return nil, nil
		}
		return idList{{0, n}}, nil
	}
	var out idList
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		lo, hi, isRange := strings.Cut(f, "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < a || b >= n {
			return nil, fmt.Errorf("ui: bad id range %q (have %d events)", f, n)
		}
		out = append(out, [2]int{a, b + 1})
	}
	slices.SortFunc(out, func(x, y [2]int) int { return x[0] - y[0] })
	merged := out[:1]
	for _, r := range out[1:] {
		last := &merged[len(merged)-1]
		if r[0] <= last[1] {
			last[1] = max(last[1], r[1])
			continue
		}
		merged = append(merged, r)
	}
	return merged, nil
}
