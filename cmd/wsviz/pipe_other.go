//go:build !linux

package main

import "io"

// widenPipe is a no-op outside Linux.
func widenPipe(io.Writer) {}

// jsonWriter returns w: writev is used on Linux only.
func jsonWriter(w io.Writer) io.Writer { return w }
