//go:build !amd64 || purego

package inflate

func sortSymbolsAsm(lens *uint8, n int, count *[maxCodeLen + 2]uint16, sorted *[512]uint16) {
	panic("inflate: no assembly sortSymbolsAsm")
}

func placeMainAsm(table *uint32, syms *uint16, count *[maxCodeLen + 2]uint16, meaning *meanings, minLen, tableBits uint) (c uint32, placed int) {
	panic("inflate: no assembly placeMainAsm")
}
