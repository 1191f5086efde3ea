package capturetest

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/wsviz/wsviz/capture"
)

// Header fields the frames use.
const (
	etherTypeIPv4  = 0x0800
	etherTypeIPv6  = 0x86dd
	etherTypeVLAN  = 0x8100 // IEEE 802.1Q
	etherTypeQinQ  = 0x88a8 // IEEE 802.1ad
	etherTypePPPoE = 0x8864 // RFC 2516, a PPPoE session

	afInet        = 2
	afInet6Darwin = 30 // LINKTYPE_NULL as macOS writes it
	afInet6BSD    = 24 // LINKTYPE_LOOP as OpenBSD writes it

	sllHostPacket     = 0 // packet type: to us
	sllOutgoingPacket = 4 // packet type: sent by us
	arphrdEther       = 1

	ipv4DontFragment = 0x4000
	ttl              = 64
	ipProtoTCP       = 6

	tcpOptionMSS = 2 // RFC 9293 §3.2, kind 2, length 4

	// Apple's PKTAP header (struct pktap_header, little-endian), version 1.
	pktapHeaderLen  = 108
	pktapTypePacket = 1 // PTH_TYPE_PACKET
	pktapIfnameLen  = 24
	pktapCommLen    = 20 // MAXCOMLEN + 1, padded to 4 bytes
	pktapDirIn      = 1  // PTH_FLAG_DIR_IN
	pktapDirOut     = 2  // PTH_FLAG_DIR_OUT
	iftEther        = 0x06
	iftLoop         = 0x18
	iftOther        = 0x01
	// The process the PKTAP headers name, as the owner of the client's
	// socket.
	pktapPID  = 4242
	pktapComm = "capturetest"
)

// MAC addresses of the two ends (locally administered).
var (
	clientMAC = [6]byte{0x02, 0, 0, 0, 0, 0x01}
	serverMAC = [6]byte{0x02, 0, 0, 0, 0, 0x02}
)

// frames builds the packets of one segment: its IP packet, cut into
// fragments by the connection's fragmenter, each wrapped in its tunnels
// (and cut again by the outer fragmenter) and given a link header.
func (k *Conn) frames(from int, seq, ack uint32, flags uint8, payload []byte, mssOption bool) [][]byte {
	ip := k.ipPacket(from, seq, ack, flags, payload, mssOption)
	pkts := [][]byte{ip}
	if k.fragmenter != nil {
		if f := k.fragmenter(ip); f != nil {
			pkts = f
		}
	}
	var out [][]byte
	for _, p := range pkts {
		etherType, b := k.encapsulate(from, p)
		outer := [][]byte{b}
		if k.outerFragmenter != nil && len(k.tunnels) > 0 && etherType != etherTypeMPLS {
			if f := k.outerFragmenter(b); f != nil {
				outer = f
			}
		}
		for _, o := range outer {
			out = append(out, k.linkFrame(from, etherType, o))
		}
	}
	return out
}

// ipPacket builds one IP packet: IP header, TCP header and payload.
func (k *Conn) ipPacket(from int, seq, ack uint32, flags uint8, payload []byte, mssOption bool) []byte {
	src, dst := &k.ends[from], k.ends[1-from]
	v4 := src.addr.Addr().Is4()

	tcpLen := 20
	if mssOption {
		tcpLen += 4
	}
	tcp := make([]byte, tcpLen+len(payload))
	binary.BigEndian.PutUint16(tcp[0:], src.addr.Port())
	binary.BigEndian.PutUint16(tcp[2:], dst.addr.Port())
	binary.BigEndian.PutUint32(tcp[4:], seq)
	binary.BigEndian.PutUint32(tcp[8:], ack)
	tcp[12] = byte(tcpLen/4) << 4
	tcp[13] = flags
	binary.BigEndian.PutUint16(tcp[14:], Window)
	if mssOption {
		tcp[20], tcp[21] = tcpOptionMSS, 4
		binary.BigEndian.PutUint16(tcp[22:], uint16(k.mss))
	}
	copy(tcp[tcpLen:], payload)

	var ip []byte
	if v4 {
		ip = make([]byte, 20, 20+len(tcp))
		ip[0] = 4<<4 | 5
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(tcp)))
		binary.BigEndian.PutUint16(ip[4:], src.ipID)
		binary.BigEndian.PutUint16(ip[6:], ipv4DontFragment)
		ip[8] = ttl
		ip[9] = ipProtoTCP
		s, d := src.addr.Addr().As4(), dst.addr.Addr().As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
		binary.BigEndian.PutUint16(ip[10:], ^checksum(0, ip))
		src.ipID++
	} else {
		ip = make([]byte, 40, 40+len(tcp))
		ip[0] = 6 << 4
		binary.BigEndian.PutUint16(ip[4:], uint16(len(tcp)))
		ip[6] = ipProtoTCP
		ip[7] = ttl
		s, d := src.addr.Addr().As16(), dst.addr.Addr().As16()
		copy(ip[8:], s[:])
		copy(ip[24:], d[:])
	}
	binary.BigEndian.PutUint16(tcp[16:], ^checksum(pseudoHeaderSum(ip, v4, len(tcp)), tcp))
	return append(ip, tcp...)
}

// linkFrame puts the connection's link header, for a packet of the given
// EtherType, before b: on PKTAP, a PKTAP header, then the header of the
// link type the connection's PKTAP interface has (SetPKTAP).
func (k *Conn) linkFrame(from int, etherType uint16, b []byte) []byte {
	if k.link != capture.LinkTypePKTAP {
		return k.frameOn(k.link, from, etherType, b)
	}
	frame := k.frameOn(k.pktap.link, from, etherType, b)
	return append(k.pktapHeader(from, etherType, len(frame)-len(b)), frame...)
}

// frameOn puts the header of link type lt, for a packet of the given
// EtherType, before b.
func (k *Conn) frameOn(lt capture.LinkType, from int, etherType uint16, b []byte) []byte {
	family := uint32(afInet)
	switch etherType {
	case etherTypeIPv4:
	case etherTypeIPv6:
		family = afInet6Darwin
		if lt == capture.LinkTypeLoop {
			family = afInet6BSD
		}
	default:
		switch lt {
		case capture.LinkTypeNull, capture.LinkTypeLoop, capture.LinkTypeRaw, 12, 14, capture.LinkTypeIPv4, capture.LinkTypeIPv6,
			capture.LinkTypePPP, capture.LinkTypePPPHDLC, capture.LinkTypePPPWithDir, capture.LinkTypeNFLOG:
			panic(fmt.Sprintf("capturetest: link type %v carries only IP, not EtherType %#04x", lt, etherType))
		}
		if k.c.opts.PPPoE {
			panic(fmt.Sprintf("capturetest: PPPoE carries only IP, not EtherType %#04x", etherType))
		}
	}
	// PPP's protocol number for the packet (RFC 1661 §2).
	pppProto := uint16(0x0021)
	if etherType == etherTypeIPv6 {
		pppProto = 0x0057
	}
	// The direction byte of the _WITH_DIR link types: non-zero when the
	// capturing host sent it, as the client does here.
	dir := byte(0)
	if from == client_ {
		dir = 1
	}
	ip := b
	var link []byte
	switch lt {
	case capture.LinkTypeEthernet:
		dstMAC, srcMAC := serverMAC, clientMAC
		if from == server_ {
			dstMAC, srcMAC = clientMAC, serverMAC
		}
		link = append(link, dstMAC[:]...)
		link = append(link, srcMAC[:]...)
		for i, vid := range k.c.opts.VLANs {
			tpid := uint16(etherTypeQinQ)
			if i == len(k.c.opts.VLANs)-1 {
				tpid = etherTypeVLAN
			}
			link = binary.BigEndian.AppendUint16(link, tpid)
			link = binary.BigEndian.AppendUint16(link, vid&0x0fff)
		}
		if k.c.opts.PPPoE {
			// RFC 2516 §4: version and type 0x11, code 0 (session data),
			// session ID, length of the PPP payload, PPP's protocol.
			link = binary.BigEndian.AppendUint16(link, etherTypePPPoE)
			link = append(link, 0x11, 0)
			link = binary.BigEndian.AppendUint16(link, 0x1234)
			link = binary.BigEndian.AppendUint16(link, uint16(2+len(b)))
			link = binary.BigEndian.AppendUint16(link, pppProto)
			break
		}
		link = binary.BigEndian.AppendUint16(link, etherType)
	case capture.LinkTypePPP, capture.LinkTypePPPHDLC:
		link = binary.BigEndian.AppendUint16([]byte{0xff, 0x03}, pppProto) // RFC 1662 framing
	case capture.LinkTypePPPWithDir:
		link = binary.BigEndian.AppendUint16([]byte{dir, 0xff, 0x03}, pppProto)
	case capture.LinkTypeCHDLC:
		link = binary.BigEndian.AppendUint16([]byte{0x0f, 0x00}, etherType)
	case capture.LinkTypeCHDLCWithDir:
		link = binary.BigEndian.AppendUint16([]byte{dir, 0x0f, 0x00}, etherType)
	case capture.LinkTypeNFLOG:
		// Family, version 0, resource ID (big-endian); then TLVs in the
		// host's byte order, little-endian here, each padded to 4 bytes:
		// NFULA_PACKET_HDR (hardware protocol, hook), NFULA_PREFIX,
		// NFULA_PAYLOAD (the IP packet, last).
		family := byte(2)
		if etherType == etherTypeIPv6 {
			family = 10
		}
		link = []byte{family, 0, 0, 0}
		tlv := func(typ uint16, value []byte) {
			link = binary.LittleEndian.AppendUint16(link, uint16(4+len(value)))
			link = binary.LittleEndian.AppendUint16(link, typ)
			link = append(link, value...)
			for len(link)%4 != 0 {
				link = append(link, 0)
			}
		}
		tlv(1, binary.BigEndian.AppendUint32(nil, uint32(etherType)<<16|3<<8)) // NF_INET_LOCAL_OUT
		tlv(10, []byte("wsviz\x00"))
		link = binary.LittleEndian.AppendUint16(link, uint16(4+len(b)))
		link = binary.LittleEndian.AppendUint16(link, 9)
	case capture.LinkTypeLinuxSLL:
		link = make([]byte, 16)
		binary.BigEndian.PutUint16(link[0:], sllPacketType(from))
		binary.BigEndian.PutUint16(link[2:], arphrdEther)
		binary.BigEndian.PutUint16(link[4:], 6)
		copy(link[6:], macOf(from))
		binary.BigEndian.PutUint16(link[14:], etherType)
	case capture.LinkTypeLinuxSLL2:
		link = make([]byte, 20)
		binary.BigEndian.PutUint16(link[0:], etherType)
		binary.BigEndian.PutUint32(link[4:], 1) // interface index
		binary.BigEndian.PutUint16(link[8:], arphrdEther)
		link[10] = byte(sllPacketType(from))
		link[11] = 6
		copy(link[12:], macOf(from))
	case capture.LinkTypeNull:
		link = binary.LittleEndian.AppendUint32(nil, family) // host order; little-endian hosts are the norm
	case capture.LinkTypeLoop:
		link = binary.BigEndian.AppendUint32(nil, family)
	}
	return append(link, ip...)
}

// pktapHeader is the PKTAP header before a frame of the connection's
// PKTAP interface whose link header is linkLen bytes long: record type,
// link type, interface, direction, protocol family, the process (the
// capturing host is the client's), as macOS writes it.
func (k *Conn) pktapHeader(from int, etherType uint16, linkLen int) []byte {
	h := make([]byte, pktapHeaderLen)
	le := binary.LittleEndian
	le.PutUint32(h[0:], pktapHeaderLen)
	le.PutUint32(h[4:], pktapTypePacket)
	le.PutUint32(h[8:], capture.LinkTypeNumber(k.pktap.link))
	copy(h[12:12+pktapIfnameLen-1], k.pktap.name)
	flags := uint32(pktapDirIn)
	if from == client_ {
		flags = pktapDirOut
	}
	le.PutUint32(h[36:], flags)
	family := uint32(afInet)
	if etherType == etherTypeIPv6 {
		family = afInet6Darwin
	}
	le.PutUint32(h[40:], family)
	le.PutUint32(h[44:], uint32(linkLen)) // pth_frame_pre_length
	le.PutUint32(h[48:], 0)               // pth_frame_post_length
	le.PutUint32(h[52:], pktapPID)
	copy(h[56:56+pktapCommLen-1], pktapComm)
	le.PutUint32(h[76:], 0) // pth_svc: best effort
	iftype := uint16(iftOther)
	switch k.pktap.link {
	case capture.LinkTypeEthernet:
		iftype = iftEther
	case capture.LinkTypeNull:
		iftype = iftLoop
	}
	le.PutUint16(h[80:], iftype)
	le.PutUint16(h[82:], ifunit(k.pktap.name))
	le.PutUint32(h[84:], pktapPID) // pth_epid, pth_ecomm: the same process
	copy(h[88:88+pktapCommLen-1], pktapComm)
	return h
}

// ifunit is the unit number an interface name ends with: 0 for "en0".
func ifunit(name string) uint16 {
	i := len(name)
	for i > 0 && name[i-1] >= '0' && name[i-1] <= '9' {
		i--
	}
	n, _ := strconv.Atoi(name[i:])
	return uint16(n)
}

func sllPacketType(from int) uint16 {
	if from == client_ {
		return sllOutgoingPacket
	}
	return sllHostPacket
}

func macOf(from int) []byte {
	if from == client_ {
		return clientMAC[:]
	}
	return serverMAC[:]
}

// pseudoHeaderSum is the TCP checksum's pseudo-header sum (RFC 9293 §3.1,
// RFC 8200 §8.1).
func pseudoHeaderSum(ip []byte, v4 bool, tcpLen int) uint64 {
	var sum uint64
	if v4 {
		sum = checksumAdd(0, ip[12:20])
	} else {
		sum = checksumAdd(0, ip[8:40])
	}
	return sum + ipProtoTCP + uint64(tcpLen)
}

// checksum returns the folded one's complement sum of b added to sum
// (RFC 1071).
func checksum(sum uint64, b []byte) uint16 {
	sum = checksumAdd(sum, b)
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}

func checksumAdd(sum uint64, b []byte) uint64 {
	for len(b) >= 2 {
		sum += uint64(b[0])<<8 | uint64(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint64(b[0]) << 8
	}
	return sum
}
