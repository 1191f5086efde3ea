package ui

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze"
)

// tileEntry is one entry of an /api/tiles answer, read as the page reads
// it (static/windows.js).
type tileEntry struct {
	tile            float64
	conn            uint32
	merged          bool
	rows            [][9]float64
	streams         []uint32     // each row's HTTP/2 stream
	buckets         [][7]float64 // column, dir, kind, n, warnings, id, size
	more, count     int
	searchMatches   int32
	searchDone, bad bool
}

func getTiles(t *testing.T, u string) []tileEntry {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	le := binary.LittleEndian
	if len(b) < tileHeaderSize || le.Uint32(b) != tileMagic {
		t.Fatalf("GET %s: bad header % x", u, b[:min(16, len(b))])
	}
	n := int(le.Uint32(b[4:]))
	matches := int32(le.Uint32(b[8:]))
	o := tileHeaderSize
	var out []tileEntry
	f64 := func(o int) float64 { return math.Float64frombits(le.Uint64(b[o:])) }
	for range n {
		e := tileEntry{tile: f64(o), conn: le.Uint32(b[o+8:]), merged: b[o+12] == 1,
			more: int(le.Uint32(b[o+24:])), count: int(le.Uint32(b[o+28:])), searchMatches: matches,
			searchDone: b[12]&tileSearchDone != 0, bad: b[12]&tileSearchError != 0}
		nr, nb := int(le.Uint32(b[o+16:])), int(le.Uint32(b[o+20:]))
		o += tileEntrySize
		for range nr {
			e.rows = append(e.rows, [9]float64{float64(le.Uint32(b[o+24:])), f64(o), f64(o + 8), f64(o + 16),
				float64(le.Uint32(b[o+28:])), float64(b[o+32]), float64(b[o+33]), float64(b[o+34]), float64(b[o+35])})
			e.streams = append(e.streams, le.Uint32(b[o+36:]))
			o += tileRowSize
		}
		for range nb {
			e.buckets = append(e.buckets, [7]float64{float64(le.Uint16(b[o:])), float64(b[o+2]), float64(b[o+3]),
				float64(le.Uint32(b[o+4:])), float64(le.Uint32(b[o+8:])), float64(le.Uint32(b[o+12:])), f64(o + 16)})
			o += tileBucketSize
		}
		out = append(out, e)
	}
	if o != len(b) {
		t.Fatalf("GET %s: %d bytes read of %d", u, o, len(b))
	}
	return out
}

// TestTilesAPI checks the tiles against the events: at a fine level each
// tile lists its lane's drawn events one by one, at a coarse one its
// messages merged per column add up to every message of the lane, and
// the tiles of a level cover the capture without overlap.
func TestTilesAPI(t *testing.T) {
	s, hs := newTestServer(t, Options{})
	evs := manyMessages(t, s, 3, 2000)
	t0 := evs[0].Time.UnixNano()
	ns := func(ev *analyze.Event) int64 { return ev.Time.UnixNano() - t0 }
	perConn := len(evs) / 3

	// Fine: level 10 (1 µs columns), the tiles around the 100th event of
	// connection 2.
	mid := &evs[perConn+100]
	tile := ns(mid) >> (10 + tileColsLog)
	got := getTiles(t, fmt.Sprintf("%s/api/tiles?l=10&i0=%d&i1=%d&conns=2,3", hs.URL, tile-1, tile+1))
	if len(got) != 6 {
		t.Fatalf("3 tiles × 2 lanes: %d entries", len(got))
	}
	for _, e := range got {
		lo, hi := int64(e.tile)<<(10+tileColsLog), int64(e.tile+1)<<(10+tileColsLog)
		var want []float64
		for i := range evs {
			ev := &evs[i]
			if uint32(ev.Conn) == e.conn && ns(ev) >= lo && ns(ev) < hi && (ev.Type != analyze.TypeWSFrame || len(ev.Warnings) > 0) {
				want = append(want, float64(i))
			}
		}
		var ids []float64
		for _, r := range e.rows {
			ids = append(ids, r[0])
			if ev := &evs[int(r[0])]; r[1] != float64(ns(ev))/1e3 || r[3] != float64(ev.Packet) || uint32(r[4]) != e.conn {
				t.Errorf("tile %v lane %d: row %v does not match event %d", e.tile, e.conn, r, int(r[0]))
			}
		}
		if e.merged || !slices.Equal(ids, want) {
			t.Errorf("tile %v lane %d (merged %v): events %v, want %v", e.tile, e.conn, e.merged, ids, want)
		}
	}

	// Coarse: one tile holds the whole capture; every lane is merged and
	// its buckets count every message.
	level := 0
	for span := ns(&evs[len(evs)-1]); span >= 1<<(level+tileColsLog); level++ {
	}
	got = getTiles(t, fmt.Sprintf("%s/api/tiles?l=%d&i0=0&i1=0&conns=1,2,3", hs.URL, level))
	if len(got) != 3 {
		t.Fatalf("one tile × 3 lanes: %d entries", len(got))
	}
	msgs := 0
	for i := range evs {
		if evs[i].Conn == 1 && evs[i].Type == analyze.TypeWSMessage {
			msgs++
		}
	}
	for _, e := range got {
		n := 0
		for _, bk := range e.buckets {
			n += int(bk[3])
			if bk[0] < 0 || bk[0] >= tileCols || evs[int(bk[5])].Type != analyze.TypeWSMessage {
				t.Errorf("lane %d: bad bucket %v", e.conn, bk)
			}
		}
		if !e.merged || n != msgs || e.count != msgs {
			t.Errorf("lane %d: merged %v, buckets count %d messages, count %d; want %d", e.conn, e.merged, n, e.count, msgs)
		}
		// Its marks: the open, the HTTP heads, the upgrade, the close.
		if len(e.rows) != 5 || e.rows[0][5] != codeTCPOpen || e.rows[4][5] != codeTCPClose {
			t.Errorf("lane %d: marks %v", e.conn, e.rows)
		}
	}

	// A search: the header says how far it came.
	for {
		got = getTiles(t, fmt.Sprintf("%s/api/tiles?l=%d&i0=0&i1=0&conns=1&q=GREEN", hs.URL, level))
		if got[0].searchDone {
			break
		}
	}
	if got[0].searchMatches != 3*667 || got[0].count != 667 {
		t.Errorf("search GREEN: %d matches, lane 1 counts %d; want %d and 667", got[0].searchMatches, got[0].count, 3*667)
	}

	for _, bad := range []string{"l=-1&i0=0&i1=0", "l=99&i0=0&i1=0", "l=3&i0=5&i1=4", "l=3&i0=0&i1=64", "l=3&i0=x&i1=1", "l=54&i0=0&i1=1"} {
		if code := getJSON(t, hs.URL+"/api/tiles?"+bad, nil); code != http.StatusBadRequest {
			t.Errorf("/api/tiles?%s: %d, want 400", bad, code)
		}
	}
}

// TestStepAndStepsAPI walks connection 2's ladder by pages and by steps,
// and steps through every warned event.
func TestStepAndStepsAPI(t *testing.T) {
	s, hs := newTestServer(t, Options{})
	evs := manyMessages(t, s, 3, 400)
	var want []int
	for i := range evs {
		if evs[i].Conn == 2 && evs[i].Type != analyze.TypeWSFrame {
			want = append(want, i)
		}
	}
	type page struct {
		Total  int
		Offset int
		Found  bool
		Rows   [][]float64
	}
	var ids []int
	for off := 0; off < len(want); off += 100 {
		var p page
		getJSON(t, fmt.Sprintf("%s/api/list?list=steps&conn=2&offset=%d&limit=100", hs.URL, off), &p)
		if p.Total != len(want) {
			t.Fatalf("steps of 2: total %d, want %d", p.Total, len(want))
		}
		for _, r := range p.Rows {
			ids = append(ids, int(r[0]))
		}
	}
	if !slices.Equal(ids, want) {
		t.Errorf("steps of 2: %d ids, want %d", len(ids), len(want))
	}
	var p page
	getJSON(t, fmt.Sprintf("%s/api/list?list=steps&conn=2&limit=100&id=%d", hs.URL, want[250]), &p)
	if !p.Found || p.Offset != 200 {
		t.Errorf("the page of step 250: offset %d found %v, want 200", p.Offset, p.Found)
	}

	// j from the first step of connection 2 to its last, and k back.
	type step struct{ Row []float64 }
	var walked []int
	for id := want[0]; ; {
		walked = append(walked, id)
		var st step
		getJSON(t, fmt.Sprintf("%s/api/step?from=%d&conn=2", hs.URL, id), &st)
		if st.Row == nil {
			break
		}
		id = int(st.Row[0])
	}
	if !slices.Equal(walked, want) {
		t.Errorf("stepping through connection 2: %d steps, want %d", len(walked), len(want))
	}
	var st step
	getJSON(t, fmt.Sprintf("%s/api/step?from=%d&conn=2&back=1", hs.URL, want[10]), &st)
	if st.Row == nil || int(st.Row[0]) != want[9] {
		t.Errorf("back from step 10: %v, want event %d", st.Row, want[9])
	}
	// n with only connections 1 and 3 shown skips connection 2.
	getJSON(t, fmt.Sprintf("%s/api/step?from=%d&only=1,3", hs.URL, want[0]-1), &st)
	if st.Row == nil || st.Row[4] != 3 {
		t.Errorf("next of connections 1 and 3 after connection 2 began: %v, want connection 3's first", st.Row)
	}
	// Without from: the first and the last.
	getJSON(t, hs.URL+"/api/step?conn=2", &st)
	if st.Row == nil || int(st.Row[0]) != want[0] {
		t.Errorf("the first step of 2: %v, want event %d", st.Row, want[0])
	}
	getJSON(t, hs.URL+"/api/step?conn=2&back=1", &st)
	if st.Row == nil || int(st.Row[0]) != want[len(want)-1] {
		t.Errorf("the last step of 2: %v, want event %d", st.Row, want[len(want)-1])
	}
	if code := getJSON(t, hs.URL+"/api/step?from=x", nil); code != http.StatusBadRequest {
		t.Errorf("/api/step?from=x: %d, want 400", code)
	}
}

// TestExportFilter exports what the page's filter shows: a search and a
// direction, and the connections shown.
func TestExportFilter(t *testing.T) {
	s, hs := newTestServer(t, Options{})
	evs := manyMessages(t, s, 3, 30)
	get := func(q string) string {
		resp, err := http.PostForm(hs.URL+"/api/export", mustParse(q))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("export %s: %d %s", q, resp.StatusCode, b)
		}
		return string(b)
	}
	var want strings.Builder
	for i := range evs {
		ev := &evs[i]
		if ev.Type == analyze.TypeWSMessage && ev.Conn != 2 && strings.Contains(strings.ToLower(string(ev.Message.Payload)), "green") {
			want.Write(append(ev.AppendJSON(nil), '\n'))
		}
	}
	if got := get("format=jsonl&filter=1&q=GREEN&only=1,3"); got != want.String() {
		t.Errorf("export of GREEN in 1 and 3 =\n%.300s\nwant\n%.300s", got, want.String())
	}
	want.Reset()
	for i := range evs {
		ev := &evs[i]
		closeFrame := ev.Type == analyze.TypeWSFrame && ev.Frame.Opcode == opClose || ev.Type == analyze.TypeWSMessage && ev.Message.Opcode == "close"
		if ev.From == analyze.FromServer && (ev.Type == analyze.TypeWSMessage || ev.Type == analyze.TypeWSFrame) && !closeFrame {
			want.Write(append(ev.AppendJSON(nil), '\n'))
		}
	}
	if got := get("format=jsonl&filter=1&dir=2&kinds=text,binary,other"); got != want.String() {
		t.Errorf("export of the server's messages: %d bytes, want %d", len(got), want.Len())
	}
}

func mustParse(q string) url.Values {
	v, err := url.ParseQuery(q)
	if err != nil {
		panic(err)
	}
	return v
}
