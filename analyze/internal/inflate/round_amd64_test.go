//go:build !purego

package inflate

import (
	"testing"
	"unsafe"
)

// TestRoundArgsLayout checks the offsets and constants round_amd64.s
// #defines against the Go declarations.
func TestRoundArgsLayout(t *testing.T) {
	var r roundArgs
	offsets := []struct {
		name      string
		got, want uintptr
	}{
		{"in", unsafe.Offsetof(r.in), 0},
		{"inEnd", unsafe.Offsetof(r.inEnd), 8},
		{"w", unsafe.Offsetof(r.w), 16},
		{"lit", unsafe.Offsetof(r.lit), 24},
		{"dist", unsafe.Offsetof(r.dist), 32},
		{"litBits", unsafe.Offsetof(r.litBits), 40},
		{"distBits", unsafe.Offsetof(r.distBits), 48},
		{"start", unsafe.Offsetof(r.start), 56},
		{"bb", unsafe.Offsetof(r.bb), 64},
		{"nb", unsafe.Offsetof(r.nb), 72},
		{"i", unsafe.Offsetof(r.i), 80},
		{"o", unsafe.Offsetof(r.o), 88},
		{"stop", unsafe.Offsetof(r.stop), 96},
		{"back", unsafe.Offsetof(r.back), 104},
	}
	for _, o := range offsets {
		if o.got != o.want {
			t.Errorf("Offsetof(roundArgs.%s) = %d, round_amd64.s says %d", o.name, o.got, o.want)
		}
	}
	consts := []struct {
		name      string
		got, want int
	}{
		{"LITFLAG", litFlag, 0x80000000},
		{"EXCFLAG", excFlag, 0x40000000},
		{"BADFLAG", badFlag, 0x4000},
		{"SUBFLAG", subFlag, 0x2000},
		{"EOBFLAG", eobFlag, 0x1000},
		{"LITTABLESIZE", litTableSize, 2342},
		{"DISTTABLESIZE", distTableSize, 402},
		{"OLIMIT", WindowCap - outMargin, 65270},
		{"window (the copies)", WindowCap, 65536},
		{"SEQMAX", seqMax, 32},
		{"STOPFULL", stopFull, 0},
		{"STOPEOB", stopEOB, 1},
		{"STOPBADSYMBOL", stopBadSymbol, 2},
		{"STOPBADDISTANCE", stopBadDistance, 3},
		{"STOPBADTABLE", stopBadTable, 4},
		{"STOPBADMATCH", stopBadMatch, 5},
		{"NS (the matches of a round in the frame)", seqMax * 8, 256},
	}
	for _, c := range consts {
		if c.got != c.want {
			t.Errorf("%s = %#x, round_amd64.s says %#x", c.name, c.got, c.want)
		}
	}
}
