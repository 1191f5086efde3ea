//go:build !amd64 || purego

package wsproto

import "unsafe"

// prefetch does nothing where there is no assembly for it.
func prefetch(p unsafe.Pointer, n uintptr) {}
