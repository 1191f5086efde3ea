package handshake

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestAccept(t *testing.T) {
	tests := []struct{ key, want string }{
		{"dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}, // RFC 6455 §1.3
		{"x3JJHMbDL1EzLkh9GBhXDw==", "HSmrc0sMlYUkAGmm5OPpG2HaGWk="}, // RFC 6455 §1.2
		{"", "Kfh9QIsMVZcl6xEPYxPHzW8SZ8w="},
	}
	for _, tc := range tests {
		if got := Accept(tc.key); got != tc.want {
			t.Errorf("Accept(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func TestLooksLike(t *testing.T) {
	tests := []struct {
		data          string
		request, resp bool
	}{
		{"", true, true},
		{"G", true, false},
		{"GET", true, false},
		{"GET ", true, false},
		{"GET /chat HTTP/1.1", true, false},
		{"GETX", false, false},
		{"get / HTTP/1.1", false, false},
		{"POST /", true, false},
		{"PO", true, false},
		{"P", true, false},
		{"PATCH /", true, false},
		{"PUT /", true, false},
		{"HEAD /", true, false},
		{"H", true, true},
		{"HTTP/1.", false, true},
		{"HTTP/1.1 101 Switching Protocols", false, true},
		{"HTTP/2 200", false, false},
		{"HTTP/", false, true},
		{"DELETE /", true, false},
		{"OPTIONS *", true, false},
		{"CONNECT h:1", true, false},
		{"TRACE /", true, false},
		{"PRI * HTTP/2.0", false, false},
		{"PROPFIND /", false, false},
		{"\x81\x05Hello", false, false},
		{"\r\nGET /", false, false},
		{" GET /", false, false},
	}
	for _, tc := range tests {
		if got := LooksLikeRequest([]byte(tc.data)); got != tc.request {
			t.Errorf("LooksLikeRequest(%q) = %t, want %t", tc.data, got, tc.request)
		}
		if got := LooksLikeResponse([]byte(tc.data)); got != tc.resp {
			t.Errorf("LooksLikeResponse(%q) = %t, want %t", tc.data, got, tc.resp)
		}
	}
}

func codes(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Code)
	}
	return out
}

func TestRequestChecks(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		upgrade  bool
		key      string
		version  string
		protos   []string
		exts     string
		problems []string
		hold     bool // the client's next bytes are held
	}{
		{
			name:    "rfc 6455",
			raw:     rfcRequest,
			upgrade: true, key: "dGhlIHNhbXBsZSBub25jZQ==", version: "13",
			protos: []string{"chat", "superchat"},
			hold:   true,
		},
		{
			name: "plain GET",
			raw:  "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		},
		{
			name: "tokens in lists, any case, protocols over several lines",
			raw: "GET /ws?x=1 HTTP/1.1\r\n" +
				"Host: a\r\n" +
				"Connection: keep-alive, UPGRADE\r\n" +
				"Upgrade: h2c, WebSocket\r\n" +
				"Sec-WebSocket-Key:  AAAAAAAAAAAAAAAAAAAAAA== \r\n" +
				"Sec-WebSocket-Version: 13\r\n" +
				"Sec-WebSocket-Protocol: v2.stomp\r\n" +
				"Sec-WebSocket-Protocol: v1.stomp,, mqtt\r\n" +
				"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
				"Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n" +
				"\r\n",
			upgrade: true, key: "AAAAAAAAAAAAAAAAAAAAAA==", version: "13",
			protos: []string{"v2.stomp", "v1.stomp", "mqtt"},
			exts:   "permessage-deflate; client_max_window_bits, x-webkit-deflate-frame",
			hold:   true,
		},
		{
			name: "connection without upgrade",
			raw: "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n" +
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
			upgrade: true, key: "dGhlIHNhbXBsZSBub25jZQ==", version: "13",
			problems: []string{"http.bad_connection"},
			hold:     true,
		},
		{
			name: "key without upgrade field",
			raw: "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
			upgrade: true, key: "dGhlIHNhbXBsZSBub25jZQ==", version: "13",
			problems: []string{"http.bad_upgrade"},
			hold:     true,
		},
		{
			name: "every requirement broken",
			raw: "POST / HTTP/1.0\r\nUpgrade: websocket\r\n" +
				"Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 8\r\n\r\n",
			upgrade: true, key: "c2hvcnQ=", version: "8",
			problems: []string{"http.bad_method", "http.bad_proto", "http.bad_host", "http.bad_connection", "http.bad_key", "http.bad_version"},
			hold:     true,
		},
		{
			name:     "missing key and version",
			raw:      "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
			upgrade:  true,
			problems: []string{"http.bad_key", "http.bad_version"},
			hold:     true,
		},
		{
			name: "key not base64, version twice",
			raw: "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: not base64 at all!!!!!!\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13\r\n\r\n",
			upgrade: true, key: "not base64 at all!!!!!!", version: "13",
			problems: []string{"http.bad_key", "http.bad_version"},
			hold:     true,
		},
		{
			name: "two keys",
			raw: "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
			upgrade: true, key: "dGhlIHNhbXBsZSBub25jZQ==", version: "13",
			problems: []string{"http.bad_key"},
			hold:     true,
		},
		{
			name: "h2c upgrade holds but is not WebSocket",
			raw:  "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n",
			hold: true,
		},
		{
			name: "upgrade field without connection token does not hold",
			raw:  "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t)
			d.feed(true, []byte(tc.raw), 1)
			if len(d.rec.reqs) != 1 {
				t.Fatalf("Client(%q): %d requests, want one (err %v)", tc.raw, len(d.rec.reqs), d.c.Err())
			}
			r := d.rec.reqs[0]
			if r.Upgrade != tc.upgrade || r.Key != tc.key || r.Version != tc.version {
				t.Errorf("Client(%q): Upgrade, Key, Version = %t, %q, %q, want %t, %q, %q", tc.raw, r.Upgrade, r.Key, r.Version, tc.upgrade, tc.key, tc.version)
			}
			if !slices.Equal(r.Protocols, tc.protos) {
				t.Errorf("Client(%q): Protocols = %q, want %q", tc.raw, r.Protocols, tc.protos)
			}
			if r.Extensions != tc.exts {
				t.Errorf("Client(%q): Extensions = %q, want %q", tc.raw, r.Extensions, tc.exts)
			}
			if got := codes(r.Problems); !slices.Equal(got, tc.problems) {
				t.Errorf("Client(%q): Problems = %q, want %q", tc.raw, got, tc.problems)
			}
			for _, p := range r.Problems {
				if !strings.Contains(p.Msg, "(RFC 6455 §") {
					t.Errorf("problem %s: %q names no RFC 6455 section", p.Code, p.Msg)
				}
			}
			if n := d.c.Client([]byte("GET /next HTTP/1.1\r\nHost: a\r\n\r\n"), 2); (n == 0) != tc.hold {
				t.Errorf("Client(next request) after %q = %d, want held %t", tc.raw, n, tc.hold)
			}
		})
	}
}

// upgradeRequest builds an upgrade request for /chat with the RFC's key
// and extra field lines.
func upgradeRequest(extra ...string) string {
	return "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		strings.Join(extra, "") + "\r\n"
}

// switching builds a 101 response with extra field lines.
func switching(extra ...string) string {
	return "HTTP/1.1 101 Switching Protocols\r\n" + strings.Join(extra, "") + "\r\n"
}

const (
	upgradeWS   = "Upgrade: websocket\r\n"
	connUpgrade = "Connection: Upgrade\r\n"
	goodAccept  = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
)

func TestUpgradeChecks(t *testing.T) {
	defaultDeflate := &Deflate{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}
	tests := []struct {
		name     string
		req      string // "" when not captured
		resp     string
		want     Upgrade // Problems is compared by code, below
		problems []string
		msg      string // a problem's message contains it
	}{
		{
			name: "minimal",
			req:  upgradeRequest(),
			resp: switching(upgradeWS, connUpgrade, goodAccept),
			want: Upgrade{Path: "/chat", Offered: []string{}, Accept: "ok"},
		},
		{
			name: "tokens in other case and lists",
			req:  upgradeRequest(),
			resp: switching("Upgrade: WebSocket\r\n", "Connection: keep-alive, upgrade\r\n", goodAccept),
			want: Upgrade{Path: "/chat", Offered: []string{}, Accept: "ok"},
		},
		{
			name:     "bad accept",
			req:      upgradeRequest(),
			resp:     switching(upgradeWS, connUpgrade, "Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n"),
			want:     Upgrade{Path: "/chat", Offered: []string{}, Accept: "bad"},
			problems: []string{"http.bad_accept"},
			msg:      "Sec-WebSocket-Accept does not match the key (RFC 6455 §4.2.2)",
		},
		{
			name:     "two accepts",
			req:      upgradeRequest(),
			resp:     switching(upgradeWS, connUpgrade, goodAccept, goodAccept),
			want:     Upgrade{Path: "/chat", Offered: []string{}, Accept: "bad"},
			problems: []string{"http.bad_accept"},
		},
		{
			name:     "missing accept",
			req:      upgradeRequest(),
			resp:     switching(upgradeWS, connUpgrade),
			want:     Upgrade{Path: "/chat", Offered: []string{}, Accept: "missing"},
			problems: []string{"http.bad_accept"},
			msg:      "missing",
		},
		{
			name:     "response without upgrade and connection",
			req:      upgradeRequest(),
			resp:     switching(goodAccept),
			want:     Upgrade{Path: "/chat", Offered: []string{}, Accept: "ok"},
			problems: []string{"http.bad_upgrade", "http.bad_connection"},
		},
		{
			name:     "response upgrading to something else",
			req:      upgradeRequest(),
			resp:     switching("Upgrade: h2c\r\n", "Connection: close\r\n", goodAccept),
			want:     Upgrade{Path: "/chat", Offered: []string{}, Accept: "ok"},
			problems: []string{"http.bad_upgrade", "http.bad_connection"},
			msg:      `"h2c"`,
		},
		{
			name: "subprotocol selected",
			req:  upgradeRequest("Sec-WebSocket-Protocol: mqtt, wamp.2.json\r\n"),
			resp: switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Protocol: wamp.2.json\r\n"),
			want: Upgrade{Path: "/chat", Subprotocol: "wamp.2.json", Offered: []string{"mqtt", "wamp.2.json"}, Accept: "ok"},
		},
		{
			name:     "subprotocol not offered",
			req:      upgradeRequest("Sec-WebSocket-Protocol: mqtt\r\n"),
			resp:     switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Protocol: chat\r\n"),
			want:     Upgrade{Path: "/chat", Subprotocol: "chat", Offered: []string{"mqtt"}, Accept: "ok"},
			problems: []string{"ws.subprotocol_not_selected"},
			msg:      `"chat"`,
		},
		{
			name:     "subprotocol when none offered",
			req:      upgradeRequest(),
			resp:     switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Protocol: chat\r\n"),
			want:     Upgrade{Path: "/chat", Subprotocol: "chat", Offered: []string{}, Accept: "ok"},
			problems: []string{"ws.subprotocol_not_selected"},
		},
		{
			name:     "offered subprotocols, none selected",
			req:      upgradeRequest("Sec-WebSocket-Protocol: mqtt, chat\r\n"),
			resp:     switching(upgradeWS, connUpgrade, goodAccept),
			want:     Upgrade{Path: "/chat", Offered: []string{"mqtt", "chat"}, Accept: "ok"},
			problems: []string{"ws.subprotocol_not_selected"},
			msg:      `"mqtt", "chat"`,
		},
		{
			name:     "two subprotocols selected",
			req:      upgradeRequest("Sec-WebSocket-Protocol: mqtt, chat\r\n"),
			resp:     switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Protocol: mqtt, chat\r\n"),
			want:     Upgrade{Path: "/chat", Subprotocol: "mqtt, chat", Offered: []string{"mqtt", "chat"}, Accept: "ok"},
			problems: []string{"ws.subprotocol_not_selected"},
		},
		{
			name: "permessage-deflate with defaults",
			req:  upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"),
			resp: switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
			want: Upgrade{Path: "/chat", Offered: []string{}, Extensions: "permessage-deflate", Deflate: defaultDeflate, Accept: "ok"},
		},
		{
			name: "permessage-deflate with every parameter, quoted value",
			req:  upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, permessage-deflate\r\n"),
			resp: switching(upgradeWS, connUpgrade, goodAccept,
				"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=\"10\"\r\n"),
			want: Upgrade{Path: "/chat", Offered: []string{}, Accept: "ok",
				Extensions: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=\"10\"",
				Deflate:    &Deflate{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 12, ClientMaxWindowBits: 10}},
		},
		{
			name: "permessage-deflate beside another extension, over two lines",
			req:  upgradeRequest("Sec-WebSocket-Extensions: x-foo, permessage-deflate\r\n"),
			resp: switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Extensions: x-foo; a=1\r\n", "Sec-WebSocket-Extensions: PerMessage-Deflate;Server_Max_Window_Bits=8\r\n"),
			want: Upgrade{Path: "/chat", Offered: []string{}, Accept: "ok",
				Extensions: "x-foo; a=1, PerMessage-Deflate;Server_Max_Window_Bits=8",
				Deflate:    &Deflate{ServerMaxWindowBits: 8, ClientMaxWindowBits: 15}},
		},
		{
			name:     "extension not offered",
			req:      upgradeRequest(),
			resp:     switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
			want:     Upgrade{Path: "/chat", Offered: []string{}, Extensions: "permessage-deflate", Deflate: defaultDeflate, Accept: "ok"},
			problems: []string{"ws.extension_not_offered"},
			msg:      `"permessage-deflate"`,
		},
		{
			name: "client_max_window_bits not offered, bad values",
			req:  upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
			resp: switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=9; server_max_window_bits=016\r\n"),
			want: Upgrade{Path: "/chat", Offered: []string{}, Accept: "ok",
				Extensions: "permessage-deflate; client_max_window_bits=9; server_max_window_bits=016",
				Deflate:    &Deflate{ServerMaxWindowBits: 15, ClientMaxWindowBits: 9}},
			problems: []string{"ws.bad_extension_params", "ws.bad_extension_params"},
			msg:      "RFC 7692 §7.1.2.2",
		},
		{
			name: "server_max_window_bits asked for, answered with as much",
			req:  upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10; server_no_context_takeover\r\n"),
			resp: switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10; server_no_context_takeover\r\n"),
			want: Upgrade{Path: "/chat", Offered: []string{}, Accept: "ok",
				Extensions: "permessage-deflate; server_max_window_bits=10; server_no_context_takeover",
				Deflate:    &Deflate{ServerNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 15}},
		},
		{
			name:     "server_max_window_bits asked for, not answered",
			req:      upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n"),
			resp:     switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
			want:     Upgrade{Path: "/chat", Offered: []string{}, Accept: "ok", Extensions: "permessage-deflate", Deflate: defaultDeflate},
			problems: []string{"ws.bad_extension_params"},
			msg:      "asked for server_max_window_bits=10 and the answer has none",
		},
		{
			name: "server_max_window_bits asked for, answered with more",
			req:  upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n"),
			resp: switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12\r\n"),
			want: Upgrade{Path: "/chat", Offered: []string{}, Accept: "ok",
				Extensions: "permessage-deflate; server_max_window_bits=12",
				Deflate:    &Deflate{ServerMaxWindowBits: 12, ClientMaxWindowBits: 15}},
			problems: []string{"ws.bad_extension_params"},
			msg:      "asked for server_max_window_bits=10 and the answer has 12",
		},
		{
			name: "server_no_context_takeover asked for, not answered",
			req:  upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits\r\n"),
			resp: switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15\r\n"),
			want: Upgrade{Path: "/chat", Offered: []string{}, Accept: "ok",
				Extensions: "permessage-deflate; client_max_window_bits=15", Deflate: defaultDeflate},
			problems: []string{"ws.bad_extension_params"},
			msg:      "RFC 7692 §7.1.1.1",
		},
		{
			name: "client_max_window_bits offered with a value, answered with more",
			req:  upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n"),
			resp: switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12\r\n"),
			want: Upgrade{Path: "/chat", Offered: []string{}, Accept: "ok",
				Extensions: "permessage-deflate; client_max_window_bits=12",
				Deflate:    &Deflate{ServerMaxWindowBits: 15, ClientMaxWindowBits: 12}},
			problems: []string{"ws.bad_extension_params"},
			msg:      "client_max_window_bits=10 and the answer has 12",
		},
		{
			name: "client_max_window_bits offered with a value, answered with less",
			req:  upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10, permessage-deflate; client_max_window_bits=12\r\n"),
			resp: switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=9\r\n"),
			want: Upgrade{Path: "/chat", Offered: []string{}, Accept: "ok",
				Extensions: "permessage-deflate; client_max_window_bits=9",
				Deflate:    &Deflate{ServerMaxWindowBits: 15, ClientMaxWindowBits: 9}},
		},
		{
			name: "two offers, the second accepted",
			req:  upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10, permessage-deflate\r\n"),
			resp: switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
			want: Upgrade{Path: "/chat", Offered: []string{}, Accept: "ok", Extensions: "permessage-deflate", Deflate: defaultDeflate},
		},
		{
			name: "two offers, neither accepted as made",
			req:  upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10, permessage-deflate; server_no_context_takeover; server_max_window_bits=11\r\n"),
			resp: switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=11\r\n"),
			want: Upgrade{Path: "/chat", Offered: []string{}, Accept: "ok",
				Extensions: "permessage-deflate; server_max_window_bits=11",
				Deflate:    &Deflate{ServerMaxWindowBits: 11, ClientMaxWindowBits: 15}},
			problems: []string{"ws.bad_extension_params"},
			msg:      "accepts none of the client's 2 offers",
		},
		{
			name: "unknown, repeated and valued parameters",
			req:  upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
			resp: switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover=1; x=y; server_max_window_bits; server_no_context_takeover\r\n"),
			want: Upgrade{Path: "/chat", Offered: []string{}, Accept: "ok",
				Extensions: "permessage-deflate; server_no_context_takeover=1; x=y; server_max_window_bits; server_no_context_takeover",
				Deflate:    &Deflate{ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}},
			problems: []string{"ws.bad_extension_params", "ws.bad_extension_params", "ws.bad_extension_params", "ws.bad_extension_params"},
		},
		{
			name: "deflate accepted twice",
			req:  upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate\r\n"),
			resp: switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10, permessage-deflate\r\n"),
			want: Upgrade{Path: "/chat", Offered: []string{}, Accept: "ok",
				Extensions: "permessage-deflate; server_max_window_bits=10, permessage-deflate",
				Deflate:    &Deflate{ServerMaxWindowBits: 10, ClientMaxWindowBits: 15}},
			problems: []string{"ws.bad_extension_params"},
		},
		{
			name: "malformed extensions",
			req:  upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
			resp: switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=\"1 0\"\r\n"),
			want: Upgrade{Path: "/chat", Offered: []string{}, Accept: "ok",
				Extensions: "permessage-deflate; client_max_window_bits=\"1 0\""},
			problems: []string{"ws.bad_extension_params"},
			msg:      "RFC 6455 §9.1",
		},
		{
			name:     "request that did not ask",
			req:      "GET /plain HTTP/1.1\r\nHost: a\r\n\r\n",
			resp:     switching(upgradeWS, connUpgrade, goodAccept),
			want:     Upgrade{Path: "/plain", Offered: []string{}, Accept: "bad"},
			problems: []string{"http.bad_upgrade", "http.bad_accept"},
		},
		{
			name: "request not captured",
			resp: switching(upgradeWS, connUpgrade, goodAccept, "Sec-WebSocket-Protocol: chat\r\n", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=11\r\n"),
			want: Upgrade{Subprotocol: "chat", Extensions: "permessage-deflate; client_max_window_bits=11",
				Deflate: &Deflate{ServerMaxWindowBits: 15, ClientMaxWindowBits: 11}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t)
			if tc.req != "" {
				d.feed(true, []byte(tc.req), 1)
			}
			d.feed(false, []byte(tc.resp), 2)
			if len(d.rec.ups) != 1 {
				t.Fatalf("Server(%q): log %q, err %v; want one upgrade", tc.resp, d.rec.log, d.c.Err())
			}
			got := *d.rec.ups[0]
			problems := got.Problems
			got.Problems = nil
			if got.Offered == nil {
				got.Offered = []string{}
			}
			if tc.want.Offered == nil {
				tc.want.Offered = []string{}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Server(%q):\n got %s\nwant %s", tc.resp, upgradeString(&got), upgradeString(&tc.want))
			}
			if gotCodes := codes(problems); !slices.Equal(gotCodes, tc.problems) {
				t.Errorf("Server(%q): Problems = %q, want %q", tc.resp, problems, tc.problems)
			}
			found := tc.msg == ""
			for _, p := range problems {
				found = found || strings.Contains(p.Msg, tc.msg)
				if !strings.Contains(p.Msg, "(RFC ") {
					t.Errorf("problem %s: %q names no RFC section", p.Code, p.Msg)
				}
			}
			if !found {
				t.Errorf("Server(%q): Problems = %q, want a message containing %q", tc.resp, problems, tc.msg)
			}
			if d.c.State() != Upgraded {
				t.Errorf("State() = %v, want Upgraded", d.c.State())
			}
		})
	}
}

func upgradeString(u *Upgrade) string {
	return fmt.Sprintf("path=%q sub=%q offered=%q ext=%q deflate=%s accept=%q", u.Path, u.Subprotocol, u.Offered, u.Extensions, deflateString(u.Deflate), u.Accept)
}

func TestParseExtensions(t *testing.T) {
	tests := []struct {
		in   string
		want string // extensions as name(param=value,...) joined by " "
		err  bool
	}{
		{"", "", false},
		{"permessage-deflate", "permessage-deflate()", false},
		{"permessage-deflate; client_max_window_bits", "permessage-deflate(client_max_window_bits)", false},
		{"permessage-deflate;client_max_window_bits=10 ;server_no_context_takeover", "permessage-deflate(client_max_window_bits=10,server_no_context_takeover)", false},
		{`a; b="1"; c = 2`, "a(b=1,c=2)", false},
		{`a; b="x\"y"`, "", true}, // unquoted x"y is not a token
		{`a; b="\1\0"`, "a(b=10)", false},
		{" a , , b;c ,", "a() b(c)", false},
		{"a; b=", "", true},
		{"a; =1", "", true},
		{"a b", "", true},
		{`a; b="10`, "", true},
		{`a; b="10\`, "", true},
		{"a; b=1, c; d", "a(b=1) c(d)", false},
		{"a, ;b", "a()", true},
		{"a\t;\tb\t=\t1", "a(b=1)", false},
	}
	for _, tc := range tests {
		exts, err := parseExtensions(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("parseExtensions(%q) error = %v, want error %t", tc.in, err, tc.err)
		}
		if tc.err {
			continue
		}
		var parts []string
		for _, e := range exts {
			var ps []string
			for _, p := range e.params {
				if p.hasValue {
					ps = append(ps, p.name+"="+p.value)
				} else {
					ps = append(ps, p.name)
				}
			}
			parts = append(parts, e.name+"("+strings.Join(ps, ",")+")")
		}
		if got := strings.Join(parts, " "); got != tc.want {
			t.Errorf("parseExtensions(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestWindowBits(t *testing.T) {
	tests := []struct {
		in   string
		bits int
		ok   bool
	}{
		{"8", 8, true}, {"15", 15, true}, {"12", 12, true},
		{"7", 0, false}, {"16", 0, false}, {"08", 0, false}, {"", 0, false},
		{"1a", 0, false}, {"100", 0, false}, {"-9", 0, false},
	}
	for _, tc := range tests {
		bits, ok := windowBits(tc.in)
		if ok != tc.ok || ok && bits != tc.bits {
			t.Errorf("windowBits(%q) = %d, %t, want %d, %t", tc.in, bits, ok, tc.bits, tc.ok)
		}
	}
}
