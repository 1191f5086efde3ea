//go:build !purego

package inflate

import "golang.org/x/sys/cpu"

// haveRoundAsm: decodeAsm is there (round_amd64.s) and the CPU has the
// BMI2 instructions it uses (SHRX, SHLX, BZHI: every x86-64 CPU since
// 2013-2015). Without them decodeRoundGo and copyRoundGo decode.
var haveRoundAsm = cpu.X86.HasBMI2

// decodeAsm is decodeRounds's loop: rounds of decodeRoundGo's first pass,
// with a prefetch of each match's source (see seqMax), each followed by
// copyRoundGo's second pass, until a round stops for another reason than
// its seqMax matches. r says where to decode from and takes back the
// state, as roundArgs says. It reads in[i:i+8] only while i <= inEnd,
// writes the window only below WindowCap-outMargin+3 in the first pass and
// below WindowCap in the second, keeps the matches of a round in its own
// frame, and looks up the tables only inside them; a subtable reference
// out of its table (which buildTable never makes) ends it with
// stopBadTable, a match to copy outside the window (which the first pass
// never notes) with stopBadMatch. The prefetch reads nothing and never
// faults.
//
//go:noescape
func decodeAsm(r *roundArgs)

// lengthsAsm is fastLengthsGo's loop (lengths_amd64.s): it decodes code
// lengths into a.lens[a.k:a.n] with a.table while eight bytes of input are
// left, as fastLengthsGo does, and stops where it stops, with the same
// state. It reads in[i:i+8] only while i <= inEnd, writes lens only below
// n, and looks up the table only with at most its bits.
//
//go:noescape
func lengthsAsm(a *lengthsArgs)
