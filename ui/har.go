package ui

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/wsviz/wsviz/analyze"
)

// HAR collects the events of a capture and writes the WebSocket connections
// among them as an HTTP Archive (HAR 1.2) log, one entry per connection, in
// the form Chrome DevTools exports: "_resourceType": "websocket" and the
// messages in "_webSocketMessages", so that other HAR tools open them.
//
// On HTTP/2 (RFC 8441) a connection may carry several WebSockets, one per
// stream: each is an entry of its own, as DevTools lists them, whose
// request is its extended CONNECT (method CONNECT, httpVersion "HTTP/2",
// the pseudo-header fields among the headers, url wss:// or ws:// as
// :scheme says, then :authority and :path), whose response is the answer
// on its stream, and whose messages are those of its stream only. An
// extended CONNECT that was refused is an entry without messages, as a
// refused upgrade is; the connection's plain requests are not entries.
//
// Only text and binary messages are listed (opcodes 1 and 2), as DevTools
// does; a binary payload is base64. A payload cut by the analyzer's
// MaxPayload is exported as cut and the message marked "_truncated".
// Connections with neither an upgrade request nor a WebSocket are left
// out.
//
// A HAR keeps the events in a temporary spill file, as the page's server
// does, and writes the log from it connection by connection, streaming
// each connection's messages: memory does not grow with the payloads. It is
// the page's "Export HAR" (Server.writeHAR), so that `wsviz har` and the
// page write the same file.
type HAR struct {
	s *Server
}

// NewHAR returns an empty HAR whose spill file is in tempDir ("" for the
// system's). Close removes it.
func NewHAR(tempDir string) (*HAR, error) {
	s, err := NewServer(Options{TempDir: tempDir, MaxEvents: math.MaxInt, MaxSpill: math.MaxInt64, MaxPayload: -1})
	if err != nil {
		return nil, err
	}
	return &HAR{s: s}, nil
}

// SetCreatorVersion sets the version written in the log's creator, after
// "wsviz" ("1" by default); cmd/wsviz gives the module version and commit.
func (h *HAR) SetCreatorVersion(v string) { h.s.opts.Version = v }

// Add folds one event in. It copies what it keeps, so ev may be reused. An
// error means the spill file could not be written.
func (h *HAR) Add(ev *analyze.Event) error { return h.s.Publish(ev) }

// WriteTo writes the log as JSON.
func (h *HAR) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	err := h.s.writeHAR(cw, nil)
	return cw.n, err
}

// Close removes the spill file.
func (h *HAR) Close() error { return h.s.Close() }

// harHead is what a HAR entry needs of a connection besides its messages.
type harHead struct {
	conn           uint32
	stream         uint32 // the HTTP/2 stream of a WebSocket (RFC 8441), 0 on HTTP/1.1
	client, server string
	start          time.Time
	req            *analyze.HTTP
	reqTime        time.Time
	resp           *analyze.HTTP
	respTime       time.Time
	ws             bool
	midstream      bool
	tls            bool // the connection's TLS handshake was seen
	path           string
	any            bool // an event of the connection was selected
}

// add folds a connection's event (or an HTTP/2 stream's) into its head.
// The upgrade request (the last request before the switch, after any plain
// requests on the same keep-alive connection; a stream's extended CONNECT)
// and its answer (on a stream, its final one) are kept.
func (c *harHead) add(ev *analyze.Event) {
	if c.start.IsZero() {
		c.start = ev.Time
	}
	switch ev.Type {
	case analyze.TypeTCPOpen:
		c.client, c.server = ev.TCPOpen.Client, ev.TCPOpen.Server
	case analyze.TypeTLSHandshake:
		c.tls = true
	case analyze.TypeHTTPRequest:
		if !c.ws {
			r := ev.HTTP
			r.Header = ev.HTTP.Header.Clone()
			c.req, c.reqTime = &r, ev.Time
			c.resp = nil
		}
	case analyze.TypeHTTPResponse:
		if c.stream != 0 && ev.HTTP.Status < 200 {
			break // an interim answer: the final one is to come (RFC 9113 §8.1)
		}
		if !c.ws && c.resp == nil {
			r := ev.HTTP
			r.Header = ev.HTTP.Header.Clone()
			c.resp, c.respTime = &r, ev.Time
		}
	case analyze.TypeWSOpen:
		c.ws, c.midstream, c.path = true, ev.WSOpen.Midstream, ev.WSOpen.Path
	}
}

// harMessageOf returns the _webSocketMessages item of a text or binary
// message, and false for other events.
func harMessageOf(ev *analyze.Event) (harMessage, bool) {
	if ev.Type != analyze.TypeWSMessage {
		return harMessage{}, false
	}
	m := &ev.Message
	var op int
	var data string
	switch m.Opcode {
	case "text":
		op, data = opText, strings.ToValidUTF8(string(m.Payload), "\uFFFD")
	case "binary":
		op, data = opBinary, base64.StdEncoding.EncodeToString(m.Payload)
	default:
		return harMessage{}, false
	}
	typ := "receive"
	if ev.From == analyze.FromClient {
		typ = "send"
	}
	return harMessage{
		Type:      typ,
		Time:      float64(ev.Time.UnixNano()) / 1e9,
		Opcode:    op,
		Data:      data,
		Truncated: m.Truncated,
	}, true
}

// writeHAR writes the HAR of the events sel keeps (nil: all of them). A
// connection is written when one of its events is selected, with its
// handshake whether selected or not (a message makes sense in a HAR only
// with the request that opened its connection), and its selected messages.
//
// The events are read once, in capture order (the spill store's blocks
// are compressed: reading a connection at a time would read every block
// once per connection). Each connection's head is kept; its messages, as
// HAR JSON, go to a temporary file in chunks, each connection's chunks
// listed in order; then the connections are written one after the other
// from there. Memory holds the heads and at most harBuffered bytes of
// chunks being filled.
func (s *Server) writeHAR(w io.Writer, sel func(int, *analyze.Event) bool) error {
	tmp, err := os.CreateTemp(s.opts.TempDir, "wsviz-har-*.tmp")
	if err != nil {
		return fmt.Errorf("ui: HAR: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	type chunk struct {
		off int64
		n   int
	}
	type connHAR struct {
		head   harHead
		buf    []byte  // messages not yet written to tmp
		chunks []chunk // messages in tmp, in order
	}
	// An entry is a connection's (key conn<<32), or on HTTP/2 a
	// WebSocket stream's (conn<<32 | stream): made for the stream's
	// extended CONNECT, so that plain requests cost nothing.
	conns := make(map[uint64]*connHAR)
	var size int64
	buffered := 0
	var werr error
	spill := func(c *connHAR) {
		if len(c.buf) == 0 || werr != nil {
			return
		}
		if _, werr = tmp.Write(c.buf); werr != nil {
			return
		}
		c.chunks = append(c.chunks, chunk{size, len(c.buf)})
		size += int64(len(c.buf))
		buffered -= len(c.buf)
		c.buf = c.buf[:0]
	}
	// Every event, so that each connection's head is whole; only the
	// selected messages are kept.
	all := idList{{0, s.st.len()}}
	s.eachEventOf(all.iter(), func(id int, ev *analyze.Event) bool {
		conn := uint32(ev.Conn)
		key := uint64(conn)<<32 | uint64(ev.Stream)
		c := conns[key]
		if c == nil {
			if ev.Stream != 0 && !(ev.Type == analyze.TypeHTTPRequest && isWebSocketConnect(ev)) {
				return true // not a WebSocket's stream
			}
			c = &connHAR{head: harHead{conn: conn, stream: ev.Stream}}
			conns[key] = c
		}
		c.head.add(ev)
		if sel == nil || sel(id, ev) {
			c.head.any = true
			if m, ok := harMessageOf(ev); ok {
				mb, err := json.Marshal(&m)
				if err != nil {
					werr = err
					return false
				}
				c.buf = append(append(c.buf, ",\n  "...), mb...)
				buffered += len(mb) + 4
				if len(c.buf) >= harChunk {
					spill(c)
				}
				if buffered > harBuffered {
					for _, o := range conns {
						spill(o)
					}
				}
			}
		}
		return werr == nil
	})
	if werr != nil {
		return werr
	}
	ids := make([]uint64, 0, len(conns))
	for id := range conns {
		ids = append(ids, id)
	}
	slices.Sort(ids) // by connection, then stream
	version := s.opts.Version
	if version == "" {
		version = "1"
	}
	creator, _ := json.Marshal(version)
	if _, err := fmt.Fprintf(w, `{"log":{"version":"1.2","creator":{"name":"wsviz","version":%s},"pages":[],"entries":[`, creator); err != nil {
		return err
	}
	first := true
	var chunkBuf []byte
	for _, id := range ids {
		c := conns[id]
		head := &c.head
		if head.conn == 0 || !head.any || !head.ws && !(head.req != nil && (isUpgrade(head.req.Header) || head.stream != 0)) {
			continue
		}
		if head.stream != 0 {
			if ch := conns[uint64(head.conn)<<32]; ch != nil {
				head.client, head.server, head.tls = ch.head.client, ch.head.server, ch.head.tls
			}
		}
		e := head.entry()
		b, err := json.Marshal(&e)
		if err != nil {
			return err
		}
		// The entry without its closing brace, then its messages.
		sep := ",\n"
		if first {
			sep = "\n"
		}
		first = false
		if _, err := fmt.Fprintf(w, `%s%s,"_webSocketMessages":[`, sep, b[:len(b)-1]); err != nil {
			return err
		}
		lead := true // the first message goes without its comma
		emit := func(p []byte) error {
			if lead && len(p) > 0 {
				p, lead = p[1:], false
			}
			_, err := w.Write(p)
			return err
		}
		for _, ch := range c.chunks {
			if cap(chunkBuf) < ch.n {
				chunkBuf = make([]byte, ch.n)
			}
			if _, err := tmp.ReadAt(chunkBuf[:ch.n], ch.off); err != nil {
				return fmt.Errorf("ui: HAR: %w", err)
			}
			if err := emit(chunkBuf[:ch.n]); err != nil {
				return err
			}
		}
		if err := emit(c.buf); err != nil {
			return err
		}
		if _, err := io.WriteString(w, "]}"); err != nil {
			return err
		}
	}
	_, err = io.WriteString(w, "\n]}}\n")
	return err
}

// A HAR export keeps each connection's messages in memory in chunks of up
// to harChunk bytes, harBuffered bytes at most over all connections.
const (
	harChunk    = 64 << 10
	harBuffered = 16 << 20
)

// harMessage is one entry of _webSocketMessages.
type harMessage struct {
	Type      string  `json:"type"` // "send" (client to server) or "receive"
	Time      float64 `json:"time"` // Unix seconds
	Opcode    int     `json:"opcode"`
	Data      string  `json:"data"`
	Truncated bool    `json:"_truncated,omitempty"`
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
	// harEntry is an entry without its _webSocketMessages, which writeHAR
	// streams after it.
	harEntry struct {
		ResourceType    string      `json:"_resourceType"`
		StartedDateTime string      `json:"startedDateTime"`
		Time            float64     `json:"time"`
		Request         harRequest  `json:"request"`
		Response        harResponse `json:"response"`
		Cache           struct{}    `json:"cache"`
		Timings         harTimings  `json:"timings"`
		ServerIPAddress string      `json:"serverIPAddress,omitempty"`
		Connection      string      `json:"connection,omitempty"`
		Comment         string      `json:"comment,omitempty"`
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

func isUpgrade(h http.Header) bool {
	for _, v := range h.Values("Upgrade") {
		if strings.EqualFold(strings.TrimSpace(v), "websocket") {
			return true
		}
	}
	return false
}

func (c *harHead) entry() harEntry {
	e := harEntry{
		ResourceType:    "websocket",
		StartedDateTime: c.start.UTC().Format(harTimeLayout),
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
	host, target := c.server, c.path
	scheme := "ws://"
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
		if c.stream != 0 {
			// RFC 8441 §4: the extended CONNECT names the WebSocket's
			// URI in its pseudo-header fields.
			if a := r.Header[":authority"]; len(a) > 0 && a[0] != "" {
				host = a[0]
			}
			sch := r.Header[":scheme"]
			if len(sch) > 0 && sch[0] == "https" || len(sch) == 0 && c.tls {
				scheme = "wss://"
			}
		}
	}
	if target == "" {
		target = "/"
	}
	u := scheme + host + target
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
	if c.stream != 0 {
		e.Response.HTTPVersion = "HTTP/2"
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
// HAR), through a spill file in the system's temporary directory. Each
// event is copied as needed, so the sequence may reuse them.
func WriteHAR(w io.Writer, events iter.Seq[*analyze.Event]) error {
	h, err := NewHAR("")
	if err != nil {
		return err
	}
	defer h.Close()
	for ev := range events {
		if err := h.Add(ev); err != nil {
			return err
		}
	}
	_, err = h.WriteTo(w)
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
