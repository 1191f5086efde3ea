package ui

import (
	"slices"
	"strings"

	"github.com/wsviz/wsviz/analyze"
)

// Connection states, as shown in the connections table and as the colour of
// each lane. Each says what happened to the connection as a whole; when
// several apply, the first of this list that does wins (a refused upgrade is
// refused even though TCP then closed with FIN).
//
// An HTTP/2 connection that carried WebSockets (RFC 8441, one per stream)
// is a WebSocket connection, whose state sums up its streams' (connInfo.state):
// reset when TCP was reset or a WebSocket's stream was reset with an error
// code (RST_STREAM other than NO_ERROR); then gap; open while a WebSocket's
// stream is open and TCP is not over; unclean when a WebSocket's stream
// ended without Close messages both ways, or TCP ended with FIN while one
// was open without them; ended when the capture ended (or evicted the
// connection) while one was open; closed when every WebSocket sent and
// received Close and its stream ended (END_STREAM both ways, or RST_STREAM
// NO_ERROR after both Close messages, as Chromium's servers do), or TCP
// ended with FIN after them. An HTTP/2 connection without a WebSocket is in
// state handshake while an extended CONNECT for one awaits its answer,
// rejected when one was refused (a final status other than 2xx, RFC 8441
// §5), else StateHTTP2.
const (
	StateTCP       = "tcp"       // a TCP connection with no HTTP or WebSocket seen (yet)
	StateHandshake = "handshake" // an upgrade request (or extended CONNECT) without an answer yet
	StateHTTP      = "http"      // plain HTTP: requests without an upgrade, answered as HTTP (request/response)
	StateRejected  = "rejected"  // refused: the server answered the upgrade request with another status than 101 (an extended CONNECT with another than 2xx)
	StateReset     = "reset"     // ended by a TCP RST, or a WebSocket's HTTP/2 stream reset with an error code
	StateGap       = "gap"       // damaged: bytes of the connection were never captured (tcp.gap)
	StateMidstream = "midstream" // a WebSocket found mid-stream (no handshake captured) that did not close cleanly
	StateOpen      = "open"      // upgraded: a WebSocket that had not ended when last seen
	StateClosed    = "closed"    // closed cleanly: Close both ways, then TCP FIN (RFC 6455 §7.1.1), or on HTTP/2 the stream's end
	StateUnclean   = "unclean"   // TCP FIN (on HTTP/2, the stream's end) without the Close handshake (RFC 6455 §7.1.5)
	StateEnded     = "ended"     // the capture ended (or the connection was evicted) while open
	StateTLS       = "tls"       // TLS whose records could not be read (no keys): only their sizes and times are known
	StateHTTP2     = "h2"        // HTTP/2 (ALPN h2, prior knowledge, or 101 to h2c) that carried no WebSocket: its requests and responses are decoded
)

// connInfo sums up one connection for the connections table. It is kept for
// every connection, including those whose events are past the event limit.
type connInfo struct {
	ID          int     `json:"id"`
	Client      string  `json:"client"`
	Server      string  `json:"server"`
	SYN         bool    `json:"syn"`
	Host        string  `json:"host"`
	Path        string  `json:"path"`
	Subprotocol string  `json:"subprotocol"`
	Extensions  string  `json:"extensions"`
	Status      int     `json:"status"`
	WS          bool    `json:"ws"`
	Midstream   bool    `json:"midstream"`
	How         string  `json:"how"`
	CloseSent   [2]bool `json:"close_sent"` // a Close message came from the client, the server
	CloseCode   int     `json:"close_code"`
	// Requests counts the HTTP requests (HTTP/2's included); Upgrade
	// reports whether the last one asked for a WebSocket (Upgrade:
	// websocket, or on HTTP/2 an extended CONNECT with :protocol
	// websocket, RFC 8441 §4).
	Requests int  `json:"requests"`
	Upgrade  bool `json:"upgrade"`
	// Gaps counts the tcp.gap events: bytes of the connection never
	// captured.
	Gaps     int64    `json:"gaps"`
	Messages [2]int64 `json:"messages"` // by direction: client, server
	// Bytes counts message payload bytes by direction as delivered
	// (inflated); WireBytes as sent on the wire (compressed, without
	// frame headers).
	Bytes     [2]int64 `json:"bytes"`
	WireBytes [2]int64 `json:"wire_bytes"`
	Warnings  int64    `json:"warnings"`
	Events    int64    `json:"events"`
	First     float64  `json:"first"` // microseconds since the capture's first event
	Last      float64  `json:"last"`
	State     string   `json:"state"`
	// TLS is the connection's TLS version ("TLS 1.3"; "TLS" when the
	// hellos were not captured), "" for a connection without TLS;
	// TLSKeys reports that its records were decrypted; SNI is the server
	// name the client asked for.
	TLS     string `json:"tls,omitempty"`
	TLSKeys bool   `json:"tls_keys,omitempty"`
	SNI     string `json:"sni,omitempty"`
	// HTTP2 reports that the connection speaks HTTP/2 (SpeaksHTTP2).
	HTTP2 bool `json:"h2,omitempty"`
	// WSStreams counts the WebSockets the connection carried on HTTP/2
	// streams (RFC 8441), one per ws.open; Path, Subprotocol, Extensions
	// and Status are then the first one's, and Stream its stream. 0 on
	// HTTP/1.1.
	WSStreams int    `json:"ws_streams,omitempty"`
	Stream    uint32 `json:"stream,omitempty"`

	h2 *h2Conn // what the state of an HTTP/2 connection needs, nil until it speaks HTTP/2
}

// h2Conn is what connInfo keeps of an HTTP/2 connection's streams: those
// whose WebSocket request awaits its answer or whose WebSocket is open
// (at most maxH2Tracked of each: the analyzer tracks at most 64 at
// once), and how the ended WebSockets ended.
type h2Conn struct {
	connects map[uint32]bool     // extended CONNECTs for a WebSocket awaiting their final answer
	open     map[uint32]*[2]bool // open WebSockets: a Close message came from the client, the server
	refused  int                 // extended CONNECTs answered with a final status other than 2xx
	reset    int                 // WebSockets whose stream was reset with an error code other than NO_ERROR
	unclean  int                 // WebSockets whose stream ended without Close messages both ways
}

// maxH2Tracked bounds the streams an h2Conn tracks of each kind.
const maxH2Tracked = 1024

// isUpgradeRequest reports whether h asks to switch to WebSocket.
func isUpgradeRequest(h map[string][]string) bool { return hasToken(h["Upgrade"], "websocket") }

// hasToken reports whether the comma-separated values hold token, in any
// case.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), token) {
				return true
			}
		}
	}
	return false
}

// update folds ev into the summary. t0 is the capture's first event time.
func (c *connInfo) update(ev *analyze.Event, t0 int64) {
	t := float64(ev.Time.UnixNano()-t0) / 1e3
	if c.Events == 0 || t < c.First {
		c.First = t
	}
	if c.Events == 0 || t > c.Last {
		c.Last = t
	}
	c.Events++
	c.Warnings += int64(len(ev.Warnings))
	dir := -1
	switch ev.From {
	case analyze.FromClient:
		dir = 0
	case analyze.FromServer:
		dir = 1
	}
	switch ev.Type {
	case analyze.TypeTCPOpen:
		c.Client, c.Server, c.SYN = ev.TCPOpen.Client, ev.TCPOpen.Server, ev.TCPOpen.SYN
	case analyze.TypeTCPClose:
		c.How = ev.TCPClose.How
	case analyze.TypeTCPGap:
		c.Gaps++
	case analyze.TypeHTTPRequest:
		c.Requests++
		c.Upgrade = isUpgradeRequest(ev.HTTP.Header) || isWebSocketConnect(ev)
		if ev.Stream != 0 && isWebSocketConnect(ev) {
			if h := c.http2(); len(h.connects) < maxH2Tracked {
				h.connects[ev.Stream] = true
			}
		}
		if c.WS {
			// An HTTP/2 connection's later requests: the table names
			// its first WebSocket.
			break
		}
		c.Path = ev.HTTP.Target
		if h := ev.HTTP.Header; h != nil {
			c.Host = h.Get("Host")
			if c.Host == "" && len(h[":authority"]) > 0 {
				c.Host = h[":authority"][0] // RFC 9113 §8.3.1
			}
		}
	case analyze.TypeHTTPResponse:
		if ev.Stream == 0 {
			c.Status = ev.HTTP.Status
			break
		}
		h := c.http2()
		switch {
		case h.connects[ev.Stream]:
			if ev.HTTP.Status >= 200 {
				delete(h.connects, ev.Stream)
				if ev.HTTP.Status > 299 {
					h.refused++
				}
			}
			if !c.WS {
				c.Status = ev.HTTP.Status
			}
		case !c.WS && h.refused == 0:
			c.Status = ev.HTTP.Status
		}
	case analyze.TypeWSOpen:
		if ev.Stream != 0 {
			c.WSStreams++
			if h := c.http2(); len(h.open) < maxH2Tracked {
				h.open[ev.Stream] = new([2]bool)
			}
			if c.WS {
				break // the table names the first WebSocket
			}
			c.Stream = ev.Stream
		}
		c.WS = true
		c.Midstream = ev.WSOpen.Midstream
		if ev.WSOpen.Path != "" {
			c.Path = ev.WSOpen.Path
		}
		c.Subprotocol = ev.WSOpen.Subprotocol
		c.Extensions = ev.WSOpen.Extensions
	case analyze.TypeH2StreamClose:
		h := c.http2()
		delete(h.connects, ev.Stream) // a request reset before its answer gets none
		sent, ok := h.open[ev.Stream]
		if !ok {
			break
		}
		delete(h.open, ev.Stream)
		switch {
		case ev.H2Close.How == analyze.CloseRSTStream && ev.H2Close.ErrorCode != "NO_ERROR":
			h.reset++
		case !sent[0] || !sent[1]:
			h.unclean++
		}
	case analyze.TypeTLSHandshake:
		c.TLS, c.TLSKeys, c.SNI = ev.TLS.Version, ev.TLS.Keys, ev.TLS.SNI
		if c.TLS == "" {
			c.TLS = "TLS"
		}

	case analyze.TypeWSMessage:
		if dir >= 0 {
			c.Messages[dir]++
			c.Bytes[dir] += ev.Message.Len
			c.WireBytes[dir] += ev.Message.WireLen
			if ev.Message.Opcode == "close" {
				c.CloseSent[dir] = true
				if c.CloseCode == 0 {
					c.CloseCode = ev.Message.Code
				}
				if sent := c.h2Open(ev.Stream); sent != nil {
					sent[dir] = true
				}
			}
		}
	}
	c.HTTP2 = c.HTTP2 || SpeaksHTTP2(ev)
	c.State = c.state()
}

// http2 returns what c keeps of its HTTP/2 streams, made on first use.
func (c *connInfo) http2() *h2Conn {
	if c.h2 == nil {
		c.h2 = &h2Conn{connects: map[uint32]bool{}, open: map[uint32]*[2]bool{}}
	}
	return c.h2
}

// h2Open returns the Close messages seen of the open WebSocket on stream
// id, nil when there is none.
func (c *connInfo) h2Open(id uint32) *[2]bool {
	if id == 0 || c.h2 == nil {
		return nil
	}
	return c.h2.open[id]
}

// answersWebSocketRequest reports whether ev, an http.response, answers a
// request for a WebSocket: the upgrade request before it on HTTP/1.1, the
// extended CONNECT of its stream on HTTP/2. Call it before update(ev).
func (c *connInfo) answersWebSocketRequest(ev *analyze.Event) bool {
	if ev.Stream == 0 {
		return c.Upgrade
	}
	return c.h2 != nil && c.h2.connects[ev.Stream]
}

// isWebSocketConnect reports whether ev, an http.request, is an HTTP/2
// extended CONNECT that asks for a WebSocket (RFC 8441 §4).
func isWebSocketConnect(ev *analyze.Event) bool {
	return ev.HTTP.Method == "CONNECT" && slices.ContainsFunc(ev.HTTP.Header[":protocol"], func(p string) bool { return strings.EqualFold(p, "websocket") })
}

// ConnState names a connection's state from its events as the timeline's
// connections table does: wsviz stats uses it, so that both say the same.
// The zero value is a connection with no event yet (StateTCP).
type ConnState struct{ c connInfo }

// Update folds in ev, the connection's next event.
func (s *ConnState) Update(ev *analyze.Event) { s.c.update(ev, 0) }

// State returns the connection's state after the events so far, one of
// the State* constants.
func (s *ConnState) State() string {
	if s.c.Events == 0 {
		return StateTCP
	}
	return s.c.State
}

// WebSocket reports whether the connection's upgrade to WebSocket was
// seen (ws.open), whatever its state now.
func (s *ConnState) WebSocket() bool { return s.c.WS }

// SpeaksHTTP2 reports whether ev shows its connection speaking HTTP/2: a
// TLS handshake that chose h2 (ALPN), an event of an HTTP/2 stream (an
// HTTP/2 request or response, a WebSocket over HTTP/2 and its stream's
// end), or a 101 response switching to h2c (RFC 7540 §3.2). Without a
// WebSocket the connection is then in state StateHTTP2, here and in wsviz
// stats.
func SpeaksHTTP2(ev *analyze.Event) bool {
	if ev.Stream != 0 {
		return true
	}
	switch ev.Type {
	case analyze.TypeTLSHandshake:
		return ev.TLS.ALPN == "h2"
	case analyze.TypeHTTPRequest:
		return ev.HTTP.Proto == "HTTP/2"
	case analyze.TypeHTTPResponse:
		return ev.HTTP.Proto == "HTTP/2" || ev.HTTP.Status == 101 && hasToken(ev.HTTP.Header["Upgrade"], "h2c")
	}
	return false
}

func (c *connInfo) state() string {
	switch {
	case c.WS && c.WSStreams > 0:
		return c.h2State()
	case c.WS:
		// The WebSocket cases below.
	case c.HTTP2 && c.h2 != nil && len(c.h2.connects) > 0:
		if c.How == analyze.CloseRST {
			return StateReset
		}
		return StateHandshake
	case c.HTTP2 && c.h2 != nil && c.h2.refused > 0:
		return StateRejected
	case c.HTTP2:
		return StateHTTP2
	case c.Upgrade && c.Status != 0 && c.Status != 101:
		return StateRejected
	case c.Requests > 0 && !c.Upgrade:
		return StateHTTP
	case c.Upgrade:
		if c.How == analyze.CloseRST {
			return StateReset
		}
		return StateHandshake
	case c.How == analyze.CloseRST:
		return StateReset
	case c.Gaps > 0:
		return StateGap
	case c.TLS != "":
		return StateTLS
	default:
		return StateTCP
	}
	switch {
	case c.How == analyze.CloseRST:
		return StateReset
	case c.Gaps > 0:
		return StateGap
	case c.How == analyze.CloseFIN && c.CloseSent[0] && c.CloseSent[1]:
		return StateClosed
	case c.Midstream:
		return StateMidstream
	case c.How == analyze.CloseFIN:
		return StateUnclean
	case c.How == analyze.CloseEnd || c.How == analyze.CloseEvicted:
		return StateEnded
	}
	return StateOpen
}

// h2State is the state of an HTTP/2 connection that carried WebSockets:
// see the State constants.
func (c *connInfo) h2State() string {
	h := c.http2()
	switch {
	case c.How == analyze.CloseRST || h.reset > 0:
		return StateReset
	case c.Gaps > 0:
		return StateGap
	case len(h.open) > 0 && c.How == "":
		return StateOpen
	case h.unclean > 0:
		return StateUnclean
	case len(h.open) == 0:
		return StateClosed
	}
	// TCP ended while WebSockets were open.
	switch c.How {
	case analyze.CloseFIN:
		for _, sent := range h.open {
			if !sent[0] || !sent[1] {
				return StateUnclean
			}
		}
		return StateClosed
	case analyze.CloseEnd, analyze.CloseEvicted:
		return StateEnded
	}
	return StateOpen
}

// upgradeFlag returns flagUpgrade for an event the page draws as part of
// a request for a WebSocket, before c folds ev in: an upgrade request (an
// extended CONNECT on HTTP/2), and a response that answers one. A response
// is drawn as a refused upgrade only when it answers such a request; plain
// HTTP is request and response, not a failure.
func upgradeFlag(c *connInfo, ev *analyze.Event) uint8 {
	switch {
	case ev.Type == analyze.TypeHTTPRequest && (isUpgradeRequest(ev.HTTP.Header) || isWebSocketConnect(ev)):
		return flagUpgrade
	case ev.Type == analyze.TypeHTTPResponse && c.answersWebSocketRequest(ev):
		return flagUpgrade
	}
	return 0
}
