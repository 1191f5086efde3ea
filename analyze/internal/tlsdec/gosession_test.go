//go:debug tlsrsakex=1
//go:debug tls3des=1

package tlsdec

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Real sessions: Go's crypto/tls client and server talk over a
// loopback TCP connection with a KeyLogWriter, a tap records the bytes each side sent
// in the order the client saw them, and a Conn decodes the tap with the
// key log: every byte the applications wrote must come out, in order.

// tap records the bytes crossing the client's side of a connection.
type tap struct {
	net.Conn
	mu     sync.Mutex
	chunks []chunk
}

type chunk struct {
	dir int
	b   []byte
}

func (t *tap) Write(b []byte) (int, error) {
	t.mu.Lock()
	t.chunks = append(t.chunks, chunk{Client, append([]byte(nil), b...)})
	t.mu.Unlock()
	return t.Conn.Write(b)
}

func (t *tap) Read(b []byte) (int, error) {
	n, err := t.Conn.Read(b)
	if n > 0 {
		t.mu.Lock()
		t.chunks = append(t.chunks, chunk{Server, append([]byte(nil), b[:n]...)})
		t.mu.Unlock()
	}
	return n, err
}

// lockedBuffer is a KeyLogWriter both sides share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

var (
	certOnce        sync.Once
	rsaCert, ecCert tls.Certificate
)

func testCerts(t testing.TB) (rsaC, ecC tls.Certificate) {
	certOnce.Do(func() {
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		rsaCert, ecCert = selfSigned(rk, &rk.PublicKey), selfSigned(ek, &ek.PublicKey)
	})
	return rsaCert, ecCert
}

func selfSigned(key any, pub any) tls.Certificate {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wsviz.test"},
		DNSNames: []string{"wsviz.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		panic(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// session is one client-server exchange and what it carried.
type session struct {
	chunks []chunk
	sent   [2][]byte // application bytes each side wrote
	keys   *lockedBuffer
	state  tls.ConnectionState
}

// runSession runs one connection: the client writes messages of the given
// sizes, the server echoes each one back upper-cased... as sent.
func runSession(t *testing.T, ccfg, scfg *tls.Config, sizes []int) *session {
	t.Helper()
	// Loopback TCP: its buffers let both sides write at once (a
	// HelloRetryRequest has both send a change_cipher_spec).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	tp := &tap{Conn: cn}
	client := tls.Client(tp, ccfg)
	server := tls.Server(sn, scfg)
	s := &session{}
	var wg sync.WaitGroup
	var serr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer server.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 {
				reply := bytes.ToUpper(buf[:n])
				s.sent[Server] = append(s.sent[Server], reply...)
				if _, err := server.Write(reply); err != nil {
					serr = err
					return
				}
			}
			if err != nil {
				if err != io.EOF {
					serr = err
				}
				return
			}
		}
	}()
	if err := client.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	// The client writes from its own goroutine while this one reads the
	// echoes, so that neither side's buffer fills.
	total := 0
	for i, n := range sizes {
		s.sent[Client] = append(s.sent[Client], bytes.Repeat([]byte{'a' + byte(i%26)}, n)...)
		total += n
	}
	werr := make(chan error, 1)
	go func() {
		off := 0
		for _, n := range sizes {
			if _, err := client.Write(s.sent[Client][off : off+n]); err != nil {
				werr <- err
				return
			}
			off += n
		}
		werr <- nil
	}()
	if _, err := io.ReadFull(client, make([]byte, total)); err != nil {
		t.Fatalf("client read: %v", err)
	}
	if err := <-werr; err != nil {
		t.Fatalf("client write: %v", err)
	}
	s.state = client.ConnectionState()
	client.Close()
	wg.Wait()
	if serr != nil && !strings.Contains(serr.Error(), "closed") {
		t.Fatalf("server: %v", serr)
	}
	tp.mu.Lock()
	s.chunks = tp.chunks
	tp.mu.Unlock()
	return s
}

// decode runs the session's bytes through a Conn with the key log, as
// packets numbered after those of the sessions decoded before.
func (s *session) decode(t *testing.T, keys *KeyLog) *recorder {
	t.Helper()
	r := &recorder{}
	c := NewConn(Config{Keys: keys}, r)
	for _, ch := range s.chunks {
		packets++
		c.Write(ch.dir, ch.b, packets)
	}
	c.End()
	checkAccounted(t, r, c)
	// The steady path (openSteady) reports what the general one does.
	segs := make([]segment, len(s.chunks))
	for i, ch := range s.chunks {
		segs[i] = segment{ch.dir, ch.b}
	}
	decodeBoth(t, segs, func() *KeyLog { return keys }, nil)
	return r
}

// checkAccounted checks that every record of the connection was reported
// once, by Carried or by Record: what the network saw, byte for byte.
func checkAccounted(t *testing.T, r *recorder, c *Conn) {
	t.Helper()
	for d := range 2 {
		if _, b := c.Records(d); int64(r.carried[d]+r.opaque[d]) != b {
			t.Errorf("%s: records carried %d + opaque %d bytes, want %d (all the records)", dirName[d], r.carried[d], r.opaque[d], b)
		}
	}
}

func parseKeys(t *testing.T, b []byte) *KeyLog {
	t.Helper()
	k := NewKeyLog()
	if err := k.Parse(bytes.NewReader(b), "go", 0); err != nil {
		t.Fatal(err)
	}
	return k
}

func checkData(t *testing.T, r *recorder, s *session) {
	t.Helper()
	for d := range 2 {
		if !bytes.Equal(r.data[d], s.sent[d]) {
			t.Errorf("%s data: got %d bytes, want %d (the application's)\n%s", dirName[d], len(r.data[d]), len(s.sent[d]), strings.Join(r.lines, "\n"))
		}
	}
	for _, l := range r.lines {
		if strings.Contains(l, "tls.") && !strings.Contains(l, "problems=[]") {
			t.Errorf("unexpected problem: %s", l)
		}
	}
}

var sizes = []int{1, 100, 16384, 16385, 70000, 5}

// packets numbers the chunks decoded, across sessions.
var packets int64

// TestGoTLS13 decodes Go client-server sessions over TLS 1.3, with SNI
// and ALPN, after a HelloRetryRequest, and resumed with a PSK.
func TestGoTLS13(t *testing.T) {
	rc, _ := testCerts(t)
	keys := &lockedBuffer{}
	scfg := &tls.Config{Certificates: []tls.Certificate{rc}, KeyLogWriter: keys, NextProtos: []string{"http/1.1"}}
	cache := tls.NewLRUClientSessionCache(4)
	ccfg := &tls.Config{InsecureSkipVerify: true, ServerName: "wsviz.test", NextProtos: []string{"h2", "http/1.1"}, ClientSessionCache: cache}

	first := runSession(t, ccfg, scfg, sizes)
	second := runSession(t, ccfg, scfg, sizes) // resumes with the ticket of the first
	hrrCfg := scfg.Clone()
	hrrCfg.CurvePreferences = []tls.CurveID{tls.CurveP384} // not among the client's key shares
	third := runSession(t, ccfg.Clone(), hrrCfg, sizes)
	k := parseKeys(t, keys.b.Bytes())
	for _, tc := range []struct {
		name string
		s    *session
		want string
	}{
		{"full", first, `handshake TLS 1.3 TLS_AES_128_GCM_SHA256 sni="wsviz.test" alpn="http/1.1" offered=[h2 http/1.1] resumed=false/ hrr=false`},
		{"resumed", second, `handshake TLS 1.3 TLS_AES_128_GCM_SHA256 sni="wsviz.test" alpn="http/1.1" offered=[h2 http/1.1] resumed=true/psk hrr=false`},
		{"hello retry", third, `resumed=true/psk hrr=true`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.s.decode(t, k)
			checkData(t, r, tc.s)
			if all := strings.Join(r.lines, "\n"); !strings.Contains(all, tc.want) {
				t.Errorf("got\n%s\nwant a line with %s", all, tc.want)
			}
			if tc.name == "resumed" && !tc.s.state.DidResume {
				t.Errorf("the client did not resume: the test proves nothing")
			}
		})
	}
}

// TestGoTLS12 decodes a Go session with every TLS 1.2 suite Go offers that
// wsviz knows, with and without extended master secret, and resumed with
// a ticket (Go logs no secret for a resumed session: the master secret of
// the first one is found by its ticket).
func TestGoTLS12(t *testing.T) {
	rc, ec := testCerts(t)
	var ids []*tls.CipherSuite
	ids = append(ids, tls.CipherSuites()...)
	ids = append(ids, tls.InsecureCipherSuites()...)
	tested := 0
	for _, cs := range ids {
		if suites[cs.ID] == nil || suites[cs.ID].tls13 {
			continue
		}
		cert := rc
		if strings.Contains(cs.Name, "ECDSA") {
			cert = ec
		}
		tested++
		t.Run(cs.Name, func(t *testing.T) {
			keys := &lockedBuffer{}
			scfg := &tls.Config{Certificates: []tls.Certificate{cert}, KeyLogWriter: keys, MaxVersion: tls.VersionTLS12,
				CipherSuites: []uint16{cs.ID}, NextProtos: []string{"http/1.1"}}
			cache := tls.NewLRUClientSessionCache(4)
			ccfg := &tls.Config{InsecureSkipVerify: true, ServerName: "wsviz.test", MaxVersion: tls.VersionTLS12,
				CipherSuites: []uint16{cs.ID}, NextProtos: []string{"http/1.1"}, ClientSessionCache: cache}
			first := runSession(t, ccfg, scfg, sizes)
			second := runSession(t, ccfg, scfg, sizes)
			if !second.state.DidResume {
				t.Fatalf("the second session did not resume")
			}
			k := parseKeys(t, keys.b.Bytes())
			for i, s := range []*session{first, second} {
				r := s.decode(t, k)
				checkData(t, r, s)
				want := fmt.Sprintf(`handshake TLS 1.2 %s sni="wsviz.test" alpn="http/1.1" offered=[http/1.1] resumed=%v`, cs.Name, i == 1)
				if all := strings.Join(r.lines, "\n"); !strings.Contains(all, want) {
					t.Errorf("session %d: got\n%s\nwant a line with %s", i+1, all, want)
				}
			}
		})
	}
	if tested < 10 {
		t.Errorf("only %d suites tested", tested)
	}
}
