package capture

import (
	"encoding/binary"
	"net/netip"
)

// Tunnel headers.
const (
	// GRE, RFC 2784 §2 and RFC 2890 §2: flags and version (2), protocol
	// type (2), then the optional fields the flags announce.
	greHeaderLen    = 4
	greChecksumBit  = 0x8000 // C: checksum and reserved1 follow (4 bytes)
	greRoutingBit   = 0x4000 // R: RFC 1701 source routing, deprecated: not decoded
	greKeyBit       = 0x2000 // K: key follows (4 bytes), RFC 2890 §2.1
	greSequenceBit  = 0x1000 // S: sequence number follows (4 bytes), RFC 2890 §2.2
	greVersionMask  = 0x0007 // 0 for GRE; 1 is PPTP's enhanced GRE (RFC 2637), carrying PPP
	greOptionalLen  = 4
	vxlanHeaderLen  = 8    // RFC 7348 §5: flags(1) reserved(3) VNI(3) reserved(1)
	vxlanFlagVNI    = 0x08 // the I flag: the VNI is valid
	geneveHeaderLen = 8    // RFC 8926 §3.4: ver+optlen(1) flags(1) protocol(2) VNI(3) reserved(1)
	udpHeaderLen    = 8    // RFC 768
	mplsEntryLen    = 4    // RFC 3032 §2.1: label(20) TC(3) S(1) TTL(8)
	mplsBottomBit   = 0x100
	mplsMaxLabels   = 16 // deeper stacks are not decoded
	pwControlLen    = 4  // RFC 4385 §3: the pseudowire control word, first nibble 0
)

// UDP ports of the UDP encapsulations (IANA).
const (
	portVXLAN      = 4789 // RFC 7348 §5
	portVXLANLinux = 8472 // Linux's default before the IANA port, still Flannel's
	portGeneve     = 6081 // RFC 8926 §3.3
	portGREinUDP   = 4754 // RFC 8086 §3
)

// decodeTunnel unwraps the tunnel header at the start of an IP payload of
// protocol proto between src and dst, and returns what the next layer is
// (an EtherType) and where it starts. ok is false for a protocol that is
// not a tunnel (or not one decoded), or a header cut short.
func decodeTunnel(d *Decoder, proto uint8, payload []byte, src, dst netip.Addr) (etherType uint16, data []byte, ok bool) {
	t := Tunnel{Src: src, Dst: dst}
	switch proto {
	case ipProtoIPIP:
		etherType, data, t.Kind = etherTypeIPv4, payload, TunnelIPIP
		if src.Is6() {
			t.Kind = Tunnel4in6
		}
	case ipProtoIPv6:
		etherType, data, t.Kind = etherTypeIPv6, payload, Tunnel6in4
		if src.Is6() {
			t.Kind = Tunnel6in6
		}
	case ipProtoGRE:
		t.Kind = TunnelGRE
		if etherType, data, ok = decodeGRE(payload, &t); !ok {
			return 0, nil, false
		}
	case ipProtoUDP:
		if len(payload) < udpHeaderLen {
			return 0, nil, false
		}
		udp := payload[udpHeaderLen:]
		if n := int(binary.BigEndian.Uint16(payload[4:])); n >= udpHeaderLen && n-udpHeaderLen < len(udp) {
			udp = udp[:n-udpHeaderLen]
		}
		switch binary.BigEndian.Uint16(payload[2:]) { // the destination port
		case portVXLAN, portVXLANLinux:
			// RFC 7348 §5: the I flag set, an Ethernet frame after.
			if len(udp) < vxlanHeaderLen || udp[0]&vxlanFlagVNI == 0 {
				return 0, nil, false
			}
			t.Kind, t.VNI = TunnelVXLAN, binary.BigEndian.Uint32(udp[4:])>>8
			etherType, data = etherTypeTEB, udp[vxlanHeaderLen:]
		case portGeneve:
			// RFC 8926 §3.4: version 0; options of optlen 4-byte words.
			if len(udp) < geneveHeaderLen || udp[0]>>6 != 0 {
				return 0, nil, false
			}
			n := geneveHeaderLen + int(udp[0]&0x3f)*4
			if len(udp) < n {
				return 0, nil, false
			}
			t.Kind, t.VNI = TunnelGeneve, binary.BigEndian.Uint32(udp[4:])>>8
			etherType, data = binary.BigEndian.Uint16(udp[2:]), udp[n:]
		case portGREinUDP:
			t.Kind = TunnelGRE
			if etherType, data, ok = decodeGRE(udp, &t); !ok {
				return 0, nil, false
			}
		default:
			return 0, nil, false
		}
	default:
		return 0, nil, false
	}
	if d != nil {
		d.addTunnel(t)
	}
	return etherType, data, true
}

// decodeGRE decodes a GRE header (RFC 2784 §2.1, RFC 2890 §2) into t and
// returns the protocol type of its payload and the payload.
func decodeGRE(b []byte, t *Tunnel) (etherType uint16, payload []byte, ok bool) {
	if len(b) < greHeaderLen {
		return 0, nil, false
	}
	flags := binary.BigEndian.Uint16(b)
	if flags&greVersionMask != 0 || flags&greRoutingBit != 0 {
		return 0, nil, false
	}
	n := greHeaderLen
	if flags&greChecksumBit != 0 {
		n += greOptionalLen
	}
	if flags&greKeyBit != 0 {
		if len(b) < n+greOptionalLen {
			return 0, nil, false
		}
		t.Key, t.HasKey = binary.BigEndian.Uint32(b[n:]), true
		n += greOptionalLen
	}
	if flags&greSequenceBit != 0 {
		n += greOptionalLen // RFC 2890 §2.2: the sequence number orders the packets; a capture shows their order
	}
	if len(b) < n {
		return 0, nil, false
	}
	return binary.BigEndian.Uint16(b[2:]), b[n:], true
}

// decodeMPLS pops an MPLS label stack (RFC 3032 §2.1), recording each
// label, and returns what is beneath it. The stack does not say: as
// Wireshark guesses, a first nibble of 4 or 6 is IPv4 or IPv6, 0 a
// pseudowire control word (RFC 4385) before an Ethernet frame, anything
// else an Ethernet frame without one (RFC 4448).
func decodeMPLS(d *Decoder, data []byte) (etherType uint16, inner []byte, ok bool) {
	for i := 0; ; i++ {
		if i == mplsMaxLabels || len(data) < mplsEntryLen {
			return 0, nil, false
		}
		entry := binary.BigEndian.Uint32(data)
		data = data[mplsEntryLen:]
		if d != nil {
			d.addTunnel(Tunnel{Kind: TunnelMPLS, Label: entry >> 12})
		}
		if entry&mplsBottomBit != 0 {
			break
		}
	}
	if len(data) < 1 {
		return 0, nil, false
	}
	switch data[0] >> 4 {
	case 4:
		return etherTypeIPv4, data, true
	case 6:
		return etherTypeIPv6, data, true
	case 0:
		if len(data) < pwControlLen {
			return 0, nil, false
		}
		return etherTypeTEB, data[pwControlLen:], true
	}
	return etherTypeTEB, data, true
}
