package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
	"github.com/wsviz/wsviz/capture/save"
)

// TestSkippedLinkTypesNoted: packets of a link type wsviz does not decode
// (802.11, USB) are skipped, and every command that reads a file says so
// on stderr, naming the interface of a pcapng file that mixes it with one
// it decodes, whose session is decoded as ever. A capture of nothing
// wsviz reads once ended without a word.
func TestSkippedLinkTypesNoted(t *testing.T) {
	dir := t.TempDir()

	// A pcap of 802.11 frames only.
	pcap := binary.LittleEndian.AppendUint32(nil, 0xa1b2c3d4)
	pcap = binary.LittleEndian.AppendUint16(pcap, 2)
	pcap = binary.LittleEndian.AppendUint16(pcap, 4)
	pcap = append(pcap, make([]byte, 8)...)
	pcap = binary.LittleEndian.AppendUint32(pcap, 65535)
	pcap = binary.LittleEndian.AppendUint32(pcap, 105)
	for i := range 3 {
		pcap = binary.LittleEndian.AppendUint32(pcap, uint32(1700000000+i))
		pcap = binary.LittleEndian.AppendUint32(pcap, 0)
		pcap = binary.LittleEndian.AppendUint32(pcap, 40)
		pcap = binary.LittleEndian.AppendUint32(pcap, 40)
		pcap = append(pcap, make([]byte, 40)...)
	}
	wifi := filepath.Join(dir, "wifi.pcap")
	if err := os.WriteFile(wifi, pcap, 0o644); err != nil {
		t.Fatal(err)
	}

	// A pcapng with a WebSocket session on eth0 and USB traffic on usbmon0.
	c := capturetest.NewCapture(capturetest.Options{})
	k := c.Conn("10.0.0.1:50000", "10.0.0.2:9001")
	k.Handshake()
	k.Client(analyzetest.Request("/chat"))
	k.Server(analyzetest.Response())
	k.Client(analyzetest.Text(true, "hello"))
	var ng bytes.Buffer
	w, err := save.NewNgWriter(&ng, save.Section{Application: "test"})
	if err != nil {
		t.Fatal(err)
	}
	eth, _ := w.AddInterface(save.Interface{Name: "eth0", LinkType: capture.LinkTypeEthernet})
	usb, _ := w.AddInterface(save.Interface{Name: "usbmon0", LinkType: 220})
	f := c.Open()
	for {
		p, err := f.ReadPacket()
		if err != nil {
			break
		}
		if err := w.WritePacket(eth, &p); err != nil {
			t.Fatal(err)
		}
		junk := capture.Packet{Timestamp: p.Timestamp, Data: make([]byte, 64), Length: 64}
		if err := w.WritePacket(usb, &junk); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	mixed := filepath.Join(dir, "mixed.pcapng")
	if err := os.WriteFile(mixed, ng.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, cmd := range [][]string{{"events"}, {"events", "-T", "text"}, {"stats"}, {"check"}, {"transcript"}, {"har"}, {"events", "-q"}} {
		name := strings.Join(cmd, " ")
		code, _, stderr := runWsviz(append(cmd, "-r", wifi)...)
		if code != 0 || !strings.Contains(stderr, "wsviz: the capture's link type, 802.11 (LINKTYPE 105), is not one wsviz decodes: its packets were skipped") {
			t.Errorf("wsviz %s -r wifi.pcap: exit %d, stderr %q; want 0 and the note", name, code, stderr)
		}
		code, stdout, stderr := runWsviz(append(cmd, "-r", mixed)...)
		if code != 0 || !strings.Contains(stderr, "wsviz: interface 1 (usbmon0) has link type USB (LINKTYPE 220), not one wsviz decodes") || strings.Contains(stderr, "interface 0") {
			t.Errorf("wsviz %s -r mixed.pcapng: exit %d, stderr %q; want 0 and a note on interface 1 only", name, code, stderr)
		}
		if cmd[0] == "events" && !strings.Contains(stdout, "hello") {
			t.Errorf("wsviz %s -r mixed.pcapng: the session on eth0 is not decoded:\n%s", name, stdout)
		}
	}
	// A capture wsviz reads gets no note.
	if _, _, stderr := runWsviz("events", "-r", "../../testdata/demo.pcapng"); strings.Contains(stderr, "not one wsviz decodes") {
		t.Errorf("wsviz events on demo.pcapng notes %q", stderr)
	}
}

// TestLateDataNotedByCommands: data captured on a connection that had
// already ended (300 ms after its RST, past the 200 ms linger) is said on
// stderr by every command that decodes (and decoded with a longer
// --reorder-ms), and not by a capture without any.
func TestLateDataNotedByCommands(t *testing.T) {
	c := capturetest.NewCapture(capturetest.Options{})
	k := c.Conn("127.0.0.1:50000", "127.0.0.1:9001")
	k.Handshake()
	k.Client(analyzetest.Request("/chat"))
	k.Server(analyzetest.Response())
	k.Reset(true)
	c.Advance(300 * time.Millisecond)
	k.Server(analyzetest.Text(false, "too late"))
	path := filepath.Join(t.TempDir(), "late.pcap")
	if err := c.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	const note = "wsviz: 1 segment with 10 bytes of data came after their connection had ended"
	for _, cmd := range [][]string{{"events"}, {"events", "-T", "text"}, {"stats"}, {"check"}, {"transcript"}, {"har"}} {
		name := strings.Join(cmd, " ")
		if code, _, stderr := runWsviz(append(cmd, "-r", path)...); code != 0 || !strings.Contains(stderr, note) {
			t.Errorf("wsviz %s: exit %d, stderr %q; want 0 and %q", name, code, stderr, note)
		}
	}
	// As the note says, a longer linger decodes it.
	if code, stdout, stderr := runWsviz("events", "--reorder-ms", "500", "-r", path); code != 0 || strings.Contains(stderr, "came after") || !strings.Contains(stdout, `"text":"too late"`) {
		t.Errorf("wsviz events --reorder-ms 500: exit %d, stderr %q; want the message decoded and no note", code, stderr)
	}
	if _, _, stderr := runWsviz("events", "-r", "../../testdata/rst-crossing.pcapng"); strings.Contains(stderr, "came after their connection had ended") {
		t.Errorf("wsviz events on rst-crossing.pcapng notes %q", stderr)
	}
}
