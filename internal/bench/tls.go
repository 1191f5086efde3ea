package bench

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"

	"github.com/wsviz/wsviz/internal/rfc8448"
	"github.com/wsviz/wsviz/internal/tls13"
)

// The hello records of the wss:// variant are RFC 8448 §3's (TLS 1.3,
// TLS_AES_128_GCM_SHA256, SNI "server"), record headers included. Each
// connection patches both randoms; the key log names a session by its
// ClientHello's random (RFC 9850), which is all the decoder needs of the
// hellos besides the version and suite.
var (
	tlsClientHello = rfc8448.Bytes(rfc8448.ClientHello)
	tlsServerHello = rfc8448.Bytes(rfc8448.ServerHello)
)

// helloRandomAt is where a hello record's random starts: the record
// header (5 bytes), the handshake header (4) and legacy_version (2),
// RFC 8446 §4.1.2-4.1.3.
const helloRandomAt = 5 + 4 + 2

// TLS 1.3 content types (RFC 8446 §5.1, B.1).
const (
	contentAlert           = 21
	contentHandshake       = 22
	contentApplicationData = 23
)

// tlsConn is the TLS side of one synthetic wss:// connection.
type tlsConn struct {
	random      [32]byte
	clientHello []byte
	serverHello []byte
	// the handshake's sealers, then the application's
	clientHS, serverHS, client, server *tls13.Sealer
}

// newTLSConn draws a session's client random and four traffic secrets
// from rng and writes them to keylog in NSS's format.
func newTLSConn(rng *rand.Rand, keylog *bufio.Writer) (*tlsConn, error) {
	draw := func(b []byte) {
		for i := 0; i < len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
		}
	}
	t := &tlsConn{}
	draw(t.random[:])
	var serverRandom [32]byte
	draw(serverRandom[:])
	t.clientHello = slices.Clone(tlsClientHello)
	copy(t.clientHello[helloRandomAt:], t.random[:])
	t.serverHello = slices.Clone(tlsServerHello)
	copy(t.serverHello[helloRandomAt:], serverRandom[:])
	var secrets [4][32]byte
	labels := [4]string{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
		"CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"}
	for i := range secrets {
		draw(secrets[i][:])
		if _, err := fmt.Fprintf(keylog, "%s %x %x\n", labels[i], t.random, secrets[i]); err != nil {
			return nil, err
		}
	}
	t.clientHS, t.serverHS = tls13.NewSealer(secrets[0][:]), tls13.NewSealer(secrets[1][:])
	t.client, t.server = tls13.NewSealer(secrets[2][:]), tls13.NewSealer(secrets[3][:])
	return t, nil
}

// finished is a Finished message (RFC 8446 §4.4.4); its verify_data is
// zeros, the decoder having the secrets from the key log.
var finished = append([]byte{20, 0, 0, 32}, make([]byte, 32)...)

// handshake returns the client's first flight (the ClientHello), the
// server's (ServerHello, then EncryptedExtensions and Finished in one
// record) and the client's Finished record.
func (t *tlsConn) handshake() (clientHello, serverFlight, clientFinished []byte) {
	encryptedExtensions := []byte{8, 0, 0, 2, 0, 0}
	serverFlight = t.serverHS.AppendRecords(slices.Clone(t.serverHello), contentHandshake,
		append(encryptedExtensions, finished...))
	return t.clientHello, serverFlight, t.clientHS.AppendRecords(nil, contentHandshake, finished)
}

// closeNotify is the close_notify alert (RFC 8446 §6.1).
var closeNotify = []byte{1, 0}

// keyLogWriter buffers the key log; nil when w is.
func keyLogWriter(w io.Writer) *bufio.Writer {
	if w == nil {
		return nil
	}
	return bufio.NewWriter(w)
}
