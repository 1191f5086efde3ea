//go:build !purego

#include "textflag.h"

// func prefetch(p unsafe.Pointer, n uintptr)
TEXT ·prefetch(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	LEAQ (AX)(CX*1), CX
	ANDQ $~63, AX

loop:
	PREFETCHT0 (AX)
	ADDQ $64, AX
	CMPQ AX, CX
	JB loop
	RET

// func prefetchw(p unsafe.Pointer, n uintptr)
TEXT ·prefetchw(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	LEAQ (AX)(CX*1), CX
	ANDQ $~63, AX

wloop:
	// PREFETCHW (AX), which Go's assembler does not know: 0F 0D /1.
	BYTE $0x0f; BYTE $0x0d; BYTE $0x08
	ADDQ $64, AX
	CMPQ AX, CX
	JB wloop
	RET
