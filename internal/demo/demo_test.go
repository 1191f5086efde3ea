package demo

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func startDemo(t *testing.T, opts Options) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	opts.Logf = func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		t.Logf(format, args...)
	}
	s := Start(ln, opts)
	t.Cleanup(func() { s.Close() })
	return s
}

// received is what an observer got from the chat.
type received struct {
	chats     map[string][]string // by sender
	joins     map[string]int
	leaves    map[string]int
	binary    int
	closeCode int
}

// observe connects as a chat client and records what the server sends
// until the connection ends or cond holds.
func observe(t *testing.T, s *Server, cond func(*received) bool) *received {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+s.Addr().String()+"/ws?name=watcher", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := &received{chats: map[string][]string{}, joins: map[string]int{}, leaves: map[string]int{}}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for !cond(r) {
		typ, data, err := conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				r.closeCode = ce.Code
			}
			return r
		}
		if typ == websocket.BinaryMessage {
			r.binary++
			continue
		}
		var m chatMessage
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("server sent %q, not JSON: %v", data, err)
		}
		switch m.Type {
		case "chat":
			r.chats[m.From] = append(r.chats[m.From], m.Text)
		case "join":
			r.joins[m.From]++
		case "leave":
			r.leaves[m.From]++
		}
	}
	return r
}

func TestBots(t *testing.T) {
	s := startDemo(t, Options{Pace: 60 * time.Millisecond})
	r := observe(t, s, func(r *received) bool {
		return len(r.chats["ada"]) >= 2 && len(r.chats["bit"]) >= 2 && r.binary >= 2 &&
			len(r.chats["cam"]) >= 1 && r.leaves["dee"] >= 1 && r.joins["dee"] >= 1
	})
	if r.chats["ada"][0] != adaLines[0] {
		t.Errorf("ada said %q first, want %q", r.chats["ada"][0], adaLines[0])
	}
	if got := r.chats["bit"][0]; got != "status update #1" {
		t.Errorf("bit's JSON text came out as %q, want %q", got, "status update #1")
	}
	if got := r.chats["cam"][0]; got != story {
		t.Errorf("cam's long message = %d bytes, want the %d-byte story", len(got), len(story))
	}
	if len(story) < 3*camFrame {
		t.Errorf("the story (%d bytes) fits in fewer than 3 frames of %d", len(story), camFrame)
	}
	if r.leaves["dee"] == 0 {
		t.Errorf("dee never left")
	}
}

func TestCloseSaysGoingAway(t *testing.T) {
	s := startDemo(t, Options{NoBots: true})
	done := make(chan *received)
	go func() {
		done <- observe(t, s, func(*received) bool { return false })
	}()
	time.Sleep(100 * time.Millisecond) // let the observer join
	if err := s.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	select {
	case r := <-done:
		if r.closeCode != websocket.CloseGoingAway {
			t.Errorf("the server closed with %d, want %d (going away)", r.closeCode, websocket.CloseGoingAway)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the observer was not closed")
	}
}

func TestPage(t *testing.T) {
	s := startDemo(t, Options{NoBots: true, TimelineURL: "http://127.0.0.1:1234/"})
	tests := []struct {
		path, contentType, body string
	}{
		{"/", "text/html", `<script type="module" src="chat.js">`},
		{"/chat.js", "javascript", "textContent"},
		{"/chat.css", "text/css", "#log"},
		{"/info.json", "application/json", `"timeline":"http://127.0.0.1:1234/"`},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get(strings.TrimSuffix(s.URL(), "/") + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), tc.contentType) || !strings.Contains(string(body), tc.body) {
				t.Errorf("GET %s = %d %s %q, want 200 %s containing %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.contentType, tc.body)
			}
		})
	}
	resp, err := http.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy = %q, want default-src 'self'", csp)
	}
	if strings.Contains(mustGet(t, s.URL()+"chat.js"), "innerHTML") {
		t.Errorf("chat.js uses innerHTML: received messages must be shown as text")
	}
}

func mustGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestOriginChecked(t *testing.T) {
	// Another web site's page may not join the chat (gorilla's same-origin
	// check).
	s := startDemo(t, Options{NoBots: true})
	h := http.Header{"Origin": {"http://evil.example"}}
	_, resp, err := websocket.DefaultDialer.Dial("ws://"+s.Addr().String()+"/ws", h)
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("Dial with a foreign Origin = %v, want 403", err)
	}
}
