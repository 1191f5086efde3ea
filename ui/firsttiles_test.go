package ui

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestFitTiles checks the fit-all view's level and tiles against the
// page's arithmetic (timeline.js fullRange, windows.js levelFor), worked
// out by hand.
func TestFitTiles(t *testing.T) {
	for _, tc := range []struct {
		name            string
		duration, plotW float64
		level           int
		i0, i1          int64
	}{
		// 10 s at 1000 px: 10.4 s in view, 10.4 ms a pixel, columns of
		// 3 px = 31.2 ms ≈ 2^25 ns (level 25: tiles of 2^33 ns = 8.59 s).
		{"10 s", 10e6, 1000, 25, -2, 2},
		// 1 s at 1000 px: 3.12 ms columns ≈ 2^22 ns, tiles of 1.07 s.
		{"1 s", 1e6, 1000, 22, -2, 1},
		// Under 1 µs: ±500 µs around it.
		{"one event", 0, 842, 12, -2, 1},
		// Wider plots choose finer levels.
		{"10 s, 2000 px", 10e6, 2000, 24, -2, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			level, i0, i1 := fitTiles(tc.duration, tc.plotW)
			if level != tc.level || i0 != tc.i0 || i1 != tc.i1 {
				t.Errorf("fitTiles(%v, %v) = %d, %d, %d, want %d, %d, %d", tc.duration, tc.plotW, level, i0, i1, tc.level, tc.i0, tc.i1)
			}
		})
	}
}

func TestParseFirstView(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  firstView
		ok    bool
	}{
		{"fit=842&lanes=37", firstView{842, 37}, true},
		{"fit=842.5&lanes=1", firstView{842.5, 1}, true},
		{"", firstView{}, false},
		{"fit=842", firstView{}, false},
		{"lanes=3", firstView{}, false},
		{"fit=5&lanes=3", firstView{}, false},
		{"fit=NaN&lanes=3", firstView{}, false},
		{"fit=1e9&lanes=3", firstView{}, false},
		{"fit=800&lanes=0", firstView{}, false},
		{fmt.Sprintf("fit=800&lanes=%d", maxWindowLanes+1), firstView{}, false},
	} {
		q, _ := url.ParseQuery(tc.query)
		if got, ok := parseFirstView(q); got != tc.want || ok != tc.ok {
			t.Errorf("parseFirstView(%q) = %v, %v, want %v, %v", tc.query, got, ok, tc.want, tc.ok)
		}
	}
}

// TestFirstTilesOverWebSocket opens the stream as the page does at start
// (/ws?fit=W&lanes=N): between the status and the connections comes one
// binary message, the tiles of the fit-all view of that status for the
// first N connections, byte for byte what /api/tiles answers for them,
// with the level in byte 13. Without fit=, nothing binary comes.
func TestFirstTilesOverWebSocket(t *testing.T) {
	s, hs := newTestServer(t, Options{})
	manyMessages(t, s, 3, 500)
	base := "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"

	c, _, err := websocket.DefaultDialer.Dial(base+"?fit=900&lanes=2", nil)
	if err != nil {
		t.Fatalf("Dial = %v", err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	var st status
	var tiles []byte
	var order []string
	for i := 0; len(order) < 3; i++ {
		typ, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("ReadMessage %d = %v", i, err)
		}
		if typ == websocket.BinaryMessage {
			tiles = data
			order = append(order, "tiles")
			continue
		}
		var head struct{ Type string }
		json.Unmarshal(data, &head)
		if head.Type == "status" {
			json.Unmarshal(data, &st)
		}
		order = append(order, head.Type)
	}
	if strings.Join(order, ",") != "status,tiles,conns" {
		t.Fatalf("the stream began with %v, want status, tiles, conns", order)
	}
	level, i0, i1 := fitTiles(st.Duration, 900)
	if tiles[13] != byte(level) {
		t.Errorf("level byte %d, want %d", tiles[13], level)
	}
	resp, err := http.Get(fmt.Sprintf("%s/api/tiles?l=%d&i0=%d&i1=%d&conns=1,2", hs.URL, level, i0, i1))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want[13] = byte(level) // the level byte is set in both
	if !bytes.Equal(tiles, want) {
		t.Errorf("first tiles (%d bytes) differ from /api/tiles?l=%d&i0=%d&i1=%d&conns=1,2 (%d bytes)", len(tiles), level, i0, i1, len(want))
	}
	if n := binary.LittleEndian.Uint32(tiles[4:]); n == 0 {
		t.Errorf("first tiles: no entry")
	}
	if got := getTiles(t, fmt.Sprintf("%s/api/tiles?l=%d&i0=%d&i1=%d&conns=1,2", hs.URL, level, i0, i1)); len(got) == 0 {
		t.Errorf("no tiles in the fit-all view")
	}

	// A plain stream (and a bad fit=) gets no binary message.
	for _, q := range []string{"", "?fit=abc&lanes=2"} {
		c2, _, err := websocket.DefaultDialer.Dial(base+q, nil)
		if err != nil {
			t.Fatalf("Dial = %v", err)
		}
		var tb tab
		tb.readUntil(t, c2, func(tb *tab) bool { return len(tb.conns) == 3 })
		c2.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if typ, data, err := c2.ReadMessage(); err == nil && typ == websocket.BinaryMessage {
			t.Errorf("/ws%s: a binary message of %d bytes", q, len(data))
		}
		c2.Close()
	}
}

// TestFirstTilesAfterTheFirstEvents opens the stream before the first
// event (a big capture just started): the first tiles come with the
// first status that has events, between it and the connections table,
// as boot.js waits for them.
func TestFirstTilesAfterTheFirstEvents(t *testing.T) {
	s, hs := newTestServer(t, Options{FlushInterval: 5 * time.Millisecond})
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/ws?fit=900&lanes=2", nil)
	if err != nil {
		t.Fatalf("Dial = %v", err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	read := func() (string, status) {
		typ, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("ReadMessage = %v", err)
		}
		if typ == websocket.BinaryMessage {
			return "tiles", status{}
		}
		var head struct{ Type string }
		json.Unmarshal(data, &head)
		var st status
		if head.Type == "status" {
			json.Unmarshal(data, &st)
		}
		return head.Type, st
	}
	if typ, st := read(); typ != "status" || st.Events != 0 {
		t.Fatalf("first message %s with %d events, want a status without events", typ, st.Events)
	}
	manyMessages(t, s, 3, 50)
	for {
		typ, st := read()
		if typ == "tiles" {
			t.Fatal("tiles before a status with events")
		}
		if typ != "status" || st.Events == 0 {
			continue
		}
		if next, _ := read(); next != "tiles" {
			t.Fatalf("after the first status with events: %s, want the first tiles", next)
		}
		if next, _ := read(); next != "conns" {
			t.Fatalf("after the first tiles: %s, want the connections table", next)
		}
		return
	}
}
