//go:build !purego

package inflate

import (
	"math/rand/v2"
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
		{"bb", unsafe.Offsetof(r.bb), 56},
		{"nb", unsafe.Offsetof(r.nb), 64},
		{"i", unsafe.Offsetof(r.i), 72},
		{"o", unsafe.Offsetof(r.o), 80},
		{"stop", unsafe.Offsetof(r.stop), 88},
		{"back", unsafe.Offsetof(r.back), 96},
		{"reach", unsafe.Offsetof(r.reach), 104},
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

// TestLengthsArgsLayout checks the offsets and constants lengths_amd64.s
// #defines against the Go declarations.
func TestLengthsArgsLayout(t *testing.T) {
	var a lengthsArgs
	offsets := []struct {
		name      string
		got, want uintptr
	}{
		{"in", unsafe.Offsetof(a.in), 0},
		{"inEnd", unsafe.Offsetof(a.inEnd), 8},
		{"table", unsafe.Offsetof(a.table), 16},
		{"pbits", unsafe.Offsetof(a.pbits), 24},
		{"lens", unsafe.Offsetof(a.lens), 32},
		{"n", unsafe.Offsetof(a.n), 40},
		{"bb", unsafe.Offsetof(a.bb), 48},
		{"nb", unsafe.Offsetof(a.nb), 56},
		{"i", unsafe.Offsetof(a.i), 64},
		{"k", unsafe.Offsetof(a.k), 72},
	}
	for _, o := range offsets {
		if o.got != o.want {
			t.Errorf("Offsetof(lengthsArgs.%s) = %d, lengths_amd64.s says %d", o.name, o.got, o.want)
		}
	}
	// LENGTHLIMIT: the entries of lengths 0-15 lie below it, those of
	// the repeats and of no code at or above it.
	const limit = 0x100000
	for v := range numPrecode {
		e := precodeMeaning[v] + 7<<8 + 7
		if (v < 16) != (e < limit) {
			t.Errorf("code length symbol %d: entry %#x, LENGTHLIMIT %#x", v, e, limit)
		}
	}
	if badEntry < limit || badEntry&0xf00 != 0 {
		t.Errorf("badEntry = %#x: not at or above LENGTHLIMIT with no code length", badEntry)
	}
}

// TestLengthsAsmSameAsGo decodes random code length data with lengthsAsm
// and fastLengthsGo, from the same state with the same code length code,
// and wants the same lengths and the same state after: codes of every
// shape (complete, a single code, none, over- and under-subscribed ones
// that buildTable refuses are skipped), lengths with few and many repeats
// (16 first, repeats past the end), inputs of 8 to 100 bytes.
func TestLengthsAsmSameAsGo(t *testing.T) {
	if !haveRoundAsm {
		t.Skip("no BMI2")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	var dg, da Decoder
	dg.pureGo = true
	tested := 0
	for k := 0; tested < 20000; k++ {
		var clens [numPrecode]uint8
		switch k % 4 {
		case 0:
			complete(rng, clens[:])
			for i := range clens {
				clens[i] = min(clens[i], 7)
			}
		case 1:
			clens[rng.IntN(numPrecode)] = 1
		case 2:
			for i := range clens {
				clens[i] = uint8(rng.IntN(8))
			}
		default:
			// Mostly repeats: 16, 17, 18 short, a few lengths.
			lens := []uint8{2, 2, 2, 3, 3, 4, 4}
			syms := []int{16, 17, 18, 0, 8, 9, 7}
			for i, s := range syms {
				clens[s] = lens[i]
			}
		}
		pmin, pbits, ok := buildTable(dg.precodeTable[:], clens[:], &precodeMeaning, precodeRootBits, 0, badEntry, &dg.scratch)
		if !ok {
			continue
		}
		_ = pmin
		da.precodeTable = dg.precodeTable
		in := make([]byte, 8+rng.IntN(93))
		for i := range in {
			in[i] = byte(rng.Uint32())
		}
		n := 258 + rng.IntN(59)
		skip := rng.IntN(16)
		for _, d := range []*Decoder{&dg, &da} {
			d.in = in
			d.i, d.bb, d.nb, d.hw = 0, 0, 0, 0
			d.seek(skip)
			d.lens = [maxLitSyms + maxDistSyms]uint8{}
		}
		pmask := uint64(1)<<pbits - 1
		kg := dg.fastLengths(dg.lens[:n], pmask)
		ka := da.fastLengths(da.lens[:n], pmask)
		if kg != ka || dg.lens != da.lens || dg.bb != da.bb || dg.nb != da.nb || dg.i != da.i || dg.hw != da.hw {
			t.Fatalf("case %d (code lengths %v, %d lengths, input %x from bit %d):\nGo:   %d lengths %v, bb %#x nb %d i %d hw %d\nasm:  %d lengths %v, bb %#x nb %d i %d hw %d",
				k, clens, n, in, skip, kg, dg.lens[:kg], dg.bb, dg.nb, dg.i, dg.hw, ka, da.lens[:ka], da.bb, da.nb, da.i, da.hw)
		}
		tested++
	}
}
