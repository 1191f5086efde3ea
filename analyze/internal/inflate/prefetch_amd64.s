//go:build !purego

#include "textflag.h"

// func prefetchMatches(w *byte, seqs *uint64, n, start int)
TEXT ·prefetchMatches(SB), NOSPLIT|NOFRAME, $0-32
	MOVQ w+0(FP), AX
	MOVQ seqs+8(FP), BX
	MOVQ n+16(FP), CX
	MOVQ start+24(FP), DX
	TESTQ CX, CX
	JLE done
loop:
	MOVQ (BX), SI
	MOVWQZX SI, DI // the match's position
	SHRQ $32, SI   // its distance
	SUBQ SI, DI    // where it copies from
	CMPQ DI, DX
	JGE next       // output of this call: in the caches
	PREFETCHT0 (AX)(DI*1)
next:
	ADDQ $8, BX
	DECQ CX
	JNZ loop
done:
	RET
