//go:build !linux

package main

import (
	"io"
	"os"
)

// newPipe returns a pipe, the child's standard output.
func newPipe() (r, w *os.File, err error) { return os.Pipe() }

// drain reads r until the writer closes and returns the bytes read.
func drain(r *os.File) (int64, error) { return io.Copy(io.Discard, r) }
