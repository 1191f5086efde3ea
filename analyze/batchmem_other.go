//go:build !linux

package analyze

// mapBatchMemory: off Linux the batches' buffers are on the Go heap.
func mapBatchMemory(size int) (mapping, mem []byte) { return nil, nil }

func unmapBatchMemory(mapping []byte) {}
