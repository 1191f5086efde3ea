package browsertests

import (
	"fmt"
	"net/http"
	"time"

	"github.com/wsviz/wsviz/analyze"
)

// SynthOptions shapes a synthetic stream of events.
type SynthOptions struct {
	Conns    int           // connections
	Messages int           // messages per connection, alternating sides
	Start    time.Time     // time of the first event
	Gap      time.Duration // time between two messages of a connection
	Stagger  time.Duration // time between the starts of two connections
	// Text returns the payload of message m of connection c; nil means a
	// short JSON text.
	Text func(c, m int) []byte
}

// Synth emits the events the analyzer would emit for opts.Conns clean
// WebSocket connections: TCP open, upgrade request and 101, ws.open, then
// messages (each preceded by its frame), a Close both ways, and TCP FIN.
// Every sixth message is binary, every tenth a ping answered by a pong. It
// is for developing and measuring the page without a capture; the browser
// tests use real captures through analyze.
func Synth(opts SynthOptions, emit func(*analyze.Event)) {
	if opts.Start.IsZero() {
		opts.Start = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	}
	if opts.Gap == 0 {
		opts.Gap = 5 * time.Millisecond
	}
	if opts.Stagger == 0 {
		opts.Stagger = 20 * time.Millisecond
	}
	type connState struct {
		id     int
		t      time.Time
		m      int
		pkt    int64
		client string
		done   bool
	}
	var pkt int64
	next := func() int64 { pkt++; return pkt }
	ev := &analyze.Event{}
	reset := func(typ string, c *connState, from string) {
		*ev = analyze.Event{Type: typ, Time: c.t, Conn: c.id, From: from, Packet: next()}
	}
	conns := make([]*connState, opts.Conns)
	for i := range conns {
		conns[i] = &connState{id: i + 1, t: opts.Start.Add(time.Duration(i) * opts.Stagger), client: fmt.Sprintf("127.0.0.1:%d", 50000+i)}
	}
	server := "127.0.0.1:9001"
	open := func(c *connState) {
		reset(analyze.TypeTCPOpen, c, "")
		ev.TCPOpen = analyze.TCPOpen{Client: c.client, Server: server, SYN: true}
		ev.Note = "TCP connection opened: SYN, SYN-ACK, ACK seen"
		emit(ev)
		c.t = c.t.Add(200 * time.Microsecond)
		reset(analyze.TypeHTTPRequest, c, analyze.FromClient)
		ev.HTTP = analyze.HTTP{Method: "GET", Target: "/chat", Proto: "HTTP/1.1", Header: http.Header{
			"Host": {"127.0.0.1:9001"}, "Upgrade": {"websocket"}, "Connection": {"Upgrade"},
			"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, "Sec-Websocket-Version": {"13"},
		}}
		ev.Note = "the client asks to switch this HTTP connection to WebSocket"
		emit(ev)
		c.t = c.t.Add(300 * time.Microsecond)
		reset(analyze.TypeHTTPResponse, c, analyze.FromServer)
		ev.HTTP = analyze.HTTP{Status: 101, Reason: "Switching Protocols", Proto: "HTTP/1.1", Header: http.Header{
			"Upgrade": {"websocket"}, "Connection": {"Upgrade"}, "Sec-Websocket-Accept": {"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
		}}
		ev.Note = "the server agrees: from here on the connection carries WebSocket frames"
		emit(ev)
		reset(analyze.TypeWSOpen, c, "")
		ev.WSOpen = analyze.WSOpen{Path: "/chat", Accept: "ok"}
		ev.Note = "WebSocket open: Sec-WebSocket-Accept matches the key"
		emit(ev)
	}
	message := func(c *connState, from string, opcode uint8, name string, payload []byte) {
		c.t = c.t.Add(opts.Gap)
		masked := from == analyze.FromClient
		reset(analyze.TypeWSFrame, c, from)
		ev.Frame = analyze.Frame{Fin: true, Opcode: opcode, Masked: masked, Len: uint64(len(payload))}
		if masked {
			ev.Frame.Mask = [4]byte{0x37, 0xfa, 0x21, 0x3d}
		}
		ev.Note = fmt.Sprintf("%s frame, %d bytes, final", name, len(payload))
		emit(ev)
		p := ev.Packet
		reset(analyze.TypeWSMessage, c, from)
		ev.Packet = p
		ev.Message = analyze.Message{Opcode: name, Len: int64(len(payload)), WireLen: int64(len(payload)),
			Frames: 1, Packets: []int64{p}, Payload: payload}
		ev.Note = fmt.Sprintf("%s message from the %s, %d bytes", name, from, len(payload))
		if name == "close" {
			ev.Message.Code = 1000
			ev.Message.Reason = "bye"
		}
		emit(ev)
	}
	for {
		// Interleave the connections in time order, as a capture would.
		var c *connState
		for _, x := range conns {
			if !x.done && (c == nil || x.t.Before(c.t)) {
				c = x
			}
		}
		if c == nil {
			break
		}
		switch {
		case c.m == 0:
			open(c)
		case c.m <= opts.Messages:
			m := c.m - 1
			from := analyze.FromClient
			if m%2 == 1 {
				from = analyze.FromServer
			}
			switch {
			case m%10 == 8:
				message(c, analyze.FromClient, 0x9, "ping", []byte("hb"))
			case m%10 == 9:
				message(c, analyze.FromServer, 0xa, "pong", []byte("hb"))
			case m%6 == 5:
				b := make([]byte, 16+m%64)
				for i := range b {
					b[i] = byte(i * 7)
				}
				message(c, from, 0x2, "binary", b)
			default:
				var p []byte
				if opts.Text != nil {
					p = opts.Text(c.id, m)
				}
				if p == nil {
					p = fmt.Appendf(nil, `{"seq":%d,"conn":%d,"msg":"hello from the %s"}`, m, c.id, from)
				}
				message(c, from, 0x1, "text", p)
			}
		default:
			close := []byte{0x03, 0xe8, 'b', 'y', 'e'}
			message(c, analyze.FromClient, 0x8, "close", close)
			message(c, analyze.FromServer, 0x8, "close", close)
			c.t = c.t.Add(time.Millisecond)
			reset(analyze.TypeTCPClose, c, "")
			ev.TCPClose = analyze.TCPClose{How: analyze.CloseFIN, ClientBytes: 1000, ServerBytes: 1000}
			ev.Note = "TCP connection closed with FIN both ways"
			emit(ev)
			c.done = true
		}
		c.m++
	}
}
