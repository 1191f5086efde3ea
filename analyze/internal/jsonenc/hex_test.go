package jsonenc

import (
	"encoding/hex"
	"testing"
)

// TestAppendHex checks AppendHex and AppendHex4 against encoding/hex on
// every byte value and on every length up to 20.
func TestAppendHex(t *testing.T) {
	var all [256]byte
	for i := range all {
		all[i] = byte(i)
	}
	for n := range 21 {
		src := all[255-n : 255]
		if got, want := string(AppendHex([]byte("x"), src)), "x"+hex.EncodeToString(src); got != want {
			t.Errorf("AppendHex(% x) = %q, want %q", src, got, want)
		}
	}
	if got, want := string(AppendHex(nil, all[:])), hex.EncodeToString(all[:]); got != want {
		t.Errorf("AppendHex(0..255) = %q, want %q", got, want)
	}
	for i := 0; i < 256; i += 4 {
		src := [4]byte(all[i : i+4])
		if got, want := string(AppendHex4([]byte("x"), src)), "x"+hex.EncodeToString(src[:]); got != want {
			t.Errorf("AppendHex4(% x) = %q, want %q", src, got, want)
		}
	}
}
