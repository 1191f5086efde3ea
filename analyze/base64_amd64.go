//go:build !purego

package analyze

import "golang.org/x/sys/cpu"

// useSSSE3 selects the SSSE3 form of encodeBase64Blocks. The tests clear it
// to check the portable encoder on the same machine.
var useSSSE3 = cpu.X86.HasSSSE3

// encodeBase64Blocks encodes src into dst twelve bytes at a time, sixteen
// characters each, while sixteen bytes of src can be read and sixteen of
// dst written, and returns how many bytes of src it encoded (a multiple of
// twelve, possibly 0). appendBase64 does the rest.
func encodeBase64Blocks(dst, src []byte) int {
	if !useSSSE3 || len(src) < 16 {
		return 0
	}
	// Each step reads 16 bytes of src (uses 12) and writes 16 of dst.
	blocks := min((len(src)-4)/12, len(dst)/16)
	encodeBase64SSSE3(dst, src, blocks)
	return 12 * blocks
}

// encodeBase64SSSE3 encodes blocks steps of encodeBase64Blocks with SSSE3
// (base64_amd64.s); the caller checks the lengths.
//
//go:noescape
func encodeBase64SSSE3(dst, src []byte, blocks int)
