//go:build !purego

#include "textflag.h"

// The offsets of roundArgs's fields (inflate.go), and the constants of
// huffman.go and inflate.go this loop depends on; TestRoundArgsLayout
// checks both against the Go declarations.
#define R_IN 0
#define R_INEND 8
#define R_W 16
#define R_LIT 24
#define R_DIST 32
#define R_LITBITS 40
#define R_DISTBITS 48
#define R_BB 56
#define R_NB 64
#define R_I 72
#define R_O 80
#define R_STOP 88
#define R_BACK 96
#define R_REACH 104

#define LITFLAG 0x80000000
#define EXCFLAG 0x40000000
#define BADFLAG 0x4000
#define SUBFLAG 0x2000
#define EOBFLAG 0x1000
#define LITTABLESIZE 2342
#define DISTTABLESIZE 402
#define OLIMIT 65270 // WindowCap - outMargin
#define SEQMAX 32

#define STOPFULL 0
#define STOPEOB 1
#define STOPBADSYMBOL 2
#define STOPBADDISTANCE 3
#define STOPBADTABLE 4
#define STOPBADMATCH 5

// The frame: the round's matches (as decodeRoundGo notes them in seqs) at
// 0(SP), SEQMAX of them, how many at NS(SP), and in the second pass the
// end of them at CEND(SP).
#define NS 256
#define CEND 264

// Registers: R8 the roundArgs, SI in, DI the window, R9 the literal/length
// table, R10 the distance table, CX and BP the bits of their main tables
// (BZHI's index), R11 bb, R12 nb, R13 i, BX o; AX the entry, DX R14 R15
// scratch. nb is at most 63 and a symbol consumes at most what it has, so
// SUBB takes the bits of an entry's low byte from nb without a borrow.

// Refill as decodeRoundGo does: bb |= in[i:i+8] << nb; i += (63-nb)/8
// (63-nb is 63^nb); nb |= 56. Leaves AX alone.
#define REFILL \
	MOVQ (SI)(R13*1), DX \
	SHLXQ R12, DX, DX \
	ORQ DX, R11 \
	MOVL R12, DX \
	XORL $63, DX \
	SHRL $3, DX \
	ADDQ DX, R13 \
	ORQ $56, R12

// A literal in AX: consume its code, write its byte, o++.
#define LITERAL \
	SHRXQ AX, R11, R11 \
	SUBB AX, R12 \
	SHRL $16, AX \
	MOVB AX, (DI)(BX*1) \
	INCQ BX

// The next literal/length entry of the main table into AX (CX is at most
// 11: the main table's largest).
#define LOOKUP \
	BZHIQ CX, R11, AX \
	MOVL (R9)(AX*4), AX

// func decodeAsm(r *roundArgs)
TEXT ·decodeAsm(SB), NOSPLIT, $272-8
	MOVQ r+0(FP), R8
	MOVQ R_IN(R8), SI
	MOVQ R_W(R8), DI
	MOVQ R_LIT(R8), R9
	MOVQ R_DIST(R8), R10
	MOVQ R_LITBITS(R8), CX
	MOVQ R_DISTBITS(R8), BP
	MOVQ R_BB(R8), R11
	MOVQ R_NB(R8), R12
	MOVQ R_I(R8), R13
	MOVQ R_O(R8), BX
	MOVQ $0, R_BACK(R8)
	MOVQ $STOPFULL, R_STOP(R8)

round:
	MOVQ $0, NS(SP)

top:
	// A symbol starts: room for it in the input and the window?
	CMPQ R13, R_INEND(R8)
	JGT copy
	CMPQ BX, $OLIMIT
	JGT copy
	REFILL
	LOOKUP

dispatch:
	TESTL $SUBFLAG, AX
	JNZ litsub

have:
	TESTL AX, AX // LITFLAG is the sign bit
	JPL notlit
	LITERAL
	// Two more literals fit in the bits left (56 - 3×15 > 0); the entry
	// after them is looked up with the bits left (at least 19 of the 64
	// loaded: enough for the main table) and used after the refill.
	LOOKUP
	TESTL AX, AX
	JPL next
	LITERAL
	LOOKUP
	TESTL AX, AX
	JPL next
	LITERAL
	LOOKUP

next:
	// As top, with the entry already in AX.
	CMPQ R13, R_INEND(R8)
	JGT copy
	CMPQ BX, $OLIMIT
	JGT copy
	REFILL
	JMP dispatch

litsub:
	// e = lit[e>>16&0xfff + (bb>>(e&63)) & (1<<(e>>8&15)-1)]
	SHRXQ AX, R11, DX
	MOVL AX, R14
	SHRL $8, R14
	ANDL $15, R14
	BZHIQ R14, DX, DX
	SHRL $16, AX
	ANDL $0xfff, AX
	ADDL DX, AX
	CMPL AX, $LITTABLESIZE
	JAE badtable
	MOVL (R9)(AX*4), AX
	JMP have

notlit:
	TESTL $EXCFLAG, AX
	JNZ exc
	// A length: base (bits 16-27) + extra bits, consumed with its code.
	MOVQ R12, R_BACK(R8) // nb before it: the bits to go back on a bad distance
	MOVQ R11, R14        // saved
	SHRXQ AX, R11, R11
	SUBB AX, R12
	BZHIQ AX, R14, R14   // the code and its extra bits
	MOVL AX, DX
	SHRL $8, DX          // the code's length (bits 12-15 are 0 in a length's entry)
	SHRXQ DX, R14, R14   // the extra bits
	SHRL $16, AX         // the base (bits 28-31 are 0)
	ADDQ AX, R14         // length

	// Its distance.
	BZHIQ BP, R11, AX // BP is at most 8
	MOVL (R10)(AX*4), AX
	TESTL $SUBFLAG, AX
	JNZ distsub

distgot:
	MOVQ R11, R15 // saved
	SHRXQ AX, R11, R11
	SUBB AX, R12
	BZHIQ AX, R15, R15
	MOVL AX, DX
	SHRL $8, DX // SHRX uses the count's low 6 bits: badFlag (bit 14 of the entry) drops out
	SHRXQ DX, R15, R15
	TESTL $BADFLAG, AX
	JNZ baddist
	SHRL $16, AX
	ADDQ AX, R15 // distance
	CMPQ R15, BX
	JGT baddist
	CMPQ R15, R_REACH(R8) // past the limit (never without one): the careful way notes it
	JGT baddist

	// Note the match: seqs[ns] = o | length<<16 | distance<<32.
	MOVQ R14, DX
	SHLQ $16, DX
	ORQ BX, DX
	MOVQ R15, AX
	SHLQ $32, AX
	ORQ AX, DX
	MOVQ NS(SP), AX
	MOVQ DX, 0(SP)(AX*8)
	INCQ AX
	MOVQ AX, NS(SP)

	// Prefetch where it copies from: from earlier messages (41% of the
	// matches on the bench's capture) the line is likely out of the caches
	// with hundreds of directions decoding in turn; from this message it
	// is in L1, and the prefetch costs less than the branch that told the
	// two apart, which mispredicted as often as the distances vary.
	MOVQ BX, DX
	SUBQ R15, DX
	PREFETCHT0 (DI)(DX*1)
	ADDQ R14, BX
	CMPQ AX, $SEQMAX
	JEQ copy
	// The next entry is looked up with the bits left, before the refill at
	// next (libdeflate's preload): after a refill all 64 bits of bb are
	// input, and a length and a distance take at most 20+28 of them, which
	// leaves at least 16, enough for the main table.
	LOOKUP
	JMP next

distsub:
	SHRXQ AX, R11, DX
	MOVL AX, R15
	SHRL $8, R15
	ANDL $15, R15
	BZHIQ R15, DX, DX
	SHRL $16, AX
	ADDL DX, AX
	CMPL AX, $DISTTABLESIZE
	JAE badtable
	MOVL (R10)(AX*4), AX
	JMP distgot

exc:
	TESTL $EOBFLAG, AX
	JZ badsym
	SHRXQ AX, R11, R11
	SUBB AX, R12
	MOVQ $STOPEOB, R_STOP(R8)
	JMP copy

badsym:
	MOVQ $STOPBADSYMBOL, R_STOP(R8)
	JMP copy

baddist:
	MOVQ R_BACK(R8), DX
	SUBQ R12, DX
	MOVQ DX, R_BACK(R8)
	MOVQ $STOPBADDISTANCE, R_STOP(R8)
	JMP copy

badtable:
	MOVQ $STOPBADTABLE, R_STOP(R8)
	JMP out

copy:
	// The round's second pass, as copyRoundGo: the matches in order,
	// those of distance 8 or more eight bytes at a time past their end,
	// the bytes after it put back (8, or 16 for the two words of a match
	// of at most 16 bytes). R9, R10 and CX are free until reloaded.
	MOVQ NS(SP), AX
	TESTQ AX, AX
	JEQ copied
	LEAQ 0(SP), R10
	LEAQ 0(SP)(AX*8), AX
	MOVQ AX, CEND(SP)

copyloop:
	MOVQ (R10), AX
	MOVWQZX AX, R14 // position
	MOVQ AX, CX
	SHRQ $16, CX
	ANDL $0x1ff, CX // length
	SHRQ $32, AX // distance
	LEAQ (R14)(CX*1), DX // end
	CMPQ AX, R14
	JA copybad
	CMPQ DX, $(65536-8)
	JA copybad
	MOVQ R14, R15
	SUBQ AX, R15 // source
	CMPQ AX, $8
	JB copybytes
	CMPQ CX, $16
	JA copylong
	CMPQ DX, $(65536-16)
	JA copylong
	// At most 16 bytes (98% of the matches on the bench's capture, 66% at
	// most 8): two words whatever the length, and the 16 bytes after the
	// end put back, so that no branch depends on the length.
	MOVQ (DI)(DX*1), CX
	MOVQ 8(DI)(DX*1), AX
	MOVQ (DI)(R15*1), R9
	MOVQ R9, (DI)(R14*1)
	MOVQ 8(DI)(R15*1), R9
	MOVQ R9, 8(DI)(R14*1)
	MOVQ CX, (DI)(DX*1)
	MOVQ AX, 8(DI)(DX*1)
	JMP copynext

copylong:
	MOVQ (DI)(DX*1), CX // the eight bytes after the end

copywords:
	MOVQ (DI)(R15*1), AX
	MOVQ AX, (DI)(R14*1)
	ADDQ $8, R14
	ADDQ $8, R15
	CMPQ R14, DX
	JLT copywords
	MOVQ CX, (DI)(DX*1)
	JMP copynext

copybytes:
	CMPQ R14, DX
	JGE copynext
	MOVB (DI)(R15*1), AX
	MOVB AX, (DI)(R14*1)
	INCQ R14
	INCQ R15
	JMP copybytes

copynext:
	ADDQ $8, R10
	CMPQ R10, CEND(SP)
	JLT copyloop
	MOVQ R_LIT(R8), R9
	MOVQ R_DIST(R8), R10
	MOVQ R_LITBITS(R8), CX

copied:
	// A round ended by its SEQMAX matches goes on (stop is still
	// STOPFULL); any other ends the call.
	CMPQ NS(SP), $SEQMAX
	JEQ round

out:
	MOVQ R11, R_BB(R8)
	MOVQ R12, R_NB(R8)
	MOVQ R13, R_I(R8)
	MOVQ BX, R_O(R8)
	RET

copybad:
	MOVQ $STOPBADMATCH, R_STOP(R8)
	JMP out
