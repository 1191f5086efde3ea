package ui

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/ui/internal/spill"
)

// Limits of API requests.
const (
	maxIDsPerRequest = 1000 // /api/events
	maxPreview       = 200  // bytes of payload shown in the ladder
	maxFrameScan     = 4096 // events looked at to find a message's frames
	maxSearchLen     = 1024 // bytes of a search query
)

// eventJSON is one event as the API returns it: its id, its JSON form (the
// `wsviz events` form, without the payload), and facts about the payload.
type eventJSON struct {
	ID    int             `json:"id"`
	Event json.RawMessage `json:"event"`
	// Row is the event's row, as the window and list APIs send it:
	// [id, t, size, packet, conn, type, from, kind, flags], and its
	// HTTP/2 stream when it has one (rowJSON).
	Row        json.RawMessage `json:"row"`
	PayloadLen int             `json:"payload_len"`
	// Preview is the start of the payload as text (invalid UTF-8
	// replaced), for labels; only from /api/events.
	Preview string `json:"preview,omitempty"`
	// PreviewHex is the start of a binary message's payload in hex; only
	// from /api/events.
	PreviewHex string `json:"preview_hex,omitempty"`
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

func (s *Server) readEvent(id int) (eventJSON, []byte, error) {
	if id >= s.st.len() {
		return eventJSON{}, nil, fmt.Errorf("ui: no event %d", id)
	}
	j, payload, r, err := s.st.record(id)
	t0 := s.startTime()
	sr := spill.Row{ID: uint64(id), Time: r.time, Size: r.size, Packet: r.packet, Conn: r.conn, Stream: r.stream, Type: r.typ, From: r.from, Kind: r.kind, Flags: r.flags}
	if err == errNoDetail {
		sr.Flags |= flagNoDetail
		return eventJSON{ID: id, Event: placeholderJSON(r, t0), Row: rowJSON(nil, &sr, t0)}, nil, nil
	}
	if err != nil {
		return eventJSON{}, nil, err
	}
	return eventJSON{ID: id, Event: j, PayloadLen: len(payload), Row: rowJSON(nil, &sr, t0)}, payload, nil
}

// placeholderJSON stands in for an event whose details were not kept.
func placeholderJSON(r row, t0 int64) json.RawMessage {
	ev := analyze.Event{
		Type:   typeNames[r.typ],
		Time:   time.Unix(0, r.time).UTC(),
		Conn:   int(r.conn),
		Packet: r.packet,
		Stream: r.stream,
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
	codeUnknown:       "unknown",
	codeTCPOpen:       analyze.TypeTCPOpen,
	codeTCPClose:      analyze.TypeTCPClose,
	codeTCPGap:        analyze.TypeTCPGap,
	codeHTTPRequest:   analyze.TypeHTTPRequest,
	codeHTTPResponse:  analyze.TypeHTTPResponse,
	codeWSOpen:        analyze.TypeWSOpen,
	codeWSFrame:       analyze.TypeWSFrame,
	codeWSMessage:     analyze.TypeWSMessage,
	codeHTTPError:     analyze.TypeHTTPError,
	codeCaptureStats:  analyze.TypeCaptureStats,
	codeTLSHandshake:  analyze.TypeTLSHandshake,
	codeTLSMessage:    analyze.TypeTLSMessage,
	codeTLSAlert:      analyze.TypeTLSAlert,
	codeTLSRecord:     analyze.TypeTLSRecord,
	codeIPFragments:   analyze.TypeIPFragments,
	codeH2StreamClose: analyze.TypeH2StreamClose,
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
	m, err := s.st.row(id)
	if err != nil || m.typ != codeWSMessage {
		return nil
	}
	// The connection's events before the message, up to maxFrameScan
	// of them, newest last.
	var before []int
	var rows []row
	s.st.connIDs(m.conn, max(0, id-maxFrameScan*8), func(fid int, r row) bool {
		if fid >= id {
			return false
		}
		before = append(before, fid)
		rows = append(rows, r)
		return true
	})
	control := m.kind >= opClose && m.kind != 0xff
	var out []int
	for i := len(before) - 1; i >= 0 && len(before)-i <= maxFrameScan; i-- {
		f := rows[i]
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
		out = append(out, before[i])
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
		if s.isBinary(id) {
			ev.PreviewHex = hex.EncodeToString(payload[:min(len(payload), maxPreviewHex)])
		}
		out = append(out, ev)
	}
	writeJSON(w, out)
}

// maxPreviewHex bounds the bytes of a binary preview.
const maxPreviewHex = 32

func (s *Server) isBinary(id int) bool {
	r, err := s.st.row(id)
	return err == nil && r.typ == codeWSMessage && r.kind == opBinary
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
// whose payload contains TEXT, ignoring ASCII case, or with re=1 matches the
// regular expression TEXT (RE2 syntax, as Go's regexp: linear time whatever
// the payload, so a hostile capture cannot make a search explode):
// {"ids":[...],"searched":N}, N being the number of events searched. With
// from=ID only the events from ID on are searched, so that a page follows
// a live capture by searching the new events only.
func (s *Server) serveSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if q == "" || len(q) > maxSearchLen {
		http.Error(w, fmt.Sprintf("ui: search text must be 1 to %d bytes", maxSearchLen), http.StatusBadRequest)
		return
	}
	from := 0
	if v := r.URL.Query().Get("from"); v != "" {
		var err error
		if from, err = strconv.Atoi(v); err != nil || from < 0 {
			http.Error(w, fmt.Sprintf("ui: bad from %q", v), http.StatusBadRequest)
			return
		}
	}
	var match func([]byte) bool
	if r.URL.Query().Get("re") == "1" {
		re, err := regexp.Compile(q)
		if err != nil {
			http.Error(w, "ui: bad regular expression: "+err.Error(), http.StatusBadRequest)
			return
		}
		match = re.Match
	} else {
		needle := []byte(q)
		lowerASCII(needle)
		match = func(p []byte) bool {
			if len(p) < len(needle) {
				return false
			}
			lowerASCII(p)
			return bytes.Contains(p, needle)
		}
	}
	// Every event up to n is looked at: the store's blocks are read in
	// order, without the server's lock.
	n := s.st.len()
	var found []uint32
	var buf []byte
	err := s.st.sp.Records(uint64(from), func(rec *spill.Record) bool {
		if rec.Row.ID >= uint64(n) {
			return false
		}
		if rec.Row.Type == codeWSMessage && len(rec.Payload) > 0 {
			buf = append(buf[:0], rec.Payload...)
			if match(buf) {
				found = append(found, uint32(rec.Row.ID))
			}
		}
		return true
	})
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
	}{found, max(n, from)})
}
