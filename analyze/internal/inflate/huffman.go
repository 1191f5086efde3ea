package inflate

import (
	"encoding/binary"
	"math/bits"
)

// Lookup tables. An entry is what a code means, found by indexing a table
// with the next bits of the input (least significant first, RFC 1951
// §3.1.1): the low rootBits bits index the main table; codes longer than
// that continue in a subtable, which the main table's entry points to.
//
// A literal/length entry:
//
//	bit 31      litFlag: a literal, its byte in bits 16-23
//	bit 30      excFlag: not a literal or length (end of block, subtable, bad)
//	bits 16-27  the literal, the length's base, or the subtable's start
//	bit 14      badFlag: no code (an incomplete table) or symbol 286/287
//	bit 13      subFlag: the rest of the code is in a subtable
//	bit 12      eobFlag: end of block
//	bits 8-11   the code's length (0: no code); for a subtable: its index bits
//	bits 0-7    the code's length and its extra bits, consumed together;
//	            for a subtable: the bits to shift out first (rootBits)
//
// A distance entry is the same with the distance's base in bits 16-31 and
// no literal, end of block or excFlag.
const (
	litFlag = 1 << 31
	excFlag = 1 << 30
	badFlag = 1 << 14
	subFlag = 1 << 13
	eobFlag = 1 << 12

	// badEntry and badDistance fill the slots of an incomplete table that
	// no code reaches; litSub and distSub mark a subtable.
	badEntry    = excFlag | badFlag
	badDistance = badFlag
	litSub      = excFlag | subFlag
	distSub     = subFlag
)

// Table sizes. The main tables index this many bits at most (fewer when
// the block's longest code is shorter); the sizes with subtables are the
// largest any complete code can need, computed by zlib's enough.c (the
// figures libdeflate uses): "enough 288 11 15" and "enough 32 8 15".
const (
	litRootBits     = 11
	distRootBits    = 8
	precodeRootBits = 7 // code length codes are at most 7 bits: one level

	litTableSize     = 2342
	distTableSize    = 402
	precodeTableSize = 1 << precodeRootBits
)

// litTable and distTable are the tables of a block's codes, as arrays so
// that a lookup masked to the main table's largest size needs no bounds
// check.
type (
	litTable  [litTableSize]uint32
	distTable [distTableSize]uint32
)

// Symbol counts, RFC 1951 §3.2.5-§3.2.7.
const (
	maxLitSyms  = 288 // 286 and 287 appear in the fixed code only, and are errors
	maxDistSyms = 32  // 30 and 31 likewise
	numPrecode  = 19
	maxCodeLen  = 15
	endOfBlock  = 256
)

// symScratch is buildTable's scratch space: the symbols that have a code,
// in canonical order, after those that have none. Its size is a power of
// two at least maxLitSyms, so that an index masked to it needs no bounds
// check.
type symScratch struct {
	sorted [512]uint16
	// pureGo makes buildTable sort and place with its Go loops even where
	// the assembly ones are there (Decoder.pureGo).
	pureGo bool
	// pairs is the code length code's table as fastLengths reads it
	// (pairCodes).
	pairs [precodeTableSize]uint32
}

// meanings gives each symbol's entry without its code length: what the
// decoder does with it and how many extra bits follow. Its size is
// symScratch's, so that a symbol masked to it needs no bounds check; the
// symbols past the alphabet's are never read.
type meanings [len(symScratch{}.sorted)]uint32

// maxRootBits is the widest main table (litRootBits); reversed11 holds
// every number of that many bits bit-reversed.
const maxRootBits = litRootBits

var reversed11 [1 << maxRootBits]uint16

// litMeaning and distMeaning: the literal/length and distance symbols;
// precodeMeaning: a code length symbol is just its value.
var litMeaning, distMeaning, precodeMeaning meanings

// The fixed Huffman codes, RFC 1951 §3.2.6, built once.
var (
	fixedLit  litTable
	fixedDist distTable
)

func init() {
	for v := range reversed11 {
		reversed11[v] = uint16(bits.Reverse16(uint16(v)) >> (16 - maxRootBits))
	}
	for v := range 256 {
		litMeaning[v] = litFlag | uint32(v)<<16
	}
	litMeaning[endOfBlock] = excFlag | eobFlag
	// Lengths, RFC 1951 §3.2.5: symbols 257-285, base and extra bits.
	base, extra := uint32(3), uint32(0)
	for v := 257; v < 285; v++ {
		if v >= 265 && (v-261)%4 == 0 {
			extra++
		}
		litMeaning[v] = base<<16 | extra
		base += 1 << extra
	}
	litMeaning[285] = 258 << 16
	litMeaning[286] = excFlag | badFlag
	litMeaning[287] = excFlag | badFlag
	// Distances: symbols 0-29.
	base, extra = 1, 0
	for v := range 30 {
		if v >= 4 && v%2 == 0 {
			extra++
		}
		distMeaning[v] = base<<16 | extra
		base += 1 << extra
	}
	distMeaning[30] = badFlag
	distMeaning[31] = badFlag
	for v := range numPrecode {
		precodeMeaning[v] = uint32(v) << 16
	}

	var lens [maxLitSyms]uint8
	for v := range lens {
		switch {
		case v < 144:
			lens[v] = 8
		case v < 256:
			lens[v] = 9
		case v < 280:
			lens[v] = 7
		default:
			lens[v] = 8
		}
	}
	var sc symScratch
	if _, bits, ok := buildTable(fixedLit[:], lens[:], &litMeaning, 9, litSub, badEntry, &sc); !ok || bits != 9 {
		panic("inflate: fixed literal/length code")
	}
	for v := range 32 {
		lens[v] = 5
	}
	if _, bits, ok := buildTable(fixedDist[:], lens[:32], &distMeaning, 5, distSub, badDistance, &sc); !ok || bits != 5 {
		panic("inflate: fixed distance code")
	}
}

// buildTable fills table with the canonical Huffman code of lens (RFC 1951
// §3.2.2), entries made from meaning, with a main table of at most
// rootBits bits (fewer when the longest code is shorter), sub marking
// subtable entries and bad filling the slots no code reaches. It returns the
// shortest code length and the main table's bits, and false when
// compress/flate would reject the code: over- or under-subscribed, except
// for the empty code and a single code of length 1, which flate accepts
// (their missing codes are corrupt input when met). sc is scratch space.
// table holds at least 2^rootBits entries. On amd64 with BMI2 (haveRoundAsm)
// the symbols are sorted and the main table filled in assembly
// (huffman_amd64.s: sortSymbolsAsm, placeMainAsm), unless sc.pureGo; the
// Go loops (sortSymbolsGo, placeMainGo) are the reference the tests hold
// them to.
func buildTable(table []uint32, lens []uint8, meaning *meanings, rootBits uint, sub, bad uint32, sc *symScratch) (minLen, tableBits uint, ok bool) {
	// Count the codes of each length (count[0]: the symbols with none) and
	// sort the symbols by code length, then by value: the canonical order,
	// after the unused ones (nothing reads those).
	var count [maxCodeLen + 2]uint16
	asm := haveRoundAsm && !sc.pureGo
	if asm {
		sortSymbolsAsm(&lens[0], len(lens), &count, &sc.sorted)
	} else {
		sortSymbolsGo(lens, &count, &sc.sorted)
	}
	maxLen := uint(maxCodeLen)
	for maxLen > 0 && count[maxLen] == 0 {
		maxLen--
	}
	if maxLen == 0 {
		// The empty code: every lookup is corrupt input.
		table[0] = bad
		return 0, 0, true
	}
	minLen = 1
	for count[minLen] == 0 {
		minLen++
	}
	// Kraft's sum, as flate's huffmanDecoder.init computes it.
	code := 0
	for l := minLen; l <= maxLen; l++ {
		code = code<<1 + int(count[l])
	}
	if code != 1<<maxLen {
		if code != 1 || maxLen != 1 {
			return 0, 0, false
		}
		// One code, of length 1 ("0"): "1" is corrupt input.
		sym := 0
		for lens[sym] == 0 {
			sym++
		}
		table[0] = meaning[sym] + 1<<8 + 1
		table[1] = bad
		return 1, 1, true
	}
	tableBits = min(rootBits, maxLen)
	if minLen > tableBits {
		// Cannot happen for a complete code of the alphabets' sizes (it
		// would need more than 2^rootBits symbols); refuse rather than
		// place codes past the main table.
		return 0, 0, false
	}

	// The codes of at most tableBits bits, in the main table.
	const sortMask = len(sc.sorted) - 1
	next := int(count[0]) // the used symbols: sc.sorted[next:]
	var c uint32
	var placed int
	if asm {
		c, placed = placeMainAsm(&table[0], &sc.sorted[next&sortMask], &count, meaning, minLen, tableBits)
	} else {
		c, placed = placeMainGo(table, sc.sorted[next&sortMask:], &count, meaning, minLen, tableBits)
	}
	if c == 1<<tableBits {
		return minLen, tableBits, true
	}
	next += placed
	l := tableBits

	// The next code, bit-reversed as the subtables' loop wants it; a
	// longer code adds zeros after it, which leaves its reversal as is.
	codeword := uint32(reversed11[c<<(maxRootBits-tableBits)&(1<<maxRootBits-1)])
	n := uint16(0)
	for n == 0 {
		l++
		n = count[l]
	}

	// Longer codes: subtables after the main table, each as wide as the
	// codes sharing its prefix need.
	end := uint32(1) << tableBits
	mask := end - 1
	prefix := ^uint32(0)
	var start, subBits uint32
	for {
		if codeword&mask != prefix {
			prefix = codeword & mask
			start = end
			subBits = uint32(l - tableBits)
			used := uint32(n)
			for used < 1<<subBits {
				subBits++
				used = used<<1 + uint32(count[tableBits+uint(subBits)])
			}
			end = start + 1<<subBits
			if int(end) > len(table) {
				// Cannot happen for a complete code (the table sizes are
				// enough for any); refuse rather than overrun.
				return 0, 0, false
			}
			table[prefix] = sub | start<<16 | subBits<<8 | uint32(tableBits)
		}
		entry := meaning[int(sc.sorted[next&sortMask])&sortMask] + uint32(l)<<8 + uint32(l)
		next++
		stride := uint32(1) << (l - tableBits)
		for i := start + codeword>>tableBits; i < end; i += stride {
			table[i] = entry
		}
		if codeword == 1<<l-1 {
			return minLen, tableBits, true
		}
		bit := uint32(1) << (31 - bits.LeadingZeros32(codeword^(1<<l-1)))
		codeword &= bit - 1
		codeword |= bit
		n--
		for n == 0 {
			l++
			n = count[l]
		}
	}
}

// sortSymbolsGo counts the codes of each length of lens in count (count[0]:
// the symbols with none) and sorts the symbols with a code in sorted, by
// code length, then by value, after the count[0] symbols with none (which
// are not all written: words of eight unused symbols are skipped).
// sortSymbolsAsm (huffman_amd64.s) is the same loop; this one sorts
// elsewhere and is the reference the tests hold it to. Lengths are at most
// maxCodeLen: masking with it only drops a bounds check.
func sortSymbolsGo(lens []uint8, count *[maxCodeLen + 2]uint16, sorted *[512]uint16) {
	*count = [maxCodeLen + 2]uint16{}
	s := 0
	for ; s+8 <= len(lens); s += 8 {
		w := binary.LittleEndian.Uint64(lens[s:])
		if w == 0 {
			count[0] += 8
			continue
		}
		count[w&maxCodeLen]++
		count[w>>8&maxCodeLen]++
		count[w>>16&maxCodeLen]++
		count[w>>24&maxCodeLen]++
		count[w>>32&maxCodeLen]++
		count[w>>40&maxCodeLen]++
		count[w>>48&maxCodeLen]++
		count[w>>56&maxCodeLen]++
	}
	for _, l := range lens[s:] {
		count[l&maxCodeLen]++
	}
	var offs [maxCodeLen + 1]uint16
	for l := range maxCodeLen {
		offs[l+1] = offs[l] + count[l]
	}
	const sortMask = len(sorted) - 1
	for s = 0; s+8 <= len(lens); s += 8 {
		w := binary.LittleEndian.Uint64(lens[s:])
		if w == 0 {
			continue
		}
		for k := 0; k < 8; k, w = k+1, w>>8 {
			l := w & maxCodeLen
			sorted[int(offs[l])&sortMask] = uint16(s + k)
			offs[l]++
		}
	}
	for ; s < len(lens); s++ {
		l := lens[s] & maxCodeLen
		sorted[int(offs[l])&sortMask] = uint16(s)
		offs[l]++
	}
}

// placeMainGo fills the main table (tableBits bits) with the codes of
// minLen to tableBits bits, whose symbols are syms in canonical order and
// how many of each length count says: one entry per code in a table of
// 2^len entries, doubled (by copying) as len grows, so that each code
// fills every slot whose low bits it is (libdeflate's build_decode_table).
// The codes of one length are consecutive numbers (RFC 1951 §3.2.2),
// packed most significant bit first, so a code's slot is the number
// bit-reversed: reversed11 has them all. When the codes are complete
// within tableBits bits it returns 1<<tableBits; else the next code (of
// tableBits bits) and how many symbols it placed. placeMainAsm
// (huffman_amd64.s) is the same loop; this one places elsewhere and is the
// reference the tests hold it to. The code must be complete (Kraft's sum
// checked).
func placeMainGo(table []uint32, syms []uint16, count *[maxCodeLen + 2]uint16, meaning *meanings, minLen, tableBits uint) (c uint32, placed int) {
	l := minLen
	end := uint32(1) << l
	for {
		codeLen := uint32(l)<<8 + uint32(l)
		shift := maxRootBits - l
		n := int(count[l&maxCodeLen])
		// The codes of length l, as maxRootBits-bit numbers (the code
		// followed by zeros), one step apart.
		rc, step := c<<shift, uint32(1)<<shift
		for _, sym := range syms[placed : placed+n] {
			table[reversed11[rc&(1<<maxRootBits-1)]] = meaning[int(sym)&(len(meaning)-1)] + codeLen
			rc += step
		}
		placed += n
		c += uint32(n)
		if c == end {
			// The last code (all ones): fill the rest by doubling.
			for ; l < tableBits; l++ {
				copy(table[end:2*end], table[:end])
				end <<= 1
			}
			return end, placed
		}
		if l == tableBits {
			return c, placed
		}
		copy(table[end:2*end], table[:end])
		end <<= 1
		c <<= 1
		l++
	}
}

// The entries of the code length code's pair table (pairCodes): pairFlag
// marks two lengths in one entry; an entry with none of plainMask's bits
// is one length 0-15 or two (its values in bits 16-23 and 24-31), else a
// repeat (16, 17, 18: bit 20) or no code (excFlag).
const (
	pairFlag  = 1 << 15
	plainMask = excFlag | 0xf0<<16
)

// pairCodes fills pairs with the entries of the code length code's table
// t (its main table, pmask+1 entries): each as t has it, and where its
// code is a length 0-15 and the rest of the index holds the whole code of
// another length 0-15, both in one (pairFlag; their codes' lengths
// summed): the lengths of a block's common literals have codes of one to
// three bits, so fastLengths decodes most of them two at a time, with
// half the lookups in the chain of lookups and shifts that decoding them
// is.
func pairCodes(pairs, t *[precodeTableSize]uint32, pmask uint64) {
	pbits := uint32(bits.Len64(pmask & (precodeTableSize - 1)))
	for i := range uint32(pmask&(precodeTableSize-1)) + 1 {
		// Without branches, which the codes would make unpredictable:
		// the pair, unless one entry is not a length or the codes do not
		// fit (pbits less their lengths wraps around).
		e := t[i]
		e2 := t[i>>(e&31)&(precodeTableSize-1)]
		l := e&0xff + e2&0xff
		p := e + e2&0xff + e2>>16<<24 | pairFlag
		if (e|e2)&plainMask|(pbits-l)>>31 != 0 {
			p = e
		}
		pairs[i] = p
	}
}
