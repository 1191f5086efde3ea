package hugepage

import (
	"runtime"
	"testing"
	"unsafe"
)

func TestMap(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Map maps memory on Linux only")
	}
	for _, size := range []int{1, 4096, Size - 1, Size, Size + 1, 3 * Size} {
		mapping, mem := Map(size)
		if mem == nil {
			t.Fatalf("Map(%d) = nil", size)
		}
		want := (size + Size - 1) / Size * Size
		if len(mem) != want || cap(mem) != want {
			t.Errorf("Map(%d): len %d cap %d, want %d", size, len(mem), cap(mem), want)
		}
		if a := uintptr(unsafe.Pointer(&mem[0])) % Size; a != 0 {
			t.Errorf("Map(%d): memory at %d past a huge page boundary, want 0", size, a)
		}
		for i := 0; i < len(mem); i += 4096 {
			if mem[i] != 0 {
				t.Fatalf("Map(%d): byte %d = %d, want fresh zeroed memory", size, i, mem[i])
			}
			mem[i] = 1
		}
		mem[len(mem)-1] = 1
		Unmap(mapping)
	}
}

func TestMapNothing(t *testing.T) {
	for _, size := range []int{0, -1} {
		if mapping, mem := Map(size); mapping != nil || mem != nil {
			t.Errorf("Map(%d) = %d, %d bytes, want nils", size, len(mapping), len(mem))
		}
	}
	Unmap(nil) // must not panic
}
