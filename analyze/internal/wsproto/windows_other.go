//go:build !linux

package wsproto

// mapWindows: off Linux the history windows are on the Go heap.
func mapWindows() (mapping, windows []byte) { return nil, nil }

func unmapWindows(mappings [][]byte) {}
