//go:build !linux

package main

// background does nothing outside Linux: the work keeps its priority.
func background() {}
