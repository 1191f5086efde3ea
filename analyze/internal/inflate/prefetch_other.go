//go:build !amd64 || purego

package inflate

// prefetchMatches does nothing off amd64; see prefetch_amd64.go.
func prefetchMatches(w *byte, seqs *uint64, n, start int) {}
