package filter

import (
	"errors"
	"fmt"

	"golang.org/x/net/bpf"
)

// MaxInstructions is the most instructions the Linux kernel accepts in a
// classic BPF program (BPF_MAXINSNS).
const MaxInstructions = 4096

// ErrTooLong is returned by Instructions when the program would not fit in
// MaxInstructions.
var ErrTooLong = errors.New("filter: expression too long for a classic BPF program")

// Instructions returns the program as classic BPF. Accepted packets are cut
// to snaplen bytes (0 means 262144); rejected packets return 0.
//
// The code is the tree Match evaluates, laid out with forward jumps only:
// each test jumps to its "true" or "false" continuation, so that and/or
// short-circuit exactly as in Match. A conditional jump further than 255
// instructions goes through an unconditional one.
func (p *Program) Instructions(snaplen uint32) ([]bpf.Instruction, error) {
	if snaplen == 0 {
		snaplen = 262144
	}
	long := map[int]bool{}
	// Each pass lengthens only jumps found too far in the pass before, and
	// lengthening never shortens another jump, so this ends.
	for {
		g := &gen{long: long}
		accept, reject := g.newLabel(), g.newLabel()
		g.cond(p.root, accept, reject)
		g.place(accept)
		g.emit(bpf.RetConstant{Val: snaplen})
		g.place(reject)
		g.emit(bpf.RetConstant{Val: 0})
		if len(g.ins) > MaxInstructions {
			return nil, fmt.Errorf("%w (%d instructions, at most %d)", ErrTooLong, len(g.ins), MaxInstructions)
		}
		if tooFar := g.resolve(); len(tooFar) > 0 {
			for _, site := range tooFar {
				long[site] = true
			}
			continue
		}
		return g.ins, nil
	}
}

// Assemble returns the program as raw instructions, ready for
// SO_ATTACH_FILTER.
func (p *Program) Assemble(snaplen uint32) ([]bpf.RawInstruction, error) {
	ins, err := p.Instructions(snaplen)
	if err != nil {
		return nil, err
	}
	raw, err := bpf.Assemble(ins)
	if err != nil {
		return nil, fmt.Errorf("filter: assemble: %w", err)
	}
	return raw, nil
}

type label int

// jumpRef is a jump waiting for its labels' positions.
type jumpRef struct {
	at          int // index of the jump instruction
	site        int // stable id of the conditional jump, for gen.long
	cond        bool
	ifTrue, ifF label
}

type gen struct {
	ins    []bpf.Instruction
	labels []int // position of each label, -1 until placed
	refs   []jumpRef
	sites  int
	long   map[int]bool
}

func (g *gen) newLabel() label {
	g.labels = append(g.labels, -1)
	return label(len(g.labels) - 1)
}

func (g *gen) place(l label) { g.labels[l] = len(g.ins) }

func (g *gen) emit(in bpf.Instruction) { g.ins = append(g.ins, in) }

// jump emits an unconditional jump to l.
func (g *gen) jump(l label) {
	g.refs = append(g.refs, jumpRef{at: len(g.ins), ifTrue: l})
	g.emit(bpf.Jump{})
}

// branch emits a conditional jump on A <cmp> val.
func (g *gen) branch(cmp bpf.JumpTest, val uint32, ifTrue, ifFalse label) {
	site := g.sites
	g.sites++
	if !g.long[site] {
		g.refs = append(g.refs, jumpRef{at: len(g.ins), site: site, cond: true, ifTrue: ifTrue, ifF: ifFalse})
		g.emit(bpf.JumpIf{Cond: cmp, Val: val})
		return
	}
	// Long form: skip 0 when true, 1 when false, into two full jumps.
	g.emit(bpf.JumpIf{Cond: cmp, Val: val, SkipTrue: 0, SkipFalse: 1})
	g.jump(ifTrue)
	g.jump(ifFalse)
}

// cond emits code that continues at ifTrue when c holds, else at ifFalse.
func (g *gen) cond(c *cond, ifTrue, ifFalse label) {
	switch c.op {
	case condConst:
		if c.t.val != 0 {
			g.jump(ifTrue)
		} else {
			g.jump(ifFalse)
		}
	case condNot:
		g.cond(c.l, ifFalse, ifTrue)
	case condAnd:
		right := g.newLabel()
		g.cond(c.l, right, ifFalse)
		g.place(right)
		g.cond(c.r, ifTrue, ifFalse)
	case condOr:
		right := g.newLabel()
		g.cond(c.l, ifTrue, right)
		g.place(right)
		g.cond(c.r, ifTrue, ifFalse)
	case condTest:
		t := c.t
		if t.indirect {
			g.emit(bpf.LoadMemShift{Off: t.ihl})
			g.emit(bpf.LoadIndirect{Off: t.off, Size: int(t.size)})
		} else {
			g.emit(bpf.LoadAbsolute{Off: t.off, Size: int(t.size)})
		}
		if t.mask != noMask {
			g.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: t.mask})
		}
		switch t.cmp {
		case cmpGE:
			g.branch(bpf.JumpGreaterOrEqual, t.val, ifTrue, ifFalse)
		case cmpLE:
			// A <= v is !(A > v); jgt is the native form.
			g.branch(bpf.JumpGreaterThan, t.val, ifFalse, ifTrue)
		default:
			g.branch(bpf.JumpEqual, t.val, ifTrue, ifFalse)
		}
	}
}

// resolve fills in jump distances and returns the sites of conditional
// jumps that do not fit in 8 bits.
func (g *gen) resolve() (tooFar []int) {
	for _, r := range g.refs {
		next := r.at + 1
		if !r.cond {
			g.ins[r.at] = bpf.Jump{Skip: uint32(g.labels[r.ifTrue] - next)}
			continue
		}
		dt, df := g.labels[r.ifTrue]-next, g.labels[r.ifF]-next
		if dt > 255 || df > 255 {
			tooFar = append(tooFar, r.site)
			continue
		}
		j := g.ins[r.at].(bpf.JumpIf)
		j.SkipTrue, j.SkipFalse = uint8(dt), uint8(df)
		g.ins[r.at] = j
	}
	return tooFar
}
