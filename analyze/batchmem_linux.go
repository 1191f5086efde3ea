package analyze

import (
	"syscall"
	"unsafe"
)

// hugePage is the size of a transparent huge page on amd64 and arm64.
const hugePage = 2 << 20

// mapBatchMemory maps size bytes for the buffers of the sharded decoder's
// batches and asks the kernel to back them with huge pages (MADV_HUGEPAGE,
// honoured when transparent huge pages are "madvise" or "always"). Touched
// for the first time, 4 KiB at a time, the batches' payload and JSON
// buffers took two thousand page faults at the start of every decode of
// the bench capture, at 20–35 µs each on the project's VM
// (docs/performance.md); in huge pages they take a handful. It returns the
// mapping (for unmapBatchMemory) and the 2 MiB-aligned memory inside it,
// or nils when the mapping fails.
func mapBatchMemory(size int) (mapping, mem []byte) {
	size = (size + hugePage - 1) &^ (hugePage - 1)
	m, err := syscall.Mmap(-1, 0, size+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil
	}
	off := int(-uintptr(unsafe.Pointer(&m[0])) & (hugePage - 1))
	mem = m[off : off+size : off+size]
	_ = syscall.Madvise(mem, syscall.MADV_HUGEPAGE) // only a hint
	return m, mem
}

// unmapBatchMemory unmaps what mapBatchMemory mapped.
func unmapBatchMemory(mapping []byte) {
	if mapping != nil {
		_ = syscall.Munmap(mapping)
	}
}
