package tlsdec

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
)

// Protocol versions as on the wire (RFC 8446 §4.2.1, RFC 5246 appendix A.1).
const (
	VersionTLS10 = 0x0301
	VersionTLS11 = 0x0302
	VersionTLS12 = 0x0303
	VersionTLS13 = 0x0304
)

// VersionName names a protocol version: "TLS 1.3".
func VersionName(v uint16) string {
	switch v {
	case 0x0300:
		return "SSL 3.0"
	case VersionTLS10:
		return "TLS 1.0"
	case VersionTLS11:
		return "TLS 1.1"
	case VersionTLS12:
		return "TLS 1.2"
	case VersionTLS13:
		return "TLS 1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

// Bulk ciphers of the suites decrypted.
const (
	cipherAESGCM = iota + 1
	cipherChaCha20Poly1305
	cipherAESCBC
	cipher3DESCBC
)

// suite is what decryption needs of a cipher suite.
type suite struct {
	id     uint16
	name   string
	tls13  bool
	cipher int
	keyLen int
	macLen int              // CBC suites: HMAC output length
	mac    func() hash.Hash // CBC suites: HMAC hash
	prf    func() hash.Hash // TLS 1.2 PRF hash; TLS 1.3 HKDF hash
}

// suites lists the cipher suites wsviz can decrypt, from the IANA TLS
// Cipher Suites registry (RFC 8446 appendix B.4, RFC 5288, RFC 5289,
// RFC 7905, RFC 5246 appendix A.5). The key exchange does not matter: the
// key log gives the secrets it produced.
var suites = map[uint16]*suite{}

func init() {
	add := func(id uint16, name string, cipher, keyLen int, mac func() hash.Hash, prf func() hash.Hash) {
		s := &suite{id: id, name: name, cipher: cipher, keyLen: keyLen, prf: prf, tls13: id>>8 == 0x13}
		if mac != nil {
			s.mac, s.macLen = mac, mac().Size()
		}
		suites[id] = s
	}
	sha384 := sha512.New384
	// TLS 1.3, RFC 8446 appendix B.4.
	add(0x1301, "TLS_AES_128_GCM_SHA256", cipherAESGCM, 16, nil, sha256.New)
	add(0x1302, "TLS_AES_256_GCM_SHA384", cipherAESGCM, 32, nil, sha384)
	add(0x1303, "TLS_CHACHA20_POLY1305_SHA256", cipherChaCha20Poly1305, 32, nil, sha256.New)
	// TLS 1.2 AES-GCM, RFC 5288 and RFC 5289.
	add(0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", cipherAESGCM, 16, nil, sha256.New)
	add(0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", cipherAESGCM, 32, nil, sha384)
	add(0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", cipherAESGCM, 16, nil, sha256.New)
	add(0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", cipherAESGCM, 32, nil, sha384)
	add(0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", cipherAESGCM, 16, nil, sha256.New)
	add(0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", cipherAESGCM, 32, nil, sha384)
	add(0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", cipherAESGCM, 16, nil, sha256.New)
	add(0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", cipherAESGCM, 32, nil, sha384)
	// TLS 1.2 ChaCha20-Poly1305, RFC 7905.
	add(0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", cipherChaCha20Poly1305, 32, nil, sha256.New)
	add(0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", cipherChaCha20Poly1305, 32, nil, sha256.New)
	add(0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", cipherChaCha20Poly1305, 32, nil, sha256.New)
	// TLS 1.2 CBC with HMAC, RFC 5246 appendix A.5, RFC 4492, RFC 5289.
	add(0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", cipherAESCBC, 16, sha1.New, sha256.New)
	add(0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", cipherAESCBC, 32, sha1.New, sha256.New)
	add(0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", cipherAESCBC, 16, sha256.New, sha256.New)
	add(0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", cipherAESCBC, 32, sha256.New, sha256.New)
	add(0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", cipherAESCBC, 16, sha1.New, sha256.New)
	add(0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", cipherAESCBC, 32, sha1.New, sha256.New)
	add(0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", cipherAESCBC, 16, sha256.New, sha256.New)
	add(0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", cipherAESCBC, 32, sha256.New, sha256.New)
	add(0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", cipherAESCBC, 16, sha1.New, sha256.New)
	add(0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", cipherAESCBC, 32, sha1.New, sha256.New)
	add(0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", cipherAESCBC, 16, sha1.New, sha256.New)
	add(0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", cipherAESCBC, 32, sha1.New, sha256.New)
	add(0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", cipherAESCBC, 16, sha256.New, sha256.New)
	add(0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", cipherAESCBC, 32, sha384, sha384)
	add(0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", cipherAESCBC, 16, sha256.New, sha256.New)
	add(0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", cipherAESCBC, 32, sha384, sha384)
	add(0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", cipher3DESCBC, 24, sha1.New, sha256.New)
	add(0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", cipher3DESCBC, 24, sha1.New, sha256.New)
}

// SuiteName names a cipher suite by its IANA name, or "0xC0FF" for one
// wsviz does not know.
func SuiteName(id uint16) string {
	if s := suites[id]; s != nil {
		return s.name
	}
	switch id {
	case 0x1304:
		return "TLS_AES_128_CCM_SHA256"
	case 0x1305:
		return "TLS_AES_128_CCM_8_SHA256"
	}
	return fmt.Sprintf("0x%04X", id)
}
