package browsertests

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// Step is one message of a recorded conversation.
type Step struct {
	FromClient bool
	// Type is websocket.TextMessage, BinaryMessage, PingMessage or
	// CloseMessage (Data is then the close body, see
	// websocket.FormatCloseMessage).
	Type int
	Data []byte
}

// Chunk is what one side wrote to its TCP connection in one write.
type Chunk struct {
	FromClient bool
	Data       []byte
}

// Conversation describes a WebSocket conversation to record.
type Conversation struct {
	Path        string
	Subprotocol string // offered by the client and accepted by the server
	Compress    bool   // negotiate permessage-deflate and compress every message
	Steps       []Step
}

// Record plays conv between a gorilla/websocket client and server over
// net.Pipe and returns the bytes each side wrote, in order: the upgrade
// request, the 101 response and every frame, exactly as a trusted encoder
// writes them. Steps run one at a time: each waits until the peer has read
// the previous one (and answered a ping or a close).
func Record(conv Conversation) ([]Chunk, error) {
	rec := &recorder{}
	clientEnd, serverEnd := net.Pipe()
	received := make(chan struct{}, 16)
	srvConn := make(chan *websocket.Conn, 1)
	up := websocket.Upgrader{EnableCompression: conv.Compress}
	if conv.Subprotocol != "" {
		up.Subprotocols = []string{conv.Subprotocol}
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		srvConn <- c
	})}
	go hs.Serve(&oneConnListener{conn: recConn{serverEnd, false, rec}})
	defer hs.Close()

	d := websocket.Dialer{
		NetDial:           func(string, string) (net.Conn, error) { return recConn{clientEnd, true, rec}, nil },
		EnableCompression: conv.Compress,
		HandshakeTimeout:  5 * time.Second,
	}
	if conv.Subprotocol != "" {
		d.Subprotocols = []string{conv.Subprotocol}
	}
	path := conv.Path
	if path == "" {
		path = "/"
	}
	client, resp, err := d.Dial("ws://example.test"+path, nil)
	if err != nil {
		return nil, fmt.Errorf("record: dial: %w", err)
	}
	resp.Body.Close()
	var server *websocket.Conn
	select {
	case server = <-srvConn:
	case <-time.After(5 * time.Second):
		return nil, errors.New("record: no upgrade on the server")
	}
	if conv.Compress {
		client.EnableWriteCompression(true)
		server.EnableWriteCompression(true)
	}
	signal := func(string) error { received <- struct{}{}; return nil }
	for _, c := range []*websocket.Conn{client, server} {
		c.SetPongHandler(signal)
		defaultPing := c.PingHandler()
		c.SetPingHandler(defaultPing) // answers with a pong, as browsers do
		go func(c *websocket.Conn) {
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					received <- struct{}{}
					return
				}
				received <- struct{}{}
			}
		}(c)
	}
	wait := func() error {
		select {
		case <-received:
			return nil
		case <-time.After(5 * time.Second):
			return errors.New("record: the peer read nothing")
		}
	}
	for i, s := range conv.Steps {
		c := server
		if s.FromClient {
			c = client
		}
		var err error
		if s.Type == websocket.PingMessage || s.Type == websocket.CloseMessage {
			err = c.WriteControl(s.Type, s.Data, time.Now().Add(5*time.Second))
		} else {
			err = c.WriteMessage(s.Type, s.Data)
		}
		if err != nil {
			return nil, fmt.Errorf("record: step %d: %w", i, err)
		}
		if err := wait(); err != nil {
			return nil, fmt.Errorf("record: step %d: %w", i, err)
		}
		if s.Type == websocket.CloseMessage {
			// The peer's reader saw the close and answered; wait for
			// the answer to be read too.
			if err := wait(); err != nil {
				return nil, fmt.Errorf("record: step %d: close answer: %w", i, err)
			}
			break
		}
	}
	client.Close()
	server.Close()
	return rec.chunks(), nil
}

// Replay writes conversations into a capture, one TCP connection each,
// interleaved a chunk at a time (as concurrent connections are), each
// opened with the three-way handshake and closed with FIN both ways.
func Replay(c *capturetest.Capture, convs [][]Chunk) {
	conns := make([]*capturetest.Conn, len(convs))
	for i := range convs {
		conns[i] = c.Conn(fmt.Sprintf("127.0.0.1:%d", 40000+i), "127.0.0.1:9001")
		conns[i].Handshake()
	}
	for k := 0; ; k++ {
		more := false
		for i, chunks := range convs {
			if k >= len(chunks) {
				continue
			}
			more = true
			if chunks[k].FromClient {
				conns[i].Client(chunks[k].Data)
			} else {
				conns[i].Server(chunks[k].Data)
			}
		}
		if !more {
			break
		}
	}
	for _, k := range conns {
		k.CloseFIN(true)
		k.CloseFIN(false)
	}
}

type recorder struct {
	mu  sync.Mutex
	out []Chunk
}

func (r *recorder) add(fromClient bool, p []byte) {
	r.mu.Lock()
	r.out = append(r.out, Chunk{fromClient, append([]byte(nil), p...)})
	r.mu.Unlock()
}

func (r *recorder) chunks() []Chunk {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Chunk(nil), r.out...)
}

// recConn records what is written to it, before it goes out, so that the
// record keeps the order in which the two sides wrote.
type recConn struct {
	net.Conn
	fromClient bool
	rec        *recorder
}

func (c recConn) Write(p []byte) (int, error) {
	c.rec.add(c.fromClient, p)
	return c.Conn.Write(p)
}

// oneConnListener hands out one connection, then blocks until closed.
type oneConnListener struct {
	mu     sync.Mutex
	conn   net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *oneConnListener) init() { l.once.Do(func() { l.closed = make(chan struct{}) }) }

func (l *oneConnListener) Accept() (net.Conn, error) {
	l.init()
	l.mu.Lock()
	c := l.conn
	l.conn = nil
	l.mu.Unlock()
	if c != nil {
		return c, nil
	}
	<-l.closed
	return nil, net.ErrClosed
}

func (l *oneConnListener) Close() error {
	l.init()
	select {
	case <-l.closed:
	default:
		close(l.closed)
	}
	return nil
}

func (l *oneConnListener) Addr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9001}
}
