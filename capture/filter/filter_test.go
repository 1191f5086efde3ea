package filter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	linktype "github.com/wsviz/wsviz/capture/internal/link"
	"golang.org/x/net/bpf"
)

// spec describes a test packet.
type spec struct {
	name       string
	src, dst   string // IPv4 or IPv6 addresses
	proto      layers.IPProtocol
	sport      uint16
	dport      uint16
	fragOffset uint16 // IPv4 fragment offset, in 8-byte units
	options    bool   // IPv4 header with options (IHL 6)
}

// ipPacket serializes the packet from the network layer up, with a trusted
// encoder.
func ipPacket(t testing.TB, s spec) []byte {
	t.Helper()
	src, dst := net.ParseIP(s.src), net.ParseIP(s.dst)
	payload := gopacket.Payload("hello")
	var transport gopacket.SerializableLayer
	var netLayer gopacket.NetworkLayer
	switch s.proto {
	case layers.IPProtocolTCP:
		tcp := &layers.TCP{SrcPort: layers.TCPPort(s.sport), DstPort: layers.TCPPort(s.dport), ACK: true, Window: 512}
		transport = tcp
	case layers.IPProtocolUDP:
		udp := &layers.UDP{SrcPort: layers.UDPPort(s.sport), DstPort: layers.UDPPort(s.dport)}
		transport = udp
	default:
		transport = &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)}
	}
	var ip gopacket.SerializableLayer
	if src.To4() != nil {
		ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: s.proto, SrcIP: src.To4(), DstIP: dst.To4(), FragOffset: s.fragOffset}
		if s.options {
			ip4.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
		}
		ip, netLayer = ip4, ip4
	} else {
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: s.proto, SrcIP: src, DstIP: dst}
		ip, netLayer = ip6, ip6
	}
	// Set the checksum network layer before serializing.
	switch tr := transport.(type) {
	case *layers.TCP:
		_ = tr.SetNetworkLayerForChecksum(netLayer)
	case *layers.UDP:
		_ = tr.SetNetworkLayerForChecksum(netLayer)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ip, transport, payload); err != nil {
		t.Fatalf("serialize %s: %v", s.name, err)
	}
	return buf.Bytes()
}

// frame puts an IP packet behind the given link layer.
func frame(link linktype.Type, ip []byte) []byte {
	v6 := len(ip) > 0 && ip[0]>>4 == 6
	etherType := uint16(layers.EthernetTypeIPv4)
	if v6 {
		etherType = uint16(layers.EthernetTypeIPv6)
	}
	var hdr []byte
	switch link {
	case linktype.Ethernet:
		hdr = make([]byte, 14)
		copy(hdr[0:6], []byte{0, 1, 2, 3, 4, 5})
		copy(hdr[6:12], []byte{6, 7, 8, 9, 10, 11})
		binary.BigEndian.PutUint16(hdr[12:], etherType)
	case linktype.LinuxSLL:
		// pcap-linktype(7) LINKTYPE_LINUX_SLL: packet type, ARPHRD type,
		// address length, address (8), protocol.
		hdr = make([]byte, 16)
		binary.BigEndian.PutUint16(hdr[2:], 772)
		binary.BigEndian.PutUint16(hdr[4:], 6)
		binary.BigEndian.PutUint16(hdr[14:], etherType)
	case linktype.LinuxSLL2:
		// LINKTYPE_LINUX_SLL2: protocol, reserved, interface index,
		// ARPHRD type, packet type, address length, address (8).
		hdr = make([]byte, 20)
		binary.BigEndian.PutUint16(hdr[0:], etherType)
		binary.BigEndian.PutUint32(hdr[4:], 1)
		binary.BigEndian.PutUint16(hdr[8:], 772)
		hdr[11] = 6
	case linktype.Null:
		// The address family in the capturing host's byte order: a
		// little-endian host, macOS's AF_INET6.
		hdr = make([]byte, 4)
		binary.LittleEndian.PutUint32(hdr, map[bool]uint32{false: 2, true: 30}[v6])
	case linktype.Loop:
		// Big-endian, OpenBSD's AF_INET6.
		hdr = make([]byte, 4)
		binary.BigEndian.PutUint32(hdr, map[bool]uint32{false: 2, true: 24}[v6])
	}
	return append(hdr, ip...)
}

// allLinks are the link types Compile supports: every one the capture
// package decodes.
var allLinks = []linktype.Type{linktype.Ethernet, linktype.LinuxSLL, linktype.LinuxSLL2, linktype.Null, linktype.Loop,
	linktype.Raw, linktype.RawAlias12, linktype.RawAlias14, linktype.IPv4, linktype.IPv6}

// typeOff is where a link layer with an EtherType keeps it (Ethernet, SLL,
// SLL2); ok is false for the others.
func typeOff(link linktype.Type) (off int, ok bool) {
	switch link {
	case linktype.Ethernet:
		return 12, true
	case linktype.LinuxSLL:
		return 14, true
	case linktype.LinuxSLL2:
		return 0, true
	}
	return 0, false
}

var packets = []spec{
	{name: "v4 tcp 1234>80", src: "127.0.0.1", dst: "10.0.0.1", proto: layers.IPProtocolTCP, sport: 1234, dport: 80},
	{name: "v4 tcp 80>1234", src: "10.0.0.1", dst: "127.0.0.1", proto: layers.IPProtocolTCP, sport: 80, dport: 1234},
	{name: "v4 udp 53>80", src: "10.1.2.3", dst: "192.168.1.1", proto: layers.IPProtocolUDP, sport: 53, dport: 80},
	{name: "v4 tcp 8080 loop", src: "127.0.0.1", dst: "127.0.0.1", proto: layers.IPProtocolTCP, sport: 40000, dport: 8080},
	{name: "v4 tcp 22", src: "127.0.0.1", dst: "127.0.0.1", proto: layers.IPProtocolTCP, sport: 22, dport: 50000},
	{name: "v4 tcp options", src: "10.0.0.1", dst: "10.0.0.2", proto: layers.IPProtocolTCP, sport: 1234, dport: 80, options: true},
	{name: "v4 tcp fragment", src: "10.0.0.1", dst: "10.0.0.2", proto: layers.IPProtocolTCP, sport: 1234, dport: 80, fragOffset: 100},
	{name: "v4 icmp", src: "127.0.0.1", dst: "127.0.0.1", proto: layers.IPProtocolICMPv4},
	{name: "v6 tcp 1234>80", src: "::1", dst: "2001:db8::1", proto: layers.IPProtocolTCP, sport: 1234, dport: 80},
	{name: "v6 udp 8000>9001", src: "2001:db8:1::5", dst: "::1", proto: layers.IPProtocolUDP, sport: 8000, dport: 9001},
	{name: "v6 tcp 8080 loop", src: "::1", dst: "::1", proto: layers.IPProtocolTCP, sport: 8080, dport: 40001},
}

func packetNamed(t testing.TB, link linktype.Type, name string) []byte {
	for _, s := range packets {
		if s.name == name {
			return frame(link, ipPacket(t, s))
		}
	}
	t.Fatalf("no packet %q", name)
	return nil
}

func TestMatch(t *testing.T) {
	tests := []struct {
		expr   string
		packet string
		want   bool
	}{
		{"", "v4 icmp", true},
		{"tcp port 80", "v4 tcp 1234>80", true},
		{"tcp port 80", "v4 tcp 80>1234", true},
		{"tcp port 80", "v4 udp 53>80", false},
		{"udp port 80", "v4 udp 53>80", true},
		{"port 80", "v4 udp 53>80", true},
		{"tcp port 80", "v6 tcp 1234>80", true},
		{"src port 80", "v4 tcp 1234>80", false},
		{"src port 80", "v4 tcp 80>1234", true},
		{"dst port 80", "v4 tcp 1234>80", true},
		{"src or dst port 80", "v4 tcp 1234>80", true},
		{"src and dst port 80", "v4 tcp 1234>80", false},
		{"portrange 8000-8080", "v4 tcp 8080 loop", true},
		{"portrange 8000-8079", "v4 tcp 8080 loop", false},
		{"portrange 8081-9000", "v4 tcp 8080 loop", false},
		{"udp portrange 8000-8000", "v6 udp 8000>9001", true},
		{"host 127.0.0.1", "v4 tcp 1234>80", true},
		{"host 127.0.0.1", "v6 tcp 1234>80", false},
		{"src host 10.0.0.1", "v4 tcp 1234>80", false},
		{"dst host 10.0.0.1", "v4 tcp 1234>80", true},
		{"src 127.0.0.1", "v4 tcp 1234>80", true},
		{"src and dst host 127.0.0.1", "v4 tcp 8080 loop", true},
		{"src and dst host 127.0.0.1", "v4 tcp 1234>80", false},
		{"host ::1", "v6 tcp 1234>80", true},
		{"ip6 host ::1", "v6 udp 8000>9001", true},
		{"dst host ::1", "v6 tcp 1234>80", false},
		{"net 10.0.0.0/8", "v4 udp 53>80", true},
		{"net 10.0.0.0/16", "v4 udp 53>80", false},
		{"src net 10.0.0.0/15", "v4 udp 53>80", true},
		{"net 2001:db8::/32", "v6 udp 8000>9001", true},
		{"net 2001:db8::/48", "v6 udp 8000>9001", false},
		{"net 2001:db8::/47", "v6 udp 8000>9001", true},
		{"net 0.0.0.0/0", "v4 icmp", true},
		{"net 0.0.0.0/0", "v6 tcp 1234>80", false},
		{"10.0.0.0/8", "v4 udp 53>80", true},
		{"ip", "v4 icmp", true},
		{"ip", "v6 tcp 1234>80", false},
		{"ip6", "v6 tcp 1234>80", true},
		{"tcp", "v6 tcp 1234>80", true},
		{"tcp", "v4 udp 53>80", false},
		{"udp", "v4 udp 53>80", true},
		{"ip6 port 80", "v4 tcp 1234>80", false},
		{"ip port 80", "v4 tcp 1234>80", true},
		{"not port 22", "v4 tcp 22", false},
		{"not port 22", "v4 icmp", true},
		{"tcp and not port 22", "v4 tcp 1234>80", true},
		{"! port 22 && tcp", "v4 tcp 1234>80", true},
		{"port 80 or 443", "v4 tcp 1234>80", true},
		{"port 443 or 80", "v4 tcp 1234>80", true},
		{"port 443 || 444", "v4 tcp 1234>80", false},
		{"host 10.0.0.9 or 127.0.0.1", "v4 tcp 1234>80", true},
		{"port 443 and not 80", "v4 tcp 1234>80", false},
		{"host 127.0.0.1 and port 9001", "v4 tcp 1234>80", false},
		{"host 127.0.0.1 and port 80", "v4 tcp 1234>80", true},
		{"host ::1 and port 9001", "v6 udp 8000>9001", true},
		// pcap-filter(7): and/or have equal precedence, left to right.
		{"port 1234 or port 2 and host 10.0.0.9", "v4 tcp 1234>80", false},
		{"port 1234 or (port 2 and host 10.0.0.9)", "v4 tcp 1234>80", true},
		{"not (port 1 or port 80)", "v4 tcp 1234>80", false},
		{"port 80", "v4 tcp options", true},
		{"dst port 80", "v4 tcp options", true},
		// RFC 791: a later fragment has no transport header.
		{"port 80", "v4 tcp fragment", false},
		{"tcp", "v4 tcp fragment", true},
	}
	for _, link := range allLinks {
		if link == linktype.IPv4 || link == linktype.IPv6 {
			continue // raw IP of one version only: Raw and its aliases stand for them
		}
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%d/%s/%s", link, tc.expr, tc.packet), func(t *testing.T) {
				f, err := Parse(tc.expr)
				if err != nil {
					t.Fatalf("Parse(%q) = %v", tc.expr, err)
				}
				prog, err := f.Compile(link)
				if err != nil {
					t.Fatalf("Compile(%v) = %v", link, err)
				}
				data := packetNamed(t, link, tc.packet)
				if got := prog.Match(data); got != tc.want {
					t.Errorf("Match(%q, %s) = %v, want %v", tc.expr, tc.packet, got, tc.want)
				}
				if got := runBPF(t, prog, data); got != tc.want {
					t.Errorf("BPF(%q, %s) = %v, want %v", tc.expr, tc.packet, got, tc.want)
				}
			})
		}
	}
}

// runBPF runs the program's BPF form in x/net/bpf's virtual machine.
func runBPF(t testing.TB, prog *Program, data []byte) bool {
	t.Helper()
	ins, err := prog.Instructions(0)
	if err != nil {
		t.Fatalf("Instructions(%q) = %v", prog, err)
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatalf("NewVM(%q) = %v", prog, err)
	}
	n, err := vm.Run(data)
	if err != nil {
		t.Fatalf("Run(%q) = %v", prog, err)
	}
	return n > 0
}

func TestTruncated(t *testing.T) {
	// A test that reads past the end rejects the whole packet, even under
	// "not": the BPF machine aborts.
	full := packetNamed(t, linktype.Ethernet, "v4 tcp 1234>80")
	cut := full[:14+20+1] // Ethernet, IPv4, one byte of TCP
	tests := []struct {
		expr string
		want bool
	}{
		{"tcp", true},
		{"host 127.0.0.1", true},
		{"port 80", false},
		{"not port 80", false},
		{"tcp or port 80", true},
		{"port 80 or tcp", false},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			prog, err := MustParse(tc.expr).Compile(linktype.Ethernet)
			if err != nil {
				t.Fatal(err)
			}
			if got := prog.Match(cut); got != tc.want {
				t.Errorf("Match(%q, truncated) = %v, want %v", tc.expr, got, tc.want)
			}
			if got := runBPF(t, prog, cut); got != tc.want {
				t.Errorf("BPF(%q, truncated) = %v, want %v", tc.expr, got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		expr string
		want string // substring of the message
	}{
		{"port", "expression ends where an address or port was expected"},
		{"port x", `port needs a number from 0 to 65535, got "x"`},
		{"port 70000", "port needs a number"},
		{"port -1", "port needs a number"},
		{"host example.com", "names are not resolved"},
		{"host 10.0.0.0/8", "use net"},
		{"net 10.0.0.1/8", "did you mean 10.0.0.0/8"},
		{"net banana", "net needs a CIDR prefix"},
		{"tcp host 1.2.3.4", `"tcp" applies to ports`},
		{"ip host ::1", `"ip" qualifies an IPv6 address`},
		{"ip6 net 10.0.0.0/8", `"ip6" qualifies an IPv4 address`},
		{"(port 80", `expected ")"`},
		{"port 80)", `unexpected ")"`},
		{"and", `expected a primitive, got "and"`},
		{"port 80 and", "expression ends where a primitive was expected"},
		{"portrange 9-1", "starts after it ends"},
		{"portrange 9", "portrange needs two port numbers"},
		{"80", `host needs an IP address, got "80"`},
		{"port 80 $ 1", "unexpected character '$'"},
		{"src", "expression ends where an address"},
		{"host port", `expected an address or port, got "port"`},
		{strings.Repeat("(", 200) + "tcp" + strings.Repeat(")", 200), "nested too deeply"},
		{strings.Repeat("not ", 200) + "tcp", "nested too deeply"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := Parse(tc.expr)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) = %v, want a *SyntaxError", tc.expr, err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "filter: ") {
				t.Errorf("Parse(%q) = %q, want it to contain %q", tc.expr, err, tc.want)
			}
			if se.Offset < 0 || se.Offset > len(tc.expr) {
				t.Errorf("Parse(%q): offset %d outside the expression", tc.expr, se.Offset)
			}
		})
	}
}

func TestAnd(t *testing.T) {
	user := MustParse("port 80 or port 9001")
	f := user.And(ExcludePort(9001))
	if got, want := f.String(), "(port 80 or port 9001) and (not port 9001)"; got != want {
		t.Errorf("And().String() = %q, want %q", got, want)
	}
	prog, err := f.Compile(linktype.Ethernet)
	if err != nil {
		t.Fatal(err)
	}
	if !prog.Match(packetNamed(t, linktype.Ethernet, "v4 tcp 1234>80")) {
		t.Errorf("Match(%q, port 80) = false, want true", f)
	}
	if prog.Match(packetNamed(t, linktype.Ethernet, "v6 udp 8000>9001")) {
		t.Errorf("Match(%q, port 9001) = true, want false", f)
	}
	empty := MustParse("  ")
	if got := empty.And(user); got != user {
		t.Errorf("empty.And(f) = %q, want f", got)
	}
	if got := user.And(empty); got != user {
		t.Errorf("f.And(empty) = %q, want f", got)
	}
}

func TestUnsupportedLink(t *testing.T) {
	for _, link := range []linktype.Type{linktype.PPP, 105 /* 802.11 */, 127 /* radiotap */} {
		_, err := MustParse("tcp").Compile(link)
		if err == nil || !strings.HasPrefix(err.Error(), "filter: ") {
			t.Errorf("Compile(%d) = %v, want a filter: error", link, err)
		}
	}
	for _, link := range allLinks {
		if _, err := MustParse("tcp").Compile(link); err != nil {
			t.Errorf("Compile(%d) = %v", link, err)
		}
	}
}

// TestAgreement runs random expressions over every test packet, whole and
// cut short at every length, through Match and through the BPF virtual
// machine, for each link type: both must always agree.
func TestAgreement(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 300
	if testing.Short() {
		n = 50
	}
	links := []linktype.Type{linktype.Ethernet, linktype.LinuxSLL, linktype.LinuxSLL2, linktype.Null, linktype.Loop, linktype.Raw}
	var frames [][][]byte // per link
	for _, link := range links {
		var fs [][]byte
		for _, s := range packets {
			fs = append(fs, frame(link, ipPacket(t, s)))
		}
		frames = append(frames, fs)
	}
	matched := 0
	for i := 0; i < n; i++ {
		expr := randomExpr(rng, 3)
		f, err := Parse(expr)
		if err != nil {
			t.Fatalf("Parse(%q) = %v", expr, err)
		}
		for li, link := range links {
			prog, err := f.Compile(link)
			if err != nil {
				t.Fatal(err)
			}
			ins, err := prog.Instructions(0)
			if err != nil {
				t.Fatalf("Instructions(%q) = %v", expr, err)
			}
			vm, err := bpf.NewVM(ins)
			if err != nil {
				t.Fatalf("NewVM(%q) = %v", expr, err)
			}
			for pi, data := range frames[li] {
				for cut := len(data); cut >= 0; cut -= 1 + rng.IntN(6) {
					v, err := vm.Run(data[:cut])
					if err != nil {
						t.Fatal(err)
					}
					if got, want := prog.Match(data[:cut]), v > 0; got != want {
						t.Fatalf("%v: Match(%q, %s[:%d]) = %v, BPF says %v\n%v", link, expr, packets[pi].name, cut, got, want, ins)
					}
					if v > 0 {
						matched++
					}
				}
			}
		}
	}
	if matched == 0 {
		t.Errorf("no random expression matched any packet: the test proves nothing")
	}
}

// randomExpr returns an expression over addresses and ports that occur in
// the test packets, so that both outcomes happen often.
func randomExpr(rng *rand.Rand, depth int) string {
	if depth == 0 || rng.IntN(3) == 0 {
		prims := []func() string{
			func() string { return pick(rng, "ip", "ip6", "tcp", "udp") },
			func() string {
				return pick(rng, "", "tcp ", "udp ", "ip ", "ip6 ") + pick(rng, "", "src ", "dst ", "src or dst ", "src and dst ") +
					"port " + pick(rng, "80", "1234", "53", "8080", "9001", "22")
			},
			func() string {
				return pick(rng, "", "src ", "dst ") + "portrange " + pick(rng, "1-100", "80-80", "1000-9000", "8080-65535")
			},
			func() string {
				return pick(rng, "", "src ", "dst ", "src and dst ") + "host " +
					pick(rng, "127.0.0.1", "10.0.0.1", "10.0.0.2", "::1", "2001:db8::1")
			},
			func() string {
				return pick(rng, "", "src ", "dst ") + "net " +
					pick(rng, "10.0.0.0/8", "10.0.0.0/30", "127.0.0.0/8", "0.0.0.0/0", "2001:db8::/32", "::/0", "::1/128", "2001:db8:1::/48", "2001:db8::/47")
			},
		}
		return prims[rng.IntN(len(prims))]()
	}
	switch rng.IntN(4) {
	case 0:
		return "not " + randomExpr(rng, depth-1)
	case 1:
		return "(" + randomExpr(rng, depth-1) + ")"
	case 2:
		return randomExpr(rng, depth-1) + pick(rng, " and ", " && ") + randomExpr(rng, depth-1)
	}
	return randomExpr(rng, depth-1) + pick(rng, " or ", " || ") + randomExpr(rng, depth-1)
}

func pick(rng *rand.Rand, choices ...string) string { return choices[rng.IntN(len(choices))] }

func TestLongJumps(t *testing.T) {
	// Many alternatives push the "true" target of the first tests more
	// than 255 instructions away; the program must still agree with Match.
	var ports []string
	for p := 1; p <= 40; p++ {
		ports = append(ports, fmt.Sprint(p*1000))
	}
	expr := "port 80 or " + strings.Join(ports, " or ")
	for _, e := range []string{expr, "not (" + expr + ")", "(" + expr + ") and host 10.0.0.1"} {
		t.Run(e[:20], func(t *testing.T) {
			prog, err := MustParse(e).Compile(linktype.Ethernet)
			if err != nil {
				t.Fatal(err)
			}
			ins, err := prog.Instructions(0)
			if err != nil {
				t.Fatalf("Instructions = %v", err)
			}
			if len(ins) < 300 {
				t.Fatalf("Instructions = %d instructions, want a program long enough to need long jumps", len(ins))
			}
			for _, s := range packets {
				data := frame(linktype.Ethernet, ipPacket(t, s))
				if got, want := prog.Match(data), runBPF(t, prog, data); got != want {
					t.Errorf("Match(%s) = %v, BPF says %v", s.name, got, want)
				}
			}
		})
	}
	huge := "port 1" + strings.Repeat(" or 2", 500)
	prog, err := MustParse(huge).Compile(linktype.Ethernet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prog.Instructions(0); !errors.Is(err, ErrTooLong) {
		t.Errorf("Instructions(500 ports) = %v, want ErrTooLong", err)
	}
}

func FuzzFilter(f *testing.F) {
	for _, s := range []string{"tcp port 80", "host 127.0.0.1 and not port 22", "(ip6 or udp) && !src net 10.0.0.0/8",
		"portrange 1-2 or 3-4", "src or dst port 1", "port 80 or 443 and not 22"} {
		f.Add(s)
	}
	// One link type of each layout: an EtherType at 12, 14 and 0; the IP
	// version at 4 and at 0.
	links := []linktype.Type{linktype.Ethernet, linktype.LinuxSLL, linktype.LinuxSLL2, linktype.Null, linktype.Raw}
	frames := make([][][]byte, len(links))
	for li, link := range links {
		for _, s := range packets {
			frames[li] = append(frames[li], frame(link, ipPacket(f, s)))
		}
	}
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := Parse(expr)
		if err != nil {
			return
		}
		for li, link := range links {
			prog, err := flt.Compile(link)
			if err != nil {
				t.Fatal(err)
			}
			ins, err := prog.Instructions(0)
			if errors.Is(err, ErrTooLong) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			vm, err := bpf.NewVM(ins)
			if err != nil {
				t.Fatalf("NewVM(%q) = %v", expr, err)
			}
			for i, data := range frames[li] {
				v, _ := vm.Run(data)
				if got := prog.Match(data); got != (v > 0) {
					t.Fatalf("link type %d: Match(%q, %s) = %v, BPF says %v", link, expr, packets[i].name, got, v > 0)
				}
				// The same packet gives the same answer on every link type.
				if want := prog0Match(t, flt, frames[0][i]); prog.Match(data) != want {
					t.Fatalf("link type %d: Match(%q, %s) = %v, on Ethernet %v", link, expr, packets[i].name, !want, want)
				}
			}
		}
	})
}

// prog0Match is f's Match on an Ethernet frame.
func prog0Match(t *testing.T, f *Filter, data []byte) bool {
	prog, err := f.Compile(linktype.Ethernet)
	if err != nil {
		t.Fatal(err)
	}
	return prog.Match(data)
}

func BenchmarkMatch(b *testing.B) {
	prog, err := MustParse("host 127.0.0.1 and (tcp port 9001 or 8080) and not port 22").Compile(linktype.Ethernet)
	if err != nil {
		b.Fatal(err)
	}
	data := packetNamed(b, linktype.Ethernet, "v4 tcp 8080 loop")
	b.ReportAllocs()
	for b.Loop() {
		if !prog.Match(data) {
			b.Fatal("no match")
		}
	}
}
