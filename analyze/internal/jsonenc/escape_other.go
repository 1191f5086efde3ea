//go:build !amd64 || purego

package jsonenc

// useEscapeAVX2 is false off amd64: AppendString escapes with its
// portable loop.
var useEscapeAVX2 = false

// escapeAVX2 is never called off amd64; see escape_amd64.go.
func escapeAVX2(dst []byte, src string) (nsrc, ndst int) { panic("jsonenc: no escapeAVX2") }
