//go:build !linux

package main

import "io"

// isTerminal reports false: progress and colours are for Linux terminals.
func isTerminal(w io.Writer) bool { return false }
