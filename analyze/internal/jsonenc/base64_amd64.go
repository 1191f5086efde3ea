//go:build !purego

package jsonenc

import "golang.org/x/sys/cpu"

// useSSSE3 and useAVX2 select the forms of encodeBase64Blocks. The tests
// clear them to check the others on the same machine.
var (
	useSSSE3 = cpu.X86.HasSSSE3
	useAVX2  = cpu.X86.HasAVX2
)

// encodeBase64Blocks encodes src into dst twelve bytes at a time, sixteen
// characters each, while sixteen bytes of src can be read and sixteen of
// dst written, and returns how many bytes of src it encoded (a multiple of
// twelve, possibly 0). AppendBase64 does the rest. With AVX2 it takes
// 24 bytes per step first.
func encodeBase64Blocks(dst, src []byte) int {
	done := 0
	if useAVX2 && len(src) >= 28 {
		// Each step reads 28 bytes of src (uses 24) and writes 32 of dst.
		blocks := min((len(src)-4)/24, len(dst)/32)
		encodeBase64AVX2(dst, src, blocks)
		done = 24 * blocks
		src, dst = src[done:], dst[done/3*4:]
	}
	if !useSSSE3 || len(src) < 16 {
		return done
	}
	// Each step reads 16 bytes of src (uses 12) and writes 16 of dst.
	blocks := min((len(src)-4)/12, len(dst)/16)
	encodeBase64SSSE3(dst, src, blocks)
	return done + 12*blocks
}

// encodeBase64SSSE3 encodes blocks steps of twelve bytes with SSSE3, and
// encodeBase64AVX2 steps of 24 with AVX2 (base64_amd64.s); the caller
// checks the lengths.
//
//go:noescape
func encodeBase64SSSE3(dst, src []byte, blocks int)

//go:noescape
func encodeBase64AVX2(dst, src []byte, blocks int)
