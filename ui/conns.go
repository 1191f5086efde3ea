package ui

import (
	"strings"

	"github.com/wsviz/wsviz/analyze"
)

// Connection states, as shown in the connections table and as the colour of
// each lane. Each says what happened to the connection as a whole; when
// several apply, the first of this list that does wins (a refused upgrade is
// refused even though TCP then closed with FIN).
const (
	StateTCP       = "tcp"       // a TCP connection with no HTTP or WebSocket seen (yet)
	StateHandshake = "handshake" // an upgrade request without an answer yet
	StateHTTP      = "http"      // plain HTTP: requests without an upgrade, answered as HTTP (request/response)
	StateRejected  = "rejected"  // refused: the server answered the upgrade request with another status than 101
	StateReset     = "reset"     // ended by a TCP RST
	StateGap       = "gap"       // damaged: bytes of the connection were never captured (tcp.gap)
	StateMidstream = "midstream" // a WebSocket found mid-stream (no handshake captured) that did not close cleanly
	StateOpen      = "open"      // upgraded: a WebSocket that had not ended when last seen
	StateClosed    = "closed"    // closed cleanly: Close both ways, then TCP FIN (RFC 6455 §7.1.1)
	StateUnclean   = "unclean"   // TCP FIN without the Close handshake (RFC 6455 §7.1.5)
	StateEnded     = "ended"     // the capture ended (or the connection was evicted) while open
	StateTLS       = "tls"       // TLS whose records could not be read (no keys): only their sizes and times are known
	StateHTTP2     = "h2"        // HTTP/2 (ALPN h2, or a cleartext connection opened with its preface): WebSocket over HTTP/2 is not decoded
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
	// Requests counts the HTTP requests; Upgrade reports whether the last
	// one asked to switch to WebSocket (Upgrade: websocket).
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
	// HTTP2 reports that the connection speaks HTTP/2: its TLS handshake
	// chose h2, or its client opened it with HTTP/2's preface
	// (http.h2_preface).
	HTTP2 bool `json:"h2,omitempty"`
}

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
		c.Upgrade = isUpgradeRequest(ev.HTTP.Header)
		c.Path = ev.HTTP.Target
		if h := ev.HTTP.Header; h != nil {
			c.Host = h.Get("Host")
		}
	case analyze.TypeHTTPResponse:
		c.Status = ev.HTTP.Status
	case analyze.TypeWSOpen:
		c.WS = true
		c.Midstream = ev.WSOpen.Midstream
		if ev.WSOpen.Path != "" {
			c.Path = ev.WSOpen.Path
		}
		c.Subprotocol = ev.WSOpen.Subprotocol
		c.Extensions = ev.WSOpen.Extensions
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
			}
		}
	}
	c.HTTP2 = c.HTTP2 || SpeaksHTTP2(ev)
	c.State = c.state()
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
// TLS handshake that chose h2 (ALPN), a client that opened the connection
// with HTTP/2's preface (http.h2_preface), or a 101 response switching to
// h2c (RFC 7540 §3.2). The connection is then in state StateHTTP2, here
// and in wsviz stats.
func SpeaksHTTP2(ev *analyze.Event) bool {
	switch ev.Type {
	case analyze.TypeTLSHandshake:
		return ev.TLS.ALPN == "h2"
	case analyze.TypeHTTPError:
		return ev.HasWarning("http.h2_preface")
	case analyze.TypeHTTPResponse:
		return ev.HTTP.Status == 101 && hasToken(ev.HTTP.Header["Upgrade"], "h2c")
	}
	return false
}

func (c *connInfo) state() string {
	switch {
	case c.WS:
		// The WebSocket cases below.
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
