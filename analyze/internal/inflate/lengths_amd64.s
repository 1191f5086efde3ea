//go:build !purego

#include "textflag.h"

// The offsets of lengthsArgs's fields (inflate.go); TestLengthsArgsLayout
// checks them against the Go declaration.
#define L_IN 0
#define L_INEND 8
#define L_TABLE 16
#define L_PBITS 24
#define L_LENS 32
#define L_N 40
#define L_BB 48
#define L_NB 56
#define L_I 64
#define L_K 72

// An entry of the code length code's pair table (pairCodes) with none of
// these bits is one length 0-15 with a code, or two (pairFlag): the
// values in bits 16-23 and 24-31, the codes' lengths in bits 0-7. With
// one of them: a repeat (16, 17, 18: bit 20) or no code (excFlag, no
// length in bits 8-11).
#define PLAINMASK 0x40f00000

// func lengthsAsm(a *lengthsArgs)
//
// Registers: R8 the lengthsArgs, SI in, R15 inEnd, R9 the table, CX its
// bits (BZHI's index), DI lens, R10 n-1, R11 bb, R12 nb, R13 i, BX k; AX
// the entry, DX R14 scratch.
TEXT ·lengthsAsm(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), R8
	MOVQ L_IN(R8), SI
	MOVQ L_INEND(R8), R15
	MOVQ L_TABLE(R8), R9
	MOVQ L_PBITS(R8), CX
	MOVQ L_LENS(R8), DI
	MOVQ L_N(R8), R10
	DECQ R10
	MOVQ L_BB(R8), R11
	MOVQ L_NB(R8), R12
	MOVQ L_I(R8), R13
	MOVQ L_K(R8), BX

top:
	// for k+1 < n && i+8 <= len(in): refill as fastLengths does.
	CMPQ BX, R10
	JGE out
	CMPQ R13, R15
	JGT out
	MOVQ (SI)(R13*1), DX
	SHLXQ R12, DX, DX
	ORQ DX, R11
	MOVL R12, DX
	XORL $63, DX
	SHRL $3, DX
	ADDQ DX, R13
	ORQ $56, R12
	BZHIQ CX, R11, AX
	MOVL (R9)(AX*4), AX
	TESTL $PLAINMASK, AX
	JNZ special

length:
	// One length or two (pairFlag): their codes consumed (SHRX takes
	// the count's low 6 bits: the codes' lengths, at most 7), their
	// values stored (the second byte is 0 for one: k+1 < n).
	SHRXQ AX, R11, R11
	SUBB AX, R12
	MOVL AX, DX
	SHRL $16, DX
	MOVW DX, (DI)(BX*1)
	SHRL $15, AX
	ANDL $1, AX
	LEAQ 1(BX)(AX*1), BX
	// More without a refill while the bits left hold a code (at most 7
	// bits); a repeat, with its extra bits, waits for the refill.
	CMPQ BX, R10
	JGE out
	CMPQ R12, $7
	JLT top
	BZHIQ CX, R11, AX
	MOVL (R9)(AX*4), AX
	TESTL $PLAINMASK, AX
	JZ length
	JMP top

special:
	// After a refill: no code (stop), or a repeat with its extra bits.
	TESTL $0xf00, AX
	JZ out
	MOVL AX, DX
	SHRL $16, DX
	ANDL $0xff, DX // 16, 17 or 18
	SHRXQ AX, R11, R14 // the bits after the code (AX's low byte: its length)
	CMPL DX, $17
	JEQ rep17
	JGT rep18
	// 16: the previous length, 3-6 times; not valid first.
	TESTQ BX, BX
	JEQ out
	ANDL $3, R14
	ADDL $3, R14
	MOVBLZX -1(DI)(BX*1), DX
	ADDL $2, AX
	JMP repeat

rep17:
	// 17: zero, 3-10 times.
	ANDL $7, R14
	ADDL $3, R14
	XORL DX, DX
	ADDL $3, AX
	JMP repeat

rep18:
	// 18: zero, 11-138 times.
	ANDL $0x7f, R14
	ADDL $11, R14
	XORL DX, DX
	ADDL $7, AX

repeat:
	// R14 times the length in DX, not past n (else stop without
	// consuming the code: the careful loop reports it); AX's low byte is
	// now the code's length and its extra bits.
	LEAQ -1(BX)(R14*1), R15
	CMPQ R15, R10
	JGT out
	INCQ R15
	SHRXQ AX, R11, R11
	SUBB AX, R12
	// Eight at a time while eight are below n (the bytes written past
	// k+R14 are the next lengths'), then one at a time.
	MOVQ $0x0101010101010101, AX
	IMULQ AX, DX

fill8:
	LEAQ 7(BX), AX
	CMPQ AX, R10
	JGT fill
	MOVQ DX, (DI)(BX*1)
	ADDQ $8, BX
	CMPQ BX, R15
	JLT fill8
	MOVQ R15, BX
	JMP filled

fill:
	MOVB DX, (DI)(BX*1)
	INCQ BX
	CMPQ BX, R15
	JLT fill

filled:
	MOVQ L_INEND(R8), R15
	JMP top

out:
	MOVQ R11, L_BB(R8)
	MOVQ R12, L_NB(R8)
	MOVQ R13, L_I(R8)
	MOVQ BX, L_K(R8)
	RET
