package display

import (
	"net/textproto"
	"strconv"
	"strings"
	"unsafe"

	"github.com/wsviz/wsviz/analyze"
)

// kind is a set of value kinds: what a field holds and what a literal is.
type kind uint8

const (
	kindNumber kind = 1 << iota
	kindString
	kindBool
)

func (k kind) String() string {
	var names []string
	if k&kindNumber != 0 {
		names = append(names, "a number")
	}
	if k&kindString != 0 {
		names = append(names, "a string")
	}
	if k&kindBool != 0 {
		names = append(names, "true or false")
	}
	return strings.Join(names, " or ")
}

// number is an integer of either sign up to 2^64-1 in magnitude: event
// fields are int64, and a frame's length a uint64 that a hostile header
// can set to any value.
type number struct {
	neg bool
	mag uint64
}

func numInt(v int64) number {
	if v < 0 {
		return number{neg: true, mag: uint64(-(v + 1)) + 1}
	}
	return number{mag: uint64(v)}
}

func numUint(v uint64) number { return number{mag: v} }

// cmpNum returns -1, 0 or +1 as a is less than, equal to or greater than b.
func cmpNum(a, b number) int {
	if a.mag == 0 {
		a.neg = false
	}
	if b.mag == 0 {
		b.neg = false
	}
	switch {
	case a.neg != b.neg:
		if a.neg {
			return -1
		}
		return 1
	case a.mag == b.mag:
		return 0
	case (a.mag < b.mag) != a.neg:
		return -1
	}
	return 1
}

func (n number) String() string {
	if n.neg && n.mag != 0 {
		return "-" + strconv.FormatUint(n.mag, 10)
	}
	return strconv.FormatUint(n.mag, 10)
}

// value is one field value or literal. A number may also have a name (a
// frame's opcode 1 is "text"), which a string literal is compared with.
type value struct {
	kind kind
	num  number
	str  string
	bool bool
}

// field is one filterable field of an event. Exactly one of get and list
// is set.
type field struct {
	name  string
	kinds kind   // what it holds, so what literals it compares with
	types string // the event types that carry it, for errors and docs
	doc   string // one line, for docs/filters.md
	// get returns the value of a single-valued field, and whether the
	// event has the field at all.
	get func(ev *analyze.Event) (value, bool)
	// list returns element i of a list field, and false past its end
	// (at 0 when the event has no such list). An index rather than a
	// callback, so that Match allocates nothing.
	list func(ev *analyze.Event, i int) (value, bool)
}

// bytesString views b as a string without copying. The string must not
// outlive the call it is passed to: Match never keeps one.
func bytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func strVal(s string) value { return value{kind: kindString, str: s} }
func intVal(v int64) value  { return value{kind: kindNumber, num: numInt(v)} }
func boolVal(b bool) value  { return value{kind: kindBool, bool: b} }

// isType reports whether ev is of one of the types; no types means every
// type.
func isType(ev *analyze.Event, types ...string) bool {
	if len(types) == 0 {
		return true
	}
	for _, t := range types {
		if ev.Type == t {
			return true
		}
	}
	return false
}

const (
	tOpen    = analyze.TypeTCPOpen
	tClose   = analyze.TypeTCPClose
	tGap     = analyze.TypeTCPGap
	tH2Close = analyze.TypeH2StreamClose
	tReq     = analyze.TypeHTTPRequest
	tResp    = analyze.TypeHTTPResponse
	tWSOpen  = analyze.TypeWSOpen
	tFrame   = analyze.TypeWSFrame
	tMessage = analyze.TypeWSMessage
	tStats   = analyze.TypeCaptureStats
)

// str, num and flag build fields that one group of event types carries.
func str(name, doc string, get func(*analyze.Event) string, types ...string) *field {
	return &field{name: name, kinds: kindString, types: strings.Join(types, ", "), doc: doc,
		get: func(ev *analyze.Event) (value, bool) {
			if !isType(ev, types...) {
				return value{}, false
			}
			return strVal(get(ev)), true
		}}
}

func num(name, doc string, get func(*analyze.Event) int64, types ...string) *field {
	return &field{name: name, kinds: kindNumber, types: strings.Join(types, ", "), doc: doc,
		get: func(ev *analyze.Event) (value, bool) {
			if !isType(ev, types...) {
				return value{}, false
			}
			return intVal(get(ev)), true
		}}
}

func flag(name, doc string, get func(*analyze.Event) bool, types ...string) *field {
	return &field{name: name, kinds: kindBool, types: strings.Join(types, ", "), doc: doc,
		get: func(ev *analyze.Event) (value, bool) {
			if !isType(ev, types...) {
				return value{}, false
			}
			return boolVal(get(ev)), true
		}}
}

// deflateField is one permessage-deflate parameter of ws.open, present
// when permessage-deflate was negotiated.
func deflateFlag(name string, get func(*analyze.Deflate) bool) *field {
	return &field{name: "deflate." + name, kinds: kindBool, types: tWSOpen, doc: "the negotiated " + name + " parameter (RFC 7692 §7.1)",
		get: func(ev *analyze.Event) (value, bool) {
			if ev.Type != tWSOpen || ev.WSOpen.Deflate == nil {
				return value{}, false
			}
			return boolVal(get(ev.WSOpen.Deflate)), true
		}}
}

func deflateBits(name string, get func(*analyze.Deflate) int) *field {
	return &field{name: "deflate." + name, kinds: kindNumber, types: tWSOpen, doc: "the negotiated " + name + " (8 to 15; 15 when absent)",
		get: func(ev *analyze.Event) (value, bool) {
			if ev.Type != tWSOpen || ev.WSOpen.Deflate == nil {
				return value{}, false
			}
			return intVal(int64(get(ev.WSOpen.Deflate))), true
		}}
}

// closing builds a field that both endings carry, tcp.close's and
// h2.stream_close's, each from its own group.
func closing(name string, kinds kind, doc string, tcp func(*analyze.TCPClose) value, stream func(*analyze.H2Close) value) *field {
	return &field{name: name, kinds: kinds, types: tClose + ", " + tH2Close, doc: doc,
		get: func(ev *analyze.Event) (value, bool) {
			switch ev.Type {
			case tClose:
				return tcp(&ev.TCPClose), true
			case tH2Close:
				return stream(&ev.H2Close), true
			}
			return value{}, false
		}}
}

// timeLayout is the event's "t" in JSON: RFC 3339, nine fraction digits,
// UTC, so that comparing the text compares the times.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// fields lists every field a filter can name, in the order of
// docs/filters.md. A field added to analyze.Event is one line here.
var fields = []*field{
	// Every event.
	str("type", "the event type: tcp.open, ws.message, ...", func(ev *analyze.Event) string { return ev.Type }),
	{name: "t", kinds: kindString, doc: `the packet's time as in JSON ("2026-11-25T05:47:40.640271974Z"), compared as text, so a prefix such as "2026-11-25T05:47" works`,
		get: func(ev *analyze.Event) (value, bool) {
			return strVal(ev.Time.UTC().Format(timeLayout)), true
		}},
	{name: "conn", kinds: kindNumber, doc: "the connection number, from 1; absent on events of no connection",
		get: func(ev *analyze.Event) (value, bool) { return intVal(int64(ev.Conn)), ev.Conn != 0 }},
	{name: "stream", kinds: kindNumber, doc: "the HTTP/2 stream, on a connection that speaks HTTP/2: of a request, its response, the WebSocket opened on it (RFC 8441); absent otherwise",
		get: func(ev *analyze.Event) (value, bool) { return intVal(int64(ev.Stream)), ev.Stream != 0 }},
	{name: "from", kinds: kindString, doc: `"client" or "server"; absent on events without a direction`,
		get: func(ev *analyze.Event) (value, bool) { return strVal(ev.From), ev.From != "" }},
	{name: "packet", kinds: kindNumber, doc: "the number of the packet that completed the event, from 1",
		get: func(ev *analyze.Event) (value, bool) { return intVal(ev.Packet), true }},
	{name: "note", kinds: kindString, doc: "the plain-words explanation",
		get: func(ev *analyze.Event) (value, bool) { return strVal(ev.Note), true }},
	{name: "warnings", kinds: kindString, doc: "the warnings' codes; on its own: the event has a warning",
		list: func(ev *analyze.Event, i int) (value, bool) {
			if i >= len(ev.Warnings) {
				return value{}, false
			}
			w := &ev.Warnings[i]
			return strVal(w.Code), true
		}},
	{name: "warnings.code", kinds: kindString, doc: `each warning's code, such as "tcp.gap" (docs/events.md lists them)`,
		list: func(ev *analyze.Event, i int) (value, bool) {
			if i >= len(ev.Warnings) {
				return value{}, false
			}
			w := &ev.Warnings[i]
			return strVal(w.Code), true
		}},
	{name: "warnings.msg", kinds: kindString, doc: "each warning's explanation",
		list: func(ev *analyze.Event, i int) (value, bool) {
			if i >= len(ev.Warnings) {
				return value{}, false
			}
			w := &ev.Warnings[i]
			return strVal(w.Msg), true
		}},

	// tcp.open, tcp.close, tcp.gap, capture.stats.
	str("client", `the client's address, "ip:port"`, func(ev *analyze.Event) string { return ev.TCPOpen.Client }, tOpen),
	str("server", `the server's address, "ip:port"`, func(ev *analyze.Event) string { return ev.TCPOpen.Server }, tOpen),
	flag("syn", "the connection's SYN was captured", func(ev *analyze.Event) bool { return ev.TCPOpen.SYN }, tOpen),
	closing("how", kindString, "how the connection ended: fin, rst, end, evicted, replaced; how a WebSocket's HTTP/2 stream ended: end_stream, rst_stream",
		func(c *analyze.TCPClose) value { return strVal(c.How) }, func(c *analyze.H2Close) value { return strVal(c.How) }),
	closing("client_bytes", kindNumber, "TCP payload bytes the client sent; on h2.stream_close, its DATA bytes on the stream",
		func(c *analyze.TCPClose) value { return intVal(c.ClientBytes) }, func(c *analyze.H2Close) value { return intVal(c.ClientBytes) }),
	closing("server_bytes", kindNumber, "TCP payload bytes the server sent; on h2.stream_close, its DATA bytes on the stream",
		func(c *analyze.TCPClose) value { return intVal(c.ServerBytes) }, func(c *analyze.H2Close) value { return intVal(c.ServerBytes) }),
	str("error_code", `the RST_STREAM's error code, "CANCEL"; "" after END_STREAM`, func(ev *analyze.Event) string { return ev.H2Close.ErrorCode }, tH2Close),
	num("offset", "where the missing bytes start in the stream", func(ev *analyze.Event) int64 { return ev.TCPGap.Offset }, tGap),
	num("size", "how many bytes are missing", func(ev *analyze.Event) int64 { return ev.TCPGap.Size }, tGap),
	num("captured", "packets captured so far (live)", func(ev *analyze.Event) int64 { return ev.Capture.Packets }, tStats),
	num("dropped", "packets the kernel dropped so far (live)", func(ev *analyze.Event) int64 { return ev.Capture.Drops }, tStats),

	// http.request, http.response.
	str("method", "the request method", func(ev *analyze.Event) string { return ev.HTTP.Method }, tReq),
	str("target", "the request-target, such as /chat?room=1", func(ev *analyze.Event) string { return ev.HTTP.Target }, tReq),
	num("status", "the response status code", func(ev *analyze.Event) int64 { return int64(ev.HTTP.Status) }, tResp),
	{name: "reason", kinds: kindString, types: tResp + ", " + tMessage, doc: "the response's reason phrase, or a close message's reason",
		get: func(ev *analyze.Event) (value, bool) {
			switch {
			case ev.Type == tResp:
				return strVal(ev.HTTP.Reason), true
			case ev.Type == tMessage && ev.Message.Opcode == "close":
				return strVal(ev.Message.Reason), true
			}
			return value{}, false
		}},
	str("proto", `the HTTP version, "HTTP/1.1"`, func(ev *analyze.Event) string { return ev.HTTP.Proto }, tReq, tResp),
	{name: "headers", kinds: kindString, types: tReq + ", " + tResp, doc: "the header names; headers.NAME (any case) is that header's values",
		list: func(ev *analyze.Event, i int) (value, bool) {
			if !isType(ev, tReq, tResp) {
				return value{}, false
			}
			// The i-th name in sorted order, found without allocating:
			// the name with exactly i names before it (a head has few
			// headers, and the parser bounds them). Map order is random.
			for name := range ev.HTTP.Header {
				before := 0
				for other := range ev.HTTP.Header {
					if other < name {
						before++
					}
				}
				if before == i {
					return strVal(name), true
				}
			}
			return value{}, false
		}},

	// ws.open.
	str("path", "the upgrade request's target", func(ev *analyze.Event) string { return ev.WSOpen.Path }, tWSOpen),
	str("subprotocol", `the subprotocol the server selected, "" for none`, func(ev *analyze.Event) string { return ev.WSOpen.Subprotocol }, tWSOpen),
	{name: "offered", kinds: kindString, types: tWSOpen, doc: "the subprotocols the client offered",
		list: func(ev *analyze.Event, i int) (value, bool) {
			if ev.Type != tWSOpen || i >= len(ev.WSOpen.Offered) {
				return value{}, false
			}
			return strVal(ev.WSOpen.Offered[i]), true
		}},
	str("extensions", "the Sec-WebSocket-Extensions the server answered", func(ev *analyze.Event) string { return ev.WSOpen.Extensions }, tWSOpen),
	{name: "deflate", kinds: kindBool, types: tWSOpen, doc: "permessage-deflate was negotiated",
		get: func(ev *analyze.Event) (value, bool) {
			if ev.Type != tWSOpen {
				return value{}, false
			}
			return boolVal(ev.WSOpen.Deflate != nil), true
		}},
	deflateFlag("server_no_context_takeover", func(d *analyze.Deflate) bool { return d.ServerNoContextTakeover }),
	deflateFlag("client_no_context_takeover", func(d *analyze.Deflate) bool { return d.ClientNoContextTakeover }),
	deflateBits("server_max_window_bits", func(d *analyze.Deflate) int { return d.ServerMaxWindowBits }),
	deflateBits("client_max_window_bits", func(d *analyze.Deflate) int { return d.ClientMaxWindowBits }),
	str("accept", `Sec-WebSocket-Accept against the key: "ok", "bad", "missing", "" (mid-stream)`, func(ev *analyze.Event) string { return ev.WSOpen.Accept }, tWSOpen),
	flag("midstream", "no handshake was captured: the connection was found from its frames", func(ev *analyze.Event) bool { return ev.WSOpen.Midstream }, tWSOpen),

	// ws.frame and ws.message.
	flag("fin", "the frame's FIN bit", func(ev *analyze.Event) bool { return ev.Frame.Fin }, tFrame),
	num("rsv", "the frame's RSV bits, 0 to 7 (RSV1 = 4)", func(ev *analyze.Event) int64 { return int64(ev.Frame.RSV) }, tFrame),
	flag("masked", "the frame's MASK bit", func(ev *analyze.Event) bool { return ev.Frame.Masked }, tFrame),
	{name: "mask", kinds: kindString, types: tFrame, doc: "the masking key as 8 hex digits; absent when not masked",
		get: func(ev *analyze.Event) (value, bool) {
			if ev.Type != tFrame || !ev.Frame.Masked {
				return value{}, false
			}
			const hex = "0123456789abcdef"
			var b [8]byte
			for i, c := range ev.Frame.Mask {
				b[2*i], b[2*i+1] = hex[c>>4], hex[c&15]
			}
			return strVal(string(b[:])), true
		}},
	{name: "opcode", kinds: kindNumber | kindString, types: tFrame + ", " + tMessage,
		doc: `a frame's opcode (a number, or its name: "text" is 1) or a message's ("text", "binary", "close", "ping", "pong")`,
		get: func(ev *analyze.Event) (value, bool) {
			switch ev.Type {
			case tFrame:
				return value{kind: kindNumber, num: numUint(uint64(ev.Frame.Opcode)), str: analyze.OpcodeName(ev.Frame.Opcode)}, true
			case tMessage:
				return strVal(ev.Message.Opcode), true
			}
			return value{}, false
		}},
	{name: "len", kinds: kindNumber, types: tFrame + ", " + tMessage, doc: "a frame's payload length as on the wire, or a message's length after decompression",
		get: func(ev *analyze.Event) (value, bool) {
			switch ev.Type {
			case tFrame:
				return value{kind: kindNumber, num: numUint(ev.Frame.Len)}, true
			case tMessage:
				return intVal(ev.Message.Len), true
			}
			return value{}, false
		}},
	num("wire_len", "a message's payload bytes as sent (compressed)", func(ev *analyze.Event) int64 { return ev.Message.WireLen }, tMessage),
	flag("compressed", "the message was compressed (permessage-deflate)", func(ev *analyze.Event) bool { return ev.Message.Compressed }, tMessage),
	num("frames", "the frames of the message", func(ev *analyze.Event) int64 { return int64(ev.Message.Frames) }, tMessage),
	{name: "packets", kinds: kindNumber, types: tMessage, doc: "the packets that carried the message's bytes",
		list: func(ev *analyze.Event, i int) (value, bool) {
			if ev.Type != tMessage || i >= len(ev.Message.Packets) {
				return value{}, false
			}
			return intVal(ev.Message.Packets[i]), true
		}},
	{name: "text", kinds: kindString, types: tMessage, doc: "a text message's payload (as shown: cut to --max-payload)",
		get: func(ev *analyze.Event) (value, bool) {
			if ev.Type != tMessage || ev.Message.Opcode != "text" {
				return value{}, false
			}
			return strVal(bytesString(ev.Message.Payload)), true
		}},
	{name: "payload", kinds: kindString, types: tMessage, doc: `any message's payload bytes, text or not ("\x00\xff" escapes match binary)`,
		get: func(ev *analyze.Event) (value, bool) {
			if ev.Type != tMessage {
				return value{}, false
			}
			return strVal(bytesString(ev.Message.Payload)), true
		}},
	flag("truncated", "the payload holds fewer bytes than the message", func(ev *analyze.Event) bool { return ev.Message.Truncated }, tMessage),
	{name: "code", kinds: kindNumber, types: tMessage, doc: "a close message's status code (0: no body)",
		get: func(ev *analyze.Event) (value, bool) {
			if ev.Type != tMessage || ev.Message.Opcode != "close" {
				return value{}, false
			}
			return intVal(int64(ev.Message.Code)), true
		}},
}

// headerField returns the field headers.NAME: the values of one header
// of an HTTP request or response, NAME in any case.
func headerField(name string) *field {
	canon := textproto.CanonicalMIMEHeaderKey(name)
	return &field{name: "headers." + name, kinds: kindString, types: tReq + ", " + tResp,
		list: func(ev *analyze.Event, i int) (value, bool) {
			if !isType(ev, tReq, tResp) {
				return value{}, false
			}
			vs := ev.HTTP.Header[canon]
			if i >= len(vs) {
				return value{}, false
			}
			return strVal(vs[i]), true
		}}
}

// lookupField finds a field by name.
func lookupField(name string) *field {
	for _, f := range fields {
		if f.name == name {
			return f
		}
	}
	if h, ok := strings.CutPrefix(name, "headers."); ok && h != "" {
		return headerField(h)
	}
	return nil
}

// FieldNames returns the names of the fields a filter can use, in the
// order of the documentation ("headers.NAME" stands for every header).
func FieldNames() []string {
	names := make([]string, 0, len(fields)+1)
	for _, f := range fields {
		names = append(names, f.name)
		if f.name == "headers" {
			names = append(names, "headers.NAME")
		}
	}
	return names
}
