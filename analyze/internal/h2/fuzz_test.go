package h2

import (
	"slices"
	"testing"
)

// fuzzInput is what FuzzConn decodes: each side's bytes, and how to feed
// them. Each byte of cuts is one call: bit 0 the side, then with gaps set
// and bit 1 set a Gap of (b>>2)%8+1 bytes, else a Write of b>>1 bytes (at
// least 1).
type fuzzInput struct {
	client, server, cuts []byte
	skipPreface, gaps    bool
}

// fuzzRun decodes in and returns each side's calls and the first broken
// invariant.
func fuzzRun(in fuzzInput, join bool) (events [2][]string, bad string) {
	r := newRecorder(true)
	r.checkHeaders = true
	c := NewConnOptions(r, Options{SkipPreface: in.skipPreface})
	data := [2][]byte{in.client, in.server}
	var fed, lost [2]int64
	pkt := int64(1)
	cuts := in.cuts
	if len(cuts) == 0 {
		cuts = []byte{0xff, 0xfe}
	}
	// pending is the Write being joined, with join set: a side's
	// consecutive Writes become one.
	pendSide, pend := -1, []byte(nil)
	flush := func() {
		if pendSide >= 0 && len(pend) > 0 {
			c.Write(pendSide, pend, pkt)
		}
		pendSide, pend = -1, nil
	}
	for i := 0; len(data[0])+len(data[1]) > 0; i++ {
		b := cuts[i%len(cuts)]
		side := int(b & 1)
		if len(data[side]) == 0 {
			side = 1 - side
		}
		if in.gaps && b&2 != 0 {
			n := int64(b>>2)%8 + 1
			flush()
			c.Gap(side, n, pkt)
			lost[side] += n
			data[side] = data[side][min(len(data[side]), int(n)):]
		} else {
			n := min(len(data[side]), max(1, int(b>>1)))
			if join {
				if pendSide != side {
					flush()
				}
				pendSide, pend = side, append(pend, data[side][:n]...)
			} else {
				c.Write(side, data[side][:n], pkt)
			}
			fed[side] += int64(n)
			data[side] = data[side][n:]
		}
		pkt++
	}
	flush()
	bad = r.bad
	for side := range 2 {
		events[side] = r.side(side)
		switch {
		case bad != "":
		case r.dataBytes[side] > fed[side]+lost[side]:
			bad = "more Data and DataGap bytes than were written and lost"
		case c.Synced(side) == r.dead[side]:
			bad = "Synced disagrees with the problems reported"
		case c.DecodingHeaders(side) == r.headersDead[side] && !r.dead[side]:
			bad = "DecodingHeaders disagrees with the problems reported"
		}
	}
	return events, bad
}

// FuzzConn decodes arbitrary bytes on both sides, cut at arbitrary points,
// with gaps: it must not panic; no side may get more Data and DataGap bytes
// than were written and lost; no call may follow a problem that lost a
// side's framing, nor a Headers call one that lost its header decoding;
// and without gaps, the calls must not depend on where a side's bytes were
// cut.
func FuzzConn(f *testing.F) {
	for _, tc := range append(slices.Clone(frameTests), gapTests...) {
		var side [2][]byte
		for _, w := range tc.in {
			if w.side == Client || w.side == Server {
				side[w.side] = append(side[w.side], w.b...)
			}
		}
		f.Add(side[0], side[1], []byte{3, 1, 8, 7}, !tc.preface, false)
	}
	for seed := range int64(8) {
		conv := generate(seed*4, true, newSpecFramer)
		var side [2][]byte
		for _, w := range conv.chunks {
			side[w.side] = append(side[w.side], w.b...)
		}
		// The first KiBs hold the preface, SETTINGS and blocks: enough
		// to start from, small enough to mutate quickly.
		f.Add(side[0][:min(len(side[0]), 3000)], side[1][:min(len(side[1]), 3000)], []byte{byte(seed), 200, 31, 64, 255, 2}, false, seed%2 == 0)
	}
	f.Fuzz(func(t *testing.T, client, server, cuts []byte, skipPreface, gaps bool) {
		in := fuzzInput{client, server, cuts, skipPreface, gaps}
		events, bad := fuzzRun(in, false)
		if bad != "" {
			t.Fatalf("client %q server %q cuts %v: %s", client, server, cuts, bad)
		}
		if gaps {
			return
		}
		joined, bad := fuzzRun(in, true)
		if bad != "" {
			t.Fatalf("client %q server %q joined: %s", client, server, bad)
		}
		for side := range 2 {
			if !slices.Equal(events[side], joined[side]) {
				t.Fatalf("client %q server %q: side %s cut by %v =\n%q\nwhole =\n%q", client, server, sideName(side), cuts, events[side], joined[side])
			}
		}
	})
}
