package capture

import (
	"encoding/binary"
	"net/netip"

	"github.com/wsviz/wsviz/capture/internal/link"
)

// LinkType says how a packet's data begins: a LINKTYPE number
// (https://www.tcpdump.org/linktypes.html) held in 8 bits, as gopacket's
// layers.LinkType held it, with the same numbers and the same names from
// String ("Ethernet", "Linux SLL", "Raw", "UnknownLinkType"...). capture
// keeps its own type so that wsviz does not link gopacket's layers
// package, whose init fills 5 MB of tables at every start.
type LinkType = link.Type

// Link types with their LINKTYPE numbers (the names gopacket gave them).
const (
	LinkTypeNull     LinkType = link.Null     // 0, BSD loopback in host byte order
	LinkTypeEthernet LinkType = link.Ethernet // 1
	LinkTypePPP      LinkType = link.PPP      // 9
	LinkTypeRaw      LinkType = link.Raw      // 101, raw IPv4 or IPv6
	LinkTypeLoop     LinkType = link.Loop     // 108, OpenBSD loopback in network byte order
	LinkTypeLinuxSLL LinkType = link.LinuxSLL // 113, Linux cooked capture v1
	LinkTypeIPv4     LinkType = link.IPv4     // 228, raw IPv4
	LinkTypeIPv6     LinkType = link.IPv6     // 229, raw IPv6

	LinkTypePPPHDLC      LinkType = link.PPPHDLC      // 50, PPP in HDLC-like framing, or Cisco PPP
	LinkTypeCHDLC        LinkType = link.CHDLC        // 104, Cisco HDLC
	LinkTypePPPWithDir   LinkType = link.PPPWithDir   // 204, a direction byte, then PPP
	LinkTypeCHDLCWithDir LinkType = link.CHDLCWithDir // 205, a direction byte, then Cisco HDLC
	LinkTypeNFLOG        LinkType = link.NFLOG        // 239, Linux netfilter log
)

// LinkTypeLinuxSLL2 is Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, number
// 276) as a LinkType.
//
// LinkType is 8 bits wide, like gopacket's, which truncated link type
// numbers to it when reading and writing, so 276 becomes 20. No link type
// is assigned the number 20 (https://www.tcpdump.org/linktypes.html), so
// this package takes 20 to mean SLL2. Use LinkTypeNumber for the number a
// file must carry.
const LinkTypeLinuxSLL2 LinkType = link.LinuxSLL2

// LinkTypePKTAP is Apple's PKTAP (LINKTYPE_PKTAP, number 258) as a
// LinkType: a header naming the interface, the process and the link type
// of the packet that follows it, which macOS's tcpdump -i pktap and iOS's
// remote virtual interfaces (rvictl, rvi0) write.
//
// 258 does not fit in 8 bits either: it becomes 258 & 0xff = 2, which no
// link type is assigned (https://www.tcpdump.org/linktypes.html), as
// LinkTypeLinuxSLL2 is 20. Use LinkTypeNumber for the number a file must
// carry.
const LinkTypePKTAP LinkType = link.PKTAP

const (
	linkTypeNumberSLL2  = 276
	linkTypeNumberPKTAP = 258
	// linkTypeUnrepresentable stands in Packet.LinkType for a link type
	// number LinkType cannot hold: above 255 other than SLL2 and PKTAP,
	// and the 20 and 2 these stand in for (LINKTYPE 255 is Bluetooth
	// baseband: DecodeTCP rejects both).
	linkTypeUnrepresentable LinkType = 0xff
	// linkTypeRawAlias12 and linkTypeRawAlias14 are DLT_RAW as some
	// libpcap builds (BSD/OS, OpenBSD) numbered it in files; libpcap maps
	// both to LINKTYPE_RAW (101).
	linkTypeRawAlias12 LinkType = link.RawAlias12
	linkTypeRawAlias14 LinkType = link.RawAlias14
)

// LinkTypeNumber returns the LINKTYPE number a capture file records for lt:
// 276 for LinkTypeLinuxSLL2, 258 for LinkTypePKTAP, lt itself otherwise.
func LinkTypeNumber(lt LinkType) uint32 {
	switch lt {
	case LinkTypeLinuxSLL2:
		return linkTypeNumberSLL2
	case LinkTypePKTAP:
		return linkTypeNumberPKTAP
	}
	return uint32(lt)
}

// linkTypeFromNumber maps a LINKTYPE number from a file (or from a PKTAP
// header) to a LinkType, the inverse of LinkTypeNumber. The numbers 20
// and 2 themselves, which no link type is assigned, are not taken for
// SLL2 and PKTAP: like the numbers above 255 they cannot be held.
func linkTypeFromNumber(n uint32) LinkType {
	switch {
	case n == linkTypeNumberSLL2:
		return LinkTypeLinuxSLL2
	case n == linkTypeNumberPKTAP:
		return LinkTypePKTAP
	case n > 0xff, n == uint32(LinkTypeLinuxSLL2), n == uint32(LinkTypePKTAP):
		return linkTypeUnrepresentable
	}
	return LinkType(n)
}

// Link-layer header sizes and fields.
const (
	ethernetHeaderLen = 14 // IEEE 802.3: dst(6) src(6) type(2)
	ethernetTypeOff   = 12
	vlanTagLen        = 4  // IEEE 802.1Q: TCI(2) then the inner EtherType(2)
	sllHeaderLen      = 16 // LINKTYPE_LINUX_SLL: protocol type at 14
	sllProtocolOff    = 14
	sll2HeaderLen     = 20 // LINKTYPE_LINUX_SLL2: protocol type at 0
	sll2ProtocolOff   = 0
	nullHeaderLen     = 4 // LINKTYPE_NULL / LINKTYPE_LOOP: address family
	chdlcHeaderLen    = 4 // Cisco HDLC: address, control, EtherType
	pppoeHeaderLen    = 6 // RFC 2516 §4: version and type, code, session, length
	nflogHeaderLen    = 4 // LINKTYPE_NFLOG: family, version, resource ID
	nflogTLVLen       = 4 // each TLV: length (itself included), type
	nflogPayloadType  = 9 // NFULA_PAYLOAD: the packet, from its IP header
	// LINKTYPE_PKTAP: a little-endian header of pth_length (the header's
	// length, the packet after it), pth_type_next, pth_dlt (the packet's
	// link type), then interface, process and command names.
	pktapMinHeaderLen = 108 // the version 1 header; version 2 is longer
	pktapTypeOff      = 4
	pktapDLTOff       = 8
	pktapTypePacket   = 1 // PTH_TYPE_PACKET: a packet follows; other types carry none
)

// PPP (RFC 1661, RFC 1662) framing and the protocol numbers DecodeTCP
// follows, with the EtherType each stands for.
const (
	pppAddress         = 0xff // RFC 1662 §3.1: all-stations
	pppControl         = 0x03 // unnumbered information
	pppIPv4            = 0x0021
	pppIPv6            = 0x0057
	pppMPLS            = 0x0281
	pppMPLSMulti       = 0x0283
	ciscoHDLCUnicast   = 0x0f
	ciscoHDLCMulticast = 0x8f
)

// EtherTypes (IEEE 802 numbers) that DecodeTCP follows.
const (
	etherTypeIPv4      = 0x0800
	etherTypeIPv6      = 0x86dd
	etherTypeVLAN      = 0x8100 // IEEE 802.1Q customer tag
	etherTypeQinQ      = 0x88a8 // IEEE 802.1ad service tag
	etherTypeQinQOld   = 0x9100 // pre-standard stacked tag, still seen
	etherTypeMPLS      = 0x8847 // RFC 3032 §5, unicast
	etherTypeMPLSMulti = 0x8848 // RFC 3032 §5, multicast
	etherTypeTEB       = 0x6558 // Transparent Ethernet Bridging: an Ethernet frame follows (GRE, Geneve)
	etherTypePPPoE     = 0x8864 // RFC 2516: a PPPoE session, PPP inside
)

// Address families in LINKTYPE_NULL and LINKTYPE_LOOP headers. AF_INET is 2
// everywhere; AF_INET6 differs per operating system.
const (
	afInet         = 2
	afInet6BSD     = 24 // NetBSD, OpenBSD, BSD/OS
	afInet6FreeBSD = 28 // FreeBSD, DragonFly
	afInet6Darwin  = 30 // macOS, iOS
)

// IPv4 header fields (RFC 791 §3.1).
const (
	ipv4MinHeaderLen = 20
	ipv4MoreFrags    = 0x2000 // flags field, MF bit
	ipv4FragOffMask  = 0x1fff // fragment offset, in 8-byte units
)

// IP protocol numbers (IANA) that DecodeTCP follows.
const (
	ipProtoIPIP = 4  // IPv4 encapsulated, RFC 2003 (and RFC 2473 in IPv6)
	ipProtoTCP  = 6  // RFC 9293
	ipProtoUDP  = 17 // RFC 768
	ipProtoIPv6 = 41 // IPv6 encapsulated, RFC 4213 (and RFC 2473 in IPv6)
	ipProtoGRE  = 47 // RFC 2784
)

// IPv6 header fields (RFC 8200 §3, §4).
const (
	ipv6HeaderLen     = 40
	ipv6HopByHop      = 0  // RFC 8200 §4.3
	ipv6Routing       = 43 // RFC 8200 §4.4
	ipv6Fragment      = 44 // RFC 8200 §4.5
	ipv6AH            = 51 // RFC 4302 §2: length in 4-byte units, minus 2
	ipv6DestOpts      = 60 // RFC 8200 §4.6
	ipv6FragHeaderLen = 8
	ipv6FragOffMask   = 0xfff8 // fragment offset, in 8-byte units, shifted by 3
)

// TCP header fields (RFC 9293 §3.1).
const (
	tcpMinHeaderLen = 20
	tcpFlagsMask    = FIN | SYN | RST | PSH | ACK | URG
)

// DecodeTCP decodes a packet down to its TCP segment and stores it in seg,
// overwriting every field.
//
// ok is false for anything that is not TCP over IPv4 or IPv6: other link
// types or protocols (ARP, UDP, ICMP), IPv4 and IPv6 fragments other than the
// first, IPv6 jumbograms, and headers cut short by the capture or
// inconsistent with each other. DecodeTCP never panics, allocates nothing,
// and does not verify checksums (loopback captures leave them unfilled).
//
// Tunnels are unwrapped down to the inner TCP: GRE (RFC 2784, with the key
// and sequence number of RFC 2890) carrying IP, Ethernet or MPLS; VXLAN
// (UDP port 4789, and 8472, Linux's older default); Geneve (UDP 6081);
// GRE in UDP (port 4754); IPv4 and IPv6 in IPv4 or IPv6
// (IP-in-IP, 6in4, RFC 2473); MPLS label stacks (RFC 3032); VLAN and
// QinQ tags, stacked to any depth; up to maxLayers layers in all. seg then
// holds the innermost segment; only a Decoder records the tunnels
// (Segment.Outer).
//
// seg.Payload aliases p.Data: copy it to keep it. It holds the TCP payload as
// captured, without link-layer padding (the IP length is authoritative);
// seg.Missing counts the payload bytes the IP header announces but the
// capture lacks (snap length). An IPv4 total length of zero, which TCP
// segmentation offload leaves in captures taken on the sending host, is read
// as "the whole captured packet".
//
// The first fragment of a fragmented datagram (IPv4 MF set with offset 0,
// IPv6 fragment header with offset 0) is decoded: seg gets the TCP header and
// the payload this fragment carries. The bytes in later fragments are not
// counted in seg.Missing (their length is unknown until they arrive);
// reassembly sees them as a gap. A Decoder reassembles the datagram
// instead.
func DecodeTCP(p *Packet, seg *Segment) (ok bool) {
	return decode(nil, p, seg)
}

// maxLayers bounds the layers decode walks through (tags, labels, IP
// headers, tunnels), so that a packet of nested encapsulations costs at
// most this many steps.
const maxLayers = 32

// decode is DecodeTCP with d nil, and Decoder.Decode otherwise.
func decode(d *Decoder, p *Packet, seg *Segment) bool {
	*seg = Segment{}
	data := p.Data
	// wireExtra is how many bytes of the packet were on the wire but not
	// captured; it only matters when the IP header cannot tell (IPv4 total
	// length 0).
	wireExtra := p.Length - len(data)
	if wireExtra < 0 {
		wireExtra = 0
	}

	// 1. Link layer: find the network protocol and where it starts.
	// Apple's PKTAP is a header before a packet of another link type,
	// which the switch reads; decodePKTAP says PKTAP when it finds none,
	// and a PKTAP in a PKTAP is refused, not unwrapped again.
	linkType := p.LinkType
	if linkType == LinkTypePKTAP {
		if linkType, data = decodePKTAP(data); linkType == LinkTypePKTAP {
			return false
		}
	}
	var etherType uint16
	switch linkType {
	case LinkTypeEthernet:
		if len(data) < ethernetHeaderLen {
			return false
		}
		etherType = binary.BigEndian.Uint16(data[ethernetTypeOff:])
		data = data[ethernetHeaderLen:]
	case LinkTypeLinuxSLL:
		if len(data) < sllHeaderLen {
			return false
		}
		etherType = binary.BigEndian.Uint16(data[sllProtocolOff:])
		data = data[sllHeaderLen:]
	case LinkTypeLinuxSLL2:
		if len(data) < sll2HeaderLen {
			return false
		}
		etherType = binary.BigEndian.Uint16(data[sll2ProtocolOff:])
		data = data[sll2HeaderLen:]
	case LinkTypeNull, LinkTypeLoop:
		if len(data) < nullHeaderLen {
			return false
		}
		var family uint32
		if linkType == LinkTypeLoop {
			family = binary.BigEndian.Uint32(data) // LOOP: network byte order
		} else {
			// NULL: the capturing host's byte order, which the file does
			// not record. Families are small numbers, so a value that
			// only fits in the high half was written big-endian.
			family = binary.LittleEndian.Uint32(data)
			if family > 0xffff {
				family = binary.BigEndian.Uint32(data)
			}
		}
		switch family {
		case afInet:
			etherType = etherTypeIPv4
		case afInet6BSD, afInet6FreeBSD, afInet6Darwin:
			etherType = etherTypeIPv6
		default:
			return false
		}
		data = data[nullHeaderLen:]
	case LinkTypeRaw, linkTypeRawAlias12, linkTypeRawAlias14:
		if etherType = ipEtherType(data); etherType == 0 {
			return false
		}
	case LinkTypeIPv4:
		etherType = etherTypeIPv4
	case LinkTypeIPv6:
		etherType = etherTypeIPv6
	case LinkTypePPP, LinkTypePPPHDLC, LinkTypePPPWithDir, LinkTypeCHDLC, LinkTypeCHDLCWithDir:
		if etherType, data = decodePPPLink(linkType, data); etherType == 0 {
			return false
		}
	case LinkTypeNFLOG:
		if etherType, data = decodeNFLOG(data); etherType == 0 {
			return false
		}
	default:
		return false
	}

	// 2. VLAN tags (IEEE 802.1Q, 802.1ad), possibly stacked; each tag
	// consumes 4 bytes, so the loop ends.
	for etherType == etherTypeVLAN || etherType == etherTypeQinQ || etherType == etherTypeQinQOld {
		if len(data) < vlanTagLen {
			return false
		}
		etherType = binary.BigEndian.Uint16(data[2:])
		data = data[vlanTagLen:]
	}

	// 3. Network layer: find TCP, its length on the wire and what is
	// captured of it. Anything else than one IP header is walked by
	// decodeNetwork: MPLS, tunnels.
	var (
		proto  uint8
		tcp    []byte // TCP header and payload as captured
		tcpLen int    // TCP header and payload length on the wire
		ok     bool
	)
	switch etherType {
	case etherTypeIPv4:
		proto, tcp, tcpLen, ok = decodeIPv4(d, data, wireExtra, seg)
	case etherTypeIPv6:
		proto, tcp, tcpLen, ok = decodeIPv6(d, data, seg)
	default:
		return decodeNetwork(d, etherType, data, seg)
	}
	if !ok {
		return false
	}
	if proto != ipProtoTCP {
		return decodeInner(d, proto, tcp, seg)
	}

	// 4. TCP header (RFC 9293 §3.1). The whole header, options included,
	// must be captured.
	if len(tcp) < tcpMinHeaderLen {
		return false
	}
	headerLen := int(tcp[12]>>4) * 4
	if headerLen < tcpMinHeaderLen || headerLen > len(tcp) || headerLen > tcpLen {
		return false
	}
	seg.Src = netip.AddrPortFrom(seg.Src.Addr(), binary.BigEndian.Uint16(tcp[0:]))
	seg.Dst = netip.AddrPortFrom(seg.Dst.Addr(), binary.BigEndian.Uint16(tcp[2:]))
	seg.Seq = binary.BigEndian.Uint32(tcp[4:])
	seg.Ack = binary.BigEndian.Uint32(tcp[8:])
	seg.Flags = tcp[13] & tcpFlagsMask
	seg.Window = binary.BigEndian.Uint16(tcp[14:])
	seg.Payload = tcp[headerLen:]
	seg.Missing = tcpLen - len(tcp)
	return true
}

// Decodable reports whether DecodeTCP reads packets of link type lt; the
// packets of any other link type are not TCP to it.
func Decodable(lt LinkType) bool {
	switch lt {
	case LinkTypeEthernet, LinkTypeLinuxSLL, LinkTypeLinuxSLL2, LinkTypeNull, LinkTypeLoop,
		LinkTypeRaw, linkTypeRawAlias12, linkTypeRawAlias14, LinkTypeIPv4, LinkTypeIPv6,
		LinkTypePPP, LinkTypePPPHDLC, LinkTypePPPWithDir, LinkTypeCHDLC, LinkTypeCHDLCWithDir, LinkTypeNFLOG,
		LinkTypePKTAP:
		return true
	}
	return false
}

// decodePKTAP reads Apple's PKTAP header
// (https://www.tcpdump.org/linktypes/LINKTYPE_PKTAP.html) and returns the
// link type of the packet after it, by the LINKTYPE number its pth_dlt
// holds (as Wireshark maps it: DLT_RAW is 12 on macOS), and the packet;
// LinkTypePKTAP when there is none: a header shorter than version 1's or
// longer than the data, or a record that carries no packet.
func decodePKTAP(data []byte) (inner LinkType, packet []byte) {
	if len(data) < pktapMinHeaderLen {
		return LinkTypePKTAP, nil
	}
	headerLen := binary.LittleEndian.Uint32(data)
	if headerLen < pktapMinHeaderLen || uint64(headerLen) > uint64(len(data)) ||
		binary.LittleEndian.Uint32(data[pktapTypeOff:]) != pktapTypePacket {
		return LinkTypePKTAP, nil
	}
	return linkTypeFromNumber(binary.LittleEndian.Uint32(data[pktapDLTOff:])), data[headerLen:]
}

// decodePPPLink reads the link header of the PPP and Cisco HDLC link types
// (https://www.tcpdump.org/linktypes.html) and returns the EtherType of
// what follows and where it starts; etherType 0 when it is not IP or MPLS.
//
// LINKTYPE_PPP starts with PPP's protocol field, after RFC 1662's address
// and control bytes when they are there; LINKTYPE_PPP_HDLC either that or
// Cisco's framing, told apart by the first byte; Cisco HDLC has an address,
// a control byte and an EtherType. The _WITH_DIR forms put a direction
// byte before it all.
func decodePPPLink(lt LinkType, data []byte) (etherType uint16, rest []byte) {
	if lt == LinkTypePPPWithDir || lt == LinkTypeCHDLCWithDir {
		if len(data) < 1 {
			return 0, nil
		}
		data = data[1:]
	}
	if len(data) < 2 {
		return 0, nil
	}
	cisco := lt == LinkTypeCHDLC || lt == LinkTypeCHDLCWithDir ||
		lt == LinkTypePPPHDLC && (data[0] == ciscoHDLCUnicast || data[0] == ciscoHDLCMulticast)
	if cisco {
		if len(data) < chdlcHeaderLen {
			return 0, nil
		}
		return binary.BigEndian.Uint16(data[2:]), data[chdlcHeaderLen:]
	}
	if data[0] == pppAddress && data[1] == pppControl {
		data = data[2:]
	}
	return pppProtocol(data)
}

// pppProtocol reads PPP's protocol field (RFC 1661 §2: two bytes, or one
// when compressed, which an odd first byte says) and returns the EtherType
// it stands for and what follows; etherType 0 for a protocol other than IP
// and MPLS.
func pppProtocol(data []byte) (etherType uint16, rest []byte) {
	if len(data) < 1 {
		return 0, nil
	}
	var proto uint16
	if data[0]&1 == 1 {
		proto, data = uint16(data[0]), data[1:]
	} else {
		if len(data) < 2 {
			return 0, nil
		}
		proto, data = binary.BigEndian.Uint16(data), data[2:]
	}
	switch proto {
	case pppIPv4:
		return etherTypeIPv4, data
	case pppIPv6:
		return etherTypeIPv6, data
	case pppMPLS:
		return etherTypeMPLS, data
	case pppMPLSMulti:
		return etherTypeMPLSMulti, data
	}
	return 0, nil
}

// decodeNFLOG returns the packet an NFLOG record carries
// (LINKTYPE_NFLOG: a header of family, version and resource ID, then TLVs,
// each padded to 4 bytes; the packet is in NFULA_PAYLOAD, from its IP
// header) and its EtherType, by its IP version; etherType 0 when there is
// none. The TLVs' lengths and types are in the capturing host's byte
// order, which the file does not record: little-endian, as on nearly every
// host, unless the TLVs only hold together big-endian.
func decodeNFLOG(data []byte) (etherType uint16, payload []byte) {
	if len(data) < nflogHeaderLen || data[1] != 0 { // version 0
		return 0, nil
	}
	tlvs := data[nflogHeaderLen:]
	if payload, ok := nflogPayload(tlvs, binary.LittleEndian); ok {
		return ipEtherType(payload), payload
	}
	if payload, ok := nflogPayload(tlvs, binary.BigEndian); ok {
		return ipEtherType(payload), payload
	}
	return 0, nil
}

// nflogPayload walks NFLOG TLVs in the given byte order to NFULA_PAYLOAD;
// ok is false when there is none or a length does not fit. The payload may
// be cut short by the capture's snap length: what was captured of it is
// returned (the IP header tells how much is missing).
func nflogPayload(tlvs []byte, order binary.ByteOrder) (payload []byte, ok bool) {
	for len(tlvs) >= nflogTLVLen {
		n := int(order.Uint16(tlvs))
		if n < nflogTLVLen {
			return nil, false
		}
		// The two high bits of the type are netlink's flags.
		if order.Uint16(tlvs[2:])&0x3fff == nflogPayloadType {
			return tlvs[nflogTLVLen:min(n, len(tlvs))], true
		}
		if n > len(tlvs) {
			return nil, false
		}
		tlvs = tlvs[min((n+3)&^3, len(tlvs)):]
	}
	return nil, false
}

// ipEtherType returns the EtherType of the IP packet data starts with, by
// its version, or 0.
func ipEtherType(data []byte) uint16 {
	if len(data) < 1 {
		return 0
	}
	switch data[0] >> 4 {
	case 4:
		return etherTypeIPv4
	case 6:
		return etherTypeIPv6
	}
	return 0
}

// decodeInner goes on below an IP header of protocol proto whose payload
// is not TCP: a tunnel, unwrapped by decodeTunnel, then decodeNetwork.
// seg holds the IP header's addresses.
func decodeInner(d *Decoder, proto uint8, payload []byte, seg *Segment) bool {
	etherType, data, ok := decodeTunnel(d, proto, payload, seg.Src.Addr(), seg.Dst.Addr())
	if !ok {
		return false
	}
	return decodeNetwork(d, etherType, data, seg)
}

// decodeNetwork walks from a network layer (etherType says which) inside
// a tunnel down to TCP, unwrapping tags, labels and tunnels, and decodes
// the TCP header into seg. Each step consumes a header, and at most
// maxLayers are taken.
func decodeNetwork(d *Decoder, etherType uint16, data []byte, seg *Segment) bool {
	var (
		proto   uint8  // the IP payload's protocol
		payload []byte // the IP payload as captured
		wireLen int    // the IP payload's length on the wire
		ok      bool
	)
	for range maxLayers {
		// Network layer: tags and labels, then IP.
		switch etherType {
		case etherTypeIPv4:
			proto, payload, wireLen, ok = decodeIPv4(d, data, 0, seg)
		case etherTypeIPv6:
			proto, payload, wireLen, ok = decodeIPv6(d, data, seg)
		case etherTypeVLAN, etherTypeQinQ, etherTypeQinQOld:
			// IEEE 802.1Q, 802.1ad: TCI(2), then the inner EtherType.
			if len(data) < vlanTagLen {
				return false
			}
			etherType = binary.BigEndian.Uint16(data[2:])
			data = data[vlanTagLen:]
			continue
		case etherTypeMPLS, etherTypeMPLSMulti:
			if etherType, data, ok = decodeMPLS(d, data); !ok {
				return false
			}
			continue
		case etherTypeTEB:
			if len(data) < ethernetHeaderLen {
				return false
			}
			etherType = binary.BigEndian.Uint16(data[ethernetTypeOff:])
			data = data[ethernetHeaderLen:]
			continue
		case etherTypePPPoE:
			// RFC 2516 §4: version 1, type 1, code 0 in a session, then
			// PPP's protocol field.
			if len(data) < pppoeHeaderLen || data[0] != 0x11 || data[1] != 0 {
				return false
			}
			if etherType, data = pppProtocol(data[pppoeHeaderLen:]); etherType == 0 {
				return false
			}
			continue
		default:
			return false
		}
		if !ok {
			return false
		}
		// Transport: TCP at last, or a tunnel to unwrap.
		if proto == ipProtoTCP {
			return decodeTCPHeader(payload, wireLen, seg)
		}
		if etherType, data, ok = decodeTunnel(d, proto, payload, seg.Src.Addr(), seg.Dst.Addr()); !ok {
			return false
		}
	}
	return false
}

// decodeTCPHeader decodes a TCP header and its payload (RFC 9293 §3.1)
// into seg, whose addresses the IP header set: tcp as captured, tcpLen its
// length on the wire. The whole header, options included, must be
// captured. (decode does the same inline for plain packets.)
func decodeTCPHeader(tcp []byte, tcpLen int, seg *Segment) bool {
	if len(tcp) < tcpMinHeaderLen {
		return false
	}
	headerLen := int(tcp[12]>>4) * 4
	if headerLen < tcpMinHeaderLen || headerLen > len(tcp) || headerLen > tcpLen {
		return false
	}
	seg.Src = netip.AddrPortFrom(seg.Src.Addr(), binary.BigEndian.Uint16(tcp[0:]))
	seg.Dst = netip.AddrPortFrom(seg.Dst.Addr(), binary.BigEndian.Uint16(tcp[2:]))
	seg.Seq = binary.BigEndian.Uint32(tcp[4:])
	seg.Ack = binary.BigEndian.Uint32(tcp[8:])
	seg.Flags = tcp[13] & tcpFlagsMask
	seg.Window = binary.BigEndian.Uint16(tcp[14:])
	seg.Payload = tcp[headerLen:]
	seg.Missing = tcpLen - len(tcp)
	return true
}

// decodeIPv4 checks an IPv4 header (RFC 791 §3.1), stores the addresses
// in seg and returns the protocol, the payload as captured and its length
// on the wire. A fragment goes to d's reassembly: ok is false until the
// datagram is complete, which then returns the whole payload. Without a
// Decoder, the first fragment is returned as it is and the others are
// rejected.
func decodeIPv4(d *Decoder, data []byte, wireExtra int, seg *Segment) (proto uint8, payload []byte, wireLen int, ok bool) {
	if len(data) < ipv4MinHeaderLen || data[0]>>4 != 4 {
		return
	}
	if d != nil && d.prog != nil {
		d.match(data)
	}
	headerLen := int(data[0]&0x0f) * 4
	if headerLen < ipv4MinHeaderLen || headerLen > len(data) {
		return
	}
	totalLen := int(binary.BigEndian.Uint16(data[2:]))
	switch {
	case totalLen == 0:
		// TCP segmentation offload: the sending host's capture sees the
		// super-segment before the NIC fills the length in.
		totalLen = len(data) + wireExtra
	case totalLen < headerLen:
		return
	}
	if len(data) > totalLen {
		data = data[:totalLen] // link-layer padding (Ethernet minimum frame)
	}
	proto = data[9]
	seg.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(data[12:16])), 0)
	seg.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(data[16:20])), 0)
	payload, wireLen = data[headerLen:], totalLen-headerLen
	if frag := binary.BigEndian.Uint16(data[6:]); frag&(ipv4MoreFrags|ipv4FragOffMask) != 0 {
		offset := int(frag&ipv4FragOffMask) * 8
		if d == nil {
			if offset != 0 {
				return // a later fragment: no TCP header here
			}
			return proto, payload, wireLen, true
		}
		if !interesting(proto) {
			return // not TCP, nor a tunnel that may carry it
		}
		key := fragKey{id: uint32(binary.BigEndian.Uint16(data[4:])), proto: proto, ctx: d.ctx}
		copy(key.src[12:], data[12:16])
		copy(key.dst[12:], data[16:20])
		key.src[10], key.src[11], key.dst[10], key.dst[11] = 0xff, 0xff, 0xff, 0xff
		payload, wireLen, ok = d.frags.add(d, &key, offset, frag&ipv4MoreFrags != 0, payload, wireLen, proto)
		return proto, payload, wireLen, ok
	}
	return proto, payload, wireLen, true
}

// interesting reports whether an IP protocol may carry TCP: TCP itself
// and the tunnels decodeTunnel unwraps.
func interesting(proto uint8) bool {
	switch proto {
	case ipProtoTCP, ipProtoIPIP, ipProtoIPv6, ipProtoGRE, ipProtoUDP:
		return true
	}
	return false
}

// decodeIPv6 checks an IPv6 header (RFC 8200 §3), skips extension headers
// (§4), stores the addresses in seg and returns the upper-layer protocol,
// its payload as captured and its length on the wire. A Fragment header (§4.5) sends the
// packet to d's reassembly, as decodeIPv4 does.
func decodeIPv6(d *Decoder, data []byte, seg *Segment) (proto uint8, payload []byte, wireLen int, ok bool) {
	if len(data) < ipv6HeaderLen || data[0]>>4 != 6 {
		return
	}
	if d != nil && d.prog != nil {
		d.match(data)
	}
	payloadLen := int(binary.BigEndian.Uint16(data[4:]))
	if payloadLen == 0 {
		return // jumbogram (RFC 2675) or nothing at all
	}
	next := data[6]
	seg.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(data[8:24])), 0)
	seg.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(data[24:40])), 0)
	hdr := data
	data = data[ipv6HeaderLen:]
	if len(data) > payloadLen {
		data = data[:payloadLen]
	}
	wireLen = payloadLen
	// Each extension header is at least 8 bytes, so the loop ends.
	for {
		var extLen int
		switch next {
		case ipv6HopByHop, ipv6Routing, ipv6DestOpts:
			if len(data) < 8 {
				return
			}
			extLen = (int(data[1]) + 1) * 8 // RFC 8200 §4.3: Hdr Ext Len in 8-octet units, not counting the first 8
		case ipv6AH:
			if len(data) < 8 {
				return
			}
			extLen = (int(data[1]) + 2) * 4 // RFC 4302 §2.2
		case ipv6Fragment:
			if len(data) < ipv6FragHeaderLen || wireLen < ipv6FragHeaderLen {
				return
			}
			frag := binary.BigEndian.Uint16(data[2:])
			offset, more := int(frag&ipv6FragOffMask), frag&1 != 0 // offset: 8-byte units shifted by 3, so bytes
			if offset == 0 && !more {
				// An atomic fragment (RFC 6946): processed on its own.
				extLen = ipv6FragHeaderLen
				break
			}
			if d == nil {
				if offset != 0 {
					return // a later fragment: no TCP header here
				}
				extLen = ipv6FragHeaderLen
				break
			}
			key := fragKey{id: binary.BigEndian.Uint32(data[4:]), v6: true, ctx: d.ctx}
			copy(key.src[:], hdr[8:24])
			copy(key.dst[:], hdr[24:40])
			// The fragmentable part's first header is named by the first
			// fragment's Fragment header (RFC 8200 §4.5).
			payload, wireLen, ok = d.frags.add(d, &key, offset, more, data[ipv6FragHeaderLen:], wireLen-ipv6FragHeaderLen, data[0])
			if !ok {
				return
			}
			next, data = d.frags.next, payload
			continue
		default:
			// TCP, a tunnel, or a protocol decodeNetwork rejects (UDP,
			// ICMPv6, No Next Header 59, ESP...).
			return next, data, wireLen, true
		}
		if extLen > len(data) || extLen > wireLen {
			return
		}
		next = data[0]
		data = data[extLen:]
		wireLen -= extLen
	}
}
