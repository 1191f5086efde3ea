package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
)

var update = flag.Bool("update", false, "rewrite the fuzz seed corpus in testdata/fuzz")

// FuzzReader reads arbitrary bytes as a capture file: no panic, errors of
// the documented kinds, packets within the limits, and for a pcap file the
// packets pcapgo's Reader finds.
func FuzzReader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if isPcap(data) {
			comparePcapgo(t, data)
		}
		file, err := capture.NewReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "capture: fuzz: ") {
				t.Fatalf("NewReader() = %q, want an error naming the file", err)
			}
			return
		}
		// The same bytes through ReadPacketTo, into a Packet left dirty by
		// the one before: the same packets and errors.
		twin, err := capture.NewReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			t.Fatalf("NewReader() the second time = %v, the first time nil", err)
		}
		dirty := capture.Packet{Number: -1, Timestamp: time.Unix(1, 2), LinkType: 99, Data: []byte("stale"), Length: 7, Interface: 3}
		gzipped := len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b
		for n := int64(1); ; n++ {
			p, err := file.ReadPacket()
			q := dirty
			qerr := twin.ReadPacketTo(&q)
			if fmt.Sprint(qerr) != fmt.Sprint(err) || !samePacket(p, q) {
				t.Fatalf("packet %d: ReadPacketTo() = %+v, %v; ReadPacket() = %+v, %v", n, q, qerr, p, err)
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				var fe *capture.FormatError
				if !errors.As(err, &fe) || fe.Path != "fuzz" || fe.Packet != n || fe.Offset < 0 || !gzipped && fe.Offset > int64(len(data)) {
					t.Fatalf("ReadPacket() = %#v, want a *FormatError for packet %d within the file", err, n)
				}
				if _, again := file.ReadPacket(); again != err {
					t.Fatalf("ReadPacket() after %v = %v, want the same error", err, again)
				}
				return
			}
			if p.Number != n || len(p.Data) > capture.MaxCaptureLength || p.Interface < 0 || p.Interface >= len(file.Interfaces()) {
				t.Fatalf("packet %d: Number %d, %d bytes, interface %d of %d", n, p.Number, len(p.Data), p.Interface, len(file.Interfaces()))
			}
			var seg capture.Segment
			capture.DecodeTCP(&p, &seg)
		}
	})
}

// samePacket reports whether p and q are the same packet, Data compared by
// content (nil and empty alike).
func samePacket(p, q capture.Packet) bool {
	return p.Number == q.Number && p.Timestamp.Equal(q.Timestamp) && p.Timestamp.Location() == q.Timestamp.Location() &&
		p.LinkType == q.LinkType && bytes.Equal(p.Data, q.Data) && p.Length == q.Length && p.Interface == q.Interface
}

// FuzzPcapngPcapgo reads arbitrary bytes as a pcapng file with File and
// with pcapgo's NgReader, the oracle File's pcapng reader replaced: the same
// packets, field by field, File stopping with an error where pcapgo does
// (or earlier: see comparePcapngPcapgo for what only File checks).
func FuzzPcapngPcapgo(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if isPcapng(data) {
			comparePcapngPcapgo(t, data)
		}
	})
}

// FuzzDecodeTCP decodes arbitrary bytes on any link type: no panic, and a
// segment that stays within the packet.
func FuzzDecodeTCP(f *testing.F) {
	f.Fuzz(func(t *testing.T, link uint8, data []byte, uncaptured uint16) {
		p := capture.Packet{LinkType: capture.LinkType(link), Data: data, Length: len(data) + int(uncaptured)}
		var seg capture.Segment
		if !capture.DecodeTCP(&p, &seg) {
			if seg.Payload != nil || seg.Missing != 0 || seg.Flags != 0 {
				t.Fatalf("DecodeTCP() = false left %+v", seg)
			}
			return
		}
		if len(seg.Payload) > 0 {
			start := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
			at := uintptr(unsafe.Pointer(unsafe.SliceData(seg.Payload)))
			if at < start || at+uintptr(len(seg.Payload)) > start+uintptr(len(data)) {
				t.Fatalf("DecodeTCP(): payload outside the packet")
			}
		}
		if seg.Missing < 0 || seg.Missing > 65535+len(data)+int(uncaptured) {
			t.Fatalf("DecodeTCP(): Missing = %d", seg.Missing)
		}
		if !seg.Src.IsValid() || !seg.Dst.IsValid() || seg.Src.Addr().Is4() != seg.Dst.Addr().Is4() {
			t.Fatalf("DecodeTCP(): addresses %v > %v", seg.Src, seg.Dst)
		}
	})
}

// shortCapture is a small conversation for fuzz seeds.
func shortCapture(opts capturetest.Options, v6 bool) []byte {
	c := capturetest.NewCapture(opts)
	client, server := "10.0.0.1:50000", "10.0.0.2:80"
	if v6 {
		client, server = "[2001:db8::1]:50000", "[2001:db8::2]:80"
	}
	k := c.Conn(client, server)
	k.Handshake()
	k.Client([]byte("GET / HTTP/1.1\r\n\r\n"))
	k.Server([]byte("HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x05hello"))
	k.CloseFIN(true)
	return c.Bytes()
}

// readerSeeds returns the seeds of FuzzReader, by name.
func readerSeeds() map[string][]byte {
	return map[string][]byte{
		"pcap":               shortCapture(capturetest.Options{Snaplen: 4096}, false),
		"pcap-sll2-ipv6":     shortCapture(capturetest.Options{LinkType: capture.LinkTypeLinuxSLL2, Snaplen: 4096}, true),
		"pcapng":             shortCapture(capturetest.Options{NG: true, VLANs: []uint16{7}}, false),
		"pcapng-null-ipv6":   shortCapture(capturetest.Options{NG: true, Null: true}, true),
		"pcap-big-endian":    swapPcap(shortCapture(capturetest.Options{Snaplen: 4096}, false), true),
		"pcapng-big-endian":  swapPcapng(shortCapture(capturetest.Options{NG: true}, false)),
		"pcap-gzip":          gzipped(shortCapture(capturetest.Options{Snaplen: 4096}, false)),
		"pcapng-gzip":        gzipped(shortCapture(capturetest.Options{NG: true}, false)),
		"pcapng-every-block": ngFile(shb(option(4, []byte("seed"))), idb(1, 0, option(2, []byte("eth0")), option(9, []byte{6}), option(14, make([]byte, 8))), custom(), epb(0, 60), spb(61), pb(0, 62), isb(0), idb(276, 0xffffffff), shb(), idb(228, 128), epb(0, 64)),
		"pcap-truncated":     shortCapture(capturetest.Options{Snaplen: 4096}, false)[:200],
		"pcapng-bad-trailer": ngFile(shb(), idb(1, 0), cat(epb(0, 60)[:88], le32(96))),
		"pcap-snaplen-cut":   shortCapture(capturetest.Options{Snaplen: 60}, false),
	}
}

// fuzzSeeds returns the seed corpus of each fuzz target, by file name.
func fuzzSeeds() map[string]map[string]string {
	reader := readerSeeds()
	decode := map[string][]byte{}
	for _, lt := range captureLinks {
		for _, v6 := range []bool{false, true} {
			if v6 && !lt.v6 || !v6 && !lt.v4 {
				continue
			}
			opts := lt.opts
			opts.NG = true
			f, err := capture.NewReader(bytes.NewReader(shortCapture(opts, v6)), "seed")
			if err != nil {
				panic(err)
			}
			for range 4 {
				f.ReadPacket()
			}
			p, _ := f.ReadPacket() // the server's data
			ipVersion := "ipv4"
			if v6 {
				ipVersion = "ipv6"
			}
			decode[lt.name+"-"+ipVersion] = append([]byte{byte(p.LinkType)}, p.Data...)
		}
	}
	decode["ipv4-first-fragment"] = append([]byte{byte(capture.LinkTypeRaw)}, ipv4(6, 5, -1, 0x2000, tcp(5, capture.ACK, "frag"))...)
	decode["ipv4-options-tso"] = append([]byte{byte(capture.LinkTypeRaw)}, ipv4(6, 7, 0, 0, tcp(8, capture.ACK, "tso"))...)
	decode["ipv6-extensions"] = append([]byte{byte(capture.LinkTypeRaw)}, ipv6(0, -1, cat(ext(43, 1), ext(60, 0), ext(51, 0), ah(44), fragHeader(6, 0, true), tcp(5, capture.ACK, "ext")))...)
	// PKTAP's other interfaces (captureLinks's is en0, Ethernet): the
	// loopback, and DLT_RAW as macOS numbers it in a longer header.
	decode["pktap-null"] = append([]byte{byte(capture.LinkTypePKTAP)}, pktap(108, 1, 0, cat(le32(30), ipv6(6, -1, tcp(5, capture.ACK, "lo0"))))...)
	decode["pktap-raw12-v2"] = append([]byte{byte(capture.LinkTypePKTAP)}, pktap(156, 1, 12, ipv4(6, 5, -1, 0, tcp(5, capture.ACK, "pdp_ip0")))...)

	seeds := map[string]map[string]string{"FuzzReader": {}, "FuzzDecodeTCP": {}, "FuzzDecoder": {}, "FuzzPcapngPcapgo": {}}
	for name, data := range pcapngFiles() {
		if len(data) <= 4096 {
			name = strings.NewReplacer(" ", "-", "^", "").Replace(name)
			seeds["FuzzPcapngPcapgo"][name] = fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		}
	}
	for name, data := range decoderSeeds() {
		seeds["FuzzDecoder"][name] = fmt.Sprintf("go test fuzz v1\nuint8(%d)\n[]byte(%q)\n", data[0], data[1:])
		// DecodeTCP unwraps the same tunnels (the first packet, a SYN).
		if n := int(binary.BigEndian.Uint16(data[1:])); !strings.HasPrefix(name, "fragments") {
			decode[name] = append([]byte{data[0]}, data[4:4+n]...)
		}
	}
	for name, data := range reader {
		seeds["FuzzReader"][name] = fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if isPcapng(data) {
			seeds["FuzzPcapngPcapgo"][name] = seeds["FuzzReader"][name]
		}
	}
	for name, data := range decode {
		seeds["FuzzDecodeTCP"][name] = fmt.Sprintf("go test fuzz v1\nuint8(%d)\n[]byte(%q)\nuint16(0)\n", data[0], data[1:])
	}
	return seeds
}

// TestFuzzSeeds keeps the seed corpus in testdata/fuzz in step with the
// code that makes it: go test -run TestFuzzSeeds -update rewrites it.
func TestFuzzSeeds(t *testing.T) {
	for target, files := range fuzzSeeds() {
		dir := filepath.Join("testdata", "fuzz", target)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for name, content := range files {
			path := filepath.Join(dir, "seed-"+name)
			if *update {
				if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != content {
				t.Errorf("%s is missing or stale (err %v): run go test -run TestFuzzSeeds -update", path, err)
			}
		}
	}
}
