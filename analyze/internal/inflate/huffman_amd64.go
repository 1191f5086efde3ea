//go:build !purego

package inflate

import "golang.org/x/sys/cpu"

// haveAVX2: placeMainAsm copies with 32-byte loads and stores.
var haveAVX2 = cpu.X86.HasAVX2

// sortSymbolsAsm is sortSymbolsGo (huffman.go) in assembly
// (huffman_amd64.s), for the same CPUs as decodeAsm (haveRoundAsm): the
// same counts, and the same symbols sorted into sorted[count[0]:]. It
// reads lens[:n] and writes only count and sorted[:n]; lengths above
// maxCodeLen are read as their low four bits.
//
//go:noescape
func sortSymbolsAsm(lens *uint8, n int, count *[maxCodeLen + 2]uint16, sorted *[512]uint16)

// placeMainAsm is placeMainGo (huffman.go) in assembly (huffman_amd64.s),
// for the same CPUs as decodeAsm: the same entries, the same results. It
// writes table[:1<<tableBits] only (tableBits at most maxRootBits) and
// reads syms only as far as count says, from minLen to tableBits bits.
//
//go:noescape
func placeMainAsm(table *uint32, syms *uint16, count *[maxCodeLen + 2]uint16, meaning *meanings, minLen, tableBits uint) (c uint32, placed int)
