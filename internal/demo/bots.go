package demo

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// The bots, each showing something different on the timeline.
//
//   - ada writes plain text.
//   - bit writes JSON and pings the server (RFC 6455 §5.5.2).
//   - cam sends binary sensor readings, and now and then a long text sent
//     uncompressed in several frames (a fragmented message, §5.4).
//   - dee leaves with close code 4000 (§7.4.2, private use) and comes
//     back with a new opening handshake.
//
// Every bot leaves with 1000 (normal closure) when the demo ends.

// CodeCoffeeBreak is the close code dee leaves with.
const CodeCoffeeBreak = 4000

func (s *Server) startBots() {
	for _, run := range []func(context.Context){s.ada, s.bit, s.cam, s.dee} {
		s.bots.Add(1)
		go func() {
			defer s.bots.Done()
			run(s.ctx)
		}()
	}
}

// botConn is a bot's connection with a reader that answers pings and
// notices the end of the closing handshake.
type botConn struct {
	*websocket.Conn
	read chan struct{} // closed when the reader ends
}

func (s *Server) dial(ctx context.Context, name string, writeBuffer int) (*botConn, error) {
	d := websocket.Dialer{EnableCompression: true, WriteBufferSize: writeBuffer, HandshakeTimeout: 5 * time.Second,
		TLSClientConfig: s.opts.BotTLS}
	scheme := "ws://"
	if s.opts.TLS != nil {
		scheme = "wss://"
	}
	u := scheme + s.ln.Addr().String() + "/ws?name=" + url.QueryEscape(name)
	conn, _, err := d.DialContext(ctx, u, nil)
	if err != nil {
		return nil, fmt.Errorf("demo: bot %s: %w", name, err)
	}
	c := &botConn{Conn: conn, read: make(chan struct{})}
	go func() {
		defer close(c.read)
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	return c, nil
}

// leave runs the closing handshake (RFC 6455 §7.1.2): send a close frame,
// wait for the server's, then close TCP.
func (c *botConn) leave(code int, reason string) {
	_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(writeWait))
	select {
	case <-c.read:
	case <-time.After(closeWait):
	}
	c.Close()
}

// pause waits about d (between half and one and a half times), or until
// the demo ends; it reports whether the bot should go on.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d/2 + rand.N(d+1))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// chatter runs a bot: connect, then call say until the demo ends or it
// fails, then leave normally.
func (s *Server) chatter(ctx context.Context, name string, writeBuffer int, say func(c *botConn, n int) error) {
	if !pause(ctx, s.opts.Pace/4) {
		return
	}
	c, err := s.dial(ctx, name, writeBuffer)
	if err != nil {
		s.logf("%v", err)
		return
	}
	for n := 0; ; n++ {
		if err := say(c, n); err != nil {
			s.logf("demo: bot %s: %v", name, err)
			c.Close()
			return
		}
		if !pause(ctx, s.opts.Pace) {
			c.leave(websocket.CloseNormalClosure, "bye, the demo is over")
			return
		}
	}
}

var adaLines = []string{
	"hello everyone!",
	"a short WebSocket message costs only 2 bytes of frame header from the server",
	"my frames to the server are masked: 4 more bytes of key",
	"this connection started as a plain HTTP GET with Upgrade: websocket",
	"the server answered 101 Switching Protocols, and then it was frames all the way",
	"we negotiated permessage-deflate, so most messages are compressed",
	"either side can send at any time: no request, no response",
}

func (s *Server) ada(ctx context.Context) {
	s.chatter(ctx, "ada", 0, func(c *botConn, n int) error {
		return c.WriteMessage(websocket.TextMessage, []byte(adaLines[n%len(adaLines)]))
	})
}

var moods = []string{"curious", "happy", "busy", "sleepy", "excited"}

func (s *Server) bit(ctx context.Context) {
	s.chatter(ctx, "bit", 0, func(c *botConn, n int) error {
		msg, _ := json.Marshal(map[string]any{
			"text": fmt.Sprintf("status update #%d", n+1),
			"mood": moods[n%len(moods)],
			"seq":  n + 1,
		})
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			return err
		}
		if n%2 == 0 {
			// The server's gorilla answers with a pong (§5.5.3).
			return c.WriteControl(websocket.PingMessage, []byte(fmt.Sprintf("bit ping %d", n/2+1)), time.Now().Add(writeWait))
		}
		return nil
	})
}

// camFrame is the size of cam's frames: its long text needs several.
const camFrame = 512

var story = strings.Repeat("A message can be split into fragments: the first frame has the opcode, "+
	"the next ones are continuation frames, and only the last has FIN set. ", 12)

func (s *Server) cam(ctx context.Context) {
	s.chatter(ctx, "cam", camFrame, func(c *botConn, n int) error {
		if n%3 == 1 {
			// Uncompressed, so that the frames are as long as the
			// buffer: a fragmented message.
			c.EnableWriteCompression(false)
			defer c.EnableWriteCompression(true)
			return c.WriteMessage(websocket.TextMessage, []byte(story))
		}
		// A sensor reading: sequence number, temperature, humidity as
		// big-endian numbers.
		reading := make([]byte, 0, 20)
		reading = binary.BigEndian.AppendUint32(reading, uint32(n+1))
		reading = binary.BigEndian.AppendUint64(reading, math.Float64bits(20+5*math.Sin(float64(n)/3)))
		reading = binary.BigEndian.AppendUint64(reading, math.Float64bits(40+10*math.Cos(float64(n)/5)))
		return c.WriteMessage(websocket.BinaryMessage, reading)
	})
}

func (s *Server) dee(ctx context.Context) {
	for visit := 1; ; visit++ {
		if !pause(ctx, s.opts.Pace/4) {
			return
		}
		c, err := s.dial(ctx, "dee", 0)
		if err != nil {
			s.logf("%v", err)
			return
		}
		if err := c.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf("hi, dee here (visit %d)", visit))); err != nil {
			s.logf("demo: bot dee: %v", err)
			c.Close()
			return
		}
		if !pause(ctx, s.opts.Pace) {
			c.leave(websocket.CloseNormalClosure, "bye, the demo is over")
			return
		}
		_ = c.WriteMessage(websocket.TextMessage, []byte("coffee time, back soon"))
		c.leave(CodeCoffeeBreak, "coffee break")
		if !pause(ctx, 2*s.opts.Pace) {
			return
		}
	}
}
