//go:build !amd64 || purego

package jsonenc

// useSSSE3 and useAVX2 are false off amd64: AppendBase64 encodes with its
// portable loop.
var useSSSE3, useAVX2 = false, false

// encodeBase64Blocks encodes nothing off amd64; see base64_amd64.go.
func encodeBase64Blocks(dst, src []byte) int { return 0 }
