package ui

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/wsviz/wsviz/analyze"
)

// HAR collects the WebSocket connections of a stream of events and writes
// them as an HTTP Archive (HAR 1.2) log, one entry per connection, in the
// form Chrome DevTools exports: "_resourceType": "websocket" and the
// messages in "_webSocketMessages", so that other HAR tools open them.
//
// Only text and binary messages are listed (opcodes 1 and 2), as DevTools
// does; a binary payload is base64. A payload cut by the analyzer's
// MaxPayload is exported as cut and the message marked "_truncated".
// Connections with neither an upgrade request nor a WebSocket are left
// out.
//
// A HAR keeps every message payload it is given in memory until WriteTo.
type HAR struct {
	conns map[int]*harConn
	order []int
}

type harConn struct {
	client, server string
	start          time.Time
	req            *analyze.HTTP
	reqTime        time.Time
	resp           *analyze.HTTP
	respTime       time.Time
	ws             bool
	midstream      bool
	path           string
	msgs           []harMessage
}

// harMessage is one entry of _webSocketMessages.
type harMessage struct {
	Type      string  `json:"type"` // "send" (client to server) or "receive"
	Time      float64 `json:"time"` // Unix seconds
	Opcode    int     `json:"opcode"`
	Data      string  `json:"data"`
	Truncated bool    `json:"_truncated,omitempty"`
}

// NewHAR returns an empty HAR.
func NewHAR() *HAR {
	return &HAR{conns: make(map[int]*harConn)}
}

// Add folds one event in. It copies what it keeps, so ev may be reused.
func (h *HAR) Add(ev *analyze.Event) {
	if ev.Conn == 0 {
		return
	}
	c := h.conns[ev.Conn]
	if c == nil {
		c = &harConn{start: ev.Time}
		h.conns[ev.Conn] = c
		h.order = append(h.order, ev.Conn)
	}
	switch ev.Type {
	case analyze.TypeTCPOpen:
		c.client, c.server = ev.TCPOpen.Client, ev.TCPOpen.Server
	case analyze.TypeHTTPRequest:
		if c.req == nil {
			r := ev.HTTP
			r.Header = ev.HTTP.Header.Clone()
			c.req, c.reqTime = &r, ev.Time
		}
	case analyze.TypeHTTPResponse:
		if c.resp == nil {
			r := ev.HTTP
			r.Header = ev.HTTP.Header.Clone()
			c.resp, c.respTime = &r, ev.Time
		}
	case analyze.TypeWSOpen:
		c.ws, c.midstream, c.path = true, ev.WSOpen.Midstream, ev.WSOpen.Path
	case analyze.TypeWSMessage:
		m := &ev.Message
		var op int
		var data string
		switch m.Opcode {
		case "text":
			op, data = opText, strings.ToValidUTF8(string(m.Payload), "\uFFFD")
		case "binary":
			op, data = opBinary, base64.StdEncoding.EncodeToString(m.Payload)
		default:
			return
		}
		typ := "receive"
		if ev.From == analyze.FromClient {
			typ = "send"
		}
		c.msgs = append(c.msgs, harMessage{
			Type:      typ,
			Time:      float64(ev.Time.UnixNano()) / 1e9,
			Opcode:    op,
			Data:      data,
			Truncated: m.Truncated,
		})
	}
}

// HAR 1.2 objects (http://www.softwareishard.com/blog/har-12-spec/).
type (
	harLog struct {
		Log harBody `json:"log"`
	}
	harBody struct {
		Version string     `json:"version"`
		Creator harCreator `json:"creator"`
		Pages   []struct{} `json:"pages"`
		Entries []harEntry `json:"entries"`
	}
	harCreator struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	harEntry struct {
		ResourceType      string       `json:"_resourceType"`
		WebSocketMessages []harMessage `json:"_webSocketMessages"`
		StartedDateTime   string       `json:"startedDateTime"`
		Time              float64      `json:"time"`
		Request           harRequest   `json:"request"`
		Response          harResponse  `json:"response"`
		Cache             struct{}     `json:"cache"`
		Timings           harTimings   `json:"timings"`
		ServerIPAddress   string       `json:"serverIPAddress,omitempty"`
		Connection        string       `json:"connection,omitempty"`
		Comment           string       `json:"comment,omitempty"`
	}
	harRequest struct {
		Method      string     `json:"method"`
		URL         string     `json:"url"`
		HTTPVersion string     `json:"httpVersion"`
		Cookies     []struct{} `json:"cookies"`
		Headers     []harPair  `json:"headers"`
		QueryString []harPair  `json:"queryString"`
		HeadersSize int        `json:"headersSize"`
		BodySize    int        `json:"bodySize"`
	}
	harResponse struct {
		Status      int        `json:"status"`
		StatusText  string     `json:"statusText"`
		HTTPVersion string     `json:"httpVersion"`
		Cookies     []struct{} `json:"cookies"`
		Headers     []harPair  `json:"headers"`
		Content     harContent `json:"content"`
		RedirectURL string     `json:"redirectURL"`
		HeadersSize int        `json:"headersSize"`
		BodySize    int        `json:"bodySize"`
	}
	harPair struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	harContent struct {
		Size     int    `json:"size"`
		MimeType string `json:"mimeType"`
	}
	harTimings struct {
		Blocked float64 `json:"blocked"`
		DNS     float64 `json:"dns"`
		Connect float64 `json:"connect"`
		Send    float64 `json:"send"`
		Wait    float64 `json:"wait"`
		Receive float64 `json:"receive"`
		SSL     float64 `json:"ssl"`
	}
)

// harTimeLayout is ISO 8601 with milliseconds, as browsers write it.
const harTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// WriteTo writes the log as JSON.
func (h *HAR) WriteTo(w io.Writer) (int64, error) {
	log := harLog{Log: harBody{
		Version: "1.2",
		Creator: harCreator{Name: "wsviz", Version: "1"},
		Pages:   []struct{}{},
		Entries: []harEntry{},
	}}
	for _, id := range h.order {
		c := h.conns[id]
		if !c.ws && !(c.req != nil && isUpgrade(c.req.Header)) {
			continue
		}
		log.Log.Entries = append(log.Log.Entries, c.entry())
	}
	cw := &countWriter{w: w}
	enc := json.NewEncoder(cw)
	enc.SetIndent("", "  ")
	err := enc.Encode(&log)
	return cw.n, err
}

func isUpgrade(h http.Header) bool {
	for _, v := range h.Values("Upgrade") {
		if strings.EqualFold(strings.TrimSpace(v), "websocket") {
			return true
		}
	}
	return false
}

func (c *harConn) entry() harEntry {
	e := harEntry{
		ResourceType:      "websocket",
		WebSocketMessages: c.msgs,
		StartedDateTime:   c.start.UTC().Format(harTimeLayout),
		Request: harRequest{
			Method: "GET", HTTPVersion: "HTTP/1.1",
			Cookies: []struct{}{}, Headers: []harPair{}, QueryString: []harPair{},
			HeadersSize: -1,
		},
		Response: harResponse{
			HTTPVersion: "HTTP/1.1",
			Cookies:     []struct{}{}, Headers: []harPair{},
			Content:     harContent{MimeType: "x-unknown"},
			HeadersSize: -1,
		},
		Timings: harTimings{Blocked: -1, DNS: -1, Connect: -1, SSL: -1},
	}
	if e.WebSocketMessages == nil {
		e.WebSocketMessages = []harMessage{}
	}
	host, target := c.server, c.path
	if r := c.req; r != nil {
		e.StartedDateTime = c.reqTime.UTC().Format(harTimeLayout)
		e.Request.Method, target = r.Method, r.Target
		if r.Proto != "" {
			e.Request.HTTPVersion = r.Proto
		}
		e.Request.Headers = harHeaders(r.Header)
		if hh := r.Header.Get("Host"); hh != "" {
			host = hh
		}
	}
	if target == "" {
		target = "/"
	}
	u := "ws://" + host + target
	e.Request.URL = u
	if pu, err := url.Parse(u); err == nil {
		q := pu.Query()
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			for _, v := range q[k] {
				e.Request.QueryString = append(e.Request.QueryString, harPair{k, v})
			}
		}
	}
	if r := c.resp; r != nil {
		e.Response.Status, e.Response.StatusText = r.Status, r.Reason
		if r.Proto != "" {
			e.Response.HTTPVersion = r.Proto
		}
		e.Response.Headers = harHeaders(r.Header)
		if c.req != nil {
			wait := float64(c.respTime.Sub(c.reqTime)) / float64(time.Millisecond)
			e.Time, e.Timings.Wait = wait, wait
		}
	}
	if srv := c.server; srv != "" {
		if i := strings.LastIndexByte(srv, ':'); i > 0 {
			e.ServerIPAddress = strings.TrimSuffix(strings.TrimPrefix(srv[:i], "["), "]")
		}
	}
	if cl := c.client; cl != "" {
		if i := strings.LastIndexByte(cl, ':'); i >= 0 {
			e.Connection = cl[i+1:]
		}
	}
	if c.midstream {
		e.Comment = "wsviz: the opening handshake was not captured; the connection was recognised from its frames"
	}
	return e
}

// harHeaders lists h's fields sorted by name, values in order.
func harHeaders(h http.Header) []harPair {
	names := make([]string, 0, len(h))
	for n := range h {
		names = append(names, n)
	}
	slices.Sort(names)
	out := []harPair{}
	for _, n := range names {
		for _, v := range h[n] {
			out = append(out, harPair{n, v})
		}
	}
	return out
}

// WriteHAR writes the WebSocket connections of events as a HAR 1.2 log (see
// HAR). Each event is copied as needed, so the sequence may reuse them.
func WriteHAR(w io.Writer, events iter.Seq[*analyze.Event]) error {
	h := NewHAR()
	for ev := range events {
		h.Add(ev)
	}
	_, err := h.WriteTo(w)
	return err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
