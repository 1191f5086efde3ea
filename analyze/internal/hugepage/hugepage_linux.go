package hugepage

import (
	"syscall"
	"unsafe"
)

// Size is the size of a transparent huge page on amd64 and arm64.
const Size = 2 << 20

// Map maps at least size bytes, rounded up to a multiple of Size, and
// returns the mapping (for Unmap) and the Size-aligned memory inside it,
// or nils when the mapping fails.
func Map(size int) (mapping, mem []byte) {
	if size <= 0 {
		return nil, nil
	}
	size = (size + Size - 1) &^ (Size - 1)
	m, err := syscall.Mmap(-1, 0, size+Size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil
	}
	off := int(-uintptr(unsafe.Pointer(&m[0])) & (Size - 1))
	mem = m[off : off+size : off+size]
	_ = syscall.Madvise(mem, syscall.MADV_HUGEPAGE) // only a hint
	return m, mem
}

// Unmap unmaps a mapping Map returned; nil is ignored.
func Unmap(mapping []byte) {
	if mapping != nil {
		_ = syscall.Munmap(mapping)
	}
}
