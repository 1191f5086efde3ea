package save

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/wsviz/wsviz/capture"
)

// testPackets returns packets of awkward sizes: empty, odd lengths that
// need padding, one cut by a snap length, and a big one.
func testPackets() []capture.Packet {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	var ps []capture.Packet
	for i, n := range []int{0, 1, 2, 3, 4, 5, 60, 1514, 65535, 70000} {
		data := make([]byte, n)
		for j := range data {
			data[j] = byte(i*7 + j)
		}
		p := capture.Packet{
			Number:    int64(i + 1),
			Timestamp: t0.Add(time.Duration(i) * 1001 * time.Nanosecond),
			LinkType:  capture.LinkTypeEthernet,
			Data:      data,
			Length:    n,
		}
		if n == 60 {
			p.Length = 1500 // cut by a snap length
		}
		ps = append(ps, p)
	}
	return ps
}

var testInterface = Interface{
	Name:        "lo",
	Description: "loopback",
	Filter:      "tcp port 9001 and (not port 8080)",
	LinkType:    capture.LinkTypeEthernet,
	SnapLen:     262144,
}

// readBack reads a pcapng file with gopacket's reader.
func readBack(t *testing.T, r io.Reader) (*pcapgo.NgReader, []capture.Packet, *pcapgo.NgInterfaceStatistics) {
	t.Helper()
	var stats *pcapgo.NgInterfaceStatistics
	opts := pcapgo.NgReaderOptions{StatisticsCallback: func(_ int, s pcapgo.NgInterfaceStatistics) { stats = &s }}
	ng, err := pcapgo.NewNgReader(r, opts)
	if err != nil {
		t.Fatalf("NewNgReader = %v", err)
	}
	var ps []capture.Packet
	for {
		data, ci, err := ng.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("ReadPacketData after %d packets = %v", len(ps), err)
		}
		ps = append(ps, capture.Packet{Timestamp: ci.Timestamp, Data: data, Length: ci.Length, LinkType: capture.LinkType(ng.LinkType())})
	}
	return ng, ps, stats
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.pcapng")
	w, err := Create(path, testInterface)
	if err != nil {
		t.Fatal(err)
	}
	want := testPackets()
	for i := range want {
		if err := w.WritePacket(&want[i]); err != nil {
			t.Fatalf("WritePacket(%d) = %v", i, err)
		}
	}
	if got := w.Packets(); got != int64(len(want)) {
		t.Errorf("Packets() = %d, want %d", got, len(want))
	}
	w.SetStats(Stats{Received: 12, Dropped: 2})
	if err := w.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
	if err := w.WritePacket(&want[0]); !errors.Is(err, os.ErrClosed) {
		t.Errorf("WritePacket after Close = %v, want ErrClosed", err)
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ng, got, stats := readBack(t, f)
	if len(got) != len(want) {
		t.Fatalf("read %d packets, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i].Data, want[i].Data) || got[i].Length != want[i].Length || !got[i].Timestamp.Equal(want[i].Timestamp) {
			t.Errorf("packet %d = (%d bytes of %d at %v), want (%d bytes of %d at %v)", i+1,
				len(got[i].Data), got[i].Length, got[i].Timestamp, len(want[i].Data), want[i].Length, want[i].Timestamp)
		}
	}
	intf, err := ng.Interface(0)
	if err != nil {
		t.Fatal(err)
	}
	if intf.Name != "lo" || intf.Description != "loopback" || intf.LinkType != layers.LinkTypeEthernet || intf.SnapLength != 262144 {
		t.Errorf("Interface(0) = %+v, want lo, loopback, Ethernet, 262144", intf)
	}
	if !strings.HasSuffix(intf.Filter, testInterface.Filter) {
		t.Errorf("Interface(0).Filter = %q, want %q", intf.Filter, testInterface.Filter)
	}
	if ng.SectionInfo().Application != "wsviz" {
		t.Errorf("SectionInfo().Application = %q, want wsviz", ng.SectionInfo().Application)
	}
	if stats == nil {
		t.Fatal("no Interface Statistics Block read")
	}
	if stats.PacketsReceived != 12 || stats.PacketsDropped != 2 {
		t.Errorf("statistics = %d received, %d dropped, want 12, 2", stats.PacketsReceived, stats.PacketsDropped)
	}
	if !stats.StartTime.Equal(want[0].Timestamp) || !stats.EndTime.Equal(want[len(want)-1].Timestamp) {
		t.Errorf("statistics span %v to %v, want %v to %v", stats.StartTime, stats.EndTime, want[0].Timestamp, want[len(want)-1].Timestamp)
	}
}

func TestFlush(t *testing.T) {
	// After Flush a reader of the file sees every packet written so far,
	// while the writer is still open.
	path := filepath.Join(t.TempDir(), "live.pcapng")
	w, err := Create(path, testInterface)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ps := testPackets()[:4]
	for i := range ps {
		if err := w.WritePacket(&ps[i]); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatalf("Flush() = %v", err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		_, got, _ := readBack(t, bytes.NewReader(data))
		if len(got) != i+1 {
			t.Errorf("after %d packets and Flush, the file holds %d", i+1, len(got))
		}
	}
}

// sliceSource hands out packets from a slice.
type sliceSource struct {
	ps  []capture.Packet
	err error
}

func (s *sliceSource) ReadPacket() (capture.Packet, error) {
	if len(s.ps) == 0 {
		return capture.Packet{}, s.err
	}
	p := s.ps[0]
	s.ps = s.ps[1:]
	return p, nil
}

func TestTee(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testInterface)
	if err != nil {
		t.Fatal(err)
	}
	want := testPackets()
	errCut := errors.New("cut")
	src := Tee(&sliceSource{ps: append([]capture.Packet(nil), want...), err: errCut}, w)
	n := 0
	for {
		p, err := src.ReadPacket()
		if err != nil {
			if err != errCut {
				t.Fatalf("ReadPacket = %v, want the source's error", err)
			}
			break
		}
		if p.Number != want[n].Number {
			t.Errorf("ReadPacket #%d = packet %d, want %d", n, p.Number, want[n].Number)
		}
		n++
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, got, stats := readBack(t, &buf)
	if len(got) != len(want) || n != len(want) {
		t.Errorf("Tee passed %d packets and saved %d, want %d", n, len(got), len(want))
	}
	if stats != nil {
		t.Errorf("statistics block written without SetStats")
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	w, err := NewWriter(&failWriter{n: 1 << 10}, testInterface)
	if err != nil {
		t.Fatal(err)
	}
	src := Tee(&sliceSource{ps: testPackets(), err: io.EOF}, w)
	for {
		_, err = src.ReadPacket()
		if err != nil {
			break
		}
	}
	if err == io.EOF || !strings.Contains(err.Error(), "disk full") || !strings.HasPrefix(err.Error(), "save: ") {
		t.Errorf("ReadPacket through a failing writer = %v, want save: ... disk full", err)
	}
	if _, err := Create(filepath.Join(t.TempDir(), "no", "such", "dir.pcapng"), testInterface); err == nil || !strings.HasPrefix(err.Error(), "save: ") {
		t.Errorf("Create in a missing directory = %v, want a save: error", err)
	}
}
