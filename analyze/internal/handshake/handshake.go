package handshake

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
)

// Limits on what one Conn holds, whatever the traffic says.
const (
	// MaxHead is the largest request or response head, per direction,
	// counted from the start line to the empty line that ends it.
	MaxHead = 64 << 10
	// MaxPending is the most client bytes held back while an upgrade
	// request waits for its answer.
	MaxPending = 64 << 10
	// maxOutstanding is how many requests may wait for responses; past it
	// the oldest is forgotten (its response then arrives with req == nil).
	maxOutstanding = 64
)

// State says how a Conn treats the bytes it is given.
type State uint8

// States of a Conn. See the package documentation.
const (
	HTTP     State = iota // decoding HTTP heads and bodies
	Upgraded              // WebSocket from now on
	NotHTTP               // the bytes are not HTTP; nothing more is decoded
	Failed                // HTTP framing was lost; Err says why
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case HTTP:
		return "HTTP"
	case Upgraded:
		return "Upgraded"
	case NotHTTP:
		return "NotHTTP"
	case Failed:
		return "Failed"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Problem is a protocol violation or a limit that was hit. Its fields match
// analyze.Warning, so one converts to the other.
type Problem struct {
	// Code is stable, e.g. "http.bad_accept".
	Code string
	// Msg explains the problem and names the RFC section.
	Msg string
}

// Request is a decoded request head.
type Request struct {
	// Method, Target and Proto are the request-line's method,
	// request-target and HTTP version (RFC 9112 §3).
	Method, Target, Proto string
	// Header holds the head's fields, names canonicalized, Host and
	// Transfer-Encoding included.
	Header http.Header
	// Upgrade reports whether the request asks for a WebSocket upgrade: its
	// Upgrade field has the token websocket, or it carries a
	// Sec-WebSocket-Key.
	Upgrade bool
	// Key and Version are the Sec-WebSocket-Key and Sec-WebSocket-Version
	// values, "" when absent.
	Key, Version string
	// Protocols lists the subprotocols offered in Sec-WebSocket-Protocol,
	// in order, from all its field lines.
	Protocols []string
	// Extensions is the raw Sec-WebSocket-Extensions offer, several field
	// lines joined with ", ".
	Extensions string
	// Problems lists the violations of RFC 6455 §4.1 found in a WebSocket
	// upgrade request; empty for other requests.
	Problems []Problem
	// Packet is the packet that completed the head.
	Packet int64
}

// Response is a decoded response head.
type Response struct {
	// Status is the status code; Reason the reason phrase, which may be
	// empty; Proto the HTTP version (RFC 9112 §4).
	Status int
	Reason string
	Proto  string
	// Header holds the head's fields, names canonicalized.
	Header http.Header
	// Problems lists violations, e.g. http.upgrade_rejected when the
	// request asked to upgrade and the final status is not 101.
	Problems []Problem
	// Packet is the packet that completed the head.
	Packet int64
}

// Deflate holds the permessage-deflate parameters the server accepted
// (RFC 7692 §7.1).
type Deflate struct {
	// ServerNoContextTakeover and ClientNoContextTakeover report the
	// server_no_context_takeover and client_no_context_takeover
	// parameters (RFC 7692 §7.1.1).
	ServerNoContextTakeover, ClientNoContextTakeover bool
	// ServerMaxWindowBits and ClientMaxWindowBits are the LZ77 window
	// sizes as base-2 logarithms, 8..15; 15 when the parameter is absent
	// (RFC 7692 §7.1.2).
	ServerMaxWindowBits, ClientMaxWindowBits int
}

// Upgrade is the outcome of a WebSocket upgrade the server accepted with
// 101 Switching Protocols.
type Upgrade struct {
	// Path is the upgrade request's request-target, "" when the request
	// was not captured.
	Path string
	// Subprotocol is the server's Sec-WebSocket-Protocol, "" for none;
	// Offered lists the subprotocols the client offered.
	Subprotocol string
	Offered     []string
	// Extensions is the server's Sec-WebSocket-Extensions answer.
	Extensions string
	// Deflate is non-nil when the server accepted permessage-deflate,
	// even with parameters that earned a Problem.
	Deflate *Deflate
	// Accept is "ok" when Sec-WebSocket-Accept matches the request's key,
	// "bad" when it does not, "missing" when the response has none, and
	// "" when the request was not captured.
	Accept string
	// Problems lists violations of RFC 6455 §4.1–4.2.2 and RFC 7692 §7 in
	// the 101 response. Problems of the request stay on its Request.
	Problems []Problem
}

// Handler receives what a Conn decodes. Its methods are called
// synchronously from inside Conn.Client and Conn.Server and must not call
// either. What they are given is theirs to keep.
type Handler interface {
	// Request is called for each request head, in order.
	Request(r *Request)
	// Response is called for each response head with the request it
	// answers, or nil when that request was not captured.
	Response(r *Response, req *Request)
	// Upgraded is called after Response for a 101 answer that switches
	// the connection to WebSocket. PendingClient is ready by then.
	Upgraded(u *Upgrade)
}

// Conn decodes the HTTP/1.x phase of one TCP connection. The zero value is
// not usable; make one with NewConn and reuse it with Reset. It is not safe
// for concurrent use.
type Conn struct {
	h     Handler
	state State
	err   *Problem
	// errClient says whose bytes made c Failed.
	errClient bool

	cl, sv side

	// queue holds the requests awaiting a final response, oldest first;
	// forgotten counts older ones dropped to keep it bounded.
	queue     []outstanding
	forgotten int

	// holding is set while the client's bytes are held back: an upgrade
	// request waits for its answer. pending holds them and marks says
	// which packet delivered each run.
	holding        bool
	pending, spare []byte
	marks, spareMk []mark

	rd bytes.Reader
	br *bufio.Reader
}

// side is one direction's decoding state.
type side struct {
	buf   []byte // the head so far, copied from the caller
	heads int    // heads decoded in this direction
	body  body   // the body being skipped
	// holdAfterBody is set when the request whose body is being skipped
	// will make the client hold its next bytes.
	holdAfterBody bool
}

// outstanding is a request waiting for its final response.
type outstanding struct {
	req  *Request
	hold bool // the client holds its bytes until the answer
}

// mark says that pending bytes up to end came with packet.
type mark struct {
	end    int
	packet int64
}

// NewConn returns a Conn that reports to h, which must not be nil.
func NewConn(h Handler) *Conn {
	c := &Conn{br: bufio.NewReader(nil)}
	c.Reset(h)
	return c
}

// Reset makes c ready for a new connection reporting to h, keeping its
// buffers.
func (c *Conn) Reset(h Handler) {
	*c = Conn{
		h:       h,
		cl:      side{buf: c.cl.buf[:0]},
		sv:      side{buf: c.sv.buf[:0]},
		queue:   c.queue[:0],
		pending: c.pending[:0],
		spare:   c.spare[:0],
		marks:   c.marks[:0],
		spareMk: c.spareMk[:0],
		br:      c.br,
	}
	clear(c.queue[:cap(c.queue)]) // let forgotten requests be collected
}

// State returns how c treats the bytes it is given.
func (c *Conn) State() State { return c.state }

// Err returns why c is Failed, nil in any other state.
func (c *Conn) Err() *Problem { return c.err }

// ErrClient reports whether the bytes that made c Failed (see Err) were
// the client's; false when they were the server's, or c is not Failed.
func (c *Conn) ErrClient() bool { return c.errClient }

// PendingClient returns the client bytes held back while an upgrade
// request waited for its answer. After Upgraded they are the first
// WebSocket bytes of the client, which Client did not consume: the caller
// decodes them before anything it feeds later. The slice aliases c's
// buffer and is valid until the next call of Client, Server or Reset.
func (c *Conn) PendingClient() []byte { return c.pending }

// Gap tells c that bytes the client (client true) or the server sent were
// lost. HTTP framing is lost with them: c becomes Failed, unless it is
// already Upgraded or NotHTTP, which a gap does not change.
func (c *Conn) Gap(client bool) {
	if c.state != HTTP {
		return
	}
	dir := "server"
	if client {
		dir = "client"
	}
	c.fail(client, Problem{"http.gap", fmt.Sprintf("bytes the %s sent were not captured, so the boundaries of the HTTP messages after them are unknown (RFC 9112 §6)", dir)})
}

// Client decodes bytes the client sent, in order, and returns n, how many
// of them it consumed as HTTP. data aliases the caller's buffer; c copies
// what it keeps.
//
// While State is HTTP, n < len(data) only right after a request that asks
// to upgrade: the caller feeds data[n:] again, and that call, like every
// call until the server answers, copies all of data into the pending buffer
// and returns 0 (see PendingClient). In any other state Client does
// nothing and returns 0.
func (c *Conn) Client(data []byte, packet int64) (n int) {
	if c.state != HTTP {
		return 0
	}
	if c.holding {
		c.hold(data, packet)
		return 0
	}
	return c.client(data, packet)
}

// Server decodes bytes the server sent, in order, and returns n, how many
// of them it consumed as HTTP. data aliases the caller's buffer; c copies
// what it keeps.
//
// While State stays HTTP, n == len(data). When a 101 response switches
// the connection to WebSocket, n is the end of its head: data[n:] and all
// later bytes are WebSocket. On NotHTTP or Failed, data[n:] was not
// decoded. In any state but HTTP, Server does nothing and returns 0.
func (c *Conn) Server(data []byte, packet int64) (n int) {
	if c.state != HTTP {
		return 0
	}
	s := &c.sv
	for n < len(data) && c.state == HTTP {
		if s.body.kind != noBody {
			m, p := s.body.skip(data[n:])
			n += m
			if p != nil {
				c.fail(false, *p)
			}
			continue
		}
		m, head := c.head(s, data[n:], false)
		n += m
		if head != nil {
			c.response(head, packet)
		}
	}
	return n
}

// client decodes client bytes until they run out, c leaves HTTP, or the
// client starts holding.
func (c *Conn) client(data []byte, packet int64) (n int) {
	s := &c.cl
	for n < len(data) && c.state == HTTP && !c.holding {
		if s.body.kind != noBody {
			m, p := s.body.skip(data[n:])
			n += m
			if p != nil {
				c.fail(true, *p)
			} else if s.body.kind == noBody && s.holdAfterBody {
				s.holdAfterBody = false
				c.holding = true
			}
			continue
		}
		m, head := c.head(s, data[n:], true)
		n += m
		if head != nil {
			c.request(head, packet)
		}
	}
	return n
}

// hold keeps client bytes until the upgrade request's answer arrives.
func (c *Conn) hold(data []byte, packet int64) {
	if len(data) == 0 {
		return
	}
	if len(data) > MaxPending-len(c.pending) {
		c.fail(true, Problem{"http.pending_too_large", fmt.Sprintf("the client sent more than %d bytes while its upgrade request waited for an answer; this decoder holds no more (RFC 6455 §4.1)", MaxPending)})
		return
	}
	c.pending = append(c.pending, data...)
	if k := len(c.marks); k > 0 && c.marks[k-1].packet == packet {
		c.marks[k-1].end = len(c.pending)
	} else {
		c.marks = append(c.marks, mark{len(c.pending), packet})
	}
}

// resume decodes the held client bytes as HTTP after the upgrade was
// refused. They may hold another upgrade request, which holds the rest.
func (c *Conn) resume() {
	c.holding = false
	c.cl.holdAfterBody = false
	held, marks := c.pending, c.marks
	c.pending, c.marks = c.spare[:0], c.spareMk[:0]
	start := 0
	for _, m := range marks {
		b := held[start:m.end]
		start = m.end
		if c.state != HTTP {
			break
		}
		if c.holding {
			c.hold(b, m.packet)
			continue
		}
		k := c.client(b, m.packet)
		if c.holding {
			c.hold(b[k:], m.packet)
		}
	}
	c.spare, c.spareMk = held[:0], marks[:0]
}

// fail gives up on HTTP because of bytes the client (client true) or the
// server sent.
func (c *Conn) fail(client bool, p Problem) {
	c.state = Failed
	c.err = &p
	c.errClient = client
}

// head adds data to the head being collected in s and returns how many
// bytes it took and, once the empty line that ends it is in, the complete
// head (aliasing s.buf, valid until the next call). It returns 0 and a
// nil head only when c left HTTP.
func (c *Conn) head(s *side, data []byte, request bool) (used int, head []byte) {
	// RFC 9112 §2.2: a recipient SHOULD ignore at least one empty line
	// received before the start line. Only between messages: at the start
	// of a stream such bytes are a sign that it is not HTTP.
	if len(s.buf) == 0 && s.heads > 0 {
		for used < len(data) && (data[used] == '\r' || data[used] == '\n') {
			used++
		}
		if used > 0 {
			return used, nil
		}
	}
	old := len(s.buf)
	take := data[:min(len(data), MaxHead-old)]
	s.buf = append(s.buf, take...)
	if request && !LooksLikeRequest(s.buf) || !request && !LooksLikeResponse(s.buf) {
		s.buf = s.buf[:old]
		c.notHTTP(s, request)
		return 0, nil
	}
	end := headEnd(s.buf, max(0, old-2))
	if end < 0 {
		if len(s.buf) >= MaxHead {
			c.fail(request, Problem{"http.head_too_large", fmt.Sprintf("the %s head is longer than %d bytes, this decoder's limit (RFC 9112 §2.1)", what(request), MaxHead)})
		}
		return len(take), nil
	}
	head = s.buf[:end]
	s.buf = s.buf[:0]
	return end - old, head
}

func what(request bool) string {
	if request {
		return "request"
	}
	return "response"
}

// headEnd returns the offset just past the empty line that ends a head
// (CRLF CRLF, or bare LFs, RFC 9112 §2.2), looking from from on, or -1.
func headEnd(b []byte, from int) int {
	for i := from; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 2
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 3
		}
	}
	return -1
}

// notHTTP handles bytes where a head should start but that cannot start
// one: the first bytes of a stream make the connection NotHTTP, later
// bytes mean framing was lost.
func (c *Conn) notHTTP(s *side, request bool) {
	switch {
	case request && s.heads == 0:
		c.state = NotHTTP
	case request:
		c.fail(true, Problem{"http.bad_request", "the client sent bytes that do not start an HTTP request where one should start (RFC 9112 §3)"})
	case len(c.queue) == 0 && c.forgotten == 0:
		c.state = NotHTTP
	default:
		c.fail(false, Problem{"http.bad_response", "the server sent bytes that do not start an HTTP response while a request waits for one (RFC 9112 §4)"})
	}
}

// parseHeader reads the head's fields as they are: net/http moves Host,
// Transfer-Encoding and others out of its Header.
func (c *Conn) parseHeader(head []byte) (http.Header, error) {
	c.rd.Reset(head)
	c.br.Reset(&c.rd)
	tp := textproto.NewReader(c.br)
	if _, err := tp.ReadLine(); err != nil {
		return nil, err
	}
	h, err := tp.ReadMIMEHeader()
	return http.Header(h), err
}

// request decodes a complete request head.
func (c *Conn) request(head []byte, packet int64) {
	c.rd.Reset(head)
	c.br.Reset(&c.rd)
	hr, err := http.ReadRequest(c.br)
	var header http.Header
	if err == nil {
		header, err = c.parseHeader(head)
	}
	if err != nil {
		c.fail(true, Problem{"http.bad_request", fmt.Sprintf("the request head is malformed: %v (RFC 9112 §3)", err)})
		return
	}
	r := &Request{
		Method: hr.Method,
		Target: hr.RequestURI,
		Proto:  hr.Proto,
		Header: header,
		Packet: packet,
	}
	hold := checkRequest(r, hr.ProtoAtLeast(1, 1))
	s := &c.cl
	s.heads++
	// RFC 9112 §6.3: a request has a body only with Transfer-Encoding
	// (items 4–5) or Content-Length (item 6).
	switch {
	case chunked(hr.TransferEncoding):
		s.body = body{kind: chunkedBody}
	case hr.ContentLength > 0:
		s.body = body{kind: lengthBody, remain: hr.ContentLength}
	}
	if len(c.queue) == maxOutstanding {
		clear(c.queue[:1])
		c.queue = append(c.queue[:0], c.queue[1:]...)
		c.forgotten++
	}
	c.queue = append(c.queue, outstanding{r, hold})
	c.h.Request(r)
	if hold {
		if s.body.kind == noBody {
			c.holding = true
		} else {
			s.holdAfterBody = true
		}
	}
}

// chunked reports whether net/http found the chunked transfer coding.
func chunked(te []string) bool { return len(te) > 0 && te[0] == "chunked" }

// response decodes a complete response head.
func (c *Conn) response(head []byte, packet int64) {
	c.rd.Reset(head)
	c.br.Reset(&c.rd)
	hr, err := http.ReadResponse(c.br, nil)
	var header http.Header
	if err == nil {
		header, err = c.parseHeader(head)
	}
	if err != nil {
		c.fail(false, Problem{"http.bad_response", fmt.Sprintf("the response head is malformed: %v (RFC 9112 §4)", err)})
		return
	}
	_, reason, _ := strings.Cut(hr.Status, " ")
	r := &Response{
		Status: hr.StatusCode,
		Reason: reason,
		Proto:  hr.Proto,
		Header: header,
		Packet: packet,
	}
	// RFC 9110 §15.2: a 1xx other than 101 is interim; the final
	// response follows. 101 is the last response on HTTP/1.1.
	interim := r.Status/100 == 1 && r.Status != 101
	var o outstanding
	switch {
	case c.forgotten > 0:
		if !interim {
			c.forgotten--
		}
	case len(c.queue) > 0:
		o = c.queue[0]
		if !interim {
			clear(c.queue[:1])
			c.queue = append(c.queue[:0], c.queue[1:]...)
		}
	}
	req := o.req
	s := &c.sv
	s.heads++
	// RFC 9112 §6.3 items 1–2 and 4–8.
	switch {
	case req != nil && req.Method == http.MethodHead:
	case r.Status/100 == 1 || r.Status == http.StatusNoContent || r.Status == http.StatusNotModified:
	case req != nil && req.Method == http.MethodConnect && r.Status/100 == 2:
	case chunked(hr.TransferEncoding):
		s.body = body{kind: chunkedBody}
	case hr.ContentLength > 0:
		s.body = body{kind: lengthBody, remain: hr.ContentLength}
	case hr.ContentLength < 0:
		s.body = body{kind: closeBody}
	}
	if req != nil && req.Upgrade && !interim && r.Status != http.StatusSwitchingProtocols {
		r.Problems = append(r.Problems, Problem{"http.upgrade_rejected",
			fmt.Sprintf("the server refused to switch to WebSocket: %s (RFC 6455 §4.1)", strings.TrimSpace(hr.Status))})
	}
	c.h.Response(r, req)
	switch {
	case r.Status == http.StatusSwitchingProtocols:
		c.switchProtocols(r, req)
	case req != nil && req.Method == http.MethodConnect && r.Status/100 == 2:
		// RFC 9110 §9.3.6: the connection is a tunnel from here on.
		c.state = NotHTTP
	case o.hold && !interim:
		c.resume()
	}
}

// switchProtocols handles a 101 response.
func (c *Conn) switchProtocols(r *Response, req *Request) {
	if !(req != nil && req.Upgrade) && !HasToken(r.Header, "Upgrade", "websocket") {
		c.fail(false, Problem{"http.not_websocket", fmt.Sprintf("the server switched to %q, not to WebSocket; the rest of the connection is not decoded (RFC 9110 §7.8)", strings.Join(r.Header.Values("Upgrade"), ", "))})
		return
	}
	c.state = Upgraded
	c.holding = false
	// Without a captured upgrade request the client was not holding; a
	// partial head it sent is then WebSocket too.
	c.pending = append(c.pending, c.cl.buf...)
	c.cl.buf = c.cl.buf[:0]
	c.h.Upgraded(checkUpgrade(req, r))
}
