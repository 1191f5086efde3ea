//go:build !purego

package wsproto

import "unsafe"

// prefetch asks the CPU to fetch the cache lines of p[:n] (PREFETCHT0):
// it reads nothing, never faults, and returns at once.
//
//go:noescape
func prefetch(p unsafe.Pointer, n uintptr)
