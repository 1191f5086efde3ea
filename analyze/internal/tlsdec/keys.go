package tlsdec

import (
	"crypto/hkdf"
	"crypto/hmac"
	"encoding/binary"
	"hash"
)

// expandLabel is HKDF-Expand-Label (RFC 8446 §7.1):
//
//	HKDF-Expand(Secret, HkdfLabel, Length), HkdfLabel = uint16 length,
//	opaque label<7..255> = "tls13 " + Label, opaque context<0..255>
func expandLabel(h func() hash.Hash, secret []byte, label string, context []byte, length int) []byte {
	info := make([]byte, 0, 2+1+6+len(label)+1+len(context))
	info = binary.BigEndian.AppendUint16(info, uint16(length))
	info = append(info, byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	out, err := hkdf.Expand(h, secret, string(info), length)
	if err != nil {
		// Only for a length past 255 hash blocks, which no caller asks.
		panic("tlsdec: " + err.Error())
	}
	return out
}

// trafficKeys derives the record protection key and IV of a TLS 1.3
// traffic secret (RFC 8446 §7.3): the key length is the AEAD's, the IV is
// 12 bytes for every TLS 1.3 AEAD.
func trafficKeys(s *suite, secret []byte) (key, iv []byte) {
	key = expandLabel(s.prf, secret, "key", nil, s.keyLen)
	iv = expandLabel(s.prf, secret, "iv", nil, 12)
	return key, iv
}

// nextTrafficSecret is the secret after a KeyUpdate (RFC 8446 §7.2):
// application_traffic_secret_N+1 = HKDF-Expand-Label(
// application_traffic_secret_N, "traffic upd", "", Hash.length).
func nextTrafficSecret(s *suite, secret []byte) []byte {
	return expandLabel(s.prf, secret, "traffic upd", nil, s.prf().Size())
}

// prf12 is the TLS 1.2 PRF (RFC 5246 §5): P_hash(secret, label + seed)
// with the suite's hash (SHA-256, or SHA-384 for the suites that say so).
func prf12(h func() hash.Hash, secret []byte, label string, seed []byte, length int) []byte {
	labelSeed := make([]byte, 0, len(label)+len(seed))
	labelSeed = append(labelSeed, label...)
	labelSeed = append(labelSeed, seed...)
	out := make([]byte, 0, length)
	mac := hmac.New(h, secret)
	mac.Write(labelSeed)
	a := mac.Sum(nil) // A(1)
	for len(out) < length {
		mac.Reset()
		mac.Write(a)
		mac.Write(labelSeed)
		out = mac.Sum(out)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0])
	}
	return out[:length]
}

// keyBlock12 holds the TLS 1.2 connection keys (RFC 5246 §6.3).
type keyBlock12 struct {
	clientMAC, serverMAC []byte
	clientKey, serverKey []byte
	clientIV, serverIV   []byte
}

// ivLen12 is the implicit IV taken from the key block (RFC 5288 §3: the
// 4-byte GCM salt; RFC 7905 §2: 12 bytes for ChaCha20-Poly1305; CBC has an
// explicit IV in every record).
func ivLen12(s *suite) int {
	switch s.cipher {
	case cipherAESGCM:
		return 4
	case cipherChaCha20Poly1305:
		return 12
	}
	return 0
}

// deriveKeyBlock12 expands a master secret into the connection keys:
// key_block = PRF(master_secret, "key expansion", server_random +
// client_random), cut in the order of RFC 5246 §6.3.
func deriveKeyBlock12(s *suite, master []byte, clientRandom, serverRandom [32]byte) keyBlock12 {
	ivLen := ivLen12(s)
	n := 2*s.macLen + 2*s.keyLen + 2*ivLen
	seed := make([]byte, 0, 64)
	seed = append(seed, serverRandom[:]...)
	seed = append(seed, clientRandom[:]...)
	b := prf12(s.prf, master, "key expansion", seed, n)
	var kb keyBlock12
	take := func(n int) []byte {
		v := b[:n:n]
		b = b[n:]
		return v
	}
	kb.clientMAC, kb.serverMAC = take(s.macLen), take(s.macLen)
	kb.clientKey, kb.serverKey = take(s.keyLen), take(s.keyLen)
	kb.clientIV, kb.serverIV = take(ivLen), take(ivLen)
	return kb
}
