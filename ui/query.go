package ui

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/wsviz/wsviz/ui/internal/spill"
)

// The window API: the page never holds every event. It asks for what it
// draws (a time range of some lanes at a pixel width), for pages of the
// Messages and Warnings panels, and for the overview strip; the server
// answers from the spill store (ui/internal/spill) in time that does not
// grow with the capture.
//
// Times in requests and answers are microseconds since the capture's first
// event, as in the event batches. A row is sent as an array:
// [id, t, size, packet, conn, type, from, kind, flags].

// Limits of window requests.
const (
	maxWindowLanes   = 500
	maxWindowBuckets = 8192
	maxWindowEvents  = 20000
	maxListPage      = 1000
)

// queryAPI answers the window requests from a store.
type queryAPI struct {
	st *spill.Store
	// t0 returns the time of the capture's first event (Unix ns).
	t0 func() int64
}

// rowJSON is a row as the page gets it.
func rowJSON(b []byte, r *spill.Row, t0 int64) []byte {
	b = append(b, '[')
	b = strconv.AppendUint(b, r.ID, 10)
	b = append(b, ',')
	b = strconv.AppendFloat(b, float64(r.Time-t0)/1e3, 'f', -1, 64)
	b = append(b, ',')
	b = strconv.AppendInt(b, r.Size, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, r.Packet, 10)
	for _, v := range [...]uint64{uint64(r.Conn), uint64(r.Type), uint64(r.From), uint64(r.Kind), uint64(r.Flags)} {
		b = append(b, ',')
		b = strconv.AppendUint(b, v, 10)
	}
	return append(b, ']')
}

// queryFilter reads the filter parameters: dir (0, 1 client, 2 server),
// kinds (comma-separated: text, binary, close, ping, pong, other, tcp; all
// when absent), warn=1 (warnings only).
func queryFilter(r *http.Request) (spill.Filter, error) {
	q := r.URL.Query()
	f := spill.Filter{Classes: spill.AllClasses}
	if v := q.Get("dir"); v != "" {
		d, err := strconv.Atoi(v)
		if err != nil || d < 0 || d > 2 {
			return f, fmt.Errorf("ui: bad dir %q", v)
		}
		f.Dir = uint8(d)
	}
	if q.Has("kinds") {
		f.Classes = 0
		for _, k := range strings.Split(q.Get("kinds"), ",") {
			switch k {
			case "":
			case "text":
				f.Classes |= 1 << spill.ClassText
			case "binary":
				f.Classes |= 1 << spill.ClassBinary
			case "close":
				f.Classes |= 1 << spill.ClassClose
			case "ping":
				f.Classes |= 1 << spill.ClassPing
			case "pong":
				f.Classes |= 1 << spill.ClassPong
			case "other":
				f.Classes |= 1 << spill.ClassOther
			case "tcp":
				f.Classes |= spill.ClassSpecialBit
			default:
				return f, fmt.Errorf("ui: unknown kind %q", k)
			}
		}
	}
	f.WarnOnly = q.Get("warn") == "1"
	return f, nil
}

// querySearch returns the search the request names (q=TEXT, re=1 for a
// regular expression), started if needed, or nil.
func (a *queryAPI) querySearch(r *http.Request) (*spill.Search, error) {
	text := r.URL.Query().Get("q")
	if text == "" {
		return nil, nil
	}
	if len(text) > maxSearchLen {
		return nil, fmt.Errorf("ui: search text must be 1 to %d bytes", maxSearchLen)
	}
	if r.URL.Query().Get("re") == "1" {
		re, err := regexp.Compile(text)
		if err != nil {
			return nil, fmt.Errorf("ui: bad regular expression: %w", err)
		}
		return a.st.SearchFunc("re:"+text, re.Match)
	}
	return a.st.Search(text)
}

// timeParam parses a time in microseconds since the capture's start into
// Unix nanoseconds.
func (a *queryAPI) timeParam(r *http.Request, name string, def int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	us, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(us) || math.Abs(us) > 1e15 {
		return 0, fmt.Errorf("ui: bad %s %q", name, v)
	}
	return a.t0() + int64(math.Round(us*1e3)), nil
}

func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("ui: bad %s %q (want %d to %d)", name, v, lo, hi)
	}
	return n, nil
}

func badRequest(w http.ResponseWriter, err error) {
	http.Error(w, err.Error(), http.StatusBadRequest)
}

func writeRawJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// appendSearch appends ,"search":{...} when a search is on.
func appendSearch(b []byte, q *spill.Search) []byte {
	if q == nil {
		return b
	}
	p := q.Progress()
	b = append(b, `,"search":{"matches":`...)
	b = strconv.AppendUint(b, p.Matches, 10)
	b = append(b, `,"scanned":`...)
	b = strconv.AppendUint(b, p.Scanned, 10)
	b = append(b, `,"done":`...)
	b = strconv.AppendBool(b, p.Done)
	if p.Error != "" {
		b = append(b, `,"error":`...)
		b = appendJSONText(b, p.Error)
	}
	return append(b, '}')
}

// serveWindow answers /api/window?t0=&t1=&w=&conns=1,2,...&max=N with the
// filter and search parameters: for each lane,
// {"conn","count","merged","events":[row...]} when at most max events pass
// (default 2,000), else {"conn","count","merged":true,"buckets":[...],
// "marks":[row...],"more_marks"} where a bucket is [column, dir, count,
// warnings, size, id, opcode], the last three of its largest message; and
// "sum" the lane's counts in the range (by direction and kind).
func (a *queryAPI) serveWindow(w http.ResponseWriter, r *http.Request) {
	var q spill.WindowQuery
	var err error
	if q.T0, err = a.timeParam(r, "t0", math.MinInt64/2); err != nil {
		badRequest(w, err)
		return
	}
	if q.T1, err = a.timeParam(r, "t1", math.MaxInt64/2); err != nil {
		badRequest(w, err)
		return
	}
	if q.Buckets, err = intParam(r, "w", 1000, 1, maxWindowBuckets); err != nil {
		badRequest(w, err)
		return
	}
	if q.MaxEvents, err = intParam(r, "max", 2000, 1, maxWindowEvents); err != nil {
		badRequest(w, err)
		return
	}
	for _, c := range strings.Split(r.URL.Query().Get("conns"), ",") {
		if c == "" {
			continue
		}
		n, err := strconv.ParseUint(c, 10, 32)
		if err != nil || len(q.Conns) == maxWindowLanes {
			badRequest(w, fmt.Errorf("ui: bad conns (at most %d numbers)", maxWindowLanes))
			return
		}
		q.Conns = append(q.Conns, uint32(n))
	}
	if q.Filter, err = queryFilter(r); err != nil {
		badRequest(w, err)
		return
	}
	if q.Search, err = a.querySearch(r); err != nil {
		badRequest(w, err)
		return
	}
	lanes, err := a.st.Window(q)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	t0 := a.t0()
	b := make([]byte, 0, 4096)
	b = append(b, `{"lanes":[`...)
	for i := range lanes {
		lw := &lanes[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"conn":`...)
		b = strconv.AppendUint(b, uint64(lw.Conn), 10)
		b = append(b, `,"count":`...)
		b = strconv.AppendUint(b, uint64(lw.Count), 10)
		b = append(b, `,"merged":`...)
		b = strconv.AppendBool(b, lw.Merged)
		if !lw.Merged {
			b = append(b, `,"events":[`...)
			for k := range lw.Events {
				if k > 0 {
					b = append(b, ',')
				}
				b = rowJSON(b, &lw.Events[k], t0)
			}
			b = append(b, ']')
		} else {
			b = append(b, `,"buckets":[`...)
			for k := range lw.Buckets {
				bk := &lw.Buckets[k]
				if k > 0 {
					b = append(b, ',')
				}
				b = append(b, '[')
				b = strconv.AppendInt(b, int64(bk.Index), 10)
				b = append(b, ',')
				b = strconv.AppendUint(b, uint64(bk.Dir), 10)
				b = append(b, ',')
				b = strconv.AppendUint(b, uint64(bk.N), 10)
				b = append(b, ',')
				b = strconv.AppendUint(b, uint64(bk.Warn), 10)
				b = append(b, ',')
				b = strconv.AppendInt(b, bk.Big.Size, 10)
				b = append(b, ',')
				b = strconv.AppendUint(b, bk.Big.ID, 10)
				b = append(b, ',')
				b = strconv.AppendUint(b, uint64(bk.Big.Kind), 10)
				b = append(b, ']')
			}
			b = append(b, `],"marks":[`...)
			for k := range lw.Marks {
				if k > 0 {
					b = append(b, ',')
				}
				b = rowJSON(b, &lw.Marks[k], t0)
			}
			b = append(b, `],"more_marks":`...)
			b = strconv.AppendInt(b, int64(lw.MoreMarks), 10)
		}
		b = appendSum(b, &lw.Sum)
		b = append(b, '}')
	}
	b = append(b, ']')
	b = appendSearch(b, q.Search)
	b = append(b, '}')
	writeRawJSON(w, b)
}

// appendSum appends ,"sum":{...}: messages by direction and kind class,
// frames by direction, events with warnings (no direction, client,
// server), special events, opens and closes.
func appendSum(b []byte, s *spill.Summary) []byte {
	b = append(b, `,"sum":{"events":`...)
	b = strconv.AppendUint(b, uint64(s.N), 10)
	b = append(b, `,"msgs":[`...)
	for d := range s.Msgs {
		if d > 0 {
			b = append(b, ',')
		}
		b = appendUints(b, s.Msgs[d][:])
	}
	b = append(b, `],"frames":`...)
	b = appendUints(b, s.Frames[:])
	b = append(b, `,"warnings":`...)
	b = appendUints(b, s.Warn[:])
	b = append(b, `,"special":`...)
	b = strconv.AppendUint(b, uint64(s.Special), 10)
	b = append(b, `,"opens":`...)
	b = strconv.AppendUint(b, uint64(s.Opens), 10)
	b = append(b, `,"closes":`...)
	b = strconv.AppendUint(b, uint64(s.Closes), 10)
	return append(b, '}')
}

func appendUints(b []byte, v []uint32) []byte {
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(x), 10)
	}
	return append(b, ']')
}

// serveOverview answers /api/overview?t0=&t1=&w= (with the filter and
// search parameters) with the messages and warnings per column of the
// whole capture: {"n":[...],"warn":[...]}.
func (a *queryAPI) serveOverview(w http.ResponseWriter, r *http.Request) {
	tot := a.st.Total()
	t0, err := a.timeParam(r, "t0", tot.TMin)
	if err != nil {
		badRequest(w, err)
		return
	}
	t1, err := a.timeParam(r, "t1", tot.TMax)
	if err != nil {
		badRequest(w, err)
		return
	}
	n, err := intParam(r, "w", 1000, 1, maxWindowBuckets)
	if err != nil {
		badRequest(w, err)
		return
	}
	f, err := queryFilter(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	search, err := a.querySearch(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	cols, err := a.st.Overview(t0, t1, n, f, search)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b := append(make([]byte, 0, 8*n), `{"n":[`...)
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(c.N), 10)
	}
	b = append(b, `],"warn":[`...)
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(c.Warn), 10)
	}
	b = append(b, ']')
	b = appendSearch(b, search)
	b = append(b, '}')
	writeRawJSON(w, b)
}

// serveList answers /api/list?list=messages|warnings&offset=&limit= (with
// code=C for the warnings of one code, and the filter and search
// parameters) with a page of the Messages or Warnings panel:
// {"total":N,"offset":K,"rows":[row...],"previews":["..."]}, a preview
// (the start of the payload as text) per message row. With id=N instead
// of offset, the page that holds event N, or "found":false.
func (a *queryAPI) serveList(w http.ResponseWriter, r *http.Request) {
	lq := spill.ListQuery{Kind: r.URL.Query().Get("list"), Code: r.URL.Query().Get("code")}
	var err error
	if lq.Limit, err = intParam(r, "limit", 100, 1, maxListPage); err != nil {
		badRequest(w, err)
		return
	}
	off, err := intParam(r, "offset", 0, 0, math.MaxInt)
	if err != nil {
		badRequest(w, err)
		return
	}
	lq.Offset = uint64(off)
	if lq.Filter, err = queryFilter(r); err != nil {
		badRequest(w, err)
		return
	}
	if lq.Search, err = a.querySearch(r); err != nil {
		badRequest(w, err)
		return
	}
	found := true
	if v := r.URL.Query().Get("id"); v != "" {
		id, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			badRequest(w, fmt.Errorf("ui: bad id %q", v))
			return
		}
		at, ok, err := a.st.Locate(lq, id)
		if err != nil {
			badRequest(w, err)
			return
		}
		found = ok
		lq.Offset = at / uint64(lq.Limit) * uint64(lq.Limit)
	}
	page, err := a.st.List(lq)
	if err != nil {
		badRequest(w, err)
		return
	}
	t0 := a.t0()
	b := append(make([]byte, 0, 4096), `{"total":`...)
	b = strconv.AppendUint(b, page.Total, 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendUint(b, lq.Offset, 10)
	b = append(b, `,"found":`...)
	b = strconv.AppendBool(b, found)
	b = append(b, `,"rows":[`...)
	for i := range page.Rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = rowJSON(b, &page.Rows[i], t0)
	}
	b = append(b, `],"previews":[`...)
	for i := range page.Rows {
		if i > 0 {
			b = append(b, ',')
		}
		p := ""
		if page.Rows[i].Type == spill.TypeWSMessage {
			if rec, err := a.st.Record(page.Rows[i].ID); err == nil {
				p = preview(rec.Payload)
			}
		}
		b = appendJSONText(b, p)
	}
	b = append(b, ']')
	b = appendSearch(b, lq.Search)
	b = append(b, '}')
	writeRawJSON(w, b)
}

// appendJSONText appends s as a JSON string (HTML characters escaped, as
// encoding/json does).
func appendJSONText(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}
