package jsonenc

import (
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// TestAppendStringPageEnd puts strings right before a page that is not
// mapped: escapeAVX2 reads 32 bytes at a time, and past the end of a
// string only when those bytes are in the string's last page (a fault
// here is a read past the page).
func TestAppendStringPageEnd(t *testing.T) {
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Mprotect(mem[page:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	first := mem[:page]
	pattern := strings.Repeat(`ab"c\d`+"\n"+`é"`, 20)
	for _, form := range stringEncoders(t) {
		form.use()
		for n := range 100 {
			src := first[page-n:]
			copy(src, pattern)
			s := unsafe.String(unsafe.SliceData(src), n)
			if n == 0 {
				s = ""
			}
			if got, want := AppendString(nil, s), appendStringSimple(nil, s); string(got) != string(want) {
				t.Errorf("%s: AppendString(%q) at the end of a page = %s, want %s", form.name, s, got, want)
			}
		}
	}
}
