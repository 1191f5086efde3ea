//go:build !purego

#include "textflag.h"

// Base64 with SSSE3, twelve bytes to sixteen characters per step, after
// Wojciech Muła and Daniel Lemire, "Faster Base64 Encoding and Decoding
// Using AVX2 Instructions" (ACM TWEB 2018), §3 with 128-bit registers:
//
//  1. PSHUFB spreads each 3-byte group a b c into a 32-bit lane as
//     b a c b (little-endian), so that every 6-bit index lies inside one
//     16-bit word.
//  2. Two masks and two 16-bit multiplies move the four indices to the
//     low six bits of the lane's four bytes: a>>2, (a&3)<<4|b>>4,
//     (b&15)<<2|c>>6, c&63.
//  3. Each index becomes its character by adding an offset looked up by
//     PSHUFB from its range: 0–25 'A', 26–51 'a'-26, 52–61 '0'-52,
//     62 '+'-62, 63 '/'-63 (RFC 4648 §4).

// Byte order of step 1: 1 0 2 1, 4 3 5 4, 7 6 8 7, 10 9 11 10.
DATA b64shuffle<>+0(SB)/8, $0x0405030401020001
DATA b64shuffle<>+8(SB)/8, $0x0a0b090a07080607
GLOBL b64shuffle<>(SB), RODATA|NOPTR, $16

// Step 2: a>>2 and (b&15)<<2|c>>6 by the high half of a multiply...
DATA b64mask1<>+0(SB)/8, $0x0fc0fc000fc0fc00
DATA b64mask1<>+8(SB)/8, $0x0fc0fc000fc0fc00
GLOBL b64mask1<>(SB), RODATA|NOPTR, $16
DATA b64mul1<>+0(SB)/8, $0x0400004004000040
DATA b64mul1<>+8(SB)/8, $0x0400004004000040
GLOBL b64mul1<>(SB), RODATA|NOPTR, $16

// ... (a&3)<<4|b>>4 and c&63 by the low half of another.
DATA b64mask2<>+0(SB)/8, $0x003f03f0003f03f0
DATA b64mask2<>+8(SB)/8, $0x003f03f0003f03f0
GLOBL b64mask2<>(SB), RODATA|NOPTR, $16
DATA b64mul2<>+0(SB)/8, $0x0100001001000010
DATA b64mul2<>+8(SB)/8, $0x0100001001000010
GLOBL b64mul2<>(SB), RODATA|NOPTR, $16

// Step 3: saturating index-51 gives 0 for 0–51, 1–10 for 52–61, 11 for
// 62, 12 for 63; indices below 26 then become 13. The offsets by that
// number: 'a'-26, ten '0'-52, '+'-62, '/'-63, 'A'.
DATA b64c51<>+0(SB)/8, $0x3333333333333333
DATA b64c51<>+8(SB)/8, $0x3333333333333333
GLOBL b64c51<>(SB), RODATA|NOPTR, $16
DATA b64c26<>+0(SB)/8, $0x1a1a1a1a1a1a1a1a
DATA b64c26<>+8(SB)/8, $0x1a1a1a1a1a1a1a1a
GLOBL b64c26<>(SB), RODATA|NOPTR, $16
DATA b64c13<>+0(SB)/8, $0x0d0d0d0d0d0d0d0d
DATA b64c13<>+8(SB)/8, $0x0d0d0d0d0d0d0d0d
GLOBL b64c13<>(SB), RODATA|NOPTR, $16
DATA b64offsets<>+0(SB)/8, $0xfcfcfcfcfcfcfc47
DATA b64offsets<>+8(SB)/8, $0x000041f0edfcfcfc
GLOBL b64offsets<>(SB), RODATA|NOPTR, $16

// func encodeBase64SSSE3(dst, src []byte, blocks int)
TEXT ·encodeBase64SSSE3(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ blocks+48(FP), CX
	TESTQ CX, CX
	JZ   done
	MOVOU b64shuffle<>(SB), X8
	MOVOU b64mask1<>(SB), X9
	MOVOU b64mul1<>(SB), X10
	MOVOU b64mask2<>(SB), X11
	MOVOU b64mul2<>(SB), X12
	MOVOU b64c51<>(SB), X13
	MOVOU b64c26<>(SB), X14
	MOVOU b64c13<>(SB), X6
	MOVOU b64offsets<>(SB), X7

loop:
	MOVOU (SI), X0

	// Step 1.
	PSHUFB X8, X0

	// Step 2: X0 = the indices.
	MOVO    X0, X1
	PAND    X9, X1
	PMULHUW X10, X1
	PAND    X11, X0
	PMULLW  X12, X0
	POR     X1, X0

	// Step 3.
	MOVO    X0, X2
	PSUBUSB X13, X2
	MOVO    X14, X3
	PCMPGTB X0, X3
	PAND    X6, X3
	POR     X3, X2
	MOVO    X7, X4
	PSHUFB  X2, X4
	PADDB   X4, X0

	MOVOU X0, (DI)
	ADDQ  $12, SI
	ADDQ  $16, DI
	DECQ  CX
	JNZ   loop

done:
	RET

// B64STEP encodes the 24 bytes at off(SI) into the 32 at doff(DI): the
// three steps above, with 256-bit registers.
#define B64STEP(off, doff) \
	VMOVDQU     off(SI), X0 \
	VINSERTI128 $1, off+12(SI), Y0, Y0 \
	VPSHUFB     Y8, Y0, Y0 \
	VPAND       Y9, Y0, Y1 \
	VPMULHUW    Y10, Y1, Y1 \
	VPAND       Y11, Y0, Y0 \
	VPMULLW     Y12, Y0, Y0 \
	VPOR        Y1, Y0, Y0 \
	VPSUBUSB    Y13, Y0, Y2 \
	VPCMPGTB    Y0, Y14, Y3 \
	VPAND       Y6, Y3, Y3 \
	VPOR        Y3, Y2, Y2 \
	VPSHUFB     Y2, Y7, Y4 \
	VPADDB      Y4, Y0, Y0 \
	VMOVDQU     Y0, doff(DI)

// func encodeBase64AVX2(dst, src []byte, blocks int)
//
// The same steps on 256-bit registers, 24 bytes to 32 characters per
// step: each 128-bit lane gets twelve bytes (the upper one loaded from
// src+12), so the shuffle and constants are the ones above, in both lanes.
// Each step reads 28 bytes of src.
TEXT ·encodeBase64AVX2(SB), NOSPLIT, $0-56
	MOVQ  dst_base+0(FP), DI
	MOVQ  src_base+24(FP), SI
	MOVQ  blocks+48(FP), CX
	TESTQ CX, CX
	JZ    avx2done
	VBROADCASTI128 b64shuffle<>(SB), Y8
	VBROADCASTI128 b64mask1<>(SB), Y9
	VBROADCASTI128 b64mul1<>(SB), Y10
	VBROADCASTI128 b64mask2<>(SB), Y11
	VBROADCASTI128 b64mul2<>(SB), Y12
	VBROADCASTI128 b64c51<>(SB), Y13
	VBROADCASTI128 b64c26<>(SB), Y14
	VBROADCASTI128 b64c13<>(SB), Y6
	VBROADCASTI128 b64offsets<>(SB), Y7

	// Two steps a round while two are left (fewer loop instructions),
	// then the last one.
	CMPQ CX, $2
	JB   avx2last

avx2pairs:
	B64STEP(0, 0)
	B64STEP(24, 32)
	ADDQ $48, SI
	ADDQ $64, DI
	SUBQ $2, CX
	CMPQ CX, $2
	JAE  avx2pairs

avx2last:
	TESTQ CX, CX
	JZ    avx2end
	B64STEP(0, 0)

avx2end:
	VZEROUPPER

avx2done:
	RET
