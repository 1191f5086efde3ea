package inflate

import (
	"compress/flate"
	"encoding/binary"
	"io"
	"math/bits"
)

// WindowSize is the LZ77 window of deflate, RFC 1951 §2: a distance
// reaches at most 32 KiB back.
const WindowSize = 32 << 10

// WindowCap is the size of the window a Decoder decodes into: the 32 KiB
// history and as much room to decode into before it slides.
const WindowCap = 2 * WindowSize

// A match copies at most maxMatch bytes (RFC 1951 §3.2.5), eight at a
// time, writing up to 7 bytes past its end: the decoder leaves outMargin
// bytes of room at the end of the window before decoding a symbol.
const (
	maxMatch  = 258
	outMargin = maxMatch + 8
)

// Decoder states: where the next Next goes on.
const (
	stateBlock   = iota // at a block header
	stateStored         // in a stored block, stored bytes left
	stateHuffman        // in a Huffman-coded block
)

// A Decoder decodes one DEFLATE stream at a time into a window. The zero
// value is ready for Reset. It is not safe for concurrent use.
type Decoder struct {
	in []byte
	i  int    // next byte of in to load into bb
	bb uint64 // loaded bits, the next one lowest
	nb uint   // how many bits of bb are loaded; in the fast loop the bits above may be nonzero
	hw int    // the most bits from in[0] that compress/flate would have asked for: error offsets

	win   []byte // the window, its whole capacity
	o     int    // win[:o] is output (after the history given to Reset)
	start int    // first byte of win not yet returned by Next

	state    int
	final    bool // the current block is the last
	stored   int  // bytes left in the stored block
	slowNext bool // decode the next symbol the careful way (the fast loop found it wrong)
	err      error

	// The current block's codes: tables, their main table's bits, and the
	// shortest code, which flate asks for before each lookup.
	lit              *litTable
	dist             *distTable
	litBits, distBit uint
	litMin, distMin  uint

	litTable     litTable
	distTable    distTable
	precodeTable [precodeTableSize]uint32
	lens         [maxLitSyms + maxDistSyms]uint8
	scratch      symScratch

	// The fast loop's round (see seqMax): each match's position in the
	// window (bits 0-15), length (16-31) and distance (32-47).
	seqs [seqMax]uint64

	// pureGo makes the fast loop decode with decodeRoundGo even where the
	// assembly one is there: the tests compare the two.
	pureGo bool

	// reach is how far back a match may reach without being noted
	// (LimitDistance), WindowSize when there is no limit; farthest is the
	// longest distance past it since Reset. before is how many bytes
	// before the window's start the match that made the stream corrupt
	// reached, 0 for other errors.
	reach, farthest, before int
}

// Reset makes d decode in into win: win[:len(win)] is the output so far
// (the history, whose last 32 KiB matches may refer to; every byte of it
// must be right), and output goes on after it, up to WindowCap bytes:
// cap(win) must be at least that. When the window is full, Next slides its
// last 32 KiB to its start. d uses in and win until the next Reset.
func (d *Decoder) Reset(in, win []byte) {
	if cap(win) < WindowCap || len(win) > WindowCap {
		panic("inflate: window not of WindowCap bytes")
	}
	d.in = in
	d.i, d.bb, d.nb, d.hw = 0, 0, 0, 0
	d.win = win[:WindowCap]
	d.o = len(win)
	d.start = d.o
	d.state = stateBlock
	d.final = false
	d.slowNext = false
	d.err = nil
	d.farthest, d.before = 0, 0
	if d.reach == 0 {
		d.reach = WindowSize // the zero Decoder
	}
}

// LimitDistance has d note matches that reach more than n bytes back, as
// from a sender that agreed to a window smaller than deflate's (RFC 7692
// §7.1.2: server_max_window_bits, client_max_window_bits): they are still
// decoded, as far as the window holds, and Farthest says how far the
// longest reached. n of WindowSize or more, or 0, removes the limit. The
// limit holds until changed. The fast loops hand each such match to the
// careful way, which notes it: one comparison a match where there is none.
func (d *Decoder) LimitDistance(n int) {
	if n <= 0 || n > WindowSize {
		n = WindowSize
	}
	d.reach = n
}

// Farthest returns the longest distance, since Reset, of the matches that
// reached past the limit LimitDistance set; 0 when none did.
func (d *Decoder) Farthest() int { return d.farthest }

// BeforeWindow returns, when Next's error is flate.CorruptInputError
// because a match reached before the window's start (before the history
// given to Reset), how many bytes before its start; otherwise 0.
func (d *Decoder) BeforeWindow() int { return d.before }

// Window returns the window after what Next returned: the history given to
// Reset and the output since, less what slid out. Its last 32 KiB (or all
// of it, when shorter) are the history of the data that follows.
func (d *Decoder) Window() []byte { return d.win[:d.o] }

// Next decodes until the window is full, the stream ends or is found
// corrupt, and returns the output since the last call. It aliases the
// window and is valid until the next call of Next or Reset. The error is
// nil while there is more to decode; io.EOF after the final block (any
// bytes after it are ignored); io.ErrUnexpectedEOF when in ends first;
// flate.CorruptInputError, with the offset compress/flate gives, when the
// data is not valid DEFLATE or refers further back than the window holds.
// Once an error is returned, Next returns it again with no output.
func (d *Decoder) Next() ([]byte, error) {
	if d.err != nil {
		return nil, d.err
	}
	if len(d.win)-d.o < outMargin {
		d.slide()
	}
	d.start = d.o
	for d.err == nil && len(d.win)-d.o >= outMargin {
		switch d.state {
		case stateBlock:
			d.blockHeader()
		case stateStored:
			d.storedData()
		default:
			d.huffman()
		}
	}
	return d.win[d.start:d.o], d.err
}

// slide moves the last 32 KiB of output to the start of the window.
func (d *Decoder) slide() {
	keep := min(d.o, WindowSize)
	copy(d.win, d.win[d.o-keep:d.o])
	d.o = keep
}

// pos is the position of the next bit to consume, in bits from in[0].
func (d *Decoder) pos() int { return d.i*8 - int(d.nb) }

// need makes n bits available in bb, loading bytes one at a time as
// compress/flate does, and records the demand for error offsets. It sets
// io.ErrUnexpectedEOF and returns false when in ends first. The bits above
// nb must be zero (they are in the careful path), so that a lookup with
// fewer bits than a code's length reads zeros, as flate's does.
func (d *Decoder) need(n uint) bool {
	if p := d.pos() + int(n); p > d.hw {
		d.hw = p
	}
	for d.nb < n {
		if d.i >= len(d.in) {
			d.err = io.ErrUnexpectedEOF
			return false
		}
		d.bb |= uint64(d.in[d.i]) << d.nb
		d.i++
		d.nb += 8
	}
	return true
}

// consume drops n bits of bb.
func (d *Decoder) consume(n uint) {
	d.bb >>= n
	d.nb -= n
}

// corrupt ends decoding with the error compress/flate gives at this point:
// its offset counts the bytes flate had read, all it had asked bits of.
func (d *Decoder) corrupt() {
	d.err = flate.CorruptInputError((d.hw + 7) / 8)
}

// endBlock finishes the current block.
func (d *Decoder) endBlock() {
	d.state = stateBlock
	if d.final {
		d.err = io.EOF
	}
}

// blockHeader reads a block header, RFC 1951 §3.2.3.
func (d *Decoder) blockHeader() {
	if !d.need(3) {
		return
	}
	d.final = d.bb&1 != 0
	typ := d.bb >> 1 & 3
	d.consume(3)
	switch typ {
	case 0:
		d.storedHeader()
	case 1:
		// RFC 1951 §3.2.6. flate decodes fixed distances as five plain
		// bits: asking for five, as the fixed table's shortest code does.
		d.lit, d.litBits, d.litMin = &fixedLit, 9, 7
		d.dist, d.distBit, d.distMin = &fixedDist, 5, 5
		d.state = stateHuffman
	case 2:
		if d.dynamicHeader() {
			d.state = stateHuffman
		}
	default:
		d.corrupt() // reserved, RFC 1951 §3.2.3
	}
}

// storedHeader reads the lengths of a stored block, RFC 1951 §3.2.4.
func (d *Decoder) storedHeader() {
	// Skip to the byte boundary; the whole bytes loaded are read again.
	d.i -= int(d.nb / 8)
	d.bb, d.nb = 0, 0
	if len(d.in)-d.i < 4 {
		d.i = len(d.in)
		d.err = io.ErrUnexpectedEOF
		return
	}
	n := binary.LittleEndian.Uint16(d.in[d.i:])
	nn := binary.LittleEndian.Uint16(d.in[d.i+2:])
	d.i += 4
	d.hw = d.i * 8
	if nn != ^n {
		d.corrupt()
		return
	}
	if n == 0 {
		d.endBlock()
		return
	}
	d.stored = int(n)
	d.state = stateStored
}

// storedData copies a stored block's bytes into the window.
func (d *Decoder) storedData() {
	n := copy(d.win[d.o:], d.in[d.i:min(len(d.in), d.i+d.stored)])
	d.o += n
	d.i += n
	d.hw = d.i * 8
	d.stored -= n
	switch {
	case d.stored == 0:
		d.endBlock()
	case d.i == len(d.in):
		d.err = io.ErrUnexpectedEOF
	}
}

// codeOrder is the order of the code length code lengths, RFC 1951 §3.2.7.
var codeOrder = [numPrecode]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamicHeader reads the codes of a dynamic block, RFC 1951 §3.2.7, with
// the checks of compress/flate in its order.
func (d *Decoder) dynamicHeader() bool {
	if !d.need(5 + 5 + 4) {
		return false
	}
	nlit := int(d.bb&0x1f) + 257
	ndist := int(d.bb>>5&0x1f) + 1
	nclen := int(d.bb>>10&0xf) + 4
	if nlit > 286 || ndist > 30 {
		d.corrupt()
		return false
	}
	d.consume(5 + 5 + 4)
	d.scratch.pureGo = d.pureGo
	var clens [numPrecode]uint8
	for k := range nclen {
		if !d.need(3) {
			return false
		}
		clens[codeOrder[k]] = uint8(d.bb & 7)
		d.consume(3)
	}
	pmin, pbits, ok := buildTable(d.precodeTable[:], clens[:], &precodeMeaning, precodeRootBits, 0, badEntry, &d.scratch)
	if !ok {
		d.corrupt()
		return false
	}
	pmask := uint64(1)<<pbits - 1
	lens := d.lens[:nlit+ndist]
	i := d.fastLengths(lens, pmask)
	for i < len(lens) {
		e, ok := d.slowSym(d.precodeTable[:], pmask, pmin)
		if !ok {
			return false
		}
		x := uint8(e >> 16)
		if x < 16 {
			lens[i] = x
			i++
			continue
		}
		var rep int
		var nb uint
		var v uint8
		switch x {
		case 16:
			if i == 0 {
				d.corrupt()
				return false
			}
			rep, nb, v = 3, 2, lens[i-1]
		case 17:
			rep, nb = 3, 3
		default:
			rep, nb = 11, 7
		}
		if !d.need(nb) {
			return false
		}
		rep += int(d.bb & (1<<nb - 1))
		d.consume(nb)
		if i+rep > len(lens) {
			d.corrupt()
			return false
		}
		for range rep {
			lens[i] = v
			i++
		}
	}
	lmin, lbits, ok := buildTable(d.litTable[:], lens[:nlit], &litMeaning, litRootBits, litSub, badEntry, &d.scratch)
	if !ok {
		d.corrupt()
		return false
	}
	dmin, dbits, ok := buildTable(d.distTable[:], lens[nlit:], &distMeaning, distRootBits, distSub, badDistance, &d.scratch)
	if !ok {
		d.corrupt()
		return false
	}
	// flate asks for at least the end of block code's length before each
	// literal/length lookup (every block ends with one).
	d.lit, d.litBits, d.litMin = &d.litTable, lbits, max(lmin, uint(lens[endOfBlock]))
	d.dist, d.distBit, d.distMin = &d.distTable, dbits, dmin
	return true
}

// fastLengths decodes code lengths into lens with the precode table while
// eight bytes of input are left, each code and its extra bits after one
// refill, two lengths at a time where their codes fit in the table's bits
// together (pairCodes), and returns how many it decoded: all but the last
// at most. It stops before a code that is not valid there (no code, a
// repeat of nothing or past the end) without consuming it: the careful
// loop reports it as flate does. On amd64 with BMI2 lengthsAsm decodes
// (unless d.pureGo), elsewhere fastLengthsGo.
func (d *Decoder) fastLengths(lens []uint8, pmask uint64) int {
	pairCodes(&d.scratch.pairs, &d.precodeTable, pmask)
	if haveRoundAsm && !d.pureGo {
		if len(d.in) < 8 {
			return 0
		}
		// Filled field by field in the Decoder: a composite literal was
		// built on the stack and copied 16 bytes at a time, each load
		// waiting for the two 8-byte stores it spans (no store-to-load
		// forwarding).
		var a lengthsArgs
		a.in = &d.in[0]
		a.inEnd = len(d.in) - 8
		a.table = &d.scratch.pairs
		// At most precodeRootBits: the lookups stay inside the table.
		a.pbits = uint(bits.Len64(pmask & (precodeTableSize - 1)))
		a.lens = &lens[0] // at least 258 lengths: nlit+ndist
		a.n = len(lens)
		a.bb, a.nb, a.i, a.k = d.bb, d.nb, d.i, 0
		lengthsAsm(&a)
		d.bb, d.nb, d.i = a.bb, a.nb, a.i
		d.toCareful()
		return a.k
	}
	return d.fastLengthsGo(lens, pmask)
}

// lengthsArgs is what lengthsAsm (lengths_amd64.s) reads (in[:inEnd+8],
// the code length code's pair table and its bits, lens[:n] to decode into
// and the bit reader's state) and writes (the state, and k, how many
// lengths it decoded). lengths_amd64.s has the offsets of its fields.
type lengthsArgs struct {
	in    *byte
	inEnd int
	table *[precodeTableSize]uint32
	pbits uint
	lens  *uint8
	n     int
	bb    uint64
	nb    uint
	i     int
	k     int
}

// fastLengthsGo is fastLengths in Go: lengthsAsm (lengths_amd64.s) is the
// same loop, for the same CPUs as decodeAsm; this one decodes elsewhere
// and is the reference the tests hold it to.
func (d *Decoder) fastLengthsGo(lens []uint8, pmask uint64) int {
	in := d.in
	bb, nb, ii := d.bb, d.nb, d.i
	table := &d.scratch.pairs
	i := 0
	for i+1 < len(lens) && ii+8 <= len(in) {
		bb |= binary.LittleEndian.Uint64(in[ii:]) << (nb & 63)
		ii += int((63 - nb) >> 3)
		nb |= 56
		e := table[bb&pmask&(precodeTableSize-1)]
		if e&plainMask == 0 {
			for {
				// One length, or two (pairFlag); the second byte is 0
				// for one.
				lens[i] = uint8(e >> 16)
				lens[i+1] = uint8(e >> 24)
				i += 1 + int(e>>15&1)
				l := uint(e & 0xff)
				bb >>= l
				nb -= l
				// More lengths without a refill while the bits left hold
				// a code (at most 7 bits); a repeat, with its extra bits,
				// waits for the refill.
				if i+1 >= len(lens) || nb < precodeRootBits {
					break
				}
				e = table[bb&pmask&(precodeTableSize-1)]
				if e&plainMask != 0 {
					break
				}
			}
			continue
		}
		l := uint(e >> 8 & 15)
		if l == 0 {
			break
		}
		var rep int
		var v uint8
		var xb uint
		switch uint8(e >> 16) {
		case 16:
			if i == 0 {
				goto out
			}
			rep, xb, v = 3+int(bb>>l&3), 2, lens[i-1]
		case 17:
			rep, xb = 3+int(bb>>l&7), 3
		default:
			rep, xb = 11+int(bb>>l&0x7f), 7
		}
		if i+rep > len(lens) {
			break
		}
		bb >>= l + xb
		nb -= l + xb
		// Eight at a time while eight are below len(lens) (the bytes
		// written past i+rep are the next lengths'), then one at a time.
		end := i + rep
		for i+8 <= len(lens) {
			binary.LittleEndian.PutUint64(lens[i:], uint64(v)*0x0101010101010101)
			if i += 8; i >= end {
				break
			}
		}
		for ; i < end; i++ {
			lens[i] = v
		}
		i = end
	}
out:
	d.bb, d.nb, d.i = bb, nb, ii
	d.toCareful()
	return i
}

// slowSym decodes one symbol as compress/flate's huffSym does: it asks for
// min bits, looks the code up with the bits it has (zeros after them, which
// gives at most the code's length), asks for that many and looks again
// until the code fits. It consumes the code, not its extra bits, and
// returns its entry; on corrupt input or the end of in it sets the error.
func (d *Decoder) slowSym(table []uint32, mask uint64, min uint) (uint32, bool) {
	n := min
	for {
		if !d.need(n) {
			return 0, false
		}
		e := table[d.bb&mask]
		if e&subFlag != 0 {
			e = table[e>>16&0x3fff+uint32(d.bb>>(e&63))&(1<<(e>>8&15)-1)]
		}
		l := uint(e >> 8 & 15)
		if l == 0 {
			d.corrupt()
			return 0, false
		}
		if l <= d.nb {
			// flate has read this far too: the bits were loaded before,
			// or it reads them now. (This Decoder may have loaded more.)
			if p := d.pos() + int(l); p > d.hw {
				d.hw = p
			}
			d.consume(l)
			return e, true
		}
		n = l
	}
}

// huffman decodes the symbols of a Huffman-coded block, RFC 1951 §3.2.5,
// the fast way while at least eight bytes of input and outMargin bytes of
// window are left, the careful way after.
func (d *Decoder) huffman() {
	for d.err == nil && d.state == stateHuffman && len(d.win)-d.o >= outMargin {
		if !d.slowNext && d.i+8 <= len(d.in) {
			d.fast()
			continue
		}
		d.slowNext = false
		d.slowSymbol()
	}
}

// slowSymbol decodes one literal, match or end of block the careful way:
// bit by bit as compress/flate does, with its checks, in its order.
func (d *Decoder) slowSymbol() {
	e, ok := d.slowSym(d.lit[:], 1<<d.litBits-1, d.litMin)
	if !ok {
		return
	}
	if e&litFlag != 0 {
		d.win[d.o] = byte(e >> 16)
		d.o++
		return
	}
	if e&eobFlag != 0 {
		d.endBlock()
		return
	}
	if e&badFlag != 0 {
		d.corrupt() // symbol 286 or 287
		return
	}
	length := int(e >> 16 & 0xfff)
	if n := uint(e&0xff) - uint(e>>8&15); n > 0 {
		if !d.need(n) {
			return
		}
		length += int(d.bb & (1<<n - 1))
		d.consume(n)
	}
	de, ok := d.slowSym(d.dist[:], 1<<d.distBit-1, d.distMin)
	if !ok {
		return
	}
	if de&badFlag != 0 {
		d.corrupt() // distance symbol 30 or 31
		return
	}
	dist := int(de >> 16)
	if n := uint(de&0xff) - uint(de>>8&15); n > 0 {
		if !d.need(n) {
			return
		}
		dist += int(d.bb & (1<<n - 1))
		d.consume(n)
	}
	if dist > d.o {
		// Before the window's start: before the stream's, or before the
		// history the caller knows.
		d.corrupt()
		d.before = dist - d.o
		return
	}
	if dist > d.reach {
		d.farthest = max(d.farthest, dist)
	}
	copyMatch(d.win, d.o, dist, length)
	d.o += length
}

// copyMatch copies length bytes from dist bytes back to win[o:], eight at
// a time where the distance allows, writing up to 7 bytes past the end.
func copyMatch(win []byte, o, dist, length int) {
	src := o - dist
	switch {
	case dist >= 8:
		for k := 0; k < length; k += 8 {
			binary.LittleEndian.PutUint64(win[o+k:], binary.LittleEndian.Uint64(win[src+k:]))
		}
	case dist == 1:
		v := uint64(win[src]) * 0x0101010101010101
		for k := 0; k < length; k += 8 {
			binary.LittleEndian.PutUint64(win[o+k:], v)
		}
	default:
		for k := range length {
			win[o+k] = win[src+k]
		}
	}
}

// The fast loop decodes in rounds of two passes. The first decodes up to
// seqMax matches, writing the literals between them into the window and
// noting each match in the Decoder's seqs; it asks the CPU to fetch each
// match's first byte (prefetch; on amd64, where the loop is in assembly,
// for every match: those from this message are in the caches already, but
// a branch to skip them cost more than the prefetch). The second pass
// copies the matches. With context
// takeover a match mostly reaches into the direction's earlier messages
// (on the compressed bench capture, of the bytes matched from before the
// message, 80% lie 4-32 KiB back), and with hundreds of connections
// decoding in turn their windows are no longer in the caches: copying
// each match as it was decoded waited for memory once per match, one wait
// after the other (the load of the copy took two thirds of the fast loop's
// time in a profile), while this way the fetches of a round are in flight
// together during the decoding of the symbols after them. A plain load in
// the first pass instead of the prefetch does not help: the CPU retires
// instructions in order, so a load that misses holds up all that follow
// it. On the 200-connection compressed capture it takes 15-20% off the
// CPU time of a decode with one worker, for 15% more instructions; with
// a few connections whose windows stay in the caches it costs about what
// it saves.
const seqMax = 32 // matches per round

// fast decodes symbols while at least eight bytes of input and outMargin
// bytes of window are left: the bit buffer is refilled eight bytes at a
// time to at least 56 bits, enough for a literal/length code with its
// extra bits and a distance code with its extra bits (48), so each symbol
// is looked up and consumed without checking for more bits. It stops at
// the end of the block and, when a symbol is not what a valid stream
// holds, goes back to its start for slowSymbol to report it as flate does.
func (d *Decoder) fast() {
	for {
		var stop, back int
		if haveRoundAsm && !d.pureGo {
			stop, back = d.decodeRounds()
		} else {
			var ns int
			ns, stop, back = d.decodeRoundGo()
			d.copyRoundGo(ns)
		}
		switch stop {
		case stopEOB:
			d.toCareful()
			d.endBlock()
			return
		case stopBadSymbol:
			d.toCareful()
			d.slowNext = true
			return
		case stopBadDistance:
			// Go back to the length's code: slowSymbol says what is wrong.
			d.seek(d.pos() - back)
			d.slowNext = true
			return
		}
		if d.i > len(d.in)-8 || d.o > WindowCap-outMargin {
			d.toCareful()
			return
		}
	}
}

// Why a round stopped.
const (
	stopFull        = iota // seqMax matches (decodeRoundGo), or the end of the fast loop's input or window
	stopEOB                // consumed
	stopBadSymbol          // not consumed
	stopBadDistance        // a match past the window's start or the limit (LimitDistance); the length and distance codes are consumed
	stopBadTable           // decodeAsm: a subtable entry out of its table (a bug)
	stopBadMatch           // decodeAsm: a match to copy outside the window (a bug)
)

// decodeRounds decodes rounds of the fast loop with decodeAsm, the
// assembly loop (round_amd64.s), until one stops for another reason than
// its seqMax matches: the end of the block, a symbol that is not valid
// there, or the end of the input or window the fast loop may use. Each
// round is decodeRoundGo's first pass, which also prefetches the source of
// every match, and copyRoundGo's second. It returns
// why it stopped and, for stopBadDistance, how many bits the length and
// distance codes took, as decodeRoundGo does.
func (d *Decoder) decodeRounds() (stop, back int) {
	// Filled field by field in the Decoder, not as a composite literal:
	// Go built that on the stack and copied it 16 bytes at a time, each
	// load waiting for the two 8-byte stores it spans (no store-to-load
	// forwarding): 0.5-0.8% of a compressed decode's CPU samples.
	var r roundArgs
	r.in = &d.in[0] // fast runs only while 8 bytes of in are left
	r.inEnd = len(d.in) - 8
	r.w = (*[WindowCap]byte)(d.win)
	r.lit, r.dist = d.lit, d.dist
	// At most the main tables' largest: the lookups stay inside the
	// tables.
	r.litBits = min(d.litBits, litRootBits)
	r.distBits = min(d.distBit, distRootBits)
	r.bb, r.nb, r.i, r.o = d.bb, d.nb, d.i, d.o
	r.reach = d.reach
	decodeAsm(&r) // sets stop and back
	switch r.stop {
	case stopBadTable:
		panic("inflate: a subtable entry points out of its table")
	case stopBadMatch:
		panic("inflate: match outside the window")
	}
	d.bb, d.nb, d.i, d.o = r.bb, r.nb, r.i, r.o
	return r.stop, r.back
}

// roundArgs is what decodeAsm reads (in[:inEnd+8], the window, the tables
// and the bits of their main tables, at most the largest, the bit
// reader's and the output's state, and the limit on distances) and writes (the state, why it
// stopped and back, as decodeRounds returns them). round_amd64.s has the
// offsets of its fields.
type roundArgs struct {
	in       *byte
	inEnd    int
	w        *[WindowCap]byte
	lit      *litTable
	dist     *distTable
	litBits  uint
	distBits uint
	bb       uint64
	nb       uint
	i        int
	o        int
	stop     int
	back     int
	reach    int
}

// decodeRoundGo is the fast loop's first pass: it decodes symbols, writes
// the literals into the window and notes the matches in d.seqs, at most
// seqMax, moving d.o past them as if they were copied. It returns how many
// matches it noted, why it stopped, and for stopBadDistance how many bits
// the length and distance codes took. decodeAsm (round_amd64.s) is the
// same loop with the second pass after each round and a prefetch of each
// match's source; decodeRoundGo decodes on the
// other architectures, with the purego tag and on CPUs without BMI2, and
// is the reference the tests hold the assembly to.
func (d *Decoder) decodeRoundGo() (ns, stop, back int) {
	in := d.in
	w := (*[WindowCap]byte)(d.win)
	// Slices of the tables (of constant length), so that their nil check
	// is made once, not at each lookup.
	lit, dist, seqs := d.lit[:], d.dist[:], &d.seqs
	bb, nb, i, o := d.bb, d.nb, d.i, d.o
	reach := d.reach
	// The masks are at most the main tables' largest: indexing with them
	// needs no bounds check.
	litMask := (uint64(1)<<d.litBits - 1) & (1<<litRootBits - 1)
	distMask := (uint64(1)<<d.distBit - 1) & (1<<distRootBits - 1)
	inEnd := len(in) - 8
	for i <= inEnd && o <= WindowCap-outMargin {
		bb |= binary.LittleEndian.Uint64(in[i:]) << (nb & 63)
		i += int((63 - nb) >> 3)
		nb |= 56

		e := lit[bb&litMask]
		if e&subFlag != 0 {
			e = lit[e>>16&0xfff+uint32(bb>>(e&63))&(1<<(e>>8&15)-1)]
		}
		if e&litFlag != 0 {
			bb >>= e & 63
			nb -= uint(e & 0xff)
			w[o&(WindowCap-1)] = byte(e >> 16)
			o++
			// Two more literals fit in the bits left (56 - 3×15 > 0).
			e = lit[bb&litMask]
			if e&litFlag == 0 {
				continue
			}
			bb >>= e & 63
			nb -= uint(e & 0xff)
			w[o&(WindowCap-1)] = byte(e >> 16)
			o++
			e = lit[bb&litMask]
			if e&litFlag == 0 {
				continue
			}
			bb >>= e & 63
			nb -= uint(e & 0xff)
			w[o&(WindowCap-1)] = byte(e >> 16)
			o++
			continue
		}
		if e&excFlag != 0 {
			if e&eobFlag != 0 {
				bb >>= e & 63
				nb -= uint(e & 0xff)
				stop = stopEOB
			} else {
				stop = stopBadSymbol
			}
			break
		}
		saved := bb
		bb >>= e & 63
		nb -= uint(e & 0xff)
		length := int(e>>16&0xfff) + int(saved&(1<<(e&63)-1)>>(e>>8&15))

		de := dist[bb&distMask]
		if de&subFlag != 0 {
			de = dist[de>>16+uint32(bb>>(de&63))&(1<<(de>>8&15)-1)]
		}
		saved = bb
		bb >>= de & 63
		nb -= uint(de & 0xff)
		dst := int(de>>16) + int(saved&(1<<(de&63)-1)>>(de>>8&15))
		// Past the window's start, or past the limit (never without
		// one): the careful way reports the first, notes the second.
		if de&badFlag != 0 || dst > o || dst > reach {
			stop, back = stopBadDistance, int(e&0xff)+int(de&0xff)
			break
		}
		seqs[ns&(seqMax-1)] = uint64(o) | uint64(length)<<16 | uint64(dst)<<32
		o += length
		ns++
		if ns == seqMax {
			break
		}
	}
	d.bb, d.nb, d.i, d.o = bb, nb, i, o
	return ns, stop, back
}

// copyRoundGo is the fast loop's second pass: it copies the ns matches
// decodeRoundGo noted, in order. Where the distance is at least eight bytes
// a match is copied eight bytes at a time, its last word running up to 7
// bytes past its end (libdeflate's overrun), and the eight bytes after its
// end, read before the copy, are written back after it: they hold the
// literals that follow the match, already written by the first pass, or
// output still to come. A match ends at most WindowCap-8 bytes into the
// window (a round starts a symbol only with outMargin bytes left), so
// that word is inside the window. decodeAsm copies its rounds the same way,
// but a match of at most 16 bytes as two words whatever its length, with
// the 16 bytes after its end put back: no branch on the length.
func (d *Decoder) copyRoundGo(ns int) {
	w := (*[WindowCap]byte)(d.win)
	for k := range ns {
		sq := d.seqs[k&(seqMax-1)]
		p, length, dst := int(sq&0xffff), int(sq>>16&0x1ff), int(sq>>32&0xffff)
		end := p + length
		if dst > p || end > WindowCap-8 {
			panic("inflate: match outside the window") // decodeRoundGo checked both
		}
		src := p - dst
		if dst >= 8 {
			after := binary.LittleEndian.Uint64(w[end:])
			for ; p < end; p, src = p+8, src+8 {
				binary.LittleEndian.PutUint64(w[p:p+8], binary.LittleEndian.Uint64(w[src:src+8]))
			}
			binary.LittleEndian.PutUint64(w[end:], after)
			continue
		}
		for ; p < end; p, src = p+1, src+1 {
			w[p] = w[src]
		}
	}
}

// toCareful clears the bits above nb that the fast loop loaded, and records
// the position: flate has asked for no bit after it (its reads beyond the
// last code ended with that code, or matter only for errors within the next
// one, which slowSymbol records again).
func (d *Decoder) toCareful() {
	d.bb &= 1<<(d.nb&63) - 1
	if d.nb >= 64 {
		// Cannot be: the fast loop keeps at most 63 bits.
		d.bb = 0
	}
	if p := d.pos(); p > d.hw {
		d.hw = p
	}
}

// seek moves the bit reader to bit p of in, the careful way.
func (d *Decoder) seek(p int) {
	d.i = p >> 3
	d.bb, d.nb = 0, 0
	if r := uint(p & 7); r != 0 {
		d.bb = uint64(d.in[d.i]) >> r
		d.nb = 8 - r
		d.i++
	}
	if p > d.hw {
		d.hw = p
	}
}
