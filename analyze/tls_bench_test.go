package analyze_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// BenchmarkWSS decodes the same WebSocket traffic twice: as the network
// carried it over TLS 1.3 (AES-128-GCM, decrypted with the key log), and as
// the applications wrote it (ws://, the plaintext of the same session).
// The target: wss at least 70% as fast as ws. Compare the two
// with benchstat, or their ns/op directly (the bytes differ by the TLS
// overhead, so MB/s is not the measure):
//
//	go test ./analyze -run XXX -bench BenchmarkWSS -count 6
//
// A third, aes-gcm, does only what no TLS layer can avoid: it opens
// (authenticates and decrypts) with crypto/cipher's AES-128-GCM records of
// the sizes the session's records have, one after the other. wss costs at
// least ws + aes-gcm, so ws/(ws+aes-gcm) is the best ratio any record
// layer could reach on the machine.
//
// With WSVIZ_WSS_BENCH_DIR set it also writes the two captures and the key
// log there, to count the binary's instructions on each.
var wssBench struct {
	once     sync.Once
	ws, wss  []byte
	keys     []byte
	messages int
	err      error
}

type benchTap struct {
	net.Conn
	mu     *sync.Mutex
	chunks *[]benchChunk
}

type benchChunk struct {
	server bool
	b      []byte
}

func (t benchTap) Write(b []byte) (int, error) {
	t.mu.Lock()
	*t.chunks = append(*t.chunks, benchChunk{false, append([]byte(nil), b...)})
	t.mu.Unlock()
	return t.Conn.Write(b)
}

func (t benchTap) Read(b []byte) (int, error) {
	n, err := t.Conn.Read(b)
	if n > 0 {
		t.mu.Lock()
		*t.chunks = append(*t.chunks, benchChunk{true, append([]byte(nil), b[:n]...)})
		t.mu.Unlock()
	}
	return n, err
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// makeWSSBench runs conns sessions of n text messages each (echoed) and
// returns the two captures and the key log.
func makeWSSBench(conns, n int) (ws, wss, keys []byte, err error) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, err
	}
	klog := &lockedBuf{}
	scfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, KeyLogWriter: klog}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", scfg)
	if err != nil {
		return nil, nil, nil, err
	}
	defer ln.Close()
	up := websocket.Upgrader{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			op, b, err := c.ReadMessage()
			if err != nil || c.WriteMessage(op, b) != nil {
				return
			}
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()
	plain := capturetest.NewCapture(capturetest.Options{Step: time.Microsecond})
	cipher := capturetest.NewCapture(capturetest.Options{Step: time.Microsecond})
	rng := mrand.New(mrand.NewPCG(1, 2))
	for i := range conns {
		var mu sync.Mutex
		var raw, app []benchChunk
		d := websocket.Dialer{NetDialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := net.Dial(network, addr)
			if err != nil {
				return nil, err
			}
			tc := tls.Client(benchTap{c, &mu, &raw}, &tls.Config{InsecureSkipVerify: true, KeyLogWriter: klog})
			if err := tc.HandshakeContext(ctx); err != nil {
				return nil, err
			}
			return benchTap{tc, &mu, &app}, nil
		}}
		c, _, err := d.Dial("wss://"+ln.Addr().String()+"/", nil)
		if err != nil {
			return nil, nil, nil, err
		}
		msg := make([]byte, 2048)
		for j := range n {
			m := msg[:64+rng.IntN(1984)]
			for k := range m {
				m[k] = 'a' + byte((j+k)%26)
			}
			if err := c.WriteMessage(websocket.TextMessage, m); err != nil {
				return nil, nil, nil, err
			}
			if _, _, err := c.ReadMessage(); err != nil {
				return nil, nil, nil, err
			}
		}
		c.Close()
		mu.Lock()
		for _, pc := range []struct {
			capt   *capturetest.Capture
			chunks []benchChunk
		}{{cipher, raw}, {plain, app}} {
			k := pc.capt.Conn(fmt.Sprintf("127.0.0.1:%d", 40000+i), "127.0.0.1:443")
			k.Handshake()
			for _, ch := range pc.chunks {
				if ch.server {
					k.Server(ch.b)
				} else {
					k.Client(ch.b)
				}
			}
			k.CloseFIN(true)
			k.CloseFIN(false)
		}
		mu.Unlock()
	}
	return plain.Bytes(), cipher.Bytes(), klog.b.Bytes(), nil
}

func BenchmarkWSS(b *testing.B) {
	wssBench.once.Do(func() {
		wssBench.messages = 4 * 3000 * 2
		wssBench.ws, wssBench.wss, wssBench.keys, wssBench.err = makeWSSBench(4, 3000)
	})
	if wssBench.err != nil {
		b.Fatal(wssBench.err)
	}
	if dir := os.Getenv("WSVIZ_WSS_BENCH_DIR"); dir != "" {
		// For counting instructions with the binary (docs/performance.md):
		// wsviz events -r ws.pcap, wsviz events --keylog wss.keys -r wss.pcap.
		for name, data := range map[string][]byte{"ws.pcap": wssBench.ws, "wss.pcap": wssBench.wss, "wss.keys": wssBench.keys} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	keys := analyze.NewKeyLog()
	if err := keys.Parse(bytes.NewReader(wssBench.keys), "bench", 0); err != nil {
		b.Fatal(err)
	}
	b.Run("aes-gcm", func(b *testing.B) { benchOpenRecords(b, wssBenchRecords(4, 3000)) })
	for _, bc := range []struct {
		name string
		data []byte
		opts analyze.Options
	}{
		{"ws", wssBench.ws, analyze.Options{Workers: 1}},
		{"wss", wssBench.wss, analyze.Options{Workers: 1, Keys: keys}},
		// As wsviz events decodes: connections sharded across
		// GOMAXPROCS workers.
		{"ws-sharded", wssBench.ws, analyze.Options{}},
		{"wss-sharded", wssBench.wss, analyze.Options{Keys: keys}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.data)))
			for b.Loop() {
				src, err := capture.NewReader(bytes.NewReader(bc.data), "bench.pcap")
				if err != nil {
					b.Fatal(err)
				}
				if err := analyze.DecodeJSON(src, bc.opts, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(wssBench.messages)*float64(b.N)/b.Elapsed().Seconds(), "messages/s")
		})
	}
}

// wssBenchRecords returns the plaintext lengths of the TLS 1.3 records
// makeWSSBench's sessions carry their messages in: each message, of the
// same random length, goes from the client (a masked frame) and back from
// the server, each frame in one record, with its inner content type (RFC
// 8446 §5.2). The handshake's few records are left out.
func wssBenchRecords(conns, n int) []int {
	rng := mrand.New(mrand.NewPCG(1, 2)) // makeWSSBench's lengths
	var lens []int
	for range conns * n {
		m := 64 + rng.IntN(1984)
		hdr := 2 // RFC 6455 §5.2: 7-bit length, or 16-bit past 125
		if m > 125 {
			hdr = 4
		}
		lens = append(lens, hdr+4+m+1, hdr+m+1)
	}
	return lens
}

// benchOpenRecords opens AES-128-GCM records of the plaintext lengths
// lens in turn, as tlsdec does (TLS 1.3 nonce, the record header as
// additional data, into one scratch buffer), from one buffer that holds
// them all one after the other, as a capture does.
func benchOpenRecords(b *testing.B, lens []int) {
	block, err := aes.NewCipher(make([]byte, 16))
	if err != nil {
		b.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	var stream []byte
	var nonce [12]byte
	for i, n := range lens {
		hdr := []byte{23, 3, 3, byte((n + 16) >> 8), byte(n + 16)}
		binary.BigEndian.PutUint64(nonce[4:], uint64(i))
		stream = aead.Seal(append(stream, hdr...), nonce[:], make([]byte, n), hdr)
	}
	plain := make([]byte, 0, 1<<14+256)
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		rest := stream
		for i := 0; len(rest) > 0; i++ {
			n := 5 + int(binary.BigEndian.Uint16(rest[3:]))
			binary.BigEndian.PutUint64(nonce[4:], uint64(i))
			if _, err := aead.Open(plain, nonce[:], rest[5:n], rest[:5]); err != nil {
				b.Fatal(err)
			}
			rest = rest[n:]
		}
	}
}
