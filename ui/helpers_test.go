package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/ui/internal/spill"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// conversation returns the events of one clean WebSocket connection number
// conn starting at start: TCP open, upgrade, 101, ws.open, the messages
// (each after its frame), Close both ways and FIN.
func conversation(conn int, start time.Time, msgs ...analyze.Message) []analyze.Event {
	var out []analyze.Event
	t := start
	pkt := int64(conn * 1000)
	add := func(ev analyze.Event) {
		pkt++
		t = t.Add(time.Millisecond)
		ev.Conn, ev.Time, ev.Packet = conn, t, pkt
		out = append(out, ev)
	}
	client := fmt.Sprintf("127.0.0.1:%d", 50000+conn)
	add(analyze.Event{Type: analyze.TypeTCPOpen, TCPOpen: analyze.TCPOpen{Client: client, Server: "127.0.0.1:9001", SYN: true}, Note: "open"})
	add(analyze.Event{Type: analyze.TypeHTTPRequest, From: analyze.FromClient, Note: "upgrade request",
		HTTP: analyze.HTTP{Method: "GET", Target: "/chat?room=1", Proto: "HTTP/1.1", Header: http.Header{
			"Host": {"example.test:9001"}, "Upgrade": {"websocket"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}}}})
	add(analyze.Event{Type: analyze.TypeHTTPResponse, From: analyze.FromServer, Note: "101",
		HTTP: analyze.HTTP{Status: 101, Reason: "Switching Protocols", Proto: "HTTP/1.1", Header: http.Header{"Upgrade": {"websocket"}}}})
	add(analyze.Event{Type: analyze.TypeWSOpen, Note: "ws open", WSOpen: analyze.WSOpen{Path: "/chat?room=1", Subprotocol: "chat", Accept: "ok"}})
	for i, m := range msgs {
		from := analyze.FromClient
		if i%2 == 1 {
			from = analyze.FromServer
		}
		m.Len = int64(len(m.Payload))
		m.WireLen = m.Len
		m.Frames = 1
		add(analyze.Event{Type: analyze.TypeWSFrame, From: from, Note: "frame",
			Frame: analyze.Frame{Fin: true, Opcode: spill.MessageOpcode(m.Opcode), Masked: from == analyze.FromClient, Len: uint64(m.Len)}})
		m.Packets = []int64{pkt}
		add(analyze.Event{Type: analyze.TypeWSMessage, From: from, Note: m.Opcode + " message", Message: m})
	}
	close := []byte{0x03, 0xe8}
	for _, from := range []string{analyze.FromClient, analyze.FromServer} {
		add(analyze.Event{Type: analyze.TypeWSFrame, From: from, Frame: analyze.Frame{Fin: true, Opcode: opClose, Len: 2}})
		add(analyze.Event{Type: analyze.TypeWSMessage, From: from, Note: "close",
			Message: analyze.Message{Opcode: "close", Len: 2, WireLen: 2, Frames: 1, Payload: close, Code: 1000}})
	}
	add(analyze.Event{Type: analyze.TypeTCPClose, Note: "fin", TCPClose: analyze.TCPClose{How: analyze.CloseFIN, ClientBytes: 10, ServerBytes: 20}})
	return out
}

func text(s string) analyze.Message      { return analyze.Message{Opcode: "text", Payload: []byte(s)} }
func binaryMsg(b []byte) analyze.Message { return analyze.Message{Opcode: "binary", Payload: b} }

// newTestServer starts a Server behind httptest and cleans both up.
func newTestServer(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	s, err := NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		s.Close()
		hs.Close()
	})
	return s, hs
}

func publishAll(t *testing.T, s *Server, evs []analyze.Event) {
	t.Helper()
	for i := range evs {
		if err := s.Publish(&evs[i]); err != nil {
			t.Fatalf("Publish(%d) = %v", i, err)
		}
	}
}

func dial(t *testing.T, hs *httptest.Server) *websocket.Conn {
	t.Helper()
	u := "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
	c, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("Dial(%s) = %v", u, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// tab is what a page learns from the stream: the status and the
// connections (events are asked for, never streamed).
type tab struct {
	status status
	conns  map[int]connInfo
	behind int
	// texts counts the messages read.
	texts int
}

// readUntil reads stream messages into tb until done(tb) or the deadline.
func (tb *tab) readUntil(t *testing.T, c *websocket.Conn, done func(*tab) bool) {
	t.Helper()
	if tb.conns == nil {
		tb.conns = map[int]connInfo{}
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	for !done(tb) {
		typ, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("ReadMessage after %d messages = %v", tb.texts, err)
		}
		if typ != websocket.TextMessage {
			t.Fatalf("the stream sent a binary message (%d bytes): it carries the status and connections only", len(data))
		}
		tb.texts++
		var head struct{ Type string }
		if err := json.Unmarshal(data, &head); err != nil {
			t.Fatalf("bad text message %q: %v", data, err)
		}
		switch head.Type {
		case "status":
			json.Unmarshal(data, &tb.status)
		case "conns":
			var m struct{ Conns []connInfo }
			json.Unmarshal(data, &m)
			for _, ci := range m.Conns {
				tb.conns[ci.ID] = ci
			}
		case "behind":
			tb.behind++
		default:
			t.Fatalf("unknown message type %q", head.Type)
		}
	}
}
