package ui

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The hub follows gorilla's examples/chat/hub.go: the server broadcasts each
// update to a buffered channel per tab, and one write pump per tab drains
// it. Broadcasting never blocks: when a tab's channel is full the tab is
// marked behind and gets nothing more until its pump has re-synced it from
// the stored events (the same path a newly opened tab takes).

const (
	writeWait  = 10 * time.Second  // a tab that takes longer to accept a write is dropped
	pongWait   = 60 * time.Second  // a tab that answers no ping for this long is dropped
	pingPeriod = pongWait * 9 / 10 // how often the pump pings
	readLimit  = 512               // the page sends nothing but control frames
	upgradeBuf = 64 << 10          // write buffer for event batches
)

// outMsg is one message to the tabs: a JSON text message (status, conns) or
// a binary batch of the events first..end-1.
type outMsg struct {
	text       bool
	data       []byte
	first, end int
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
	// cursor is the id of the next event the tab needs; pump only.
	cursor int
	// limit is the number of events the tab wants streamed (/ws?limit=N);
	// past it, it gets the status and connections only and asks the
	// server for windows of the rest. 0 means every event.
	limit int
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
	if v, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && v > 0 {
		c.limit = v
	}
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

// resync brings the tab up to date from the store: status, connections,
// then every event from its cursor on, in batches, and finally rejoins the
// broadcast. With notify, the page is first told that it fell behind.
func (c *client) resync(notify bool) error {
	// What was queued before the overflow is older than what the store
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
	missed := s.st.len() - c.cursor
	status, conns := s.statusMsgLocked(), s.connsMsgLocked(nil)
	s.mu.Unlock()
	if notify {
		b, _ := json.Marshal(struct {
			Type   string `json:"type"`
			Missed int    `json:"missed"`
		}{"behind", missed})
		if err := c.writeRaw(websocket.TextMessage, b); err != nil {
			return err
		}
	}
	if err := c.writeRaw(websocket.TextMessage, status.data); err != nil {
		return err
	}
	if err := c.writeRaw(websocket.TextMessage, conns.data); err != nil {
		return err
	}
	for {
		s.mu.Lock()
		n := c.want(s.st.len())
		if c.cursor >= n {
			// Caught up. Status and connections may have changed while
			// catching up (broadcasts skipped this tab): send them again,
			// then rejoin.
			status, conns = s.statusMsgLocked(), s.connsMsgLocked(nil)
			c.behind = false
			s.mu.Unlock()
			if err := c.writeRaw(websocket.TextMessage, status.data); err != nil {
				return err
			}
			return c.writeRaw(websocket.TextMessage, conns.data)
		}
		end := min(n, c.cursor+maxBatch)
		m := s.eventsMsgLocked(c.cursor, end)
		s.mu.Unlock()
		if err := c.write(m); err != nil {
			return err
		}
	}
}

// write sends m, trimming an event batch to the events the tab lacks.
func (c *client) write(m *outMsg) error {
	if m.text {
		return c.writeRaw(websocket.TextMessage, m.data)
	}
	end := c.want(m.end)
	if end <= c.cursor {
		return nil // sent while re-syncing, or past the tab's limit
	}
	if m.first != c.cursor || end != m.end {
		c.s.mu.Lock()
		m = c.s.eventsMsgLocked(c.cursor, end)
		c.s.mu.Unlock()
	}
	if err := c.writeRaw(websocket.BinaryMessage, m.data); err != nil {
		return err
	}
	c.cursor = m.end
	return nil
}

// want returns how many of the first n events the tab wants.
func (c *client) want(n int) int {
	if c.limit > 0 {
		return min(n, c.limit)
	}
	return n
}

func (c *client) writeRaw(typ int, data []byte) error {
	c.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return c.conn.WriteMessage(typ, data)
}
