package analyze

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
)

var update = flag.Bool("update", false, "rewrite testdata captures made by tests")

// violationDir holds one small capture per warning code, made by the
// scripts below (go test ./analyze -run TestViolations -update rewrites
// them) and decoded by wsviz's golden tests too.
var violationDir = filepath.Join("..", "testdata", "violations")

const (
	client1 = "127.0.0.1:50000"
	server1 = "127.0.0.1:9001"
)

// upgraded scripts a connection through a normal handshake with extra
// response header lines.
func upgraded(c *capturetest.Capture, reqExtra []string, respExtra ...string) *capturetest.Conn {
	k := c.Conn(client1, server1)
	k.Handshake()
	k.Client(analyzetest.Request("/chat", reqExtra...))
	k.Server(analyzetest.Response(respExtra...))
	return k
}

// closeAll ends a connection with a clean close handshake and FINs.
func closeAll(k *capturetest.Conn) {
	k.Client(analyzetest.Close(true, 1000, ""))
	k.Server(analyzetest.Close(false, 1000, ""))
	k.CloseFIN(false)
	k.CloseFIN(true)
}

// fragmented scripts a WebSocket session whose server message of 200
// bytes comes in IP fragments cut by cut (n is the IP payload's length).
func fragmented(c *capturetest.Capture, cut func(ip []byte, n int) [][]byte) {
	k := upgraded(c, nil)
	k.SetFragmenter(func(ip []byte) [][]byte {
		if n := len(ip) - 20; n > 200 {
			return cut(ip, n)
		}
		return nil
	})
	k.Server(analyzetest.Text(false, strings.Repeat("a message in fragments ", 9)))
	k.SetFragmenter(nil)
	k.Server(analyzetest.Text(false, "a message whole"))
	closeAll(k)
}

// refused scripts an upgrade request that the server refuses with 400.
func refused(c *capturetest.Capture, request string) {
	k := c.Conn(client1, server1)
	k.Handshake()
	k.Client([]byte(request))
	k.Server([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
	k.CloseFIN(false)
	k.CloseFIN(true)
}

var mask = &analyzetest.DefaultMask

// violations lists, per warning code, a capture script that shows it, the
// event type that must carry it, and the options to decode with.
var violations = []struct {
	code   string
	on     string
	opts   Options
	script func(c *capturetest.Capture)
}{
	{"ws.unmasked_client_frame", TypeWSFrame, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, nil)
		k.Client(analyzetest.Text(false, "not masked"))
		closeAll(k)
	}},
	{"ws.masked_server_frame", TypeWSFrame, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, nil)
		k.Server(analyzetest.Text(true, "masked by the server"))
		closeAll(k)
	}},
	{"ws.invalid_utf8", TypeWSMessage, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, nil)
		k.Server(analyzetest.Text(false, "bad \xff\xfe bytes"))
		closeAll(k)
	}},
	{"ws.reserved_opcode", TypeWSFrame, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, nil)
		k.Server(analyzetest.Frame{Fin: true, Opcode: 0x3, Payload: []byte("?")}.Bytes())
		k.Server(analyzetest.Text(false, "decoding goes on"))
		closeAll(k)
	}},
	{"ws.reserved_bits", TypeWSFrame, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, nil)
		k.Server(analyzetest.Frame{Fin: true, RSV: 2, Opcode: analyzetest.OpText, Payload: []byte("rsv2")}.Bytes())
		closeAll(k)
	}},
	{"ws.control_frame_too_long", TypeWSFrame, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, nil)
		k.Server(analyzetest.Frame{Fin: true, Opcode: analyzetest.OpPing, Payload: bytes.Repeat([]byte("p"), 126)}.Bytes())
		closeAll(k)
	}},
	{"ws.fragmented_control_frame", TypeWSFrame, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, nil)
		k.Server(analyzetest.Frame{Opcode: analyzetest.OpPing, Payload: []byte("half")}.Bytes())
		closeAll(k)
	}},
	{"ws.unexpected_continuation", TypeWSFrame, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, nil)
		k.Server(analyzetest.Frame{Fin: true, Opcode: analyzetest.OpContinuation, Payload: []byte("orphan")}.Bytes())
		closeAll(k)
	}},
	{"ws.data_frame_interrupted", TypeWSFrame, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, nil)
		k.Server(analyzetest.Frame{Opcode: analyzetest.OpText, Payload: []byte("first half")}.Bytes())
		k.Server(analyzetest.Text(false, "a new message"))
		closeAll(k)
	}},
	{"ws.non_minimal_length", TypeWSFrame, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, nil)
		k.Server(analyzetest.Frame{Fin: true, Opcode: analyzetest.OpText, LenBytes: 2, Payload: []byte("short")}.Bytes())
		closeAll(k)
	}},
	{"ws.invalid_close_code", TypeWSMessage, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, nil)
		k.Client(analyzetest.Close(true, 1005, ""))
		k.Server(analyzetest.Close(false, 1000, ""))
		k.CloseFIN(false)
		k.CloseFIN(true)
	}},
	{"ws.invalid_close_payload", TypeWSMessage, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, nil)
		k.Server(analyzetest.Frame{Fin: true, Opcode: analyzetest.OpClose, Payload: []byte{3}}.Bytes())
		k.CloseFIN(false)
		k.CloseFIN(true)
	}},
	{"ws.length_overflow", TypeWSFrame, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, nil)
		k.Server(analyzetest.Frame{Fin: true, Opcode: analyzetest.OpBinary, Len: 1<<63 + 5, Payload: []byte("12345")}.Bytes())
		k.CloseFIN(false)
		k.CloseFIN(true)
	}},
	{"ws.incomplete", TypeWSMessage, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, nil)
		frame := analyzetest.Binary(false, bytes.Repeat([]byte{7}, 3000))
		k.Server(frame[:1500]) // the capture ends inside the frame
	}},
	{"ws.decompression_limit", TypeWSMessage, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, []string{"Sec-WebSocket-Extensions: permessage-deflate"}, "Sec-WebSocket-Extensions: permessage-deflate")
		var z analyzetest.Deflater
		// 80 MiB of zeros, past the default 64 MiB limit, in about 80 KB.
		bomb := z.Compress(make([]byte, 80<<20))
		k.Server(analyzetest.Frame{Fin: true, RSV: 4, Opcode: analyzetest.OpBinary, Payload: bomb}.Bytes())
		k.Server(analyzetest.Frame{Fin: true, RSV: 4, Opcode: analyzetest.OpText, Payload: z.Compress([]byte("the next message decodes"))}.Bytes())
		closeAll(k)
	}},
	{"ws.deflate_missing_history", TypeWSMessage, Options{}, func(c *capturetest.Capture) {
		// The capture starts after the handshake and after a first
		// compressed message that the second one refers back to.
		z := analyzetest.Deflater{Level: flate.BestCompression}
		z.Compress([]byte(`{"type":"quote","symbol":"WSVZ","price":101.5}`))
		second := z.Compress([]byte(`{"type":"quote","symbol":"WSVZ","price":101.7}`))
		k := c.Conn(client1, server1)
		k.Server(analyzetest.Frame{Fin: true, RSV: 4, Opcode: analyzetest.OpText, Payload: second}.Bytes())
		k.Client(analyzetest.Frame{Fin: true, Opcode: analyzetest.OpText, Mask: mask, Payload: []byte("ok")}.Bytes())
	}},
	{"ws.midstream", TypeWSOpen, Options{}, func(c *capturetest.Capture) {
		k := c.Conn(client1, server1)
		k.Client(analyzetest.Text(true, `{"subscribe":"prices"}`))
		k.Server(analyzetest.Text(false, `{"price":101.5}`))
	}},
	{"ws.subprotocol_not_selected", TypeWSOpen, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, []string{"Sec-WebSocket-Protocol: chat.v2, chat.v1"})
		closeAll(k)
	}},
	{"ws.extension_not_offered", TypeWSOpen, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, nil, "Sec-WebSocket-Extensions: permessage-deflate")
		closeAll(k)
	}},
	{"http.bad_accept", TypeWSOpen, Options{}, func(c *capturetest.Capture) {
		k := c.Conn(client1, server1)
		k.Handshake()
		k.Client(analyzetest.Request("/chat"))
		k.Server([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n"))
		closeAll(k)
	}},
	{"http.upgrade_rejected", TypeHTTPResponse, Options{}, func(c *capturetest.Capture) {
		k := c.Conn(client1, server1)
		k.Handshake()
		k.Client(analyzetest.Request("/chat"))
		k.Server([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden"))
		k.CloseFIN(false)
		k.CloseFIN(true)
	}},
	{"http.bad_version", TypeHTTPRequest, Options{}, func(c *capturetest.Capture) {
		k := c.Conn(client1, server1)
		k.Handshake()
		k.Client([]byte("GET /chat HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + analyzetest.Key + "\r\nSec-WebSocket-Version: 8\r\n\r\n"))
		k.Server([]byte("HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n"))
		k.CloseFIN(true)
		k.CloseFIN(false)
	}},
	{"tcp.gap", TypeTCPGap, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, nil)
		k.SetMSS(1000)
		k.Server(analyzetest.Binary(false, bytes.Repeat([]byte("a"), 3000)))
		// The capture loses the middle of the second message's payload:
		// its header said where the next frame starts.
		b := analyzetest.Binary(false, bytes.Repeat([]byte("b"), 3000))
		k.Server(b[:1000])
		k.Drop(1)
		k.Server(b[1000:])
		k.Server(analyzetest.Text(false, "decoding goes on at the next frame"))
		closeAll(k)
	}},
	{"tcp.buffer_limit", TypeTCPGap, Options{MaxBufferPerConn: 500}, func(c *capturetest.Capture) {
		k := upgraded(c, nil)
		k.SetMSS(1000)
		k.Delay(1) // the first segment arrives after everything else
		for i := range 6 {
			k.Server(analyzetest.Binary(false, bytes.Repeat([]byte{byte(i)}, 900)))
		}
		k.CloseFIN(false)
		k.CloseFIN(true)
	}},
	{"ws.deflate_history_limit", TypeWSMessage, Options{MaxDeflateHistory: 2 * 64 << 10, Workers: 1}, func(c *capturetest.Capture) {
		// Three connections compress with context takeover; the history
		// bound holds two directions', so the third's drops the first's,
		// whose next message refers back.
		var ks []*capturetest.Conn
		var zs []*analyzetest.Deflater
		for _, cl := range []string{"127.0.0.1:50001", "127.0.0.1:50002", "127.0.0.1:50003"} {
			k := c.Conn(cl, server1)
			k.Handshake()
			k.Client(analyzetest.Request("/feed", "Sec-WebSocket-Extensions: permessage-deflate"))
			k.Server(analyzetest.Response("Sec-WebSocket-Extensions: permessage-deflate"))
			ks, zs = append(ks, k), append(zs, &analyzetest.Deflater{Level: flate.BestCompression})
		}
		quote := []byte(`{"type":"quote","symbol":"WSVZ","price":101.5,"volume":1200}`)
		for i, k := range ks {
			k.Server(analyzetest.Frame{Fin: true, RSV: 4, Opcode: analyzetest.OpText, Payload: zs[i].Compress(quote)}.Bytes())
		}
		ks[0].Server(analyzetest.Frame{Fin: true, RSV: 4, Opcode: analyzetest.OpText, Payload: zs[0].Compress(quote)}.Bytes())
		for _, k := range ks {
			closeAll(k)
		}
	}},
	{"tcp.out_of_window", TypeTCPClose, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, nil)
		k.Server(analyzetest.Text(false, "before"))
		// A segment 2^31 bytes away from the next expected byte belongs to
		// no window of this stream: ignored, counted at the close.
		k.Segment(false, k.Next(false)+1<<31, analyzetest.Text(false, "not this stream's"), capture.ACK|capture.PSH)
		k.Server(analyzetest.Text(false, "after"))
		closeAll(k)
	}},
	{"tcp.data_after_end", TypeTCPClose, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, nil)
		k.Server(analyzetest.Text(false, "before"))
		// A RST in the server's name (a middlebox's), then the server's
		// own next message at the same sequence number: past the RST,
		// not decoded, counted at the close.
		k.Segment(false, k.Next(false), nil, capture.RST|capture.ACK)
		k.Segment(false, k.Next(false), analyzetest.Text(false, "after the reset"), capture.ACK|capture.PSH)
		k.Segment(true, k.Next(true), nil, capture.RST)
		// The same past a FIN, on a second connection.
		k = c.Conn("127.0.0.1:50001", server1)
		k.Handshake()
		k.Client(analyzetest.Request("/chat"))
		k.Server(analyzetest.Response())
		k.CloseFIN(false)
		k.Segment(false, k.Next(false), analyzetest.Text(false, "after the FIN"), capture.ACK|capture.PSH)
		k.CloseFIN(true)
	}},
	{"http.bad_request", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		// A keep-alive connection: the second request's head is malformed.
		k := c.Conn(client1, server1)
		k.Handshake()
		k.Client([]byte("GET /health HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n\r\n"))
		k.Server([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		k.Client([]byte("GET /chat HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nthis line has no colon\r\n\r\n"))
		k.CloseFIN(true)
		k.CloseFIN(false)
	}},
	{"http.bad_response", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		k := c.Conn(client1, server1)
		k.Handshake()
		k.Client([]byte("GET /health HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n\r\n"))
		k.Server([]byte("HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nok"))
		k.CloseFIN(true)
		k.CloseFIN(false)
	}},
	{"http.bad_chunk", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		k := c.Conn(client1, server1)
		k.Handshake()
		k.Client([]byte("GET /feed HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n\r\n"))
		k.Server([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n"))
		k.CloseFIN(true)
		k.CloseFIN(false)
	}},
	{"http.head_too_large", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		k := c.Conn(client1, server1)
		k.Handshake()
		k.Client([]byte("GET /chat HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nCookie: " + strings.Repeat("c", 70<<10) + "\r\n\r\n"))
		k.Server([]byte("HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n"))
		k.CloseFIN(false)
		k.CloseFIN(true)
	}},
	{"http.pending_too_large", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		// The client does not wait for the 101: 70 KiB of frames are
		// held back while the answer is awaited, past the limit.
		k := c.Conn(client1, server1)
		k.Handshake()
		k.Client(analyzetest.Request("/upload"))
		k.Client(analyzetest.Binary(true, bytes.Repeat([]byte("u"), 70<<10)))
		k.Server(analyzetest.Response())
		closeAll(k)
	}},
	{"http.gap", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		k := c.Conn(client1, server1)
		k.Handshake()
		k.SetMSS(100)
		k.Client([]byte("GET /chat HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUser-Agent: " + strings.Repeat("a", 150) + "\r\n\r\n"))
		k.Drop(1) // the middle of the response head
		k.Server([]byte("HTTP/1.1 200 OK\r\nServer: " + strings.Repeat("s", 150) + "\r\nContent-Length: 2\r\n\r\nok"))
		k.CloseFIN(true)
		k.CloseFIN(false)
	}},
	{"http.not_websocket", TypeHTTPError, Options{}, func(c *capturetest.Capture) {
		k := c.Conn(client1, server1)
		k.Handshake()
		// RFC 2817's upgrade to TLS within HTTP/1.1 (h2c, HTTP/2, is
		// decoded: TestH2Ways).
		k.Client([]byte("OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nConnection: Upgrade\r\nUpgrade: TLS/1.2\r\n\r\n"))
		k.Server([]byte("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: TLS/1.2, HTTP/1.1\r\n\r\n"))
		k.Server([]byte("\x16\x03\x01\x00\x00")) // the start of a TLS record
		k.CloseFIN(true)
		k.CloseFIN(false)
	}},
	{"http.bad_method", TypeHTTPRequest, Options{}, func(c *capturetest.Capture) {
		refused(c, strings.Replace(string(analyzetest.Request("/chat")), "GET", "POST", 1))
	}},
	{"http.bad_proto", TypeHTTPRequest, Options{}, func(c *capturetest.Capture) {
		refused(c, strings.Replace(string(analyzetest.Request("/chat")), "HTTP/1.1", "HTTP/1.0", 1))
	}},
	{"http.bad_host", TypeHTTPRequest, Options{}, func(c *capturetest.Capture) {
		refused(c, strings.Replace(string(analyzetest.Request("/chat")), "Host: 127.0.0.1:9001\r\n", "", 1))
	}},
	{"http.bad_upgrade", TypeHTTPRequest, Options{}, func(c *capturetest.Capture) {
		refused(c, strings.Replace(string(analyzetest.Request("/chat")), "Upgrade: websocket\r\n", "", 1))
	}},
	{"http.bad_connection", TypeHTTPRequest, Options{}, func(c *capturetest.Capture) {
		refused(c, strings.Replace(string(analyzetest.Request("/chat")), "Connection: Upgrade", "Connection: keep-alive", 1))
	}},
	{"http.bad_key", TypeHTTPRequest, Options{}, func(c *capturetest.Capture) {
		refused(c, strings.Replace(string(analyzetest.Request("/chat")), analyzetest.Key, "c2hvcnQ=", 1))
	}},
	{"ws.bad_extension_params", TypeWSOpen, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, []string{"Sec-WebSocket-Extensions: permessage-deflate"}, "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=20")
		closeAll(k)
	}},
	{"ws.lost_start", TypeWSMessage, Options{}, func(c *capturetest.Capture) {
		// The capture starts inside a fragmented message: a ping, then
		// its last fragment.
		k := c.Conn(client1, server1)
		ping := analyzetest.Frame{Fin: true, Opcode: analyzetest.OpPing, Payload: []byte("hb")}.Bytes()
		k.Server(analyzetest.Frame{Fin: true, Opcode: analyzetest.OpContinuation, Payload: []byte(" and the end of it")}.Append(ping))
		k.Server(analyzetest.Text(false, "a whole message"))
		k.Client(analyzetest.Text(true, "a reply"))
	}},
	{"ws.deflate_window", TypeWSMessage, Options{}, func(c *capturetest.Capture) {
		// The client asked the server to keep to a 1 KiB window; the
		// server agreed and compressed with 32 KiB: its message repeats
		// 1,500 bytes, which compress/flate refers back to.
		ext := "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10"
		k := upgraded(c, []string{ext}, ext)
		z := analyzetest.Deflater{Level: flate.BestCompression}
		half := make([]byte, 1500)
		for i, x := 0, uint32(1); i < len(half); i++ {
			x = x*1103515245 + 12345
			half[i] = 'A' + byte(x>>16%26)
		}
		k.Server(analyzetest.Frame{Fin: true, RSV: 4, Opcode: analyzetest.OpText, Payload: z.Compress(append(half, half...))}.Bytes())
		k.Server(analyzetest.Frame{Fin: true, RSV: 4, Opcode: analyzetest.OpText, Payload: z.Compress([]byte("the next message keeps to the window"))}.Bytes())
		closeAll(k)
	}},
	{"ws.deflate_context_takeover", TypeWSMessage, Options{}, func(c *capturetest.Capture) {
		// The server agreed to reset its compressor for every message and
		// did not: its second quote refers to the first.
		ext := "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover"
		k := upgraded(c, []string{ext}, ext)
		z := analyzetest.Deflater{Level: flate.BestCompression}
		k.Server(analyzetest.Frame{Fin: true, RSV: 4, Opcode: analyzetest.OpText, Payload: z.Compress([]byte(`{"type":"quote","symbol":"WSVZ","price":101.5}`))}.Bytes())
		k.Server(analyzetest.Frame{Fin: true, RSV: 4, Opcode: analyzetest.OpText, Payload: z.Compress([]byte(`{"type":"quote","symbol":"WSVZ","price":101.7}`))}.Bytes())
		closeAll(k)
	}},
	{"ws.deflate_error", TypeWSMessage, Options{}, func(c *capturetest.Capture) {
		k := upgraded(c, []string{"Sec-WebSocket-Extensions: permessage-deflate"}, "Sec-WebSocket-Extensions: permessage-deflate")
		// Block type 3 is reserved (RFC 1951 §3.2.3): this cannot inflate.
		k.Server(analyzetest.Frame{Fin: true, RSV: 4, Opcode: analyzetest.OpText, Payload: []byte{0xff, 0xff, 0xff}}.Bytes())
		closeAll(k)
	}},
	{"ip.fragment_overlap", TypeIPFragments, Options{}, func(c *capturetest.Capture) {
		fragmented(c, func(ip []byte, n int) [][]byte {
			return [][]byte{
				capturetest.Fragment(ip, 0, 64, true, nil),
				capturetest.Fragment(ip, 32, 96, true, nil), // bytes 32–63 again, the same
				capturetest.Fragment(ip, 96, n, false, nil),
			}
		})
	}},
	{"ip.fragment_conflict", TypeIPFragments, Options{}, func(c *capturetest.Capture) {
		fragmented(c, func(ip []byte, n int) [][]byte {
			return [][]byte{
				capturetest.Fragment(ip, 0, 64, true, nil),
				capturetest.Fragment(ip, 56, 96, true, bytes.Repeat([]byte("X"), 40)), // bytes 56–63 again, different
				capturetest.Fragment(ip, 96, n, false, nil),
			}
		})
	}},
	{"ip.bad_fragment", TypeIPFragments, Options{}, func(c *capturetest.Capture) {
		fragmented(c, func(ip []byte, n int) [][]byte {
			bad := capturetest.Fragment(ip, 0, 61, true, nil) // 61 bytes, and more to come: not a multiple of 8
			return [][]byte{bad, capturetest.Fragment(ip, 0, 64, true, nil), capturetest.Fragment(ip, 64, n, false, nil)}
		})
	}},
	{"ip.fragment_incomplete", TypeIPFragments, Options{}, func(c *capturetest.Capture) {
		fragmented(c, func(ip []byte, n int) [][]byte {
			return [][]byte{capturetest.Fragment(ip, 0, 64, true, nil), capturetest.Fragment(ip, 128, n, false, nil)}
		})
	}},
	{"ip.fragment_limit", TypeIPFragments, Options{}, func(c *capturetest.Capture) {
		fragmented(c, func(ip []byte, n int) [][]byte {
			// A flood: 40 lone fragments near the end of 64 KiB
			// datagrams of their own, past the bound per pair of
			// addresses (2 MiB); the message itself comes whole.
			var out [][]byte
			for i := range 40 {
				f := capturetest.Fragment(ip, 0, 8, true, nil)
				binary.BigEndian.PutUint16(f[4:], uint16(0x8000+i))
				binary.BigEndian.PutUint16(f[6:], 0x2000|65000/8)
				out = append(out, f)
			}
			return append(out, ip)
		})
	}},
	{"tcp.port_reused", TypeTCPClose, Options{}, func(c *capturetest.Capture) {
		// The first connection's close is not captured; a SYN with a new
		// initial sequence number, far outside its window, opens the
		// second on the same addresses.
		k := upgraded(c, nil)
		k.Client(analyzetest.Text(true, "first connection"))
		k2 := c.Conn(client1, server1)
		k2.SetISN(0x80000000, 0x90000000)
		k2.Handshake()
		k2.Client(analyzetest.Request("/chat"))
		k2.Server(analyzetest.Response())
		k2.Client(analyzetest.Text(true, "second connection"))
		closeAll(k2)
	}},
	{"tcp.overlap_conflict", TypeTCPClose, Options{}, func(c *capturetest.Capture) {
		// The end of a server message is captured first; then a
		// retransmission of the whole message whose bytes 12 to 17
		// differ from it: the first copy is decoded, the conflict counted.
		k := upgraded(c, nil)
		next := k.Next(false)
		msg := analyzetest.Text(false, "the first copy wins")
		k.Segment(false, next+10, msg[10:], capture.ACK|capture.PSH)
		forged := append([]byte(nil), msg...)
		copy(forged[12:], "FORGED")
		k.Segment(false, next, forged, capture.ACK|capture.PSH)
		closeAll(k)
	}},
	{"tcp.conn_limit", TypeTCPClose, Options{MaxConns: 2}, func(c *capturetest.Capture) {
		for _, cl := range []string{"127.0.0.1:50001", "127.0.0.1:50002", "127.0.0.1:50003"} {
			k := c.Conn(cl, server1)
			k.Handshake()
		}
	}},
}

// TestViolations decodes one capture per warning code and checks that the
// code is reported on the right event, and that the capture in testdata is
// the one its script makes.
func TestViolations(t *testing.T) {
	for _, tc := range violations {
		t.Run(tc.code, func(t *testing.T) {
			c := capturetest.NewCapture(capturetest.Options{})
			tc.script(c)
			data := c.Bytes()
			path := filepath.Join(violationDir, tc.code+".pcap")
			if *update {
				if err := os.MkdirAll(violationDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if on, err := os.ReadFile(path); err != nil || !bytes.Equal(on, data) {
				t.Errorf("%s is not what its script makes (err %v): run go test ./analyze -run TestViolations -update", path, err)
			}
			events, err := ReadFile(path, tc.opts)
			if err != nil {
				t.Fatalf("ReadFile(%s): %v", path, err)
			}
			var found bool
			for _, ev := range events {
				found = found || ev.HasWarning(tc.code) && ev.Type == tc.on
				checkRegistered(t, &ev)
			}
			if !found {
				for _, ev := range events {
					t.Logf("%s", ev.AppendJSON(nil))
				}
				t.Errorf("decoding %s: no %s event carries %s", path, tc.on, tc.code)
			}
		})
	}
}
