//go:build !amd64 || purego

package inflate

// haveRoundAsm: there is no assembly decodeRound off amd64 (or with the
// purego tag); decodeRoundGo decodes.
const haveRoundAsm = false

func decodeRoundAsm(r *roundArgs) { panic("inflate: no assembly decodeRound") }

func copyRoundAsm(w *[WindowCap]byte, seqs *[seqMax]uint64, ns int) bool {
	panic("inflate: no assembly copyRound")
}
