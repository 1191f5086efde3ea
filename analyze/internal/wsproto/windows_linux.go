package wsproto

import (
	"syscall"
	"unsafe"
)

// windowRegion is how much memory mapWindows maps for history windows at a
// time: one huge page of 2 MiB, 32 windows.
const windowRegion = 2 << 20

// mapWindows maps memory for history windows and asks the kernel to back
// it with a huge page (MADV_HUGEPAGE, honoured when transparent huge pages
// are "madvise" or "always"). With hundreds of connections the windows
// (64 KiB each) are touched at scattered lines for each message, and in
// 4 KiB pages that is one TLB entry per 4 KiB: see docs/performance.md.
// It returns the mapping (to unmap) and the 2 MiB-aligned windows' memory
// inside it, or nils when the mapping fails.
func mapWindows() (mapping, windows []byte) {
	m, err := syscall.Mmap(-1, 0, 2*windowRegion, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil
	}
	off := int(-uintptr(unsafe.Pointer(&m[0])) & (windowRegion - 1))
	windows = m[off : off+windowRegion : off+windowRegion]
	_ = syscall.Madvise(windows, syscall.MADV_HUGEPAGE) // only a hint
	return m, windows
}

// unmapWindows unmaps what mapWindows mapped.
func unmapWindows(mappings [][]byte) {
	for _, m := range mappings {
		_ = syscall.Munmap(m)
	}
}
