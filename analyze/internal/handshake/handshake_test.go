package handshake

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// recorder is a Handler that writes each callback as one line.
type recorder struct {
	c   *Conn
	log []string
	// reqs, resps and ups keep what the callbacks were given.
	reqs  []*Request
	resps []*Response
	ups   []*Upgrade
	// pending is PendingClient as Upgraded saw it.
	pending []byte
}

func problemCodes(ps []Problem) string {
	if len(ps) == 0 {
		return ""
	}
	codes := make([]string, len(ps))
	for i, p := range ps {
		codes[i] = p.Code
	}
	return " [" + strings.Join(codes, " ") + "]"
}

func (r *recorder) Request(q *Request) {
	r.reqs = append(r.reqs, q)
	up := ""
	if q.Upgrade {
		up = " upgrade"
	}
	r.log = append(r.log, fmt.Sprintf("p%d request %s %s %s%s%s", q.Packet, q.Method, q.Target, q.Proto, up, problemCodes(q.Problems)))
}

func (r *recorder) Response(s *Response, q *Request) {
	r.resps = append(r.resps, s)
	to := "nil"
	if q != nil {
		to = q.Method + " " + q.Target
	}
	r.log = append(r.log, fmt.Sprintf("p%d response %d %q to %s%s", s.Packet, s.Status, s.Reason, to, problemCodes(s.Problems)))
}

func (r *recorder) Upgraded(u *Upgrade) {
	r.ups = append(r.ups, u)
	r.pending = append([]byte(nil), r.c.PendingClient()...)
	r.log = append(r.log, fmt.Sprintf("upgraded path=%q sub=%q offered=%q ext=%q deflate=%s accept=%q%s",
		u.Path, u.Subprotocol, u.Offered, u.Extensions, deflateString(u.Deflate), u.Accept, problemCodes(u.Problems)))
}

func deflateString(d *Deflate) string {
	if d == nil {
		return "nil"
	}
	return fmt.Sprintf("{snct=%t cnct=%t s=%d c=%d}", d.ServerNoContextTakeover, d.ClientNoContextTakeover, d.ServerMaxWindowBits, d.ClientMaxWindowBits)
}

// driver feeds a Conn the way package analyze does and collects what is
// not HTTP.
type driver struct {
	t   testing.TB
	rec *recorder
	c   *Conn
	// ws holds each direction's WebSocket bytes (0 client, 1 server);
	// other the bytes left over in NotHTTP or Failed.
	ws, other [2][]byte
}

func newDriver(t testing.TB) *driver {
	rec := &recorder{}
	rec.c = NewConn(rec)
	return &driver{t: t, rec: rec, c: rec.c}
}

func (d *driver) feed(client bool, data []byte, packet int64) {
	dir := 1
	if client {
		dir = 0
	}
	for len(data) > 0 {
		switch d.c.State() {
		case HTTP:
			var n int
			if client {
				n = d.c.Client(data, packet)
			} else {
				n = d.c.Server(data, packet)
			}
			if n < 0 || n > len(data) {
				d.t.Fatalf("consumed %d of %d bytes", n, len(data))
			}
			data = data[n:]
			if d.c.State() == HTTP && n == 0 {
				if !client {
					d.t.Fatalf("Server consumed nothing of %q and stays HTTP", data)
				}
				return // held back
			}
			if d.c.State() == Upgraded && client {
				d.t.Fatalf("Client switched the connection to WebSocket")
			}
			if d.c.State() == Upgraded && dir == 1 {
				d.ws[0] = append(d.ws[0], d.rec.pending...)
			}
		case Upgraded:
			d.ws[dir] = append(d.ws[dir], data...)
			return
		default:
			d.other[dir] = append(d.other[dir], data...)
			return
		}
	}
}

// step is what one side sent in one packet.
type step struct {
	client bool
	data   string
}

func c(s ...string) step { return step{true, strings.Join(s, "")} }
func s(s ...string) step { return step{false, strings.Join(s, "")} }

// exchange is a connection to decode: steps in capture order, packet i+1
// carrying step i.
type exchange struct {
	name  string
	steps []step
	want  []string // the recorder's log
	state State
	err   string // Err().Code when Failed
	// wsClient and wsServer are the bytes left for the WebSocket decoder.
	wsClient, wsServer string
	// other are the client and server bytes left over in NotHTTP/Failed.
	otherClient, otherServer string
}

const (
	rfcRequest = "GET /chat HTTP/1.1\r\n" +
		"Host: server.example.com\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Origin: http://example.com\r\n" +
		"Sec-WebSocket-Protocol: chat, superchat\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"\r\n"
	rfcResponse = "HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
		"Sec-WebSocket-Protocol: chat\r\n" +
		"\r\n"
	// A masked "Hello" from the client and an unmasked one from the
	// server (RFC 6455 §5.7).
	clientHello = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"
	serverHello = "\x81\x05\x48\x65\x6c\x6c\x6f"
	rfcUpgraded = `upgraded path="/chat" sub="chat" offered=["chat" "superchat"] ext="" deflate=nil accept="ok"`
)

var (
	bigRequest  = "GET / HTTP/1.1\r\nX-Big: " + strings.Repeat("b", MaxHead) + "\r\n\r\n"
	bigResponse = "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: b\r\n", MaxHead/8)
)

var exchanges = []exchange{
	{
		name:     "rfc 6455 handshake",
		steps:    []step{c(rfcRequest), s(rfcResponse), c(clientHello), s(serverHello)},
		want:     []string{"p1 request GET /chat HTTP/1.1 upgrade", `p2 response 101 "Switching Protocols" to GET /chat`, rfcUpgraded},
		state:    Upgraded,
		wsClient: clientHello, wsServer: serverHello,
	},
	{
		name:     "frames in the same packets as the heads",
		steps:    []step{c(rfcRequest, clientHello), s(rfcResponse, serverHello), c(clientHello)},
		want:     []string{"p1 request GET /chat HTTP/1.1 upgrade", `p2 response 101 "Switching Protocols" to GET /chat`, rfcUpgraded},
		state:    Upgraded,
		wsClient: clientHello + clientHello, wsServer: serverHello,
	},
	{
		name: "keep-alive exchanges before the upgrade",
		steps: []step{
			c("GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n"),
			s("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
			c("POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello=world"),
			s("HTTP/1.1 303 See Other\r\nLocation: /chat\r\nContent-Length: 0\r\n\r\n"),
			c(rfcRequest),
			s(rfcResponse, serverHello),
		},
		want: []string{
			"p1 request GET /index.html HTTP/1.1",
			`p2 response 200 "OK" to GET /index.html`,
			"p3 request POST /form HTTP/1.1",
			`p4 response 303 "See Other" to POST /form`,
			"p5 request GET /chat HTTP/1.1 upgrade",
			`p6 response 101 "Switching Protocols" to GET /chat`,
			rfcUpgraded,
		},
		state:    Upgraded,
		wsServer: serverHello,
	},
	{
		name: "pipelined requests, chunked with trailers, HEAD",
		steps: []step{
			c("GET /a HTTP/1.1\r\nHost: a\r\n\r\n",
				"POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n",
				"HEAD /c HTTP/1.1\r\nHost: a\r\n\r\n"),
			s("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
				"1a\r\nabcdefghijklmnopqrstuvwxyz\r\nA\r\n0123456789\r\n0\r\nExpires: never\r\nX-Other: 2\r\n\r\n",
				"HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nabc",
				"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"),
			c(rfcRequest),
			s(rfcResponse),
		},
		want: []string{
			"p1 request GET /a HTTP/1.1",
			"p1 request POST /b HTTP/1.1",
			"p1 request HEAD /c HTTP/1.1",
			`p2 response 200 "OK" to GET /a`,
			`p2 response 201 "Created" to POST /b`,
			`p2 response 200 "OK" to HEAD /c`,
			"p3 request GET /chat HTTP/1.1 upgrade",
			`p4 response 101 "Switching Protocols" to GET /chat`,
			rfcUpgraded,
		},
		state: Upgraded,
	},
	{
		name: "no body for 204, 304 and interim 100 before 101",
		steps: []step{
			c("DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n"),
			s("HTTP/1.1 204 No Content\r\nContent-Length: 12\r\n\r\n"),
			c("GET /y HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"1\"\r\n\r\n"),
			s("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"),
			c(rfcRequest, clientHello),
			s("HTTP/1.1 100 Continue\r\n\r\n"),
			c(clientHello),
			s(rfcResponse, serverHello),
		},
		want: []string{
			"p1 request DELETE /x HTTP/1.1",
			`p2 response 204 "No Content" to DELETE /x`,
			"p3 request GET /y HTTP/1.1",
			`p4 response 304 "Not Modified" to GET /y`,
			"p5 request GET /chat HTTP/1.1 upgrade",
			`p6 response 100 "Continue" to GET /chat`,
			`p8 response 101 "Switching Protocols" to GET /chat`,
			rfcUpgraded,
		},
		state:    Upgraded,
		wsClient: clientHello + clientHello, wsServer: serverHello,
	},
	{
		name: "refused upgrade: held bytes are HTTP again",
		steps: []step{
			c(rfcRequest, "GET /after HTTP/1.1\r\nHost: a\r\n\r\n"),
			c("GET /later HTTP/1.1\r\nHost: a\r\n\r\n"),
			s("HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden"),
			s("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
			s("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
		},
		want: []string{
			"p1 request GET /chat HTTP/1.1 upgrade",
			`p3 response 403 "Forbidden" to GET /chat [http.upgrade_rejected]`,
			"p1 request GET /after HTTP/1.1",
			"p2 request GET /later HTTP/1.1",
			`p4 response 200 "OK" to GET /after`,
			`p5 response 200 "OK" to GET /later`,
		},
		state: HTTP,
	},
	{
		name: "refused upgrade, then a second upgrade in the held bytes",
		steps: []step{
			c(rfcRequest, rfcRequest, clientHello),
			s("HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n"),
			s(rfcResponse, serverHello),
		},
		want: []string{
			"p1 request GET /chat HTTP/1.1 upgrade",
			`p2 response 429 "Too Many Requests" to GET /chat [http.upgrade_rejected]`,
			"p1 request GET /chat HTTP/1.1 upgrade",
			`p3 response 101 "Switching Protocols" to GET /chat`,
			rfcUpgraded,
		},
		state:    Upgraded,
		wsClient: clientHello, wsServer: serverHello,
	},
	{
		name: "response without a captured request, body to the end",
		steps: []step{
			s("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of"),
			s(" this is body HTTP/1.1 200 OK\r\n\r\n"),
		},
		want:  []string{`p1 response 200 "OK" to nil`},
		state: HTTP,
	},
	{
		name:     "101 without a captured request",
		steps:    []step{s(rfcResponse, serverHello), c(clientHello)},
		want:     []string{`p1 response 101 "Switching Protocols" to nil`, `upgraded path="" sub="chat" offered=[] ext="" deflate=nil accept=""`},
		state:    Upgraded,
		wsClient: clientHello, wsServer: serverHello,
	},
	{
		name:        "client starts with a frame",
		steps:       []step{c(clientHello), s(serverHello)},
		state:       NotHTTP,
		otherClient: clientHello, otherServer: serverHello,
	},
	{
		name:        "server starts with a frame",
		steps:       []step{s(serverHello), c(clientHello)},
		state:       NotHTTP,
		otherClient: clientHello, otherServer: serverHello,
	},
	{
		name:        "server bytes that are not a response after one",
		steps:       []step{c("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), s("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", serverHello)},
		want:        []string{"p1 request GET / HTTP/1.1", `p2 response 200 "OK" to GET /`},
		state:       NotHTTP,
		otherServer: serverHello,
	},
	{
		name:        "server garbage while a request waits",
		steps:       []step{c("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), s("SSH-2.0-OpenSSH\r\n")},
		want:        []string{"p1 request GET / HTTP/1.1"},
		state:       Failed,
		err:         "http.bad_response",
		otherServer: "SSH-2.0-OpenSSH\r\n",
	},
	{
		name:        "client garbage after a request",
		steps:       []step{c("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "\x00\x01")},
		want:        []string{"p1 request GET / HTTP/1.1"},
		state:       Failed,
		err:         "http.bad_request",
		otherClient: "\x00\x01",
	},
	{
		name:  "malformed status line",
		steps: []step{c("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), s("HTTP/1.1 2000 OK\r\n\r\n")},
		want:  []string{"p1 request GET / HTTP/1.1"},
		state: Failed,
		err:   "http.bad_response",
	},
	{
		name:  "malformed request head",
		steps: []step{c("GET / HTTP/1.1\r\nHost a\r\n\r\n")},
		state: Failed,
		err:   "http.bad_request",
	},
	{
		name:  "conflicting content lengths",
		steps: []step{c("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")},
		state: Failed,
		err:   "http.bad_request",
	},
	{
		name:        "broken chunk framing",
		steps:       []step{c("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n")},
		want:        []string{"p1 request POST / HTTP/1.1"},
		state:       Failed,
		err:         "http.bad_chunk",
		otherClient: "d\r\n",
	},
	{
		name: "hostile lengths are counted, not allocated",
		steps: []step{
			c("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\nsome of it"),
			s("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFF\r\nsome of it"),
		},
		want:  []string{"p1 request POST / HTTP/1.1", `p2 response 200 "OK" to POST /`},
		state: HTTP,
	},
	{
		name:  "chunk size past the limit",
		steps: []step{s("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1FFFFFFFFFFFFFFF\r\n")},
		want:  []string{`p1 response 200 "OK" to nil`},
		state: Failed,
		err:   "http.bad_chunk",
		// The last digit overflows; it and what follows are left.
		otherServer: "F\r\n",
	},
	{
		name: "switch to another protocol",
		steps: []step{
			c("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
			s("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", "\x00\x00\x00\x04\x00\x00\x00\x00\x00"),
		},
		want:        []string{"p1 request GET / HTTP/1.1", `p2 response 101 "Switching Protocols" to GET /`},
		state:       Failed,
		err:         "http.not_websocket",
		otherServer: "\x00\x00\x00\x04\x00\x00\x00\x00\x00",
	},
	{
		name: "CONNECT tunnel",
		steps: []step{
			c("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
			s("HTTP/1.1 200 Connection Established\r\n\r\n", "\x16\x03\x03"),
			c("\x16\x03\x01"),
		},
		want:        []string{"p1 request CONNECT example.com:443 HTTP/1.1", `p2 response 200 "Connection Established" to CONNECT example.com:443`},
		state:       NotHTTP,
		otherClient: "\x16\x03\x01", otherServer: "\x16\x03\x03",
	},
	{
		name: "empty lines between messages and bare LF heads",
		steps: []step{
			c("POST / HTTP/1.1\nHost: a\nContent-Length: 2\n\nab\r\n\r\n", "GET /2 HTTP/1.1\nHost: a\n\n"),
			s("HTTP/1.1 200 OK\nContent-Length: 1\n\nx\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\ny"),
		},
		want: []string{
			"p1 request POST / HTTP/1.1",
			"p1 request GET /2 HTTP/1.1",
			`p2 response 200 "OK" to POST /`,
			`p2 response 200 "OK" to GET /2`,
		},
		state: HTTP,
	},
	{
		name:  "status line without a reason phrase",
		steps: []step{s("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")},
		want:  []string{`p1 response 200 "" to nil`},
		state: HTTP,
	},
	{
		name: "request body before holding",
		steps: []step{
			c("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 4\r\n\r\nbody", clientHello),
			s("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
		},
		want: []string{
			"p1 request GET /chat HTTP/1.1 upgrade",
			`p2 response 101 "Switching Protocols" to GET /chat`,
			`upgraded path="/chat" sub="" offered=[] ext="" deflate=nil accept="ok"`,
		},
		state:    Upgraded,
		wsClient: clientHello,
	},
	{
		name:        "held bytes past the limit",
		steps:       []step{c(rfcRequest, strings.Repeat("x", MaxPending)), c("y"), s(rfcResponse)},
		want:        []string{"p1 request GET /chat HTTP/1.1 upgrade"},
		state:       Failed,
		err:         "http.pending_too_large",
		otherClient: "y", otherServer: rfcResponse,
	},
	{
		name:  "request head past the limit",
		steps: []step{c(bigRequest)},
		state: Failed,
		err:   "http.head_too_large",
		// The head takes MaxHead bytes; the rest is left.
		otherClient: bigRequest[MaxHead:],
	},
	{
		name:        "response head past the limit",
		steps:       []step{s(bigResponse)},
		state:       Failed,
		err:         "http.head_too_large",
		otherServer: bigResponse[MaxHead:],
	},
}

// check compares what a driver collected with the exchange.
func (tc *exchange) check(t *testing.T, how string, d *driver) {
	t.Helper()
	if !slices.Equal(d.rec.log, tc.want) {
		t.Errorf("%s: callbacks:\n%s\nwant:\n%s", how, strings.Join(d.rec.log, "\n"), strings.Join(tc.want, "\n"))
	}
	if got := d.c.State(); got != tc.state {
		t.Errorf("%s: State() = %v, want %v", how, got, tc.state)
	}
	errCode := ""
	if p := d.c.Err(); p != nil {
		errCode = p.Code
		if !strings.Contains(p.Msg, "RFC ") {
			t.Errorf("%s: Err().Msg = %q names no RFC section", how, p.Msg)
		}
	}
	if errCode != tc.err {
		t.Errorf("%s: Err() = %v, want code %q", how, d.c.Err(), tc.err)
	}
	if got := string(d.ws[0]); got != tc.wsClient {
		t.Errorf("%s: client WebSocket bytes = %q, want %q", how, got, tc.wsClient)
	}
	if got := string(d.ws[1]); got != tc.wsServer {
		t.Errorf("%s: server WebSocket bytes = %q, want %q", how, got, tc.wsServer)
	}
	if got := string(d.other[0]); got != tc.otherClient {
		t.Errorf("%s: client bytes left over = %q, want %q", how, got, tc.otherClient)
	}
	if got := string(d.other[1]); got != tc.otherServer {
		t.Errorf("%s: server bytes left over = %q, want %q", how, got, tc.otherServer)
	}
}

func TestExchanges(t *testing.T) {
	for _, tc := range exchanges {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t)
			for i, st := range tc.steps {
				d.feed(st.client, []byte(st.data), int64(i+1))
			}
			tc.check(t, "whole packets", d)
		})
	}
}

// TestSplits feeds every exchange cut at random points, and one byte at
// a time: heads split anywhere must decode the same.
func TestSplits(t *testing.T) {
	rng := rand.New(rand.NewPCG(6455, 7692))
	for _, tc := range exchanges {
		t.Run(tc.name, func(t *testing.T) {
			for round := range 20 {
				d := newDriver(t)
				for i, st := range tc.steps {
					data := []byte(st.data)
					for len(data) > 0 {
						k := 1 + rng.IntN(len(data))
						if round%4 == 0 {
							k = 1 + rng.IntN(min(len(data), 8))
						}
						// A fresh copy, so nothing may keep the caller's buffer.
						piece := slices.Clone(data[:k])
						d.feed(st.client, piece, int64(i+1))
						clear(piece)
						data = data[k:]
					}
				}
				tc.check(t, fmt.Sprintf("random cuts, round %d", round), d)
			}
			if len(strings.Join(stepsData(tc.steps), "")) > 4096 {
				return // one byte at a time is slow for the limit cases
			}
			d := newDriver(t)
			for i, st := range tc.steps {
				for j := range len(st.data) {
					d.feed(st.client, []byte{st.data[j]}, int64(i+1))
				}
			}
			tc.check(t, "one byte at a time", d)
		})
	}
}

func stepsData(steps []step) []string {
	var out []string
	for _, st := range steps {
		out = append(out, st.data)
	}
	return out
}

// TestProblemMessages checks that every problem the exchanges produce names
// an RFC section.
func TestProblemMessages(t *testing.T) {
	for _, tc := range exchanges {
		d := newDriver(t)
		for i, st := range tc.steps {
			d.feed(st.client, []byte(st.data), int64(i+1))
		}
		var all []Problem
		for _, r := range d.rec.reqs {
			all = append(all, r.Problems...)
		}
		for _, r := range d.rec.resps {
			all = append(all, r.Problems...)
		}
		for _, u := range d.rec.ups {
			all = append(all, u.Problems...)
		}
		for _, p := range all {
			if !strings.Contains(p.Msg, "(RFC ") {
				t.Errorf("%s: problem %s: %q names no RFC section", tc.name, p.Code, p.Msg)
			}
		}
	}
}

func TestUpgradeRejectedMessage(t *testing.T) {
	d := newDriver(t)
	d.feed(true, []byte(rfcRequest), 1)
	d.feed(false, []byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"), 2)
	if len(d.rec.resps) != 1 || len(d.rec.resps[0].Problems) != 1 {
		t.Fatalf("responses = %v, want one with one problem", d.rec.log)
	}
	p := d.rec.resps[0].Problems[0]
	want := "the server refused to switch to WebSocket: 403 Forbidden"
	if p.Code != "http.upgrade_rejected" || !strings.HasPrefix(p.Msg, want) {
		t.Errorf("Problems[0] = %+v, want http.upgrade_rejected %q…", p, want)
	}
}

// TestPipelineBound sends more requests than are remembered: the oldest
// responses come with a nil request, the rest stay paired.
func TestPipelineBound(t *testing.T) {
	const n = maxOutstanding + 6
	d := newDriver(t)
	for i := range n {
		d.feed(true, fmt.Appendf(nil, "GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", i), 1)
	}
	for range n {
		d.feed(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 2)
	}
	resps := d.rec.log[n:]
	for i, line := range resps {
		want := fmt.Sprintf(`p2 response 200 "OK" to GET /%d`, i)
		if i < n-maxOutstanding {
			want = `p2 response 200 "OK" to nil`
		}
		if line != want {
			t.Errorf("response %d: %s, want %s", i, line, want)
		}
	}
	if len(d.c.queue) != 0 || d.c.forgotten != 0 {
		t.Errorf("after all responses: %d queued, %d forgotten, want none", len(d.c.queue), d.c.forgotten)
	}
}

func TestPackets(t *testing.T) {
	d := newDriver(t)
	req := rfcRequest
	d.feed(true, []byte(req[:10]), 7)
	d.feed(true, []byte(req[10:]), 8)
	d.feed(false, []byte(rfcResponse[:len(rfcResponse)-1]), 9)
	d.feed(false, []byte(rfcResponse[len(rfcResponse)-1:]), 10)
	if got := d.rec.reqs[0].Packet; got != 8 {
		t.Errorf("Request.Packet = %d, want 8", got)
	}
	if got := d.rec.resps[0].Packet; got != 10 {
		t.Errorf("Response.Packet = %d, want 10", got)
	}
}

func TestHeaderFields(t *testing.T) {
	d := newDriver(t)
	d.feed(true, []byte("POST /x HTTP/1.1\r\nHost: h.example\r\nTransfer-Encoding: chunked\r\nPragma: no-cache\r\nx-lower: 1\r\nX-Lower: 2\r\n\r\n0\r\n\r\n"), 1)
	d.feed(false, []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\n0\r\n\r\n"), 2)
	if len(d.rec.reqs) != 1 || len(d.rec.resps) != 1 {
		t.Fatalf("log = %q, want a request and a response", d.rec.log)
	}
	rh := d.rec.reqs[0].Header
	for name, want := range map[string][]string{
		"Host":              {"h.example"},
		"Transfer-Encoding": {"chunked"},
		"Pragma":            {"no-cache"},
		"X-Lower":           {"1", "2"},
		"Cache-Control":     nil, // net/http would add it for Pragma
	} {
		if got := rh.Values(name); !slices.Equal(got, want) {
			t.Errorf("Request.Header[%q] = %q, want %q", name, got, want)
		}
	}
	sh := d.rec.resps[0].Header
	for name, want := range map[string][]string{
		"Transfer-Encoding": {"chunked"},
		"Content-Length":    {"3"},
		"Connection":        {"keep-alive"},
	} {
		if got := sh.Values(name); !slices.Equal(got, want) {
			t.Errorf("Response.Header[%q] = %q, want %q", name, got, want)
		}
	}
	if d.c.State() != HTTP {
		t.Errorf("State() = %v, want HTTP", d.c.State())
	}
}

func TestGap(t *testing.T) {
	tests := []struct {
		name   string
		steps  []step
		client bool
		want   State
	}{
		{"before anything", nil, true, Failed},
		{"inside a body", []step{c("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab")}, true, Failed},
		{"server side while holding", []step{c(rfcRequest)}, false, Failed},
		{"after the upgrade", []step{c(rfcRequest), s(rfcResponse)}, true, Upgraded},
		{"not HTTP", []step{c(clientHello)}, false, NotHTTP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t)
			for i, st := range tc.steps {
				d.feed(st.client, []byte(st.data), int64(i+1))
			}
			d.c.Gap(tc.client)
			if got := d.c.State(); got != tc.want {
				t.Errorf("Gap(%t) then State() = %v, want %v", tc.client, got, tc.want)
			}
			if tc.want == Failed && (d.c.Err() == nil || d.c.Err().Code != "http.gap") {
				t.Errorf("Gap(%t) then Err() = %v, want http.gap", tc.client, d.c.Err())
			}
			if n := d.c.Client([]byte("GET / HTTP/1.1\r\n\r\n"), 9); tc.want != HTTP && n != 0 {
				t.Errorf("Client after Gap = %d, want 0", n)
			}
		})
	}
}

func TestReset(t *testing.T) {
	d := newDriver(t)
	d.feed(true, []byte(rfcRequest+clientHello), 1)
	d.feed(false, []byte(rfcResponse), 2)
	if d.c.State() != Upgraded {
		t.Fatalf("State() = %v, want Upgraded", d.c.State())
	}
	rec := &recorder{}
	d.c.Reset(rec)
	rec.c = d.c
	if d.c.State() != HTTP || len(d.c.PendingClient()) != 0 || d.c.Err() != nil {
		t.Fatalf("after Reset: State() = %v, PendingClient() = %q, Err() = %v", d.c.State(), d.c.PendingClient(), d.c.Err())
	}
	d.rec = rec
	d.ws = [2][]byte{}
	tc := exchanges[0]
	for i, st := range tc.steps {
		d.feed(st.client, []byte(st.data), int64(i+1))
	}
	tc.check(t, "after Reset", d)
}

func TestClientReturns(t *testing.T) {
	rec := &recorder{}
	c := NewConn(rec)
	rec.c = c
	data := []byte(rfcRequest + clientHello)
	if n := c.Client(data, 1); n != len(rfcRequest) {
		t.Fatalf("Client(request+frame) = %d, want %d (the end of the request)", n, len(rfcRequest))
	}
	if n := c.Client(data[len(rfcRequest):], 1); n != 0 {
		t.Fatalf("Client(frame) while holding = %d, want 0", n)
	}
	if got := string(c.PendingClient()); got != clientHello {
		t.Fatalf("PendingClient() = %q, want %q", got, clientHello)
	}
	data = []byte(rfcResponse + serverHello)
	if n := c.Server(data, 2); n != len(rfcResponse) {
		t.Fatalf("Server(101+frame) = %d, want %d", n, len(rfcResponse))
	}
	if n := c.Server(data[len(rfcResponse):], 2); n != 0 {
		t.Fatalf("Server after the upgrade = %d, want 0", n)
	}
	if n := c.Client([]byte(clientHello), 3); n != 0 {
		t.Fatalf("Client after the upgrade = %d, want 0", n)
	}
}

// nopHandler ignores what it is given.
type nopHandler struct{}

func (nopHandler) Request(*Request)             {}
func (nopHandler) Response(*Response, *Request) {}
func (nopHandler) Upgraded(*Upgrade)            {}

// BenchmarkHandshake decodes the RFC 6455 handshake on a reused Conn.
func BenchmarkHandshake(b *testing.B) {
	req, resp := []byte(rfcRequest), []byte(rfcResponse+serverHello)
	c := NewConn(nopHandler{})
	b.SetBytes(int64(len(req) + len(resp)))
	b.ReportAllocs()
	for b.Loop() {
		c.Reset(nopHandler{})
		c.Client(req, 1)
		if n := c.Server(resp, 2); n != len(rfcResponse) {
			b.Fatalf("Server = %d, want %d", n, len(rfcResponse))
		}
	}
}
