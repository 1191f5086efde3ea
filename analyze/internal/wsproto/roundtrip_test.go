package wsproto

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsviz/wsviz/internal/race"
)

// sizes are the payload sizes of gorilla's TestFraming plus about 1 MiB.
var sizes = []int{0, 1, 125, 126, 127, 65535, 65536, 1<<20 + 3}

// testPayload returns n bytes: random for binary, valid UTF-8 with code
// points of 1 to 4 bytes for text.
func testPayload(rng *rand.Rand, n int, text bool) []byte {
	b := make([]byte, n)
	if !text {
		rng.Read(b)
		return b
	}
	runes := []string{"a", "é", "€", "𝄞", " ", "z"}
	b = b[:0]
	for len(b) < n {
		r := runes[rng.Intn(len(runes))]
		if len(b)+len(r) > n {
			r = "x"
		}
		b = append(b, r...)
	}
	return b
}

// recConn records the bytes read from and written to a connection.
type recConn struct {
	net.Conn
	mu        sync.Mutex
	in, out   bytes.Buffer
	readErr   error
	closeOnce sync.Once
}

func (c *recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.in.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c *recConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.out.Write(p)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// afterHandshake returns what follows the HTTP head in b.
func afterHandshake(t *testing.T, b []byte) []byte {
	t.Helper()
	i := bytes.Index(b, []byte("\r\n\r\n"))
	if i < 0 {
		t.Fatalf("no HTTP head in %q", b[:min(len(b), 200)])
	}
	return b[i+4:]
}

type sent struct {
	op      uint8
	payload []byte
}

// gorillaSession runs a real gorilla/websocket client against an echoing
// gorilla server on the loopback and returns the frame bytes of each
// direction (after the handshake) and the messages the client sent. With
// compress, both ends negotiate permessage-deflate (gorilla: no context
// takeover either way).
func gorillaSession(t *testing.T, compress bool) (clientBytes, serverBytes []byte, msgs []sent) {
	t.Helper()
	up := websocket.Upgrader{EnableCompression: compress, WriteBufferSize: 4096, ReadBufferSize: 4096}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, rd, err := c.NextReader()
			if err != nil {
				return
			}
			wr, err := c.NextWriter(mt)
			if err != nil {
				return
			}
			if _, err := io.Copy(wr, rd); err != nil {
				return
			}
			wr.Close()
		}
	}))
	defer srv.Close()

	var rc *recConn
	d := websocket.Dialer{
		EnableCompression: compress,
		WriteBufferSize:   4096,
		ReadBufferSize:    4096,
		NetDial: func(network, addr string) (net.Conn, error) {
			c, err := net.Dial(network, addr)
			if err != nil {
				return nil, err
			}
			rc = &recConn{Conn: c}
			return rc, nil
		},
	}
	c, resp, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if compress && !strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		t.Fatalf("permessage-deflate not negotiated: %q", resp.Header.Get("Sec-WebSocket-Extensions"))
	}
	rng := rand.New(rand.NewSource(42))
	for _, n := range sizes {
		for _, mt := range []int{websocket.TextMessage, websocket.BinaryMessage} {
			p := testPayload(rng, n, mt == websocket.TextMessage)
			if err := c.WriteMessage(mt, p); err != nil {
				t.Fatalf("WriteMessage: %v", err)
			}
			msgs = append(msgs, sent{uint8(mt), p})
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			gt, echo, err := c.ReadMessage()
			if err != nil || gt != mt || !bytes.Equal(echo, p) {
				t.Fatalf("echo of %d bytes: type %d err %v equal %v", n, gt, err, bytes.Equal(echo, p))
			}
		}
	}
	// A ping (answered by gorilla's default handler with a pong) and a close
	// (echoed by the server's default close handler).
	c.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(time.Second))
	msgs = append(msgs, sent{OpPing, []byte("are you there")})
	body := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye é")
	c.WriteMessage(websocket.CloseMessage, body)
	msgs = append(msgs, sent{OpClose, body})
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			break
		}
	}
	c.Close()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return afterHandshake(t, rc.out.Bytes()), afterHandshake(t, rc.in.Bytes()), msgs
}

// TestGorillaRoundTrip decodes what gorilla/websocket sent, both ways, with
// and without permessage-deflate, cut at random boundaries and one byte at a
// time, and checks that the messages are the ones sent.
func TestGorillaRoundTrip(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("deflate=%v", compress), func(t *testing.T) {
			cb, sb, msgs := gorillaSession(t, compress)
			var serverMsgs []sent
			for _, m := range msgs {
				switch m.op {
				case OpPing:
					serverMsgs = append(serverMsgs, sent{OpPong, m.payload})
				case OpClose:
					// gorilla's default close handler echoes the code only.
					serverMsgs = append(serverMsgs, sent{OpClose, m.payload[:2]})
				default:
					serverMsgs = append(serverMsgs, m)
				}
			}
			dirs := []struct {
				name string
				cfg  Config
				data []byte
				want []sent
			}{
				{"client", Config{Client: true, Deflate: compress, NoContextTakeover: true, MaxPayload: -1, MaxMessage: 4 << 20}, cb, msgs},
				{"server", Config{Deflate: compress, NoContextTakeover: true, MaxPayload: -1, MaxMessage: 4 << 20}, sb, serverMsgs},
			}
			for _, dir := range dirs {
				seeds := 10
				if testing.Short() {
					seeds = 2
				}
				for seed := -1; seed <= seeds; seed++ {
					if seed > 0 && !race.Keep(seed) {
						continue // under -race, the whole and byte-a-Write feeds and a sample of the random ones
					}
					r := &recorder{}
					s := NewStream(dir.cfg, r)
					switch seed {
					case -1:
						s.Write(dir.data, 1)
					case 0:
						feedBytes(s, dir.data)
					default:
						feed(s, dir.data, int64(seed), 3000, 1)
					}
					s.End(1 << 40)
					checkSent(t, fmt.Sprintf("%s seed %d", dir.name, seed), dir.cfg, r, dir.want, compress)
				}
			}
		})
	}
}

// checkSent compares the decoded messages with those sent.
func checkSent(t *testing.T, what string, cfg Config, r *recorder, want []sent, compressed bool) {
	t.Helper()
	for _, f := range r.frames {
		if len(f.Problems) > 0 {
			t.Errorf("%s: frame %+v has problems %v", what, f, codes(f.Problems))
		}
	}
	if len(r.msgs) != len(want) {
		t.Fatalf("%s: Decode = %d messages, want %d", what, len(r.msgs), len(want))
	}
	for i, m := range r.msgs {
		w := want[i]
		if m.Opcode != w.op || !bytes.Equal(m.Payload, w.payload) || m.Len != int64(len(w.payload)) || m.Truncated || len(m.Problems) > 0 {
			t.Fatalf("%s: message %d = op %d len %d truncated %v problems %v, want op %d len %d (payload equal: %v)",
				what, i, m.Opcode, m.Len, m.Truncated, m.Problems, w.op, len(w.payload), bytes.Equal(m.Payload, w.payload))
		}
		if compressed && (w.op == OpText || w.op == OpBinary) && len(w.payload) > 0 && !m.Compressed {
			t.Errorf("%s: message %d of %d bytes not Compressed", what, i, len(w.payload))
		}
		if bad := checkInvariants(m, cfg); bad != "" {
			t.Errorf("%s: message %d: %s", what, i, bad)
		}
	}
}

// deflateMessages compresses msgs as a permessage-deflate sender does (RFC
// 7692 §7.2.1): with takeover, one flate.Writer for all of them, each
// message flushed and its trailing 00 00 ff ff removed; without, a reset
// writer per message.
func deflateMessages(t testing.TB, msgs [][]byte, takeover bool) [][]byte {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.DefaultCompression)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, m := range msgs {
		if !takeover {
			w.Reset(&buf)
		}
		buf.Reset()
		w.Write(m)
		w.Flush()
		b := bytes.Clone(buf.Bytes())
		if !bytes.HasSuffix(b, []byte{0, 0, 0xff, 0xff}) {
			t.Fatalf("flush did not end with 00 00 ff ff: %x", b[max(0, len(b)-8):])
		}
		out = append(out, b[:len(b)-4])
	}
	return out
}

// fragment frames one compressed message as frames of random sizes, RSV1 on
// the first (RFC 7692 §6.1).
func fragment(rng *rand.Rand, op byte, payload []byte, masked, compressed bool) []byte {
	var out []byte
	first := true
	for {
		n := len(payload)
		if rng.Intn(2) == 0 && n > 0 {
			n = rng.Intn(n + 1)
		}
		var rsv byte
		if first && compressed {
			rsv = RSV1
		}
		fop := op
		if !first {
			fop = OpContinuation
		}
		key := [4]byte{byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256))}
		fin := n == len(payload)
		out = append(out, encode(frameSpec{fin: fin, rsv: rsv, op: fop, masked: masked, mask: key, payload: payload[:n]})...)
		if fin {
			return out
		}
		if rng.Intn(3) == 0 {
			out = append(out, encode(frameSpec{fin: true, op: OpPing, masked: masked, mask: key, payload: []byte("p")})...)
		}
		payload = payload[n:]
		first = false
	}
}

// TestDeflateRoundTrip inflates messages compressed with compress/flate,
// with and without context takeover, fragmented with pings in between and
// cut at random boundaries.
func TestDeflateRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	var msgs [][]byte
	var ops []byte
	for _, n := range sizes {
		for _, text := range []bool{true, false} {
			p := testPayload(rng, n, text)
			if !text && n > 1000 {
				// Compressible binary: repeats of earlier messages, so that
				// with takeover messages refer to the ones before.
				p = bytes.Repeat(msgs[len(msgs)-1][:1000], n/1000+1)[:n]
			}
			msgs = append(msgs, p)
			ops = append(ops, map[bool]byte{true: OpText, false: OpBinary}[text])
		}
	}
	// A message equal to an earlier one compresses to back-references only.
	msgs = append(msgs, msgs[len(msgs)-4][:5000])
	ops = append(ops, OpText)
	// Every fourth message is sent uncompressed (RSV1 clear): it does not
	// go through the compressor nor into the history.
	var zmsgs [][]byte
	for i := range msgs {
		if i%4 != 3 {
			zmsgs = append(zmsgs, msgs[i])
		}
	}
	for _, takeover := range []bool{true, false} {
		compressed := deflateMessages(t, zmsgs, takeover)
		for _, masked := range []bool{true, false} {
			t.Run(fmt.Sprintf("takeover=%v/masked=%v", takeover, masked), func(t *testing.T) {
				z := compressed
				var wire []byte
				var want []sent
				frng := rand.New(rand.NewSource(3))
				for i := range msgs {
					if i%4 == 3 {
						wire = append(wire, fragment(frng, ops[i], msgs[i], masked, false)...)
					} else {
						wire = append(wire, fragment(frng, ops[i], z[0], masked, true)...)
						z = z[1:]
					}
					want = append(want, sent{ops[i], msgs[i]})
				}
				cfg := Config{Client: masked, Deflate: true, NoContextTakeover: !takeover, MaxPayload: -1, MaxMessage: 4 << 20}
				for seed := -1; seed <= 8; seed++ {
					if seed > 0 && !race.Keep(seed) {
						continue // under -race, the whole and byte-a-Write feeds and a sample of the random ones
					}
					r := &recorder{}
					s := NewStream(cfg, r)
					switch seed {
					case -1:
						s.Write(wire, 1)
					case 0:
						feedBytes(s, wire)
					default:
						feed(s, wire, int64(seed), 2000, 1)
					}
					s.End(1 << 40)
					var data []Message
					for _, m := range r.msgs {
						if m.Opcode == OpPing {
							continue
						}
						data = append(data, m)
					}
					r.msgs = data
					checkSent(t, fmt.Sprintf("seed %d", seed), cfg, r, want, false)
				}
			})
		}
	}
}
