package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// pcap layout (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html).
const (
	pcapFileHeaderLen   = 24 // §4: magic, version, reserved, snaplen, link type
	pcapRecordHeaderLen = 16 // §5: seconds, fraction, captured length, original length
	pcapVersionMajor    = 2
	pcapVersionMinor    = 4
	pcapLinkTypeMask    = 0xffff // §4: the upper bits carry FCS information
)

// pcapng layout (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html).
const (
	ngBlockSHB = 0x0a0d0d0a // §4.1 Section Header Block
	ngBlockIDB = 1          // §4.2 Interface Description Block
	ngBlockPB  = 2          // Appendix A Packet Block (obsolete)
	ngBlockSPB = 3          // §4.4 Simple Packet Block
	ngBlockISB = 5          // §4.6 Interface Statistics Block
	ngBlockEPB = 6          // §4.3 Enhanced Packet Block

	ngByteOrderMagic        = 0x1a2b3c4d // §4.1
	ngByteOrderMagicSwapped = 0x4d3c2b1a // the same written in the other byte order
	ngVersionMajor          = 1
	ngVersionMinor          = 0

	ngMinBlockLen = 12 // §3.1: type, length, trailing length
	ngMinSHBLen   = 28 // + byte-order magic, version, section length
	ngMinIDBLen   = 20 // + link type, reserved, snaplen
	ngMinSPBLen   = 16 // + original length
	ngMinISBLen   = 24 // + interface, timestamp
	ngMinEPBLen   = 32 // + interface, timestamp, captured and original length

	ngSHBOptionsOff = 24
	ngIDBOptionsOff = 16
	ngISBOptionsOff = 20
	ngIDBSnaplenOff = 12

	ngOptEndOfOpt = 0  // §3.5: opt_endofopt, must have length 0
	ngOptIfName   = 2  // §4.2: if_name
	ngOptTSResol  = 9  // §4.2: if_tsresol, 1 byte
	ngOptTSOffset = 14 // §4.2: if_tsoffset, 8 bytes

	// if_tsresol: the top bit says the exponent is of 2, not of 10.
	ngTSResolBinary = 0x80
	// Timestamps are divided by 10^e or 2^e held in a uint64 (ngClock):
	// larger exponents overflow it.
	ngMaxDecimalExponent = 19
	ngMaxBinaryExponent  = 63
)

// recordReader walks the records of a capture file (pcap records, pcapng
// blocks), checking each record's header before any of it is used, and
// reads the packets out of them (nextPcapRecord, nextNgPacket in
// pcapng.go). A record is consumed from src only when the walker moves
// past it, so a packet's data can alias the read buffer.
type recordReader struct {
	src       *bufio.Reader
	ng        bool // pcapng, else pcap
	bigEndian bool
	nano      bool // pcap: nanosecond timestamps, else microseconds

	off  int64 // offset of the current record
	size int64 // length of the current record
	pos  int64 // bytes of the current record handed on
	err  error // sticky; io.EOF at a clean end

	// pcapng: the current block's type, and for a packet block its
	// captured length (checked by nextBlock).
	typ    uint32
	caplen uint32
	// trailerChecked is set once a pcapng block's trailing length has
	// been compared with its leading one.
	trailerChecked bool

	// pcap: the read buffer's bytes as last peeked, and the offset in it
	// of the next record (see window).
	win  []byte
	wpos int

	ifaces      []Interface
	sectionBase int       // index in ifaces of the current pcapng section's first interface
	ngSnaplen   []uint32  // each of ifaces' snaplen, at most MaxCaptureLength (pcapng)
	ngClocks    []ngClock // each of ifaces' timestamp resolution and offset (pcapng)
	big         []byte    // header and packet of a block longer than the read buffer

	onSecrets func(*Secrets) error // see File.OnSecrets (secrets.go)
	secrets   *secretsBlock        // a Decryption Secrets Block being collected
}

// errorf reports a problem with the current record.
func (r *recordReader) errorf(err error) error {
	return &FormatError{Offset: r.off, Err: err}
}

// peek returns the next n bytes (n ≤ bufSize) without consuming them: the
// start of the current record, or in mid-record its trailer. A file that
// ends before them is a truncated record, or io.EOF when it ends right at
// the record boundary and atStart is set.
func (r *recordReader) peek(n int, atStart bool) ([]byte, error) {
	b, err := r.src.Peek(n)
	if err == nil {
		return b, nil
	}
	if err == io.EOF {
		if len(b) == 0 && atStart {
			return nil, io.EOF
		}
		err = io.ErrUnexpectedEOF
	}
	return nil, r.errorf(err)
}

func (r *recordReader) u16(b []byte) uint16 {
	if r.bigEndian {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *recordReader) u32(b []byte) uint32 {
	if r.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *recordReader) u64(b []byte) uint64 {
	if r.bigEndian {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

func leUint32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func beUint32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// pcapFileHeader checks the pcap file header. The records after it are
// read by nextPcapRecord.
func (r *recordReader) pcapFileHeader() error {
	h, err := r.peek(pcapFileHeaderLen, false)
	if err != nil {
		return err
	}
	switch beUint32(h) {
	case pcapMagicMicro, pcapMagicNano:
		r.bigEndian = true
	}
	r.nano = r.u32(h) == pcapMagicNano
	major, minor := r.u16(h[4:]), r.u16(h[6:])
	if major != pcapVersionMajor || minor != pcapVersionMinor {
		return r.errorf(fmt.Errorf("pcap file header: unsupported version %d.%d", major, minor))
	}
	snaplen := r.u32(h[16:])
	link := r.u32(h[20:]) & pcapLinkTypeMask
	r.ifaces = append(r.ifaces, Interface{
		LinkType:       linkTypeFromNumber(link),
		LinkTypeNumber: link,
		Snaplen:        snaplen,
	})
	r.size = pcapFileHeaderLen
	r.wpos = pcapFileHeaderLen // consumed with the first record's window
	return nil
}

// nextPcapRecord moves to the next pcap record, checks it and returns it
// whole, header and packet. The slice aliases the read buffer and is valid
// until the next call.
func (r *recordReader) nextPcapRecord() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	r.off += r.size
	r.size = 0
	h, err := r.window(pcapRecordHeaderLen, true)
	if err != nil {
		r.err = err
		return nil, err
	}
	caplen, origlen := r.u32(h[8:]), r.u32(h[12:])
	switch {
	case caplen > MaxCaptureLength:
		err = r.errorf(fmt.Errorf("captured length %d exceeds the limit of %d bytes", caplen, MaxCaptureLength))
	case caplen > origlen:
		err = r.errorf(fmt.Errorf("captured length %d exceeds the packet length %d", caplen, origlen))
	}
	if err != nil {
		r.err = err
		return nil, err
	}
	size := pcapRecordHeaderLen + int(caplen)
	b, err := r.window(size, false)
	if err != nil {
		r.err = err
		return nil, err
	}
	r.size = int64(size)
	r.wpos += size
	return b[:size:size], nil
}

// window returns the next n bytes of the file after the records handed
// out (at wpos in win), from the read buffer. win holds what the buffer
// held when it was last filled: records are sliced out of it one after
// the other, and only when it runs short are the records before handed
// back to the buffer (Discard) and the buffer refilled, once per buffer
// rather than once per record. A file that ends before the n bytes is a
// truncated record, or io.EOF when it ends right at the record boundary
// and atStart is set.
func (r *recordReader) window(n int, atStart bool) ([]byte, error) {
	if len(r.win)-r.wpos >= n {
		return r.win[r.wpos : r.wpos+n], nil
	}
	// The bytes before wpos were peeked: Discard cannot fall short.
	r.src.Discard(r.wpos)
	r.win, r.wpos = nil, 0
	b, err := r.src.Peek(n)
	switch {
	case err == nil:
		r.win, _ = r.src.Peek(r.src.Buffered())
		return b, nil
	case err == io.EOF && len(b) == 0 && atStart:
		return nil, io.EOF
	case err == io.EOF, err == bufio.ErrBufferFull:
		// A record is at most MaxCaptureLength plus its header,
		// which the read buffer holds unless it is longer than the
		// file (see readBufferSize): then the record is cut short.
		err = io.ErrUnexpectedEOF
	}
	return nil, r.errorf(err)
}

// nextBlock checks the next pcapng block header (§3.1) and, for the blocks
// whose fields are used (section headers, interface descriptions and
// statistics), the whole block; for a packet block it sets caplen.
func (r *recordReader) nextBlock() error {
	h, err := r.peek(8, true)
	if err != nil {
		return err
	}
	typ := r.u32(h)
	r.typ = typ
	if typ == ngBlockSHB {
		// §4.1: the byte order of the section, and of this block's
		// length, comes from the magic after the length.
		if h, err = r.peek(12, false); err != nil {
			return err
		}
		switch leUint32(h[8:]) {
		case ngByteOrderMagic:
			r.bigEndian = false
		case ngByteOrderMagicSwapped:
			r.bigEndian = true
		default:
			return r.errorf(fmt.Errorf("section header block: bad byte-order magic %#08x", beUint32(h[8:])))
		}
	}
	length := r.u32(h[4:])
	if length < ngMinBlockLen || length%4 != 0 {
		return r.errorf(fmt.Errorf("block type %#x: bad length %d", typ, length))
	}
	r.size = int64(length)
	// These blocks' fields are used: check them whole.
	whole := typ == ngBlockSHB || typ == ngBlockIDB || typ == ngBlockISB
	if whole && r.size > bufSize {
		return r.errorf(fmt.Errorf("%s: length %d exceeds %d", ngBlockName(typ), length, bufSize))
	}
	b, err := r.peek(int(min(r.size, bufSize)), false)
	if err != nil {
		return err
	}
	if r.size <= bufSize {
		if err := r.checkTrailer(b[len(b)-4:]); err != nil {
			return err
		}
		r.trailerChecked = true
	}
	minLen := func(name string, n uint32) error {
		if length < n {
			return r.errorf(fmt.Errorf("%s: length %d is less than %d", name, length, n))
		}
		return nil
	}
	sectionIfaces := uint32(len(r.ifaces) - r.sectionBase)
	switch typ {
	case ngBlockSHB:
		if err := minLen("section header block", ngMinSHBLen); err != nil {
			return err
		}
		major, minor := r.u16(b[12:]), r.u16(b[14:])
		if major != ngVersionMajor || minor != ngVersionMinor {
			return r.errorf(fmt.Errorf("section header block: unsupported version %d.%d", major, minor))
		}
		if err := r.checkOptions("section header block", b[ngSHBOptionsOff:length-4], nil, nil); err != nil {
			return err
		}
		r.sectionBase = len(r.ifaces)
	case ngBlockIDB:
		if err := minLen("interface description block", ngMinIDBLen); err != nil {
			return err
		}
		link := uint32(r.u16(b[8:]))
		iface := Interface{LinkType: linkTypeFromNumber(link), LinkTypeNumber: link, Snaplen: r.u32(b[ngIDBSnaplenOff:])}
		var clock ngClock
		if err := r.checkOptions("interface description block", b[ngIDBOptionsOff:length-4], &iface, &clock); err != nil {
			return err
		}
		// A simple packet block's captured length is cut to the
		// snaplen, bounded here as it was when pcapgo read the blocks
		// (so that it allocated no more). Interfaces keeps the real one.
		r.ifaces = append(r.ifaces, iface)
		r.ngSnaplen = append(r.ngSnaplen, min(iface.Snaplen, MaxCaptureLength))
		r.ngClocks = append(r.ngClocks, clock.init())
	case ngBlockEPB, ngBlockPB:
		name := ngBlockName(typ)
		iface := r.u32(b[8:])
		if typ == ngBlockPB {
			iface = uint32(r.u16(b[8:]))
		}
		if err := minLen(name, ngMinEPBLen); err != nil {
			return err
		}
		if iface >= sectionIfaces {
			return r.errorf(fmt.Errorf("%s: interface %d not described (the section has %d)", name, iface, sectionIfaces))
		}
		caplen := r.u32(b[20:])
		if caplen > MaxCaptureLength {
			return r.errorf(fmt.Errorf("%s: captured length %d exceeds the limit of %d bytes", name, caplen, MaxCaptureLength))
		}
		if caplen > length-ngMinEPBLen {
			return r.errorf(fmt.Errorf("%s: captured length %d exceeds the block length %d", name, caplen, length))
		}
		r.caplen = caplen
	case ngBlockSPB:
		if err := minLen("simple packet block", ngMinSPBLen); err != nil {
			return err
		}
		if sectionIfaces == 0 {
			return r.errorf(errors.New("simple packet block: no interface described"))
		}
		// §4.4: the captured length is the original length cut to the
		// first interface's snaplen.
		caplen := r.u32(b[8:])
		if snap := r.ngSnaplen[r.sectionBase]; snap != 0 && caplen > snap {
			caplen = snap
		}
		if caplen > MaxCaptureLength {
			return r.errorf(fmt.Errorf("simple packet block: captured length %d exceeds the limit of %d bytes", caplen, MaxCaptureLength))
		}
		if caplen > length-ngMinSPBLen {
			return r.errorf(fmt.Errorf("simple packet block: captured length %d exceeds the block length %d", caplen, length))
		}
		r.caplen = caplen
	case ngBlockDSB:
		if err := r.startSecrets(length); err != nil {
			return err
		}
	case ngBlockISB:
		if err := minLen("interface statistics block", ngMinISBLen); err != nil {
			return err
		}
		if iface := r.u32(b[8:]); iface >= sectionIfaces {
			return r.errorf(fmt.Errorf("interface statistics block: interface %d not described (the section has %d)", iface, sectionIfaces))
		}
		if err := r.checkOptions("interface statistics block", b[ngISBOptionsOff:length-4], nil, nil); err != nil {
			return err
		}
	}
	return nil
}

func ngBlockName(typ uint32) string {
	switch typ {
	case ngBlockSHB:
		return "section header block"
	case ngBlockIDB:
		return "interface description block"
	case ngBlockPB:
		return "packet block"
	case ngBlockSPB:
		return "simple packet block"
	case ngBlockISB:
		return "interface statistics block"
	case ngBlockEPB:
		return "enhanced packet block"
	case ngBlockDSB:
		return "decryption secrets block"
	}
	return fmt.Sprintf("block type %#x", typ)
}

// checkTrailer compares a block's trailing length (§3.1) with its leading
// one.
func (r *recordReader) checkTrailer(b []byte) error {
	if end := r.u32(b); int64(end) != r.size {
		return r.errorf(fmt.Errorf("block length %d at the start but %d at the end", r.size, end))
	}
	return nil
}

// checkOptions checks the layout of a block's options (§3.5): each option
// fits in the block, opt_endofopt has length 0, and the interface options
// used have their fixed sizes and sane values. For an interface description
// block it fills in iface.Name and the clock's if_tsresol and if_tsoffset
// (the last of each, when an option is repeated).
func (r *recordReader) checkOptions(block string, opts []byte, iface *Interface, clock *ngClock) error {
	for len(opts) > 0 {
		if len(opts) < 4 {
			return r.errorf(fmt.Errorf("%s: option header cut short", block))
		}
		code, n := r.u16(opts), int(r.u16(opts[2:]))
		opts = opts[4:]
		if code == ngOptEndOfOpt {
			if n != 0 {
				return r.errorf(fmt.Errorf("%s: end of options with length %d", block, n))
			}
			return nil
		}
		padded := (n + 3) &^ 3
		if padded > len(opts) {
			return r.errorf(fmt.Errorf("%s: option %d of length %d overruns the block", block, code, n))
		}
		value := opts[:n]
		opts = opts[padded:]
		if iface == nil {
			continue
		}
		switch code {
		case ngOptIfName:
			iface.Name = string(value)
		case ngOptTSResol:
			if n != 1 {
				return r.errorf(fmt.Errorf("%s: if_tsresol of length %d, want 1", block, n))
			}
			e, limit := value[0], byte(ngMaxDecimalExponent)
			if e&ngTSResolBinary != 0 {
				e, limit = e&^ngTSResolBinary, ngMaxBinaryExponent
			}
			if e > limit {
				return r.errorf(fmt.Errorf("%s: unsupported if_tsresol %#x", block, value[0]))
			}
			clock.resol = value[0]
		case ngOptTSOffset:
			if n != 8 {
				return r.errorf(fmt.Errorf("%s: if_tsoffset of length %d, want 8", block, n))
			}
			clock.offset = r.u64(value)
		}
	}
	return nil
}
