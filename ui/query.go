package ui

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
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
// [id, t, size, packet, conn, type, from, kind, flags], with a tenth
// element, the HTTP/2 stream, on the events of one (analyze.Event.Stream):
// rows of connections without HTTP/2 are as they always were.

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
	if r.Stream != 0 {
		b = append(b, ',')
		b = strconv.AppendUint(b, uint64(r.Stream), 10)
	}
	return append(b, ']')
}

// queryFilter reads the filter parameters: dir (0, 1 client, 2 server),
// kinds (comma-separated: text, binary, close, ping, pong, other, tcp; all
// when absent), warn=1 (warnings only).
func queryFilter(r *http.Request) (spill.Filter, error) { return filterValues(r.URL.Query()) }

// filterValues is queryFilter of parameters already parsed.
func filterValues(q url.Values) (spill.Filter, error) {
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
// queryFilterSearch reads the view's filter and its search (q), which every
// query that answers a view takes together.
func (a *queryAPI) queryFilterSearch(r *http.Request) (spill.Filter, *spill.Search, error) {
	f, err := queryFilter(r)
	if err != nil {
		return f, nil, err
	}
	search, err := a.querySearch(r)
	return f, search, err
}

func (a *queryAPI) querySearch(r *http.Request) (*spill.Search, error) {
	text := r.URL.Query().Get("q")
	if text == "" {
		return nil, nil
	}
	if len(text) > maxSearchLen {
		return nil, fmt.Errorf("ui: search text must be 1 to %d bytes", maxSearchLen)
	}
	if r.URL.Query().Get("re") == "1" {
		match, err := searchMatcher(text, true)
		if err != nil {
			return nil, err
		}
		return a.st.SearchFunc("re:"+text, match)
	}
	return a.st.Search(text)
}

// searchMatcher returns the test of a payload the search box asks for: a
// regular expression in RE2 syntax (Go's regexp: linear time whatever the
// payload), or text found ignoring ASCII case. The test may change the
// payload it is given.
func searchMatcher(text string, re bool) (func([]byte) bool, error) {
	if re {
		x, err := regexp.Compile(text)
		if err != nil {
			return nil, fmt.Errorf("ui: bad regular expression: %w", err)
		}
		return x.Match, nil
	}
	needle := []byte(text)
	lowerASCII(needle)
	return func(p []byte) bool {
		if len(p) < len(needle) {
			return false
		}
		lowerASCII(p)
		return bytes.Contains(p, needle)
	}, nil
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

// connParam returns the connection number of the query's conn parameter,
// 0 when there is none.
func connParam(r *http.Request) (uint32, error) {
	v := r.URL.Query().Get("conn")
	if v == "" {
		return 0, nil
	}
	c, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("ui: bad conn %q", v)
	}
	return uint32(c), nil
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
	if q.Conns, err = queryConns(r, "conns", maxWindowLanes); err != nil {
		badRequest(w, err)
		return
	}
	if q.Filter, q.Search, err = a.queryFilterSearch(r); err != nil {
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
	f, search, err := a.queryFilterSearch(r)
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

// serveList answers /api/list?list=messages|warnings|steps&offset=&limit=
// (with code=C for the warnings of one code, conn=C for the steps of one
// connection's ladder, and stream=S for those of one of its HTTP/2 streams,
// and the filter and search parameters) with a page
// of the Messages or Warnings panel or of the ladder:
// {"total":N,"offset":K,"rows":[row...],"previews":["..."]}, a preview
// (the start of the payload as text) per message row. With id=N instead
// of offset, the page that holds event N, or "found":false.
func (a *queryAPI) serveList(w http.ResponseWriter, r *http.Request) {
	lq := spill.ListQuery{Kind: r.URL.Query().Get("list"), Code: r.URL.Query().Get("code")}
	var err error
	if lq.Conn, err = connParam(r); err != nil {
		badRequest(w, err)
		return
	}
	if v := r.URL.Query().Get("stream"); v != "" {
		n, err := strconv.ParseUint(v, 10, 31) // RFC 9113 §5.1.1: 31 bits
		if err != nil || lq.Kind != spill.ListSteps {
			badRequest(w, fmt.Errorf("ui: bad stream %q (a number, for list=steps only)", v))
			return
		}
		lq.Stream = uint32(n)
	}
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
	if lq.Filter, lq.Search, err = a.queryFilterSearch(r); err != nil {
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

// Tiles: the timeline asks for its marks in tiles, so that panning fetches
// only the tiles that come into view and a page keeps what it fetched. At
// level L a column is 2^L nanoseconds wide and a tile is tileCols columns:
// tile i of level L covers [i·2^(L+8), (i+1)·2^(L+8)) ns after the
// capture's first event. The page picks the level whose columns are about
// 3 pixels wide, so that zooming by a factor of two moves one level.
const (
	tileColsLog  = 8
	tileCols     = 1 << tileColsLog
	maxTileLevel = 54 // 2^62 ns a tile: every possible capture in one
	maxTiles     = 64 // tiles of one request
	tileEvents   = 300
	tileMarks    = 500
)

// The binary answer of /api/tiles, little-endian (the page reads it with a
// DataView, nothing to parse): a header, then one entry per lane and tile.
const (
	tileMagic       = 0x57535654 // "WSVT"
	tileHeaderSize  = 16         // magic, entries, search matches (or -1), search flags, level
	tileEntrySize   = 32         // tile (f64), conn, merged, rows, buckets, more marks, count
	tileRowSize     = 40         // t (µs, f64), size (f64), packet (f64), id, conn, type, from, kind, flags, HTTP/2 stream (u32, 0 for none)
	tileBucketSize  = 24         // column (u16), dir, kind, n, warnings, id (u32), size (f64)
	tileSearchDone  = 1
	tileSearchError = 2
)

// serveTiles answers /api/tiles?l=L&i0=A&i1=B&conns=1,2,...&w=1 (with the
// filter and search parameters) with the tiles A..B of level L of each
// lane, in the binary form above. An entry holds its lane's events one by
// one (rows) when at most 300 in the tile pass the filter; else its
// messages merged per column (buckets: per direction, the count, the
// warnings and the largest message, whose id a click selects) and its
// special and warned events one by one (rows, at most 500; "more marks"
// counts the rest).
func (a *queryAPI) serveTiles(w http.ResponseWriter, r *http.Request) {
	level, err := intParam(r, "l", 0, 0, maxTileLevel)
	if err != nil {
		badRequest(w, err)
		return
	}
	i0, err1 := strconv.ParseInt(r.URL.Query().Get("i0"), 10, 64)
	i1, err2 := strconv.ParseInt(r.URL.Query().Get("i1"), 10, 64)
	span := int64(1) << (level + tileColsLog)
	limit := math.MaxInt64/span/2 - 1
	if err1 != nil || err2 != nil || i1 < i0 || i1-i0 >= maxTiles || i0 < -limit || i1 > limit {
		badRequest(w, fmt.Errorf("ui: bad tiles i0=%q i1=%q (at most %d tiles)", r.URL.Query().Get("i0"), r.URL.Query().Get("i1"), maxTiles))
		return
	}
	var q spill.WindowQuery
	if q.Conns, err = queryConns(r, "conns", maxWindowLanes); err != nil {
		badRequest(w, err)
		return
	}
	if q.Filter, q.Search, err = a.queryFilterSearch(r); err != nil {
		badRequest(w, err)
		return
	}
	b, err := a.appendTiles(make([]byte, 0, 64<<10), q, level, i0, i1)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// appendTiles appends to b the answer for the tiles i0..i1 of level level
// of the lanes q.Conns, with q's filter and search, in the binary form
// above (byte 13 of the header is the level).
func (a *queryAPI) appendTiles(b []byte, q spill.WindowQuery, level int, i0, i1 int64) ([]byte, error) {
	span := int64(1) << (level + tileColsLog)
	q.Buckets, q.MaxEvents, q.MaxMarks = tileCols, tileEvents, tileMarks
	t0 := a.t0()
	h := len(b)
	b = append(b, make([]byte, tileHeaderSize)...)
	le := binary.LittleEndian
	le.PutUint32(b[h:], tileMagic)
	b[h+13] = byte(level)
	entries := 0
	for i := i0; i <= i1; i++ {
		q.T0 = t0 + i*span
		q.T1 = q.T0 + span - 1
		lanes, err := a.st.Window(q)
		if err != nil {
			return b, err
		}
		for k := range lanes {
			lw := &lanes[k]
			rows := lw.Events
			if lw.Merged {
				rows = lw.Marks
			}
			e := len(b)
			b = append(b, make([]byte, tileEntrySize+len(rows)*tileRowSize+len(lw.Buckets)*tileBucketSize)...)
			le.PutUint64(b[e:], math.Float64bits(float64(i)))
			le.PutUint32(b[e+8:], lw.Conn)
			if lw.Merged {
				b[e+12] = 1
			}
			le.PutUint32(b[e+16:], uint32(len(rows)))
			le.PutUint32(b[e+20:], uint32(len(lw.Buckets)))
			le.PutUint32(b[e+24:], uint32(lw.MoreMarks))
			le.PutUint32(b[e+28:], lw.Count)
			o := e + tileEntrySize
			for j := range rows {
				rw := &rows[j]
				le.PutUint64(b[o:], math.Float64bits(float64(rw.Time-t0)/1e3))
				le.PutUint64(b[o+8:], math.Float64bits(float64(rw.Size)))
				le.PutUint64(b[o+16:], math.Float64bits(float64(rw.Packet)))
				le.PutUint32(b[o+24:], uint32(rw.ID))
				le.PutUint32(b[o+28:], rw.Conn)
				b[o+32], b[o+33], b[o+34], b[o+35] = rw.Type, rw.From, rw.Kind, rw.Flags
				le.PutUint32(b[o+36:], rw.Stream)
				o += tileRowSize
			}
			for j := range lw.Buckets {
				bk := &lw.Buckets[j]
				le.PutUint16(b[o:], uint16(bk.Index))
				b[o+2], b[o+3] = bk.Dir, bk.Big.Kind
				le.PutUint32(b[o+4:], bk.N)
				le.PutUint32(b[o+8:], bk.Warn)
				le.PutUint32(b[o+12:], uint32(bk.Big.ID))
				le.PutUint64(b[o+16:], math.Float64bits(float64(bk.Big.Size)))
				o += tileBucketSize
			}
			entries++
		}
	}
	le.PutUint32(b[h+4:], uint32(entries))
	matches := int64(-1)
	if q.Search != nil {
		p := q.Search.Progress()
		matches = int64(min(p.Matches, math.MaxInt32))
		if p.Done {
			b[h+12] |= tileSearchDone
		}
		if p.Error != "" {
			b[h+12] |= tileSearchError
		}
	}
	le.PutUint32(b[h+8:], uint32(int32(matches)))
	return b, nil
}

// queryConns parses a comma-separated list of connection numbers.
func queryConns(r *http.Request, name string, most int) ([]uint32, error) {
	var out []uint32
	for _, c := range strings.Split(r.URL.Query().Get(name), ",") {
		if c == "" {
			continue
		}
		n, err := strconv.ParseUint(c, 10, 32)
		if err != nil || len(out) == most {
			return nil, fmt.Errorf("ui: bad %s (at most %d numbers)", name, most)
		}
		out = append(out, uint32(n))
	}
	return out, nil
}

// maxOnlyConns bounds the connections a step query may be restricted to.
const maxOnlyConns = 100000

// serveStep answers /api/step?from=ID&back=1&conn=C&only=1,2,...&warned=1
// (with the filter and search parameters) with the drawn event after (or,
// with back=1, before) event ID that passes the filter (without from, the
// first or the last of them): of connection C
// when given, else of the connections listed in only (all when absent),
// and with warned=1 only events with warnings. {"row":[...]} or
// {"row":null} when there is none: the keys n, p, w and W, and j and k.
func (a *queryAPI) serveStep(w http.ResponseWriter, r *http.Request) {
	var q spill.StepQuery
	var err error
	if v := r.URL.Query().Get("from"); v != "" {
		if q.From, err = strconv.ParseUint(v, 10, 64); err != nil {
			badRequest(w, fmt.Errorf("ui: bad from %q", v))
			return
		}
	} else {
		q.Ends = true
	}
	q.Back = r.URL.Query().Get("back") == "1"
	q.Warned = r.URL.Query().Get("warned") == "1"
	if q.Conn, err = connParam(r); err != nil {
		badRequest(w, err)
		return
	}
	if r.URL.Query().Has("only") {
		only, err := queryConns(r, "only", maxOnlyConns)
		if err != nil {
			badRequest(w, err)
			return
		}
		q.Conns = make(map[uint32]bool, len(only))
		for _, c := range only {
			q.Conns[c] = true
		}
	}
	if q.Filter, q.Search, err = a.queryFilterSearch(r); err != nil {
		badRequest(w, err)
		return
	}
	row, ok, err := a.st.Step(q)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b := append(make([]byte, 0, 128), `{"row":`...)
	if ok {
		b = rowJSON(b, &row, a.t0())
	} else {
		b = append(b, "null"...)
	}
	b = appendSearch(b, q.Search)
	b = append(b, '}')
	writeRawJSON(w, b)
}
