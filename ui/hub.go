package ui

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The hub follows gorilla's examples/chat/hub.go: the server broadcasts each
// update to a buffered channel per tab, and one write pump per tab drains
// it. Broadcasting never blocks: when a tab's channel is full the tab is
// marked behind and gets nothing more until its pump has re-synced it (the
// same path a newly opened tab takes).
//
// Only what is live goes over the WebSocket: the status (progress, counts,
// the number of events so far: the page's notice that new events arrived)
// and the connections table, and once, when the tab asked, the tiles of
// its first view (firsttiles.go). Events are never streamed: the page asks
// for what it shows (ui/query.go).

const (
	writeWait  = 10 * time.Second  // a tab that takes longer to accept a write is dropped
	pongWait   = 60 * time.Second  // a tab that answers no ping for this long is dropped
	pingPeriod = pongWait * 9 / 10 // how often the pump pings
	readLimit  = 512               // the page sends nothing but control frames
	upgradeBuf = 16 << 10          // write buffer
	// firstWait is how long a tab that asked for its first tiles before
	// the first event is re-synced at each message, so that they come with
	// the first status that has events (boot.js waits 1 s for it).
	firstWait = 2 * time.Second
)

// outMsg is one message to the tabs: a JSON text message (status, conns).
type outMsg struct {
	data []byte
}

type client struct {
	s    *Server
	conn *websocket.Conn
	send chan *outMsg
	wake chan struct{}
	done chan struct{}
	once sync.Once

	// behind is set (under s.mu) when send was full; the hub then skips
	// the client until its pump has re-synced it.
	behind bool
	// resyncs counts the re-syncs after the tab fell behind (under s.mu).
	resyncs int
	// first is the view the tab asked the first tiles for (firsttiles.go);
	// wantFirst is true until they were sent, or until firstUntil when
	// there was no event to cut them from when the tab came.
	first      firstView
	wantFirst  bool
	firstUntil time.Time
}

// offer queues m without blocking. It reports false, and marks the client
// behind, when the queue is full. The caller holds s.mu.
func (c *client) offer(m *outMsg) bool {
	if c.behind {
		return false
	}
	select {
	case c.send <- m:
		return true
	default:
		c.behind = true
		select {
		case c.wake <- struct{}{}:
		default:
		}
		return false
	}
}

var upgrader = websocket.Upgrader{
	WriteBufferSize: upgradeBuf,
	// CheckOrigin is left nil: gorilla's default refuses a handshake whose
	// Origin host differs from the Host header (same-origin only).
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered with an error status
	}
	c := &client{
		s:      s,
		conn:   conn,
		send:   make(chan *outMsg, s.opts.QueueLen),
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		behind: true, // a new tab starts by catching up
	}
	c.first, c.wantFirst = parseFirstView(r.URL.Query())
	c.firstUntil = time.Now().Add(firstWait)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.Close()
		return
	}
	s.clients[c] = true
	s.wg.Add(2)
	s.mu.Unlock()
	go c.readPump()
	go c.writePump()
}

func (c *client) unregister() {
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.clients, c)
		c.s.mu.Unlock()
		close(c.done)
		c.conn.Close()
	})
}

// readPump reads (and discards) what the page sends, so that pongs and the
// close handshake are processed, and unregisters the tab when it goes.
func (c *client) readPump() {
	defer c.s.wg.Done()
	defer c.unregister()
	c.conn.SetReadLimit(readLimit)
	c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		if _, _, err := c.conn.ReadMessage(); err != nil {
			return
		}
	}
}

func (c *client) writePump() {
	defer c.s.wg.Done()
	defer c.unregister()
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	if c.resync(false) != nil {
		return
	}
	for {
		select {
		case <-c.done:
			return
		case <-c.wake:
			if c.resync(true) != nil {
				return
			}
		case m := <-c.send:
			// A tab that came before the first event still wants its
			// first tiles: while firstWait lasts, it is re-synced instead
			// (the status, the first tiles once there are events, the
			// connections), so that they come with the first status that
			// has events, as boot.js waits for them.
			if c.wantFirst && time.Now().Before(c.firstUntil) {
				if c.resync(false) != nil {
					return
				}
				continue
			}
			c.wantFirst = false
			if c.write(m) != nil {
				return
			}
		case <-ping.C:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if c.conn.WriteMessage(websocket.PingMessage, nil) != nil {
				return
			}
		}
	}
}

// resync brings the tab up to date: the status and the connections, and
// it rejoins the broadcast. With notify, the page is first told that it
// fell behind (and how many events the server has), and the re-sync is
// counted.
func (c *client) resync(notify bool) error {
	// What was queued before the overflow is older than what the server
	// holds now: drop it.
	for drained := false; !drained; {
		select {
		case <-c.send:
		default:
			drained = true
		}
	}
	s := c.s
	s.mu.Lock()
	events := s.st.len()
	status, conns := s.statusMsgLocked(), s.connsMsgLocked(nil)
	c.behind = false
	if notify {
		c.resyncs++
	}
	var duration float64
	var ids []uint32
	if c.wantFirst && s.status.Events > 0 {
		duration = s.status.Duration
		ids = make([]uint32, 0, len(s.conns))
		for id := range s.conns {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	if notify {
		b, _ := json.Marshal(struct {
			Type   string `json:"type"`
			Events int    `json:"events"`
		}{"behind", events})
		if err := c.writeRaw(websocket.TextMessage, b); err != nil {
			return err
		}
	}
	if err := c.writeRaw(websocket.TextMessage, status.data); err != nil {
		return err
	}
	// The first tiles, cut for this status and connections table, come
	// between the two, once (the spill is read without s.mu, as a request
	// would): the page draws at the table, and then has them at hand.
	if len(ids) > 0 {
		c.wantFirst = false
		if b, err := s.query.firstTiles(c.first, duration, ids); err == nil && b != nil {
			if err := c.writeRaw(websocket.BinaryMessage, b); err != nil {
				return err
			}
		}
	}
	return c.writeRaw(websocket.TextMessage, conns.data)
}

func (c *client) write(m *outMsg) error { return c.writeRaw(websocket.TextMessage, m.data) }

func (c *client) writeRaw(typ int, data []byte) error {
	c.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return c.conn.WriteMessage(typ, data)
}
