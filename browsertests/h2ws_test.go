package browsertests

import (
	"bytes"
	"compress/flate"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/wsviz/wsviz/analyze/analyzetest"
)

// TestH2ServerProcess is not a test: it is the child process of
// StartH2Server in the tests (run with -test.run=^TestH2ServerProcess$).
func TestH2ServerProcess(t *testing.T) {
	ServeH2Child()
	t.Skip("the server StartH2Server starts in a child test process")
}

// h2ServerArgs selects TestH2ServerProcess in the child test binary.
var h2ServerArgs = []string{"-test.run=^TestH2ServerProcess$"}

// TestH2ServerExtendedConnect: the child StartH2Server runs announces
// SETTINGS_ENABLE_CONNECT_PROTOCOL and takes an extended CONNECT, written
// here frame by frame (Go's HTTP client refuses the :protocol
// pseudo-header), and reports the request and what it sent.
func TestH2ServerExtendedConnect(t *testing.T) {
	srv, err := StartH2Server("Go", h2ServerArgs...)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	conn, err := tls.Dial("tcp", srv.Addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	// RFC 9113 §4.1: a frame's 9-byte header, then its payload.
	writeFrame := func(typ, flags byte, stream uint32, p []byte) {
		b := []byte{byte(len(p) >> 16), byte(len(p) >> 8), byte(len(p)), typ, flags}
		b = binary.BigEndian.AppendUint32(b, stream)
		if _, err := conn.Write(append(b, p...)); err != nil {
			t.Fatal(err)
		}
	}
	const (
		frameData, frameHeaders, frameRSTStream, frameSettings, frameGoAway = 0x0, 0x1, 0x3, 0x4, 0x7
		flagEndStream, flagAck, flagEndHeaders                              = 0x1, 0x1, 0x4
		settingsEnableConnectProtocol                                       = 0x8 // RFC 8441 §3
	)
	// RFC 9113 §3.4: the preface and an empty SETTINGS.
	io.WriteString(conn, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	writeFrame(frameSettings, 0, 0, nil)
	// RFC 8441 §4, §5: the extended CONNECT on stream 1, its fields as
	// HPACK literals without indexing and without Huffman coding (RFC
	// 7541 §6.2.2), then two WebSocket frames in its DATA.
	var block []byte
	for _, f := range [][2]string{{":method", "CONNECT"}, {":protocol", "websocket"}, {":scheme", "https"},
		{":path", "/ws"}, {":authority", srv.Addr}, {"sec-websocket-version", "13"}} {
		block = append(append(append(block, 0, byte(len(f[0]))), f[0]...), byte(len(f[1])))
		block = append(block, f[1]...)
	}
	writeFrame(frameHeaders, flagEndHeaders, 1, block)
	writeFrame(frameData, 0, 1, analyzetest.Text(true, "hello over HTTP/2"))
	writeFrame(frameData, 0, 1, analyzetest.Close(true, 1000, "bye"))

	// The server's frames, until stream 1 ends.
	var settings []string
	var headers, data []byte
	for ended := false; !ended; {
		var h [9]byte
		if _, err := io.ReadFull(conn, h[:]); err != nil {
			t.Fatalf("reading the server's frames: %v (stream 1 so far: HEADERS % x, DATA % x)", err, headers, data)
		}
		p := make([]byte, int(h[0])<<16|int(h[1])<<8|int(h[2]))
		if _, err := io.ReadFull(conn, p); err != nil {
			t.Fatal(err)
		}
		typ, flags, stream := h[3], h[4], binary.BigEndian.Uint32(h[5:])&(1<<31-1)
		switch {
		case typ == frameSettings && flags&flagAck == 0:
			for ; len(p) >= 6; p = p[6:] {
				settings = append(settings, fmt.Sprintf("%#x=%d", binary.BigEndian.Uint16(p), binary.BigEndian.Uint32(p[2:])))
			}
			writeFrame(frameSettings, flagAck, 0, nil)
		case typ == frameGoAway:
			t.Fatalf("GOAWAY % x", p)
		case stream != 1:
		case typ == frameHeaders:
			headers = p
		case typ == frameData:
			data = append(data, p...)
			ended = flags&flagEndStream != 0
		case typ == frameRSTStream:
			ended = true
		}
	}
	if !slices.Contains(settings, fmt.Sprintf("%#x=1", settingsEnableConnectProtocol)) {
		t.Errorf("SETTINGS %v, want SETTINGS_ENABLE_CONNECT_PROTOCOL (0x8) = 1", settings)
	}
	// RFC 7541 Appendix A: :status 200 is entry 8 of the static table,
	// which Go's encoder sends indexed (RFC 7541 §6.1: 0x80 | 8).
	if len(headers) == 0 || headers[0] != 0x88 {
		t.Errorf("response HEADERS % x, want :status 200 (88)", headers)
	}
	want := append(analyzetest.Text(false, "hello over HTTP/2"), analyzetest.Close(false, 1000, "")...)
	if !bytes.Equal(data, want) {
		t.Errorf("response DATA % x, want % x", data, want)
	}
	conn.Close()
	if err := srv.Close(); err != nil {
		t.Errorf("the server's process: %v", err)
	}
	wantRequest := H2Request{Method: "CONNECT", Proto: "HTTP/2.0", Protocol: "websocket"}
	if got := srv.Requests(); len(got) != 1 || got[0] != wantRequest {
		t.Errorf("requests to /ws %+v, want [%+v]", got, wantRequest)
	}
	if got, want := srv.Sent(), SentOf("server", true, []byte("hello over HTTP/2")); len(got) != 1 || got[0] != want {
		t.Errorf("server sent %+v, want [%+v]", got, want)
	}
}

// extendedConnect is the request of RFC 8441 §5 as Go's HTTP/2 server hands
// it to a handler, with the client's frames as its body.
func extendedConnect(body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodConnect, "/ws", bytes.NewReader(body))
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
	r.Header.Set(":protocol", "websocket")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")
	return r
}

// serverFrame is a frame the server wrote.
type serverFrame struct {
	fin, rsv1 bool
	op        byte
	payload   []byte
}

// readServerFrames splits b into unmasked frames (RFC 6455 §5.2).
func readServerFrames(t *testing.T, b []byte) []serverFrame {
	t.Helper()
	var frames []serverFrame
	for len(b) > 0 {
		if len(b) < 2 || b[1]&maskBit != 0 || b[0]&(rsv2Bit|rsv3Bit) != 0 {
			t.Fatalf("server frame header % x: want 2 bytes at least, no mask, no RSV2 or RSV3", b[:min(len(b), 2)])
		}
		f := serverFrame{fin: b[0]&finalBit != 0, rsv1: b[0]&rsv1Bit != 0, op: b[0] & 0x0f}
		n, b1 := int(b[1]&0x7f), b[2:]
		switch n {
		case 126:
			n, b1 = int(binary.BigEndian.Uint16(b1)), b1[2:]
		case 127:
			t.Fatalf("a server frame with a 64-bit length: frames are at most %d bytes", h2wsMaxFrame)
		}
		if n > len(b1) {
			t.Fatalf("a server frame of %d bytes, %d left", n, len(b1))
		}
		f.payload, b = b1[:n], b1[n:]
		frames = append(frames, f)
	}
	return frames
}

// TestH2WebSocketEcho plays a client's frames (analyzetest's encoder,
// compressed with context takeover by its Deflater) through the /ws of
// H2WSSHandler and reads the answer back: the echoes, compressed with
// context takeover (inflated here as one continuous deflate stream),
// fragmented into frames of at most 16 KiB; the pong; the close.
func TestH2WebSocketEcho(t *testing.T) {
	big := make([]byte, 40000)
	for i := range big {
		big[i] = byte(i * 7)
	}
	messages := []struct {
		op      byte
		payload []byte
	}{
		{opText, []byte("hello over HTTP/2")},
		{opText, []byte("hello over HTTP/2, hello again")}, // refers to the first
		{opBinary, big},
		{opBinary, nil},
		{opText, []byte("sent uncompressed")}, // RFC 7692 §6: RSV1 clear
	}
	z := analyzetest.Deflater{Level: flate.DefaultCompression}
	mask := &analyzetest.DefaultMask
	var body []byte
	for i, m := range messages {
		if i == 4 {
			body = analyzetest.Frame{Fin: true, Opcode: m.op, Mask: mask, Payload: m.payload}.Append(body)
			continue
		}
		p := z.Compress(m.payload)
		if i != 2 {
			body = analyzetest.Frame{Fin: true, RSV: 4, Opcode: m.op, Mask: mask, Payload: p}.Append(body)
			continue
		}
		// Fragmented, a ping between its frames (RFC 6455 §5.4).
		half := len(p) / 2
		body = analyzetest.Frame{RSV: 4, Opcode: m.op, Mask: mask, Payload: p[:half]}.Append(body)
		body = analyzetest.Frame{Fin: true, Opcode: analyzetest.OpPing, Mask: mask, Payload: []byte("ping")}.Append(body)
		body = analyzetest.Frame{Fin: true, Opcode: analyzetest.OpContinuation, Mask: mask, Payload: p[half:]}.Append(body)
	}
	body = append(body, analyzetest.Close(true, 1000, "bye")...)

	var sent [][]byte
	rec := httptest.NewRecorder()
	H2WSSHandler("Go", func(text bool, b []byte) { sent = append(sent, b) }).ServeHTTP(rec, extendedConnect(body))
	if rec.Code != http.StatusOK || rec.Header().Get("Sec-WebSocket-Extensions") != "permessage-deflate" {
		t.Fatalf("answer %d, Sec-WebSocket-Extensions %q; want 200, permessage-deflate", rec.Code, rec.Header().Get("Sec-WebSocket-Extensions"))
	}

	// The server's messages, compressed, make one deflate stream once
	// each has its 00 00 ff ff back (RFC 7692 §7.2.2): with context
	// takeover a receiver inflates it with one inflater.
	var stream bytes.Buffer
	var got []string
	var op byte
	var frames, wireLen []int
	for _, f := range readServerFrames(t, rec.Body.Bytes()) {
		if len(f.payload) > h2wsMaxFrame {
			t.Errorf("a frame of %d bytes, want at most %d", len(f.payload), h2wsMaxFrame)
		}
		switch f.op {
		case opPong:
			got = append(got, fmt.Sprintf("pong %q", f.payload))
			continue
		case opClose:
			got = append(got, fmt.Sprintf("close % x", f.payload))
			continue
		case opContinuation:
			if op == 0 || f.rsv1 {
				t.Fatalf("a continuation frame out of a message, or with RSV1")
			}
			frames[len(frames)-1]++
			wireLen[len(wireLen)-1] += len(f.payload)
		default:
			if op != 0 || !f.rsv1 {
				t.Fatalf("a message's first frame (op %d) inside another, or without RSV1", f.op)
			}
			op = f.op
			frames = append(frames, 1)
			wireLen = append(wireLen, len(f.payload))
		}
		stream.Write(f.payload)
		if f.fin {
			stream.WriteString(deflateTail)
			got = append(got, fmt.Sprintf("op %d", op))
			op = 0
		}
	}
	inflater := flate.NewReader(&stream)
	for i, m := range messages {
		p := make([]byte, len(m.payload))
		if _, err := io.ReadFull(inflater, p); err != nil || !bytes.Equal(p, m.payload) {
			t.Errorf("echo %d inflates to %d bytes (%v), want %d bytes equal to the message", i, len(p), err, len(m.payload))
		}
		if i < len(sent) && !bytes.Equal(sent[i], m.payload) {
			t.Errorf("sent %d has %d bytes, want the message's %d", i, len(sent[i]), len(m.payload))
		}
	}
	if len(sent) != len(messages) {
		t.Errorf("sent called %d times, want %d", len(sent), len(messages))
	}
	// Context takeover (RFC 7692 §7.1.1.1): the second echo refers to
	// the first, and is shorter than when compressed alone.
	alone := (&analyzetest.Deflater{Level: flate.DefaultCompression}).Compress(messages[1].payload)
	if len(wireLen) > 1 && wireLen[1] >= len(alone) {
		t.Errorf("the second echo has %d compressed bytes, %d alone: the server does not keep its window", wireLen[1], len(alone))
	}
	// The 40000-byte echo: flushed after each 16 KiB, three frames.
	want := fmt.Sprint([]string{"op 1", "op 1", `pong "ping"`, "op 2", "op 2", "op 1", "close 03 e8"})
	if g := fmt.Sprint(got); g != want || fmt.Sprint(frames) != "[1 1 3 1 1]" {
		t.Errorf("server wrote %s in frames %v, want %s in [1 1 3 1 1]", g, frames, want)
	}
}

// TestH2WebSocketRefused: /ws takes only RFC 8441's extended CONNECT.
func TestH2WebSocketRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(r *http.Request)
	}{
		{"HTTP/1.1 upgrade", func(r *http.Request) {
			r.Method, r.Proto, r.ProtoMajor, r.ProtoMinor = http.MethodGet, "HTTP/1.1", 1, 1
			r.Header.Del(":protocol")
			r.Header.Set("Upgrade", "websocket")
		}},
		{"plain CONNECT", func(r *http.Request) { r.Header.Del(":protocol") }},
		{"another protocol", func(r *http.Request) { r.Header.Set(":protocol", "webtransport") }},
		{"no version", func(r *http.Request) { r.Header.Del("Sec-WebSocket-Version") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := extendedConnect(nil)
			tc.edit(r)
			rec := httptest.NewRecorder()
			H2WSSHandler("Go", func(bool, []byte) { t.Error("sent called") }).ServeHTTP(rec, r)
			if rec.Code != http.StatusBadRequest {
				t.Errorf("ServeHTTP(%s) = %d, want 400", tc.name, rec.Code)
			}
		})
	}
}

// TestH2WebSocketViolations: a client frame that breaks a rule is answered
// with a Close naming the rule's status code (RFC 6455 §7.4.1).
func TestH2WebSocketViolations(t *testing.T) {
	mask := &analyzetest.DefaultMask
	for _, tc := range []struct {
		name string
		body []byte
		code int
	}{
		{"unmasked", analyzetest.Text(false, "hi"), closeProtocolError},
		{"RSV2", analyzetest.Frame{Fin: true, RSV: 2, Opcode: opText, Mask: mask, Payload: []byte("hi")}.Bytes(), closeProtocolError},
		{"RSV1 on a ping", analyzetest.Frame{Fin: true, RSV: 4, Opcode: opPing, Mask: mask}.Bytes(), closeProtocolError},
		{"continuation first", analyzetest.Frame{Fin: true, Opcode: opContinuation, Mask: mask, Payload: []byte("hi")}.Bytes(), closeProtocolError},
		{"reserved opcode", analyzetest.Frame{Fin: true, Opcode: 3, Mask: mask}.Bytes(), closeProtocolError},
		{"long ping", analyzetest.Frame{Fin: true, Opcode: opPing, Mask: mask, Payload: make([]byte, 126)}.Bytes(), closeProtocolError},
		{"16-bit length of 5", analyzetest.Frame{Fin: true, Opcode: opText, Mask: mask, LenBytes: 2, Payload: []byte("hello")}.Bytes(), closeProtocolError},
		{"not UTF-8", analyzetest.Frame{Fin: true, Opcode: opText, Mask: mask, Payload: []byte{0xff}}.Bytes(), closeInvalidPayload},
		{"not deflate", analyzetest.Frame{Fin: true, RSV: 4, Opcode: opText, Mask: mask, Payload: []byte{0xff, 0xff}}.Bytes(), closeInvalidPayload},
		{"Close 1005", analyzetest.Close(true, 1005, ""), closeProtocolError},
		{"Close 999", analyzetest.Close(true, 999, ""), closeProtocolError},
		{"Close of 1 byte", analyzetest.Frame{Fin: true, Opcode: opClose, Mask: mask, Payload: []byte{3}}.Bytes(), closeProtocolError},
		{"2 MiB", analyzetest.Frame{Fin: true, Opcode: opBinary, Mask: mask, Len: 2 << 20}.Bytes(), closeTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			H2WSSHandler("Go", func(bool, []byte) { t.Error("sent called") }).ServeHTTP(rec, extendedConnect(tc.body))
			frames := readServerFrames(t, rec.Body.Bytes())
			want := binary.BigEndian.AppendUint16(nil, uint16(tc.code))
			if len(frames) != 1 || frames[0].op != opClose || !bytes.Equal(frames[0].payload, want) {
				t.Errorf("server answered %+v, want one Close with %d", frames, tc.code)
			}
		})
	}
}

// TestAcceptDeflate: the offers the server takes (RFC 7692 §7.1).
func TestAcceptDeflate(t *testing.T) {
	for _, tc := range []struct {
		offers []string
		want   bool
	}{
		{[]string{"permessage-deflate; client_max_window_bits"}, true}, // Chromium's
		{[]string{"permessage-deflate"}, true},
		{[]string{"permessage-deflate;client_max_window_bits=10; client_no_context_takeover"}, true},
		{[]string{"x-webkit-deflate-frame", "permessage-deflate"}, true},
		{[]string{"permessage-deflate; server_no_context_takeover, permessage-deflate"}, true},
		{[]string{"permessage-deflate; server_no_context_takeover"}, false},
		{[]string{"permessage-deflate; server_max_window_bits=10"}, false},
		{[]string{"permessage-deflate; unknown"}, false},
		{nil, false},
	} {
		if got := acceptDeflate(tc.offers); got != tc.want {
			t.Errorf("acceptDeflate(%q) = %v, want %v", tc.offers, got, tc.want)
		}
	}
}
