package tlsdec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/internal/rfc8448"
)

// The simple 1-RTT handshake of RFC 8448 §3 (TLS_AES_128_GCM_SHA256):
// its traffic secrets, the keys and IVs derived from them, and the records
// both sides sent, as the RFC prints them.
var (
	rfc8448ClientRandom = rfc8448.ClientRandom
	rfc8448CHS          = "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21"
	rfc8448SHS          = "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38"
	rfc8448CAP          = rfc8448.ClientApplicationSecret
	rfc8448SAP          = "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643"

	rfc8448ClientHello  = rfc8448.ClientHello
	rfc8448ServerHello  = rfc8448.ServerHello
	rfc8448ServerFlight = `17 03 03 02 a2 d1 ff 33 4a 56 f5 bf f6 59 4a 07 cc 87 b5 80 23 3f 50 0f
		45 e4 89 e7 f3 3a f3 5e df 78 69 fc f4 0a a4 0a a2 b8 ea 73 f8 48 a7 ca
		07 61 2e f9 f9 45 cb 96 0b 40 68 90 51 23 ea 78 b1 11 b4 29 ba 91 91 cd
		05 d2 a3 89 28 0f 52 61 34 aa dc 7f c7 8c 4b 72 9d f8 28 b5 ec f7 b1 3b
		d9 ae fb 0e 57 f2 71 58 5b 8e a9 bb 35 5c 7c 79 02 07 16 cf b9 b1 18 3e
		f3 ab 20 e3 7d 57 a6 b9 d7 47 76 09 ae e6 e1 22 a4 cf 51 42 73 25 25 0c
		7d 0e 50 92 89 44 4c 9b 3a 64 8f 1d 71 03 5d 2e d6 5b 0e 3c dd 0c ba e8
		bf 2d 0b 22 78 12 cb b3 60 98 72 55 cc 74 41 10 c4 53 ba a4 fc d6 10 92
		8d 80 98 10 e4 b7 ed 1a 8f d9 91 f0 6a a6 24 82 04 79 7e 36 a6 a7 3b 70
		a2 55 9c 09 ea d6 86 94 5b a2 46 ab 66 e5 ed d8 04 4b 4c 6d e3 fc f2 a8
		94 41 ac 66 27 2f d8 fb 33 0e f8 19 05 79 b3 68 45 96 c9 60 bd 59 6e ea
		52 0a 56 a8 d6 50 f5 63 aa d2 74 09 96 0d ca 63 d3 e6 88 61 1e a5 e2 2f
		44 15 cf 95 38 d5 1a 20 0c 27 03 42 72 96 8a 26 4e d6 54 0c 84 83 8d 89
		f7 2c 24 46 1a ad 6d 26 f5 9e ca ba 9a cb bb 31 7b 66 d9 02 f4 f2 92 a3
		6a c1 b6 39 c6 37 ce 34 31 17 b6 59 62 22 45 31 7b 49 ee da 0c 62 58 f1
		00 d7 d9 61 ff b1 38 64 7e 92 ea 33 0f ae ea 6d fa 31 c7 a8 4d c3 bd 7e
		1b 7a 6c 71 78 af 36 87 90 18 e3 f2 52 10 7f 24 3d 24 3d c7 33 9d 56 84
		c8 b0 37 8b f3 02 44 da 8c 87 c8 43 f5 e5 6e b4 c5 e8 28 0a 2b 48 05 2c
		f9 3b 16 49 9a 66 db 7c ca 71 e4 59 94 26 f7 d4 61 e6 6f 99 88 2b d8 9f
		c5 08 00 be cc a6 2d 6c 74 11 6d bd 29 72 fd a1 fa 80 f8 5d f8 81 ed be
		5a 37 66 89 36 b3 35 58 3b 59 91 86 dc 5c 69 18 a3 96 fa 48 a1 81 d6 b6
		fa 4f 9d 62 d5 13 af bb 99 2f 2b 99 2f 67 f8 af e6 7f 76 91 3f a3 88 cb
		56 30 c8 ca 01 e0 c6 5d 11 c6 6a 1e 2a c4 c8 59 77 b7 c7 a6 99 9b bf 10
		dc 35 ae 69 f5 51 56 14 63 6c 0b 9b 68 c1 9e d2 e3 1c 0b 3b 66 76 30 38
		eb ba 42 f3 b3 8e dc 03 99 f3 a9 f2 3f aa 63 97 8c 31 7f c9 fa 66 a7 3f
		60 f0 50 4d e9 3b 5b 84 5e 27 55 92 c1 23 35 ee 34 0b bc 4f dd d5 02 78
		40 16 e4 b3 be 7e f0 4d da 49 f4 b4 40 a3 0c b5 d2 af 93 98 28 fd 4a e3
		79 4e 44 f9 4d f5 a6 31 ed e4 2c 17 19 bf da bf 02 53 fe 51 75 be 89 8e
		75 0e dc 53 37 0d 2b`
	rfc8448ClientFinished = `17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c 56 cc 77 b0
		51 7f e9 b9 3c 7a 4b fc 44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c
		ae ac ab 68 67 d7 26 c4 05 46`
	rfc8448Ticket = `17 03 03 00 de 3a 6b 8f 90 41 4a 97 d6 95 9c 34 87 68 0d e5 13 4a 2b 24
		0e 6c ff ac 11 6e 95 d4 1d 6a f8 f6 b5 80 dc f3 d1 1d 63 c7 58 db 28 9a
		01 59 40 25 2f 55 71 3e 06 1d c1 3e 07 88 91 a3 8e fb cf 57 53 ad 8e f1
		70 ad 3c 73 53 d1 6d 9d a7 73 b9 ca 7f 2b 9f a1 b6 c0 d4 a3 d0 3f 75 e0
		9c 30 ba 1e 62 97 2a c4 6f 75 f7 b9 81 be 63 43 9b 29 99 ce 13 06 46 15
		13 98 91 d5 e4 c5 b4 06 f1 6e 3f c1 81 a7 7c a4 75 84 00 25 db 2f 0a 77
		f8 1b 5a b0 5b 94 c0 13 46 75 5f 69 23 2c 86 51 9d 86 cb ee ac 87 aa c3
		47 d1 43 f9 60 5d 64 f6 50 db 4d 02 3e 70 e9 52 ca 49 fe 51 37 12 1c 74
		bc 26 97 68 7e 24 87 46 d6 df 35 30 05 f3 bc e1 86 96 12 9c 81 53 55 6b
		3b 6c 67 79 b3 7b f1 59 85 68 4f`
	rfc8448ClientData = rfc8448.ClientData
	rfc8448ServerData = `17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4 a4 69 32 fc
		32 25 d0 5f 82 aa 1b 36 e3 0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8
		fc c4 9c 4b f2 e5 f0 a2 1c 00 47 c2 ab f3 32 54 0d d0 32 e1 67 c2 95 5d`
	rfc8448ClientAlert = rfc8448.ClientAlert
	rfc8448ServerAlert = "17 03 03 00 13 b5 8f d6 71 66 eb f5 99 d2 47 20 cf be 7e fa 7a 88 64 a9"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

// TestTrafficKeysRFC8448 checks HKDF-Expand-Label key and IV derivation
// against the keys and IVs RFC 8448 §3 prints for each traffic secret.
func TestTrafficKeysRFC8448(t *testing.T) {
	s := suites[0x1301]
	for _, tc := range []struct {
		name, secret, key, iv string
	}{
		{"server handshake", rfc8448SHS, "3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30"},
		{"client handshake", rfc8448CHS, "dbfaa693d1762c5b666af5d950258d01", "5bd3c71b836e0b76bb73265f"},
		{"server application", rfc8448SAP, "9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984"},
		{"client application", rfc8448CAP, "17422dda596ed5d9acd890e3c63f5051", "5b78923dee08579033e523d9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, iv := trafficKeys(s, unhex(t, tc.secret))
			if got := hex.EncodeToString(key); got != tc.key {
				t.Errorf("key = %s, want %s", got, tc.key)
			}
			if got := hex.EncodeToString(iv); got != tc.iv {
				t.Errorf("iv = %s, want %s", got, tc.iv)
			}
		})
	}
}

// TestRecordsRFC8448 decrypts RFC 8448 §3's records one by one with the
// keys of its secrets: the sequence numbers, nonces, inner content types
// and plaintexts.
func TestRecordsRFC8448(t *testing.T) {
	s := suites[0x1301]
	for _, tc := range []struct {
		name, secret, record string
		seq                  uint64
		typ                  uint8
		plain                string // hex prefix of the plaintext, or its length as "len=N"
	}{
		{"server flight", rfc8448SHS, rfc8448ServerFlight, 0, typeHandshake, "080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000"},
		{"client finished", rfc8448CHS, rfc8448ClientFinished, 0, typeHandshake, "14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61"},
		{"new session ticket", rfc8448SAP, rfc8448Ticket, 0, typeHandshake, "040000c90000001e"},
		{"client data", rfc8448CAP, rfc8448ClientData, 0, typeApplicationData, hex.EncodeToString(seq50())},
		{"server data", rfc8448SAP, rfc8448ServerData, 1, typeApplicationData, hex.EncodeToString(seq50())},
		{"client close_notify", rfc8448CAP, rfc8448ClientAlert, 1, typeAlert, "0100"},
		{"server close_notify", rfc8448SAP, rfc8448ServerAlert, 2, typeAlert, "0100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := unhex(t, tc.record)
			p := newProtection13(s, unhex(t, tc.secret))
			plain, typ, err := p.open(nil, rec[:5], rec[5:], tc.seq, false)
			if err != nil {
				t.Fatalf("open(seq %d) = %v", tc.seq, err)
			}
			if typ != tc.typ {
				t.Errorf("inner type = %d, want %d", typ, tc.typ)
			}
			if got := hex.EncodeToString(plain); !strings.HasPrefix(got, tc.plain) {
				t.Errorf("plaintext = %.80s…, want prefix %.80s", got, tc.plain)
			}
			// The wrong sequence number fails authentication.
			if _, _, err := p.open(nil, rec[:5], rec[5:], tc.seq+1, false); err == nil {
				t.Errorf("open(seq %d) succeeded, want bad record MAC", tc.seq+1)
			}
			// Decrypted in place: the same plaintext, in the record's memory.
			own := append([]byte(nil), rec...)
			inPlace, typ2, err := p.open(nil, own[:5], own[5:], tc.seq, true)
			if err != nil || typ2 != typ || !bytes.Equal(inPlace, plain) || len(inPlace) > 0 && &inPlace[0] != &own[5] {
				t.Errorf("open in place = %x, %d, %v; want %x, %d, nil, over the record", inPlace, typ2, err, plain, typ)
			}
		})
	}
}

func seq50() []byte {
	b := make([]byte, 50)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// recorder is a Handler that writes what it is told as lines.
type recorder struct {
	lines   []string
	data    [2][]byte
	carried [2]int // bytes of the records reported by Carried
	opaque  [2]int // bytes of the records reported by Record
}

func (r *recorder) Handshake(i *Info, d int, packet int64) {
	var codes []string
	for _, p := range i.Problems {
		codes = append(codes, p.Code)
	}
	r.lines = append(r.lines, fmt.Sprintf("handshake %s %s sni=%q alpn=%q offered=%v resumed=%v/%s hrr=%v early=%q ems=%v etm=%v keys=%v problems=%v",
		VersionName(i.Version), SuiteName(i.Suite), i.SNI, i.ALPN, i.ALPNOffered, i.Resumed, i.ResumedBy, i.HelloRetry, i.EarlyData, i.EMS, i.ETM, i.Keys, codes))
}

func (r *recorder) Message(m *Message) {
	enc := ""
	if m.Encrypted {
		enc = " encrypted"
	}
	line := fmt.Sprintf("%s %s len=%d%s", dirName[m.Dir], m.Type, m.Len, enc)
	for _, p := range m.Problems {
		line += " !" + p.Code
	}
	r.lines = append(r.lines, line)
}

func (r *recorder) Alert(a *Alert) {
	r.lines = append(r.lines, fmt.Sprintf("%s alert %d/%d encrypted=%v", dirName[a.Dir], a.Level, a.Description, a.Encrypted))
}

func (r *recorder) Record(rec *Record) {
	r.opaque[rec.Dir] += rec.Len
	r.lines = append(r.lines, fmt.Sprintf("%s record type=%d len=%d %s", dirName[rec.Dir], rec.Type, rec.Len, rec.Code))
}

func (r *recorder) Data(d int, b []byte, packet int64) {
	r.data[d] = append(r.data[d], b...)
	r.lines = append(r.lines, fmt.Sprintf("%s data %d", dirName[d], len(b)))
}

func (r *recorder) Carried(d int, typ uint8, length int, packet int64) {
	r.carried[d] += length
}

func (r *recorder) CarriedData(d int, length int, b []byte, packet int64) {
	r.Carried(d, typeApplicationData, length, packet)
	r.Data(d, b, packet)
}

func (r *recorder) Lost(d int, n int64, packet int64) {
	r.lines = append(r.lines, fmt.Sprintf("%s lost %d", dirName[d], n))
}

// rfc8448Keys is a key log with the secrets of RFC 8448 §3.
func rfc8448Keys(t testing.TB) *KeyLog {
	k := NewKeyLog()
	log := fmt.Sprintf("CLIENT_HANDSHAKE_TRAFFIC_SECRET %s %s\nSERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\nCLIENT_TRAFFIC_SECRET_0 %s %s\nSERVER_TRAFFIC_SECRET_0 %s %s\n",
		rfc8448ClientRandom, rfc8448CHS, rfc8448ClientRandom, rfc8448SHS, rfc8448ClientRandom, rfc8448CAP, rfc8448ClientRandom, rfc8448SAP)
	if err := k.Parse(strings.NewReader(log), "rfc8448", 0); err != nil {
		t.Fatal(err)
	}
	return k
}

// TestConnRFC8448 runs the whole RFC 8448 §3 session through a Conn, in
// the order the records crossed the network, one byte at a time and whole.
func TestConnRFC8448(t *testing.T) {
	steps := []struct {
		dir int
		rec string
	}{
		{Client, rfc8448ClientHello}, {Server, rfc8448ServerHello}, {Server, rfc8448ServerFlight},
		{Client, rfc8448ClientFinished}, {Server, rfc8448Ticket}, {Client, rfc8448ClientData},
		{Server, rfc8448ServerData}, {Client, rfc8448ClientAlert}, {Server, rfc8448ServerAlert},
	}
	want := []string{
		"client client_hello len=192",
		"server server_hello len=86",
		"server encrypted_extensions len=36 encrypted",
		"server certificate len=441 encrypted",
		"server certificate_verify len=132 encrypted",
		"server finished len=32 encrypted",
		`handshake TLS 1.3 TLS_AES_128_GCM_SHA256 sni="server" alpn="" offered=[] resumed=false/ hrr=false early="" ems=false etm=false keys=true problems=[]`,
		"client finished len=32 encrypted",
		"server new_session_ticket len=201 encrypted",
		"client data 50",
		"server data 50",
		"client alert 1/0 encrypted=true",
		"server alert 1/0 encrypted=true",
	}
	for _, split := range []string{"records", "bytes"} {
		t.Run(split, func(t *testing.T) {
			r := &recorder{}
			c := NewConn(Config{Keys: rfc8448Keys(t)}, r)
			for i, s := range steps {
				b := unhex(t, s.rec)
				if split == "bytes" {
					for j := range b {
						c.Write(s.dir, b[j:j+1], int64(i+1))
					}
				} else {
					c.Write(s.dir, b, int64(i+1))
				}
			}
			c.End()
			checkAccounted(t, r, c)
			got := r.lines
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if !bytes.Equal(r.data[Client], seq50()) || !bytes.Equal(r.data[Server], seq50()) {
				t.Errorf("data = %x / %x, want 00..31 both ways", r.data[Client], r.data[Server])
			}
		})
	}
}

// TestConnRFC8448NoKeys: without keys the records are counted and sized,
// nothing is invented.
func TestConnRFC8448NoKeys(t *testing.T) {
	r := &recorder{}
	c := NewConn(Config{}, r)
	c.Write(Client, unhex(t, rfc8448ClientHello), 1)
	c.Write(Server, unhex(t, rfc8448ServerHello), 2)
	c.Write(Server, unhex(t, rfc8448ServerFlight), 3)
	c.Write(Client, unhex(t, rfc8448ClientData), 4)
	c.End()
	want := []string{
		"client client_hello len=192",
		"server server_hello len=86",
		`handshake TLS 1.3 TLS_AES_128_GCM_SHA256 sni="server" alpn="" offered=[] resumed=false/ hrr=false early="" ems=false etm=false keys=false problems=[tls.no_keys]`,
		"server record type=23 len=679 tls.no_keys",
		"client record type=23 len=72 tls.no_keys",
	}
	if got := strings.Join(r.lines, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	checkAccounted(t, r, c)
	if n, b := c.Records(Server); n != 2 || b != 95+679 {
		t.Errorf("Records(server) = %d, %d; want 2, %d", n, b, 95+679)
	}
	if len(r.data[0])+len(r.data[1]) != 0 {
		t.Errorf("data delivered without keys")
	}
}

// TestConnRFC8448WrongKey: a key that does not match is detected on the
// first record, never shown as data.
func TestConnRFC8448WrongKey(t *testing.T) {
	k := NewKeyLog()
	wrong := sha256.Sum256([]byte("not the secret"))
	log := fmt.Sprintf("SERVER_HANDSHAKE_TRAFFIC_SECRET %s %x\nCLIENT_TRAFFIC_SECRET_0 %s %x\n", rfc8448ClientRandom, wrong, rfc8448ClientRandom, wrong)
	if err := k.Parse(strings.NewReader(log), "wrong", 0); err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	c := NewConn(Config{Keys: k}, r)
	c.Write(Client, unhex(t, rfc8448ClientHello), 1)
	c.Write(Server, unhex(t, rfc8448ServerHello), 2)
	c.Write(Server, unhex(t, rfc8448ServerFlight), 3)
	c.End()
	got := strings.Join(r.lines, "\n")
	if !strings.Contains(got, "server record type=23 len=679 tls.bad_record_mac") {
		t.Errorf("got\n%s\nwant a tls.bad_record_mac record", got)
	}
	if len(r.data[0])+len(r.data[1]) != 0 {
		t.Errorf("data delivered with a wrong key")
	}
}
