//go:build !amd64 || purego

package inflate

// haveRoundAsm: there is no assembly decodeAsm off amd64 (or with the
// purego tag); decodeRoundGo and copyRoundGo decode.
const haveRoundAsm = false

func decodeAsm(r *roundArgs) { panic("inflate: no assembly decodeAsm") }

func lengthsAsm(a *lengthsArgs) { panic("inflate: no assembly lengthsAsm") }
