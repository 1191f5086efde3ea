package browsertests

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wsviz/wsviz/capture/capturetest"
)

// frame encodes one WebSocket frame as it goes on the wire, any of its rules
// broken as asked: rsv is the three RSV bits (RSV1 = 4), len16 writes the
// length in the 16-bit form whatever it is (RFC 6455 §5.2 wants the
// shortest), a zero mask key with masked set still masks (and XOR with zero
// leaves the payload as is).
func frame(fin bool, rsv, opcode byte, masked, len16 bool, payload []byte) []byte {
	b0 := opcode&0x0f | rsv<<4
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	var mbit byte
	if masked {
		mbit = 0x80
	}
	switch n := len(payload); {
	case n < 126 && !len16:
		out = append(out, mbit|byte(n))
	case n <= 0xffff:
		out = append(out, mbit|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, mbit|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if masked {
		key := [4]byte{0x12, 0x34, 0x56, 0x78}
		out = append(out, key[:]...)
		for i, c := range payload {
			out = append(out, c^key[i%4])
		}
		return out
	}
	return append(out, payload...)
}

const upgradeRequest = "GET /ws HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

const upgradeResponse = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"

var (
	hostileOnce sync.Once
	hostilePath string
	hostileErr  error
)

// hostileCapture returns the path of a capture whose connections break the
// rules in every way the page must show:
//
//  1. plain HTTP on a keep-alive connection: GET /health → 200, then
//     GET /favicon.ico → 404 (request and response, no WebSocket);
//  2. a WebSocket whose frames break RFC 6455 §5: an unmasked client frame,
//     a masked server frame, a reserved opcode (no message), RSV bits
//     without an extension, a ping of 126 bytes, a fragmented ping, a
//     continuation with nothing to continue, a 5-byte length in the
//     16-bit form; then a clean close;
//  3. a WebSocket with a segment never captured (a gap) in the middle of
//     its messages.
func hostileCapture(t testing.TB) string {
	t.Helper()
	hostileOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wsviz-browsertests-hostile-")
		if err != nil {
			hostileErr = err
			return
		}
		hostilePath = filepath.Join(dir, "hostile.pcapng")
		hostileErr = buildHostile(hostilePath)
	})
	if hostileErr != nil {
		t.Fatal(hostileErr)
	}
	t.Cleanup(func() {}) // the folder goes with the process (TestMain)
	return hostilePath
}

func buildHostile(path string) error {
	c := capturetest.NewCapture(capturetest.Options{NG: true, Step: 2 * time.Millisecond})

	k1 := c.Conn("127.0.0.1:50011", "127.0.0.1:8080")
	k1.Handshake()
	k1.Client([]byte("GET /health HTTP/1.1\r\nHost: example.test\r\n\r\n"))
	k1.Server([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"))
	k1.Client([]byte("GET /favicon.ico HTTP/1.1\r\nHost: example.test\r\n\r\n"))
	k1.Server([]byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
	k1.CloseFIN(true)
	k1.CloseFIN(false)

	k2 := c.Conn("127.0.0.1:50012", "127.0.0.1:9001")
	k2.Handshake()
	k2.Client([]byte(upgradeRequest))
	k2.Server([]byte(upgradeResponse))
	k2.Client(frame(true, 0, 0x1, true, false, []byte("hello, a well-formed frame")))
	k2.Client(frame(true, 0, 0x1, false, false, []byte("unmasked from the client")))
	k2.Server(frame(true, 0, 0x1, true, false, []byte("masked from the server")))
	k2.Client(frame(true, 0, 0x3, true, false, []byte("opcode 3 is reserved")))
	k2.Client(frame(true, 2, 0x1, true, false, []byte("RSV2 set, no extension")))
	big := make([]byte, 126)
	for i := range big {
		big[i] = 'p'
	}
	k2.Client(frame(true, 0, 0x9, true, false, big))
	k2.Client(frame(false, 0, 0x9, true, false, []byte("ping, not final")))
	k2.Client(frame(true, 0, 0x0, true, false, []byte("continuing nothing")))
	k2.Client(frame(true, 0, 0x1, true, true, []byte("abcde")))
	k2.Client(frame(true, 0, 0x8, true, false, []byte{0x03, 0xe8}))
	k2.Server(frame(true, 0, 0x8, false, false, []byte{0x03, 0xe8}))
	k2.CloseFIN(false)
	k2.CloseFIN(true)

	k3 := c.Conn("127.0.0.1:50013", "127.0.0.1:9001")
	k3.Handshake()
	k3.Client([]byte(upgradeRequest))
	k3.Server([]byte(upgradeResponse))
	k3.Server(frame(true, 0, 0x1, false, false, []byte("before the gap")))
	k3.Drop(1)
	k3.Server(frame(true, 0, 0x1, false, false, []byte("this segment was never captured")))
	k3.Server(frame(true, 0, 0x1, false, false, []byte("after the gap")))
	k3.Client(frame(true, 0, 0x8, true, false, []byte{0x03, 0xe8}))
	k3.Server(frame(true, 0, 0x8, false, false, []byte{0x03, 0xe8}))
	k3.CloseFIN(false)
	k3.CloseFIN(true)
	return c.WriteFile(path)
}
