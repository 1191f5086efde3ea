//go:build !amd64 || purego

package inflate

// prefetch does nothing off amd64; see prefetch_amd64.go.
func prefetch(p *byte) {}
