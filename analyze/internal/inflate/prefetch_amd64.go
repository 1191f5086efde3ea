//go:build !purego

package inflate

// prefetchMatches asks the CPU to bring into its caches (PREFETCHT0) the
// first byte of each of the n matches noted in seqs (as decodeRound notes
// them: position, length, distance) that begins before start, the first
// byte of w that this Next call wrote: those lie in the output of earlier
// messages, which with many connections is no longer in the caches (see
// seqMax). It returns at once, without waiting for the memory, reads
// nothing of w and never faults, whatever the addresses are. One call for
// several matches, because Go saves the loop's registers around each call.
//
//go:noescape
func prefetchMatches(w *byte, seqs *uint64, n, start int)
