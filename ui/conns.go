package ui

import (
	"github.com/wsviz/wsviz/analyze"
)

// Connection states, as shown in the connections table.
const (
	StateTCP       = "tcp"       // a TCP connection with no WebSocket seen (yet)
	StateHandshake = "handshake" // an upgrade request without an answer yet
	StateOpen      = "open"      // a WebSocket that had not ended when last seen
	StateClosed    = "closed"    // closed cleanly: Close both ways, then TCP FIN (RFC 6455 §7.1.1)
	StateUnclean   = "unclean"   // TCP FIN without the Close handshake (RFC 6455 §7.1.5)
	StateReset     = "reset"     // ended by a TCP RST
	StateRejected  = "rejected"  // the server answered the upgrade with another status than 101
	StateEnded     = "ended"     // the capture ended (or the connection was evicted) while open
)

// connInfo sums up one connection for the connections table. It is kept for
// every connection, including those whose events are past the event limit.
type connInfo struct {
	ID          int      `json:"id"`
	Client      string   `json:"client"`
	Server      string   `json:"server"`
	SYN         bool     `json:"syn"`
	Host        string   `json:"host"`
	Path        string   `json:"path"`
	Subprotocol string   `json:"subprotocol"`
	Extensions  string   `json:"extensions"`
	Status      int      `json:"status"`
	WS          bool     `json:"ws"`
	Midstream   bool     `json:"midstream"`
	How         string   `json:"how"`
	CloseSent   [2]bool  `json:"close_sent"` // a Close message came from the client, the server
	CloseCode   int      `json:"close_code"`
	Messages    [2]int64 `json:"messages"` // by direction: client, server
	Bytes       [2]int64 `json:"bytes"`    // message payload bytes by direction
	Warnings    int64    `json:"warnings"`
	Events      int64    `json:"events"`
	First       float64  `json:"first"` // microseconds since the capture's first event
	Last        float64  `json:"last"`
	State       string   `json:"state"`
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
	case analyze.TypeHTTPRequest:
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
	case analyze.TypeWSMessage:
		if dir >= 0 {
			c.Messages[dir]++
			c.Bytes[dir] += ev.Message.Len
			if ev.Message.Opcode == "close" {
				c.CloseSent[dir] = true
				if c.CloseCode == 0 {
					c.CloseCode = ev.Message.Code
				}
			}
		}
	}
	c.State = c.state()
}

func (c *connInfo) state() string {
	switch {
	case c.Status != 0 && c.Status != 101:
		return StateRejected
	case c.How == analyze.CloseRST:
		return StateReset
	case c.How == analyze.CloseEnd || c.How == analyze.CloseEvicted:
		if !c.WS {
			return StateTCP
		}
		return StateEnded
	case c.How == analyze.CloseFIN:
		if !c.WS {
			return StateTCP
		}
		if c.CloseSent[0] && c.CloseSent[1] {
			return StateClosed
		}
		return StateUnclean
	case c.WS:
		return StateOpen
	case c.Path != "":
		return StateHandshake
	}
	return StateTCP
}
