// Package hugepage maps anonymous memory aligned to a transparent huge
// page and asks the kernel to back it with huge pages (MADV_HUGEPAGE,
// honoured when /sys/kernel/mm/transparent_hugepage/enabled is "madvise"
// or "always").
//
// Buffers the decoder touches at scattered lines, or first touches all at
// once at the start of a decode, take one page fault per 2 MiB instead of
// one per 4 KiB; a fault costs 20–35 µs on the project's VM
// (docs/performance.md). Off Linux, or when the mapping fails, Map returns
// nils and callers keep their buffers on the Go heap.
//
// The memory is outside the Go heap: it must not hold Go pointers, and it
// is valid until Unmap.
package hugepage
