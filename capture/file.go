package capture

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync/atomic"
	"time"
)

// MaxCaptureLength is the largest captured packet length the file readers
// accept: libpcap's MAXIMUM_SNAPLEN (262144), which no capture tool exceeds.
// A record that claims more is corrupt, and refusing it keeps a hostile
// length from allocating.
const MaxCaptureLength = 262144

// ErrNotCapture is wrapped by the error OpenFile and NewReader return for
// input that is neither pcap nor pcapng (nor gzip-compressed either),
// including an empty file.
var ErrNotCapture = errors.New("not a pcap or pcapng file")

// FormatError reports a capture file that cannot be read past some record:
// it is corrupt, cut short, or unreadable there. Every packet before the
// record was returned.
type FormatError struct {
	// Path is the file name given to OpenFile or NewReader.
	Path string
	// Offset is the byte offset of the broken record's first byte (a pcap
	// record header, or a pcapng block). In a gzip-compressed file it
	// counts uncompressed bytes.
	Offset int64
	// Packet is the number of the packet being read: the number of
	// packets returned before the error, plus one. A broken pcapng block
	// that is not a packet (an interface description, say) carries the
	// number of the packet that would have followed it.
	Packet int64
	// Err says what is wrong: io.ErrUnexpectedEOF for a file cut in the
	// middle of a record.
	Err error
}

// Error returns a message such as
// "capture: trace.pcap: truncated record at byte offset 1234 (packet 57): unexpected EOF".
func (e *FormatError) Error() string {
	what := "bad record"
	if errors.Is(e.Err, io.ErrUnexpectedEOF) {
		what = "truncated record"
	}
	return fmt.Sprintf("capture: %s: %s at byte offset %d (packet %d): %v", e.Path, what, e.Offset, e.Packet, e.Err)
}

// Unwrap returns e.Err.
func (e *FormatError) Unwrap() error { return e.Err }

// Interface describes one capture interface: a pcapng Interface Description
// Block, or the single interface a pcap file header describes.
type Interface struct {
	// Name is the interface name (the if_name option), "" when absent and
	// always for pcap.
	Name string
	// LinkType is the interface's link type as Packet.LinkType carries it.
	LinkType LinkType
	// LinkTypeNumber is the link type number as the file records it. It
	// equals LinkType below 256 but for 2 and 20; see LinkTypeLinuxSLL2
	// and LinkTypePKTAP for why they differ.
	LinkTypeNumber uint32
	// Snaplen is the snapshot length the file records: the most bytes of
	// one packet the interface captures, 0 for unlimited.
	Snaplen uint32
}

// File reads packets from a pcap or pcapng file, optionally gzip-compressed.
// It is a Source.
//
// File keeps its own record walker, which checks every record header
// before the record is used (lengths against the block and against
// MaxCaptureLength, interface numbers, option layouts, timestamp
// resolutions), so hostile input can neither allocate much nor panic, and
// it knows the byte offset of every record. Packets, of pcap records and
// of pcapng packet blocks alike, are then sliced out of the read buffer,
// with the fields computed as gopacket's pcapgo computes them (its readers
// copied each packet two or three times, and its package brought
// gopacket's layers, whose init cost every start 20 ms); pcapgo is the
// oracle in the tests. Offsets are tracked as the bytes pass, rather than
// found by re-reading the file after an error: this works for any
// io.Reader and costs a few comparisons per record.
//
// A File is not safe for concurrent use, except Progress, which may be
// called from any goroutine.
type File struct {
	name   string
	closer io.Closer // the *os.File OpenFile opened, nil for NewReader
	count  *countingReader
	total  int64
	rec    *recordReader
	n      int64 // packets returned
	err    error // sticky: the error that stopped reading
}

var _ Source = (*File)(nil)

// OpenFile opens a pcap or pcapng file, gzip-compressed or not, and reads its
// header. The error wraps ErrNotCapture when the file is neither; it is a
// *FormatError when the header is corrupt or cut short.
func OpenFile(path string) (*File, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	var size int64
	if fi, err := osf.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	f, err := newFile(osf, path, size)
	if err != nil {
		osf.Close()
		return nil, err
	}
	f.closer = osf
	return f, nil
}

// NewReader is OpenFile over any reader; name is used in errors. Progress
// knows the total when r has a Size method (bytes.Reader, strings.Reader) or
// a Stat method (*os.File). Close does not close r.
func NewReader(r io.Reader, name string) (*File, error) {
	var size int64
	switch s := r.(type) {
	case interface{ Size() int64 }:
		size = s.Size()
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := s.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	return newFile(r, name, size)
}

// bufSize bounds what the record walker peeks at once: blocks it validates
// whole (section headers, interface descriptions and statistics) must fit
// in it.
const bufSize = 64 << 10

// readSize is the read buffer beneath the record walker (at least
// bufSize): large reads, few system calls.
const readSize = 1 << 20

// readBufferSize returns the size of the read buffer for a file of size
// bytes (0 when unknown): readSize, or less for a file smaller than that,
// but at least bufSize.
func readBufferSize(size int64) int {
	if size <= 0 {
		return readSize
	}
	return int(max(bufSize, min(readSize, size)))
}

// Magic numbers that open the supported formats.
const (
	gzipMagic0         = 0x1f // RFC 1952 §2.3.1: ID1
	gzipMagic1         = 0x8b // RFC 1952 §2.3.1: ID2
	pcapMagicMicro     = 0xa1b2c3d4
	pcapMagicNano      = 0xa1b23c4d
	pcapngSectionMagic = 0x0a0d0d0a // Section Header Block type, a palindrome
)

func newFile(r io.Reader, name string, size int64) (*File, error) {
	f := &File{name: name, count: &countingReader{r: r}, total: size}
	src := bufio.NewReaderSize(f.count, readBufferSize(size))
	magic, err := src.Peek(4)
	if len(magic) >= 2 && magic[0] == gzipMagic0 && magic[1] == gzipMagic1 {
		gz, err := gzip.NewReader(src)
		if err != nil {
			return nil, fmt.Errorf("capture: %s: %w", name, err)
		}
		src = bufio.NewReaderSize(gz, readSize)
		magic, err = src.Peek(4)
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("capture: %s: %w", name, err)
		}
	} else if err != nil && err != io.EOF {
		return nil, fmt.Errorf("capture: %s: %w", name, err)
	}
	if len(magic) < 4 {
		return nil, fmt.Errorf("capture: %s: %w", name, ErrNotCapture)
	}
	le, be := leUint32(magic), beUint32(magic)
	switch {
	case be == pcapngSectionMagic:
		f.rec = &recordReader{src: src, ng: true}
		err = f.rec.firstNgBlock()
	case le == pcapMagicMicro || le == pcapMagicNano || be == pcapMagicMicro || be == pcapMagicNano:
		f.rec = &recordReader{src: src}
		err = f.rec.pcapFileHeader()
	default:
		return nil, fmt.Errorf("capture: %s: %w", name, ErrNotCapture)
	}
	if err != nil {
		return nil, f.fail(err)
	}
	return f, nil
}

// ReadPacket returns the next packet, numbered from 1 in file order like
// Wireshark's frames, or io.EOF after the last one. Any other error is a
// *FormatError (or an I/O error wrapped in one) and is returned again by
// every later call.
//
// Packet.Data aliases a buffer inside File that the next call overwrites:
// ReadPacket allocates nothing per packet.
func (f *File) ReadPacket() (Packet, error) {
	var p Packet
	err := f.ReadPacketTo(&p)
	return p, err
}

// ReadPacketTo is ReadPacket into *p (SourceTo).
func (f *File) ReadPacketTo(p *Packet) error {
	if f.err != nil {
		*p = Packet{}
		return f.err
	}
	var err error
	if f.rec.ng {
		err = f.rec.nextNgPacket(p)
	} else {
		err = f.readPcap(p)
	}
	if err != nil {
		*p = Packet{}
		return f.fail(err)
	}
	f.n++
	p.Number = f.n
	return nil
}

// readPcap reads the packet of the next pcap record into *p. The walker
// checks the record header and the packet is sliced out of its read
// buffer: pcapgo's Reader copied every packet three times (into its own
// bufio.Reader, into its packet buffer, and the walker's copy beneath):
// reading a record takes a fifth less time without.
// The fields are computed as pcapgo's Reader computes them, which
// TestPcapMatchesPcapgo and FuzzReader check.
func (f *File) readPcap(p *Packet) error {
	b, err := f.rec.nextPcapRecord()
	if err != nil {
		return err
	}
	r := f.rec
	frac := r.u32(b[4:])
	if !r.nano {
		// In uint32 arithmetic, as pcapgo does: a microsecond count
		// past 2^32/1000 (which no writer produces) wraps the same way.
		frac *= 1000
	}
	// Field by field: a composite literal is built on the stack and
	// copied into *p 16 bytes at a time, and those loads wait for the
	// 8-byte stores before them (a store-forwarding stall, most of a
	// packet's read time in perf).
	p.Timestamp = time.Unix(int64(r.u32(b)), int64(frac)).UTC()
	p.LinkType = r.ifaces[0].LinkType
	p.Data = b[pcapRecordHeaderLen:len(b):len(b)]
	p.Length = int(r.u32(b[12:]))
	p.Interface = 0
	return nil
}

// fail turns err into the sticky error ReadPacket returns: io.EOF at a
// record boundary, otherwise a *FormatError naming the file, the record
// being read and the packet number.
func (f *File) fail(err error) error {
	var fe *FormatError
	switch {
	case err == io.EOF && f.rec.err == io.EOF:
		f.err = io.EOF
		return f.err
	case errors.As(err, &fe):
		// From the walker, which knows the record.
	default:
		// About the record being read.
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		fe = &FormatError{Offset: f.rec.off, Err: err}
	}
	fe = &FormatError{Path: f.name, Offset: fe.Offset, Packet: f.n + 1, Err: fe.Err}
	f.err = fe
	return fe
}

// Close closes the file OpenFile opened. Reading after Close fails.
func (f *File) Close() error {
	if f.err == nil {
		f.err = fmt.Errorf("capture: %s: %w", f.name, fs.ErrClosed)
	}
	if f.closer == nil {
		return nil
	}
	c := f.closer
	f.closer = nil
	return c.Close()
}

// Progress returns how many bytes of the file have been consumed and the
// file's size (0 when unknown), for a progress bar. For a gzip-compressed
// file both count compressed bytes. read runs ahead of the last packet
// returned by up to the read buffer size (1 MiB). Progress is cheap and
// safe to call from any goroutine.
func (f *File) Progress() (read, total int64) {
	return f.count.n.Load(), f.total
}

// Interfaces returns the interfaces described so far: one for a pcap file,
// every Interface Description Block read so far for pcapng. Packet.Interface
// indexes it; in a pcapng file with several sections the indices continue
// from one section to the next. The slice is shared with File: do not
// modify it.
func (f *File) Interfaces() []Interface {
	return f.rec.ifaces[:len(f.rec.ifaces):len(f.rec.ifaces)]
}

// Skipped returns a sentence for each interface of the file read so far
// whose link type DecodeTCP does not read (Decodable): its packets are
// not TCP to the decoder, and a capture of nothing else would otherwise
// decode to nothing without a word. "the capture's link type, 802.11
// (LINKTYPE 105), is not one wsviz decodes" for a file of one interface;
// "interface 1 (usbmon0) has link type USB (LINKTYPE 220), not one wsviz
// decodes" when there are several.
func (f *File) Skipped() []string {
	ifaces := f.Interfaces()
	var notes []string
	for i, iface := range ifaces {
		if Decodable(iface.LinkType) {
			continue
		}
		link := fmt.Sprintf("LINKTYPE %d", iface.LinkTypeNumber)
		if n := iface.LinkType.String(); n != "UnknownLinkType" && iface.LinkTypeNumber < 256 {
			link = fmt.Sprintf("%s (%s)", n, link)
		}
		what := "the capture's link type, " + link + ", is"
		if len(ifaces) > 1 {
			name := ""
			if iface.Name != "" {
				name = " (" + iface.Name + ")"
			}
			what = fmt.Sprintf("interface %d%s has link type %s,", i, name, link)
		}
		notes = append(notes, what+" not one wsviz decodes: its packets were skipped (wsviz reads Ethernet, Linux cooked, loopback, raw IP, PPP, Cisco HDLC, NFLOG and Apple's PKTAP)")
	}
	return notes
}

// countingReader counts the bytes read through it, for Progress.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
