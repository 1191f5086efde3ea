package main

// wsviz demo --tls: the chat over https:// and wss:// with a certificate
// made at start, its secrets written straight into the analyzer's key log,
// so that the timeline shows the TLS layer and what it carried.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"sync"
	"time"

	"github.com/wsviz/wsviz/analyze"
)

// demoTLS returns the chat server's and the bots' TLS configurations and
// the key log both write to. The certificate is self-signed for
// 127.0.0.1, ::1 and localhost, valid for a day: a browser opening the
// chat asks to accept it once.
func demoTLS() (server, bots *tls.Config, keys *analyze.KeyLog, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "wsviz demo"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, err
	}
	keys = analyze.NewKeyLog()
	w := &keylogWriter{p: keys.NewParser("wsviz demo")}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		KeyLogWriter: w,
		NextProtos:   []string{"http/1.1"},
	}
	bots = &tls.Config{RootCAs: pool, KeyLogWriter: w, NextProtos: []string{"http/1.1"}}
	return server, bots, keys, nil
}

// keylogWriter is a tls.Config.KeyLogWriter that parses the lines into a
// KeyLog as they are written.
type keylogWriter struct {
	mu sync.Mutex
	p  interface {
		Write(b []byte, at int64) error
	}
}

func (w *keylogWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.p.Write(b, 0); err != nil {
		return 0, fmt.Errorf("wsviz demo: key log: %w", err)
	}
	return len(b), nil
}
