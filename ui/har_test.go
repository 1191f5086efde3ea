package ui

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/wsviz/wsviz/analyze"
)

// harFile is the part of HAR 1.2 (and of Chrome's extension) the tests read.
type harFile struct {
	Log struct {
		Version string
		Creator struct{ Name string }
		Entries []struct {
			ResourceType      string `json:"_resourceType"`
			WebSocketMessages []struct {
				Type   string
				Time   float64
				Opcode int
				Data   string
			} `json:"_webSocketMessages"`
			StartedDateTime string
			Time            float64
			Request         struct {
				Method, URL, HTTPVersion string
				Headers                  []struct{ Name, Value string }
				QueryString              []struct{ Name, Value string }
			}
			Response struct {
				Status      int
				StatusText  string
				HTTPVersion string
				Headers     []struct{ Name, Value string }
			}
			ServerIPAddress string
			Comment         string
		}
	}
}

func TestWriteHAR(t *testing.T) {
	evs := conversation(1, t0, text(hostile), binaryMsg([]byte{0, 0xff}), text("bye"))
	// A plain TCP connection is left out.
	evs = append(evs, analyze.Event{Type: analyze.TypeTCPOpen, Conn: 2, Time: t0.Add(time.Second), TCPOpen: analyze.TCPOpen{Client: "10.0.0.1:1", Server: "10.0.0.2:80"}})
	// A mid-stream WebSocket has an entry without a handshake.
	evs = append(evs,
		analyze.Event{Type: analyze.TypeTCPOpen, Conn: 3, Time: t0.Add(2 * time.Second), TCPOpen: analyze.TCPOpen{Client: "10.0.0.1:2", Server: "10.0.0.2:8080"}},
		analyze.Event{Type: analyze.TypeWSOpen, Conn: 3, Time: t0.Add(2 * time.Second), WSOpen: analyze.WSOpen{Midstream: true}},
		analyze.Event{Type: analyze.TypeWSMessage, Conn: 3, From: "server", Time: t0.Add(3 * time.Second), Message: analyze.Message{Opcode: "text", Payload: []byte("late")}},
	)
	var buf bytes.Buffer
	if err := WriteHAR(&buf, slices.Values(ptrs(evs))); err != nil {
		t.Fatal(err)
	}
	var h harFile
	if err := json.Unmarshal(buf.Bytes(), &h); err != nil {
		t.Fatalf("HAR is not JSON: %v\n%s", err, buf.Bytes())
	}
	if h.Log.Version != "1.2" || h.Log.Creator.Name != "wsviz" || len(h.Log.Entries) != 2 {
		t.Fatalf("HAR log = version %q creator %q, %d entries; want 1.2, wsviz, 2", h.Log.Version, h.Log.Creator.Name, len(h.Log.Entries))
	}
	e := h.Log.Entries[0]
	if e.ResourceType != "websocket" || e.Request.Method != "GET" || e.Request.URL != "ws://example.test:9001/chat?room=1" ||
		e.Response.Status != 101 || e.Response.StatusText != "Switching Protocols" || e.ServerIPAddress != "127.0.0.1" {
		t.Errorf("entry 0 = %+v", e)
	}
	if len(e.Request.QueryString) != 1 || e.Request.QueryString[0].Name != "room" || e.Request.QueryString[0].Value != "1" {
		t.Errorf("queryString = %+v", e.Request.QueryString)
	}
	if !slices.ContainsFunc(e.Request.Headers, func(p struct{ Name, Value string }) bool { return p.Name == "Upgrade" && p.Value == "websocket" }) {
		t.Errorf("request headers lack Upgrade: %+v", e.Request.Headers)
	}
	if want := "2024-05-01T12:00:00.002Z"; e.StartedDateTime != want {
		t.Errorf("startedDateTime = %q, want %q", e.StartedDateTime, want)
	}
	// Close messages are not listed, as in DevTools.
	type msg struct {
		typ    string
		opcode int
		data   string
	}
	var got []msg
	for _, m := range e.WebSocketMessages {
		got = append(got, msg{m.Type, m.Opcode, m.Data})
	}
	want := []msg{{"send", 1, hostile}, {"receive", 2, base64.StdEncoding.EncodeToString([]byte{0, 0xff})}, {"send", 1, "bye"}}
	if !slices.Equal(got, want) {
		t.Errorf("_webSocketMessages = %+v, want %+v", got, want)
	}
	var msgTime time.Time
	for _, ev := range evs {
		if ev.Type == analyze.TypeWSMessage {
			msgTime = ev.Time
			break
		}
	}
	if d := e.WebSocketMessages[0].Time - float64(msgTime.UnixNano())/1e9; d > 1e-6 || d < -1e-6 {
		t.Errorf("message time = %f, want %f", e.WebSocketMessages[0].Time, float64(msgTime.UnixNano())/1e9)
	}
	m := h.Log.Entries[1]
	if m.Request.URL != "ws://10.0.0.2:8080/" || m.Response.Status != 0 || m.Comment == "" || len(m.WebSocketMessages) != 1 || m.WebSocketMessages[0].Type != "receive" {
		t.Errorf("mid-stream entry = %+v", m)
	}
}

func ptrs(evs []analyze.Event) []*analyze.Event {
	out := make([]*analyze.Event, len(evs))
	for i := range evs {
		out[i] = &evs[i]
	}
	return out
}

func TestExportHAR(t *testing.T) {
	s, hs := newTestServer(t, Options{})
	evs := conversation(1, t0, text("one"), text("two"))
	evs = append(evs, conversation(2, t0.Add(time.Second), text("three"))...)
	publishAll(t, s, evs)
	resp, err := http.Get(hs.URL + "/api/export?format=har")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var h harFile
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatalf("export HAR: %v", err)
	}
	if len(h.Log.Entries) != 2 || len(h.Log.Entries[0].WebSocketMessages) != 2 || h.Log.Entries[1].WebSocketMessages[0].Data != "three" {
		t.Errorf("export HAR = %s", body)
	}
}
