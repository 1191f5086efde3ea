package analyzetest

import (
	"bytes"
	"encoding/binary"

	"github.com/wsviz/wsviz/capture/capturetest"
	"golang.org/x/net/http2/hpack"
)

// H2Preface is the connection preface an HTTP/2 client opens with (RFC 9113
// §3.4).
const H2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// HTTP/2 frame types and flags (RFC 9113 §6).
const (
	H2Data         = 0x0
	H2Headers      = 0x1
	H2RSTStream    = 0x3
	H2Settings     = 0x4
	H2GoAway       = 0x7
	H2Continuation = 0x9

	H2EndStream  = 0x1
	H2EndHeaders = 0x4
	H2Padded     = 0x8
)

// H2SettingEnableConnectProtocol lets a client use extended CONNECT (RFC
// 8441 §3).
const H2SettingEnableConnectProtocol = 0x8

// H2Frame encodes one HTTP/2 frame: any type, flags and stream, valid or
// not (RFC 9113 §4.1).
func H2Frame(typ, flags uint8, stream uint32, payload []byte) []byte {
	b := make([]byte, 9, 9+len(payload))
	b[0], b[1], b[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	b[3], b[4] = typ, flags
	binary.BigEndian.PutUint32(b[5:], stream)
	return append(b, payload...)
}

// H2DataFrame encodes a DATA frame (RFC 9113 §6.1).
func H2DataFrame(stream uint32, endStream bool, p []byte) []byte {
	var flags uint8
	if endStream {
		flags = H2EndStream
	}
	return H2Frame(H2Data, flags, stream, p)
}

// H2SettingsFrame encodes a SETTINGS frame with the id, value pairs given
// (RFC 9113 §6.5).
func H2SettingsFrame(pairs ...uint32) []byte {
	var p []byte
	for i := 0; i+1 < len(pairs); i += 2 {
		p = binary.BigEndian.AppendUint16(p, uint16(pairs[i]))
		p = binary.BigEndian.AppendUint32(p, pairs[i+1])
	}
	return H2Frame(H2Settings, 0, 0, p)
}

// H2RSTStreamFrame encodes a RST_STREAM frame (RFC 9113 §6.4).
func H2RSTStreamFrame(stream, code uint32) []byte {
	return H2Frame(H2RSTStream, 0, stream, binary.BigEndian.AppendUint32(nil, code))
}

// H2 encodes the header blocks one side of an HTTP/2 connection sends: its
// HPACK encoder's dynamic table (RFC 7541) carries over from block to
// block, as the peer's decoder's does.
type H2 struct {
	buf bytes.Buffer
	enc *hpack.Encoder
}

// NewH2 returns an encoder with HPACK's default table size (4096).
func NewH2() *H2 {
	h := &H2{}
	h.enc = hpack.NewEncoder(&h.buf)
	return h
}

// Block encodes the fields, name and value pairs in order (pseudo-header
// fields first, as RFC 9113 §8.3 wants), into one header block.
func (h *H2) Block(fields ...string) []byte {
	h.buf.Reset()
	for i := 0; i+1 < len(fields); i += 2 {
		h.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return bytes.Clone(h.buf.Bytes())
}

// Headers encodes a HEADERS frame with END_HEADERS holding the fields'
// block (RFC 9113 §6.2).
func (h *H2) Headers(stream uint32, endStream bool, fields ...string) []byte {
	flags := uint8(H2EndHeaders)
	if endStream {
		flags |= H2EndStream
	}
	return H2Frame(H2Headers, flags, stream, h.Block(fields...))
}

// H2Conn writes both sides of an HTTP/2 connection (RFC 9113) onto a
// scripted TCP connection: each side's HPACK encoder, and the steps of
// requests and of WebSockets over HTTP/2 (RFC 8441).
type H2Conn struct {
	K              *capturetest.Conn
	Client, Server *H2 // each side's header blocks
	// Scheme and Authority are the :scheme and :authority of the
	// client's requests; OpenH2 sets "https" and "example.com".
	Scheme, Authority string
	// Cut, when set, says where to cut each step of n bytes into TCP
	// segments (capturetest.Conn.ClientSegments); nil sends each step in
	// one segment.
	Cut func(n int) []int
	// Data, when set, makes the DATA frames that carry a stream's bytes
	// (several, padded, empty: as it likes); nil makes one H2DataFrame.
	Data func(stream uint32, endStream bool, p []byte) []byte
}

// OpenH2 starts an HTTP/2 connection with prior knowledge on k, whose TCP
// handshake is done: the client's preface and SETTINGS, the server's
// SETTINGS (allowing extended CONNECT when connect is true, RFC 8441 §3)
// and its ACK, the client's ACK.
func OpenH2(k *capturetest.Conn, connect bool) *H2Conn {
	h := &H2Conn{K: k, Client: NewH2(), Server: NewH2(), Scheme: "https", Authority: "example.com"}
	h.ClientSends([]byte(H2Preface), H2SettingsFrame())
	settings := H2SettingsFrame()
	if connect {
		settings = H2SettingsFrame(H2SettingEnableConnectProtocol, 1)
	}
	h.ServerSends(settings, H2Frame(H2Settings, 1, 0, nil))
	h.ClientSends(H2Frame(H2Settings, 1, 0, nil))
	return h
}

// ClientSends sends the bytes as one step of the client.
func (h *H2Conn) ClientSends(b ...[]byte) { h.send(true, bytes.Join(b, nil)) }

// ServerSends sends the bytes as one step of the server.
func (h *H2Conn) ServerSends(b ...[]byte) { h.send(false, bytes.Join(b, nil)) }

func (h *H2Conn) send(client bool, b []byte) {
	var cuts []int
	if h.Cut != nil {
		cuts = h.Cut(len(b))
	}
	if client {
		h.K.ClientSegments(b, cuts...)
	} else {
		h.K.ServerSegments(b, cuts...)
	}
}

// ConnectFields are the fields of an extended CONNECT for a WebSocket at
// path (RFC 8441 §4, §5), extra fields (name, value pairs) after those it
// requires.
func (h *H2Conn) ConnectFields(path string, extra ...string) []string {
	return append([]string{":method", "CONNECT", ":protocol", "websocket", ":scheme", h.Scheme, ":path", path,
		":authority", h.Authority, "sec-websocket-version", "13"}, extra...)
}

// Connect sends the client's extended CONNECT for a WebSocket at path on
// stream id (ConnectFields).
func (h *H2Conn) Connect(id uint32, path string, extra ...string) {
	h.ClientSends(h.Client.Headers(id, false, h.ConnectFields(path, extra...)...))
}

// Answer sends the server's response on stream id, extra fields after
// :status; a 2xx to an extended CONNECT opens its WebSocket (RFC 8441 §5).
func (h *H2Conn) Answer(id uint32, status string, extra ...string) {
	h.ServerSends(h.Server.Headers(id, false, append([]string{":status", status}, extra...)...))
}

// Request sends the client's request for path on stream id, ending its
// side, extra fields after the pseudo-header fields.
func (h *H2Conn) Request(id uint32, method, path string, extra ...string) {
	fields := append([]string{":method", method, ":scheme", h.Scheme, ":path", path, ":authority", h.Authority}, extra...)
	h.ClientSends(h.Client.Headers(id, true, fields...))
}

// Get sends a GET for path on stream id, and the server's page.
func (h *H2Conn) Get(id uint32, path string) {
	h.Request(id, "GET", path)
	h.ServerSends(h.Server.Headers(id, false, ":status", "200", "content-type", "text/html"), h.data(id, true, []byte("<html></html>")))
}

// ClientData sends WebSocket frames (or any bytes) on stream id, in one
// step; endStream ends the client's side.
func (h *H2Conn) ClientData(id uint32, endStream bool, frames ...[]byte) {
	h.ClientSends(h.data(id, endStream, bytes.Join(frames, nil)))
}

// ServerData is ClientData from the server.
func (h *H2Conn) ServerData(id uint32, endStream bool, frames ...[]byte) {
	h.ServerSends(h.data(id, endStream, bytes.Join(frames, nil)))
}

// CloseWebSocket sends the closing handshake of the WebSocket on stream id
// (1000 from the client, echoed), each Close frame ending its side of the
// stream.
func (h *H2Conn) CloseWebSocket(id uint32) {
	h.ClientData(id, true, Close(true, 1000, ""))
	h.ServerData(id, true, Close(false, 1000, ""))
}

func (h *H2Conn) data(id uint32, endStream bool, p []byte) []byte {
	if h.Data != nil {
		return h.Data(id, endStream, p)
	}
	return H2DataFrame(id, endStream, p)
}

// Close ends the TCP connection with FINs from both sides.
func (h *H2Conn) Close() {
	h.K.CloseFIN(true)
	h.K.CloseFIN(false)
}
