package demo

import (
	"context"
	"crypto/tls"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

//go:embed static
var static embed.FS

// Options configure the demo chat. The zero value runs every bot at the
// default pace.
type Options struct {
	// Pace is the average time between two messages of one bot; 0 means
	// DefaultPace.
	Pace time.Duration
	// NoBots starts the chat without bots.
	NoBots bool
	// TimelineURL, when set, is linked from the chat page.
	TimelineURL string
	// Logf, when set, receives a line for each bot error worth knowing.
	Logf func(format string, args ...any)
	// TLS, when set, serves the chat over https:// and wss:// with this
	// configuration (its certificate; its KeyLogWriter gets the secrets),
	// and the bots connect with BotTLS.
	TLS, BotTLS *tls.Config
}

// DefaultPace is the average time between two messages of one bot: slow
// enough to follow on the timeline, quick enough to keep it moving.
const DefaultPace = 1500 * time.Millisecond

// Timing of the chat server.
const (
	pingPeriod   = 5 * time.Second // the server pings every client this often
	writeWait    = 2 * time.Second // a write that takes longer drops the client
	closeWait    = time.Second     // how long a closing handshake may take
	maxChatBytes = 64 << 10        // longest message a client may send
	sendQueue    = 64              // messages waiting for a slow client before it is dropped
)

// Server is a running demo chat.
type Server struct {
	opts Options
	ln   net.Listener
	http *http.Server
	hub  *hub

	ctx    context.Context // canceled by Close: bots leave
	cancel context.CancelFunc
	bots   sync.WaitGroup
	served chan struct{}
	once   sync.Once
}

// Start serves the chat on ln (a loopback listener; the caller chooses
// the port) and starts the bots, which connect to it at once.
func Start(ln net.Listener, opts Options) *Server {
	if opts.Pace <= 0 {
		opts.Pace = DefaultPace
	}
	ctx, cancel := context.WithCancel(context.Background())
	if opts.TLS != nil {
		ln = tls.NewListener(ln, opts.TLS)
	}
	s := &Server{opts: opts, ln: ln, hub: newHub(), ctx: ctx, cancel: cancel, served: make(chan struct{})}
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.served)
		_ = s.http.Serve(ln)
	}()
	if !opts.NoBots {
		s.startBots()
	}
	return s
}

// URL returns the chat page's address.
func (s *Server) URL() string {
	if s.opts.TLS != nil {
		return "https://" + s.ln.Addr().String() + "/"
	}
	return "http://" + s.ln.Addr().String() + "/"
}

// Addr returns the address the chat listens on.
func (s *Server) Addr() *net.TCPAddr { return s.ln.Addr().(*net.TCPAddr) }

// Handler returns the chat's HTTP handler: the page at /, the WebSocket
// at /ws.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	files, _ := fs.Sub(static, "static")
	fileServer := http.FileServerFS(files)
	mux.Handle("GET /", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The page runs only its own script, and talks only to this
		// server.
		w.Header().Set("Content-Security-Policy",
			"default-src 'self'; connect-src 'self' ws://"+r.Host+" wss://"+r.Host+"; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fileServer.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /info.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"timeline": s.opts.TimelineURL})
	})
	mux.HandleFunc("GET /ws", s.serveWS)
	return mux
}

// Close ends the demo: the bots leave with a closing handshake, the server
// closes the other connections with 1001 (going away, RFC 6455 §7.4.1) and
// stops listening.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		s.cancel()
		s.bots.Wait()
		s.hub.closeAll(websocket.CloseGoingAway, "the demo is over")
		ctx, cancel := context.WithTimeout(context.Background(), closeWait)
		defer cancel()
		err = s.http.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			err = s.http.Close()
		}
		<-s.served
	})
	return err
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

var upgrader = websocket.Upgrader{
	EnableCompression: true, // RFC 7692 permessage-deflate, what the demo is about
	// CheckOrigin is gorilla's default: same origin only.
}

// chatMessage is what the server sends for each chat line, as JSON text.
type chatMessage struct {
	Type string `json:"type"` // "chat", "join", "leave", "binary"
	From string `json:"from"`
	Text string `json:"text,omitempty"`
	Size int    `json:"size,omitempty"` // binary messages: their length
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	name := cleanName(r.URL.Query().Get("name"))
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered with an HTTP error
	}
	c := &client{name: name, conn: conn, send: make(chan outMsg, sendQueue), done: make(chan struct{})}
	s.hub.add(c)
	go c.writePump()
	s.hub.broadcast(chatMessage{Type: "join", From: name}, nil)
	c.readPump(s.hub)
	s.hub.remove(c)
	s.hub.broadcast(chatMessage{Type: "leave", From: name}, nil)
}

// cleanName keeps a short printable name.
func cleanName(name string) string {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) {
		return "guest"
	}
	if r := []rune(name); len(r) > 24 {
		name = string(r[:24])
	}
	return name
}

// The hub, after gorilla's examples/chat/hub.go: one buffered channel and
// one write pump per client; a client that cannot keep up is dropped,
// never waited for.

type outMsg struct {
	typ  int // websocket.TextMessage, BinaryMessage or CloseMessage
	data []byte
}

type client struct {
	name string
	conn *websocket.Conn
	send chan outMsg
	done chan struct{} // closed when the write pump ends
}

type hub struct {
	mu      sync.Mutex
	clients map[*client]bool
}

func newHub() *hub { return &hub{clients: map[*client]bool{}} }

func (h *hub) add(c *client) {
	h.mu.Lock()
	h.clients[c] = true
	h.mu.Unlock()
}

func (h *hub) remove(c *client) {
	h.mu.Lock()
	if h.clients[c] {
		delete(h.clients, c)
		close(c.send)
	}
	h.mu.Unlock()
	<-c.done
}

// broadcast sends a chat message to every client as JSON text, and the
// binary payload after it when there is one.
func (h *hub) broadcast(m chatMessage, binary []byte) {
	text, _ := json.Marshal(m)
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		h.queue(c, outMsg{websocket.TextMessage, text})
		if binary != nil {
			h.queue(c, outMsg{websocket.BinaryMessage, binary})
		}
	}
}

// queue hands a message to a client's write pump, or drops the client when
// its queue is full. h.mu must be held.
func (h *hub) queue(c *client, m outMsg) {
	select {
	case c.send <- m:
	default:
		delete(h.clients, c)
		close(c.send)
	}
}

// closeAll starts the closing handshake with every client and waits (a
// little) for them to answer.
func (h *hub) closeAll(code int, reason string) {
	h.mu.Lock()
	var all []*client
	for c := range h.clients {
		h.queue(c, outMsg{websocket.CloseMessage, websocket.FormatCloseMessage(code, reason)})
		all = append(all, c)
	}
	h.mu.Unlock()
	deadline := time.After(closeWait)
	for _, c := range all {
		select {
		case <-c.done:
		case <-deadline:
			return
		}
	}
}

// readPump reads the client's messages until the connection ends and
// broadcasts them.
func (c *client) readPump(h *hub) {
	defer c.conn.Close()
	c.conn.SetReadLimit(maxChatBytes)
	for {
		typ, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		switch typ {
		case websocket.TextMessage:
			text := string(data)
			// The page and some bots send {"text": ...}; others plain text.
			var in struct {
				Text *string `json:"text"`
			}
			if json.Unmarshal(data, &in) == nil && in.Text != nil {
				text = *in.Text
			}
			h.broadcast(chatMessage{Type: "chat", From: c.name, Text: text}, nil)
		case websocket.BinaryMessage:
			h.broadcast(chatMessage{Type: "binary", From: c.name, Size: len(data)}, data)
		}
	}
}

// writePump writes queued messages and pings the client, until the queue
// is closed.
func (c *client) writePump() {
	defer close(c.done)
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	n := 0
	for {
		select {
		case m, ok := <-c.send:
			_ = c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok {
				// Removed, or dropped for falling behind.
				c.conn.Close()
				return
			}
			if m.typ == websocket.CloseMessage {
				// The read pump sees the answer and ends the connection.
				_ = c.conn.WriteMessage(websocket.CloseMessage, m.data)
				continue
			}
			if err := c.conn.WriteMessage(m.typ, m.data); err != nil {
				c.conn.Close()
				return
			}
		case <-ping.C:
			n++
			if err := c.conn.WriteControl(websocket.PingMessage, []byte("server ping "+strconv.Itoa(n)), time.Now().Add(writeWait)); err != nil {
				c.conn.Close()
				return
			}
		}
	}
}
