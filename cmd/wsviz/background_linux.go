package main

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// backgroundNice is how much lower than the process the priority of a
// background thread is (nice(2) steps).
const backgroundNice = 10

// background makes the calling goroutine background work: it locks it to
// its thread and lowers that thread's priority by backgroundNice, so that
// the kernel gives the CPU first to whatever else wants it (the browser
// drawing the page, the server's answers) and to this work only what is
// left. Call it at the start of a goroutine that ends with the work: the
// thread, still locked when the goroutine exits, exits with it.
func background() {
	runtime.LockOSThread()
	tid := unix.Gettid()
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	if err != nil {
		return
	}
	// The raw system call returns 20 - nice (glibc's getpriority(2) turns
	// it back).
	nice := 20 - prio
	unix.Setpriority(unix.PRIO_PROCESS, tid, min(19, nice+backgroundNice))
}
