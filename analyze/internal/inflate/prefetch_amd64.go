//go:build !purego

package inflate

// prefetch asks the CPU to bring the cache line holding *p into its
// caches (PREFETCHT0) and returns at once, without waiting for it: see
// seqMax. It never faults, whatever p is.
//
//go:noescape
func prefetch(p *byte)
