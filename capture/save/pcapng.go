package save

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/wsviz/wsviz/capture"
)

// pcapng layout (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html),
// written little-endian.
const (
	// blockSHB (§4.1) and blockIDB (§4.2) are in secrets.go.
	blockISB = 5 // §4.6 Interface Statistics Block
	blockEPB = 6 // §4.3 Enhanced Packet Block

	byteOrderMagic = 0x1a2b3c4d // §4.1
	versionMajor   = 1
	versionMinor   = 0
	sectionLength  = 0xffffffffffffffff // §4.1: not specified

	optEndOfOpt  = 0  // §3.5
	optComment   = 1  // §3.5
	optHardware  = 2  // §4.1 shb_hardware
	optOS        = 3  // §4.1 shb_os
	optUserAppl  = 4  // §4.1 shb_userappl
	optIfName    = 2  // §4.2 if_name
	optIfDescr   = 3  // §4.2 if_description
	optIfTSResol = 9  // §4.2 if_tsresol
	optIfFilter  = 11 // §4.2 if_filter
	optIfOS      = 12 // §4.2 if_os
	optISBStart  = 2  // §4.6 isb_starttime
	optISBEnd    = 3  // §4.6 isb_endtime
	optISBIfRecv = 4  // §4.6 isb_ifrecv
	optISBIfDrop = 5  // §4.6 isb_ifdrop
	tsResolNanos = 9  // if_tsresol: 10^-9 s
	maxOptionLen = 0xffff
)

// Section is what a file's Section Header Block (pcapng §4.1) says about
// where it was written; empty fields are left out.
type Section struct {
	Application string // shb_userappl, e.g. "wsviz"
	Hardware    string // shb_hardware, e.g. runtime.GOARCH
	OS          string // shb_os, e.g. runtime.GOOS
}

// NgWriter writes a pcapng file block by block: one section, interfaces
// added as they are met, enhanced packet blocks with nanosecond timestamps
// and statistics, all little-endian. Writer is built on it; it is exported
// for writers with several interfaces (wsviz's -w cut). The bytes are those
// gopacket's pcapgo.NgWriter wrote for the same calls, which the tests
// check, except that a link type above 255 keeps its number (pcapgo kept 8
// bits) and an option longer than 65,535 bytes is an error (pcapgo wrote a
// corrupt block). Blocks are buffered: call Flush. An NgWriter is not safe
// for concurrent use.
type NgWriter struct {
	w      *bufio.Writer
	ifaces int
	buf    []byte // the block being built
}

// NewNgWriter writes the Section Header Block to out's buffer.
func NewNgWriter(out io.Writer, sec Section) (*NgWriter, error) {
	w := &NgWriter{w: bufio.NewWriter(out)}
	b := w.start(blockSHB)
	b = binary.LittleEndian.AppendUint32(b, byteOrderMagic)
	b = binary.LittleEndian.AppendUint16(b, versionMajor)
	b = binary.LittleEndian.AppendUint16(b, versionMinor)
	b = binary.LittleEndian.AppendUint64(b, sectionLength)
	opts := []option{{optUserAppl, []byte(sec.Application)}, {optHardware, []byte(sec.Hardware)}, {optOS, []byte(sec.OS)}}
	if err := w.finish(b, opts); err != nil {
		return nil, err
	}
	return w, nil
}

// option is one option of a block (§3.5); an empty value is left out.
type option struct {
	code  uint16
	value []byte
}

// start begins a block of type typ in w.buf; finish completes it.
func (w *NgWriter) start(typ uint32) []byte {
	b := binary.LittleEndian.AppendUint32(w.buf[:0], typ)
	return append(b, 0, 0, 0, 0) // the length, once known
}

// finish appends the options (those with a value, then opt_endofopt if
// any), the trailing length, fills in the leading one and writes the
// block.
func (w *NgWriter) finish(b []byte, opts []option) error {
	var any bool
	for _, o := range opts {
		if len(o.value) == 0 {
			continue
		}
		if len(o.value) > maxOptionLen {
			return fmt.Errorf("pcapng option %d: %d bytes exceed the %d an option holds", o.code, len(o.value), maxOptionLen)
		}
		any = true
		b = binary.LittleEndian.AppendUint16(b, o.code)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(o.value)))
		b = append(b, o.value...)
		b = append(b, make([]byte, pad(len(o.value)))...)
	}
	if any {
		b = binary.LittleEndian.AppendUint32(b, optEndOfOpt) // code and length 0
	}
	n := uint32(len(b) + 4)
	binary.LittleEndian.PutUint32(b[4:], n)
	b = binary.LittleEndian.AppendUint32(b, n)
	w.buf = b[:0]
	_, err := w.w.Write(b)
	return err
}

// pad returns the padding after n bytes to a 32-bit boundary.
func pad(n int) int { return (4 - n&3) & 3 }

// AddInterface writes an Interface Description Block for iface, with
// nanosecond timestamps, and returns its id for WritePacket.
func (w *NgWriter) AddInterface(iface Interface) (id int, err error) {
	b := w.start(blockIDB)
	b = binary.LittleEndian.AppendUint16(b, uint16(capture.LinkTypeNumber(iface.LinkType)))
	b = binary.LittleEndian.AppendUint16(b, 0) // reserved
	b = binary.LittleEndian.AppendUint32(b, uint32(max(iface.SnapLen, 0)))
	var filter []byte
	if iface.Filter != "" {
		// §4.2: the first byte says how the filter is given; 0 is
		// libpcap's filter string.
		filter = append([]byte{0}, iface.Filter...)
	}
	opts := []option{
		{optIfName, []byte(iface.Name)},
		{optIfDescr, []byte(iface.Description)},
		{optIfFilter, filter},
		{optIfOS, []byte(iface.OS)},
		{optIfTSResol, []byte{tsResolNanos}},
	}
	if err := w.finish(b, opts); err != nil {
		return 0, err
	}
	w.ifaces++
	return w.ifaces - 1, nil
}

// appendTime appends a count of nanoseconds since 1970 as 64 bits, high
// half first (§4.3).
func appendTime(b []byte, ns int64) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(ns>>32))
	return binary.LittleEndian.AppendUint32(b, uint32(ns))
}

// WritePacket writes p as an Enhanced Packet Block of interface id. Its
// original length is at least its captured length. The data is copied, so
// p may be reused when WritePacket returns.
func (w *NgWriter) WritePacket(id int, p *capture.Packet) error {
	if id < 0 || id >= w.ifaces {
		return fmt.Errorf("packet on interface %d, which was not added (%d were)", id, w.ifaces)
	}
	b := w.start(blockEPB)
	b = binary.LittleEndian.AppendUint32(b, uint32(id))
	// A packet without a timestamp (of a simple packet block) is written
	// with the zero time's UnixNano, as pcapgo wrote it.
	b = appendTime(b, p.Timestamp.UnixNano())
	b = binary.LittleEndian.AppendUint32(b, uint32(len(p.Data)))
	b = binary.LittleEndian.AppendUint32(b, uint32(max(p.Length, len(p.Data))))
	b = append(b, p.Data...)
	b = append(b, make([]byte, pad(len(p.Data)))...)
	return w.finish(b, nil)
}

// IfaceStats are the counts and times of an Interface Statistics Block.
type IfaceStats struct {
	LastUpdate time.Time // the block's timestamp, 0 when zero
	Start, End time.Time // isb_starttime, isb_endtime; left out when zero
	Received   uint64    // isb_ifrecv; left out when unknownCount
	Dropped    uint64    // isb_ifdrop; left out when unknownCount
}

// unknownCount is the count an IfaceStats leaves out (pcapgo's NgNoValue64).
const unknownCount = ^uint64(0)

// WriteStats writes an Interface Statistics Block for interface id.
func (w *NgWriter) WriteStats(id int, st IfaceStats) error {
	if id < 0 || id >= w.ifaces {
		return fmt.Errorf("statistics of interface %d, which was not added (%d were)", id, w.ifaces)
	}
	b := w.start(blockISB)
	b = binary.LittleEndian.AppendUint32(b, uint32(id))
	var last int64
	if !st.LastUpdate.IsZero() {
		last = st.LastUpdate.UnixNano()
	}
	b = appendTime(b, last)
	var start, end, dropped, received []byte
	if !st.Start.IsZero() {
		start = appendTime(nil, st.Start.UnixNano())
	}
	if !st.End.IsZero() {
		end = appendTime(nil, st.End.UnixNano())
	}
	if st.Dropped != unknownCount {
		dropped = binary.LittleEndian.AppendUint64(nil, st.Dropped)
	}
	if st.Received != unknownCount {
		received = binary.LittleEndian.AppendUint64(nil, st.Received)
	}
	opts := []option{
		{optISBStart, start},
		{optISBEnd, end},
		{optISBIfDrop, dropped},
		{optISBIfRecv, received},
	}
	return w.finish(b, opts)
}

// Flush writes the buffered blocks to the underlying writer.
func (w *NgWriter) Flush() error { return w.w.Flush() }
