package main

import (
	"os"
	"syscall"
)

// newPipe returns a pipe in blocking mode, the child's standard output.
func newPipe() (r, w *os.File, err error) {
	var fd [2]int
	if err := syscall.Pipe2(fd[:], syscall.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	return os.NewFile(uintptr(fd[0]), "|0"), os.NewFile(uintptr(fd[1]), "|1"), nil
}

// drain empties r into /dev/null with splice(2), which moves the pipe's
// pages without copying them, until the writer closes; it returns the
// bytes drained.
func drain(r *os.File) (int64, error) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	defer null.Close()
	var n int64
	for {
		k, err := syscall.Splice(int(r.Fd()), nil, int(null.Fd()), nil, 1<<20, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, os.NewSyscallError("splice", err)
		}
		if k == 0 {
			return n, nil
		}
		n += k
	}
}
