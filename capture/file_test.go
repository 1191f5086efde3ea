package capture_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// sampleCapture is a short conversation, as pcap or pcapng; the pcapng one
// mixes two link types. A small snaplen keeps the reader's buffers small,
// for the tests that open it thousands of times.
func sampleCapture(ng bool) []byte {
	c := capturetest.NewCapture(capturetest.Options{NG: ng, Snaplen: 4096})
	k := c.Conn("10.0.0.1:50000", "10.0.0.2:80")
	k.Handshake()
	k.Client([]byte("GET / HTTP/1.1\r\n\r\n"))
	k.Server(bytes.Repeat([]byte("body "), 400))
	if ng {
		l := c.ConnLink(capture.LinkTypeLinuxSLL, "[::1]:1", "[::1]:2")
		l.Client([]byte("on another interface"))
	}
	k.CloseFIN(true)
	return c.Bytes()
}

// readAllPackets reads every packet, copying the data, until an error.
func readAllPackets(f *capture.File) ([]capture.Packet, error) {
	var packets []capture.Packet
	for {
		p, err := f.ReadPacket()
		if err != nil {
			return packets, err
		}
		p.Data = bytes.Clone(p.Data)
		packets = append(packets, p)
	}
}

// record is one record of a capture file found by a walk independent of
// the reader: its offset, its length and whether it holds a packet.
type record struct {
	off, length int
	packet      bool
}

// walkRecords splits a little-endian pcap or pcapng file into records.
func walkRecords(t *testing.T, b []byte) []record {
	t.Helper()
	var recs []record
	if binary.LittleEndian.Uint32(b) == 0x0a0d0d0a {
		for off := 0; off < len(b); {
			typ, n := binary.LittleEndian.Uint32(b[off:]), int(binary.LittleEndian.Uint32(b[off+4:]))
			recs = append(recs, record{off, n, typ == 2 || typ == 3 || typ == 6})
			off += n
		}
		return recs
	}
	recs = append(recs, record{0, 24, false})
	for off := 24; off < len(b); {
		n := 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
		recs = append(recs, record{off, n, true})
		off += n
	}
	return recs
}

// TestTruncation cuts files at every byte offset: the packets before the
// cut come back, then io.EOF at a record boundary, or else an error naming
// the offset of the record cut in two.
func TestTruncation(t *testing.T) {
	files := []struct {
		name string
		data []byte
		gzip bool
	}{
		{"pcap", sampleCapture(false), false},
		{"pcapng", sampleCapture(true), false},
		{"pcapng with statistics", ngFile(shb(), idb(1, 0), epb(0, 60), isb(0), idb(113, 65535), epb(1, 70), custom(), epb(0, 61)), false},
		{"gzip pcap", sampleCapture(false), true},
		{"gzip pcapng", sampleCapture(true), true},
	}
	for _, file := range files {
		t.Run(file.name, func(t *testing.T) {
			full := file.data
			recs := walkRecords(t, full)
			all, err := readAllPackets(open(t, full, "full"))
			if err != io.EOF {
				t.Fatalf("reading the whole file: %v", err)
			}
			for cut := 0; cut <= len(full); cut++ {
				data := full[:cut]
				if file.gzip {
					data = gzipped(data)
				}
				// Expectations from the independent walk.
				wantPackets, wantOff, boundary := 0, -1, cut == len(full)
				for _, r := range recs {
					if r.off == cut {
						boundary = true
					}
					if r.off+r.length <= cut {
						if r.packet {
							wantPackets++
						}
					} else if r.off < cut {
						wantOff = r.off
					}
				}
				if cut == 0 {
					boundary = false
				}
				name := fmt.Sprintf("%s[:%d]", file.name, cut)
				f, err := capture.NewReader(bytes.NewReader(data), name)
				var packets []capture.Packet
				if err == nil {
					packets, err = readAllPackets(f)
				}
				if cut < 4 {
					if !errors.Is(err, capture.ErrNotCapture) {
						t.Errorf("%s: error %v, want ErrNotCapture", name, err)
					}
					continue
				}
				if len(packets) != wantPackets {
					t.Errorf("%s: got %d packets, want %d", name, len(packets), wantPackets)
				}
				for i, p := range packets {
					if p.Number != int64(i+1) || !bytes.Equal(p.Data, all[i].Data) || !p.Timestamp.Equal(all[i].Timestamp) {
						t.Errorf("%s: packet %d differs from the whole file's", name, i+1)
					}
				}
				if boundary {
					if err != io.EOF {
						t.Errorf("%s: cut at a record boundary gives %v, want io.EOF", name, err)
					}
					continue
				}
				var fe *capture.FormatError
				if !errors.As(err, &fe) {
					t.Errorf("%s: error %v, want a *FormatError", name, err)
					continue
				}
				want := &capture.FormatError{Path: name, Offset: int64(wantOff), Packet: int64(wantPackets + 1), Err: io.ErrUnexpectedEOF}
				if *fe != *want {
					t.Errorf("%s: error %#v, want %#v", name, fe, want)
				}
			}
		})
	}
}

// gzipWriter is reused: a new gzip.Writer allocates about a megabyte.
var gzipWriter = gzip.NewWriter(nil)

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	gzipWriter.Reset(&buf)
	gzipWriter.Write(b)
	gzipWriter.Close()
	return buf.Bytes()
}

func open(t *testing.T, b []byte, name string) *capture.File {
	t.Helper()
	f, err := capture.NewReader(bytes.NewReader(b), name)
	if err != nil {
		t.Fatalf("NewReader(%s) = %v", name, err)
	}
	return f
}

func TestFormatErrorMessage(t *testing.T) {
	full := sampleCapture(false)
	recs := walkRecords(t, full)
	cut := recs[3].off + 20
	f := open(t, full[:cut], "trace.pcap")
	_, err := readAllPackets(f)
	want := fmt.Sprintf("capture: trace.pcap: truncated record at byte offset %d (packet 3): unexpected EOF", recs[3].off)
	if err == nil || err.Error() != want {
		t.Errorf("ReadPacket() = %v, want %q", err, want)
	}
	if _, again := f.ReadPacket(); again != err {
		t.Errorf("ReadPacket() after an error = %v, want the same error %v", again, err)
	}
}

func TestNotCapture(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"empty", ""},
		{"short", "\xd4\xc3"},
		{"text", "hello, world\n"},
		{"pcapng block without section", "\x06\x00\x00\x00\x20\x00\x00\x00"},
		{"empty gzip", string(gzipped(nil))},
		{"gzip text", string(gzipped([]byte("not a capture")))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := capture.NewReader(strings.NewReader(tc.data), "x.txt")
			if !errors.Is(err, capture.ErrNotCapture) || err.Error() != "capture: x.txt: not a pcap or pcapng file" {
				t.Errorf("NewReader(%q) = %v, want %q", tc.data, err, "capture: x.txt: not a pcap or pcapng file")
			}
		})
	}
}

// Hand-built pcapng blocks (little-endian), independent of pcapgo's writer.

func block(typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	return cat(le32(typ), le32(n), body, le32(n))
}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

func option(code uint16, value []byte) []byte {
	o := cat(le16(code), le16(uint16(len(value))), value)
	for len(o)%4 != 0 {
		o = append(o, 0)
	}
	return o
}

func shb(opts ...[]byte) []byte {
	return block(0x0a0d0d0a, cat(le32(0x1a2b3c4d), le16(1), le16(0), bytes.Repeat([]byte{0xff}, 8), cat(opts...)))
}

func idb(link uint16, snaplen uint32, opts ...[]byte) []byte {
	return block(1, cat(le16(link), le16(0), le32(snaplen), cat(opts...)))
}

// ngPacket is a TCP packet for interface link type Ethernet, n bytes long.
func ngPacket(n int) []byte {
	return ethernet(0x0800, ipv4(6, 5, -1, 0, tcp(5, capture.ACK, strings.Repeat("p", n-54))))
}

func epb(iface uint32, n int) []byte {
	data := ngPacket(n)
	return block(6, cat(le32(iface), le32(0), le32(1_000_000), le32(uint32(len(data))), le32(uint32(len(data))), data))
}

func spb(n int) []byte {
	data := ngPacket(n)
	return block(3, cat(le32(uint32(len(data))), data))
}

func pb(iface uint16, n int) []byte {
	data := ngPacket(n)
	return block(2, cat(le16(iface), le16(0), le32(0), le32(1_000_000), le32(uint32(len(data))), le32(uint32(len(data))), data))
}

func isb(iface uint32) []byte {
	return block(5, cat(le32(iface), le32(0), le32(0), option(4, make([]byte, 8))))
}

func custom() []byte { return block(0x00000bad, []byte("custom block, skipped")) }

func ngFile(blocks ...[]byte) []byte { return cat(blocks...) }

// TestPcapng reads hand-built pcapng files: every packet block type, skipped
// blocks, several sections.
func TestPcapng(t *testing.T) {
	file := ngFile(
		shb(option(4, []byte("hand-built"))),
		idb(1, 0, option(2, []byte("eth0")), option(9, []byte{6})),
		custom(),
		epb(0, 60),
		spb(61),
		pb(0, 62),
		isb(0),
		idb(113, 65535, option(2, []byte("any"))),
		epb(1, 70), // SLL interface: not TCP as an Ethernet frame is
		shb(),
		idb(228, 0, option(2, []byte("ip")), option(9, []byte{0x80 | 20}), option(14, make([]byte, 8))),
		epb(0, 80),
	)
	f := open(t, file, "sections.pcapng")
	packets, err := readAllPackets(f)
	if err != io.EOF {
		t.Fatalf("ReadPacket() = %v, want io.EOF at the end", err)
	}
	want := []struct {
		n     int
		link  capture.LinkType
		iface int
		tcp   bool
	}{
		{60, capture.LinkTypeEthernet, 0, true},
		{61, capture.LinkTypeEthernet, 0, true},
		{62, capture.LinkTypeEthernet, 0, true},
		{70, capture.LinkTypeLinuxSLL, 1, false},
		{80, capture.LinkTypeIPv4, 2, false},
	}
	if len(packets) != len(want) {
		t.Fatalf("got %d packets, want %d", len(packets), len(want))
	}
	for i, w := range want {
		p := packets[i]
		var seg capture.Segment
		if len(p.Data) != w.n || p.LinkType != w.link || p.Interface != w.iface || capture.DecodeTCP(&p, &seg) != w.tcp {
			t.Errorf("packet %d: %d bytes, link %v, interface %d; want %d, %v, %d", i+1, len(p.Data), p.LinkType, p.Interface, w.n, w.link, w.iface)
		}
	}
	ifaces := f.Interfaces()
	wantIfaces := []capture.Interface{
		{Name: "eth0", LinkType: capture.LinkTypeEthernet, LinkTypeNumber: 1},
		{Name: "any", LinkType: capture.LinkTypeLinuxSLL, LinkTypeNumber: 113, Snaplen: 65535},
		{Name: "ip", LinkType: capture.LinkTypeIPv4, LinkTypeNumber: 228},
	}
	if fmt.Sprint(ifaces) != fmt.Sprint(wantIfaces) {
		t.Errorf("Interfaces() = %+v, want %+v", ifaces, wantIfaces)
	}
	if got := packets[0].Timestamp; !got.Equal(time.Unix(1, 0)) {
		t.Errorf("packet 1 Timestamp = %v, want %v (microsecond resolution by default)", got, time.Unix(1, 0))
	}
}

// TestBadRecords checks that corrupt records give a *FormatError at the
// record's offset, after the packets before it.
func TestBadRecords(t *testing.T) {
	pcap := sampleCapture(false)
	pcapRecs := walkRecords(t, pcap)
	patch := func(b []byte, off int, v []byte) []byte {
		b = bytes.Clone(b)
		copy(b[off:], v)
		return b
	}
	tests := []struct {
		name    string
		data    []byte
		packets int
		offset  int64
		want    string
	}{
		{"pcap caplen over the limit", patch(pcap, pcapRecs[2].off+8, le32(capture.MaxCaptureLength+1)), 1, int64(pcapRecs[2].off), "exceeds the limit"},
		{"pcap caplen 4 GiB", patch(pcap, pcapRecs[2].off+8, le32(0xfffffff0)), 1, int64(pcapRecs[2].off), "exceeds the limit"},
		{"pcap caplen over packet length", patch(pcap, pcapRecs[3].off+12, le32(10)), 2, int64(pcapRecs[3].off), "exceeds the packet length 10"},
		{"pcap version", patch(pcap, 4, le16(3)), 0, 0, "unsupported version 3.4"},
		{"block length not a multiple of 4", ngFile(shb(), idb(1, 0), epb(0, 60), patch(epb(0, 60), 4, le32(98))), 1, 140, "bad length 98"},
		{"block length below 12", ngFile(shb(), idb(1, 0), patch(epb(0, 60), 4, le32(8))), 0, 48, "bad length 8"},
		{"trailer mismatch", ngFile(shb(), idb(1, 0), epb(0, 60), patch(epb(0, 60), 88, le32(96))), 1, 140, "block length 92 at the start but 96 at the end"},
		{"epb caplen beyond block", ngFile(shb(), idb(1, 0), patch(epb(0, 60), 20, le32(65))), 0, 48, "exceeds the block length"},
		{"epb caplen over the limit", ngFile(shb(), idb(1, 0), patch(epb(0, 60), 20, le32(0xffffff00))), 0, 48, "exceeds the limit"},
		{"epb interface not described", ngFile(shb(), idb(1, 0), epb(1, 60)), 0, 48, "interface 1 not described"},
		{"pb interface not described", ngFile(shb(), idb(1, 0), pb(3, 60)), 0, 48, "interface 3 not described"},
		{"isb interface not described", ngFile(shb(), idb(1, 0), isb(2)), 0, 48, "interface 2 not described"},
		{"spb without interface", ngFile(shb(), spb(60)), 0, 28, "no interface"},
		{"spb longer than block", ngFile(shb(), idb(1, 0), patch(spb(60), 8, le32(1000))), 0, 48, "exceeds the block length"},
		{"tsresol overflows", ngFile(shb(), idb(1, 0, option(9, []byte{20}))), 0, 28, "unsupported if_tsresol 0x14"},
		{"binary tsresol overflows", ngFile(shb(), idb(1, 0, option(9, []byte{0x80 | 64}))), 0, 28, "unsupported if_tsresol 0xc0"},
		{"tsresol of length 0", ngFile(shb(), idb(1, 0, option(2, []byte{0x7f}), option(9, nil))), 0, 28, "if_tsresol of length 0"},
		{"tsoffset of length 4", ngFile(shb(), idb(1, 0, option(14, make([]byte, 4)))), 0, 28, "if_tsoffset of length 4"},
		{"option overruns block", ngFile(shb(), patch(idb(1, 0, option(2, []byte("eth0"))), 18, le16(200))), 0, 28, "overruns the block"},
		{"end of options with length", ngFile(shb(), idb(1, 0, option(0, []byte("x")))), 0, 28, "end of options with length 1"},
		{"section version", ngFile(patch(shb(), 12, le16(2))), 0, 0, "unsupported version 2.0"},
		{"byte-order magic", ngFile(patch(shb(), 8, le32(0x12345678))), 0, 0, "bad byte-order magic"},
		{"second section byte-order magic", ngFile(shb(), idb(1, 0), epb(0, 60), patch(shb(), 8, le32(0x12345678))), 1, 140, "bad byte-order magic"},
		{"section header too long", ngFile(patch(shb(), 4, le32(1<<20))), 0, 0, "section header block: length 1048576 exceeds 65536"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := capture.NewReader(bytes.NewReader(tc.data), "bad")
			var packets []capture.Packet
			if err == nil {
				packets, err = readAllPackets(f)
			}
			var fe *capture.FormatError
			if !errors.As(err, &fe) || fe.Offset != tc.offset || fe.Packet != int64(tc.packets+1) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("read error = %v, want a *FormatError at byte offset %d (packet %d) saying %q", err, tc.offset, tc.packets+1, tc.want)
			}
			if len(packets) != tc.packets {
				t.Errorf("got %d packets before the error, want %d", len(packets), tc.packets)
			}
		})
	}
}

// TestLenientRecords checks files that are odd but readable, as tcpdump and
// Wireshark read them.
func TestLenientRecords(t *testing.T) {
	pcap := sampleCapture(false)
	tests := []struct {
		name    string
		data    []byte
		packets int
	}{
		{"pcap snaplen 0", cat(pcap[:16], le32(0), pcap[20:]), 7},
		{"pcap snaplen 4 GiB", cat(pcap[:16], le32(0xffffffff), pcap[20:]), 7},
		{"pcap records longer than snaplen", cat(pcap[:16], le32(60), pcap[20:]), 7},
		{"pcap fcs bits in link type", cat(pcap[:20], le32(0x10000001), pcap[24:]), 7},
		{"pcapng snaplen 4 GiB", ngFile(shb(), idb(1, 0xffffffff), epb(0, 60), spb(200)), 2},
		{"pcapng options end early", ngFile(shb(option(0, nil), []byte("junk")), idb(1, 0, option(0, nil), []byte("junk")), epb(0, 60)), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := open(t, tc.data, tc.name)
			packets, err := readAllPackets(f)
			if err != io.EOF || len(packets) != tc.packets {
				t.Errorf("read %d packets then %v, want %d then io.EOF", len(packets), err, tc.packets)
			}
			for _, p := range packets {
				var seg capture.Segment
				if !capture.DecodeTCP(&p, &seg) {
					t.Errorf("DecodeTCP(packet %d) = false, want true", p.Number)
				}
			}
		})
	}
	f := open(t, ngFile(shb(), idb(1, 0xffffffff)), "snaplen")
	readAllPackets(f)
	if got := f.Interfaces()[0].Snaplen; got != 0xffffffff {
		t.Errorf("Interfaces()[0].Snaplen = %d, want the file's 0xffffffff", got)
	}
}

// TestHostileLengthsDoNotAllocate reads files whose headers promise huge
// snaplens: the reader must not allocate for them.
func TestHostileLengthsDoNotAllocate(t *testing.T) {
	pcap := sampleCapture(false)
	files := map[string][]byte{
		"pcap snaplen":   cat(pcap[:16], le32(0xffffffff), pcap[20:]),
		"pcap caplen":    cat(pcap[:24], pcap[24:32], le32(0xfffffff0), le32(0xfffffff0), pcap[40:]),
		"pcapng snaplen": ngFile(shb(), idb(1, 0xffffffff), epb(0, 60)),
		"pcapng caplen":  ngFile(shb(), idb(1, 0xffffffff), block(6, cat(le32(0), le32(0), le32(0), le32(0xfffffff0), le32(0xfffffff0)))),
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			if f, err := capture.NewReader(bytes.NewReader(data), name); err == nil {
				readAllPackets(f)
			}
			runtime.ReadMemStats(&after)
			if n := after.TotalAlloc - before.TotalAlloc; n > 2<<20 {
				t.Errorf("reading allocated %d bytes, want at most 2 MiB", n)
			}
		})
	}
}

// swapPcap rewrites a little-endian nanosecond pcap file as big-endian,
// microsecond if micro.
func swapPcap(b []byte, micro bool) []byte {
	out := bytes.Clone(b)
	magic := uint32(0xa1b23c4d)
	if micro {
		magic = 0xa1b2c3d4
	}
	binary.BigEndian.PutUint32(out[0:], magic)
	for _, off := range []int{4, 6} {
		binary.BigEndian.PutUint16(out[off:], binary.LittleEndian.Uint16(b[off:]))
	}
	for _, off := range []int{8, 12, 16, 20} {
		binary.BigEndian.PutUint32(out[off:], binary.LittleEndian.Uint32(b[off:]))
	}
	for off := 24; off < len(b); {
		for i := 0; i < 16; i += 4 {
			v := binary.LittleEndian.Uint32(b[off+i:])
			if i == 4 && micro {
				v /= 1000
			}
			binary.BigEndian.PutUint32(out[off+i:], v)
		}
		off += 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
	}
	return out
}

// swapPcapng rewrites the little-endian pcapng files capturetest writes
// (section, interface and enhanced packet blocks) as big-endian.
func swapPcapng(b []byte) []byte {
	out := bytes.Clone(b)
	u16 := func(off int) { binary.BigEndian.PutUint16(out[off:], binary.LittleEndian.Uint16(b[off:])) }
	u32 := func(off int) { binary.BigEndian.PutUint32(out[off:], binary.LittleEndian.Uint32(b[off:])) }
	options := func(off, end int) {
		for off+4 <= end {
			code, n := binary.LittleEndian.Uint16(b[off:]), int(binary.LittleEndian.Uint16(b[off+2:]))
			u16(off)
			u16(off + 2)
			if code == 0 {
				return
			}
			off += 4 + (n+3)&^3
		}
	}
	for off := 0; off < len(b); {
		typ, n := binary.LittleEndian.Uint32(b[off:]), int(binary.LittleEndian.Uint32(b[off+4:]))
		u32(off)
		u32(off + 4)
		u32(off + n - 4)
		switch typ {
		case 0x0a0d0d0a:
			u32(off + 8)
			u16(off + 12)
			u16(off + 14)
			options(off+24, off+n-4)
		case 1:
			u16(off + 8)
			u32(off + 12)
			options(off+16, off+n-4)
		case 6:
			for i := 8; i < 28; i += 4 {
				u32(off + i)
			}
		}
		off += n
	}
	return out
}

// TestByteOrdersAndResolutions reads one capture in every byte order,
// timestamp resolution and compression.
func TestByteOrdersAndResolutions(t *testing.T) {
	start := time.Date(2023, 3, 4, 5, 6, 7, 891011000, time.UTC)
	script := func(ng bool) []byte {
		c := capturetest.NewCapture(capturetest.Options{NG: ng, Start: start, Step: 1500 * time.Microsecond})
		k := c.Conn("10.0.0.1:50000", "10.0.0.2:80")
		k.Handshake()
		k.Client([]byte("hello"))
		return c.Bytes()
	}
	pcap, ng := script(false), script(true)
	files := []struct {
		name string
		data []byte
	}{
		{"pcap little-endian nanoseconds", pcap},
		{"pcap big-endian nanoseconds", swapPcap(pcap, false)},
		{"pcap big-endian microseconds", swapPcap(pcap, true)},
		{"pcap gzip", gzipped(pcap)},
		{"pcapng little-endian", ng},
		{"pcapng big-endian", swapPcapng(ng)},
		{"pcapng gzip", gzipped(ng)},
	}
	for _, file := range files {
		t.Run(file.name, func(t *testing.T) {
			packets, err := readAllPackets(open(t, file.data, file.name))
			if err != io.EOF || len(packets) != 4 {
				t.Fatalf("read %d packets then %v, want 4 then io.EOF", len(packets), err)
			}
			for i, p := range packets {
				want := start.Add(time.Duration(i) * 1500 * time.Microsecond)
				if p.Number != int64(i+1) || !p.Timestamp.Equal(want) || p.LinkType != capture.LinkTypeEthernet {
					t.Errorf("packet %d: Number %d Timestamp %v LinkType %v, want %d %v Ethernet", i+1, p.Number, p.Timestamp, p.LinkType, i+1, want)
				}
			}
			var seg capture.Segment
			if !capture.DecodeTCP(&packets[3], &seg) || string(seg.Payload) != "hello" {
				t.Errorf("packet 4 payload = %q, want %q", seg.Payload, "hello")
			}
		})
	}
}

func TestOpenFileAndProgress(t *testing.T) {
	data := sampleCapture(true)
	path := filepath.Join(t.TempDir(), "trace.pcapng")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := capture.OpenFile(path)
	if err != nil {
		t.Fatalf("OpenFile(%q) = %v", path, err)
	}
	if read, total := f.Progress(); total != int64(len(data)) || read <= 0 || read > total {
		t.Errorf("Progress() = %d, %d before reading, want (0, %d], %d", read, total, len(data), len(data))
	}
	if _, err := readAllPackets(f); err != io.EOF {
		t.Errorf("ReadPacket() = %v, want io.EOF", err)
	}
	if read, total := f.Progress(); read != total {
		t.Errorf("Progress() = %d, %d at the end, want all read", read, total)
	}
	if err := f.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if _, err := f.ReadPacket(); err == nil {
		t.Error("ReadPacket() after Close = nil error")
	}

	if _, err := capture.OpenFile(filepath.Join(t.TempDir(), "missing.pcap")); err == nil || !strings.Contains(err.Error(), "missing.pcap") {
		t.Errorf("OpenFile(missing) = %v, want an error naming the file", err)
	}
	text := filepath.Join(t.TempDir(), "x.txt")
	os.WriteFile(text, []byte("text"), 0o644)
	if _, err := capture.OpenFile(text); !errors.Is(err, capture.ErrNotCapture) {
		t.Errorf("OpenFile(text) = %v, want ErrNotCapture", err)
	}

	// A reader without a size: total unknown.
	f, err = capture.NewReader(io.MultiReader(bytes.NewReader(data)), "stream")
	if err != nil {
		t.Fatal(err)
	}
	if _, total := f.Progress(); total != 0 {
		t.Errorf("Progress() total = %d for a stream, want 0", total)
	}
}

func TestInterfacesPcap(t *testing.T) {
	for _, tc := range []struct {
		link   capture.LinkType
		number uint32
	}{
		{capture.LinkTypeLinuxSLL2, 276},
		{capture.LinkTypePKTAP, 258},
	} {
		c := capturetest.NewCapture(capturetest.Options{LinkType: tc.link, Snaplen: 1000})
		c.Conn("10.0.0.1:1", "10.0.0.2:2").Client([]byte("x"))
		f := c.Open()
		// Compared field by field: String names neither SLL2 nor PKTAP.
		want := capture.Interface{LinkType: tc.link, LinkTypeNumber: tc.number, Snaplen: 1000}
		if got := f.Interfaces(); len(got) != 1 || got[0] != want {
			t.Errorf("Interfaces() = %+v, want link type %d, number %d, snap length 1000", got, tc.link, tc.number)
		}
		if got := capture.LinkTypeNumber(tc.link); got != tc.number {
			t.Errorf("LinkTypeNumber(%d) = %d, want %d", tc.link, got, tc.number)
		}
	}
	if got := capture.LinkTypeNumber(capture.LinkTypeEthernet); got != 1 {
		t.Errorf("LinkTypeNumber(Ethernet) = %d, want 1", got)
	}
}

func TestUnrepresentableLinkType(t *testing.T) {
	// LINKTYPE 257 must not pass for Ethernet (1), its low 8 bits; nor
	// the unassigned 20 and 2 for SLL2 and PKTAP, which LinkType holds
	// as 20 and 2.
	for _, n := range []uint16{257, 20, 2} {
		f := open(t, ngFile(shb(), idb(n, 0), epb(0, 60)), fmt.Sprint(n))
		packets, err := readAllPackets(f)
		if err != io.EOF || len(packets) != 1 {
			t.Fatalf("read %d packets then %v, want 1 then io.EOF", len(packets), err)
		}
		var seg capture.Segment
		if packets[0].LinkType == capture.LinkType(n) || capture.DecodeTCP(&packets[0], &seg) {
			t.Errorf("packet on link type %d read as %v", n, packets[0].LinkType)
		}
		if got := f.Interfaces()[0].LinkTypeNumber; got != uint32(n) {
			t.Errorf("Interfaces()[0].LinkTypeNumber = %d, want %d", got, n)
		}
	}
}

// bigCapture is a capture of many packets, for benchmarks and allocation
// tests.
func bigCapture(ng bool, packets int) []byte {
	c := capturetest.NewCapture(capturetest.Options{NG: ng})
	k := c.Conn("10.0.0.1:50000", "10.0.0.2:80")
	k.Handshake()
	for i := 0; i < packets-3; i++ {
		k.Segment(i%2 == 0, k.Next(i%2 == 0), bytes.Repeat([]byte{byte(i)}, 100+i%1300), capture.ACK|capture.PSH)
	}
	return c.Bytes()
}

func TestReadPacketDoesNotAllocate(t *testing.T) {
	for _, ng := range []bool{false, true} {
		f := open(t, bigCapture(ng, 2000), "big")
		// Warm up: buffers grow to the largest packet.
		for range 1400 {
			if _, err := f.ReadPacket(); err != nil {
				t.Fatal(err)
			}
		}
		allocs := testing.AllocsPerRun(500, func() {
			if _, err := f.ReadPacket(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("ng=%v: ReadPacket allocates %v times per packet, want 0", ng, allocs)
		}
	}
}

func BenchmarkReadFile(b *testing.B) {
	for _, ng := range []bool{false, true} {
		data := bigCapture(ng, 20000)
		for _, to := range []bool{false, true} {
			b.Run(fmt.Sprintf("ng=%v/to=%v", ng, to), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				var n int
				for b.Loop() {
					f, err := capture.NewReader(bytes.NewReader(data), "bench")
					if err != nil {
						b.Fatal(err)
					}
					var p capture.Packet
					for n = 0; ; n++ {
						var err error
						if to {
							err = f.ReadPacketTo(&p)
						} else {
							p, err = f.ReadPacket()
						}
						if err == io.EOF {
							break
						} else if err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(n), "packets/op")
			})
		}
	}
}
