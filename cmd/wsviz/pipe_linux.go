package main

import (
	"io"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// widenPipe raises the kernel buffer of w to 1 MiB when w is a pipe (the
// usual `wsviz events -r big.pcap | jq ...`): with the default 64 KiB the
// writer and the reader take turns every 64 KiB. It does nothing when w
// is not a pipe, or when the kernel refuses (its limit is
// /proc/sys/fs/pipe-max-size).
func widenPipe(w io.Writer) {
	f, ok := w.(*os.File)
	if !ok {
		return
	}
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return
	}
	unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, 1<<20)
}

// jsonWriter returns what `wsviz events -r` hands analyze.DecodeJSON:
// for a file (a pipe, a terminal, a regular file), an
// analyze.BuffersWriter that writes each batch of lines with writev(2),
// straight from the workers' buffers.
func jsonWriter(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok {
		return &vectorFile{File: f}
	}
	return w
}

// vectorFile is an os.File with WriteBuffers.
type vectorFile struct {
	*os.File
	iov []unix.Iovec // reused: unix.Writev would allocate it for every call
}

// iovMax is the most buffers one writev(2) takes on Linux (IOV_MAX).
const iovMax = 1024

// WriteBuffers writes bufs in order with writev(2), as many calls as it
// takes.
func (f *vectorFile) WriteBuffers(bufs [][]byte) error {
	fd := f.Fd()
	for len(bufs) > 0 {
		f.iov = f.iov[:0]
		for _, b := range bufs[:min(len(bufs), iovMax)] {
			var v unix.Iovec
			if len(b) > 0 {
				v.Base = &b[0]
			}
			v.SetLen(len(b))
			f.iov = append(f.iov, v)
		}
		r, _, errno := unix.Syscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&f.iov[0])), uintptr(len(f.iov)))
		if errno == unix.EINTR || errno == unix.EAGAIN {
			continue
		}
		if errno != 0 {
			return &os.PathError{Op: "writev", Path: f.Name(), Err: errno}
		}
		n := int(r)
		if n == 0 {
			return &os.PathError{Op: "writev", Path: f.Name(), Err: io.ErrShortWrite}
		}
		// Drop what was written: whole buffers, then part of one.
		for n > 0 && len(bufs) > 0 {
			if n < len(bufs[0]) {
				bufs[0] = bufs[0][n:]
				break
			}
			n -= len(bufs[0])
			bufs = bufs[1:]
		}
		for len(bufs) > 0 && len(bufs[0]) == 0 {
			bufs = bufs[1:]
		}
	}
	return nil
}
