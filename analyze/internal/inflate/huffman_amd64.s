//go:build !purego

#include "textflag.h"

// func sortSymbolsAsm(lens *uint8, n int, count *[maxCodeLen + 2]uint16, sorted *[512]uint16)
//
// sortSymbolsGo's two passes: count the lengths (words of eight zeros at
// once), then sort with the running offsets of each length, kept in the
// frame. Registers: SI lens, CX n, DI count, R8 sorted, R9 n-8 (the last
// whole word's start), R11 the mask of each byte's low four bits, BX the
// symbol of the word, AX the word, DX a length, R10 an offset, R12 a
// symbol.
TEXT ·sortSymbolsAsm(SB), NOSPLIT, $320-32
	MOVQ lens+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ count+16(FP), DI
	MOVQ sorted+24(FP), R8
	// Eight counts per length, one for each byte of a word (at
	// 32(SP)+32*k+2*l for byte k's length l): runs of one length then
	// make no chain of increments through memory.
	PXOR X0, X0
	MOVQ $0, BX
zero:
	MOVOU X0, 32(SP)(BX*1)
	ADDQ $16, BX
	CMPQ BX, $256
	JLT zero
	MOVQ $0x0f0f0f0f0f0f0f0f, R11
	LEAQ -8(CX), R9
	XORL BX, BX
	XORL R12, R12 // zero words

count:
	CMPQ BX, R9
	JGT counttail
	MOVQ (SI)(BX*1), AX
	ANDQ R11, AX
	JZ countzero
	MOVBLZX AL, DX
	INCW 32(SP)(DX*2)
	SHRQ $8, AX
	MOVBLZX AL, DX
	INCW 64(SP)(DX*2)
	SHRQ $8, AX
	MOVBLZX AL, DX
	INCW 96(SP)(DX*2)
	SHRQ $8, AX
	MOVBLZX AL, DX
	INCW 128(SP)(DX*2)
	SHRQ $8, AX
	MOVBLZX AL, DX
	INCW 160(SP)(DX*2)
	SHRQ $8, AX
	MOVBLZX AL, DX
	INCW 192(SP)(DX*2)
	SHRQ $8, AX
	MOVBLZX AL, DX
	INCW 224(SP)(DX*2)
	SHRQ $8, AX
	INCW 256(SP)(AX*2)
	ADDQ $8, BX
	JMP count

countzero:
	ADDL $8, R12
	ADDQ $8, BX
	JMP count

counttail:
	CMPQ BX, CX
	JGE sum
	MOVBLZX (SI)(BX*1), DX
	ANDL $15, DX
	INCW 32(SP)(DX*2)
	INCQ BX
	JMP counttail

sum:
	// count = the eight counts' sums, and the zero words' symbols.
	MOVOU 32(SP), X0
	MOVOU 48(SP), X1
	MOVQ $32, BX
sumk:
	MOVOU 32(SP)(BX*1), X2
	MOVOU 48(SP)(BX*1), X3
	PADDW X2, X0
	PADDW X3, X1
	ADDQ $32, BX
	CMPQ BX, $256
	JLT sumk
	MOVOU X0, 0(DI)
	MOVOU X1, 16(DI)
	MOVW $0, 32(DI)
	ADDW R12, 0(DI)

offsets:
	// lo[l] (at 0(SP)+2*l): where the next symbol of length l from the
	// front goes; hi[l] (at 288(SP)+2*l): after where the next from the
	// back goes.
	XORL AX, AX
	XORL DX, DX

offset:
	MOVW AX, 0(SP)(DX*2)
	MOVWLZX (DI)(DX*2), R10
	ADDL R10, AX
	MOVW AX, 288(SP)(DX*2)
	INCL DX
	CMPL DX, $16
	JLT offset

	// The symbols after the last whole word, from the back.
	MOVQ CX, R13
	DECQ R13
	MOVQ CX, R9
	ANDQ $~7, R9

sorttail:
	CMPQ R13, R9
	JLT words
	MOVBLZX (SI)(R13*1), R15
	ANDL $15, R15
	MOVWLZX 288(SP)(R15*2), CX
	DECL CX
	MOVW CX, 288(SP)(R15*2)
	MOVW R13, (R8)(CX*2)
	DECQ R13
	JMP sorttail

words:
	// The whole words from both ends, one from the front (BX) and one
	// from the back (R9) at a time: the runs of one length make two
	// chains of offsets through memory, not one.
	XORL BX, BX
	SUBQ $8, R9

#define FRONTBYTE \
	MOVBLZX AL, DX; \
	MOVWLZX 0(SP)(DX*2), R10; \
	MOVW R12, (R8)(R10*2); \
	INCL R10; \
	MOVW R10, 0(SP)(DX*2); \
	SHRQ $8, AX; \
	INCL R12

#define BACKBYTE \
	ROLQ $8, R14; \
	MOVBLZX R14B, R15; \
	MOVWLZX 288(SP)(R15*2), CX; \
	DECL CX; \
	MOVW CX, 288(SP)(R15*2); \
	MOVW R13, (R8)(CX*2); \
	DECL R13

pair:
	CMPQ BX, R9
	JGE last
	MOVQ (SI)(BX*1), AX
	ANDQ R11, AX
	JZ back
	MOVL BX, R12
	FRONTBYTE
	FRONTBYTE
	FRONTBYTE
	FRONTBYTE
	FRONTBYTE
	FRONTBYTE
	FRONTBYTE
	FRONTBYTE

back:
	MOVQ (SI)(R9*1), R14
	ANDQ R11, R14
	JZ pairnext
	LEAQ 7(R9), R13
	BACKBYTE
	BACKBYTE
	BACKBYTE
	BACKBYTE
	BACKBYTE
	BACKBYTE
	BACKBYTE
	BACKBYTE

pairnext:
	ADDQ $8, BX
	SUBQ $8, R9
	JMP pair

last:
	// The middle word, when the number of words is odd.
	JNE done
	MOVQ (SI)(BX*1), AX
	ANDQ R11, AX
	JZ done
	MOVL BX, R12
	FRONTBYTE
	FRONTBYTE
	FRONTBYTE
	FRONTBYTE
	FRONTBYTE
	FRONTBYTE
	FRONTBYTE
	FRONTBYTE

done:
	RET

// func placeMainAsm(table *uint32, syms *uint16, count *[maxCodeLen + 2]uint16, meaning *meanings, minLen, tableBits uint) (c uint32, placed int)
//
// placeMainGo's loop. Registers: DI table, SI the next symbol, R9
// meaning, CX l, R10 tableBits, R11 c, R12 reversed11, R13 end (1<<l),
// R15 the code of the next entry as an 11-bit number (rc), DX its step,
// R14 the code's length as the entries have it (or, while doubling, what
// to do after), R8 the end of the length's symbols (or a copy's offset),
// AX BX scratch; X0-X3 the copies.
TEXT ·placeMainAsm(SB), NOSPLIT, $0-64
	MOVQ table+0(FP), DI
	MOVQ syms+8(FP), SI
	MOVQ meaning+24(FP), R9
	MOVQ minLen+32(FP), CX
	MOVQ tableBits+40(FP), R10
	LEAQ ·reversed11(SB), R12
	XORL R11, R11
	MOVL $1, R13
	SHLL CX, R13

length:
	MOVQ count+16(FP), BX
	MOVWLZX (BX)(CX*2), R8
	MOVL $11, BX
	SUBL CX, BX
	SHLXL BX, R11, R15
	MOVL $1, DX
	SHLXL BX, DX, DX
	MOVL CX, R14
	SHLL $8, R14
	ORL CX, R14
	ADDL R8, R11
	LEAQ (SI)(R8*2), R8
	CMPQ SI, R8
	JAE placed

place:
	MOVWLZX (SI), AX
	ANDL $0x1ff, AX
	MOVL (R9)(AX*4), AX
	ADDL R14, AX
	MOVL R15, BX
	ANDL $0x7ff, BX
	MOVWLZX (R12)(BX*2), BX
	MOVL AX, (DI)(BX*4)
	ADDL DX, R15
	ADDQ $2, SI
	CMPQ SI, R8
	JB place

placed:
	CMPL R11, R13
	JNE notcomplete
	// The last code (all ones): fill the rest by doubling.
	MOVL $1, R14
	JMP maybedouble

notcomplete:
	CMPQ CX, R10
	JAE partial
	SHLL $1, R11
	XORL R14, R14
	JMP double

maybedouble:
	CMPQ CX, R10
	JAE complete

double:
	// table[end:2*end] = table[:end]: 8, 16, 32 or a multiple of 64
	// bytes, 128 at a time with AVX2.
	MOVQ R13, AX
	SHLQ $2, AX
	LEAQ (DI)(AX*1), BX
	XORL R8, R8
	CMPQ AX, $64
	JB small
	CMPQ AX, $128
	JB copy64
	CMPB ·haveAVX2(SB), $0
	JEQ copy64

copy128:
	VMOVDQU 0(DI)(R8*1), Y0
	VMOVDQU 32(DI)(R8*1), Y1
	VMOVDQU 64(DI)(R8*1), Y2
	VMOVDQU 96(DI)(R8*1), Y3
	VMOVDQU Y0, 0(BX)(R8*1)
	VMOVDQU Y1, 32(BX)(R8*1)
	VMOVDQU Y2, 64(BX)(R8*1)
	VMOVDQU Y3, 96(BX)(R8*1)
	ADDQ $128, R8
	CMPQ R8, AX
	JB copy128
	VZEROUPPER
	JMP copied

copy64:
	MOVOU 0(DI)(R8*1), X0
	MOVOU 16(DI)(R8*1), X1
	MOVOU 32(DI)(R8*1), X2
	MOVOU 48(DI)(R8*1), X3
	MOVOU X0, 0(BX)(R8*1)
	MOVOU X1, 16(BX)(R8*1)
	MOVOU X2, 32(BX)(R8*1)
	MOVOU X3, 48(BX)(R8*1)
	ADDQ $64, R8
	CMPQ R8, AX
	JB copy64
	JMP copied

small:
	CMPQ AX, $16
	JB small8

copy16:
	MOVOU (DI)(R8*1), X0
	MOVOU X0, (BX)(R8*1)
	ADDQ $16, R8
	CMPQ R8, AX
	JB copy16
	JMP copied

small8:
	MOVQ (DI), R8
	MOVQ R8, (BX)

copied:
	SHLL $1, R13
	INCQ CX
	TESTL R14, R14
	JNZ maybedouble
	JMP length

complete:
	MOVL R13, c+48(FP)
	JMP out

partial:
	MOVL R11, c+48(FP)

out:
	SUBQ syms+8(FP), SI
	SHRQ $1, SI
	MOVQ SI, placed+56(FP)
	RET
