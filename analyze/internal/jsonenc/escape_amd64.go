//go:build !purego

package jsonenc

import "golang.org/x/sys/cpu"

// useEscapeAVX2 selects escapeAVX2 for the strings AppendString escapes.
// The tests clear it to check the portable loop on the same machine.
var useEscapeAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasBMI2

// escapeAVX2 appends the JSON escape of src's leading bytes to dst[:0]
// (dst is the free room of the caller's buffer) and returns how many
// bytes of src it escaped and how many of dst it wrote. It stops at the
// first byte it leaves to the caller (below 0x20, or 0x80 and above), at
// the end of src, or when fewer than 64 bytes of room are left; it
// escapes '"' and '\\' and copies the other bytes (escape_amd64.s). It
// writes past what it reports, up to the end of dst.
//
//go:noescape
func escapeAVX2(dst []byte, src string) (nsrc, ndst int)

// escShuffle holds, for each mask of the bytes to escape in a group of
// eight, the VPSHUFB indices that spread the group (bytes 0–7 of the
// register) with a backslash (any of bytes 8–15) before each byte to
// escape; escLen the length of the result, 8 plus the escapes.
var (
	escShuffle [256][16]byte
	escLen     [256]uint8
)

func init() {
	for m := range escShuffle {
		k := 0
		for i := range 8 {
			if m>>i&1 != 0 {
				escShuffle[m][k] = 8
				k++
			}
			if k < 16 {
				escShuffle[m][k] = byte(i)
				k++
			}
		}
		escLen[m] = uint8(k)
	}
}
