package tls13

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/wsviz/wsviz/internal/rfc8448"
)

// TestSealRFC8448: sealed under RFC 8448 §3's client application traffic
// secret, its 50 bytes of application data (sequence number 0) and its
// close_notify (1) are the RFC's records byte for byte.
func TestSealRFC8448(t *testing.T) {
	secret, err := hex.DecodeString(rfc8448.ClientApplicationSecret)
	if err != nil {
		t.Fatal(err)
	}
	s := NewSealer(secret)
	data := make([]byte, 50)
	for i := range data {
		data[i] = byte(i)
	}
	if got, want := s.Seal(23, data), rfc8448.Bytes(rfc8448.ClientData); !bytes.Equal(got, want) {
		t.Errorf("application data record = %x, want %x", got, want)
	}
	if got, want := s.Seal(21, []byte{1, 0}), rfc8448.Bytes(rfc8448.ClientAlert); !bytes.Equal(got, want) {
		t.Errorf("close_notify record = %x, want %x", got, want)
	}
}
