package ui

import (
	"net/http"
	"strconv"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/ui/internal/spill"
)

// warnIndex lists every warning by code, like Wireshark's Expert Info: how
// many times each code occurred. The events that carry each code are
// listed by the spill store (its per-code sequences, on disk), so memory
// holds a few counters per code however many warnings a capture has.
type warnIndex struct {
	codes map[string]*warnCode
	order []*warnCode // in order of first occurrence
}

type warnCode struct {
	// Code is the warning code; Type the type of the event it was first
	// seen on; Msg its first message (which names the RFC section).
	Code string `json:"code"`
	Type string `json:"type"`
	Msg  string `json:"msg"`
	// Count counts every occurrence, Shown those whose events are kept
	// (the others are past the event limit and have no id).
	Count int64 `json:"count"`
	Shown int   `json:"shown"`
	last  int   // the id of the last event counted in Shown
}

func (x *warnIndex) add(ev *analyze.Event, id int) {
	if x.codes == nil {
		x.codes = make(map[string]*warnCode)
	}
	for _, w := range ev.Warnings {
		c := x.codes[w.Code]
		if c == nil {
			c = &warnCode{Code: w.Code, Type: ev.Type, Msg: w.Msg}
			x.codes[w.Code] = c
			x.order = append(x.order, c)
		}
		c.Count++
		if id >= 0 && (c.Shown == 0 || c.last != id) {
			// One per event, even if it carries the code twice.
			c.Shown++
			c.last = id
		}
	}
}

// maxWarningPage bounds the ids of one /api/warnings page.
const maxWarningPage = 5000

// serveWarnings answers /api/warnings with every code, its count and its
// first message: {"codes":[{"code","type","msg","count","shown"},...]}; and
// /api/warnings?code=C&offset=N&limit=M with a page of the ids of the events
// that carry C, in capture order: {"code","total","offset","ids":[...]}.
// The page pages through them as it scrolls, so a capture with millions of
// warnings costs the page only the rows in view.
func (s *Server) serveWarnings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	code := q.Get("code")
	if code == "" {
		s.mu.Lock()
		list := make([]warnCode, 0, len(s.warn.order))
		for _, c := range s.warn.order {
			list = append(list, *c)
		}
		s.mu.Unlock()
		writeJSON(w, struct {
			Codes []warnCode `json:"codes"`
		}{list})
		return
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 || limit > maxWarningPage {
		limit = maxWarningPage
	}
	offset = max(offset, 0)
	total := 0
	ids := []uint32{}
	for len(ids) < limit {
		page, err := s.st.sp.List(spill.ListQuery{Kind: spill.ListWarnings, Code: code, Offset: uint64(offset + len(ids)), Limit: min(1000, limit-len(ids))})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		total = int(page.Total)
		for _, r := range page.Rows {
			ids = append(ids, uint32(r.ID))
		}
		if len(page.Rows) == 0 {
			break
		}
	}
	writeJSON(w, struct {
		Code   string   `json:"code"`
		Total  int      `json:"total"`
		Offset int      `json:"offset"`
		IDs    []uint32 `json:"ids"`
	}{code, total, min(offset, total), ids})
}
