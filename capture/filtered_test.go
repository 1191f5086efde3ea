package capture_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
	"github.com/wsviz/wsviz/capture/filter"
)

// TestFilterSourceEveryLinkType: a filter on a capture file works on every
// link type the decoder reads, in one pcapng file that mixes them (one
// interface each) and in a pcap file of each. It once failed the whole read
// ("filter: link type Null (0) is not supported") on BSD and macOS loopback,
// OpenBSD loopback and Linux cooked v2, which tcpdump -i any writes since
// libpcap 1.10.
func TestFilterSourceEveryLinkType(t *testing.T) {
	links := []struct {
		link capture.LinkType
		v4   bool
		v6   bool
	}{
		{capture.LinkTypeEthernet, true, true},
		{capture.LinkTypeLinuxSLL, true, true},
		{capture.LinkTypeLinuxSLL2, true, true},
		{capture.LinkTypeNull, true, true},
		{capture.LinkTypeLoop, true, true},
		{capture.LinkTypeRaw, true, true},
		{12, true, true},
		{14, true, true},
		{capture.LinkTypeIPv4, true, false},
		{capture.LinkTypeIPv6, false, true},
		{capture.LinkTypePPP, true, true},
		{capture.LinkTypePPPHDLC, true, true},
		{capture.LinkTypePPPWithDir, true, true},
		{capture.LinkTypeCHDLC, true, true},
		{capture.LinkTypeCHDLCWithDir, true, true},
		{capture.LinkTypeNFLOG, true, true},
		{capture.LinkTypePKTAP, true, true},
	}
	// script writes, on the link type, a connection to port 80 and one to
	// port 81 of each IP version it carries, and returns how many packets
	// are on port 80.
	script := func(c *capturetest.Capture, link capture.LinkType, v4, v6 bool, i int) (port80 int) {
		var pairs [][2]string
		if v4 {
			pairs = append(pairs, [2]string{fmt.Sprintf("10.0.%d.1:40000", i), fmt.Sprintf("10.0.%d.2:%%d", i)})
		}
		if v6 {
			pairs = append(pairs, [2]string{fmt.Sprintf("[2001:db8::%d:1]:40000", i), fmt.Sprintf("[2001:db8::%d:2]:%%d", i)})
		}
		for _, pair := range pairs {
			for _, port := range []int{80, 81} {
				before := c.Packets()
				k := c.ConnLink(link, pair[0], fmt.Sprintf(pair[1], port))
				k.Handshake()
				k.Client([]byte("GET / HTTP/1.1\r\n\r\n"))
				k.Server([]byte("HTTP/1.1 200 OK\r\n\r\n"))
				k.CloseFIN(true)
				k.CloseFIN(false)
				if port == 80 {
					port80 += c.Packets() - before
				}
			}
		}
		return port80
	}
	// check reads data through FilterSource and the Decoder's filter, as
	// every command does, and wants exactly the port-80 packets.
	check := func(t *testing.T, data []byte, want int) {
		t.Helper()
		src, err := capture.NewReader(bytes.NewReader(data), "test")
		if err != nil {
			t.Fatal(err)
		}
		f := filter.MustParse("tcp port 80")
		filtered := capture.FilterSource(src, f)
		dec := capture.NewDecoder(capture.DecoderOptions{Filter: f})
		var seg capture.Segment
		got := 0
		for {
			p, err := filtered.ReadPacket()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("after %d packets: %v", got, err)
			}
			if !dec.Decode(&p, &seg) {
				// The Decoder's precise test: FilterSource lets through
				// what it cannot judge (PPP, NFLOG, PKTAP, tags, PPPoE). A
				// port-80 packet lost here fails the count below.
				continue
			}
			if seg.Src.Port() != 80 && seg.Dst.Port() != 80 {
				t.Errorf("packet %d (link type %d): %v → %v passed tcp port 80", p.Number, p.LinkType, seg.Src, seg.Dst)
			}
			got++
		}
		if got != want {
			t.Errorf("%d packets passed tcp port 80, want %d", got, want)
		}
	}

	ng := capturetest.NewCapture(capturetest.Options{NG: true})
	total := 0
	for i, l := range links {
		total += script(ng, l.link, l.v4, l.v6, i)
		t.Run(fmt.Sprintf("pcap/%d", l.link), func(t *testing.T) {
			opts := capturetest.Options{LinkType: l.link}
			if l.link == capture.LinkTypeNull {
				opts = capturetest.Options{Null: true}
			}
			c := capturetest.NewCapture(opts)
			n := script(c, l.link, l.v4, l.v6, i)
			check(t, c.Bytes(), n)
		})
	}
	t.Run("pcapng with every link type", func(t *testing.T) {
		check(t, ng.Bytes(), total)
	})
	for _, opts := range []capturetest.Options{{PPPoE: true}, {PPPoE: true, VLANs: []uint16{7}}, {VLANs: []uint16{7, 8}}} {
		t.Run(fmt.Sprintf("ethernet pppoe=%v vlans=%v", opts.PPPoE, opts.VLANs), func(t *testing.T) {
			c := capturetest.NewCapture(opts)
			n := script(c, capture.LinkTypeEthernet, true, true, 99)
			check(t, c.Bytes(), n)
		})
	}
}

// sliceSource hands out its packets, then io.EOF.
type sliceSource []capture.Packet

func (s *sliceSource) ReadPacket() (capture.Packet, error) {
	if len(*s) == 0 {
		return capture.Packet{}, io.EOF
	}
	p := (*s)[0]
	*s = (*s)[1:]
	return p, nil
}

// TestFilterSourceSkipsUnsupportedLinks: packets of a link type DecodeTCP
// does not read (a pcapng file's 802.11 or USB interface) cannot match and
// are left out; those of a link type it reads but the filter has no fixed
// offsets for (PPP) all come, for the Decoder's precise test; the packets
// after them still come.
func TestFilterSourceSkipsUnsupportedLinks(t *testing.T) {
	c := capturetest.NewCapture(capturetest.Options{})
	k := c.Conn("10.0.0.1:40000", "10.0.0.2:80")
	k.Handshake()
	var eth []capture.Packet
	f := c.Open()
	for {
		p, err := f.ReadPacket()
		if err != nil {
			break
		}
		p.Data = bytes.Clone(p.Data)
		eth = append(eth, p)
	}
	src := sliceSource{
		{Number: 1, LinkType: capture.LinkTypePPP, Data: []byte{0xff, 0x03, 0x00, 0x21, 0x45}},
		eth[0],
		{Number: 3, LinkType: 105, Data: make([]byte, 40)},
		eth[1],
		{Number: 5, LinkType: 220, Data: make([]byte, 40)}, // USB
	}
	src[1].Number, src[3].Number = 2, 4
	filtered := capture.FilterSource(&src, filter.MustParse("tcp port 80"))
	var got []int64
	for {
		p, err := filtered.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("ReadPacket after %v: %v", got, err)
		}
		got = append(got, p.Number)
	}
	if fmt.Sprint(got) != "[1 2 4]" {
		t.Errorf("packets passed = %v, want [1 2 4]", got)
	}
}

// TestDecodableMatchesDecodeTCP holds the list FilterSource and wsviz's
// note on skipped link types consult (which link types DecodeTCP reads) to
// DecodeTCP itself: every link type
// capturetest writes decodes and is listed; every listed one can be
// written, so none is listed that DecodeTCP does not read.
func TestDecodableMatchesDecodeTCP(t *testing.T) {
	for lt := range 256 {
		link := capture.LinkType(lt)
		var c *capturetest.Capture
		func() {
			defer func() {
				if recover() != nil {
					c = nil
				}
			}()
			opts := capturetest.Options{LinkType: link, Null: link == capture.LinkTypeNull}
			client, server := "10.0.0.1:40000", "10.0.0.2:80"
			if link == capture.LinkTypeIPv6 {
				client, server = "[2001:db8::1]:40000", "[2001:db8::2]:80"
			}
			c = capturetest.NewCapture(opts)
			c.Conn(client, server).Handshake()
		}()
		written := c != nil
		if got := capture.Decodable(link); got != written {
			t.Errorf("link type %d: Decodable = %v, capturetest writes it: %v", lt, got, written)
		}
		if c == nil {
			continue
		}
		f := c.Open()
		p, err := f.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		var seg capture.Segment
		if !capture.DecodeTCP(&p, &seg) {
			t.Errorf("link type %d: DecodeTCP of capturetest's SYN = false", lt)
		}
	}
}
