package capturetest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/wsviz/wsviz/capture"
)

// Defaults for Options and Conn.
const (
	// DefaultStep is the time between packets when Options.Step is 0.
	DefaultStep = time.Millisecond
	// DefaultSnaplen is the snapshot length when Options.Snaplen is 0.
	DefaultSnaplen = 262144
	// DefaultMSS is the largest payload Client and Server put in one
	// segment, until SetMSS.
	DefaultMSS = 1448
	// ClientISN and ServerISN are the initial sequence numbers, until
	// SetISN. The first payload byte of each side has sequence number
	// ISN+1.
	ClientISN uint32 = 1_000_000
	ServerISN uint32 = 2_000_000
	// Window is the receive window every segment advertises.
	Window = 65535
)

// DefaultStart is the first packet's timestamp when Options.Start is zero.
var DefaultStart = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// Options configures a Capture.
type Options struct {
	// LinkType is the link type of Conn's packets; the zero value means
	// Ethernet. LinkTypeNull is 0 too: set Null to get it. Any link type
	// capture.DecodeTCP supports may be used, including
	// capture.LinkTypeLinuxSLL2 and capture.LinkTypePKTAP (whose packets
	// are Ethernet frames from en0 until Conn.SetPKTAP).
	LinkType capture.LinkType
	// Null selects capture.LinkTypeNull (BSD loopback) instead of LinkType.
	Null bool
	// PPPoE puts every Ethernet frame's IP packet in a PPPoE session
	// (RFC 2516), after the VLAN tags if any, as a DSL line carries it.
	PPPoE bool
	// VLANs are IEEE 802.1Q/802.1ad tags put in every Ethernet frame,
	// outermost first (802.1ad for all but the innermost). Other link types
	// ignore them.
	VLANs []uint16
	// Start is the first packet's timestamp (default DefaultStart).
	Start time.Time
	// Step is the time between packets (default DefaultStep).
	Step time.Duration
	// Snaplen is the snapshot length: longer packets are cut to it, as a
	// capture with -s would (default DefaultSnaplen).
	Snaplen int
	// NG writes pcapng instead of pcap. pcapng may mix link types, one
	// interface per link type (see ConnLink).
	NG bool
}

// Capture is a synthetic capture file being scripted.
type Capture struct {
	opts    Options
	link    capture.LinkType
	next    time.Time // timestamp of the next packet
	links   []capture.LinkType
	records []record
	conns   []*Conn
}

// record is one packet of the capture.
type record struct {
	iface  int
	ts     time.Time
	data   []byte // as captured (cut to the snaplen)
	length int    // on the wire
}

// Link returns the link type o gives a Capture's packets: capture.LinkTypeNull
// with Null, capture.LinkTypeEthernet for the zero LinkType, LinkType
// otherwise.
func (o Options) Link() capture.LinkType {
	switch {
	case o.Null:
		return capture.LinkTypeNull
	case o.LinkType == 0:
		return capture.LinkTypeEthernet
	}
	return o.LinkType
}

// NewCapture starts an empty capture.
func NewCapture(opts Options) *Capture {
	if opts.Step <= 0 {
		opts.Step = DefaultStep
	}
	if opts.Start.IsZero() {
		opts.Start = DefaultStart
	}
	if opts.Snaplen <= 0 {
		opts.Snaplen = DefaultSnaplen
	}
	link := opts.Link()
	c := &Capture{opts: opts, link: link, next: opts.Start}
	c.links = append(c.links, link)
	return c
}

// Advance adds d to the time before the next packet, beyond the usual
// Step: to script idle periods and timeouts.
func (c *Capture) Advance(d time.Duration) { c.next = c.next.Add(d) }

// Packets returns how many packets the capture holds so far, which is the
// Wireshark frame number of the last one.
func (c *Capture) Packets() int { return len(c.records) }

// Conn starts a TCP connection between client and server, given as
// "127.0.0.1:50000" or "[::1]:9001", on the capture's link type. It writes
// nothing yet: see Handshake.
func (c *Capture) Conn(client, server string) *Conn {
	return c.ConnLink(c.link, client, server)
}

// ConnLink is Conn on another link type. A pcapng capture gets one
// interface per link type, in order of first use; a pcap file has a single
// link type, so ConnLink panics when it differs from Options'.
func (c *Capture) ConnLink(link capture.LinkType, client, server string) *Conn {
	cl, err := netip.ParseAddrPort(client)
	if err != nil {
		panic(fmt.Sprintf("capturetest: client address: %v", err))
	}
	sv, err := netip.ParseAddrPort(server)
	if err != nil {
		panic(fmt.Sprintf("capturetest: server address: %v", err))
	}
	if cl.Addr().Is4() != sv.Addr().Is4() {
		panic(fmt.Sprintf("capturetest: %v and %v are of different IP versions", cl, sv))
	}
	if link != capture.LinkTypePKTAP {
		checkLink(link, cl.Addr())
	}
	iface := -1
	for i, l := range c.links {
		if l == link {
			iface = i
		}
	}
	if iface < 0 {
		if !c.opts.NG {
			panic(fmt.Sprintf("capturetest: a pcap file has one link type (%v), not also %v: set Options.NG", c.link, link))
		}
		iface = len(c.links)
		c.links = append(c.links, link)
	}
	k := &Conn{c: c, link: link, iface: iface, mss: DefaultMSS, pktap: pktapIface{name: "en0", link: capture.LinkTypeEthernet}}
	k.ends[client_] = end{addr: cl, isn: ClientISN, nxt: ClientISN + 1}
	k.ends[server_] = end{addr: sv, isn: ServerISN, nxt: ServerISN + 1}
	c.conns = append(c.conns, k)
	return k
}

// checkLink panics unless capturetest writes link type link and it can
// carry addr's IP version.
func checkLink(link capture.LinkType, addr netip.Addr) {
	switch link {
	case capture.LinkTypeEthernet, capture.LinkTypeLinuxSLL, capture.LinkTypeLinuxSLL2,
		capture.LinkTypeNull, capture.LinkTypeLoop, capture.LinkTypeRaw, 12, 14,
		capture.LinkTypePPP, capture.LinkTypePPPHDLC, capture.LinkTypePPPWithDir,
		capture.LinkTypeCHDLC, capture.LinkTypeCHDLCWithDir, capture.LinkTypeNFLOG:
	case capture.LinkTypeIPv4, capture.LinkTypeIPv6:
		if addr.Is4() != (link == capture.LinkTypeIPv4) {
			panic(fmt.Sprintf("capturetest: link type %v cannot carry %v", link, addr))
		}
	default:
		panic(fmt.Sprintf("capturetest: link type %v is not supported", link))
	}
}

// write appends one packet, stamped with the next timestamp.
func (c *Capture) write(iface int, frame []byte) {
	data := frame
	if len(data) > c.opts.Snaplen {
		data = data[:c.opts.Snaplen]
	}
	c.records = append(c.records, record{iface: iface, ts: c.next, data: data, length: len(frame)})
	c.next = c.next.Add(c.opts.Step)
}

// Bytes returns the capture as a pcap or pcapng file. Segments still held
// back by Conn.Delay are written first, at the end of the capture.
func (c *Capture) Bytes() []byte {
	for _, k := range c.conns {
		k.flush()
	}
	var buf bytes.Buffer
	if c.opts.NG {
		c.writeNG(&buf)
	} else {
		c.writePcap(&buf)
	}
	return buf.Bytes()
}

// WriteFile writes Bytes to a file.
func (c *Capture) WriteFile(path string) error {
	return os.WriteFile(path, c.Bytes(), 0o644)
}

// TempFile writes Bytes to a file named name in t's temporary directory,
// for a test that hands a path to wsviz, and returns its path. It fails t
// when the file cannot be written.
func (c *Capture) TempFile(t testing.TB, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := c.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// Open returns a capture.File reading Bytes. It panics if capture rejects
// the file, which would be a bug in one of the two packages.
func (c *Capture) Open() *capture.File {
	name := "capturetest.pcap"
	if c.opts.NG {
		name += "ng"
	}
	f, err := capture.NewReader(bytes.NewReader(c.Bytes()), name)
	if err != nil {
		panic(fmt.Sprintf("capturetest: capture rejects its own file: %v", err))
	}
	return f
}

func (c *Capture) writePcap(buf *bytes.Buffer) {
	w := pcapgo.NewWriterNanos(buf)
	must(w.WriteFileHeader(uint32(c.opts.Snaplen), layers.LinkType(c.link)))
	// pcapgo writes layers.LinkType, 8 bits: patch in the real number.
	binary.LittleEndian.PutUint32(buf.Bytes()[20:24], capture.LinkTypeNumber(c.link))
	for _, r := range c.records {
		must(w.WritePacket(gopacket.CaptureInfo{Timestamp: r.ts, CaptureLength: len(r.data), Length: r.length}, r.data))
	}
}

func (c *Capture) writeNG(buf *bytes.Buffer) {
	// Fixed section options: pcapgo's defaults name the machine's OS and
	// architecture, which would make the bytes differ between machines.
	w, err := pcapgo.NewNgWriterInterface(buf, c.ngInterface(0), pcapgo.NgWriterOptions{
		SectionInfo: pcapgo.NgSectionInfo{Application: "wsviz capturetest"},
	})
	must(err)
	for i := 1; i < len(c.links); i++ {
		_, err := w.AddInterface(c.ngInterface(i))
		must(err)
	}
	for _, r := range c.records {
		ci := gopacket.CaptureInfo{Timestamp: r.ts, CaptureLength: len(r.data), Length: r.length, InterfaceIndex: r.iface}
		must(w.WritePacket(ci, r.data))
	}
	must(w.Flush())
	// pcapgo writes layers.LinkType, 8 bits: patch in the real numbers.
	b := buf.Bytes()
	iface := 0
	for off := 0; off+12 <= len(b); {
		typ, length := binary.LittleEndian.Uint32(b[off:]), int(binary.LittleEndian.Uint32(b[off+4:]))
		if typ == 1 { // Interface Description Block: link type at +8
			binary.LittleEndian.PutUint16(b[off+8:], uint16(capture.LinkTypeNumber(c.links[iface])))
			iface++
		}
		off += length
	}
}

func (c *Capture) ngInterface(i int) pcapgo.NgInterface {
	return pcapgo.NgInterface{
		Name:       fmt.Sprintf("capturetest%d", i),
		LinkType:   layers.LinkType(c.links[i]),
		SnapLength: uint32(c.opts.Snaplen),
	}
}

// must panics on a write error, which writing to a bytes.Buffer never has.
func must(err error) {
	if err != nil {
		panic("capturetest: " + err.Error())
	}
}
