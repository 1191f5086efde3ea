// Package tls13 seals TLS 1.3 records under traffic secrets (RFC 8446
// §5.2-5.3, §7.1, §7.3): what the tests' crafted wss:// sessions and the
// bench's wss captures are made with. AES-128-GCM with SHA-256 only
// (TLS_AES_128_GCM_SHA256).
package tls13

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"slices"

	"golang.org/x/crypto/cryptobyte"
)

// MaxPlaintext is the most a TLS 1.3 record carries (RFC 8446 §5.1).
const MaxPlaintext = 1 << 14

// ExpandLabel is HKDF-Expand-Label with an empty context (RFC 8446 §7.1).
func ExpandLabel(secret []byte, label string, n int) []byte {
	var b cryptobyte.Builder
	b.AddUint16(uint16(n))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("tls13 " + label)) })
	b.AddUint8LengthPrefixed(func(*cryptobyte.Builder) {})
	out, err := hkdf.Expand(sha256.New, secret, string(b.BytesOrPanic()), n)
	if err != nil {
		panic(err) // n is 12, 16 or 32: far below HKDF's limit
	}
	return out
}

// Sealer protects the records of one direction with AES-128-GCM.
type Sealer struct {
	secret []byte
	aead   cipher.AEAD
	iv     [12]byte
	seq    uint64
}

// NewSealer returns the sealer of a traffic secret, at sequence number 0.
func NewSealer(secret []byte) *Sealer {
	block, err := aes.NewCipher(ExpandLabel(secret, "key", 16))
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	s := &Sealer{secret: slices.Clone(secret), aead: aead}
	copy(s.iv[:], ExpandLabel(secret, "iv", 12))
	return s
}

// AppendRecords appends plain as records of inner content type inner, as
// a TLS library writes one application write: one record, or several of
// at most MaxPlaintext bytes of plaintext each. Sealing happens in place
// in b.
func (s *Sealer) AppendRecords(b []byte, inner uint8, plain []byte) []byte {
	for first := true; first || len(plain) > 0; first = false {
		n := min(len(plain), MaxPlaintext)
		b = slices.Grow(b, 5+n+1+s.aead.Overhead())
		start := len(b)
		b = append(b, 23, 3, 3, 0, 0) // TLSCiphertext's outer type (application_data) and version
		binary.BigEndian.PutUint16(b[start+3:], uint16(n+1+s.aead.Overhead()))
		b = append(b, plain[:n]...)
		b = append(b, inner)
		nonce := s.iv
		binary.BigEndian.PutUint64(nonce[4:], binary.BigEndian.Uint64(nonce[4:])^s.seq)
		s.seq++
		b = s.aead.Seal(b[:start+5], nonce[:], b[start+5:], b[start:start+5])
		plain = plain[n:]
	}
	return b
}

// Seal returns plain, of at most MaxPlaintext bytes, as one record of
// inner content type inner.
func (s *Sealer) Seal(inner uint8, plain []byte) []byte {
	return s.AppendRecords(nil, inner, plain)
}

// KeyUpdate returns the KeyUpdate record (RFC 8446 §4.6.3,
// update_not_requested) and moves s to the next traffic secret.
func (s *Sealer) KeyUpdate() []byte {
	rec := s.Seal(22, []byte{24, 0, 0, 1, 0})
	*s = *NewSealer(ExpandLabel(s.secret, "traffic upd", 32))
	return rec
}
