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
#define R_LITMASK 40
#define R_DISTMASK 48
#define R_SEQS 56
#define R_START 64
#define R_BB 72
#define R_NB 80
#define R_I 88
#define R_O 96
#define R_NS 104
#define R_STOP 112
#define R_BACK 120

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

// Registers: R8 the roundArgs, SI in, DI the window, R9 the literal/length
// table, R10 the distance table, R11 bb, R12 nb, R13 i, BX o; AX the
// entry, CX shift counts, DX R14 R15 scratch.

// Refill as decodeRoundGo does: bb |= in[i:i+8] << nb; i += (63-nb)/8;
// nb |= 56. Leaves AX alone.
#define REFILL \
	MOVQ (SI)(R13*1), DX \
	MOVQ R12, CX \
	SHLQ CX, DX \
	ORQ DX, R11 \
	MOVQ $63, DX \
	SUBQ R12, DX \
	SHRQ $3, DX \
	ADDQ DX, R13 \
	ORQ $56, R12

// A literal in AX: consume its code, write its byte, o++.
#define LITERAL \
	MOVL AX, CX \
	SHRQ CX, R11 \
	MOVBQZX AX, DX \
	SUBQ DX, R12 \
	SHRL $16, AX \
	MOVB AX, (DI)(BX*1) \
	INCQ BX

// The next literal/length entry of the main table into AX (the mask is
// at most 0x7ff: the main table's largest).
#define LOOKUP \
	MOVQ R11, AX \
	ANDQ R_LITMASK(R8), AX \
	MOVL (R9)(AX*4), AX

// func decodeRoundAsm(r *roundArgs)
TEXT ·decodeRoundAsm(SB), NOSPLIT, $0-8
	MOVQ r+0(FP), R8
	MOVQ R_IN(R8), SI
	MOVQ R_W(R8), DI
	MOVQ R_LIT(R8), R9
	MOVQ R_DIST(R8), R10
	MOVQ R_BB(R8), R11
	MOVQ R_NB(R8), R12
	MOVQ R_I(R8), R13
	MOVQ R_O(R8), BX
	MOVQ $0, R_NS(R8)
	MOVQ $0, R_BACK(R8)

top:
	// A symbol starts: room for it in the input and the window?
	CMPQ R13, R_INEND(R8)
	JGT full
	CMPQ BX, $OLIMIT
	JGT full
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
	JGT full
	CMPQ BX, $OLIMIT
	JGT full
	REFILL
	JMP dispatch

litsub:
	// e = lit[e>>16&0xfff + (bb>>(e&63)) & (1<<(e>>8&15)-1)]
	MOVL AX, CX
	MOVQ R11, DX
	SHRQ CX, DX
	MOVL AX, CX
	SHRL $8, CX
	ANDL $15, CX
	MOVL $1, R14
	SHLL CX, R14
	DECL R14
	ANDL R14, DX
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
	MOVQ R11, R14 // saved
	MOVL AX, CX
	SHRQ CX, R11
	MOVBQZX AX, DX
	SUBQ DX, R12
	MOVQ DX, R_BACK(R8) // the bits to go back on a bad distance
	MOVQ $1, DX
	SHLQ CX, DX
	DECQ DX
	ANDQ DX, R14
	MOVL AX, CX
	SHRL $8, CX // the code's length (bits 12-15 are 0 in a length's entry)
	SHRQ CX, R14
	SHRL $16, AX
	ANDL $0xfff, AX
	ADDQ AX, R14 // length

	// Its distance.
	MOVQ R11, AX
	ANDQ R_DISTMASK(R8), AX // at most 0xff
	MOVL (R10)(AX*4), AX
	TESTL $SUBFLAG, AX
	JNZ distsub

distgot:
	MOVQ R11, R15 // saved
	MOVL AX, CX
	SHRQ CX, R11
	MOVBQZX AX, DX
	SUBQ DX, R12
	ADDQ DX, R_BACK(R8)
	MOVQ $1, DX
	SHLQ CX, DX
	DECQ DX
	ANDQ DX, R15
	MOVL AX, CX
	SHRL $8, CX // SHRQ uses CL&63: badFlag (bit 14 of the entry) drops out
	SHRQ CX, R15
	MOVL AX, DX
	SHRL $16, DX
	ADDQ DX, R15 // distance
	TESTL $BADFLAG, AX
	JNZ baddist
	CMPQ R15, BX
	JGT baddist

	// Note the match: seqs[ns] = o | length<<16 | distance<<32.
	MOVQ R14, DX
	SHLQ $16, DX
	ORQ BX, DX
	MOVQ R15, CX
	SHLQ $32, CX
	ORQ CX, DX
	MOVQ R_NS(R8), CX
	MOVQ R_SEQS(R8), AX
	MOVQ DX, (AX)(CX*8)
	INCQ CX
	MOVQ CX, R_NS(R8)

	// Before this call's output: prefetch where it copies from.
	MOVQ BX, DX
	SUBQ R15, DX
	CMPQ DX, R_START(R8)
	JGE nopf
	PREFETCHT0 (DI)(DX*1)

nopf:
	ADDQ R14, BX
	CMPQ CX, $SEQMAX
	JLT top
	JMP full

distsub:
	MOVL AX, CX
	MOVQ R11, DX
	SHRQ CX, DX
	MOVL AX, CX
	SHRL $8, CX
	ANDL $15, CX
	MOVL $1, R15
	SHLL CX, R15
	DECL R15
	ANDL R15, DX
	SHRL $16, AX
	ADDL DX, AX
	CMPL AX, $DISTTABLESIZE
	JAE badtable
	MOVL (R10)(AX*4), AX
	JMP distgot

exc:
	TESTL $EOBFLAG, AX
	JZ badsym
	MOVL AX, CX
	SHRQ CX, R11
	MOVBQZX AX, DX
	SUBQ DX, R12
	MOVQ $STOPEOB, R_STOP(R8)
	JMP out

badsym:
	MOVQ $STOPBADSYMBOL, R_STOP(R8)
	JMP out

baddist:
	MOVQ $STOPBADDISTANCE, R_STOP(R8)
	JMP out

badtable:
	MOVQ $STOPBADTABLE, R_STOP(R8)
	JMP out

full:
	MOVQ $STOPFULL, R_STOP(R8)

out:
	MOVQ R11, R_BB(R8)
	MOVQ R12, R_NB(R8)
	MOVQ R13, R_I(R8)
	MOVQ BX, R_O(R8)
	RET

// func copyRoundAsm(w *[WindowCap]byte, seqs *[seqMax]uint64, ns int) (ok bool)
//
// copyRoundGo in assembly: the ns matches of seqs, in order, those of
// distance 8 or more eight bytes at a time past their end, the eight bytes
// after it put back. It returns false, having copied nothing more, at a
// match that does not lie inside the window as decodeRound makes them
// (distance at most the position, the end at most WindowCap-8), which
// cannot be.
TEXT ·copyRoundAsm(SB), NOSPLIT, $0-25
	MOVQ w+0(FP), DI
	MOVQ seqs+8(FP), SI
	MOVQ ns+16(FP), R8
	MOVB $1, ok+24(FP)
	TESTQ R8, R8
	JLE copydone

copyloop:
	MOVQ (SI), AX
	MOVWQZX AX, BX // position
	MOVQ AX, CX
	SHRQ $16, CX
	ANDL $0x1ff, CX // length
	SHRQ $32, AX
	ANDL $0xffff, AX // distance
	LEAQ (BX)(CX*1), DX // end
	CMPQ AX, BX
	JA copybad
	CMPQ DX, $(65536-8)
	JA copybad
	MOVQ BX, R9
	SUBQ AX, R9 // source
	CMPQ AX, $8
	JB copybytes
	MOVQ (DI)(DX*1), R10 // the eight bytes after the end

copywords:
	MOVQ (DI)(R9*1), R11
	MOVQ R11, (DI)(BX*1)
	ADDQ $8, BX
	ADDQ $8, R9
	CMPQ BX, DX
	JLT copywords
	MOVQ R10, (DI)(DX*1)
	JMP copynext

copybytes:
	CMPQ BX, DX
	JGE copynext
	MOVB (DI)(R9*1), R11
	MOVB R11, (DI)(BX*1)
	INCQ BX
	INCQ R9
	JMP copybytes

copynext:
	ADDQ $8, SI
	DECQ R8
	JNZ copyloop

copydone:
	RET

copybad:
	MOVB $0, ok+24(FP)
	RET
