package tlsdec

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// Crafted TLS 1.3 sessions for what Go's crypto/tls never sends: KeyUpdate
// and 0-RTT data. Records are sealed here by RFC 8446 §5.2-5.3 (the open
// side is checked against RFC 8448 in rfc8448_test.go).

// seal13 protects one TLS 1.3 record under a traffic secret.
func seal13(s *suite, secret []byte, seq uint64, inner uint8, plain []byte) []byte {
	key, iv := trafficKeys(s, secret)
	aead := newAEAD(s, key)
	nonce := append([]byte(nil), iv...)
	var sq [8]byte
	binary.BigEndian.PutUint64(sq[:], seq)
	for i := range sq {
		nonce[4+i] ^= sq[i]
	}
	in := append(append([]byte(nil), plain...), inner)
	hdr := []byte{typeApplicationData, 3, 3, 0, 0}
	binary.BigEndian.PutUint16(hdr[3:], uint16(len(in)+aead.Overhead()))
	return append(hdr, aead.Seal(nil, nonce, in, hdr)...)
}

// hsMsg frames a handshake message.
func hsMsg(typ uint8, body []byte) []byte {
	return append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

// plainRecord frames a plaintext record.
func plainRecord(typ uint8, b []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(b) >> 8), byte(len(b))}, b...)
}

// hello builds a ClientHello (client) or ServerHello (server) for TLS 1.3
// with suite 0x1301, PSK and, for the client, early_data.
func hello(t *testing.T, client bool, random []byte, earlyData bool) []byte {
	var b cryptobyte.Builder
	b.AddUint16(VersionTLS12)
	b.AddBytes(random)
	b.AddUint8LengthPrefixed(func(*cryptobyte.Builder) {})
	if client {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(0x1301) })
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
	} else {
		b.AddUint16(0x1301)
		b.AddUint8(0)
	}
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(extSupportedVersions)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			if client {
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(VersionTLS13) })
			} else {
				b.AddUint16(VersionTLS13)
			}
		})
		if client && earlyData {
			b.AddUint16(extEarlyData)
			b.AddUint16(0)
		}
		b.AddUint16(extPreSharedKey)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			if client {
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("ticket")) })
					b.AddUint32(0)
				})
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
					b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 32)) })
				})
			} else {
				b.AddUint16(0)
			}
		})
	})
	typ := uint8(hsServerHello)
	if client {
		typ = hsClientHello
	}
	return plainRecord(typeHandshake, hsMsg(typ, b.BytesOrPanic()))
}

func secretsOf(label string) []byte {
	b := make([]byte, 32)
	copy(b, label)
	return b
}

// crafted is a TLS 1.3 session under made-up secrets.
type crafted struct {
	t                         *testing.T
	s                         *suite
	random                    []byte
	early, chs, shs, cap, sap []byte
	steps                     []step
}

type step struct {
	dir int
	b   []byte
}

func newCrafted(t *testing.T) *crafted {
	return &crafted{t: t, s: suites[0x1301], random: bytes.Repeat([]byte{7}, 32),
		early: secretsOf("early"), chs: secretsOf("chs"), shs: secretsOf("shs"), cap: secretsOf("cap"), sap: secretsOf("sap")}
}

func (c *crafted) add(dir int, b []byte) { c.steps = append(c.steps, step{dir, b}) }

// handshake adds a full TLS 1.3 handshake without early data: the hellos,
// the server's EncryptedExtensions and Finished, the client's Finished.
func (c *crafted) handshake() {
	finished := hsMsg(hsFinished, make([]byte, 32))
	c.add(Client, hello(c.t, true, c.random, false))
	c.add(Server, hello(c.t, false, bytes.Repeat([]byte{9}, 32), false))
	c.add(Server, seal13(c.s, c.shs, 0, typeHandshake, append(hsMsg(hsEncryptedExtensions, []byte{0, 0}), finished...)))
	c.add(Client, seal13(c.s, c.chs, 0, typeHandshake, finished))
}

func (c *crafted) keys(withEarly bool) *KeyLog {
	k := NewKeyLog()
	r := hexOf(c.random)
	log := "CLIENT_HANDSHAKE_TRAFFIC_SECRET " + r + " " + hexOf(c.chs) + "\nSERVER_HANDSHAKE_TRAFFIC_SECRET " + r + " " + hexOf(c.shs) +
		"\nCLIENT_TRAFFIC_SECRET_0 " + r + " " + hexOf(c.cap) + "\nSERVER_TRAFFIC_SECRET_0 " + r + " " + hexOf(c.sap) + "\n"
	if withEarly {
		log += "CLIENT_EARLY_TRAFFIC_SECRET " + r + " " + hexOf(c.early) + "\n"
	}
	if err := k.Parse(strings.NewReader(log), "crafted", 0); err != nil {
		c.t.Fatal(err)
	}
	return k
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func (c *crafted) run(keys *KeyLog) *recorder {
	r := &recorder{}
	conn := NewConn(Config{Keys: keys}, r)
	for i, s := range c.steps {
		conn.Write(s.dir, s.b, int64(i+1))
	}
	conn.End()
	return r
}

// TestKeyUpdate: after a KeyUpdate (RFC 8446 §4.6.3) each side's records
// use the next traffic secret, from sequence number 0.
func TestKeyUpdate(t *testing.T) {
	c := newCrafted(t)
	c.handshake()
	c.add(Client, seal13(c.s, c.cap, 0, typeApplicationData, []byte("before ")))
	c.add(Client, seal13(c.s, c.cap, 1, typeHandshake, hsMsg(hsKeyUpdate, []byte{1}))) // update_requested
	cap1 := nextTrafficSecret(c.s, c.cap)
	c.add(Client, seal13(c.s, cap1, 0, typeApplicationData, []byte("after")))
	c.add(Server, seal13(c.s, c.sap, 0, typeHandshake, hsMsg(hsKeyUpdate, []byte{0})))
	sap1 := nextTrafficSecret(c.s, c.sap)
	c.add(Server, seal13(c.s, sap1, 0, typeApplicationData, []byte("server after")))
	cap2 := nextTrafficSecret(c.s, cap1)
	c.add(Client, seal13(c.s, cap1, 1, typeHandshake, hsMsg(hsKeyUpdate, []byte{0})))
	c.add(Client, seal13(c.s, cap2, 0, typeApplicationData, []byte(" twice")))
	r := c.run(c.keys(false))
	if string(r.data[Client]) != "before after twice" || string(r.data[Server]) != "server after" {
		t.Errorf("data %q / %q\n%s", r.data[Client], r.data[Server], strings.Join(r.lines, "\n"))
	}
	if n := strings.Count(strings.Join(r.lines, "\n"), "key_update len=1 encrypted"); n != 3 {
		t.Errorf("%d key_update messages, want 3:\n%s", n, strings.Join(r.lines, "\n"))
	}
}

// TestEarlyData: 0-RTT data (RFC 8446 §4.2.10) decrypted with
// CLIENT_EARLY_TRAFFIC_SECRET goes up when the server accepts it (its
// encrypted extensions say so, the client ends it with EndOfEarlyData),
// and is dropped when the server rejects it: the client sends it again.
func TestEarlyData(t *testing.T) {
	for _, tc := range []struct {
		name       string
		accept     bool
		earlyKey   bool
		wantClient string
		wantInfo   string
		wantLine   string
	}{
		{"accepted", true, true, "early GET|after", `early="accepted"`, "client end_of_early_data len=0 encrypted"},
		{"rejected", false, true, "after", `early="rejected"`, "client finished len=32 encrypted"},
		{"rejected without the early key", false, false, "after", `early="rejected"`, "tls.early_data_skipped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCrafted(t)
			finished := hsMsg(hsFinished, make([]byte, 32))
			c.add(Client, hello(t, true, c.random, true))
			c.add(Client, plainRecord(typeChangeCipherSpec, []byte{1}))
			c.add(Client, seal13(c.s, c.early, 0, typeApplicationData, []byte("early GET|")))
			c.add(Server, hello(t, false, bytes.Repeat([]byte{9}, 32), false))
			ee := []byte{0, 0}
			if tc.accept {
				ee = []byte{0, 4, 0, extEarlyData, 0, 0}
			}
			c.add(Server, seal13(c.s, c.shs, 0, typeHandshake, append(hsMsg(hsEncryptedExtensions, ee), finished...)))
			c.add(Server, seal13(c.s, c.sap, 0, typeApplicationData, []byte("0.5-RTT")))
			if tc.accept {
				c.add(Client, seal13(c.s, c.early, 1, typeHandshake, hsMsg(hsEndOfEarlyData, nil)))
			}
			c.add(Client, seal13(c.s, c.chs, 0, typeHandshake, finished))
			c.add(Client, seal13(c.s, c.cap, 0, typeApplicationData, []byte("after")))
			r := c.run(c.keys(tc.earlyKey))
			all := strings.Join(r.lines, "\n")
			if string(r.data[Client]) != tc.wantClient || string(r.data[Server]) != "0.5-RTT" {
				t.Errorf("data %q / %q, want %q / %q\n%s", r.data[Client], r.data[Server], tc.wantClient, "0.5-RTT", all)
			}
			if !strings.Contains(all, tc.wantInfo) || !strings.Contains(all, tc.wantLine) {
				t.Errorf("want %s and %s in\n%s", tc.wantInfo, tc.wantLine, all)
			}
		})
	}
}
