//go:build !purego

package inflate

// haveRoundAsm: decodeRoundAsm is there (round_amd64.s).
const haveRoundAsm = true

// decodeRoundAsm is decodeRoundGo in assembly, with a prefetch of each
// match that reaches before r.start, the first byte of the window that
// this Next call wrote (see seqMax): r says where to decode from and
// takes back the state, as roundArgs says. It reads in[i:i+8] only while
// i <= inEnd, writes the window only below WindowCap-outMargin+3 and
// seqs only below seqMax, and looks up the tables only inside them; a
// subtable reference out of its table (which buildTable never makes) ends
// the round with stopBadTable. The prefetch reads nothing and never faults.
//
//go:noescape
func decodeRoundAsm(r *roundArgs)

// copyRoundAsm is copyRoundGo in assembly (round_amd64.s). It returns
// false at a match outside the window as decodeRound makes them, which
// cannot be.
//
//go:noescape
func copyRoundAsm(w *[WindowCap]byte, seqs *[seqMax]uint64, ns int) (ok bool)
