package ui

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsviz/wsviz/analyze"
)

type windowAnswer struct {
	Lanes []struct {
		Conn      uint32      `json:"conn"`
		Count     int         `json:"count"`
		Merged    bool        `json:"merged"`
		Events    [][]float64 `json:"events"`
		Buckets   [][]float64 `json:"buckets"`
		Marks     [][]float64 `json:"marks"`
		MoreMarks int         `json:"more_marks"`
		Sum       struct {
			Events   int     `json:"events"`
			Msgs     [][]int `json:"msgs"`
			Warnings []int   `json:"warnings"`
			Opens    int     `json:"opens"`
			Closes   int     `json:"closes"`
		} `json:"sum"`
	} `json:"lanes"`
	Search *struct {
		Matches int  `json:"matches"`
		Done    bool `json:"done"`
	} `json:"search"`
}

// manyMessages publishes conns connections of n text messages each, the
// connections one after the other.
func manyMessages(t *testing.T, s *Server, conns, n int) []analyze.Event {
	var all []analyze.Event
	for c := 1; c <= conns; c++ {
		msgs := make([]analyze.Message, n)
		for i := range msgs {
			msgs[i] = text(fmt.Sprintf(`{"conn":%d,"i":%d,"word":"%s"}`, c, i, []string{"red", "Green", "blue"}[i%3]))
		}
		evs := conversation(c, t0.Add(time.Duration(c)*time.Hour), msgs...)
		publishAll(t, s, evs)
		all = append(all, evs...)
	}
	s.Done(nil)
	return all
}

func TestWindowAPI(t *testing.T) {
	s, hs := newTestServer(t, Options{})
	evs := manyMessages(t, s, 3, 3000)
	perConn := len(evs) / 3
	us := func(ev *analyze.Event) float64 { return float64(ev.Time.Sub(evs[0].Time).Nanoseconds()) / 1e3 }
	first, last := &evs[0], &evs[perConn-1] // connection 1

	// A narrow range: the events one by one, as rows.
	var w windowAnswer
	u := fmt.Sprintf("%s/api/window?t0=%f&t1=%f&w=100&conns=1,2", hs.URL, us(first), us(&evs[20]))
	if code := getJSON(t, u, &w); code != http.StatusOK {
		t.Fatalf("GET %s: %d", u, code)
	}
	if len(w.Lanes) != 2 || w.Lanes[0].Merged || len(w.Lanes[1].Events) != 0 {
		t.Fatalf("narrow window: %+v", w)
	}
	// 21 events, less the plain frames (drawn through their messages).
	frames := 0
	for _, ev := range evs[:21] {
		if ev.Type == analyze.TypeWSFrame {
			frames++
		}
	}
	if got := len(w.Lanes[0].Events); got != 21-frames {
		t.Errorf("narrow window has %d events, want %d", got, 21-frames)
	}
	if r := w.Lanes[0].Events[0]; r[0] != 0 || r[1] != 0 || r[5] != codeTCPOpen {
		t.Errorf("first row = %v, want id 0 at 0 µs, tcp.open", r)
	}

	// The whole connection: merged into columns whose counts add up to its
	// messages, with its open and close as marks.
	u = fmt.Sprintf("%s/api/window?t0=%f&t1=%f&w=50&conns=1&max=100", hs.URL, us(first), us(last))
	getJSON(t, u, &w)
	l := w.Lanes[0]
	if !l.Merged || len(l.Buckets) == 0 {
		t.Fatalf("whole connection not merged: %+v", l)
	}
	n := 0
	for _, b := range l.Buckets {
		n += int(b[2])
		if b[0] < 0 || b[0] >= 50 || (b[1] != fromClient && b[1] != fromServer) {
			t.Fatalf("bad bucket %v", b)
		}
	}
	if n != 3002 || l.Count != 3002 {
		t.Errorf("buckets count %d messages (count %d), want 3002", n, l.Count)
	}
	if l.Sum.Opens != 1 || l.Sum.Closes != 1 || len(l.Marks) < 2 {
		t.Errorf("sum %+v, %d marks: want the open and close", l.Sum, len(l.Marks))
	}

	// Filters: server to client text only.
	getJSON(t, u+"&dir=2&kinds=text", &w)
	if w.Lanes[0].Count != 1500 {
		t.Errorf("server text messages = %d, want 1500", w.Lanes[0].Count)
	}
	// A search: only the matches, and its progress (a deadline, not a
	// measure: the race detector on a busy CI machine is slow).
	deadline := time.Now().Add(60 * time.Second)
	for {
		getJSON(t, u+"&q=GREEN", &w)
		if w.Search != nil && w.Search.Done || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if w.Search == nil || !w.Search.Done || w.Search.Matches != 3000 || w.Lanes[0].Count != 1000 {
		t.Errorf("search: %+v, lane count %d; want 3000 matches, 1000 in connection 1", w.Search, w.Lanes[0].Count)
	}

	for _, bad := range []string{"t0=x", "w=0", "w=100000", "conns=a", "dir=3", "kinds=nope", "q=(&re=1", "max=0"} {
		resp, err := http.Get(hs.URL + "/api/window?" + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("/api/window?%s = %d, want 400", bad, resp.StatusCode)
		}
	}
}

func TestOverviewAPI(t *testing.T) {
	s, hs := newTestServer(t, Options{})
	manyMessages(t, s, 4, 500)
	var o struct {
		N    []int `json:"n"`
		Warn []int `json:"warn"`
	}
	getJSON(t, hs.URL+"/api/overview?w=40", &o)
	sum := 0
	for _, v := range o.N {
		sum += v
	}
	if len(o.N) != 40 || sum != 4*502 {
		t.Errorf("overview: %d columns, %d messages; want 40, %d", len(o.N), sum, 4*502)
	}
	// The connections are an hour apart: the middle columns are empty.
	if o.N[0] == 0 || o.N[39] == 0 || o.N[5] != 0 {
		t.Errorf("overview columns = %v", o.N)
	}
}

func TestListAPI(t *testing.T) {
	s, hs := newTestServer(t, Options{})
	manyMessages(t, s, 2, 700)
	type listAnswer struct {
		Total    int         `json:"total"`
		Offset   int         `json:"offset"`
		Found    bool        `json:"found"`
		Rows     [][]float64 `json:"rows"`
		Previews []string    `json:"previews"`
	}
	var l listAnswer
	getJSON(t, hs.URL+"/api/list?list=messages&offset=700&limit=5", &l)
	if l.Total != 2*702 || len(l.Rows) != 5 || len(l.Previews) != 5 {
		t.Fatalf("list: total %d, %d rows, %d previews", l.Total, len(l.Rows), len(l.Previews))
	}
	// Message 700 of connection 1 is its first Close; then connection 2.
	if l.Rows[0][4] != 1 || l.Rows[2][4] != 2 || !strings.Contains(l.Previews[2], `"i":0`) {
		t.Errorf("rows %v previews %q", l.Rows, l.Previews)
	}
	// The page of an event, by id.
	id := int(l.Rows[3][0])
	getJSON(t, fmt.Sprintf("%s/api/list?list=messages&limit=100&id=%d", hs.URL, id), &l)
	if !l.Found || l.Offset != 700 {
		t.Errorf("page of event %d: offset %d found %v, want 700 true", id, l.Offset, l.Found)
	}
	getJSON(t, hs.URL+"/api/list?list=messages&dir=1&kinds=close", &l)
	if l.Total != 2 {
		t.Errorf("client Close messages = %d, want 2", l.Total)
	}
	if code := getJSON(t, hs.URL+"/api/list?list=nope", &l); code != http.StatusBadRequest {
		t.Errorf("unknown list: %d, want 400", code)
	}
}
