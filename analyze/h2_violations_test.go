package analyze

import (
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture/capturetest"
)

func init() {
	violations = append(violations, h2Violations...)
}

// h2Opened scripts a cleartext HTTP/2 connection with prior knowledge
// whose prefaces are exchanged, the server's SETTINGS allowing extended
// CONNECT when connect is true, and returns it with the two sides' HPACK
// encoders.
func h2Opened(c *capturetest.Capture, connect bool) (k *capturetest.Conn, cli, srv *analyzetest.H2) {
	k = c.Conn(client1, server1)
	k.Handshake()
	k.Client(append([]byte(analyzetest.H2Preface), analyzetest.H2SettingsFrame()...))
	if connect {
		k.Server(analyzetest.H2SettingsFrame(analyzetest.H2SettingEnableConnectProtocol, 1))
	} else {
		k.Server(analyzetest.H2SettingsFrame())
	}
	return k, analyzetest.NewH2(), analyzetest.NewH2()
}

// h2Connect is an extended CONNECT for a WebSocket at /chat (RFC 8441 §4),
// with extra fields after the usual ones.
func h2Connect(cli *analyzetest.H2, stream uint32, extra ...string) []byte {
	fields := append([]string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":path", "/chat", ":authority", "example.com",
		"sec-websocket-version", "13"}, extra...)
	return cli.Headers(stream, false, fields...)
}

// h2Chat opens a WebSocket on stream 1 with req (the client's HEADERS),
// sends a message each way, closes it and ends the stream and the
// connection.
func h2Chat(k *capturetest.Conn, srv *analyzetest.H2, req []byte) {
	k.Client(req)
	k.Server(srv.Headers(1, false, ":status", "200"))
	k.Client(analyzetest.H2DataFrame(1, false, analyzetest.Text(true, "hello")))
	k.Server(analyzetest.H2DataFrame(1, false, analyzetest.Text(false, "hello")))
	k.Client(analyzetest.H2DataFrame(1, true, analyzetest.Close(true, 1000, "")))
	k.Server(analyzetest.H2DataFrame(1, true, analyzetest.Close(false, 1000, "")))
	k.CloseFIN(true)
	k.CloseFIN(false)
}

var h2Violations = []struct {
	code   string
	on     string
	opts   Options
	script func(c *capturetest.Capture)
}{
	{"h2.connect_not_enabled", TypeHTTPRequest, Options{}, func(c *capturetest.Capture) {
		// The server's SETTINGS do not allow extended CONNECT.
		k, cli, srv := h2Opened(c, false)
		h2Chat(k, srv, h2Connect(cli, 1))
	}},
	{"h2.bad_connect", TypeHTTPRequest, Options{}, func(c *capturetest.Capture) {
		k, cli, srv := h2Opened(c, true)
		h2Chat(k, srv, cli.Headers(1, false, ":method", "CONNECT", ":protocol", "websocket", ":authority", "example.com", "sec-websocket-version", "13"))
	}},
	{"h2.stream_limit", TypeHTTPRequest, Options{}, func(c *capturetest.Capture) {
		// 257 WebSockets asked for at once: the last is not decoded.
		k, cli, srv := h2Opened(c, true)
		var reqs []byte
		for i := range maxH2Streams + 1 {
			reqs = append(reqs, h2Connect(cli, uint32(2*i+1))...)
		}
		k.Client(reqs)
		k.Server(srv.Headers(2*maxH2Streams+1, false, ":status", "200"))
		k.Server(analyzetest.H2DataFrame(2*maxH2Streams+1, false, analyzetest.Text(false, "not decoded")))
		k.CloseFIN(true)
		k.CloseFIN(false)
	}},
}
