package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
