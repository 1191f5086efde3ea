//go:build !purego

#include "textflag.h"

// escapeAVX2 escapes a JSON string 32 bytes at a time (see escape_amd64.go).
//
// Per block: the masks of the bytes to escape as two bytes ('"', '\\')
// and of the bytes it leaves to its caller (below 0x20, or 0x80 and
// above: \u escapes, runes to check). A block with neither is stored as
// it is. A block with quotes or backslashes is expanded eight bytes at a
// time: the eight bytes and eight backslashes side by side in one
// register, VPSHUFB with the entry of escShuffle for the group's
// eight-bit mask puts a backslash before each byte to escape, sixteen
// bytes are stored and the output moves on by escLen (8 + the number of
// escapes). The last bytes of the string, and the bytes of a block
// before one left to the caller, go the same way with the masks cut to
// them.
//
// The last block reads 32 bytes from where the string's last bytes start
// when those 32 bytes lie in one page (bytes past the string are read,
// never used); otherwise the bytes are copied to the stack first.

// SPREAD escapes a group (8 bytes, as unpacked from src) with the escape
// mask's next eight bits in BL: the group and a backslash before each
// byte to escape, stored at DI (16 bytes written), its length in R14.
#define SPREAD(unpack, src) \
	unpack X11, src, X4 \
	MOVBLZX BL, AX \
	SHRL $8, BX \
	MOVBQZX (R13)(AX*1), R14 \
	SHLQ $4, AX \
	VPSHUFB (R11)(AX*1), X4, X4 \
	VMOVDQU X4, (DI)

// PART escapes a group of a block of R12 bytes left: the last group
// (R12 ≤ 8) moves the output on by R12 and its escapes only.
#define PART(unpack, src) \
	SPREAD(unpack, src) \
	CMPQ R12, $8 \
	JBE partlast \
	ADDQ R14, DI \
	SUBQ $8, R12

// GROUP escapes a whole group of a block.
#define GROUP(unpack, src) \
	SPREAD(unpack, src) \
	ADDQ R14, DI

// MASKS sets DX to the mask of Y0's bytes left to the caller and BX to
// the mask of its quotes and backslashes.
#define MASKS \
	VPCMPEQB Y10, Y0, Y1 \
	VPCMPEQB Y11, Y0, Y2 \
	VPOR Y1, Y2, Y1 \
	VPMINUB Y12, Y0, Y3 \
	VPCMPEQB Y0, Y3, Y3 \
	VPOR Y0, Y3, Y3 \
	VPMOVMSKB Y3, DX \
	VPMOVMSKB Y1, BX

// func escapeAVX2(dst []byte, src string) (nsrc, ndst int)
TEXT ·escapeAVX2(SB), NOSPLIT, $32-56
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), R8
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	MOVQ DI, R9
	MOVQ SI, R10
	LEAQ -64(DI)(R8*1), R8 // the last place a block may start writing
	MOVQ $0x2222222222222222, AX
	MOVQ AX, X10
	VPBROADCASTQ X10, Y10
	MOVQ $0x5c5c5c5c5c5c5c5c, AX
	MOVQ AX, X11
	VPBROADCASTQ X11, Y11
	MOVQ $0x1f1f1f1f1f1f1f1f, AX
	MOVQ AX, X12
	VPBROADCASTQ X12, Y12
	LEAQ ·escShuffle(SB), R11
	LEAQ ·escLen(SB), R13

loop:
	CMPQ CX, $32
	JB   tail
	CMPQ DI, R8
	JA   done
	VMOVDQU (SI), Y0
	MASKS
	TESTL DX, DX
	JNZ   stop
	TESTL BX, BX
	JNZ   expand
	VMOVDQU Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $32, CX
	JMP     loop

expand:
	VEXTRACTI128 $1, Y0, X5
	GROUP(VPUNPCKLQDQ, X0)
	GROUP(VPUNPCKHQDQ, X0)
	GROUP(VPUNPCKLQDQ, X5)
	GROUP(VPUNPCKHQDQ, X5)
	ADDQ $32, SI
	SUBQ $32, CX
	JMP  loop

stop:
	// A byte left to the caller: escape the bytes before it, then return.
	BSFL DX, R12
	JMP  part

tail:
	TESTQ CX, CX
	JZ    done
	CMPQ  DI, R8
	JA    done
	MOVL  SI, AX
	ANDL  $4095, AX
	CMPL  AX, $4064
	JA    tailcopy
	VMOVDQU (SI), Y0

tailmasks:
	MASKS
	MOVQ   CX, R12
	BZHIL  R12, DX, DX
	TESTL  DX, DX
	JZ     part
	BSFL   DX, R12

part:
	// Escape the first R12 bytes of Y0 (0 to 31), BX the escape mask.
	TESTQ  R12, R12
	JZ     done
	BZHIL  R12, BX, BX
	ADDQ   R12, SI
	SUBQ   R12, CX
	VEXTRACTI128 $1, Y0, X5
	PART(VPUNPCKLQDQ, X0)
	PART(VPUNPCKHQDQ, X0)
	PART(VPUNPCKLQDQ, X5)
	PART(VPUNPCKHQDQ, X5)

partlast:
	LEAQ -8(DI)(R14*1), DI
	ADDQ R12, DI

done:
	SUBQ R10, SI
	SUBQ R9, DI
	MOVQ SI, nsrc+40(FP)
	MOVQ DI, ndst+48(FP)
	VZEROUPPER
	RET

tailcopy:
	// The 32 bytes from SI would cross into the next page, which may not
	// be mapped: copy the last bytes (fewer than 32) to the stack.
	XORQ AX, AX

copyloop:
	MOVB (SI)(AX*1), DX
	MOVB DX, (SP)(AX*1)
	INCQ AX
	CMPQ AX, CX
	JB   copyloop
	VMOVDQU (SP), Y0
	JMP     tailmasks
