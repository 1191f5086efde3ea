package analyze_test

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture/capturetest"
	"github.com/wsviz/wsviz/capture/save"
	"github.com/wsviz/wsviz/internal/rfc8448"
	"github.com/wsviz/wsviz/internal/tls13"
)

// Crafted wss:// sessions: TLS 1.3 records sealed here under made-up
// traffic secrets (RFC 8446 §5.2-5.3, §7.1), carrying an HTTP upgrade and
// WebSocket messages, laid out in TCP segments as a test asks.

// RFC 8448 §3's hellos (TLS 1.3, TLS_AES_128_GCM_SHA256), under made-up
// traffic secrets the key log gives.
var (
	wssRandom = rfc8448.ClientRandom
	wssCH     = rfc8448.Bytes(rfc8448.ClientHello)
	wssSH     = rfc8448.Bytes(rfc8448.ServerHello)
)

func hexBytes(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// wssScript says how craftWSS lays out a session.
type wssScript struct {
	messages  int  // echoed text messages
	perRecord int  // frames per record (1 when 0)
	coalesce  int  // records per TCP send (1 when 0)
	mss       int  // capturetest.DefaultMSS when 0
	randCuts  bool // cut each send at random places instead of the MSS
	keyUpdate int  // after this many messages the client sends a KeyUpdate (0: none)
	badMAC    int  // this client record (from 1, after the handshake) has a byte changed (0: none)
	resend    int  // every resend-th client send is captured twice, the copy after the next server send (0: none)
	delay     int  // every delay-th send is captured after the send that follows it (0: none)
	drop      int  // the drop-th client segment after the handshake is lost (0: none)
	seed      uint64
}

// craftWSS returns a capture (pcapng with ng set) of one wss:// session
// under made-up secrets, laid out as sc says, and its key log.
func craftWSS(t *testing.T, sc wssScript, ng bool) (capture []byte, keylog string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(sc.seed, 7))
	secret := func(label string) []byte { return bytes.Repeat([]byte(label[:1]), 32) }
	chs, shs, cap0, sap0 := secret("c"), secret("s"), secret("a"), secret("b")
	keylog = fmt.Sprintf("CLIENT_HANDSHAKE_TRAFFIC_SECRET %[1]s %[2]x\nSERVER_HANDSHAKE_TRAFFIC_SECRET %[1]s %[3]x\n"+
		"CLIENT_TRAFFIC_SECRET_0 %[1]s %[4]x\nSERVER_TRAFFIC_SECRET_0 %[1]s %[5]x\n", wssRandom, chs, shs, cap0, sap0)
	c := capturetest.NewCapture(capturetest.Options{NG: ng, Step: 1000})
	k := c.Conn("10.0.0.1:50443", "10.0.0.2:443")
	if sc.mss > 0 {
		k.SetMSS(sc.mss)
	}
	k.Handshake()
	k.Client(wssCH)
	finished := []byte{20, 0, 0, 32}
	finished = append(finished, make([]byte, 32)...)
	k.Server(append(bytes.Clone(wssSH), tls13.NewSealer(shs).Seal(22, append([]byte{8, 0, 0, 2, 0, 0}, finished...))...))
	k.Client(tls13.NewSealer(chs).Seal(22, finished))
	client, server := tls13.NewSealer(cap0), tls13.NewSealer(sap0)

	perRecord, coalesce := max(sc.perRecord, 1), max(sc.coalesce, 1)
	sends := 0
	send := func(fromClient bool, b []byte) {
		sends++
		if sc.delay > 0 && sends%sc.delay == 0 {
			k.Delay(1)
		}
		if !sc.randCuts || len(b) < 2 {
			if fromClient {
				k.Client(b)
			} else {
				k.Server(b)
			}
			return
		}
		var cuts []int
		for at := 1 + rng.IntN(len(b)/2+1); at < len(b); at += 1 + rng.IntN(len(b)/2+1) {
			cuts = append(cuts, at)
		}
		if fromClient {
			k.ClientSegments(b, cuts...)
		} else {
			k.ServerSegments(b, cuts...)
		}
	}
	// The upgrade (RFC 6455 §4), one record each way.
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	send(true, client.Seal(23, []byte("GET /chat HTTP/1.1\r\nHost: server\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: "+key+"\r\nSec-WebSocket-Version: 13\r\n\r\n")))
	send(false, server.Seal(23, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: "+base64.StdEncoding.EncodeToString(sum[:])+"\r\n\r\n")))

	var cbuf, sbuf []byte // records not sent yet
	crecords, cframes, sframes := 0, []byte(nil), []byte(nil)
	clientSends := 0
	flush := func(force bool) {
		if len(cbuf) > 0 && (force || bytes.Count(cbuf, []byte{23, 3, 3}) >= coalesce) {
			clientSends++
			if sc.drop > 0 && clientSends == sc.drop {
				k.Drop(1)
			}
			b := cbuf
			cbuf = nil
			send(true, b)
			if sc.resend > 0 && clientSends%sc.resend == 0 {
				defer func() { k.Segment(true, k.Next(true)-uint32(len(b)), b, 0x10) }() // the copy, after the server's answer
			}
		}
		if len(sbuf) > 0 && (force || bytes.Count(sbuf, []byte{23, 3, 3}) >= coalesce) {
			b := sbuf
			sbuf = nil
			send(false, b)
		}
	}
	for i := range sc.messages {
		msg := make([]byte, 1+rng.IntN(3000))
		for j := range msg {
			msg[j] = 'a' + byte((i+j)%26)
		}
		cframes = append(cframes, analyzetest.Text(true, string(msg))...)
		sframes = append(sframes, analyzetest.Text(false, string(msg))...)
		if (i+1)%perRecord == 0 || i == sc.messages-1 {
			rec := client.Seal(23, cframes)
			crecords++
			if crecords == sc.badMAC {
				rec[len(rec)-1] ^= 1
			}
			cbuf = append(cbuf, rec...)
			sbuf = append(sbuf, server.Seal(23, sframes)...)
			cframes, sframes = nil, nil
			flush(false)
		}
		if sc.keyUpdate > 0 && i+1 == sc.keyUpdate {
			cbuf = append(cbuf, client.KeyUpdate()...)
			flush(false)
		}
	}
	flush(true)
	send(true, client.Seal(21, []byte{1, 0})) // close_notify
	k.CloseFIN(true)
	k.CloseFIN(false)
	return c.Bytes(), keylog
}

// insertSecrets returns a pcapng capture with a Decryption Secrets Block
// holding keylog placed before its packet number at (from 1).
func insertSecrets(t *testing.T, data []byte, keylog string, at int) []byte {
	t.Helper()
	var out []byte
	packets := 0
	for len(data) >= 8 {
		typ, n := binary.LittleEndian.Uint32(data), int(binary.LittleEndian.Uint32(data[4:]))
		if typ == 6 || typ == 3 { // an enhanced or simple packet block
			packets++
			if packets == at {
				out = append(out, save.SecretsBlock(save.SecretsTLSKeyLog, []byte(keylog))...)
			}
		}
		out, data = append(out, data[:n]...), data[n:]
	}
	return out
}

func keysOf(t *testing.T, keylog string) *analyze.KeyLog {
	t.Helper()
	k := analyze.NewKeyLog()
	if err := k.Parse(strings.NewReader(keylog), "test", 0); err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSecretsBlockAfterHandshake: a pcapng file whose secrets block comes
// after the handshake, or in the middle of the session: the secrets apply
// from the packet after the block, with any number of workers, although
// the sharded decoder reads the block before the workers reach the
// packets before it.
func TestSecretsBlockAfterHandshake(t *testing.T) {
	data, keylog := craftWSS(t, wssScript{messages: 200, coalesce: 2}, true)
	for _, at := range []int{1, 5, 6, 7, 8, 9, 10, 20, 100} {
		t.Run(fmt.Sprint("before packet ", at), func(t *testing.T) {
			compareWorkers(t, insertSecrets(t, data, keylog, at), analyze.Options{MaxPayload: -1})
		})
	}
}
