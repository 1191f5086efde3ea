//go:build !linux

package hugepage

// Size is the size of a transparent huge page on amd64 and arm64.
const Size = 2 << 20

// Map: off Linux there is no mapping; callers use the Go heap.
func Map(size int) (mapping, mem []byte) { return nil, nil }

// Unmap does nothing off Linux.
func Unmap(mapping []byte) {}
