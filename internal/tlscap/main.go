// Command tlscap makes the TLS test captures of testdata/: real wss://
// sessions between a gorilla/websocket client and server over Go's
// crypto/tls on loopback, each side writing its secrets to a key log and
// logging every message it sent. The bytes each side sent are written as
// TCP segments of a pcapng file (no capture privilege needed), with:
//
//	NAME.pcapng      the packets
//	NAME.keys        the key log (NSS format) the endpoints wrote
//	NAME.sent        the messages each side sent, one JSON object a line
//	NAME-dsb.pcapng  the same packets with the key log inside, as
//	                 "editcap --inject-secrets tls,NAME.keys" makes it
//
// Run it from the repository root:
//
//	go run ./internal/tlscap -o testdata
//
// then regenerate the goldens (go test ./cmd/wsviz -run TestEventsGolden
// -update). Each run makes new keys and random values, so the files
// change as a whole.
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsviz/wsviz/capture/capturetest"
)

// scenario is one connection of the capture.
type scenario struct {
	name     string
	client   func(*tls.Config)
	server   func(*tls.Config)
	deflate  bool
	noKeys   bool // its secrets are left out of the key log
	resumeOf int  // a previous scenario whose session cache the client reuses (index+1)
}

func main() {
	out := flag.String("o", "testdata", "write the files into this `directory`")
	flag.Parse()
	log.SetFlags(0)
	cert := selfSigned()
	tls12 := func(suite uint16) func(*tls.Config) {
		return func(c *tls.Config) { c.MaxVersion, c.CipherSuites = tls.VersionTLS12, []uint16{suite} }
	}
	scenarios := []scenario{
		{name: "TLS 1.3, permessage-deflate", deflate: true},
		{name: "TLS 1.2 ECDHE-ECDSA AES-128-GCM", client: tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)},
		{name: "TLS 1.2 ECDHE-ECDSA AES-256-GCM-SHA384", client: tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384)},
		{name: "TLS 1.2 ECDHE-ECDSA ChaCha20-Poly1305", client: tls12(tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256), deflate: true},
		{name: "TLS 1.2 ECDHE-ECDSA AES-128-CBC-SHA256", client: tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256)},
		{name: "TLS 1.2 ECDHE-ECDSA AES-256-CBC-SHA", client: tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA)},
		{name: "TLS 1.2 resumed by ticket", client: tls12(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256), resumeOf: 2},
		{name: "TLS 1.3 resumed (PSK)", resumeOf: 1},
		{name: "TLS 1.3 after a HelloRetryRequest", server: func(c *tls.Config) { c.CurvePreferences = []tls.CurveID{tls.CurveP384} }},
		{name: "TLS 1.3 without keys", noKeys: true},
	}
	capt := capturetest.NewCapture(capturetest.Options{NG: true})
	var keys bytes.Buffer
	var sent bytes.Buffer
	caches := map[int]tls.ClientSessionCache{}
	for i, sc := range scenarios {
		cache := caches[sc.resumeOf]
		if sc.resumeOf == 0 || cache == nil {
			cache = tls.NewLRUClientSessionCache(4)
		}
		caches[i+1] = cache
		chunks, klog, msgs := run(sc, cert, cache)
		if !sc.noKeys {
			keys.Write(klog)
		}
		k := capt.Conn(fmt.Sprintf("127.0.0.1:%d", 50001+i), "127.0.0.1:8443")
		k.Handshake()
		for _, ch := range chunks {
			if ch.server {
				k.Server(ch.b)
			} else {
				k.Client(ch.b)
			}
		}
		k.CloseFIN(true)
		k.CloseFIN(false)
		for _, m := range msgs {
			m.Conn = i + 1
			line, _ := json.Marshal(m)
			sent.Write(append(line, '\n'))
		}
		capt.Advance(time.Second)
	}
	base := filepath.Join(*out, "wss")
	must(capt.WriteFile(base + ".pcapng"))
	must(os.WriteFile(base+".keys", keys.Bytes(), 0o644))
	must(os.WriteFile(base+".sent", sent.Bytes(), 0o644))
	cmd := exec.Command("editcap", "--inject-secrets", "tls,"+base+".keys", base+".pcapng", base+"-dsb.pcapng")
	if b, err := cmd.CombinedOutput(); err != nil {
		log.Fatalf("editcap: %v: %s", err, b)
	}
	log.Printf("wrote %s.pcapng (%d packets), %s.keys, %s.sent, %s-dsb.pcapng", base, capt.Packets(), base, base, base)
}

// chunk is what one side wrote, in the order the client's side saw it.
type chunk struct {
	server bool
	b      []byte
}

// tap records the bytes crossing the client's connection.
type tap struct {
	net.Conn
	mu     *sync.Mutex
	chunks *[]chunk
}

func (t tap) Write(b []byte) (int, error) {
	t.mu.Lock()
	*t.chunks = append(*t.chunks, chunk{false, append([]byte(nil), b...)})
	t.mu.Unlock()
	return t.Conn.Write(b)
}

func (t tap) Read(b []byte) (int, error) {
	n, err := t.Conn.Read(b)
	if n > 0 {
		t.mu.Lock()
		*t.chunks = append(*t.chunks, chunk{true, append([]byte(nil), b[:n]...)})
		t.mu.Unlock()
	}
	return n, err
}

// message is one WebSocket message an endpoint sent, as it logged it.
type message struct {
	Conn   int    `json:"conn"`
	From   string `json:"from"`
	Opcode string `json:"opcode"`
	Text   string `json:"text,omitempty"`
	Base64 []byte `json:"base64,omitempty"`
}

// lockedWriter is the key log both endpoints write.
type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func run(sc scenario, cert tls.Certificate, cache tls.ClientSessionCache) ([]chunk, []byte, []message) {
	klog := &lockedWriter{}
	scfg := &tls.Config{Certificates: []tls.Certificate{cert}, KeyLogWriter: klog, NextProtos: []string{"http/1.1"}}
	// One ticket key for every scenario's server, so that a later
	// connection can resume an earlier one's session.
	scfg.SetSessionTicketKeys([][32]byte{ticketKey})
	if sc.client != nil {
		sc.client(scfg) // the server allows what the client asks for
	}
	if sc.server != nil {
		sc.server(scfg)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", scfg)
	must(err)
	defer ln.Close()
	var mu sync.Mutex
	var msgs []message
	logMsg := func(from string, op int, b []byte) {
		m := message{From: from, Opcode: "text", Text: string(b)}
		if op == websocket.BinaryMessage {
			m = message{From: from, Opcode: "binary", Base64: b}
		}
		mu.Lock()
		msgs = append(msgs, m)
		mu.Unlock()
	}
	up := websocket.Upgrader{EnableCompression: sc.deflate}
	done := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			log.Print(err)
			return
		}
		defer c.Close()
		for {
			op, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			reply := append([]byte("echo: "), b...)
			if op == websocket.BinaryMessage {
				reply = b
			}
			logMsg("server", op, reply)
			if err := c.WriteMessage(op, reply); err != nil {
				return
			}
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()

	var chunks []chunk
	var cmu sync.Mutex
	ccfg := &tls.Config{InsecureSkipVerify: true, ServerName: "wsviz.test", KeyLogWriter: klog, NextProtos: []string{"http/1.1"},
		ClientSessionCache: cache}
	if sc.client != nil {
		sc.client(ccfg)
	}
	d := websocket.Dialer{
		EnableCompression: sc.deflate,
		NetDialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			raw, err := net.Dial(network, addr)
			if err != nil {
				return nil, err
			}
			c := tls.Client(tap{raw, &cmu, &chunks}, ccfg)
			return c, c.HandshakeContext(ctx)
		},
	}
	c, _, err := d.Dial("wss://"+ln.Addr().String()+"/chat", nil)
	must(err)
	texts := []string{"hello over TLS", strings.Repeat("a longer message that spans records ", 600), "bye"}
	for _, t := range texts {
		logMsg("client", websocket.TextMessage, []byte(t))
		must(c.WriteMessage(websocket.TextMessage, []byte(t)))
		_, _, err := c.ReadMessage()
		must(err)
	}
	bin := []byte{0, 1, 2, 3, 0xff, 0xfe}
	logMsg("client", websocket.BinaryMessage, bin)
	must(c.WriteMessage(websocket.BinaryMessage, bin))
	_, _, err = c.ReadMessage()
	must(err)
	c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "done"))
	c.ReadMessage() // the server's close
	c.Close()
	<-done
	cmu.Lock()
	defer cmu.Unlock()
	return chunks, klog.b.Bytes(), msgs
}

// ticketKey encrypts the servers' session tickets.
var ticketKey = func() (k [32]byte) {
	rand.Read(k[:])
	return k
}()

func selfSigned() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wsviz.test"},
		DNSNames: []string{"wsviz.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
