package analyze

import (
	"fmt"
	"strings"

	"github.com/wsviz/wsviz/analyze/internal/handshake"
	"github.com/wsviz/wsviz/analyze/internal/tlsdec"
	"github.com/wsviz/wsviz/analyze/internal/wsproto"
)

// What a connection's bytes are being decoded as.
const (
	phaseHTTP  = iota // HTTP/1.x heads, until an upgrade or proof it is not HTTP
	phaseProbe        // no handshake: looking for WebSocket frames mid-stream
	phaseWS           // WebSocket frames
	phaseOther        // some other protocol: only counted
	phaseH2           // HTTP/2 frames (h2.go), with WebSockets on their streams
)

// probeBudget is how many chunks per direction are tried as WebSocket
// frames before a connection without a handshake is given up as another
// protocol. Chunks usually start at segment boundaries, where frames
// usually start.
const probeBudget = 32

// app is the application-layer state of a connection.
type app struct {
	phase  int
	hs     *handshake.Conn
	ws     [2]*wsproto.Stream
	synced [2]bool // the stream found a frame boundary (mid-stream start)
	probes [2]int

	peers wsPeers // of the connection's WebSocket (HTTP/1.1's upgrade, or mid-stream)
	h2    *h2Conn // the HTTP/2 layer, in phaseH2

	h2Matched int8 // how many of the client's first bytes match HTTP/2's preface line; -1 once they do not, or it was said (matchH2)
	h2c       bool // the server answered 101 to h2c: the connection switches to HTTP/2 (RFC 7540 §3.2)

	tls     *tlsdec.Conn // the TLS layer beneath, when the connection is TLS (tls.go)
	tlsLost int64        // bytes of the last TCP gap, for a plaintext loss of unknown size
	carried [2]Carried   // by direction: records read since the last event they were listed on (tls.go)
}

// hsHandler receives one connection's handshake callbacks.
type hsHandler struct {
	a *Analyzer
	c *conn
}

// wsHandler receives one direction's frames and messages: of the
// connection's WebSocket, or of the one on HTTP/2 stream stream.
type wsHandler struct {
	a      *Analyzer
	c      *conn
	d      int
	peers  *wsPeers
	stream uint32
}

// appData decodes in-order bytes of direction d. packet carried them.
func (a *Analyzer) appData(c *conn, d int, b []byte, packet int64) {
	if !a.tlsData(c, d, b, packet) {
		a.plainData(c, d, b, packet)
	}
}

// plainData decodes in-order application bytes of direction d: as TCP
// carried them, or as a TLS layer decrypted them.
func (a *Analyzer) plainData(c *conn, d int, b []byte, packet int64) {
	p := &c.app
	if p.phase == phaseH2 {
		a.h2Write(c, d, b, packet)
		return
	}
	if p.h2Matched >= 0 && p.tls == nil {
		switch m := int(p.h2Matched); {
		case d == client && matchH2(&p.h2Matched, b):
			// The client's first bytes are HTTP/2's preface (prior
			// knowledge, RFC 9113 §3.3); b holds the end of its first
			// line, whose start came before (and went to the HTTP/1
			// decoder, which is left).
			a.startH2(c)
			a.h2Write(c, d, []byte(h2PrefaceLine), packet)
			a.h2Write(c, d, b[len(h2PrefaceLine)-m:], packet)
			return
		case d == server && m == 0 && p.phase == phaseHTTP && p.hs == nil && h2ServerFirst(b):
			// The server spoke first, with HTTP/2's SETTINGS: a server
			// with prior knowledge sends its preface at once (§3.4).
			a.startH2(c)
			a.h2Write(c, d, b, packet)
			return
		}
	}
	for len(b) > 0 && !c.done {
		switch p.phase {
		case phaseHTTP:
			if p.hs == nil {
				p.hs = handshake.NewConn(hsHandler{a, c})
			}
			var n int
			if d == client {
				n = p.hs.Client(b, packet)
			} else {
				n = p.hs.Server(b, packet)
			}
			b = b[n:]
			switch p.hs.State() {
			case handshake.HTTP:
				if n == 0 {
					return // held back (an upgrade request waiting for its answer)
				}
			case handshake.Upgraded:
				// The Upgraded callback created the streams and fed the
				// client bytes held back; b is WebSocket.
				p.phase = phaseWS
			case handshake.Failed:
				if p.h2c && p.hs.Err().Code == "http.not_websocket" {
					// A 101 to h2c (RFC 7540 §3.2): HTTP/2 from the byte
					// after it, the client's held bytes first (its
					// preface).
					a.startH2(c)
					a.h2Write(c, client, p.hs.PendingClient(), packet)
					a.h2Write(c, d, b, packet)
					return
				}
				a.httpError(c)
				p.phase = phaseProbe
			default:
				p.phase = phaseProbe
			}
		case phaseProbe:
			if !probe(b, d == client) {
				a.giveUp(c, d)
				return
			}
			a.midstream(c, d)
		case phaseWS:
			if !p.synced[d] {
				if !probe(b, d == client) {
					return
				}
				p.synced[d] = true
			}
			p.ws[d].Write(b, packet)
			return
		default:
			return
		}
	}
}

// h2PrefaceLine is the first line of the connection preface an HTTP/2
// client opens with (RFC 9113 §3.4: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"):
// a connection whose first client bytes are this line is taken for
// HTTP/2. No HTTP/1 request line reads so.
const h2PrefaceLine = "PRI * HTTP/2.0\r\n"

// matchH2 compares b, the client's next bytes, with the preface's first
// line after the *matched bytes before them, and reports whether the
// client's bytes now hold all of it. *matched becomes -1 when they differ,
// and once it is said: only a connection's first bytes are compared, in
// as many segments as they came in, and the answer does not depend on
// where those were cut.
func matchH2(matched *int8, b []byte) bool {
	m := int(*matched)
	n := min(len(b), len(h2PrefaceLine)-m)
	if string(b[:n]) != h2PrefaceLine[m:m+n] {
		*matched = -1
		return false
	}
	m += n
	*matched = int8(m)
	if m == len(h2PrefaceLine) {
		*matched = -1 // said once
		return true
	}
	return false
}

// h2ServerFirst reports whether b, a server's first bytes on a connection
// the client has not spoken on, start with the frame an HTTP/2 server's
// preface is (RFC 9113 §3.4): a SETTINGS frame (type 0x4, §6.5) without
// ACK on stream 0, its length a multiple of 6. No HTTP/1 response starts
// so ("HTTP/1."), nor the greetings of other protocols that speak first
// (SSH, SMTP, MySQL).
func h2ServerFirst(b []byte) bool {
	if len(b) < 9 {
		return false
	}
	n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
	return b[3] == 0x4 && b[4] == 0 && string(b[5:9]) == "\x00\x00\x00\x00" && n%6 == 0 && n <= 16384
}

// giveUp counts a chunk that did not look like WebSocket frames.
func (a *Analyzer) giveUp(c *conn, d int) {
	p := &c.app
	p.probes[d]++
	if p.probes[client] >= probeBudget && p.probes[server] >= probeBudget {
		p.phase = phaseOther
	}
}

// appGap tells the decoders that n bytes of direction d were lost.
func (a *Analyzer) appGap(c *conn, d int, n int64) {
	if !a.tlsGap(c, d, n) {
		a.plainGap(c, d, n)
	}
}

// plainGap tells the HTTP and WebSocket decoders that n bytes of direction
// d were lost.
func (a *Analyzer) plainGap(c *conn, d int, n int64) {
	p := &c.app
	if d == client {
		p.h2Matched = -1 // what follows is not the client's first bytes
	}
	switch p.phase {
	case phaseH2:
		a.h2Gap(c, d, n)
	case phaseHTTP:
		if p.hs != nil {
			p.hs.Gap(d == client)
			switch p.hs.State() {
			case handshake.Upgraded:
				p.ws[d].Gap(n, a.pktNum)
				return
			case handshake.Failed:
				a.httpError(c)
			}
		}
		p.phase = phaseProbe // maybe the 101 was lost: look for frames
	case phaseWS:
		if p.synced[d] {
			p.ws[d].Gap(n, a.pktNum)
		}
	}
}

// appEnd tells the decoders that the connection ended, and gives their
// buffers back.
func (a *Analyzer) appEnd(c *conn) {
	a.tlsEnd(c)
	p := &c.app
	if p.h2 != nil {
		a.h2End(c)
	}
	for d := range 2 {
		if p.ws[d] == nil {
			continue
		}
		if p.phase == phaseWS && p.synced[d] {
			p.ws[d].End(a.pktNum)
		}
		p.ws[d].Release()
	}
}

// httpError emits http.error for a connection whose HTTP decoding just
// failed: why, from whom, and what happens to its later bytes.
func (a *Analyzer) httpError(c *conn) {
	hs := c.app.hs
	d := server
	if hs.ErrClient() {
		d = client
	}
	ev := a.newEvent(TypeHTTPError, c, fromName[d])
	p := hs.Err()
	ev.Note = fmt.Sprintf("wsviz stopped decoding this connection as HTTP: %s; its later bytes are looked at as WebSocket frames", httpErrorCause(p.Code, fromName[d]))
	ev.Warn(p.Code, p.Msg)
	a.send(ev)
}

// httpErrorCause says in plain words why HTTP decoding stopped.
func httpErrorCause(code, who string) string {
	switch code {
	case "http.bad_request":
		return "the client sent bytes that are not a well-formed HTTP request where one should start"
	case "http.bad_response":
		return "the server sent bytes that are not a well-formed HTTP response where one should start"
	case "http.bad_chunk":
		return "the " + who + "'s chunked body is malformed, so where the next HTTP message starts is unknown"
	case "http.head_too_large":
		return "the " + who + "'s HTTP head is longer than wsviz reads"
	case "http.pending_too_large":
		return "the client sent more than wsviz holds while its upgrade request waited for an answer"
	case "http.gap":
		return "bytes the " + who + " sent were not captured, so where the next HTTP message starts is unknown"
	case "http.not_websocket":
		return "the server switched the connection to a protocol other than WebSocket"
	}
	return "the " + who + "'s bytes do not follow HTTP"
}

// midstream switches a connection without a captured handshake to
// WebSocket decoding and emits ws.open.
func (a *Analyzer) midstream(c *conn, d int) {
	p := &c.app
	p.phase = phaseWS
	p.synced[d] = true
	ev := a.newEvent(TypeWSOpen, c, "")
	ev.WSOpen = WSOpen{Midstream: true}
	ev.Note = fmt.Sprintf("no handshake was captured, but the %s's bytes are WebSocket frames: the connection was already a WebSocket when the capture started", fromName[d])
	ev.Warn("ws.midstream", "the opening handshake (RFC 6455 §4) is not in the capture; subprotocol and extensions are unknown, and compressed messages may refer to history from before the capture (RFC 7692 §7.2.2)")
	a.send(ev)
	for dd := range 2 {
		a.newStream(c, dd, wsproto.Config{
			Client:    dd == client,
			Deflate:   true, // unknown: RSV1 is taken to mean permessage-deflate
			Midstream: true,
		})
	}
}

// newStream makes direction d's decoder of the connection's WebSocket.
func (a *Analyzer) newStream(c *conn, d int, cfg wsproto.Config) {
	c.app.ws[d] = a.wsStream(c, d, cfg, &c.app.peers, 0)
}

// wsStream makes direction d's decoder of a WebSocket on c, the
// connection's own (stream 0) or the one on HTTP/2 stream stream, whose
// two directions share peers.
func (a *Analyzer) wsStream(c *conn, d int, cfg wsproto.Config, peers *wsPeers, stream uint32) *wsproto.Stream {
	cfg.MaxPayload, cfg.MaxMessage, cfg.Shared = a.opts.MaxPayload, a.opts.MaxMessage, a.ws
	return wsproto.NewStream(cfg, wsHandler{a, c, d, peers, stream})
}

func (h hsHandler) Request(r *handshake.Request) {
	a, c := h.a, h.c
	ev := a.newEvent(TypeHTTPRequest, c, FromClient)
	ev.HTTP = HTTP{Method: r.Method, Target: r.Target, Proto: r.Proto, Header: r.Header}
	if r.Upgrade {
		ev.Note = fmt.Sprintf("the client asks to switch this HTTP connection to WebSocket (%s %s)", r.Method, r.Target)
		if len(r.Protocols) > 0 {
			ev.Note += ", offering subprotocols " + strings.Join(r.Protocols, ", ")
		}
		if r.Extensions != "" {
			ev.Note += ", and extensions " + r.Extensions
		}
	} else {
		ev.Note = fmt.Sprintf("the client sent a plain HTTP request: %s %s", r.Method, r.Target)
	}
	addProblems(ev, r.Problems)
	a.send(ev)
}

func (h hsHandler) Response(r *handshake.Response, req *handshake.Request) {
	a, c := h.a, h.c
	ev := a.newEvent(TypeHTTPResponse, c, FromServer)
	ev.HTTP = HTTP{Status: r.Status, Reason: r.Reason, Proto: r.Proto, Header: r.Header}
	switch {
	case r.Status == 101 && req != nil && req.Upgrade:
		ev.Note = "the server agreed to switch to WebSocket (101 Switching Protocols): from now on either side may send a message at any time"
	case r.Status == 101 && handshake.HasToken(r.Header, "Upgrade", "h2c"):
		ev.Note = "the server switched the connection to HTTP/2 in cleartext (101 to h2c, RFC 7540 §3.2): its answer to this request comes on stream 1, and WebSockets may follow on other streams (RFC 8441)"
		c.app.h2c = true
	case req != nil && req.Upgrade:
		ev.Note = fmt.Sprintf("the server refused to switch to WebSocket and answered %d %s: the connection stays plain HTTP", r.Status, r.Reason)
	default:
		ev.Note = fmt.Sprintf("the server answered the HTTP request: %d %s", r.Status, r.Reason)
	}
	addProblems(ev, r.Problems)
	a.send(ev)
}

// windowsAgreed says which side agreed to compress within a window smaller
// than deflate's 32 KiB (RFC 7692 §7.1.2), "" when neither did: a message
// that refers further back is ws.deflate_window.
func windowsAgreed(serverBits, clientBits int) string {
	size := func(bits int) string {
		n := 1 << max(bits, 9) // zlib takes 8 as 9 (RFC 7692 §7.1.2.1)
		if n >= 1024 {
			return fmt.Sprintf("%d KiB", n>>10)
		}
		return fmt.Sprintf("%d bytes", n)
	}
	switch {
	case serverBits >= 15 && clientBits >= 15:
		return ""
	case serverBits == clientBits:
		return fmt.Sprintf("each side's compressor refers at most %s back (server_max_window_bits=%d, client_max_window_bits=%d)", size(serverBits), serverBits, clientBits)
	case clientBits >= 15:
		return fmt.Sprintf("the server's compressor refers at most %s back (server_max_window_bits=%d)", size(serverBits), serverBits)
	case serverBits >= 15:
		return fmt.Sprintf("the client's compressor refers at most %s back (client_max_window_bits=%d)", size(clientBits), clientBits)
	}
	return fmt.Sprintf("the server's compressor refers at most %s back and the client's %s (server_max_window_bits=%d, client_max_window_bits=%d)", size(serverBits), size(clientBits), serverBits, clientBits)
}

func (h hsHandler) Upgraded(u *handshake.Upgrade) {
	a, c := h.a, h.c
	cfg := a.wsOpen(c, u, 0, a.pktNum)
	for d := range 2 {
		a.newStream(c, d, cfg[d])
		c.app.synced[d] = true
	}
	c.app.phase = phaseWS
	if pending := c.app.hs.PendingClient(); len(pending) > 0 {
		c.app.ws[client].Write(pending, a.pktNum)
	}
}

// wsOpen emits ws.open for the WebSocket u describes: the connection's,
// or the one on HTTP/2 stream stream (packet: the answer's), and returns
// the configuration of its two directions.
func (a *Analyzer) wsOpen(c *conn, u *handshake.Upgrade, stream uint32, packet int64) [2]wsproto.Config {
	ev := a.newEvent(TypeWSOpen, c, "")
	ev.Packet, ev.Stream = packet, stream
	ev.WSOpen = WSOpen{Path: u.Path, Subprotocol: u.Subprotocol, Offered: append(ev.WSOpen.Offered, u.Offered...),
		Extensions: u.Extensions, Accept: u.Accept}
	var what []string
	if u.Subprotocol != "" {
		what = append(what, "subprotocol "+u.Subprotocol)
	}
	cfg := [2]wsproto.Config{{Client: true}, {}}
	if d := u.Deflate; d != nil {
		ev.WSOpen.Deflate = &Deflate{ServerNoContextTakeover: d.ServerNoContextTakeover, ClientNoContextTakeover: d.ClientNoContextTakeover,
			ServerMaxWindowBits: d.ServerMaxWindowBits, ClientMaxWindowBits: d.ClientMaxWindowBits}
		cfg[client] = wsproto.Config{Client: true, Deflate: true, NoContextTakeover: d.ClientNoContextTakeover, WindowBits: d.ClientMaxWindowBits}
		cfg[server] = wsproto.Config{Deflate: true, NoContextTakeover: d.ServerNoContextTakeover, WindowBits: d.ServerMaxWindowBits}
		takeover := "with context takeover (each side's compressor remembers earlier messages)"
		switch {
		case d.ClientNoContextTakeover && d.ServerNoContextTakeover:
			takeover = "without context takeover (every message is compressed on its own)"
		case d.ClientNoContextTakeover:
			takeover = "with context takeover from the server only"
		case d.ServerNoContextTakeover:
			takeover = "with context takeover from the client only"
		}
		what = append(what, "messages compressed with permessage-deflate "+takeover)
		if w := windowsAgreed(d.ServerMaxWindowBits, d.ClientMaxWindowBits); w != "" {
			what = append(what, w)
		}
	}
	ev.Note = "the connection is now a WebSocket"
	if stream != 0 {
		ev.Note = fmt.Sprintf("HTTP/2 stream %d is now a WebSocket (RFC 8441)", stream)
	}
	if len(what) > 0 {
		ev.Note += ": " + strings.Join(what, "; ")
	}
	addProblems(ev, u.Problems)
	a.send(ev)
	return cfg
}

func addProblems[P ~struct{ Code, Msg string }](ev *Event, problems []P) {
	for _, p := range problems {
		ev.Warnings = append(ev.Warnings, Warning(p))
	}
}

// Opcodes, RFC 6455 §5.2 and §11.8.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// opcodeNames names the sixteen opcodes a 4-bit field can hold, made once
// so that naming a reserved one allocates nothing.
var opcodeNames = func() (names [16]string) {
	for op := range names {
		names[op] = fmt.Sprintf("reserved-%d", op)
	}
	names[opContinuation], names[opText], names[opBinary] = "continuation", "text", "binary"
	names[opClose], names[opPing], names[opPong] = "close", "ping", "pong"
	return names
}()

// OpcodeName names a frame opcode as ws.message's and ws.frame's notes do:
// "continuation", "text", "binary", "close", "ping", "pong", or
// "reserved-N".
func OpcodeName(op uint8) string { return opcodeName(op) }

func opcodeName(op uint8) string {
	if int(op) < len(opcodeNames) {
		return opcodeNames[op]
	}
	return fmt.Sprintf("reserved-%d", op)
}

func (h wsHandler) Frame(f *wsproto.Frame) {
	a, c, d := h.a, h.c, h.d
	ev := a.newEvent(TypeWSFrame, c, fromName[d])
	ev.Stream = h.stream
	// Header aliases the stream's buffer, valid until emit returns.
	// Field by field into the Frame newEvent zeroed: a composite literal
	// is built on the stack and copied 16 bytes a load, each load waiting
	// for the 8-byte stores before it (as in capture's readPcap).
	fr := &ev.Frame
	fr.Fin, fr.RSV, fr.Opcode, fr.Masked, fr.Mask, fr.Len, fr.Header = f.Fin, f.RSV, f.Opcode, f.Masked, f.Mask, f.Len, f.Header
	ev.Note = a.notes.Frame(fromName[d], fromName[1-d], opcodeName(f.Opcode), f)
	addProblems(ev, f.Problems)
	a.send(ev)
}

func (h wsHandler) Message(m *wsproto.Message) {
	a, c, d := h.a, h.c, h.d
	p := h.peers
	ev := a.newEvent(TypeWSMessage, c, fromName[d])
	ev.Stream = h.stream
	// Packets and Payload alias the stream's buffers, valid until emit
	// returns, as the Event's own would be. Field by field into the
	// Message newEvent zeroed, as in Frame.
	em := &ev.Message
	em.Opcode, em.Len, em.WireLen, em.Compressed = opcodeName(m.Opcode), m.Len, m.WireLen, m.Compressed
	em.Frames, em.Packets, em.Payload, em.Truncated, em.Undecodable = m.Frames, m.Packets, m.Payload, m.Truncated, m.Undecodable
	who, peer := fromName[d], fromName[1-d]
	switch {
	case m.Undecodable:
		ev.Note = a.notes.Undecodable(fromName[d], m)
	case m.Opcode == opText, m.Opcode == opBinary:
		ev.Note = a.notes.DataMessage(fromName[d], d == server, m)
	case m.Opcode == opPing:
		ev.Note = a.notes.Ping(fromName[d], fromName[1-d], m)
		p.pingFrom = d + 1
	case m.Opcode == opPong:
		if p.pingFrom == 2-d {
			ev.Note = pongAnswerNote[d]
			p.pingFrom = 0
		} else {
			ev.Note = fmt.Sprintf("the %s sent an unsolicited pong (a heartbeat; no answer expected)", who)
		}
	case m.Opcode == opClose:
		ev.Message.Code, ev.Message.Reason = m.CloseCode, m.CloseReason
		status := "without a status code"
		if m.CloseCode != 0 {
			status = fmt.Sprintf("with status %d (%s)", m.CloseCode, closeCodeName(m.CloseCode))
			if m.CloseReason != "" {
				status += fmt.Sprintf(" and reason %q", m.CloseReason)
			}
		}
		if p.closeFrom == 0 {
			p.closeFrom = d + 1
			ev.Note = fmt.Sprintf("the %s starts the closing handshake %s; the %s should answer with a close", who, status, peer)
		} else if p.closeFrom == 2-d {
			p.closed = true
			ev.Note = fmt.Sprintf("the %s answered the close %s: the WebSocket is closed and %s should end next", who, status, closeNext[min(h.stream, 1)])
		} else {
			ev.Note = fmt.Sprintf("the %s sent another close %s", who, status)
		}
	case m.Opcode == opContinuation:
		// Only a message whose first frames were lost (ws.lost_start) has
		// no opcode of its own.
		ev.Note = fmt.Sprintf("the %s sent the end of a message whose start was not captured (%s on the wire)", who, plural(m.WireLen, "byte", "bytes"))
	default:
		ev.Note = fmt.Sprintf("the %s sent a message with reserved opcode %d (%s)", who, m.Opcode, plural(m.Len, "byte", "bytes"))
	}
	if m.Truncated && !m.Undecodable && m.Opcode != opText && m.Opcode != opBinary && m.Opcode != opPing {
		ev.Note += "; payload shown in part" // the builders above add it themselves
	}
	addProblems(ev, m.Problems)
	a.send(ev)
}

// closeNext says what ends after a closing handshake: the TCP connection,
// or the WebSocket's HTTP/2 stream (RFC 8441 §5: END_STREAM).
var closeNext = [2]string{"the TCP connection", "its HTTP/2 stream (END_STREAM)"}

// closeCodeName names close status codes, RFC 6455 §7.4.1 and the IANA
// registry (§11.7).
func closeCodeName(code int) string {
	switch code {
	case 1000:
		return "normal closure"
	case 1001:
		return "going away"
	case 1002:
		return "protocol error"
	case 1003:
		return "unsupported data"
	case 1005:
		return "no status received"
	case 1006:
		return "abnormal closure"
	case 1007:
		return "invalid payload data"
	case 1008:
		return "policy violation"
	case 1009:
		return "message too big"
	case 1010:
		return "mandatory extension"
	case 1011:
		return "internal error"
	case 1012:
		return "service restart"
	case 1013:
		return "try again later"
	case 1014:
		return "bad gateway"
	case 1015:
		return "TLS handshake failure"
	}
	if code >= 3000 && code <= 3999 {
		return "registered by a library or framework"
	}
	if code >= 4000 && code <= 4999 {
		return "private use by the application"
	}
	return "not a defined code"
}

func probe(b []byte, fromClient bool) bool { return wsproto.Probe(b, fromClient) }

func looksLikeRequest(b []byte) bool  { return handshake.LooksLikeRequest(b) }
func looksLikeResponse(b []byte) bool { return handshake.LooksLikeResponse(b) }
