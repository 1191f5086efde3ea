package capture

import (
	"io"
	"time"
)

// ngClock turns an interface's pcapng timestamps into times: if_tsresol and
// if_tsoffset (draft-ietf-opsawg-pcapng §4.2).
//
// The arithmetic is pcapgo's (gopacket v1.1.19), which read pcapng for wsviz
// before and is the oracle of the tests, so that every timestamp stays what
// wsviz showed: units per second in a uint64, nanoseconds as the remainder
// times 10^9/units or divided by units/10^9, both in integers. For a binary
// resolution 10^9/2^e is truncated (2^-20 s counts as 953 ns, not 953.67),
// a few hundred nanoseconds off at most; no capture tool writes binary
// resolutions finer than 2^-9 s in practice.
type ngClock struct {
	resol  byte   // if_tsresol as read, 0 when absent
	offset uint64 // if_tsoffset in seconds, added to every timestamp

	units     uint64 // timestamp units per second
	scaleUp   uint64 // nanoseconds = (ts % units) * scaleUp / scaleDown
	scaleDown uint64
}

// init computes the scale from resol and returns the clock.
func (c ngClock) init() ngClock {
	resol := c.resol
	if resol == 0 {
		// Absent, and 10^0 too, as pcapgo reads it: microseconds, the
		// default of §4.2.
		resol = 6
	}
	e := resol &^ ngTSResolBinary
	if resol&ngTSResolBinary != 0 {
		c.units = 1 << e
	} else {
		c.units = 1
		for range e {
			c.units *= 10
		}
	}
	c.scaleUp, c.scaleDown = 1, 1
	if c.units < 1e9 {
		c.scaleUp = 1e9 / c.units
	} else {
		c.scaleDown = c.units / 1e9
	}
	return c
}

// time converts a timestamp of the interface to UTC.
func (c *ngClock) time(ts uint64) time.Time {
	return time.Unix(int64(ts/c.units+c.offset), int64(ts%c.units*c.scaleUp/c.scaleDown)).UTC()
}

// pcapng packet block layouts: the packet data's offset in the block.
const (
	ngEPBDataOff = 28 // §4.3: type, length, interface, timestamp (2), captured and original length
	ngSPBDataOff = 12 // §4.4: type, length, original length
)

// firstNgBlock checks the section header block that opens a pcapng file.
func (r *recordReader) firstNgBlock() error {
	if err := r.nextBlock(); err != nil {
		r.err = err
		return err
	}
	return nil
}

// nextNgPacket walks the pcapng blocks after the current one (interface
// descriptions, statistics, decryption secrets, sections, and blocks of
// other types, which are skipped) to the next packet block: an enhanced,
// simple or (obsolete) packet block. It fills in p's timestamp, link type,
// data, length and interface; p.Data aliases the read buffer until the next
// call. It returns io.EOF at the end of the file, after a whole block.
func (r *recordReader) nextNgPacket(p *Packet) error {
	if r.err != nil {
		return r.err
	}
	for {
		if err := r.skipBlock(); err != nil {
			r.err = err
			return err
		}
		r.off += r.size
		r.size, r.pos = 0, 0
		r.trailerChecked = false
		if err := r.nextBlock(); err != nil {
			r.err = err
			return err
		}
		switch r.typ {
		case ngBlockEPB, ngBlockPB, ngBlockSPB:
			if err := r.ngPacket(p); err != nil {
				r.err = err
				return err
			}
			return nil
		}
	}
}

// ngPacket reads the packet of the current block, a packet block whose
// header nextBlock checked.
func (r *recordReader) ngPacket(p *Packet) error {
	dataOff := int64(ngEPBDataOff)
	if r.typ == ngBlockSPB {
		dataOff = ngSPBDataOff
	}
	end := dataOff + int64(r.caplen) // at most MaxCaptureLength + 28
	var b, data []byte
	if r.trailerChecked || r.size <= int64(r.src.Size()) {
		// The whole block fits in the read buffer: check its trailer
		// before handing out its packet (nextBlock did if it was short).
		var err error
		if b, err = r.peek(int(r.size), false); err != nil {
			return err
		}
		if !r.trailerChecked {
			if err := r.checkTrailer(b[r.size-4:]); err != nil {
				return err
			}
			r.trailerChecked = true
		}
		data = b[dataOff:end:end]
	} else {
		// Options longer than the read buffer (about a megabyte): copy
		// the block's header and packet out, then walk the rest of the
		// block to its trailer, which refills the read buffer.
		peeked, err := r.peek(int(end), false)
		if err != nil {
			return err
		}
		r.big = append(r.big[:0], peeked...)
		b = r.big
		data = b[dataOff:end:end]
		r.src.Discard(int(end)) // peeked: cannot fall short
		r.pos = end
		if err := r.skipBlock(); err != nil {
			return err
		}
	}
	i := r.sectionBase
	switch r.typ {
	case ngBlockSPB:
		// §4.4: no timestamp; the first interface of the section.
		*p = Packet{LinkType: r.ifaces[i].LinkType, Data: data, Length: int(r.u32(b[8:])), Interface: i}
		return nil
	case ngBlockEPB:
		i += int(r.u32(b[8:]))
	case ngBlockPB:
		i += int(r.u16(b[8:]))
	}
	// nextBlock checked the interface against the section's.
	ts := uint64(r.u32(b[12:]))<<32 | uint64(r.u32(b[16:]))
	// Field by field, as readPcap does (a literal is copied into *p with
	// loads that stall on the stores before them).
	p.Timestamp = r.ngClocks[i].time(ts)
	p.LinkType = r.ifaces[i].LinkType
	p.Data = data
	p.Length = int(r.u32(b[24:]))
	p.Interface = i
	return nil
}

// skipBlock consumes what is left of the current block, checking its
// trailing length on the way when nextBlock could not (a block longer than
// bufSize) and handing a Decryption Secrets Block to collectSecrets.
func (r *recordReader) skipBlock() error {
	for r.pos < r.size {
		n := r.size - r.pos
		if !r.trailerChecked {
			if trailerPos := r.size - 4; r.pos < trailerPos {
				n = trailerPos - r.pos
			} else {
				b, err := r.peek(4, false)
				if err != nil {
					return err
				}
				if err := r.checkTrailer(b); err != nil {
					return err
				}
				r.trailerChecked = true
			}
		}
		if r.secrets != nil {
			// Collected through the read buffer, a bufSize at a time.
			b, err := r.peek(int(min(n, bufSize)), false)
			if err != nil {
				return err
			}
			r.pos += int64(len(b))
			if err := r.collectSecrets(b); err != nil {
				return err
			}
			r.src.Discard(len(b)) // peeked: cannot fall short
			continue
		}
		d, err := r.src.Discard(int(n))
		r.pos += int64(d)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // the block promised more
			}
			return r.errorf(err)
		}
	}
	return nil
}
