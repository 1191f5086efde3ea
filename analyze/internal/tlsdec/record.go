package tlsdec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// Record layer constants.
const (
	recordHeaderLen = 5 // RFC 8446 §5.1: type, legacy_record_version, length
	// maxPlaintext is 2^14 (RFC 8446 §5.1, RFC 5246 §6.2.1).
	maxPlaintext = 1 << 14
	// maxCiphertext bounds TLSCiphertext.length: 2^14 + 2048 in TLS 1.2
	// (RFC 5246 §6.2.3), 2^14 + 256 in TLS 1.3 (RFC 8446 §5.2). A longer
	// record is a protocol violation and is not buffered.
	maxCiphertext = maxPlaintext + 2048
	gcmTagLen     = 16
	gcmExplicit   = 8 // RFC 5288 §3: the explicit part of the GCM nonce
)

// Content types (RFC 8446 §5.1).
const (
	typeChangeCipherSpec = 20
	typeAlert            = 21
	typeHandshake        = 22
	typeApplicationData  = 23
)

// errBadRecordMAC is an authentication failure: a wrong key, a wrong
// sequence number, or bytes changed on the way.
var errBadRecordMAC = errors.New("bad record MAC")

// protection is the read state of one direction under one set of keys:
// RFC 8446 §5.2-5.3 (TLS 1.3 AEAD), RFC 5246 §6.2.3 (TLS 1.2 AEAD and CBC),
// RFC 7905 (ChaCha20-Poly1305), RFC 7366 (encrypt-then-MAC).
type protection struct {
	suite  *suite
	tls13  bool
	aead   cipher.AEAD
	iv     []byte       // 1.3 and ChaCha: the 12-byte IV; 1.2 GCM: the 4-byte salt
	block  cipher.Block // CBC
	mac    hash.Hash    // CBC: HMAC keyed with the MAC key
	etm    bool         // CBC: encrypt-then-MAC (RFC 7366)
	secret []byte       // 1.3: the traffic secret, for KeyUpdate
	seq    uint64       // sequence number of the next record

	nonce [12]byte
	aad   [13]byte
	sum   []byte
}

// newProtection13 returns the read state of a TLS 1.3 traffic secret.
func newProtection13(s *suite, secret []byte) *protection {
	key, iv := trafficKeys(s, secret)
	p := &protection{suite: s, tls13: true, iv: iv, secret: secret}
	p.aead = newAEAD(s, key)
	return p
}

// newProtection12 returns the read state of one direction of a TLS 1.2
// connection.
func newProtection12(s *suite, macKey, key, iv []byte, etm bool) *protection {
	p := &protection{suite: s, iv: iv}
	switch s.cipher {
	case cipherAESGCM, cipherChaCha20Poly1305:
		p.aead = newAEAD(s, key)
	case cipherAESCBC:
		p.block, _ = aes.NewCipher(key) // the key length comes from the suite table
		p.mac = hmac.New(s.mac, macKey)
		p.etm = etm
	case cipher3DESCBC:
		p.block, _ = des.NewTripleDESCipher(key)
		p.mac = hmac.New(s.mac, macKey)
		p.etm = etm
	}
	return p
}

func newAEAD(s *suite, key []byte) cipher.AEAD {
	if s.cipher == cipherChaCha20Poly1305 {
		a, _ := chacha20poly1305.New(key) // 32 bytes, from the suite table
		return a
	}
	b, _ := aes.NewCipher(key)
	a, _ := cipher.NewGCM(b)
	return a
}

// overhead returns the bytes a record under p adds to its plaintext, not
// counting padding (TLS 1.3, CBC) or the header: what a lost record's
// plaintext length is estimated from.
func (p *protection) overhead() int {
	switch {
	case p.tls13:
		return p.aead.Overhead() + 1 // the inner content type
	case p.aead != nil && p.suite.cipher == cipherAESGCM:
		return gcmExplicit + p.aead.Overhead()
	case p.aead != nil:
		return p.aead.Overhead()
	}
	return p.block.BlockSize() + p.mac.Size() + 1 // IV, MAC, at least one byte of padding
}

// open authenticates and decrypts one record whose header is hdr and body
// payload, as the record numbered seq, into dst (which must not overlap
// payload; it is overwritten even when open fails). With inPlace set an
// AEAD record is decrypted into payload itself instead (and its bytes are
// lost when open fails); CBC records always go to dst. It returns the
// plaintext and its content type: for TLS 1.3 the inner type after the
// padding (RFC 8446 §5.4), else the header's.
func (p *protection) open(dst []byte, hdr []byte, payload []byte, seq uint64, inPlace bool) ([]byte, uint8, error) {
	typ := hdr[0]
	switch {
	case p.tls13:
		// RFC 8446 §5.3: the nonce is the IV XOR the sequence number,
		// left-padded; §5.2: the additional data is the record header.
		p.makeNonce(seq)
		if inPlace {
			dst = payload
		}
		out, err := p.aead.Open(dst[:0], p.nonce[:], payload, hdr)
		if err != nil {
			return nil, 0, errBadRecordMAC
		}
		// RFC 8446 §5.4: zero padding after the content type.
		i := len(out) - 1
		for i >= 0 && out[i] == 0 {
			i--
		}
		if i < 0 {
			return nil, 0, errors.New("record with no content type (all padding; RFC 8446 §5.4)")
		}
		return out[:i], out[i], nil
	case p.aead != nil:
		nonce := p.nonce[:]
		if p.suite.cipher == cipherAESGCM {
			// RFC 5288 §3: salt (4 bytes from the key block) +
			// explicit nonce (8 bytes at the start of the record).
			if len(payload) < gcmExplicit+gcmTagLen {
				return nil, 0, errBadRecordMAC
			}
			copy(p.nonce[:4], p.iv)
			copy(p.nonce[4:], payload[:gcmExplicit])
			payload = payload[gcmExplicit:]
		} else {
			// RFC 7905 §2: the 12-byte IV XOR the padded sequence number.
			p.makeNonce(seq)
		}
		if len(payload) < p.aead.Overhead() {
			return nil, 0, errBadRecordMAC
		}
		if inPlace {
			dst = payload // exactly over the ciphertext, as cipher.AEAD allows
		}
		// RFC 5246 §6.2.3.3: additional_data = seq_num + type + version + length.
		ad := p.additionalData12(seq, hdr, len(payload)-p.aead.Overhead())
		out, err := p.aead.Open(dst[:0], nonce, payload, ad)
		if err != nil {
			return nil, 0, errBadRecordMAC
		}
		return out, typ, nil
	}
	return p.openCBC(dst, hdr, payload, seq)
}

func (p *protection) makeNonce(seq uint64) {
	// The IV is 12 bytes here (RFC 8446 §5.3, RFC 7905 §2): the sequence
	// number, big-endian, is XORed into its last 8 as one word.
	iv := p.iv[:12]
	copy(p.nonce[:4], iv)
	binary.BigEndian.PutUint64(p.nonce[4:], binary.BigEndian.Uint64(iv[4:])^seq)
}

func (p *protection) additionalData12(seq uint64, hdr []byte, length int) []byte {
	binary.BigEndian.PutUint64(p.aad[:8], seq)
	p.aad[8], p.aad[9], p.aad[10] = hdr[0], hdr[1], hdr[2]
	binary.BigEndian.PutUint16(p.aad[11:], uint16(length))
	return p.aad[:]
}

// openCBC authenticates and decrypts a CBC record of TLS 1.1 or 1.2: an
// explicit IV, then the ciphertext (RFC 5246 §6.2.3.2). With
// MAC-then-encrypt the MAC is inside the ciphertext, over the plaintext;
// with encrypt-then-MAC (RFC 7366 §3) it follows the ciphertext, over the
// IV and ciphertext, and is checked before anything is decrypted.
func (p *protection) openCBC(dst []byte, hdr []byte, payload []byte, seq uint64) ([]byte, uint8, error) {
	bs, ms := p.block.BlockSize(), p.mac.Size()
	if p.etm {
		if len(payload) < bs+bs+ms {
			return nil, 0, errBadRecordMAC
		}
		body, tag := payload[:len(payload)-ms], payload[len(payload)-ms:]
		if !hmac.Equal(p.macOf(seq, hdr, body, nil), tag) {
			return nil, 0, errBadRecordMAC
		}
		payload = body
	}
	if len(payload) < 2*bs || len(payload)%bs != 0 {
		return nil, 0, errBadRecordMAC
	}
	iv, ct := payload[:bs], payload[bs:]
	if cap(dst) < len(ct) {
		dst = make([]byte, len(ct))
	}
	out := dst[:len(ct)]
	cipher.NewCBCDecrypter(p.block, iv).CryptBlocks(out, ct)
	// RFC 5246 §6.2.3.2: padding_length bytes of value padding_length,
	// then padding_length itself.
	padLen := int(out[len(out)-1])
	if padLen+1 > len(out) {
		return nil, 0, errBadRecordMAC
	}
	for _, b := range out[len(out)-1-padLen:] {
		if int(b) != padLen {
			return nil, 0, errBadRecordMAC
		}
	}
	out = out[:len(out)-1-padLen]
	if p.etm {
		return out, hdr[0], nil
	}
	if len(out) < ms {
		return nil, 0, errBadRecordMAC
	}
	content, tag := out[:len(out)-ms], out[len(out)-ms:]
	if !hmac.Equal(p.macOf(seq, hdr, content, nil), tag) {
		return nil, 0, errBadRecordMAC
	}
	return content, hdr[0], nil
}

// macOf is the record MAC (RFC 5246 §6.2.3.1): HMAC(MAC_write_key,
// seq_num + type + version + length + fragment).
func (p *protection) macOf(seq uint64, hdr []byte, fragment []byte, _ []byte) []byte {
	p.mac.Reset()
	p.mac.Write(p.additionalData12(seq, hdr, len(fragment)))
	p.mac.Write(fragment)
	p.sum = p.mac.Sum(p.sum[:0])
	return p.sum
}

// keyUpdate moves a TLS 1.3 read state to the next traffic secret (RFC 8446
// §4.6.3): new keys, and the sequence number starts again at 0.
func (p *protection) keyUpdate() *protection {
	return newProtection13(p.suite, nextTrafficSecret(p.suite, p.secret))
}
