package handshake

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

// acceptGUID is appended to the key before hashing (RFC 6455 §1.3, §4.2.2).
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// keyLen is the length of the nonce that Sec-WebSocket-Key encodes
// (RFC 6455 §4.1 item 7).
const keyLen = 16

// Accept returns the Sec-WebSocket-Accept value that answers key:
// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), RFC 6455
// §4.2.2 item 5.4.
func Accept(key string) string {
	sum := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// methods are the request methods that LooksLikeRequest recognises, each
// with the space that ends it.
var methods = [...]string{"GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "}

// LooksLikeRequest reports whether data starts with an HTTP method token
// (GET, POST, HEAD, PUT, DELETE, OPTIONS, PATCH, CONNECT, TRACE) and a
// space, or is a prefix of one; an empty data is a prefix of all.
func LooksLikeRequest(data []byte) bool {
	for _, m := range methods {
		k := min(len(data), len(m))
		if string(data[:k]) == m[:k] {
			return true
		}
	}
	return false
}

// responsePrefix starts every HTTP/1.x status line (RFC 9112 §4).
const responsePrefix = "HTTP/1."

// LooksLikeResponse reports whether data starts with "HTTP/1." or is a
// prefix of it; an empty data is a prefix.
func LooksLikeResponse(data []byte) bool {
	k := min(len(data), len(responsePrefix))
	return string(data[:k]) == responsePrefix[:k]
}

// HasToken reports whether a comma-separated field has the token,
// compared case-insensitively (RFC 9110 §5.6.1, §7.6.1, §7.8): an
// Upgrade field that names websocket or h2c, a Connection field that
// names upgrade.
func HasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for item := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(item), token) {
				return true
			}
		}
	}
	return false
}

// listItems returns the non-empty items of a comma-separated field over
// all its field lines, in order.
func listItems(h http.Header, name string) []string {
	var items []string
	for _, v := range h.Values(name) {
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
	}
	return items
}

// joined returns all field lines of a field joined with ", ", which
// means the same (RFC 9110 §5.3).
func joined(h http.Header, name string) string {
	vs := h.Values(name)
	if len(vs) == 1 {
		return strings.TrimSpace(vs[0])
	}
	parts := make([]string, 0, len(vs))
	for _, v := range vs {
		parts = append(parts, strings.TrimSpace(v))
	}
	return strings.Join(parts, ", ")
}

// checkRequest fills the WebSocket fields of r and, when r asks for a
// WebSocket upgrade, the violations of RFC 6455 §4.1. It reports whether
// the client's next bytes must be held until the answer: for any upgrade
// the server may accept, since they then belong to the new protocol.
func checkRequest(r *Request, http11 bool) (hold bool) {
	h := r.Header
	r.Key = strings.TrimSpace(h.Get("Sec-WebSocket-Key"))
	r.Version = strings.TrimSpace(h.Get("Sec-WebSocket-Version"))
	r.Protocols = listItems(h, "Sec-WebSocket-Protocol")
	r.Extensions = joined(h, "Sec-WebSocket-Extensions")
	r.Upgrade = HasToken(h, "Upgrade", "websocket") || len(h.Values("Sec-WebSocket-Key")) > 0
	connUpgrade := HasToken(h, "Connection", "upgrade")
	if !r.Upgrade {
		return connUpgrade && len(listItems(h, "Upgrade")) > 0
	}
	add := func(code, format string, args ...any) {
		r.Problems = append(r.Problems, Problem{code, fmt.Sprintf(format, args...)})
	}
	// RFC 6455 §4.1, the requirements on the opening handshake, in order.
	if r.Method != http.MethodGet {
		add("http.bad_method", "the opening handshake must be a GET request, not %s (RFC 6455 §4.1 item 2)", r.Method)
	}
	if !http11 {
		add("http.bad_proto", "the opening handshake needs HTTP/1.1 or later, not %s (RFC 6455 §4.1 item 2)", r.Proto)
	}
	if len(h.Values("Host")) == 0 {
		add("http.bad_host", "the opening handshake has no Host field (RFC 6455 §4.1 item 4)")
	}
	if !HasToken(h, "Upgrade", "websocket") {
		if up := joined(h, "Upgrade"); up == "" {
			add("http.bad_upgrade", "the opening handshake has no Upgrade field; it must include the token websocket (RFC 6455 §4.1 item 5)")
		} else {
			add("http.bad_upgrade", "the opening handshake's Upgrade is %q, without the token websocket (RFC 6455 §4.1 item 5)", up)
		}
	}
	if !connUpgrade {
		if conn := joined(h, "Connection"); conn == "" {
			add("http.bad_connection", "the opening handshake has no Connection field; it must include the token Upgrade (RFC 6455 §4.1 item 6)")
		} else {
			add("http.bad_connection", "the opening handshake's Connection is %q, without the token Upgrade (RFC 6455 §4.1 item 6)", conn)
		}
	}
	switch keys := h.Values("Sec-WebSocket-Key"); {
	case len(keys) == 0:
		add("http.bad_key", "Sec-WebSocket-Key is missing (RFC 6455 §4.1 item 7)")
	case len(keys) > 1:
		add("http.bad_key", "Sec-WebSocket-Key appears %d times; it must appear once (RFC 6455 §11.3.1)", len(keys))
	default:
		if nonce, err := base64.StdEncoding.DecodeString(r.Key); err != nil || len(nonce) != keyLen {
			add("http.bad_key", "Sec-WebSocket-Key %q is not the base64 encoding of a 16-byte nonce (RFC 6455 §4.1 item 7)", r.Key)
		}
	}
	switch versions := h.Values("Sec-WebSocket-Version"); {
	case len(versions) == 0:
		add("http.bad_version", "Sec-WebSocket-Version is missing; it must be 13 (RFC 6455 §4.1 item 9)")
	case len(versions) > 1 || r.Version != "13":
		add("http.bad_version", "Sec-WebSocket-Version is %q, not 13 (RFC 6455 §4.1 item 9)", joined(h, "Sec-WebSocket-Version"))
	}
	return true
}

// checkUpgrade describes a 101 answer that switches to WebSocket and
// checks it as a client must (RFC 6455 §4.1, the numbered list after "the
// client MUST validate the server's response"; RFC 7692 §7). req is nil
// when the request was not captured: then nothing that depends on it is
// checked.
func checkUpgrade(req *Request, r *Response) *Upgrade {
	h := r.Header
	u := &Upgrade{}
	add := func(code, format string, args ...any) {
		u.Problems = append(u.Problems, Problem{code, fmt.Sprintf(format, args...)})
	}
	// Items 2 and 3.
	if !HasToken(h, "Upgrade", "websocket") {
		if up := joined(h, "Upgrade"); up == "" {
			add("http.bad_upgrade", "the 101 response has no Upgrade field; it must be websocket (RFC 6455 §4.1, client check 2)")
		} else {
			add("http.bad_upgrade", "the 101 response's Upgrade is %q, not websocket (RFC 6455 §4.1, client check 2)", up)
		}
	}
	if !HasToken(h, "Connection", "upgrade") {
		if conn := joined(h, "Connection"); conn == "" {
			add("http.bad_connection", "the 101 response has no Connection field; it must include the token Upgrade (RFC 6455 §4.1, client check 3)")
		} else {
			add("http.bad_connection", "the 101 response's Connection is %q, without the token Upgrade (RFC 6455 §4.1, client check 3)", conn)
		}
	}
	if req != nil {
		if !req.Upgrade {
			add("http.bad_upgrade", "the server switched to WebSocket but the request did not ask for it (RFC 6455 §4.2.2)")
		}
		// Item 4.
		switch accepts := h.Values("Sec-WebSocket-Accept"); {
		case len(accepts) == 0:
			u.Accept = "missing"
			add("http.bad_accept", "Sec-WebSocket-Accept is missing from the 101 response (RFC 6455 §4.1 client check 4, §4.2.2)")
		case len(accepts) == 1 && strings.TrimSpace(accepts[0]) == Accept(req.Key):
			u.Accept = "ok"
		default:
			u.Accept = "bad"
			add("http.bad_accept", "Sec-WebSocket-Accept does not match the key (RFC 6455 §4.2.2): got %q, want %q", joined(h, "Sec-WebSocket-Accept"), Accept(req.Key))
		}
	}
	negotiate(u, req, h)
	return u
}

// negotiate checks what the server's answer h selected of what req
// offered, as a client must (RFC 6455 §4.1 client checks 5 and 6, RFC
// 7692 §7), and fills u's subprotocol, extensions and deflate parameters.
// req is nil when the request was not captured.
func negotiate(u *Upgrade, req *Request, h http.Header) {
	u.Subprotocol = joined(h, "Sec-WebSocket-Protocol")
	u.Extensions = joined(h, "Sec-WebSocket-Extensions")
	add := func(code, format string, args ...any) {
		u.Problems = append(u.Problems, Problem{code, fmt.Sprintf(format, args...)})
	}
	var offers []extension
	if req != nil {
		u.Path = req.Target
		u.Offered = append([]string(nil), req.Protocols...)
		// Item 6, and §4.2.2 /subprotocol/: the server may select none.
		switch {
		case u.Subprotocol == "" && len(u.Offered) > 0:
			add("ws.subprotocol_not_selected", "the client offered subprotocols %s and the server selected none (RFC 6455 §4.2.2)", quoteList(u.Offered))
		case u.Subprotocol != "" && !contains(u.Offered, u.Subprotocol):
			add("ws.subprotocol_not_selected", "the server selected subprotocol %q, which the client did not offer (RFC 6455 §4.1, client check 6)", u.Subprotocol)
		}
		offers, _ = parseExtensions(req.Extensions)
	}
	// Item 5.
	answers, err := parseExtensions(u.Extensions)
	if err != nil {
		add("ws.bad_extension_params", "Sec-WebSocket-Extensions %q is malformed: %v (RFC 6455 §9.1)", u.Extensions, err)
	}
	for _, e := range answers {
		if req != nil && !offered(offers, e.name) {
			add("ws.extension_not_offered", "the server accepted extension %q, which the client did not offer (RFC 6455 §4.1, client check 5)", e.name)
		}
		if !strings.EqualFold(e.name, permessageDeflate) {
			continue
		}
		if u.Deflate != nil {
			add("ws.bad_extension_params", "the server accepted permessage-deflate more than once (RFC 7692 §5)")
			continue
		}
		// RFC 7692 §7.1.2.2: client_max_window_bits may only be in an
		// answer to an offer that has it. Unknown without the request.
		askedClientBits := req == nil
		for _, o := range offers {
			if strings.EqualFold(o.name, permessageDeflate) && o.has(clientMaxWindowBits) {
				askedClientBits = true
			}
		}
		var problems []Problem
		u.Deflate, problems = deflateParams(e.params, askedClientBits)
		u.Problems = append(u.Problems, problems...)
		if req != nil {
			if why := unaccepted(offers, e, u.Deflate); why != "" {
				add("ws.bad_extension_params", "%s", why)
			}
		}
	}
}

// CheckConnect fills the WebSocket fields of r, a request for a WebSocket
// over an HTTP/2 stream (RFC 8441 §4: the extended CONNECT method, a
// CONNECT with :protocol websocket), and its violations. r.Header holds
// the request's fields, names canonicalized, and its pseudo-header fields
// under their own names (":scheme"); r.Target is its :path.
func CheckConnect(r *Request) {
	h := r.Header
	r.Upgrade = true
	r.Version = strings.TrimSpace(h.Get("Sec-WebSocket-Version"))
	r.Protocols = listItems(h, "Sec-WebSocket-Protocol")
	r.Extensions = joined(h, "Sec-WebSocket-Extensions")
	add := func(code, format string, args ...any) {
		r.Problems = append(r.Problems, Problem{code, fmt.Sprintf(format, args...)})
	}
	// RFC 8441 §4: ":scheme and :path pseudo-header fields MUST be
	// included" (RFC 9113 §8.5 has a plain CONNECT omit them), and
	// :authority as in any CONNECT.
	var missing []string
	for _, name := range [...]string{":scheme", ":path", ":authority"} {
		if len(h.Values(name)) == 0 {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		add("h2.bad_connect", "the extended CONNECT lacks %s; RFC 8441 §4 requires :scheme, :path and :authority", strings.Join(missing, ", "))
	}
	// RFC 8441 §5: the fields of RFC 6455 §4.1 keep their meaning, but
	// Upgrade, Connection, Sec-WebSocket-Key and Sec-WebSocket-Accept are
	// not used: the stream itself is the upgrade.
	switch versions := h.Values("Sec-WebSocket-Version"); {
	case len(versions) == 0:
		add("http.bad_version", "Sec-WebSocket-Version is missing; it must be 13 (RFC 8441 §5, RFC 6455 §4.1 item 9)")
	case len(versions) > 1 || r.Version != "13":
		add("http.bad_version", "Sec-WebSocket-Version is %q, not 13 (RFC 8441 §5, RFC 6455 §4.1 item 9)", joined(h, "Sec-WebSocket-Version"))
	}
}

// ConnectUpgrade describes a 2xx answer to an extended CONNECT, which
// opens the WebSocket on the request's stream (RFC 8441 §5), and checks
// the subprotocol and extensions it selected as a client must (RFC 6455
// §4.1 client checks 5 and 6, RFC 7692 §7). There is no
// Sec-WebSocket-Accept to check: Accept is "".
func ConnectUpgrade(req *Request, h http.Header) *Upgrade {
	u := &Upgrade{}
	negotiate(u, req, h)
	return u
}

// unaccepted says why answer, the server's permessage-deflate with the
// parameters d, accepts none of the client's permessage-deflate offers,
// or "" when it accepts one (or there is none: ws.extension_not_offered).
// A server accepts an offer that asks for server_no_context_takeover only
// by answering with it (RFC 7692 §7.1.1.1), and one that asks for
// server_max_window_bits=N only by answering with N or less (§7.1.2.1):
// the client said it cannot hold more, and must fail the connection. An
// offer's client_max_window_bits=N (the client compresses within it)
// may be answered with N or less, or not at all (§7.1.2.2).
func unaccepted(offers []extension, answer extension, d *Deflate) string {
	var whys []string
	for _, o := range offers {
		if !strings.EqualFold(o.name, permessageDeflate) {
			continue
		}
		var why []string
		if o.has(serverNoContextTakeover) && !d.ServerNoContextTakeover {
			why = append(why, "asked for server_no_context_takeover and the answer does not have it: the server may keep its compression context across messages, and a server accepts the offer only by answering with it (RFC 7692 §7.1.1.1)")
		}
		if n, ok := windowBits(o.value(serverMaxWindowBits)); ok {
			switch {
			case !answer.has(serverMaxWindowBits):
				why = append(why, fmt.Sprintf("asked for server_max_window_bits=%d and the answer has none, so the server may compress with a 32 KiB window, more than the client said it holds; a server accepts the offer only by answering with %d or less (RFC 7692 §7.1.2.1)", n, n))
			case d.ServerMaxWindowBits > n:
				why = append(why, fmt.Sprintf("asked for server_max_window_bits=%d and the answer has %d, a larger window than the client said it holds; a server accepts the offer only by answering with %d or less (RFC 7692 §7.1.2.1)", n, d.ServerMaxWindowBits, n))
			}
		}
		if n, ok := windowBits(o.value(clientMaxWindowBits)); ok && answer.has(clientMaxWindowBits) && d.ClientMaxWindowBits > n {
			why = append(why, fmt.Sprintf("said the client compresses within client_max_window_bits=%d and the answer has %d; a server may only answer with %d or less (RFC 7692 §7.1.2.2)", n, d.ClientMaxWindowBits, n))
		}
		if len(why) == 0 {
			return ""
		}
		whys = append(whys, strings.Join(why, "; it "))
	}
	switch len(whys) {
	case 0:
		return ""
	case 1:
		return "the server's permessage-deflate accepts the client's offer as it was not made: the offer " + whys[0]
	}
	return fmt.Sprintf("the server's permessage-deflate accepts none of the client's %d offers as they were made: the first %s", len(whys), whys[0])
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func offered(offers []extension, name string) bool {
	for _, o := range offers {
		if strings.EqualFold(o.name, name) {
			return true
		}
	}
	return false
}

// The extension and its parameters, RFC 7692 §6 and §7.1.
const (
	permessageDeflate       = "permessage-deflate"
	serverNoContextTakeover = "server_no_context_takeover"
	clientNoContextTakeover = "client_no_context_takeover"
	serverMaxWindowBits     = "server_max_window_bits"
	clientMaxWindowBits     = "client_max_window_bits"
)

// Window sizes, RFC 7692 §7.1.2: base-2 logarithms 8..15, 15 by default.
const (
	minWindowBits = 8
	maxWindowBits = 15
)

// deflateParams reads the parameters of an accepted permessage-deflate
// (RFC 7692 §7.1) and lists what a client must reject in them (§7: an
// unknown parameter, an invalid value, a parameter given twice).
func deflateParams(params []extensionParam, askedClientBits bool) (*Deflate, []Problem) {
	d := &Deflate{ServerMaxWindowBits: maxWindowBits, ClientMaxWindowBits: maxWindowBits}
	var problems []Problem
	add := func(format string, args ...any) {
		problems = append(problems, Problem{"ws.bad_extension_params", fmt.Sprintf(format, args...)})
	}
	seen := map[string]bool{}
	for _, p := range params {
		name := strings.ToLower(p.name)
		if seen[name] {
			add("permessage-deflate has %s more than once (RFC 7692 §7)", name)
			continue
		}
		seen[name] = true
		switch name {
		case serverNoContextTakeover, clientNoContextTakeover:
			section := "7.1.1.1"
			d.ServerNoContextTakeover = d.ServerNoContextTakeover || name == serverNoContextTakeover
			if name == clientNoContextTakeover {
				section = "7.1.1.2"
				d.ClientNoContextTakeover = true
			}
			if p.hasValue {
				add("permessage-deflate's %s has the value %q; it takes none (RFC 7692 §%s)", name, p.value, section)
			}
		case serverMaxWindowBits, clientMaxWindowBits:
			section := "7.1.2.1"
			if name == clientMaxWindowBits {
				section = "7.1.2.2"
				if !askedClientBits {
					add("the server answered with client_max_window_bits, which the client's offer did not have (RFC 7692 §7.1.2.2)")
				}
			}
			bits, ok := windowBits(p.value)
			switch {
			case !p.hasValue:
				add("permessage-deflate's %s has no value; in an answer it needs one of 8 to 15 (RFC 7692 §%s)", name, section)
			case !ok:
				add("permessage-deflate's %s is %q, not a number from 8 to 15 (RFC 7692 §%s)", name, p.value, section)
			case name == serverMaxWindowBits:
				d.ServerMaxWindowBits = bits
			default:
				d.ClientMaxWindowBits = bits
			}
		default:
			add("permessage-deflate has the unknown parameter %q (RFC 7692 §7)", p.name)
		}
	}
	return d, problems
}

// windowBits parses a max_window_bits value: 1*DIGIT without a leading
// zero, 8..15 (RFC 7692 §7.1.2.1).
func windowBits(v string) (int, bool) {
	if len(v) == 0 || len(v) > 2 || v[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
		n = n*10 + int(v[i]-'0')
	}
	return n, minWindowBits <= n && n <= maxWindowBits
}
