package tlsdec

import (
	"bytes"
	"slices"
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
// must not panic, deliver data only from records that authenticated, hold
// nothing beyond its bounds, and report the same with and without the
// steady path (openSteady).
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
		var logs [2]*callLog
		for run, general := range []bool{false, true} {
			l := &callLog{}
			c := NewConn(Config{Keys: keys, Wait: 4096}, l)
			c.general = general
			// The bytes alternate direction at the cuts; gaps drop a byte.
			dir, pkt, rest, g := Client, int64(1), b, gaps
			for len(rest) > 0 {
				n := int(cut1)%64 + 1
				if dir == Server {
					n = int(cut2)%4096 + 1
				}
				n = min(n, len(rest))
				if g&1 != 0 && n > 1 {
					c.Write(dir, rest[:n/2], pkt)
					c.Gap(dir, 1)
					c.Write(dir, rest[n/2+1:n], pkt)
				} else {
					c.Write(dir, rest[:n], pkt)
				}
				rest = rest[n:]
				g = g>>1 | g<<7
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
			logs[run] = l
		}
		// The steady path reports what the general one does.
		if !slices.Equal(logs[0].calls, logs[1].calls) {
			t.Fatalf("steady and general decodes differ:\n%s\n---\n%s", strings.Join(logs[0].calls, "\n"), strings.Join(logs[1].calls, "\n"))
		}
	})
}
