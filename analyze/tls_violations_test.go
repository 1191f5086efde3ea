package analyze

import (
	"encoding/hex"
	"strings"

	"golang.org/x/crypto/cryptobyte"

	"github.com/wsviz/wsviz/capture/capturetest"
	"github.com/wsviz/wsviz/internal/rfc8448"
)

// The TLS layer's warning codes, each shown by a capture in
// testdata/violations (TestViolations). The records are RFC 8448 §3's
// simple 1-RTT handshake, and hellos made here.

func init() {
	violations = append(violations, tlsViolations...)
}

var (
	rfc8448CH = rfc8448.Bytes(rfc8448.ClientHello)
	rfc8448SH = rfc8448.Bytes(rfc8448.ServerHello)
	// The client's application data record (72 bytes), sealed with
	// client_application_traffic_secret_0.
	rfc8448ClientData = tlsHex(`17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea
		42 f9 14 aa 66 bc ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b
		62 97 4e 1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4`)
)

func tlsHex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// tlsHello makes a plaintext hello record: a TLS 1.2 ServerHello with the
// given version, suite and ALPN, or a ClientHello offering early data.
func tlsHello(server bool, version, suite uint16, alpn string, earlyData bool) []byte {
	var b cryptobyte.Builder
	b.AddUint16(version)
	b.AddBytes(make([]byte, 32))
	b.AddUint8LengthPrefixed(func(*cryptobyte.Builder) {})
	if server {
		b.AddUint16(suite)
		b.AddUint8(0)
	} else {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(suite) })
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
	}
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		if alpn != "" {
			b.AddUint16(16)
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
					b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(alpn)) })
				})
			})
		}
		if earlyData {
			b.AddUint16(43) // supported_versions: TLS 1.3
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(0x0304) })
			})
			b.AddUint16(42) // early_data
			b.AddUint16(0)
		}
	})
	body := b.BytesOrPanic()
	typ := byte(1)
	if server {
		typ = 2
	}
	msg := append([]byte{typ, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{22, 3, 3, byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

var tlsCCS = []byte{20, 3, 3, 0, 1, 1}

// wrongKeys is a key log whose secrets for RFC 8448's session are wrong.
func wrongKeys() *KeyLog {
	k := NewKeyLog()
	random := "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7"
	log := "CLIENT_HANDSHAKE_TRAFFIC_SECRET " + random + " " + strings.Repeat("5a", 32) + "\n"
	if err := k.Parse(strings.NewReader(log), "wrong", 0); err != nil {
		panic(err)
	}
	return k
}

// tlsConn opens a connection to port 443.
func tlsConn(c *capturetest.Capture) *capturetest.Conn {
	k := c.Conn("10.0.0.1:50443", "10.0.0.2:443")
	k.Handshake()
	return k
}

var tlsViolations = []struct {
	code   string
	on     string
	opts   Options
	script func(c *capturetest.Capture)
}{
	{"tls.no_keys", TypeTLSHandshake, Options{}, func(c *capturetest.Capture) {
		k := tlsConn(c)
		k.Client(rfc8448CH)
		k.Server(rfc8448SH)
		k.Client(rfc8448ClientData)
		k.CloseFIN(true)
		k.CloseFIN(false)
	}},
	{"tls.handshake_missing", TypeTLSHandshake, Options{}, func(c *capturetest.Capture) {
		k := tlsConn(c)
		k.Client(rfc8448ClientData)
		k.CloseFIN(true)
		k.CloseFIN(false)
	}},
	{"tls.bad_record_mac", TypeTLSRecord, Options{Keys: wrongKeys()}, func(c *capturetest.Capture) {
		k := tlsConn(c)
		k.Client(rfc8448CH)
		k.Server(rfc8448SH)
		// The server's encrypted flight is left out: the client's
		// record is tried with the (wrong) application key.
		k.Client(tlsHex("17 03 03 00 35") /* a finished-sized record */)
		k.Client(make([]byte, 0x35))
		k.CloseFIN(true)
		k.CloseFIN(false)
	}},
	{"tls.gap_undecryptable", TypeTLSRecord, Options{}, func(c *capturetest.Capture) {
		k := tlsConn(c)
		k.Client(rfc8448CH)
		k.Server(rfc8448SH)
		k.Client(rfc8448ClientData[:24])
		k.Drop(1) // the middle of the client's record
		k.Client(rfc8448ClientData[24:48])
		k.Client(rfc8448ClientData[48:])
		k.CloseFIN(true)
		k.CloseFIN(false)
	}},
	{"tls.unsupported", TypeTLSHandshake, Options{}, func(c *capturetest.Capture) {
		k := tlsConn(c)
		k.Client(tlsHello(false, 0x0302, 0x002F, "", false))
		k.Server(append(tlsHello(true, 0x0302, 0x002F, "", false), tlsCCS...))
		k.CloseFIN(true)
		k.CloseFIN(false)
	}},
	{"tls.malformed", TypeTLSRecord, Options{}, func(c *capturetest.Capture) {
		k := tlsConn(c)
		k.Client(rfc8448CH)
		k.Client([]byte("\x17\x09\x09\x00\x04abcd")) // not a TLS version
		k.CloseFIN(true)
		k.CloseFIN(false)
	}},
	{"tls.early_data_skipped", TypeTLSRecord, Options{}, func(c *capturetest.Capture) {
		k := tlsConn(c)
		k.Client(tlsHello(false, 0x0303, 0x1301, "", true))
		k.Client(rfc8448ClientData) // 0-RTT data without its key
		k.CloseFIN(true)
		k.CloseFIN(false)
	}},
}
