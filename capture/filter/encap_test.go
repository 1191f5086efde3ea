package filter

import (
	"encoding/binary"
	"testing"

	linktype "github.com/wsviz/wsviz/capture/internal/link"
)

// rawIPv4 is an IPv4 header (IHL ihl words) of protocol proto and the
// given fragment field, before payload.
func rawIPv4(proto byte, ihl int, frag uint16, payload []byte) []byte {
	h := make([]byte, ihl*4)
	h[0] = 0x40 | byte(ihl)
	binary.BigEndian.PutUint16(h[2:], uint16(len(h)+len(payload)))
	binary.BigEndian.PutUint16(h[6:], frag)
	h[8], h[9] = 64, proto
	copy(h[12:], []byte{10, 0, 0, 1})
	copy(h[16:], []byte{10, 0, 0, 2})
	return append(h, payload...)
}

// rawIPv6 is an IPv6 header with next header next, before payload.
func rawIPv6(next byte, payload []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6], h[7] = next, 64
	h[23], h[39] = 1, 2
	return append(h, payload...)
}

// ports is a TCP or UDP header's first 8 bytes.
func ports(src, dst uint16) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint16(b, src)
	binary.BigEndian.PutUint16(b[2:], dst)
	return b
}

// TestOrEncapsulated checks what OrEncapsulated adds, in Go and in BPF,
// on every link layout: fragments and tunnel packets pass, other traffic
// only when the filter itself matches it.
func TestOrEncapsulated(t *testing.T) {
	f := MustParse("tcp port 9001").OrEncapsulated()
	if MustParse("").OrEncapsulated().Empty() != true {
		t.Errorf("OrEncapsulated of the empty filter is not empty")
	}
	tcp := make([]byte, 20)
	copy(tcp, ports(50000, 9001))
	tests := []struct {
		name string
		ip   []byte
		mpls bool // an MPLS, VLAN or PPPoE frame (Ethernet and SLL only)
		want bool
	}{
		{"the filter's own packet", rawIPv4(6, 5, 0, tcp), false, true},
		{"other tcp", rawIPv4(6, 5, 0, ports(50000, 80)), false, false},
		{"ipv4 first fragment", rawIPv4(6, 5, 0x2000, ports(50000, 80)), false, true},
		{"ipv4 later fragment", rawIPv4(6, 5, 100, []byte("data")), false, true},
		{"ipv4 in ipv4", rawIPv4(4, 5, 0, rawIPv4(6, 5, 0, tcp)), false, true},
		{"6in4", rawIPv4(41, 5, 0, rawIPv6(6, tcp)), false, true},
		{"gre", rawIPv4(47, 5, 0, []byte{0, 0, 8, 0}), false, true},
		{"vxlan", rawIPv4(17, 5, 0, ports(49152, 4789)), false, true},
		{"vxlan with ip options", rawIPv4(17, 6, 0, ports(49152, 4789)), false, true},
		{"vxlan, linux's port", rawIPv4(17, 5, 0, ports(49152, 8472)), false, true},
		{"geneve", rawIPv4(17, 5, 0, ports(49152, 6081)), false, true},
		{"gre in udp", rawIPv4(17, 5, 0, ports(49152, 4754)), false, true},
		{"dns", rawIPv4(17, 5, 0, ports(49152, 53)), false, false},
		{"icmp", rawIPv4(1, 5, 0, make([]byte, 8)), false, false},
		{"ipv6 fragment header", rawIPv6(44, make([]byte, 8)), false, true},
		{"ipv6 gre", rawIPv6(47, []byte{0, 0, 8, 0}), false, true},
		{"ipv6 vxlan", rawIPv6(17, ports(1, 4789)), false, true},
		{"ipv6 other udp", rawIPv6(17, ports(1, 4790)), false, false},
		{"ipv6 the filter's own", rawIPv6(6, tcp), false, true},
		{"mpls", []byte{0, 0x64, 0x1, 0x40}, true, true},
		{"vlan tagged", []byte{0, 0x64, 0x8, 0}, true, true},
		{"pppoe session", []byte{0x11, 0, 0x12, 0x34, 0, 0x30, 0, 0x21}, true, true},
	}
	for _, link := range []linktype.Type{linktype.Ethernet, linktype.LinuxSLL, linktype.LinuxSLL2, linktype.Null, linktype.Loop, linktype.Raw} {
		prog, err := f.Compile(link)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range tests {
			off, typed := typeOff(link)
			if tc.mpls && !typed {
				continue
			}
			data := frame(link, tc.ip)
			if tc.mpls {
				etherType := map[string]uint16{"vlan tagged": 0x8100, "pppoe session": 0x8864}[tc.name]
				if etherType == 0 {
					etherType = 0x8847
				}
				binary.BigEndian.PutUint16(data[off:], etherType)
			}
			if got := prog.Match(data); got != tc.want {
				t.Errorf("%v %s: Match = %v, want %v", link, tc.name, got, tc.want)
			}
			if got := runBPF(t, prog, data); got != tc.want {
				t.Errorf("%v %s: BPF = %v, want %v", link, tc.name, got, tc.want)
			}
		}
	}
}
