package tlsdec

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// TestPRF12 checks the TLS 1.2 PRF with SHA-256 against the known answer
// published on the IETF TLS list for RFC 5246 §5 (secret, seed and label
// "test label", 100 bytes).
func TestPRF12(t *testing.T) {
	secret := unhex(t, "9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35")
	seed := unhex(t, "a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c")
	want := "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66"
	if got := hex.EncodeToString(prf12(sha256.New, secret, "test label", seed, 100)); got != want {
		t.Errorf("prf12 = %s\nwant   %s", got, want)
	}
}
