package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/wsviz/wsviz/capture"
)

// isPcap reports whether b starts like a classic pcap file, in either byte
// order and either timestamp resolution.
func isPcap(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1:
		return true
	}
	return false
}

// comparePcapgo reads the pcap file data with File and with pcapgo's
// Reader side by side: every packet File returns must be the one pcapgo
// returns, field by field. File reads pcap records without pcapgo (see
// readPcap), so pcapgo is the oracle. It returns File's final error and
// the number of packets.
func comparePcapgo(t *testing.T, data []byte) (int, error) {
	t.Helper()
	f, err := capture.NewReader(bytes.NewReader(data), "oracle")
	if err != nil {
		return 0, err
	}
	ref, refErr := pcapgo.NewReader(bytes.NewReader(data))
	if refErr == nil {
		// File accepts records up to MaxCaptureLength whatever the
		// file's snaplen, as tcpdump and Wireshark do.
		ref.SetSnaplen(capture.MaxCaptureLength)
	}
	for n := 1; ; n++ {
		p, err := f.ReadPacket()
		if err != nil {
			return n - 1, err
		}
		if refErr != nil {
			t.Fatalf("packet %d: pcapgo failed with %v, File read it", n, refErr)
		}
		want, ci, err := ref.ReadPacketData()
		if err != nil {
			t.Fatalf("packet %d: pcapgo: %v, File read it", n, err)
		}
		if !p.Timestamp.Equal(ci.Timestamp) || p.Timestamp.Location() != ci.Timestamp.Location() || p.Length != ci.Length || !bytes.Equal(p.Data, want) {
			t.Fatalf("packet %d: File read %v, %d of %d bytes; pcapgo %v, %d of %d bytes",
				n, p.Timestamp, len(p.Data), p.Length, ci.Timestamp, len(want), ci.Length)
		}
	}
}

// TestPcapMatchesPcapgo reads pcap files of every byte order and
// resolution, with odd records, plus every pcap in testdata and in the
// corpus, with File and with pcapgo: the same packets, and File reads them
// all.
func TestPcapMatchesPcapgo(t *testing.T) {
	sample := sampleCapture(false)
	// A microsecond count past 2^32/1000: pcapgo multiplies it in
	// uint32 arithmetic, and File does the same.
	wrapped := swapPcap(sample, true)
	binary.BigEndian.PutUint32(wrapped[24+4:], 0xffffffff)
	// A record longer than the file's snaplen, and an empty one.
	long := bytes.Clone(sample)
	binary.LittleEndian.PutUint32(long[16:], 64)
	empty := append(bytes.Clone(sample), make([]byte, 16)...)
	binary.LittleEndian.PutUint32(empty[len(empty)-16:], 1700000000)

	files := []struct {
		name string
		data []byte
	}{
		{"little-endian nanoseconds", sample},
		{"big-endian nanoseconds", swapPcap(sample, false)},
		{"big-endian microseconds", swapPcap(sample, true)},
		{"microseconds past 2^32 nanoseconds", wrapped},
		{"records longer than the snaplen", long},
		{"empty record", empty},
	}
	var paths []string
	for _, dir := range []string{filepath.Join("..", "testdata"), corpusDir} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".pcap") {
				paths = append(paths, path)
			}
			return nil
		})
	}
	if len(paths) == 0 {
		t.Fatal("no pcap files in ../testdata")
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, struct {
			name string
			data []byte
		}{path, data})
	}
	for _, file := range files {
		t.Run(file.name, func(t *testing.T) {
			n, err := comparePcapgo(t, file.data)
			if err != io.EOF || n == 0 {
				t.Errorf("read %d packets then %v, want them all then io.EOF", n, err)
			}
		})
	}
}

// TestPcapCutRecord checks the error for a record cut short in a file
// smaller than the read buffer's floor, where the record cannot be held
// whole: a truncated record, not a full buffer.
func TestPcapCutRecord(t *testing.T) {
	data := bytes.Clone(sampleCapture(false))
	off := 24
	binary.LittleEndian.PutUint32(data[off+8:], capture.MaxCaptureLength)
	binary.LittleEndian.PutUint32(data[off+12:], capture.MaxCaptureLength)
	_, err := readAllPackets(open(t, data, "cut.pcap"))
	var fe *capture.FormatError
	if !errors.As(err, &fe) || !errors.Is(err, io.ErrUnexpectedEOF) || fe.Offset != int64(off) || fe.Packet != 1 {
		t.Fatalf("ReadPacket() = %v, want a truncated record at offset %d, packet 1", err, off)
	}
}

// isPcapng reports whether b starts with a pcapng section header block.
func isPcapng(b []byte) bool {
	return len(b) >= 4 && binary.LittleEndian.Uint32(b) == 0x0a0d0d0a
}

// boundSnaplens returns a copy of the pcapng file data whose interface
// snaplens above MaxCaptureLength read MaxCaptureLength, as File's walker
// bounds them for simple packet blocks (and as it patched them for pcapgo
// when pcapgo read pcapng for it): pcapgo cuts a simple packet block's
// captured length to the snaplen and reads that much whatever the block's
// length. It stops at the first block it cannot walk.
func boundSnaplens(data []byte) []byte {
	out := bytes.Clone(data)
	var order binary.ByteOrder = binary.LittleEndian
	for off := 0; off+12 <= len(out); {
		if binary.LittleEndian.Uint32(out[off:]) == 0x0a0d0d0a {
			switch binary.LittleEndian.Uint32(out[off+8:]) {
			case 0x1a2b3c4d:
				order = binary.LittleEndian
			case 0x4d3c2b1a:
				order = binary.BigEndian
			default:
				return out
			}
		}
		typ, n := order.Uint32(out[off:]), int(order.Uint32(out[off+4:]))
		if typ == 1 && off+16 <= len(out) && order.Uint32(out[off+12:]) > capture.MaxCaptureLength {
			order.PutUint32(out[off+12:], capture.MaxCaptureLength)
		}
		if n < 12 || n%4 != 0 {
			return out
		}
		off += n
	}
	return out
}

// comparePcapngPcapgo reads the pcapng file data with File and with
// pcapgo's NgReader side by side: every packet File returns must be the
// one pcapgo returns (data, captured and original lengths, timestamp to
// the nanosecond and its location, link type, interface), and where File
// ends cleanly pcapgo must end too. File may stop with an error where
// pcapgo reads on: its walker checks what pcapgo does not (trailing block
// lengths, captured lengths against the block and MaxCaptureLength,
// if_tsresol exponents that overflow pcapgo's uint64, option layouts and
// sizes, interface numbers of statistics blocks). It returns File's final
// error and the number of packets.
func comparePcapngPcapgo(t *testing.T, data []byte) (int, error) {
	t.Helper()
	f, err := capture.NewReader(bytes.NewReader(data), "oracle")
	if err != nil {
		return 0, err
	}
	ref, refErr := pcapgo.NewNgReader(bytes.NewReader(boundSnaplens(data)), pcapgo.NgReaderOptions{WantMixedLinkType: true})
	for n := 1; ; n++ {
		p, err := f.ReadPacket()
		if err != nil {
			if err == io.EOF && refErr == nil {
				// pcapgo is asked only once File has checked the
				// blocks: a hostile captured length makes it allocate.
				if _, _, refErr = ref.ReadPacketData(); refErr != io.EOF {
					t.Fatalf("packet %d: File ends cleanly, pcapgo reads on: %v", n, refErr)
				}
			} else if err == io.EOF {
				t.Fatalf("packet %d: File ends cleanly, pcapgo failed with %v", n, refErr)
			}
			return n - 1, err
		}
		if refErr != nil {
			t.Fatalf("packet %d: pcapgo failed with %v, File read it", n, refErr)
		}
		want, ci, err := ref.ReadPacketData()
		if err != nil {
			t.Fatalf("packet %d: pcapgo: %v, File read it", n, err)
		}
		ifaces := f.Interfaces()
		base := len(ifaces) - ref.NInterfaces()
		wantLink := layers.LinkType(ifaces[p.Interface].LinkTypeNumber) // pcapgo's 8 bits
		if p.Timestamp != ci.Timestamp || p.Length != ci.Length || len(want) != ci.CaptureLength || !bytes.Equal(p.Data, want) ||
			p.Interface != base+ci.InterfaceIndex || ci.AncillaryData[0] != wantLink || p.LinkType != ifaces[p.Interface].LinkType {
			t.Fatalf("packet %d: File read %v, %d of %d bytes, interface %d, link %v; pcapgo %v, %d of %d bytes, interface %d+%d, link %v",
				n, p.Timestamp, len(p.Data), p.Length, p.Interface, p.LinkType, ci.Timestamp, len(want), ci.Length, base, ci.InterfaceIndex, ci.AncillaryData[0])
		}
	}
}

// epbAt is an enhanced packet block on interface iface with timestamp ts
// and a packet of n bytes, followed by opts.
func epbAt(iface uint32, ts uint64, n int, opts ...[]byte) []byte {
	data := ngPacket(n)
	return block(6, cat(le32(iface), le32(uint32(ts>>32)), le32(uint32(ts)), le32(uint32(len(data))), le32(uint32(len(data)+3)), data, cat(opts...)))
}

// pcapngFiles returns hand-built pcapng files of every block and option the
// reader handles, by name: timestamp resolutions of both bases, offsets,
// several sections in both byte orders, simple and obsolete packet blocks,
// skipped blocks, blocks longer than the walker's peek and than the read
// buffer.
func pcapngFiles() map[string][]byte {
	const ts = 0x0001_7a2b_3c4d_5e6f // a timestamp that uses both halves
	files := map[string][]byte{}
	for _, e := range []byte{0, 1, 3, 6, 9, 10, 12, 15, 19} {
		files[fmt.Sprintf("tsresol 10^-%d", e)] = ngFile(shb(), idb(1, 0, option(9, []byte{e})), epbAt(0, ts, 60), epbAt(0, ts+999_999_999, 61), epbAt(0, 0, 62))
	}
	for _, e := range []byte{0, 1, 9, 10, 20, 29, 30, 31, 32, 40, 63} {
		files[fmt.Sprintf("tsresol 2^-%d", e)] = ngFile(shb(), idb(1, 0, option(9, []byte{0x80 | e})), epbAt(0, ts, 60), epbAt(0, 1<<e-1, 61), epbAt(0, ^uint64(0), 62))
	}
	files["tsoffset"] = ngFile(shb(), idb(1, 0, option(14, le64(1_700_000_000)), option(9, []byte{9})), epbAt(0, ts, 60),
		idb(1, 0, option(14, le64(^uint64(0))), option(14, le64(86400)), option(9, []byte{3}), option(9, []byte{6})), epbAt(1, ts, 60))
	sectionLE := ngFile(shb(option(4, []byte("le"))), idb(1, 65535, option(2, []byte("eth0")), option(9, []byte{9})), epbAt(0, ts, 70), idb(113, 0), epbAt(1, ts, 71))
	files["sections in both byte orders"] = ngFile(sectionLE, swapPcapng(sectionLE), sectionLE)
	files["every packet block"] = ngFile(shb(), idb(1, 100), spb(60), spb(150), pb(0, 62), custom(), isb(0), epb(0, 63),
		shb(), idb(276, 0xffffffff), idb(300, 0), spb(200), epb(1, 64), pb(1, 65), block(0x80000001, nil))
	files["empty sections"] = ngFile(shb(), shb(), idb(1, 0), shb(), idb(228, 0), idb(229, 0), epb(1, 80))
	files["decryption secrets skipped"] = ngFile(shb(), block(0xa, cat(le32(capture.SecretsTLSKeyLog), le32(5), []byte("keys!"))), idb(1, 0), epb(0, 60))
	files["options past the peek"] = ngFile(shb(), idb(1, 0), epbAt(0, ts, 60, bytes.Repeat(option(1, make([]byte, 65000)), 2)), block(0xbad, make([]byte, 100_000)), epb(0, 61))
	files["options past the read buffer"] = ngFile(shb(), idb(1, 0), epbAt(0, ts, 60, bytes.Repeat(option(1, make([]byte, 65000)), 17)), epb(0, 61))
	files["packet of the largest size"] = ngFile(shb(), idb(1, 0), epb(0, capture.MaxCaptureLength), spb(capture.MaxCaptureLength))
	return files
}

func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// TestPcapngMatchesPcapgo reads hand-built pcapng files, every pcapng file
// in testdata and in the corpus, and the same in big-endian byte order,
// with File and with pcapgo's NgReader: the same packets, and File reads
// them all. The small files are also cut at every byte: File returns the
// packets pcapgo returns up to the cut.
func TestPcapngMatchesPcapgo(t *testing.T) {
	files := pcapngFiles()
	for _, dir := range []string{filepath.Join("..", "testdata"), corpusDir} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".pcapng") {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				files[path] = data
			}
			return nil
		})
	}
	for _, seed := range []string{"pcapng", "pcapng-null-ipv6", "pcapng-every-block"} {
		files["capturetest "+seed] = readerSeeds()[seed]
	}
	files["capturetest big-endian"] = swapPcapng(readerSeeds()["pcapng"])
	if len(files) < 30 {
		t.Fatalf("only %d pcapng files", len(files))
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			n, err := comparePcapngPcapgo(t, data)
			if err != io.EOF || n == 0 {
				t.Errorf("read %d packets then %v, want them all then io.EOF", n, err)
			}
			if len(data) > 4096 {
				return
			}
			for cut := range len(data) {
				comparePcapngPcapgo(t, data[:cut])
			}
		})
	}
}
