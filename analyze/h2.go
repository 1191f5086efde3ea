package analyze

import (
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"

	"github.com/wsviz/wsviz/analyze/internal/h2"
	"github.com/wsviz/wsviz/analyze/internal/handshake"
	"github.com/wsviz/wsviz/analyze/internal/wsproto"
)

// maxH2Streams bounds the extended CONNECT streams one HTTP/2 connection
// tracks at once (RFC 8441 WebSockets, open or awaiting their answer): a
// page opens a few; each costs what a WebSocket connection of its own
// does, so a connection may not multiply --max-conns by its servers'
// SETTINGS_MAX_CONCURRENT_STREAMS (commonly 100 to 250). Past it, a
// stream's WebSocket is not decoded (h2.websocket_limit).
const maxH2Streams = 64

// maxH2Pending bounds the client's bytes held on a connection's streams
// whose extended CONNECT waits for its answer, all of them together, as
// handshake does for HTTP/1.1's one upgrade (64 KiB).
const maxH2Pending = 64 << 10

// h2Conn is the HTTP/2 layer of a connection (RFC 9113): its framing, and
// the WebSockets its streams carry (RFC 8441).
type h2Conn struct {
	dec *h2.Conn
	// streams holds the extended CONNECT streams: awaiting their answer,
	// or WebSockets until their stream ends. Other streams' requests and
	// responses are reported and forgotten.
	streams map[uint32]*h2Stream
	pending int // bytes held in the streams' pending, at most maxH2Pending
}

// h2Stream is an HTTP/2 stream whose client asked for a WebSocket.
type h2Stream struct {
	id    uint32
	req   *handshake.Request // the extended CONNECT
	open  bool               // the server answered 2xx: ws holds the WebSocket's two directions
	ws    [2]*wsproto.Stream
	peers wsPeers
	ended [2]bool  // END_STREAM seen, by direction
	bytes [2]int64 // DATA payload bytes, by direction
	// pending holds the client's DATA sent before the answer (the
	// WebSocket's first bytes once it is accepted); pendingLost counts
	// those past maxH2Pending or lost in a gap.
	pending     []byte
	pendingLost int64
}

// h2Handler receives one connection's HTTP/2 frames.
type h2Handler struct {
	a *Analyzer
	c *conn
}

// startH2 switches c to HTTP/2 decoding: after a TLS handshake that chose
// h2 (ALPN, RFC 9113 §3.2), or a cleartext connection that opened with
// HTTP/2's preface (prior knowledge, §3.3).
func (a *Analyzer) startH2(c *conn) {
	p := &c.app
	p.phase = phaseH2
	p.h2Matched = -1
	p.h2 = &h2Conn{dec: h2.NewConn(h2Handler{a, c}), streams: map[uint32]*h2Stream{}}
}

// h2Write decodes the next bytes of direction d of an HTTP/2 connection.
func (a *Analyzer) h2Write(c *conn, d int, b []byte, packet int64) {
	c.app.h2.dec.Write(d, b, packet)
}

// h2Gap tells the HTTP/2 layer that n bytes of direction d were lost.
func (a *Analyzer) h2Gap(c *conn, d int, n int64) {
	c.app.h2.dec.Gap(d, n, a.pktNum)
}

// h2End ends the WebSockets still open when their connection ended (in
// stream order, so that the events of their last messages come in the
// same order every run) and gives their buffers back. tcp.close follows:
// it ends them.
func (a *Analyzer) h2End(c *conn) {
	h := c.app.h2
	ids := make([]uint32, 0, len(h.streams))
	for id := range h.streams {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		s := h.streams[id]
		for d := range 2 {
			if s.ws[d] != nil {
				if !s.ended[d] {
					s.ws[d].End(a.pktNum)
				}
				s.ws[d].Release()
			}
		}
	}
	clear(h.streams)
}

// h2Header builds an HTTP header from a block's fields: pseudo-header
// fields (":method") under their own names, others canonicalized, as
// HTTP/1.1 heads are.
func h2Header(fields []h2.Header) http.Header {
	h := make(http.Header, len(fields))
	for _, f := range fields {
		name := f.Name
		if !strings.HasPrefix(name, ":") {
			name = textproto.CanonicalMIMEHeaderKey(name)
		}
		h[name] = append(h[name], f.Value)
	}
	return h
}

// pseudo returns the value of a pseudo-header field, "" when absent.
func pseudo(fields []h2.Header, name string) string {
	for _, f := range fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

func (h h2Handler) Headers(side int, b *h2.Block) {
	if b.Push {
		return // a promised request (RFC 9113 §8.4): no WebSocket is pushed
	}
	if side == client {
		h.request(b)
	} else {
		h.response(b)
	}
}

// request reports a client's header block: a request, or trailers
// (without :method, not shown).
func (h h2Handler) request(b *h2.Block) {
	a, c := h.a, h.c
	method := pseudo(b.Fields, ":method")
	if method == "" {
		return
	}
	ev := a.newEvent(TypeHTTPRequest, c, FromClient)
	ev.Packet, ev.Stream = b.Packet, b.Stream
	target := pseudo(b.Fields, ":path")
	if target == "" {
		target = pseudo(b.Fields, ":authority") // a plain CONNECT's (RFC 9113 §8.5)
	}
	ev.HTTP = HTTP{Method: method, Target: target, Proto: "HTTP/2", Header: h2Header(b.Fields)}
	protocol := pseudo(b.Fields, ":protocol")
	if method != http.MethodConnect || !strings.EqualFold(protocol, "websocket") {
		ev.Note = fmt.Sprintf("the client sent an HTTP/2 request on stream %d: %s %s", b.Stream, method, target)
		if protocol != "" {
			ev.Note += fmt.Sprintf(" (extended CONNECT for %s, not WebSocket)", protocol)
		}
		a.send(ev)
		return
	}
	// RFC 8441 §4: an extended CONNECT with :protocol websocket.
	req := &handshake.Request{Method: method, Target: target, Proto: "HTTP/2", Header: ev.HTTP.Header, Packet: b.Packet}
	handshake.CheckConnect(req)
	ev.Note = fmt.Sprintf("the client asks to open a WebSocket on HTTP/2 stream %d (RFC 8441 extended CONNECT %s)", b.Stream, target)
	if len(req.Protocols) > 0 {
		ev.Note += ", offering subprotocols " + strings.Join(req.Protocols, ", ")
	}
	if req.Extensions != "" {
		ev.Note += ", and extensions " + req.Extensions
	}
	ev.Note += "; the stream, not the TCP connection, carries it"
	addProblems(ev, req.Problems)
	if v, ok := h.c.app.h2.dec.Setting(server, h2.SettingEnableConnectProtocol); !ok || v != 1 {
		ev.Warn(codeH2ConnectNotEnabled, "the client sent :protocol though the server had not announced SETTINGS_ENABLE_CONNECT_PROTOCOL = 1: a client must not use extended CONNECT before (RFC 8441 §4)")
	}
	streams := c.app.h2.streams
	switch {
	case len(streams) >= maxH2Streams:
		ev.Warn(codeH2StreamLimit, fmt.Sprintf("more than %d WebSockets (or requests for one) on one HTTP/2 connection at once, wsviz's limit: this one is not decoded", maxH2Streams))
	case streams[b.Stream] != nil:
		// A second request on a stream: HEADERS after the first are
		// trailers (RFC 9113 §8.1); the decoder reports those without
		// :method, so this one broke the rules. The first stands.
	default:
		streams[b.Stream] = &h2Stream{id: b.Stream, req: req}
	}
	a.send(ev)
}

// response reports a server's header block: an interim or final
// response, or trailers (without :status, not shown). A 2xx answer to an
// extended CONNECT opens its WebSocket (RFC 8441 §5).
func (h h2Handler) response(b *h2.Block) {
	a, c := h.a, h.c
	status := pseudo(b.Fields, ":status")
	if status == "" {
		return
	}
	code, _ := strconv.Atoi(status)
	ev := a.newEvent(TypeHTTPResponse, c, FromServer)
	ev.Packet, ev.Stream = b.Packet, b.Stream
	ev.HTTP = HTTP{Status: code, Proto: "HTTP/2", Header: h2Header(b.Fields)}
	s := c.app.h2.streams[b.Stream]
	switch {
	case s == nil || s.open:
		ev.Note = fmt.Sprintf("the server answered the HTTP/2 request on stream %d: %s", b.Stream, status)
		a.send(ev)
		return
	case code >= 100 && code < 200:
		ev.Note = fmt.Sprintf("the server sent an interim %s on stream %d; the answer to the WebSocket request is still to come", status, b.Stream)
		a.send(ev)
		return
	case code < 200 || code > 299:
		ev.Note = fmt.Sprintf("the server refused the WebSocket on stream %d and answered %s: the stream is no WebSocket (RFC 8441 §5: only a 2xx opens one)", b.Stream, status)
		ev.Warn("http.upgrade_rejected", fmt.Sprintf("the server answered the extended CONNECT with %s, not 2xx: no WebSocket (RFC 8441 §5)", status))
		a.send(ev)
		c.app.h2.pending -= len(s.pending)
		delete(c.app.h2.streams, b.Stream)
		return
	}
	ev.Note = fmt.Sprintf("the server accepted the WebSocket on stream %d (%s): from now on either side may send a message at any time", b.Stream, status)
	a.send(ev)
	u := handshake.ConnectUpgrade(s.req, ev.HTTP.Header)
	if s.pendingLost > 0 {
		u.Problems = append(u.Problems, handshake.Problem{Code: "http.pending_too_large", Msg: fmt.Sprintf("the client sent %d bytes on the stream before the answer that wsviz did not hold (past its 64 KiB, or lost): its first messages are shown in part (RFC 8441 §5)", s.pendingLost)})
	}
	cfg := a.wsOpen(c, u, b.Stream, b.Packet)
	s.open = true
	for d := range 2 {
		s.ws[d] = a.wsStream(c, d, cfg[d], &s.peers, s.id)
	}
	if len(s.pending) > 0 || s.pendingLost > 0 {
		s.ws[client].Write(s.pending, b.Packet)
		if s.pendingLost > 0 {
			s.ws[client].Gap(s.pendingLost, b.Packet)
		}
		c.app.h2.pending -= len(s.pending)
		s.pending = nil
	}
	if s.ended[client] {
		s.ws[client].End(b.Packet)
	}
	// An answer with END_STREAM ends the server's side at once: h2 calls
	// EndStream next.
}

func (h h2Handler) Data(side int, stream uint32, p []byte, packet int64) {
	s := h.c.app.h2.streams[stream]
	if s == nil {
		return // a request's or response's body: not decoded
	}
	s.bytes[side] += int64(len(p))
	switch {
	case s.open:
		s.ws[side].Write(p, packet)
	case side == client:
		// RFC 8441 §5 has the client wait for the answer; what it sent
		// before is the WebSocket's if the server accepts.
		h2c := h.c.app.h2
		n := min(len(p), maxH2Pending-h2c.pending)
		s.pending = append(s.pending, p[:n]...)
		h2c.pending += n
		s.pendingLost += int64(len(p) - n)
	}
}

func (h h2Handler) DataGap(side int, stream uint32, n int64, packet int64) {
	s := h.c.app.h2.streams[stream]
	if s == nil {
		return
	}
	s.bytes[side] += n
	switch {
	case s.open:
		s.ws[side].Gap(n, packet)
	case side == client:
		s.pendingLost += n
	}
}

func (h h2Handler) EndStream(side int, stream uint32, packet int64) {
	s := h.c.app.h2.streams[stream]
	if s == nil || s.ended[side] {
		return
	}
	s.ended[side] = true
	if s.open {
		s.ws[side].End(packet)
	}
	if s.ended[client] && s.ended[server] {
		h.closeStream(s, side, CloseEndStream, 0, packet)
	}
}

func (h h2Handler) Reset(side int, stream uint32, code uint32, packet int64) {
	s := h.c.app.h2.streams[stream]
	if s == nil {
		return
	}
	// RFC 9113 §8.1: a server whose response is complete may tell the
	// client to stop sending with RST_STREAM NO_ERROR: after a closing
	// handshake and its own END_STREAM, that ends nothing early.
	c := uint64(code)
	if code == 0 && s.ended[side] && s.peers.closed {
		c = noErrorAfterEnd
	}
	if s.open {
		for d := range 2 {
			if !s.ended[d] {
				s.ended[d] = true
				s.ws[d].End(packet)
			}
		}
	}
	h.closeStream(s, side, CloseRSTStream, c, packet)
}

// closeStream emits h2.stream_close for s, which side's frame ended, and
// forgets it.
func (h h2Handler) closeStream(s *h2Stream, side int, how string, code uint64, packet int64) {
	a, c := h.a, h.c
	ev := a.newEvent(TypeH2StreamClose, c, fromName[side])
	ev.Packet, ev.Stream = packet, s.id
	ev.H2Close = H2Close{How: how, ClientBytes: s.bytes[client], ServerBytes: s.bytes[server]}
	what := "WebSocket"
	if !s.open {
		what = "WebSocket request, before its answer,"
	}
	switch {
	case how == CloseEndStream:
		ev.Note = fmt.Sprintf("both sides ended HTTP/2 stream %d (END_STREAM), the %s last: the %s is over; the TCP connection may go on carrying other streams", s.id, fromName[side], what)
	case code == noErrorAfterEnd:
		ev.H2Close.ErrorCode = h2.ErrCodeName(0)
		ev.Note = fmt.Sprintf("the %s, after its END_STREAM, reset HTTP/2 stream %d with NO_ERROR: the WebSocket had closed, and the %s need not end its side (RFC 9113 §8.1)", fromName[side], s.id, fromName[1-side])
	default:
		ev.H2Close.ErrorCode = h2.ErrCodeName(uint32(code))
		ev.Note = fmt.Sprintf("the %s reset HTTP/2 stream %d (RST_STREAM %s): the %s ends at once, whatever was in flight is dropped", fromName[side], s.id, ev.H2Close.ErrorCode, what)
	}
	if s.open && s.peers.closeFrom == 0 && how == CloseEndStream {
		ev.Note += "; no close message came before it (RFC 6455 §7.1.1)"
	}
	a.send(ev)
	for d := range 2 {
		if s.ws[d] != nil {
			s.ws[d].Release()
		}
	}
	c.app.h2.pending -= len(s.pending)
	delete(c.app.h2.streams, s.id)
}

func (h h2Handler) Settings(side int, s []h2.Setting, packet int64) {}

func (h h2Handler) GoAway(side int, lastStream uint32, code uint32, debug []byte, packet int64) {}

func (h h2Handler) Problem(side int, p h2.Problem) {
	a, c := h.a, h.c
	ev := a.newEvent(TypeHTTPError, c, fromName[side])
	ev.Packet, ev.Stream = p.Packet, p.Stream
	switch {
	case p.Code == h2.CodeBadPreface:
		ev.Note = "the connection speaks HTTP/2, but the client's first bytes are not its connection preface: wsviz does not decode the client's side; its bytes are only counted"
	case p.Code == h2.CodeHeaderListTooLarge || p.Code == h2.CodeSettingsTooLarge:
		ev.Note = fmt.Sprintf("a frame from the %s passed a limit of wsviz (the warning says which); decoding goes on", fromName[side])
	case !p.Fatal:
		ev.Note = fmt.Sprintf("the %s broke HTTP/2's framing rules; decoding goes on", fromName[side])
	case c.app.h2.dec.Synced(side):
		ev.Note = fmt.Sprintf("wsviz no longer decodes the %s's HTTP/2 header blocks (their compression state is lost): later requests and responses from it are not shown; DATA, and WebSockets already open, still are", fromName[side])
	default:
		ev.Note = fmt.Sprintf("wsviz stopped decoding the %s's HTTP/2 frames: where the next frame starts is unknown; its later bytes are only counted", fromName[side])
	}
	ev.Warn(p.Code, p.Text)
	a.send(ev)
}

// noErrorAfterEnd stands for RST_STREAM's NO_ERROR after a WebSocket's
// closing handshake and its sender's END_STREAM (closeStream), beyond the
// 32-bit error codes.
const noErrorAfterEnd = 1 << 32

// Warning codes of the HTTP/2 layer that analyze raises itself (the h2
// package raises the others).
const (
	codeH2ConnectNotEnabled = "h2.connect_not_enabled"
	codeH2StreamLimit       = "h2.websocket_limit"
)

// wsPeers is what the two directions of one WebSocket know of each other:
// who started the closing handshake, who pinged last.
type wsPeers struct {
	closeFrom int  // direction+1 of the first close message, 0 before any
	closed    bool // the other side answered it: the closing handshake is complete
	pingFrom  int  // direction+1 of the last unanswered ping
}
