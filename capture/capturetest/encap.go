package capturetest

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/wsviz/wsviz/capture"
)

// Header fields of fragments and tunnels.
const (
	etherTypeMPLS = 0x8847 // RFC 3032 §5
	etherTypeTEB  = 0x6558 // Transparent Ethernet Bridging: an Ethernet frame follows

	ipv4MoreFragments = 0x2000
	ipProtoIPIP       = 4
	ipProtoUDP        = 17
	ipProtoIPv6       = 41
	ipProtoGRE        = 47
	ipv6Fragment      = 44

	portVXLAN  = 4789
	portGeneve = 6081
)

// Tunnel is one encapsulation Conn wraps its packets in (see SetTunnels).
type Tunnel struct {
	// Kind is capture.TunnelGRE, TunnelVXLAN, TunnelGeneve, TunnelIPIP,
	// Tunnel6in4, Tunnel4in6, Tunnel6in6 or TunnelMPLS.
	Kind string
	// Src and Dst are the outer addresses ("10.0.0.1", "2001:db8::1"),
	// client side first: the server's packets go from Dst to Src. MPLS
	// has none.
	Src, Dst string
	// VNI is the VXLAN or Geneve network identifier.
	VNI uint32
	// Key, when HasKey, is written in GRE's key field (RFC 2890 §2.1).
	Key    uint32
	HasKey bool
	// Sequence numbers GRE packets (RFC 2890 §2.2); Checksum adds GRE's
	// checksum field (RFC 2784 §2.5).
	Sequence, Checksum bool
	// Ethernet makes GRE and Geneve carry an Ethernet frame around the
	// inner packet (Transparent Ethernet Bridging), as VXLAN always does.
	Ethernet bool
	// Label is the MPLS label.
	Label uint32
	// GeneveOptions is the length in bytes (a multiple of 4) of Geneve
	// options, filled with a placeholder option.
	GeneveOptions int

	seq uint32
}

// SetTunnels wraps every later packet of the connection in tunnels,
// outermost first, and cuts each outer IP packet into the packets
// outerFragmenter returns (nil keeps it whole): a tunnel over a path whose
// MTU the encapsulated packet exceeds.
func (k *Conn) SetTunnels(outerFragmenter func(ip []byte) [][]byte, tunnels ...Tunnel) {
	for _, t := range tunnels {
		switch t.Kind {
		case capture.TunnelGRE, capture.TunnelVXLAN, capture.TunnelGeneve, capture.TunnelIPIP,
			capture.Tunnel6in4, capture.Tunnel4in6, capture.Tunnel6in6:
			if _, err := netip.ParseAddr(t.Src); err != nil {
				panic(fmt.Sprintf("capturetest: tunnel %s source: %v", t.Kind, err))
			}
			if _, err := netip.ParseAddr(t.Dst); err != nil {
				panic(fmt.Sprintf("capturetest: tunnel %s destination: %v", t.Kind, err))
			}
		case capture.TunnelMPLS:
		default:
			panic(fmt.Sprintf("capturetest: tunnel kind %q is not supported", t.Kind))
		}
	}
	k.tunnels, k.outerFragmenter = tunnels, outerFragmenter
}

// SetFragmenter cuts every later IP packet of the connection into the IP
// packets f returns, written in that order: fragments, reordered,
// overlapping. f returning nil keeps the packet whole. See Fragments,
// FragmentIPv4 and FragmentIPv6.
func (k *Conn) SetFragmenter(f func(ip []byte) [][]byte) { k.fragmenter = f }

// Fragments returns a fragmenter that cuts each IP packet with more than
// size bytes of payload (size a multiple of 8) into fragments of size
// bytes, written in the order order(n) gives as indexes of the n
// fragments (nil for the natural order; see Reverse and LastFirst).
func Fragments(size int, order func(n int) []int) func(ip []byte) [][]byte {
	if size <= 0 || size%8 != 0 {
		panic(fmt.Sprintf("capturetest: fragment size %d is not a positive multiple of 8", size))
	}
	return func(ip []byte) [][]byte {
		total := payloadLen(ip)
		n := (total + size - 1) / size
		if n <= 1 {
			return nil
		}
		frags := make([][]byte, n)
		for i := range n {
			end := min((i+1)*size, total)
			frags[i] = Fragment(ip, i*size, end, end < total, nil)
		}
		if order == nil {
			return frags
		}
		out := make([][]byte, 0, n)
		for _, j := range order(n) {
			out = append(out, frags[j])
		}
		return out
	}
}

// Reverse is the order of Fragments that writes the last fragment first.
func Reverse(n int) []int {
	o := make([]int, n)
	for i := range o {
		o[i] = n - 1 - i
	}
	return o
}

// LastFirst is the order of Fragments that writes the last fragment
// first and the others in order, as Linux sends a datagram it fragments.
func LastFirst(n int) []int {
	o := []int{n - 1}
	for i := range n - 1 {
		o = append(o, i)
	}
	return o
}

// Fragment returns the fragment of the IP packet ip that carries bytes
// [start, end) of its payload (start a multiple of 8), marked as followed
// by more fragments or not; data, when not nil, replaces those bytes (to
// script conflicting copies). An IPv4 fragment keeps ip's identification
// (RFC 791 §3.2); an IPv6 fragment gets a Fragment header (RFC 8200 §4.5)
// with identification ident(ip).
func Fragment(ip []byte, start, end int, more bool, data []byte) []byte {
	if start%8 != 0 || start < 0 || end < start || end > payloadLen(ip) {
		panic(fmt.Sprintf("capturetest: fragment [%d, %d) of a %d-byte payload", start, end, payloadLen(ip)))
	}
	if data == nil {
		data = ip[len(ip)-payloadLen(ip):][start:end]
	}
	if ip[0]>>4 == 4 {
		hl := int(ip[0]&0x0f) * 4
		f := append([]byte(nil), ip[:hl]...)
		f = append(f, data...)
		binary.BigEndian.PutUint16(f[2:], uint16(len(f)))
		field := uint16(start / 8)
		if more {
			field |= ipv4MoreFragments
		}
		binary.BigEndian.PutUint16(f[6:], field) // DF cleared
		binary.BigEndian.PutUint16(f[10:], 0)
		binary.BigEndian.PutUint16(f[10:], ^checksum(0, f[:hl]))
		return f
	}
	// IPv6: the Fragment header follows the fixed header, whose Next
	// Header it takes over.
	f := append([]byte(nil), ip[:40]...)
	fh := make([]byte, 8)
	fh[0] = ip[6]
	field := uint16(start)
	if more {
		field |= 1
	}
	binary.BigEndian.PutUint16(fh[2:], field)
	binary.BigEndian.PutUint32(fh[4:], ident(ip))
	f[6] = ipv6Fragment
	f = append(f, fh...)
	f = append(f, data...)
	binary.BigEndian.PutUint16(f[4:], uint16(len(f)-40))
	return f
}

// payloadLen is the length of an IP packet's payload (after a 40-byte
// IPv6 header, extension headers included).
func payloadLen(ip []byte) int {
	if ip[0]>>4 == 4 {
		return len(ip) - int(ip[0]&0x0f)*4
	}
	return len(ip) - 40
}

// ident is the identification of IPv6 fragments of ip: a hash of the
// whole packet, so that each packet's differs and its fragments agree.
func ident(ip []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range ip {
		h = (h ^ uint32(c)) * 16777619
	}
	return h
}

// encapsulate wraps an IP packet of direction from in the connection's
// tunnels, innermost first, and returns the result and its EtherType.
func (k *Conn) encapsulate(from int, ip []byte) (etherType uint16, b []byte) {
	etherType, b = etherTypeIPv4, ip
	if ip[0]>>4 == 6 {
		etherType = etherTypeIPv6
	}
	for i := len(k.tunnels) - 1; i >= 0; i-- {
		t := &k.tunnels[i]
		if t.Kind == capture.TunnelMPLS {
			entry := t.Label<<12 | 64 // TTL 64
			if etherType != etherTypeMPLS {
				entry |= 0x100 // bottom of stack
			}
			b = append(binary.BigEndian.AppendUint32(nil, entry), b...)
			etherType = etherTypeMPLS
			continue
		}
		src, dst := netip.MustParseAddr(t.Src), netip.MustParseAddr(t.Dst)
		if from == server_ {
			src, dst = dst, src
		}
		var proto uint8
		switch t.Kind {
		case capture.TunnelIPIP, capture.Tunnel4in6:
			proto = ipProtoIPIP
		case capture.Tunnel6in4, capture.Tunnel6in6:
			proto = ipProtoIPv6
		case capture.TunnelGRE:
			proto = ipProtoGRE
			b = t.gre(etherType, b, from)
		case capture.TunnelVXLAN:
			proto = ipProtoUDP
			h := make([]byte, 8)
			h[0] = 0x08 // I: the VNI is valid
			binary.BigEndian.PutUint32(h[4:], t.VNI<<8)
			b = udp(portVXLAN, append(h, ethernetFrame(from, etherType, b)...))
		case capture.TunnelGeneve:
			proto = ipProtoUDP
			h := make([]byte, 8+t.GeneveOptions)
			h[0] = byte(t.GeneveOptions / 4)
			pt := etherType
			inner := b
			if t.Ethernet {
				pt, inner = etherTypeTEB, ethernetFrame(from, etherType, b)
			}
			binary.BigEndian.PutUint16(h[2:], pt)
			binary.BigEndian.PutUint32(h[4:], t.VNI<<8)
			if t.GeneveOptions >= 4 {
				// An option of class 0xffff (experimental), type 1, filling the space.
				binary.BigEndian.PutUint16(h[8:], 0xffff)
				h[10] = 1
				h[11] = byte(t.GeneveOptions/4 - 1)
			}
			b = udp(portGeneve, append(h, inner...))
		}
		b, etherType = k.outerIP(proto, src, dst, b)
	}
	return etherType, b
}

// gre puts a GRE header (RFC 2784, RFC 2890) for a payload of the given
// EtherType before b.
func (t *Tunnel) gre(etherType uint16, b []byte, from int) []byte {
	if t.Ethernet {
		b = ethernetFrame(from, etherType, b)
		etherType = etherTypeTEB
	}
	var flags uint16
	h := make([]byte, 4)
	if t.Checksum {
		flags |= 0x8000
		h = append(h, 0, 0, 0, 0)
	}
	if t.HasKey {
		flags |= 0x2000
		h = binary.BigEndian.AppendUint32(h, t.Key)
	}
	if t.Sequence {
		flags |= 0x1000
		h = binary.BigEndian.AppendUint32(h, t.seq)
		t.seq++
	}
	binary.BigEndian.PutUint16(h, flags)
	binary.BigEndian.PutUint16(h[2:], etherType)
	out := append(h, b...)
	if t.Checksum {
		binary.BigEndian.PutUint16(out[4:], ^checksum(0, out))
	}
	return out
}

// udp puts a UDP header (RFC 768) to port before b, from a source port
// that stands for a flow hash, without checksum.
func udp(port uint16, b []byte) []byte {
	h := make([]byte, 8)
	binary.BigEndian.PutUint16(h, 49152+port%1000)
	binary.BigEndian.PutUint16(h[2:], port)
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(b)))
	return append(h, b...)
}

// ethernetFrame puts an Ethernet header with the connection's MAC
// addresses before b.
func ethernetFrame(from int, etherType uint16, b []byte) []byte {
	dstMAC, srcMAC := serverMAC, clientMAC
	if from == server_ {
		dstMAC, srcMAC = clientMAC, serverMAC
	}
	h := append(dstMAC[:], srcMAC[:]...)
	h = binary.BigEndian.AppendUint16(h, etherType)
	return append(h, b...)
}

// outerIP puts an outer IP header of protocol proto from src to dst
// before b.
func (k *Conn) outerIP(proto uint8, src, dst netip.Addr, b []byte) ([]byte, uint16) {
	if src.Is4() {
		h := make([]byte, 20, 20+len(b))
		h[0] = 4<<4 | 5
		binary.BigEndian.PutUint16(h[2:], uint16(20+len(b)))
		binary.BigEndian.PutUint16(h[4:], k.outerID)
		k.outerID++
		h[8] = ttl
		h[9] = proto
		s, d := src.As4(), dst.As4()
		copy(h[12:], s[:])
		copy(h[16:], d[:])
		binary.BigEndian.PutUint16(h[10:], ^checksum(0, h))
		return append(h, b...), etherTypeIPv4
	}
	h := make([]byte, 40, 40+len(b))
	h[0] = 6 << 4
	binary.BigEndian.PutUint16(h[4:], uint16(len(b)))
	h[6] = proto
	h[7] = ttl
	s, d := src.As16(), dst.As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return append(h, b...), etherTypeIPv6
}
