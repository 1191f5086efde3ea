package tlsdec

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzKeyLog parses arbitrary key logs: errors, never panics, bounded.
func FuzzKeyLog(f *testing.F) {
	r := strings.Repeat("ab", 32)
	f.Add([]byte("CLIENT_RANDOM " + r + " " + strings.Repeat("01", 48) + "\n"))
	f.Add([]byte("# comment\n\nSERVER_TRAFFIC_SECRET_0 " + r + " " + strings.Repeat("01", 32) + "\r\n"))
	f.Add([]byte("CLIENT_RANDOM x y z\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k := NewKeyLog()
		err := k.Parse(bytes.NewReader(b), "fuzz", 0)
		if err == nil && k.Len() > strings.Count(string(b), "\n")+1 {
			t.Fatalf("%d secrets from %d lines", k.Len(), strings.Count(string(b), "\n")+1)
		}
	})
}

// FuzzHandshake parses arbitrary handshake message bodies of every type.
func FuzzHandshake(f *testing.F) {
	ch := unhex(f, rfc8448ClientHello)[9:]
	sh := unhex(f, rfc8448ServerHello)[9:]
	f.Add(uint8(hsClientHello), ch)
	f.Add(uint8(hsServerHello), sh)
	f.Add(uint8(hsEncryptedExtensions), unhex(f, "000a00100005000302683200"))
	f.Add(uint8(hsNewSessionTicket), unhex(f, "0000012c0004aabbccdd"))
	f.Fuzz(func(t *testing.T, typ uint8, body []byte) {
		switch typ % 4 {
		case 0:
			parseClientHello(body)
		case 1:
			parseServerHello(body)
		case 2:
			parseEncryptedExtensions(body)
		case 3:
			parseTicket12(body)
		}
	})
}

// FuzzConn runs arbitrary bytes through a Conn as the two directions of a
// connection, split at arbitrary points, with the RFC 8448 key log: it
// must not panic, deliver data only from records that authenticated, and
// hold nothing beyond its bounds.
func FuzzConn(f *testing.F) {
	var session []byte
	for _, s := range []string{rfc8448ClientHello, rfc8448ServerHello, rfc8448ServerFlight, rfc8448ClientFinished, rfc8448ClientData, rfc8448ServerData} {
		session = append(session, unhex(f, s)...)
	}
	f.Add(session, uint16(201), uint16(95), uint8(0))
	f.Add(session, uint16(50), uint16(700), uint8(3))
	f.Add([]byte("\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00garbage"), uint16(3), uint16(0), uint8(1))
	keys := rfc8448Keys(f)
	f.Fuzz(func(t *testing.T, b []byte, cut1, cut2 uint16, gaps uint8) {
		r := &recorder{}
		c := NewConn(Config{Keys: keys, Wait: 4096}, r)
		// The bytes alternate direction at the cuts; gaps drop a byte.
		dir, pkt := Client, int64(1)
		for len(b) > 0 {
			n := int(cut1)%64 + 1
			if dir == Server {
				n = int(cut2)%4096 + 1
			}
			n = min(n, len(b))
			if gaps&1 != 0 && n > 1 {
				c.Write(dir, b[:n/2], pkt)
				c.Gap(dir, 1)
				c.Write(dir, b[n/2+1:n], pkt)
			} else {
				c.Write(dir, b[:n], pkt)
			}
			b = b[n:]
			gaps = gaps>>1 | gaps<<7
			dir = 1 - dir
			pkt++
		}
		c.Retry()
		c.End()
		for d := range 2 {
			if len(c.half[d].rec) > recordHeaderLen+maxCiphertext || len(c.half[d].scan) > maxResync+2*(recordHeaderLen+maxCiphertext) {
				t.Fatalf("buffers past their bounds")
			}
		}
	})
}
