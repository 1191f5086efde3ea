package ui

import (
	"bufio"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wsviz/wsviz/analyze"
)

//go:embed static
var staticFiles embed.FS

// contentSecurityPolicy allows the page's own scripts, styles and WebSocket
// and nothing else: no inline script, no other origin, no framing.
// Captured payloads are hostile, and even if one were ever inserted as
// markup by mistake, it could not run.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Limits of API requests.
const (
	maxIDsPerRequest = 1000     // /api/events
	maxPreview       = 200      // bytes of payload shown in the ladder
	maxFrameScan     = 4096     // events looked at to find a message's frames
	maxSearchLen     = 1024     // bytes of a search query
	maxExportBody    = 64 << 20 // bytes of an export request's form
	exportChunk      = 4096     // events read per lock in exports
)

func (s *Server) routes() http.Handler {
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	mux := http.NewServeMux()
	files := http.FileServerFS(static)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, static, "index.html")
	})
	mux.Handle("GET /static/", http.StripPrefix("/static/", files))
	mux.HandleFunc("GET /ws", s.serveWS)
	mux.HandleFunc("GET /api/event", s.serveEvent)
	mux.HandleFunc("GET /api/events", s.serveEvents)
	mux.HandleFunc("GET /api/payload", s.servePayload)
	mux.HandleFunc("GET /api/search", s.serveSearch)
	mux.HandleFunc("GET /api/export", s.serveExport)
	mux.HandleFunc("POST /api/export", s.serveExport)
	return s.guard(mux)
}

// guard sets the security headers on every response and refuses requests
// whose Host is a name not allowed (DNS rebinding) or that come after Close.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if !hostAllowed(r.Host, s.opts.AllowedHosts) {
			http.Error(w, "wsviz: host not allowed; open the address wsviz printed", http.StatusForbidden)
			return
		}
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			http.Error(w, "wsviz: server closed", http.StatusServiceUnavailable)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed reports whether a request's Host may be served: an IP
// address or "localhost" (which DNS rebinding cannot forge), or a name
// listed in allowed ("*" allows any).
func hostAllowed(hostport string, allowed []string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") || net.ParseIP(host) != nil {
		return true
	}
	for _, a := range allowed {
		if a == "*" || strings.EqualFold(a, host) {
			return true
		}
	}
	return false
}

// eventJSON is one event as the API returns it: its id, its JSON form (the
// `wsviz events` form, without the payload), and facts about the payload.
type eventJSON struct {
	ID         int             `json:"id"`
	Event      json.RawMessage `json:"event"`
	PayloadLen int             `json:"payload_len"`
	// Preview is the start of the payload as text (invalid UTF-8
	// replaced), for labels; only from /api/events.
	Preview string `json:"preview,omitempty"`
	// Frames lists a message's frames, from /api/event only.
	Frames []eventJSON `json:"frames,omitempty"`
}

func parseID(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	id, err := strconv.Atoi(v)
	if err != nil || id < 0 {
		return 0, fmt.Errorf("ui: bad %s %q", name, v)
	}
	return id, nil
}

// lookup returns the spill file and the record of event id, flushed so it
// can be read without the lock.
func (s *Server) lookup(id int) (*os.File, record, row, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id >= s.st.len() {
		return nil, record{}, row{}, fmt.Errorf("ui: no event %d", id)
	}
	rec := s.st.recs[id]
	if err := s.st.sync(rec); err != nil {
		return nil, record{}, row{}, err
	}
	return s.st.file, rec, s.st.rows[id], nil
}

func (s *Server) readEvent(id int) (eventJSON, []byte, error) {
	f, rec, r, err := s.lookup(id)
	if err != nil {
		return eventJSON{}, nil, err
	}
	j, payload, err := readRecord(f, rec)
	if err == errNoDetail {
		return eventJSON{ID: id, Event: placeholderJSON(r, s.t0)}, nil, nil
	}
	if err != nil {
		return eventJSON{}, nil, err
	}
	return eventJSON{ID: id, Event: j, PayloadLen: len(payload)}, payload, nil
}

// placeholderJSON stands in for an event whose details were not kept.
func placeholderJSON(r row, t0 int64) json.RawMessage {
	ev := analyze.Event{
		Type:   typeNames[r.typ],
		Time:   time.Unix(0, r.time).UTC(),
		Conn:   int(r.conn),
		Packet: r.packet,
		Note:   "details not kept: the spill file reached its limit",
	}
	switch r.from {
	case fromClient:
		ev.From = analyze.FromClient
	case fromServer:
		ev.From = analyze.FromServer
	}
	return ev.AppendJSON(nil)
}

var typeNames = [...]string{
	codeUnknown:      "unknown",
	codeTCPOpen:      analyze.TypeTCPOpen,
	codeTCPClose:     analyze.TypeTCPClose,
	codeTCPGap:       analyze.TypeTCPGap,
	codeHTTPRequest:  analyze.TypeHTTPRequest,
	codeHTTPResponse: analyze.TypeHTTPResponse,
	codeWSOpen:       analyze.TypeWSOpen,
	codeWSFrame:      analyze.TypeWSFrame,
	codeWSMessage:    analyze.TypeWSMessage,
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.Encode(v)
}

// serveEvent answers /api/event?id=N: the event, and for a message the
// frames it was made of.
func (s *Server) serveEvent(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ev, _, err := s.readEvent(id)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	for _, fid := range s.messageFrames(id) {
		if f, _, err := s.readEvent(fid); err == nil {
			ev.Frames = append(ev.Frames, f)
		}
	}
	writeJSON(w, ev)
}

// messageFrames finds the frames of message id: looking back through its
// connection's events for frames from the same side, the control frame of a
// control message, or the data frames back to the one with a non-zero
// opcode (RFC 6455 §5.4: a fragmented message starts with its opcode and
// goes on with continuation frames).
func (s *Server) messageFrames(id int) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.rows[id]
	if m.typ != codeWSMessage {
		return nil
	}
	ids := s.st.byConn[m.conn]
	pos, found := slices.BinarySearch(ids, uint32(id))
	if !found {
		return nil
	}
	control := m.kind >= opClose && m.kind != 0xff
	var out []int
	for i := pos - 1; i >= 0 && pos-i <= maxFrameScan; i-- {
		f := s.st.rows[ids[i]]
		if f.typ == codeWSMessage && f.from == m.from && (f.kind >= opClose) == control {
			break // the previous message of the same kind: no more frames of ours
		}
		if f.typ != codeWSFrame || f.from != m.from {
			continue
		}
		isControl := f.kind >= opClose
		if isControl != control {
			continue // a control frame between fragments, or the reverse
		}
		out = append(out, int(ids[i]))
		if control || f.kind != opContinuation {
			break
		}
	}
	slices.Reverse(out)
	return out
}

// serveEvents answers /api/events?ids=1,2,3 with those events and a short
// preview of each payload.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	var ids []int
	for _, f := range strings.Split(r.URL.Query().Get("ids"), ",") {
		if f == "" {
			continue
		}
		id, err := strconv.Atoi(f)
		if err != nil || id < 0 {
			http.Error(w, fmt.Sprintf("ui: bad id %q", f), http.StatusBadRequest)
			return
		}
		if len(ids) == maxIDsPerRequest {
			http.Error(w, fmt.Sprintf("ui: more than %d ids", maxIDsPerRequest), http.StatusBadRequest)
			return
		}
		ids = append(ids, id)
	}
	out := make([]eventJSON, 0, len(ids))
	for _, id := range ids {
		ev, payload, err := s.readEvent(id)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		ev.Preview = preview(payload)
		out = append(out, ev)
	}
	writeJSON(w, out)
}

// preview returns the start of p as valid UTF-8, cut at a rune boundary.
func preview(p []byte) string {
	if len(p) > maxPreview {
		p = p[:maxPreview]
		for i := 0; i < utf8.UTFMax && len(p) > 0 && !utf8.Valid(p); i++ {
			p = p[:len(p)-1]
		}
	}
	return strings.ToValidUTF8(string(p), "\uFFFD")
}

// servePayload answers /api/payload?id=N with the payload bytes as kept.
func (s *Server) servePayload(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	_, payload, err := s.readEvent(id)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
	w.Write(payload)
}

// serveSearch answers /api/search?q=TEXT with the ids of the messages
// whose payload contains TEXT, ignoring ASCII case:
// {"ids":[...],"searched":N}, N being the number of events searched.
func (s *Server) serveSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if q == "" || len(q) > maxSearchLen {
		http.Error(w, fmt.Sprintf("ui: search text must be 1 to %d bytes", maxSearchLen), http.StatusBadRequest)
		return
	}
	needle := []byte(q)
	lowerASCII(needle)
	s.mu.Lock()
	n := s.st.len()
	var ids []uint32
	var recs []record
	for id := range n {
		if s.st.rows[id].typ == codeWSMessage && s.st.recs[id].payloadLen > 0 {
			ids = append(ids, uint32(id))
			recs = append(recs, s.st.recs[id])
		}
	}
	var err error
	if len(recs) > 0 {
		err = s.st.sync(recs[len(recs)-1])
	}
	f := s.st.file
	s.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	found, err := searchFile(f, ids, recs, needle)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if found == nil {
		found = []uint32{}
	}
	writeJSON(w, struct {
		IDs      []uint32 `json:"ids"`
		Searched int      `json:"searched"`
	}{found, n})
}

// serveExport answers /api/export?format=jsonl|har&ids=RANGES (GET, or
// POST with a form for long id lists) with the events as a download.
// RANGES is a comma-separated list of ids and ranges "a-b" (inclusive);
// without ids, every event is exported.
func (s *Server) serveExport(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxExportBody)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "ui: bad export request: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	n := s.st.len()
	s.mu.Unlock()
	ids, err := parseRanges(r.Form.Get("ids"), n)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	format := r.Form.Get("format")
	name := "wsviz-events"
	switch format {
	case "jsonl":
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.jsonl"`)
		bw := bufio.NewWriterSize(w, 64<<10)
		var line []byte
		s.eachEvent(ids, func(ev *analyze.Event) bool {
			line = append(ev.AppendJSON(line[:0]), '\n')
			_, err := bw.Write(line)
			return err == nil
		})
		bw.Flush()
	case "har":
		h := NewHAR()
		s.eachEvent(ids, func(ev *analyze.Event) bool {
			h.Add(ev)
			return true
		})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.har"`)
		h.WriteTo(w)
	default:
		http.Error(w, fmt.Sprintf("ui: unknown export format %q (want jsonl or har)", format), http.StatusBadRequest)
	}
}

// eachEvent calls fn with each event of ids, rebuilt from the spill file,
// until fn returns false. Events whose details were not kept are passed as
// placeholders.
func (s *Server) eachEvent(ids idList, fn func(*analyze.Event) bool) {
	recs := make([]record, 0, exportChunk)
	rows := make([]row, 0, exportChunk)
	next := ids.iter()
	for {
		recs, rows = recs[:0], rows[:0]
		s.mu.Lock()
		for len(recs) < exportChunk {
			id, ok := next()
			if !ok {
				break
			}
			recs = append(recs, s.st.recs[id])
			rows = append(rows, s.st.rows[id])
		}
		var err error
		if len(recs) > 0 {
			for _, rec := range recs {
				if err = s.st.sync(rec); err != nil {
					break
				}
			}
		}
		f, t0 := s.st.file, s.t0
		s.mu.Unlock()
		if len(recs) == 0 || err != nil {
			return
		}
		for i, rec := range recs {
			var ev analyze.Event
			j, payload, err := readRecord(f, rec)
			if err == nil {
				ev, err = decodeRecord(j, payload)
			}
			if err != nil {
				if err := ev.UnmarshalJSON(placeholderJSON(rows[i], t0)); err != nil {
					continue
				}
			}
			if !fn(&ev) {
				return
			}
		}
	}
}

// idList is a sorted list of id ranges [lo, hi).
type idList [][2]int

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
