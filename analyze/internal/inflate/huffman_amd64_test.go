//go:build !purego

package inflate

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTablesAsmSameAsGo builds tables from random code lengths with
// buildTable's assembly loops (sortSymbolsAsm, placeMainAsm) and its Go
// ones, and wants the same counts, the same sorted symbols, the same
// results and the same tables: complete codes over random subsets of 1 to
// 320 symbols (runs of unused symbols, every length up to 15, main tables
// of 5 to 11 bits), single codes, and lengths at random (mostly refused).
func TestTablesAsmSameAsGo(t *testing.T) {
	if !haveRoundAsm {
		t.Skip("no BMI2")
	}
	rng := rand.New(rand.NewPCG(15, 22))
	var sg, sa symScratch
	sg.pureGo = true
	var tg, ta litTable
	for k := range 30000 {
		n := 1 + rng.IntN(maxLitSyms+maxDistSyms)
		lens := make([]uint8, n)
		switch k % 4 {
		case 0, 1:
			complete(rng, lens)
		case 2:
			lens[rng.IntN(n)] = 1
		default:
			for i := range lens {
				if rng.IntN(3) > 0 {
					lens[i] = uint8(rng.IntN(maxCodeLen + 1))
				}
			}
		}
		var cg, ca [maxCodeLen + 2]uint16
		sg.sorted, sa.sorted = [512]uint16{}, [512]uint16{}
		sortSymbolsGo(lens, &cg, &sg.sorted)
		sortSymbolsAsm(&lens[0], len(lens), &ca, &sa.sorted)
		if cg != ca || !slices.Equal(sg.sorted[cg[0]:n], sa.sorted[ca[0]:n]) {
			t.Fatalf("case %d, lengths %v:\nGo:  counts %v sorted %v\nasm: counts %v sorted %v", k, lens, cg, sg.sorted[cg[0]:n], ca, sa.sorted[ca[0]:n])
		}
		rootBits := uint(5 + rng.IntN(maxRootBits-4))
		tg, ta = litTable{}, litTable{}
		ming, bitsg, okg := buildTable(tg[:], lens, &litMeaning, rootBits, litSub, badEntry, &sg)
		mina, bitsa, oka := buildTable(ta[:], lens, &litMeaning, rootBits, litSub, badEntry, &sa)
		if ming != mina || bitsg != bitsa || okg != oka || okg && tg != ta {
			t.Fatalf("case %d, lengths %v, root bits %d: Go %d %d %v, asm %d %d %v, tables the same: %v", k, lens, rootBits, ming, bitsg, okg, mina, bitsa, oka, tg == ta)
		}
	}
}
