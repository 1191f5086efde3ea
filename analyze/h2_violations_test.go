package analyze

import (
	"bytes"

	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture/capturetest"
)

func init() {
	violations = append(violations, h2Violations...)
}

// h2Opened scripts a cleartext HTTP/2 connection with prior knowledge
// whose prefaces are exchanged, the server's SETTINGS allowing extended
// CONNECT when connect is true.
func h2Opened(c *capturetest.Capture, connect bool) *analyzetest.H2Conn {
	k := c.Conn(client1, server1)
	k.Handshake()
	return analyzetest.OpenH2(k, connect)
}

// h2Chat opens a WebSocket on stream 1 with req, the client's HEADERS
// (nil: a valid extended CONNECT), sends a message each way, closes it
// and ends the stream and the connection.
func h2Chat(h *analyzetest.H2Conn, req []byte) {
	if req == nil {
		h.Connect(1, "/chat")
	} else {
		h.ClientSends(req)
	}
	h.Answer(1, "200")
	h.ClientData(1, false, analyzetest.Text(true, "hello"))
	h.ServerData(1, false, analyzetest.Text(false, "hello"))
	h.CloseWebSocket(1)
	h.Close()
}

// h2Big opens a WebSocket on stream 1 and sends bad, frames from the
// server, between a message each way and the close.
func h2Big(h *analyzetest.H2Conn, bad []byte) {
	h.Connect(1, "/chat")
	h.Answer(1, "200")
	h.ClientData(1, false, analyzetest.Text(true, "hello"))
	h.ServerSends(bad)
	h.ServerData(1, false, analyzetest.Text(false, "hello"))
	h.CloseWebSocket(1)
	h.Close()
}

var h2Violations = []struct {
	code   string
	on     string
	opts   Options
	script func(c *capturetest.Capture)
}{
	{"h2.connect_not_enabled", TypeHTTPRequest, Options{}, func(c *capturetest.Capture) {
		// The server's SETTINGS do not allow extended CONNECT.
		h2Chat(h2Opened(c, false), nil)
	}},
	{"h2.bad_connect", TypeHTTPRequest, Options{}, func(c *capturetest.Capture) {
		h := h2Opened(c, true)
		h2Chat(h, h.Client.Headers(1, false, ":method", "CONNECT", ":protocol", "websocket", ":authority", "example.com", "sec-websocket-version", "13"))
	}},
	{"h2.websocket_limit", TypeHTTPRequest, Options{}, func(c *capturetest.Capture) {
		// 65 WebSockets asked for at once: the last is not decoded.
		h := h2Opened(c, true)
		var reqs []byte
		for i := range maxH2Streams + 1 {
			reqs = append(reqs, h.Client.Headers(uint32(2*i+1), false, h.ConnectFields("/chat")...)...)
		}
		h.ClientSends(reqs)
		h.Answer(2*maxH2Streams+1, "200")
		h.ServerData(2*maxH2Streams+1, false, analyzetest.Text(false, "not decoded"))
		h.Close()
	}},
	{"h2.bad_preface", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		// The server's SETTINGS came first (a server with prior
		// knowledge), but the client speaks HTTP/1.1.
		k := c.Conn(client1, server1)
		k.Handshake()
		k.Server(analyzetest.H2SettingsFrame())
		k.Client([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
		k.CloseFIN(true)
		k.CloseFIN(false)
	}},
	{"h2.lost_sync", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		// The segment with the server's 200 is lost: its frame header
		// with it.
		h := h2Opened(c, true)
		h.Connect(1, "/chat")
		h.K.Drop(1)
		h.Answer(1, "200")
		h.ServerData(1, false, analyzetest.Text(false, "not decoded"))
		h.Close()
	}},
	{"h2.frame_size", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		// A message in a DATA frame of 20,000 bytes, past the 16,384 the
		// client's SETTINGS leave the server (decoded anyway).
		h2Big(h2Opened(c, true), analyzetest.H2DataFrame(1, false, analyzetest.Binary(false, bytes.Repeat([]byte{7}, 20000))))
	}},
	{"h2.stream_id", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		h2Big(h2Opened(c, true), analyzetest.H2DataFrame(0, false, []byte("DATA on stream 0")))
	}},
	{"h2.padding", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		// A padded DATA frame whose pad length (9) leaves no room.
		h2Big(h2Opened(c, true), analyzetest.H2Frame(analyzetest.H2Data, analyzetest.H2Padded, 1, []byte("\x09abc")))
	}},
	{"h2.continuation", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		// The client's HEADERS without END_HEADERS, then DATA.
		h := h2Opened(c, true)
		h.ClientSends(analyzetest.H2Frame(analyzetest.H2Headers, 0, 3, h.Client.Block(":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a")))
		h2Chat(h, nil)
	}},
	{"h2.hpack", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		// Index 0, which no table entry has (RFC 7541 §6.1).
		h2Chat(h2Opened(c, true), analyzetest.H2Frame(analyzetest.H2Headers, analyzetest.H2EndHeaders, 1, []byte{0x80}))
	}},
	{"h2.gap_in_headers", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		// The first segment of the client's HEADERS frame is lost, not
		// its frame header's: the second holds the rest.
		h := h2Opened(c, true)
		req := h.Client.Headers(1, false, h.ConnectFields("/chat", "user-agent", "a client whose header block comes in two segments")...)
		h.K.Client(req[:9])
		h.K.Drop(1)
		h.K.Client(req[9:20])
		h.K.Client(req[20:])
		h2Chat(h, analyzetest.H2DataFrame(1, false, nil))
	}},
	{"h2.header_block_too_large", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		// A 300 KB block in a HEADERS frame and CONTINUATIONs: five
		// values of "{", whose Huffman code is longer than a byte, so
		// HPACK sends them as they are (RFC 7541 §5.2).
		h := h2Opened(c, true)
		big := string(bytes.Repeat([]byte("{"), 60000))
		block := h.Client.Block(":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a", "x-1", big, "x-2", big, "x-3", big, "x-4", big, "x-5", big)
		var b []byte
		for i := 0; i < len(block); i += 16384 {
			typ, flags := uint8(analyzetest.H2Continuation), uint8(0)
			if i == 0 {
				typ = analyzetest.H2Headers
			}
			if i+16384 >= len(block) {
				flags = analyzetest.H2EndHeaders
			}
			b = append(b, analyzetest.H2Frame(typ, flags, 3, block[i:min(i+16384, len(block))])...)
		}
		h.ClientSends(b)
		h2Chat(h, nil)
	}},
	{"h2.header_list_too_large", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		// 300 fields of 3,900 bytes in one block, 1.2 MB, each after
		// the first a reference to HPACK's table (a few bytes on the
		// wire).
		h := h2Opened(c, true)
		fields := []string{":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a"}
		for range 300 {
			fields = append(fields, "x-big", string(bytes.Repeat([]byte("b"), 3900)))
		}
		h.ClientSends(h.Client.Headers(3, true, fields...))
		h2Chat(h, nil)
	}},
	{"h2.settings_too_large", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		h2Big(h2Opened(c, true), analyzetest.H2Frame(analyzetest.H2Settings, 0, 0, make([]byte, 6*11000)))
	}},
	{"h2.settings_value", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		h2Big(h2Opened(c, true), analyzetest.H2SettingsFrame(analyzetest.H2SettingEnableConnectProtocol, 2))
	}},
	{"h2.window_update", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		h2Big(h2Opened(c, true), analyzetest.H2Frame(0x8, 0, 1, make([]byte, 4)))
	}},
}
