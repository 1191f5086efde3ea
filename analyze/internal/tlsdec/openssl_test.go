package tlsdec

import (
	"bufio"
	"bytes"

	"crypto/x509"
	"encoding/pem"

	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestOpenSSL decodes sessions between two OpenSSL peers (Python's ssl
// module, testdata/openssl_peer.py) through a recording proxy: what Go's
// crypto/tls never does — encrypt-then-MAC with CBC suites (RFC 7366,
// OpenSSL's default), CBC with HMAC-SHA384, TLS 1.3 with AES-256-GCM-SHA384
// (OpenSSL's first choice) and ChaCha20-Poly1305, TLS 1.2 resumption by
// session ID. Each side wrote its own key log.
func TestOpenSSL(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed (.ci/run installs it)")
	}
	dir := t.TempDir()
	rc, _ := testCerts(t)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rc.Certificate[0]})
	keyDER, err := x509.MarshalPKCS8PrivateKey(rc.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	chacha := filepath.Join(dir, "chacha.cnf")
	os.WriteFile(chacha, []byte("openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n[sys]\nCiphersuites = TLS_CHACHA20_POLY1305_SHA256\n"), 0o600)
	for _, tc := range []struct {
		name    string
		opts    []string
		env     string
		want    string // in the client's report
		handshk string // in the decoded handshake line
	}{
		{"TLS 1.3 AES-256-GCM-SHA384", nil, "", "full TLSv1.3 TLS_AES_256_GCM_SHA384", "TLS 1.3 TLS_AES_256_GCM_SHA384"},
		{"TLS 1.3 ChaCha20-Poly1305", nil, "OPENSSL_CONF=" + chacha, "full TLSv1.3 TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256"},
		{"TLS 1.2 CBC-SHA256 encrypt-then-MAC", []string{"max12", "cipher=ECDHE-RSA-AES128-SHA256"}, "", "full TLSv1.2 ECDHE-RSA-AES128-SHA256", "etm=true"},
		{"TLS 1.2 CBC-SHA384 encrypt-then-MAC", []string{"max12", "cipher=ECDHE-RSA-AES256-SHA384"}, "", "full TLSv1.2 ECDHE-RSA-AES256-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
		{"TLS 1.2 GCM resumed by session ID", []string{"max12", "cipher=ECDHE-RSA-AES256-GCM-SHA384", "noticket", "resume"}, "", "resumed TLSv1.2", "resumed=true/session_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			skeys, ckeys := filepath.Join(dir, tc.name+".server"), filepath.Join(dir, tc.name+".client")
			srv := exec.Command(python, append([]string{"testdata/openssl_peer.py", "server", filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), skeys}, tc.opts...)...)
			if tc.env != "" {
				srv.Env = append(os.Environ(), tc.env)
			}
			out, err := srv.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			srv.Stderr = os.Stderr
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			defer srv.Process.Kill()
			port, err := bufio.NewReader(out).ReadString('\n')
			if err != nil {
				t.Fatalf("server: %v", err)
			}
			// The recording proxy.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			var mu sync.Mutex
			var sessions [][]chunk
			var wg sync.WaitGroup
			go func() {
				for {
					cn, err := ln.Accept()
					if err != nil {
						return
					}
					sn, err := net.Dial("tcp", "127.0.0.1:"+strings.TrimSpace(port))
					if err != nil {
						cn.Close()
						return
					}
					mu.Lock()
					sessions = append(sessions, nil)
					i := len(sessions) - 1
					mu.Unlock()
					record := func(dir int, dst, src net.Conn) {
						defer wg.Done()
						buf := make([]byte, 32<<10)
						for {
							n, err := src.Read(buf)
							if n > 0 {
								mu.Lock()
								sessions[i] = append(sessions[i], chunk{dir, append([]byte(nil), buf[:n]...)})
								mu.Unlock()
								dst.Write(buf[:n])
							}
							if err != nil {
								dst.(*net.TCPConn).CloseWrite()
								return
							}
						}
					}
					wg.Add(2)
					go record(Client, sn, cn)
					go record(Server, cn, sn)
				}
			}()
			sizes := []string{"1", "100", "20000", "5"}
			cl := exec.Command(python, append(append([]string{"testdata/openssl_peer.py", "client", strings.Split(ln.Addr().String(), ":")[1], ckeys}, sizes...), tc.opts...)...)
			report, err := cl.CombinedOutput()
			if err != nil {
				t.Fatalf("client: %v: %s", err, report)
			}
			if !strings.Contains(string(report), tc.want) {
				t.Fatalf("client says %q, want %q: the peers did not make the session this case is for", report, tc.want)
			}
			srv.Wait()
			wg.Wait()
			k := NewKeyLog()
			for _, f := range []string{ckeys, skeys} {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if err := k.Parse(bytes.NewReader(b), f, 0); err != nil {
					t.Fatal(err)
				}
			}
			var want [2][]byte
			for i, n := range []int{1, 100, 20000, 5} {
				want[Client] = append(want[Client], bytes.Repeat([]byte{byte('a' + i)}, n)...)
			}
			want[Server] = bytes.ToUpper(want[Client])
			mu.Lock()
			defer mu.Unlock()
			for i, s := range sessions {
				r := (&session{chunks: s}).decode(t, k)
				all := strings.Join(r.lines, "\n")
				for d := range 2 {
					if !bytes.Equal(r.data[d], want[d]) {
						t.Errorf("session %d: %s data %d bytes, want %d\n%s", i+1, dirName[d], len(r.data[d]), len(want[d]), all)
					}
				}
				if i == len(sessions)-1 && !strings.Contains(all, tc.handshk) {
					t.Errorf("session %d: want %q in\n%s", i+1, tc.handshk, all)
				}
			}
		})
	}
}
