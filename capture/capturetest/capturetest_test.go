package capturetest_test

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// decoded is what a test expects of one captured segment.
type decoded struct {
	fromClient bool
	flags      uint8
	seq, ack   uint32 // relative to each side's ISN
	payload    string
}

func (d decoded) String() string {
	dir := "S>C"
	if d.fromClient {
		dir = "C>S"
	}
	return fmt.Sprintf("%s flags=%#02x seq=%d ack=%d %q", dir, d.flags, d.seq, d.ack, d.payload)
}

// readAll decodes every packet of c with capture.DecodeTCP, sequence
// numbers relative to the ISNs.
func readAll(t *testing.T, c *capturetest.Capture, client string, cISN, sISN uint32) ([]decoded, []capture.Packet) {
	t.Helper()
	f := c.Open()
	defer f.Close()
	clientAddr := netip.MustParseAddrPort(client)
	var got []decoded
	var packets []capture.Packet
	for {
		p, err := f.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("ReadPacket() = %v", err)
		}
		var seg capture.Segment
		if !capture.DecodeTCP(&p, &seg) {
			t.Fatalf("DecodeTCP(packet %d) = false, want true", p.Number)
		}
		d := decoded{fromClient: seg.Src == clientAddr, flags: seg.Flags, payload: string(seg.Payload)}
		own, peer := sISN, cISN
		if d.fromClient {
			own, peer = cISN, sISN
		}
		d.seq = seg.Seq - own
		if seg.Flags&capture.ACK != 0 {
			d.ack = seg.Ack - peer
		}
		got = append(got, d)
		p.Data = bytes.Clone(p.Data)
		packets = append(packets, p)
	}
	return got, packets
}

func checkDecoded(t *testing.T, got, want []decoded) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d segments, want %d:\n%v", len(got), len(want), got)
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("segment %d = %v, want %v", i+1, got[i], want[i])
		}
	}
}

const (
	ack    = capture.ACK
	pshAck = capture.PSH | capture.ACK
	finAck = capture.FIN | capture.ACK
	rstAck = capture.RST | capture.ACK
	syn    = capture.SYN
	synAck = capture.SYN | capture.ACK
)

func TestConversation(t *testing.T) {
	c := capturetest.NewCapture(capturetest.Options{})
	k := c.Conn("10.0.0.1:50000", "10.0.0.2:80")
	k.SetMSS(4)
	k.Handshake()
	k.Client([]byte("hello world"))
	k.Server([]byte("hi"))
	k.ClientSegments([]byte("abcdef"), 1, 5)
	k.Ack(false)
	k.CloseFIN(true)
	k.CloseFIN(false)
	k.Ack(true)
	got, _ := readAll(t, c, "10.0.0.1:50000", capturetest.ClientISN, capturetest.ServerISN)
	checkDecoded(t, got, []decoded{
		{true, syn, 0, 0, ""},
		{false, synAck, 0, 1, ""},
		{true, ack, 1, 1, ""},
		{true, ack, 1, 1, "hell"},
		{true, ack, 5, 1, "o wo"},
		{true, pshAck, 9, 1, "rld"},
		{false, pshAck, 1, 12, "hi"},
		{true, ack, 12, 3, "a"},
		{true, ack, 13, 3, "bcde"},
		{true, pshAck, 17, 3, "f"},
		{false, ack, 3, 18, ""},
		{true, finAck, 18, 3, ""},
		{false, finAck, 3, 19, ""},
		{true, ack, 19, 4, ""},
	})
	if c.Packets() != len(got) {
		t.Errorf("Packets() = %d, want %d", c.Packets(), len(got))
	}
}

func TestDropDelayAndSegment(t *testing.T) {
	c := capturetest.NewCapture(capturetest.Options{NG: true})
	k := c.Conn("[2001:db8::1]:40000", "[2001:db8::2]:443")
	k.SetISN(0xffffff00, 7)
	k.Handshake()
	k.Drop(1)
	k.Client([]byte("lost"))
	k.Delay(1)
	k.Client([]byte("late"))
	k.Client([]byte("early"))
	k.Server([]byte("ok")) // acknowledges all three
	off := k.Next(true)
	k.Client([]byte("again"))
	k.Segment(true, off, []byte("again"), pshAck) // retransmission
	k.Segment(true, off+2, []byte("ainXY"), pshAck)
	if got, want := k.Next(true), off+7; got != want {
		t.Errorf("Next(true) = %d, want %d", got, want)
	}
	k.Delay(1)
	k.Reset(false) // held to the end
	// Relative to ISN 0xffffff00, sequence numbers wrap past 2^32 as
	// uint32 arithmetic does.
	got, _ := readAll(t, c, "[2001:db8::1]:40000", 0xffffff00, 7)
	checkDecoded(t, got, []decoded{
		{true, syn, 0, 0, ""},
		{false, synAck, 0, 1, ""},
		{true, ack, 1, 1, ""},
		{true, pshAck, 9, 1, "early"},
		{true, pshAck, 5, 1, "late"},
		{false, pshAck, 1, 14, "ok"},
		{true, pshAck, 14, 3, "again"},
		{true, pshAck, 14, 3, "again"},
		{true, pshAck, 16, 3, "ainXY"},
		{false, rstAck, 3, 21, ""},
	})
}

// linkTypeCases are the link types and Ethernet variants capturetest
// writes.
var linkTypeCases = []struct {
	name   string
	opts   capturetest.Options
	v4     bool
	v6     bool
	oracle bool // gopacket decodes it
}{
	{"ethernet", capturetest.Options{}, true, true, true},
	{"ethernet vlan", capturetest.Options{VLANs: []uint16{100}}, true, true, true},
	{"ethernet qinq", capturetest.Options{VLANs: []uint16{10, 20, 30}}, true, true, false},
	{"sll", capturetest.Options{LinkType: capture.LinkTypeLinuxSLL}, true, true, true},
	{"sll2", capturetest.Options{LinkType: capture.LinkTypeLinuxSLL2}, true, true, false},
	{"null", capturetest.Options{Null: true}, true, true, true},
	{"loop", capturetest.Options{LinkType: capture.LinkTypeLoop}, true, true, false},
	{"raw", capturetest.Options{LinkType: capture.LinkTypeRaw}, true, true, true},
	{"raw12", capturetest.Options{LinkType: 12}, true, true, false},
	{"raw14", capturetest.Options{LinkType: 14}, true, true, false},
	{"ipv4", capturetest.Options{LinkType: capture.LinkTypeIPv4}, true, false, false},
	{"ipv6", capturetest.Options{LinkType: capture.LinkTypeIPv6}, false, true, false},
	{"ppp", capturetest.Options{LinkType: capture.LinkTypePPP}, true, true, false},
	{"ppp_hdlc", capturetest.Options{LinkType: capture.LinkTypePPPHDLC}, true, true, false},
	{"ppp_with_dir", capturetest.Options{LinkType: capture.LinkTypePPPWithDir}, true, true, false},
	{"c_hdlc", capturetest.Options{LinkType: capture.LinkTypeCHDLC}, true, true, false},
	{"c_hdlc_with_dir", capturetest.Options{LinkType: capture.LinkTypeCHDLCWithDir}, true, true, false},
	{"nflog", capturetest.Options{LinkType: capture.LinkTypeNFLOG}, true, true, false},
	{"pktap", capturetest.Options{LinkType: capture.LinkTypePKTAP}, true, true, false},
	{"ethernet pppoe", capturetest.Options{PPPoE: true}, true, true, true},
	{"ethernet vlan pppoe", capturetest.Options{PPPoE: true, VLANs: []uint16{7}}, true, true, true},
}

// TestLinkTypes checks the frames of every link type against gopacket's
// decoders (where it has one) and against capture.DecodeTCP.
func TestLinkTypes(t *testing.T) {
	for _, lt := range linkTypeCases {
		for _, ng := range []bool{false, true} {
			for _, v6 := range []bool{false, true} {
				if v6 && !lt.v6 || !v6 && !lt.v4 {
					continue
				}
				client, server := "192.0.2.1:1234", "198.51.100.7:8080"
				if v6 {
					client, server = "[2001:db8::1]:1234", "[2001:db8::ff]:8080"
				}
				name := fmt.Sprintf("%s/ng=%v/v6=%v", lt.name, ng, v6)
				t.Run(name, func(t *testing.T) {
					opts := lt.opts
					opts.NG = ng
					c := capturetest.NewCapture(opts)
					k := c.Conn(client, server)
					k.Handshake()
					k.Client([]byte("ping"))
					k.Server(bytes.Repeat([]byte("x"), 3000))
					got, packets := readAll(t, c, client, capturetest.ClientISN, capturetest.ServerISN)
					if len(got) != 7 {
						t.Fatalf("got %d segments, want 7", len(got))
					}
					if got[3].payload != "ping" {
						t.Errorf("segment 4 payload = %q, want %q", got[3].payload, "ping")
					}
					want := opts.LinkType
					switch {
					case opts.Null:
						want = capture.LinkTypeNull
					case want == 0:
						want = capture.LinkTypeEthernet
					}
					for _, p := range packets {
						if p.LinkType != want {
							t.Errorf("packet %d LinkType = %v, want %v", p.Number, p.LinkType, want)
						}
						if lt.oracle {
							checkWithGopacket(t, p, client)
						}
					}
				})
			}
		}
	}
}

// checkWithGopacket decodes p with gopacket and checks the checksums by
// serializing the decoded layers again with checksums computed.
func checkWithGopacket(t *testing.T, p capture.Packet, client string) {
	t.Helper()
	pkt := gopacket.NewPacket(p.Data, layers.LinkType(p.LinkType), gopacket.Default)
	if el := pkt.ErrorLayer(); el != nil {
		t.Fatalf("gopacket: packet %d: %v", p.Number, el.Error())
	}
	tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if tcp == nil {
		t.Fatalf("gopacket: packet %d has no TCP layer: %v", p.Number, pkt)
	}
	var ipLayers []gopacket.SerializableLayer
	if ip4, ok := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
		if err := tcp.SetNetworkLayerForChecksum(ip4); err != nil {
			t.Fatal(err)
		}
		if got := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip4.SrcIP.To4())), uint16(tcp.SrcPort)); got != netip.MustParseAddrPort(client) && uint16(tcp.DstPort) != netip.MustParseAddrPort(client).Port() {
			t.Errorf("gopacket: packet %d from %v, not from or to the client", p.Number, got)
		}
		ipLayers = append(ipLayers, ip4)
	} else if ip6, ok := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
		if err := tcp.SetNetworkLayerForChecksum(ip6); err != nil {
			t.Fatal(err)
		}
		ipLayers = append(ipLayers, ip6)
	} else {
		t.Fatalf("gopacket: packet %d has no IP layer", p.Number)
	}
	ipStart := len(p.Data) - len(pkt.NetworkLayer().LayerContents()) - len(pkt.NetworkLayer().LayerPayload())
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true},
		append(ipLayers, tcp, gopacket.Payload(tcp.Payload))...)
	if err != nil {
		t.Fatalf("gopacket: serialize packet %d: %v", p.Number, err)
	}
	if !bytes.Equal(buf.Bytes(), p.Data[ipStart:]) {
		t.Errorf("packet %d: checksums differ from gopacket's:\n got %x\nwant %x", p.Number, p.Data[ipStart:], buf.Bytes())
	}
}

func TestMixedLinkTypes(t *testing.T) {
	c := capturetest.NewCapture(capturetest.Options{NG: true})
	a := c.Conn("10.0.0.1:1000", "10.0.0.2:2000")
	b := c.ConnLink(capture.LinkTypeLinuxSLL2, "[::1]:3000", "[::1]:4000")
	d := c.ConnLink(capture.LinkTypeNull, "127.0.0.1:5000", "127.0.0.1:6000")
	a.Client([]byte("a"))
	b.Client([]byte("b"))
	d.Client([]byte("d"))
	a.Server([]byte("A"))
	f := c.Open()
	defer f.Close()
	wantLinks := []capture.LinkType{capture.LinkTypeEthernet, capture.LinkTypeLinuxSLL2, capture.LinkTypeNull, capture.LinkTypeEthernet}
	wantPayload := "abdA"
	for i := range wantLinks {
		p, err := f.ReadPacket()
		if err != nil {
			t.Fatalf("ReadPacket() = %v", err)
		}
		var seg capture.Segment
		if p.LinkType != wantLinks[i] || !capture.DecodeTCP(&p, &seg) || string(seg.Payload) != wantPayload[i:i+1] {
			t.Errorf("packet %d: LinkType %v payload %q, want %v %q", p.Number, p.LinkType, seg.Payload, wantLinks[i], wantPayload[i:i+1])
		}
	}
	ifaces := f.Interfaces()
	wantNumbers := []uint32{1, 276, 0}
	if len(ifaces) != len(wantNumbers) {
		t.Fatalf("Interfaces() = %v, want %d interfaces", ifaces, len(wantNumbers))
	}
	for i, n := range wantNumbers {
		if ifaces[i].LinkTypeNumber != n || ifaces[i].Name != fmt.Sprintf("capturetest%d", i) {
			t.Errorf("Interfaces()[%d] = %+v, want link type number %d", i, ifaces[i], n)
		}
	}
}

func TestTimestamps(t *testing.T) {
	start := time.Date(2020, 5, 6, 7, 8, 9, 123456789, time.UTC)
	for _, ng := range []bool{false, true} {
		c := capturetest.NewCapture(capturetest.Options{Start: start, Step: 250 * time.Microsecond, NG: ng})
		k := c.Conn("10.0.0.1:1", "10.0.0.2:2")
		k.Client([]byte("a"))
		c.Advance(time.Hour)
		k.Client([]byte("b"))
		k.Client([]byte("c"))
		_, packets := readAll(t, c, "10.0.0.1:1", capturetest.ClientISN, capturetest.ServerISN)
		want := []time.Time{start, start.Add(time.Hour + 250*time.Microsecond), start.Add(time.Hour + 500*time.Microsecond)}
		for i, p := range packets {
			if !p.Timestamp.Equal(want[i]) {
				t.Errorf("ng=%v: packet %d Timestamp = %v, want %v", ng, p.Number, p.Timestamp, want[i])
			}
		}
	}
	c := capturetest.NewCapture(capturetest.Options{})
	c.Conn("10.0.0.1:1", "10.0.0.2:2").Handshake()
	_, packets := readAll(t, c, "10.0.0.1:1", capturetest.ClientISN, capturetest.ServerISN)
	if !packets[0].Timestamp.Equal(capturetest.DefaultStart) || packets[1].Timestamp.Sub(packets[0].Timestamp) != capturetest.DefaultStep {
		t.Errorf("default timestamps = %v, %v; want %v and %v later", packets[0].Timestamp, packets[1].Timestamp, capturetest.DefaultStart, capturetest.DefaultStep)
	}
}

func TestSnaplen(t *testing.T) {
	c := capturetest.NewCapture(capturetest.Options{Snaplen: 100})
	k := c.Conn("10.0.0.1:1", "10.0.0.2:2")
	k.Client(bytes.Repeat([]byte("z"), 1000))
	f := c.Open()
	p, err := f.ReadPacket()
	if err != nil {
		t.Fatal(err)
	}
	var seg capture.Segment
	if !capture.DecodeTCP(&p, &seg) {
		t.Fatal("DecodeTCP() = false")
	}
	if len(p.Data) != 100 || p.Length != 14+20+20+1000 {
		t.Errorf("captured %d of %d bytes, want 100 of %d", len(p.Data), p.Length, 14+20+20+1000)
	}
	if len(seg.Payload) != 100-54 || seg.Missing != 1000-(100-54) {
		t.Errorf("payload %d bytes, missing %d; want %d and %d", len(seg.Payload), seg.Missing, 100-54, 1000-(100-54))
	}
}

func TestDeterministic(t *testing.T) {
	script := func(ng bool) []byte {
		c := capturetest.NewCapture(capturetest.Options{NG: ng})
		k := c.Conn("10.0.0.1:1", "10.0.0.2:2")
		k.Handshake()
		k.Client([]byte("same"))
		return c.Bytes()
	}
	for _, ng := range []bool{false, true} {
		a, b := script(ng), script(ng)
		if !bytes.Equal(a, b) {
			t.Errorf("ng=%v: two runs of one script differ", ng)
		}
		if bytes.Contains(a, []byte("linux")) || bytes.Contains(a, []byte("amd64")) {
			t.Errorf("ng=%v: file names the machine", ng)
		}
	}
}

func TestWriteFile(t *testing.T) {
	c := capturetest.NewCapture(capturetest.Options{})
	c.Conn("10.0.0.1:1", "10.0.0.2:2").Client([]byte("x"))
	path := filepath.Join(t.TempDir(), "x.pcap")
	if err := c.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, c.Bytes()) {
		t.Error("WriteFile wrote other bytes than Bytes returns")
	}
}

func TestMisusePanics(t *testing.T) {
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"bad address", func() { capturetest.NewCapture(capturetest.Options{}).Conn("nope", "10.0.0.1:1") }, "client address"},
		{"mixed versions", func() { capturetest.NewCapture(capturetest.Options{}).Conn("10.0.0.1:1", "[::1]:2") }, "different IP versions"},
		{"ipv6 on ipv4 link", func() {
			capturetest.NewCapture(capturetest.Options{LinkType: capture.LinkTypeIPv4}).Conn("[::1]:1", "[::1]:2")
		}, "cannot carry"},
		{"second link type in pcap", func() {
			capturetest.NewCapture(capturetest.Options{}).ConnLink(capture.LinkTypeLinuxSLL, "10.0.0.1:1", "10.0.0.2:2")
		}, "one link type"},
		{"unsupported link type", func() {
			capturetest.NewCapture(capturetest.Options{LinkType: 105 /* 802.11 */}).Conn("10.0.0.1:1", "10.0.0.2:2")
		}, "not supported"},
		{"pktap interface on another link type", func() {
			capturetest.NewCapture(capturetest.Options{}).Conn("10.0.0.1:1", "10.0.0.2:2").SetPKTAP("lo0", capture.LinkTypeNull)
		}, "SetPKTAP on a connection of link type Ethernet"},
		{"pktap in pktap", func() {
			capturetest.NewCapture(capturetest.Options{LinkType: capture.LinkTypePKTAP}).Conn("10.0.0.1:1", "10.0.0.2:2").SetPKTAP("pktap0", capture.LinkTypePKTAP)
		}, "inside a PKTAP"},
		{"pktap interface of an unsupported link type", func() {
			capturetest.NewCapture(capturetest.Options{LinkType: capture.LinkTypePKTAP}).Conn("10.0.0.1:1", "10.0.0.2:2").SetPKTAP("en0", 105)
		}, "not supported"},
		{"pktap interface that cannot carry the connection", func() {
			capturetest.NewCapture(capturetest.Options{LinkType: capture.LinkTypePKTAP}).Conn("[::1]:1", "[::1]:2").SetPKTAP("utun0", capture.LinkTypeIPv4)
		}, "cannot carry"},
		{"pktap interface name too long", func() {
			capturetest.NewCapture(capturetest.Options{LinkType: capture.LinkTypePKTAP}).Conn("10.0.0.1:1", "10.0.0.2:2").SetPKTAP(strings.Repeat("x", 24), capture.LinkTypeEthernet)
		}, "longer than 23 bytes"},
		{"cuts out of order", func() {
			capturetest.NewCapture(capturetest.Options{}).Conn("10.0.0.1:1", "10.0.0.2:2").ClientSegments([]byte("abc"), 2, 1)
		}, "out of order"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tc.want) {
					t.Errorf("panic = %v, want one mentioning %q", r, tc.want)
				}
			}()
			tc.f()
		})
	}
}

// pktapIfaces are the interfaces whose packets the tests' PKTAP captures
// carry: Wi-Fi, the loopback and an iPhone's cellular data, as macOS's
// tcpdump -i pktap and rvictl's rvi0 record them.
var pktapIfaces = []struct {
	name string
	link capture.LinkType
}{
	{"en0", capture.LinkTypeEthernet},
	{"lo0", capture.LinkTypeNull},
	{"pdp_ip0", 12}, // DLT_RAW as macOS numbers it
}

// TestLinkTypesMatchTshark holds DecodeTCP to tshark on the frames of every
// link type capturetest writes but one tshark does not read (the PPP
// family, Cisco HDLC, NFLOG, PKTAP and PPPoE among them, which gopacket
// does not decode): each packet's source address, ports, raw sequence
// number and payload length. One pcapng file holds every link type (an
// interface each); Ethernet's variants (VLAN tags, PPPoE) are a pcap file
// each, and so is PKTAP, as well as an interface of the pcapng: its
// connections come from each of pktapIfaces.
func TestLinkTypesMatchTshark(t *testing.T) {
	tshark := requireTshark(t)
	// script writes connections of each IP version on link, from the
	// addresses of link type i; on PKTAP, from each of pktapIfaces (from
	// port 40000+i+100j on the jth).
	script := func(c *capturetest.Capture, link capture.LinkType, i int, v4, v6 bool) {
		rounds := 1
		if link == capture.LinkTypePKTAP {
			rounds = len(pktapIfaces)
		}
		for j := range rounds {
			var pairs [][2]string
			if v4 {
				pairs = append(pairs, [2]string{fmt.Sprintf("192.0.2.%d:%d", i+1, 40000+i+100*j), "198.51.100.7:8080"})
			}
			if v6 {
				pairs = append(pairs, [2]string{fmt.Sprintf("[2001:db8::%x]:%d", i+1, 40000+i+100*j), "[2001:db8::ff]:8080"})
			}
			for _, p := range pairs {
				k := c.ConnLink(link, p[0], p[1])
				if link == capture.LinkTypePKTAP {
					k.SetPKTAP(pktapIfaces[j].name, pktapIfaces[j].link)
				}
				k.Handshake()
				k.Client([]byte("ping"))
				k.Server(bytes.Repeat([]byte("x"), 3000))
				k.CloseFIN(true)
			}
		}
	}
	dir := t.TempDir()
	var files []string
	ng := capturetest.NewCapture(capturetest.Options{NG: true})
	for i, lt := range linkTypeCases {
		o := lt.opts
		link := o.Link()
		switch {
		case link == capture.LinkTypeCHDLCWithDir:
			// tshark 4.0 reads no file of it ("network type 205 unknown
			// or unsupported"); it is Cisco HDLC after a direction byte.
			continue
		case o.VLANs != nil || o.PPPoE || link == capture.LinkTypePKTAP:
			c := capturetest.NewCapture(o)
			script(c, link, i, lt.v4, lt.v6)
			path := filepath.Join(dir, strings.ReplaceAll(lt.name, " ", "-")+".pcap")
			if err := c.WriteFile(path); err != nil {
				t.Fatal(err)
			}
			files = append(files, path)
			if link == capture.LinkTypePKTAP {
				script(ng, link, i, lt.v4, lt.v6)
			}
		default:
			script(ng, link, i, lt.v4, lt.v6)
		}
	}
	path := filepath.Join(dir, "every-link-type.pcapng")
	if err := ng.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	files = append(files, path)

	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			matchTshark(t, tshark, file)
		})
	}
}

// TestPKTAPHeader checks the PKTAP headers capturetest writes as tshark
// reads them: version 1's length, a packet record of the interface's link
// type and name, the direction (out from the client, the capturing host),
// the protocol family (AF_INET6 is 30 on macOS), the link header's length
// and the process.
func TestPKTAPHeader(t *testing.T) {
	tshark := requireTshark(t)
	c := capturetest.NewCapture(capturetest.Options{LinkType: capture.LinkTypePKTAP})
	for i, iface := range pktapIfaces {
		client, server := fmt.Sprintf("192.0.2.1:%d", 40000+i), "198.51.100.7:8080"
		if i == 2 {
			client, server = fmt.Sprintf("[2001:db8::1]:%d", 40000+i), "[2001:db8::ff]:8080"
		}
		k := c.Conn(client, server)
		if i > 0 {
			k.SetPKTAP(iface.name, iface.link)
		}
		k.Segment(true, 0, []byte("ping"), capture.PSH|capture.ACK)
		k.Segment(false, 0, []byte("pong"), capture.PSH|capture.ACK)
	}
	path := filepath.Join(t.TempDir(), "pktap.pcap")
	if err := c.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tshark, "-r", path, "-T", "fields", "-E", "separator=,",
		"-e", "pktap.hdrlen", "-e", "pktap.rectype", "-e", "pktap.dlt", "-e", "pktap.ifname", "-e", "pktap.flags",
		"-e", "pktap.pfamily", "-e", "pktap.llhdrlen", "-e", "pktap.lltrlrlen", "-e", "pktap.pid", "-e", "pktap.cmdname",
		"-e", "pktap.iftype", "-e", "pktap.ifunit", "-e", "pktap.epid", "-e", "pktap.ecmdname", "-e", "tcp.len").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	want := strings.Join([]string{
		"108,1,1,en0,0x00000002,2,14,0,4242,capturetest,6,0,4242,capturetest,4",
		"108,1,1,en0,0x00000001,2,14,0,4242,capturetest,6,0,4242,capturetest,4",
		"108,1,0,lo0,0x00000002,2,4,0,4242,capturetest,24,0,4242,capturetest,4",
		"108,1,0,lo0,0x00000001,2,4,0,4242,capturetest,24,0,4242,capturetest,4",
		"108,1,12,pdp_ip0,0x00000002,30,0,0,4242,capturetest,1,0,4242,capturetest,4",
		"108,1,12,pdp_ip0,0x00000001,30,0,0,4242,capturetest,1,0,4242,capturetest,4",
	}, "\n")
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("tshark reads the PKTAP headers as\n%s\nwant\n%s", got, want)
	}
}

// matchTshark holds DecodeTCP to tshark on every packet of file: each one's
// interface, source address, ports, raw sequence number and payload length.
func matchTshark(t *testing.T, tshark, file string) {
	t.Helper()
	out, err := exec.Command(tshark, "-r", file, "-T", "fields", "-E", "separator=,",
		"-e", "frame.interface_id", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "tcp.dstport",
		"-e", "tcp.seq_raw", "-e", "tcp.len").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	f, err := capture.OpenFile(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for ; ; n++ {
		p, err := f.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var seg capture.Segment
		if !capture.DecodeTCP(&p, &seg) {
			t.Fatalf("packet %d (link type %d): DecodeTCP = false", p.Number, p.LinkType)
		}
		v4src, v6src := seg.Src.Addr().String(), ""
		if seg.Src.Addr().Is6() {
			v4src, v6src = "", seg.Src.Addr().String()
		}
		iface := "" // tshark has no interface for a pcap file's packets
		if strings.HasSuffix(file, ".pcapng") {
			iface = fmt.Sprint(p.Interface)
		}
		want := fmt.Sprintf("%s,%s,%s,%d,%d,%d,%d", iface, v4src, v6src, seg.Src.Port(), seg.Dst.Port(), seg.Seq, len(seg.Payload))
		if n >= len(lines) || lines[n] != want {
			got := "nothing"
			if n < len(lines) {
				got = lines[n]
			}
			t.Errorf("packet %d (link type %d): tshark reads %s, DecodeTCP %s", p.Number, p.LinkType, got, want)
		}
	}
	if n != len(lines) || n == 0 {
		t.Errorf("%d packets read, tshark printed %d lines", n, len(lines))
	}
}

// requireTshark returns tshark's path, skipping without it outside CI
// (.ci/run installs it).
func requireTshark(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark is not installed (.ci/run installs it)")
		}
		t.Skip("tshark is not installed")
	}
	return path
}

// TestRealLinkCapturesMatchTshark does the same on the captures of
// testdata/link, taken by tcpdump from the kernel, not written by
// capturetest: nflog-demo.pcap is wsviz demo's chat sniffed through an
// iptables NFLOG rule (tcpdump -i nflog:5), with the TLVs as a
// little-endian host writes them.
func TestRealLinkCapturesMatchTshark(t *testing.T) {
	tshark := requireTshark(t)
	files, _ := filepath.Glob("../../testdata/link/*.pcap*")
	if len(files) == 0 {
		t.Fatal("no captures in testdata/link")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			matchTshark(t, tshark, file)
		})
	}
}
