package save

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/wsviz/wsviz/capture"
)

// pcapgoInterface is iface as pcapgo's writer took it.
func pcapgoInterface(iface Interface) pcapgo.NgInterface {
	return pcapgo.NgInterface{
		Name:                iface.Name,
		Description:         iface.Description,
		Filter:              iface.Filter,
		OS:                  iface.OS,
		LinkType:            layers.LinkType(iface.LinkType),
		SnapLength:          uint32(max(iface.SnapLen, 0)),
		TimestampResolution: 9,
	}
}

// TestNgWriterMatchesPcapgo makes the same calls on NgWriter and on
// gopacket's pcapgo.NgWriter, which wsviz used before: sections and
// interfaces with every option present or absent and of every padding,
// packets of every padding and timestamps before 1970, zero and
// nanosecond-precise, several interfaces, statistics with and without
// times and counts. The files must be the same, byte for byte.
func TestNgWriterMatchesPcapgo(t *testing.T) {
	sections := []Section{
		WsvizSection,
		{},
		{Application: "a"},
		{Hardware: "hw", OS: "os3"},
	}
	ifaces := []Interface{
		testInterface,
		{LinkType: capture.LinkTypeEthernet},
		{Name: "eth0", OS: runtime.GOOS, LinkType: capture.LinkTypeLinuxSLL, SnapLen: 65535},
		{Name: "x", Description: "ab", Filter: "tcp", OS: "abcd", LinkType: capture.LinkTypeRaw, SnapLen: -1},
		{Description: strings.Repeat("d", 1001), Filter: "t", LinkType: capture.LinkTypeNull},
	}
	times := []time.Time{
		{},
		time.Unix(0, 0),
		time.Unix(-1, 999_999_999),
		time.Date(1960, 1, 2, 3, 4, 5, 6, time.UTC),
		time.Date(2026, 11, 30, 15, 35, 0, 123456789, time.UTC),
		time.Date(2262, 4, 11, 0, 0, 0, 0, time.UTC),
	}
	stats := []IfaceStats{
		{},
		{LastUpdate: times[4], Start: times[1], End: times[4], Received: 10, Dropped: 2},
		{Start: times[3], Received: unknownCount, Dropped: 0},
		{End: times[5], Received: 1, Dropped: unknownCount},
	}
	for si, sec := range sections {
		var got, want bytes.Buffer
		w, err := NewNgWriter(&got, sec)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := pcapgo.NewNgWriterInterface(&want, pcapgoInterface(ifaces[si]), pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
			Application: sec.Application, Hardware: sec.Hardware, OS: sec.OS,
		}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.AddInterface(ifaces[si]); err != nil {
			t.Fatal(err)
		}
		for _, iface := range ifaces {
			id, err := w.AddInterface(iface)
			refID, refErr := ref.AddInterface(pcapgoInterface(iface))
			if err != nil || refErr != nil || id != refID {
				t.Fatalf("AddInterface(%+v) = %d, %v; pcapgo %d, %v", iface, id, err, refID, refErr)
			}
		}
		for i, ts := range times {
			for n := range 9 {
				id := (i + n) % (len(ifaces) + 1)
				data := bytes.Repeat([]byte{byte(n + 1)}, n*7)
				for _, length := range []int{0, len(data), len(data) + 3} {
					p := capture.Packet{Timestamp: ts, Data: data, Length: length}
					ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: max(length, len(data)), InterfaceIndex: id}
					if err, refErr := w.WritePacket(id, &p), ref.WritePacket(ci, data); err != nil || refErr != nil {
						t.Fatalf("WritePacket = %v; pcapgo %v", err, refErr)
					}
				}
			}
		}
		for i, st := range stats {
			ref.WriteInterfaceStats(i, pcapgo.NgInterfaceStatistics{
				LastUpdate: st.LastUpdate, StartTime: st.Start, EndTime: st.End, PacketsReceived: st.Received, PacketsDropped: st.Dropped,
			})
			if err := w.WriteStats(i, st); err != nil {
				t.Fatal(err)
			}
		}
		w.Flush()
		ref.Flush()
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			g, wb := got.Bytes(), want.Bytes()
			i := 0
			for i < min(len(g), len(wb)) && g[i] == wb[i] {
				i++
			}
			t.Errorf("section %d: %d bytes, pcapgo %d; first difference at byte %d", si, len(g), len(wb), i)
		}
	}
}

// TestNgWriterErrors: packets and statistics of an interface not added,
// and an option too long for its 16-bit length, are errors; an option of
// 65,535 bytes is not.
func TestNgWriterErrors(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewNgWriter(&buf, WsvizSection)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(0, &capture.Packet{Data: []byte{1}}); err == nil || !strings.Contains(err.Error(), "interface 0") {
		t.Errorf("WritePacket(0) before AddInterface = %v, want an error naming interface 0", err)
	}
	if err := w.WriteStats(0, IfaceStats{}); err == nil {
		t.Errorf("WriteStats(0) before AddInterface = nil, want an error")
	}
	if _, err := w.AddInterface(Interface{Filter: strings.Repeat("x", 0xffff)}); err == nil || !strings.Contains(err.Error(), "65535") {
		t.Errorf("AddInterface with a filter of 65,536 bytes = %v, want an error", err)
	}
	if _, err := w.AddInterface(Interface{Filter: strings.Repeat("x", 0xfffe)}); err != nil {
		t.Errorf("AddInterface with a filter of 65,535 bytes = %v", err)
	}
}

// TestNgWriterSLL2 writes Linux cooked v2 and Apple's PKTAP with their
// numbers, 276 and 258, which pcapgo's 8-bit link type could not, and
// File reads them back as SLL2 and PKTAP.
func TestNgWriterSLL2(t *testing.T) {
	for _, tc := range []struct {
		link   capture.LinkType
		number uint32
	}{
		{capture.LinkTypeLinuxSLL2, 276},
		{capture.LinkTypePKTAP, 258},
	} {
		var buf bytes.Buffer
		w, _ := NewNgWriter(&buf, WsvizSection)
		w.AddInterface(Interface{LinkType: tc.link})
		w.WritePacket(0, &capture.Packet{Data: make([]byte, 20), Length: 20})
		w.Flush()
		f, err := capture.NewReader(&buf, "ng")
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.ReadPacket()
		if err != nil || p.LinkType != tc.link || f.Interfaces()[0].LinkTypeNumber != tc.number {
			t.Errorf("read back link type %d (number %d), %v; want %d, %d", p.LinkType, f.Interfaces()[0].LinkTypeNumber, err, tc.link, tc.number)
		}
	}
}
