package capture_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// Hand-built headers, independent of capturetest's encoder.

func ethernet(etherType uint16, payload ...[]byte) []byte {
	b := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}
	b = binary.BigEndian.AppendUint16(b, etherType)
	return cat(b, cat(payload...))
}

func vlanTag(tpid, vid uint16) []byte {
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, tpid), vid)
}

// ipv4 builds an IPv4 header: ihl in 32-bit words, totalLen -1 for the
// real length, fragment the flags and offset field.
func ipv4(proto byte, ihl int, totalLen int, fragment uint16, payload []byte) []byte {
	h := make([]byte, ihl*4)
	h[0] = 4<<4 | byte(ihl&0x0f)
	if totalLen < 0 {
		totalLen = len(h) + len(payload)
	}
	binary.BigEndian.PutUint16(h[2:], uint16(totalLen))
	binary.BigEndian.PutUint16(h[6:], fragment)
	h[8], h[9] = 64, proto
	copy(h[12:], []byte{192, 0, 2, 1, 198, 51, 100, 7})
	return cat(h, payload)
}

// ipv6 builds an IPv6 header: payloadLen -1 for the real length.
func ipv6(next byte, payloadLen int, payload []byte) []byte {
	h := make([]byte, 40)
	h[0] = 6 << 4
	if payloadLen < 0 {
		payloadLen = len(payload)
	}
	binary.BigEndian.PutUint16(h[4:], uint16(payloadLen))
	h[6], h[7] = next, 64
	copy(h[8:], netip.MustParseAddr("2001:db8::1").AsSlice())
	copy(h[24:], netip.MustParseAddr("2001:db8::2").AsSlice())
	return cat(h, payload)
}

// ext builds an IPv6 extension header of 8*(1+units) bytes.
func ext(next byte, units int) []byte {
	h := make([]byte, 8*(1+units))
	h[0], h[1] = next, byte(units)
	return h
}

// ah builds a 16-byte IPv6 Authentication Header (RFC 4302 §2.2: the
// length counts 4-byte units, minus 2).
func ah(next byte) []byte {
	h := make([]byte, 16)
	h[0], h[1] = next, 2
	return h
}

func fragHeader(next byte, offset uint16, more bool) []byte {
	h := make([]byte, 8)
	h[0] = next
	v := offset << 3
	if more {
		v |= 1
	}
	binary.BigEndian.PutUint16(h[2:], v)
	return h
}

// tcp builds a TCP header of doff 32-bit words: ports 1234 → 8080,
// seq 1000, ack 2000, window 512.
func tcp(doff int, flags byte, payload string) []byte {
	h := make([]byte, max(doff*4, 20))
	binary.BigEndian.PutUint16(h[0:], 1234)
	binary.BigEndian.PutUint16(h[2:], 8080)
	binary.BigEndian.PutUint32(h[4:], 1000)
	binary.BigEndian.PutUint32(h[8:], 2000)
	h[12] = byte(doff) << 4
	h[13] = flags
	binary.BigEndian.PutUint16(h[14:], 512)
	for i := 20; i < len(h); i++ {
		h[i] = 1 // NOP options
	}
	return cat(h, []byte(payload))
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// pppoe is a PPPoE session header (RFC 2516 §4) and PPP's protocol field
// before payload.
func pppoe(proto uint16, payload []byte) []byte {
	h := []byte{0x11, 0x00, 0x12, 0x34}
	h = binary.BigEndian.AppendUint16(h, uint16(2+len(payload)))
	h = binary.BigEndian.AppendUint16(h, proto)
	return append(h, payload...)
}

// nflogTLV is an NFLOG TLV in the given byte order, padded to 4 bytes.
func nflogTLV(order binary.AppendByteOrder, typ uint16, value []byte) []byte {
	b := order.AppendUint16(nil, uint16(4+len(value)))
	b = order.AppendUint16(b, typ)
	b = append(b, value...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// pktap is an Apple PKTAP header (little-endian) of record type typ and
// link type dlt, on en0, before packet. Its length field says length, and
// so does its size: version 1's 108 bytes cut or padded to it (but not
// below the 12 bytes of those three fields, nor above 64 KiB).
func pktap(length, typ, dlt uint32, packet []byte) []byte {
	h := cat(le32(length), le32(typ), le32(dlt), []byte("en0"), make([]byte, 108-15))
	binary.LittleEndian.PutUint32(h[52:], 4242) // pth_pid
	copy(h[56:], "wsviz")                       // pth_comm
	size := min(max(int(length), 12), 1<<16)
	if size < len(h) {
		h = h[:size]
	}
	h = append(h, make([]byte, size-len(h))...)
	return cat(h, packet)
}

var (
	src4 = netip.MustParseAddrPort("192.0.2.1:1234")
	dst4 = netip.MustParseAddrPort("198.51.100.7:8080")
	src6 = netip.MustParseAddrPort("[2001:db8::1]:1234")
	dst6 = netip.MustParseAddrPort("[2001:db8::2]:8080")
)

func TestDecodeTCP(t *testing.T) {
	const (
		ipProtoTCP  = 6
		ipProtoUDP  = 17
		ipProtoICMP = 1
		mf          = 0x2000
		df          = 0x4000
	)
	v4 := ipv4(ipProtoTCP, 5, -1, df, tcp(5, capture.PSH|capture.ACK, "hello"))
	v6 := ipv6(ipProtoTCP, -1, tcp(5, capture.PSH|capture.ACK, "hello"))
	big := ipv4(ipProtoTCP, 5, -1, df, tcp(5, capture.PSH|capture.ACK, strings.Repeat("b", 3000))) // 0x0800 read the wrong way round fits
	tests := []struct {
		name    string
		link    capture.LinkType
		data    []byte
		length  int // on the wire; 0 for len(data)
		ok      bool
		v6      bool
		payload string
		missing int
		trailer int // captured bytes after the payload (link-layer padding)
	}{
		{name: "ethernet ipv4", link: capture.LinkTypeEthernet, data: ethernet(0x0800, v4), ok: true, payload: "hello"},
		{name: "ethernet ipv6", link: capture.LinkTypeEthernet, data: ethernet(0x86dd, v6), ok: true, v6: true, payload: "hello"},
		{name: "ethernet padding trimmed", link: capture.LinkTypeEthernet,
			data: ethernet(0x0800, ipv4(ipProtoTCP, 5, -1, 0, tcp(5, capture.ACK, "")), make([]byte, 6)), ok: true, trailer: 6},
		{name: "ipv6 padding trimmed", link: capture.LinkTypeEthernet,
			data: ethernet(0x86dd, ipv6(ipProtoTCP, 21, tcp(5, capture.ACK, "ab")), make([]byte, 6)), ok: true, v6: true, payload: "a", trailer: 7},
		{name: "snaplen cut ipv4", link: capture.LinkTypeEthernet, data: ethernet(0x0800, v4)[:14+20+20+2], length: 14 + 20 + 20 + 5,
			ok: true, payload: "he", missing: 3},
		{name: "snaplen cut ipv6", link: capture.LinkTypeEthernet, data: ethernet(0x86dd, v6)[:14+40+20+1], length: 14 + 40 + 20 + 5,
			ok: true, v6: true, payload: "h", missing: 4},
		{name: "snaplen cut in tcp header", link: capture.LinkTypeEthernet, data: ethernet(0x0800, v4)[:14+20+19], length: 14 + 20 + 20 + 5},
		{name: "tso total length zero", link: capture.LinkTypeRaw, data: ipv4(ipProtoTCP, 5, 0, 0, tcp(5, capture.ACK, "big")), length: 20 + 20 + 3 + 1000,
			ok: true, payload: "big", missing: 1000},
		{name: "total length shorter than header", link: capture.LinkTypeRaw, data: ipv4(ipProtoTCP, 5, 19, 0, tcp(5, capture.ACK, ""))},
		{name: "total length cuts tcp header", link: capture.LinkTypeRaw, data: ipv4(ipProtoTCP, 5, 39, 0, tcp(5, capture.ACK, ""))},
		{name: "ipv4 options", link: capture.LinkTypeRaw, data: ipv4(ipProtoTCP, 7, -1, 0, tcp(5, capture.ACK, "opt")), ok: true, payload: "opt"},
		{name: "ihl below 5", link: capture.LinkTypeRaw, data: cat([]byte{0x44}, ipv4(ipProtoTCP, 5, -1, 0, tcp(5, capture.ACK, "x"))[1:])},
		{name: "ihl beyond capture", link: capture.LinkTypeRaw, data: ipv4(ipProtoTCP, 15, -1, 0, nil)[:40]},
		{name: "ipv4 first fragment", link: capture.LinkTypeRaw, data: ipv4(ipProtoTCP, 5, -1, mf, tcp(5, capture.ACK, "frag")), ok: true, payload: "frag"},
		{name: "ipv4 later fragment", link: capture.LinkTypeRaw, data: ipv4(ipProtoTCP, 5, -1, mf|185, tcp(5, capture.ACK, "frag"))},
		{name: "ipv4 last fragment", link: capture.LinkTypeRaw, data: ipv4(ipProtoTCP, 5, -1, 185, tcp(5, capture.ACK, "frag"))},
		{name: "udp", link: capture.LinkTypeRaw, data: ipv4(ipProtoUDP, 5, -1, 0, tcp(5, 0, "udp"))},
		{name: "icmp", link: capture.LinkTypeRaw, data: ipv4(ipProtoICMP, 5, -1, 0, tcp(5, 0, "icmp"))},
		{name: "arp", link: capture.LinkTypeEthernet, data: ethernet(0x0806, make([]byte, 28))},
		{name: "802.3 length field", link: capture.LinkTypeEthernet, data: ethernet(0x05dc, v4)},
		{name: "vlan", link: capture.LinkTypeEthernet, data: ethernet(0x8100, vlanTag(100, 0x0800), v4), ok: true, payload: "hello"},
		{name: "qinq", link: capture.LinkTypeEthernet, data: ethernet(0x88a8, vlanTag(10, 0x8100), vlanTag(20, 0x86dd), v6), ok: true, v6: true, payload: "hello"},
		{name: "old qinq 9100", link: capture.LinkTypeEthernet, data: ethernet(0x9100, vlanTag(10, 0x8100), vlanTag(20, 0x0800), v4), ok: true, payload: "hello"},
		{name: "vlan then arp", link: capture.LinkTypeEthernet, data: ethernet(0x8100, vlanTag(100, 0x0806), make([]byte, 28))},
		{name: "vlan cut", link: capture.LinkTypeEthernet, data: ethernet(0x8100, []byte{0, 100, 8})},
		{name: "ipv6 extension headers", link: capture.LinkTypeRaw,
			data: ipv6(0, -1, cat(ext(43, 1), ext(60, 0), ext(51, 0), ah(6), tcp(5, capture.ACK, "ext"))), ok: true, v6: true, payload: "ext"},
		{name: "ipv6 first fragment", link: capture.LinkTypeRaw, data: ipv6(44, -1, cat(fragHeader(6, 0, true), tcp(5, capture.ACK, "f"))), ok: true, v6: true, payload: "f"},
		{name: "ipv6 later fragment", link: capture.LinkTypeRaw, data: ipv6(44, -1, cat(fragHeader(6, 100, true), tcp(5, capture.ACK, "f")))},
		{name: "ipv6 atomic fragment", link: capture.LinkTypeRaw, data: ipv6(44, -1, cat(fragHeader(6, 0, false), tcp(5, capture.ACK, "f"))), ok: true, v6: true, payload: "f"},
		{name: "ipv6 jumbogram", link: capture.LinkTypeRaw, data: ipv6(0, 0, cat(ext(6, 0), tcp(5, capture.ACK, "j")))},
		{name: "ipv6 no next header", link: capture.LinkTypeRaw, data: ipv6(59, -1, tcp(5, capture.ACK, "x"))},
		{name: "ipv6 udp", link: capture.LinkTypeRaw, data: ipv6(ipProtoUDP, -1, tcp(5, capture.ACK, "x"))},
		{name: "ipv6 extension beyond payload length", link: capture.LinkTypeRaw, data: ipv6(60, 8, cat(ext(6, 1), tcp(5, capture.ACK, "x")))},
		{name: "ipv6 cut extension", link: capture.LinkTypeRaw, data: ipv6(60, -1, []byte{6, 0, 0, 0})},
		{name: "tcp options", link: capture.LinkTypeRaw, data: ipv4(ipProtoTCP, 5, -1, 0, tcp(8, capture.SYN, "s")), ok: true, payload: "s"},
		{name: "tcp data offset below 5", link: capture.LinkTypeRaw, data: ipv4(ipProtoTCP, 5, -1, 0, cat(tcp(5, 0, "")[:12], []byte{0x40}, tcp(5, 0, "xyz")[13:]))},
		{name: "tcp data offset beyond segment", link: capture.LinkTypeRaw, data: ipv4(ipProtoTCP, 5, -1, 0, cat(tcp(5, 0, "")[:12], []byte{0xf0}, tcp(5, 0, "xyz")[13:]))},
		{name: "sll", link: capture.LinkTypeLinuxSLL, data: cat(make([]byte, 14), []byte{0x08, 0x00}, v4), ok: true, payload: "hello"},
		{name: "sll vlan", link: capture.LinkTypeLinuxSLL, data: cat(make([]byte, 14), []byte{0x81, 0x00}, vlanTag(7, 0x86dd), v6), ok: true, v6: true, payload: "hello"},
		{name: "sll2", link: capture.LinkTypeLinuxSLL2, data: cat([]byte{0x86, 0xdd}, make([]byte, 18), v6), ok: true, v6: true, payload: "hello"},
		{name: "sll2 cut", link: capture.LinkTypeLinuxSLL2, data: []byte{0x86, 0xdd, 0, 0}},
		{name: "null le inet", link: capture.LinkTypeNull, data: cat(le32(2), v4), ok: true, payload: "hello"},
		{name: "null be inet", link: capture.LinkTypeNull, data: cat(be32(2), v4), ok: true, payload: "hello"},
		{name: "null le inet6 bsd", link: capture.LinkTypeNull, data: cat(le32(24), v6), ok: true, v6: true, payload: "hello"},
		{name: "null le inet6 freebsd", link: capture.LinkTypeNull, data: cat(le32(28), v6), ok: true, v6: true, payload: "hello"},
		{name: "null be inet6 darwin", link: capture.LinkTypeNull, data: cat(be32(30), v6), ok: true, v6: true, payload: "hello"},
		{name: "null linux inet6 is not a bsd family", link: capture.LinkTypeNull, data: cat(le32(10), v6)},
		{name: "null family mismatch", link: capture.LinkTypeNull, data: cat(le32(30), v4)},
		{name: "loop inet", link: capture.LinkTypeLoop, data: cat(be32(2), v4), ok: true, payload: "hello"},
		{name: "loop inet6", link: capture.LinkTypeLoop, data: cat(be32(24), v6), ok: true, v6: true, payload: "hello"},
		{name: "loop little-endian is wrong", link: capture.LinkTypeLoop, data: cat(le32(2), v4)},
		{name: "raw ipv4", link: capture.LinkTypeRaw, data: v4, ok: true, payload: "hello"},
		{name: "raw ipv6", link: capture.LinkTypeRaw, data: v6, ok: true, v6: true, payload: "hello"},
		{name: "raw alias 12", link: 12, data: v6, ok: true, v6: true, payload: "hello"},
		{name: "raw alias 14", link: 14, data: v4, ok: true, payload: "hello"},
		{name: "raw version 5", link: capture.LinkTypeRaw, data: cat([]byte{0x55}, v4[1:])},
		{name: "raw empty", link: capture.LinkTypeRaw, data: nil},
		{name: "ipv4 link", link: capture.LinkTypeIPv4, data: v4, ok: true, payload: "hello"},
		{name: "ipv6 link", link: capture.LinkTypeIPv6, data: v6, ok: true, v6: true, payload: "hello"},
		{name: "ipv4 link with ipv6 packet", link: capture.LinkTypeIPv4, data: v6},
		{name: "ipv6 link with ipv4 packet", link: capture.LinkTypeIPv6, data: v4},
		{name: "ppp hdlc framing", link: capture.LinkTypePPP, data: cat([]byte{0xff, 0x03, 0x00, 0x21}, v4), ok: true, payload: "hello"},
		{name: "ppp unframed", link: capture.LinkTypePPP, data: cat([]byte{0x00, 0x57}, v6), ok: true, v6: true, payload: "hello"},
		{name: "ppp compressed protocol", link: capture.LinkTypePPP, data: cat([]byte{0x21}, v4), ok: true, payload: "hello"},
		{name: "ppp framed compressed protocol", link: capture.LinkTypePPP, data: cat([]byte{0xff, 0x03, 0x57}, v6), ok: true, v6: true, payload: "hello"},
		{name: "ppp mpls", link: capture.LinkTypePPP, data: cat([]byte{0xff, 0x03, 0x02, 0x81}, []byte{0x00, 0x01, 0x01, 0x40}, v4), ok: true, payload: "hello"},
		{name: "ppp lcp", link: capture.LinkTypePPP, data: cat([]byte{0xff, 0x03, 0xc0, 0x21}, v4)},
		{name: "ppp ipcp", link: capture.LinkTypePPP, data: cat([]byte{0x80, 0x21}, v4)},
		{name: "ppp_hdlc", link: capture.LinkTypePPPHDLC, data: cat([]byte{0xff, 0x03, 0x00, 0x21}, v4), ok: true, payload: "hello"},
		{name: "ppp_hdlc cisco", link: capture.LinkTypePPPHDLC, data: cat([]byte{0x0f, 0x00, 0x86, 0xdd}, v6), ok: true, v6: true, payload: "hello"},
		{name: "ppp_hdlc cisco multicast", link: capture.LinkTypePPPHDLC, data: cat([]byte{0x8f, 0x00, 0x08, 0x00}, v4), ok: true, payload: "hello"},
		{name: "ppp_with_dir", link: capture.LinkTypePPPWithDir, data: cat([]byte{0x01, 0xff, 0x03, 0x00, 0x21}, v4), ok: true, payload: "hello"},
		{name: "ppp_with_dir unframed", link: capture.LinkTypePPPWithDir, data: cat([]byte{0x00, 0x00, 0x57}, v6), ok: true, v6: true, payload: "hello"},
		{name: "c_hdlc", link: capture.LinkTypeCHDLC, data: cat([]byte{0x0f, 0x00, 0x08, 0x00}, v4), ok: true, payload: "hello"},
		{name: "c_hdlc slarp", link: capture.LinkTypeCHDLC, data: cat([]byte{0x8f, 0x00, 0x80, 0x35}, make([]byte, 20))},
		{name: "c_hdlc_with_dir", link: capture.LinkTypeCHDLCWithDir, data: cat([]byte{0x00, 0x0f, 0x00, 0x86, 0xdd}, v6), ok: true, v6: true, payload: "hello"},
		{name: "pppoe", link: capture.LinkTypeEthernet, data: ethernet(0x8864, pppoe(0x0021, v4)), ok: true, payload: "hello"},
		{name: "pppoe ipv6 in vlan", link: capture.LinkTypeEthernet, data: ethernet(0x8100, vlanTag(7, 0x8864), pppoe(0x0057, v6)), ok: true, v6: true, payload: "hello"},
		{name: "pppoe in sll", link: capture.LinkTypeLinuxSLL, data: cat(make([]byte, 14), []byte{0x88, 0x64}, pppoe(0x0021, v4)), ok: true, payload: "hello"},
		{name: "pppoe discovery", link: capture.LinkTypeEthernet, data: ethernet(0x8863, pppoe(0x0021, v4))},
		{name: "pppoe lcp", link: capture.LinkTypeEthernet, data: ethernet(0x8864, pppoe(0xc021, v4))},
		{name: "pppoe version 2", link: capture.LinkTypeEthernet, data: ethernet(0x8864, cat([]byte{0x21}, pppoe(0x0021, v4)[1:]))},
		{name: "pppoe code not session", link: capture.LinkTypeEthernet, data: ethernet(0x8864, cat([]byte{0x11, 0x09}, pppoe(0x0021, v4)[2:]))},
		{name: "nflog", link: capture.LinkTypeNFLOG, data: cat([]byte{2, 0, 0, 1}, nflogTLV(binary.LittleEndian, 1, []byte{8, 0, 3, 0}), nflogTLV(binary.LittleEndian, 10, []byte("drop\x00")), nflogTLV(binary.LittleEndian, 9, v4)), ok: true, payload: "hello", trailer: 3},
		{name: "nflog big-endian", link: capture.LinkTypeNFLOG, data: cat([]byte{10, 0, 0, 1}, nflogTLV(binary.BigEndian, 1, []byte{0x86, 0xdd, 3, 0}), nflogTLV(binary.BigEndian, 9, v6)), ok: true, v6: true, payload: "hello", trailer: 3},
		{name: "nflog big-endian, big payload", link: capture.LinkTypeNFLOG, data: cat([]byte{2, 0, 0, 1}, nflogTLV(binary.BigEndian, 1, []byte{8, 0, 3, 0}), nflogTLV(binary.BigEndian, 9, big)), ok: true, payload: strings.Repeat("b", 3000)},
		{name: "nflog payload first, unpadded", link: capture.LinkTypeNFLOG, data: cat([]byte{2, 0, 0, 0}, nflogTLV(binary.LittleEndian, 9, v4)[:4+len(v4)]), ok: true, payload: "hello"},
		{name: "nflog type with netlink flags", link: capture.LinkTypeNFLOG, data: cat([]byte{2, 0, 0, 0}, nflogTLV(binary.LittleEndian, 0x4000|9, v4)), ok: true, payload: "hello", trailer: 3},
		{name: "nflog without payload", link: capture.LinkTypeNFLOG, data: cat([]byte{2, 0, 0, 0}, nflogTLV(binary.LittleEndian, 1, []byte{8, 0, 3, 0}))},
		{name: "nflog version 1", link: capture.LinkTypeNFLOG, data: cat([]byte{2, 1, 0, 0}, nflogTLV(binary.LittleEndian, 9, v4))},
		{name: "nflog payload cut by the snap length", link: capture.LinkTypeNFLOG, data: cat([]byte{2, 0, 0, 0}, nflogTLV(binary.LittleEndian, 9, v4))[:len(v4)+8-2], length: len(v4) + 8, ok: true, payload: "hel", missing: 2},
		{name: "nflog tlv length past the end", link: capture.LinkTypeNFLOG, data: cat([]byte{2, 0, 0, 0}, nflogTLV(binary.LittleEndian, 1, []byte{8, 0, 3, 0}), []byte{0xff, 0x0f, 10, 0}, nflogTLV(binary.LittleEndian, 9, v4))},
		{name: "nflog tlv length below 4", link: capture.LinkTypeNFLOG, data: cat([]byte{2, 0, 0, 0}, []byte{2, 0, 9, 0}, v4)},
		{name: "pktap ethernet", link: capture.LinkTypePKTAP, data: pktap(108, 1, 1, ethernet(0x0800, v4)), ok: true, payload: "hello"},
		{name: "pktap ethernet vlan", link: capture.LinkTypePKTAP, data: pktap(108, 1, 1, ethernet(0x8100, vlanTag(7, 0x86dd), v6)), ok: true, v6: true, payload: "hello"},
		{name: "pktap null", link: capture.LinkTypePKTAP, data: pktap(108, 1, 0, cat(le32(2), v4)), ok: true, payload: "hello"},
		{name: "pktap null ipv6", link: capture.LinkTypePKTAP, data: pktap(108, 1, 0, cat(le32(30), v6)), ok: true, v6: true, payload: "hello"},
		{name: "pktap raw as macos numbers it", link: capture.LinkTypePKTAP, data: pktap(108, 1, 12, v4), ok: true, payload: "hello"},
		{name: "pktap raw", link: capture.LinkTypePKTAP, data: pktap(108, 1, 101, v6), ok: true, v6: true, payload: "hello"},
		{name: "pktap ppp", link: capture.LinkTypePKTAP, data: pktap(108, 1, 9, cat([]byte{0xff, 0x03, 0x00, 0x21}, v4)), ok: true, payload: "hello"},
		{name: "pktap sll2", link: capture.LinkTypePKTAP, data: pktap(108, 1, 276, cat([]byte{0x86, 0xdd}, make([]byte, 18), v6)), ok: true, v6: true, payload: "hello"},
		{name: "pktap version 2 header", link: capture.LinkTypePKTAP, data: pktap(156, 1, 1, ethernet(0x0800, v4)), ok: true, payload: "hello"},
		{name: "pktap header cut by the snap length", link: capture.LinkTypePKTAP, data: pktap(108, 1, 1, ethernet(0x0800, v4))[:len(v4)+14+108-2], length: len(v4) + 14 + 108, ok: true, payload: "hel", missing: 2},
		{name: "pktap ethernet padding", link: capture.LinkTypePKTAP, data: pktap(108, 1, 1, ethernet(0x0800, v4, make([]byte, 4))), ok: true, payload: "hello", trailer: 4},
		{name: "pktap header length 0", link: capture.LinkTypePKTAP, data: pktap(0, 1, 1, ethernet(0x0800, v4))},
		{name: "pktap header length below 108", link: capture.LinkTypePKTAP, data: pktap(104, 1, 1, ethernet(0x0800, v4))},
		{name: "pktap header length 107", link: capture.LinkTypePKTAP, data: pktap(107, 1, 12, v4)},
		{name: "pktap header length past the end", link: capture.LinkTypePKTAP, data: cat(le32(uint32(108+14+len(v4)+1)), pktap(108, 1, 1, ethernet(0x0800, v4))[4:])},
		{name: "pktap header length 4 GiB", link: capture.LinkTypePKTAP, data: pktap(0xffffffff, 1, 1, ethernet(0x0800, v4))},
		{name: "pktap header length the whole packet", link: capture.LinkTypePKTAP, data: cat(le32(uint32(108+14+len(v4))), pktap(108, 1, 1, ethernet(0x0800, v4))[4:])},
		{name: "pktap record of no packet", link: capture.LinkTypePKTAP, data: pktap(108, 0, 1, ethernet(0x0800, v4))},
		{name: "pktap record type 2", link: capture.LinkTypePKTAP, data: pktap(108, 2, 1, ethernet(0x0800, v4))},
		{name: "pktap record type big-endian 1", link: capture.LinkTypePKTAP, data: pktap(108, 1<<24, 1, ethernet(0x0800, v4))},
		{name: "pktap link type unknown", link: capture.LinkTypePKTAP, data: pktap(108, 1, 105, ethernet(0x0800, v4))},
		{name: "pktap link type 257, ethernet's low bits", link: capture.LinkTypePKTAP, data: pktap(108, 1, 257, ethernet(0x0800, v4))},
		{name: "pktap link type 20, sll2's stand-in", link: capture.LinkTypePKTAP, data: pktap(108, 1, 20, cat([]byte{0x86, 0xdd}, make([]byte, 18), v6))},
		{name: "pktap in pktap", link: capture.LinkTypePKTAP, data: pktap(108, 1, 258, pktap(108, 1, 1, ethernet(0x0800, v4)))},
		{name: "pktap in pktap by its stand-in", link: capture.LinkTypePKTAP, data: pktap(108, 1, 2, pktap(108, 1, 1, ethernet(0x0800, v4)))},
		{name: "pktap header without its link type", link: capture.LinkTypeEthernet, data: pktap(108, 1, 1, ethernet(0x0800, v4))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := capture.Packet{Number: 1, LinkType: tc.link, Data: tc.data, Length: tc.length}
			if p.Length == 0 {
				p.Length = len(p.Data)
			}
			seg := capture.Segment{Payload: []byte("stale"), Missing: 99}
			ok := capture.DecodeTCP(&p, &seg)
			if ok != tc.ok {
				t.Fatalf("DecodeTCP(%x) = %v, want %v", tc.data, ok, tc.ok)
			}
			if !ok {
				if seg.Payload != nil || seg.Missing != 0 {
					t.Errorf("DecodeTCP(%x) = false left %+v, want a zero Segment", tc.data, seg)
				}
				return
			}
			src, dst := src4, dst4
			if tc.v6 {
				src, dst = src6, dst6
			}
			if seg.Src != src || seg.Dst != dst {
				t.Errorf("DecodeTCP(%x): %v > %v, want %v > %v", tc.data, seg.Src, seg.Dst, src, dst)
			}
			if string(seg.Payload) != tc.payload || seg.Missing != tc.missing {
				t.Errorf("DecodeTCP(%x): payload %q missing %d, want %q missing %d", tc.data, seg.Payload, seg.Missing, tc.payload, tc.missing)
			}
			if seg.Seq != 1000 || seg.Ack != 2000 || seg.Window != 512 {
				t.Errorf("DecodeTCP(%x): seq %d ack %d window %d, want 1000 2000 512", tc.data, seg.Seq, seg.Ack, seg.Window)
			}
			if len(seg.Payload) > 0 && &seg.Payload[0] != &tc.data[bytes.Index(tc.data, seg.Payload)] {
				t.Errorf("DecodeTCP(%x): payload does not alias the packet", tc.data)
			}
			// Every prefix decodes without panicking; those that cut
			// into the headers are not TCP.
			headerEnd := len(tc.data) - len(seg.Payload) - tc.trailer
			for n := range len(tc.data) {
				q := capture.Packet{LinkType: tc.link, Data: tc.data[:n], Length: p.Length}
				var s capture.Segment
				if capture.DecodeTCP(&q, &s) && n < headerEnd {
					t.Errorf("DecodeTCP(%x[:%d]) = true inside the headers (%d bytes)", tc.data, n, headerEnd)
				}
			}
		})
	}
}

func TestDecodeTCPFlags(t *testing.T) {
	for _, flags := range []byte{capture.FIN, capture.SYN, capture.RST, capture.PSH, capture.ACK, capture.URG, 0xff} {
		p := capture.Packet{LinkType: capture.LinkTypeRaw, Data: ipv4(6, 5, -1, 0, tcp(5, flags, ""))}
		var seg capture.Segment
		want := flags & (capture.FIN | capture.SYN | capture.RST | capture.PSH | capture.ACK | capture.URG)
		if !capture.DecodeTCP(&p, &seg) || seg.Flags != want {
			t.Errorf("DecodeTCP(flags %#02x): Flags = %#02x, want %#02x", flags, seg.Flags, want)
		}
	}
}

func TestDecodeTCPAddressesAre4Byte(t *testing.T) {
	p := capture.Packet{LinkType: capture.LinkTypeRaw, Data: ipv4(6, 5, -1, 0, tcp(5, 0, ""))}
	var seg capture.Segment
	if !capture.DecodeTCP(&p, &seg) || !seg.Src.Addr().Is4() || !seg.Dst.Addr().Is4() {
		t.Errorf("DecodeTCP(ipv4): Src %v Dst %v, want 4-byte addresses", seg.Src, seg.Dst)
	}
}

// captureLinks are capturetest's link types and tags, for the tests that
// run over every one.
var captureLinks = []struct {
	name string
	opts capturetest.Options
	v4   bool
	v6   bool
}{
	{"ethernet", capturetest.Options{}, true, true},
	{"vlan", capturetest.Options{VLANs: []uint16{42}}, true, true},
	{"qinq", capturetest.Options{VLANs: []uint16{1, 2}}, true, true},
	{"sll", capturetest.Options{LinkType: capture.LinkTypeLinuxSLL}, true, true},
	{"sll2", capturetest.Options{LinkType: capture.LinkTypeLinuxSLL2}, true, true},
	{"null", capturetest.Options{Null: true}, true, true},
	{"loop", capturetest.Options{LinkType: capture.LinkTypeLoop}, true, true},
	{"raw", capturetest.Options{LinkType: capture.LinkTypeRaw}, true, true},
	{"raw12", capturetest.Options{LinkType: 12}, true, true},
	{"raw14", capturetest.Options{LinkType: 14}, true, true},
	{"ipv4", capturetest.Options{LinkType: capture.LinkTypeIPv4}, true, false},
	{"ipv6", capturetest.Options{LinkType: capture.LinkTypeIPv6}, false, true},
	{"ppp", capturetest.Options{LinkType: capture.LinkTypePPP}, true, true},
	{"ppp_hdlc", capturetest.Options{LinkType: capture.LinkTypePPPHDLC}, true, true},
	{"ppp_with_dir", capturetest.Options{LinkType: capture.LinkTypePPPWithDir}, true, true},
	{"c_hdlc", capturetest.Options{LinkType: capture.LinkTypeCHDLC}, true, true},
	{"c_hdlc_with_dir", capturetest.Options{LinkType: capture.LinkTypeCHDLCWithDir}, true, true},
	{"nflog", capturetest.Options{LinkType: capture.LinkTypeNFLOG}, true, true},
	{"pktap", capturetest.Options{LinkType: capture.LinkTypePKTAP}, true, true},
	{"pppoe", capturetest.Options{PPPoE: true}, true, true},
	{"vlan-pppoe", capturetest.Options{PPPoE: true, VLANs: []uint16{7}}, true, true},
}

// TestDecodeTCPLinkTypes decodes a conversation on every link type, IP
// version and tagging, then every prefix of every packet: a prefix that
// cuts the headers is not TCP, a longer one gives the captured payload and
// counts the rest as missing.
func TestDecodeTCPLinkTypes(t *testing.T) {
	for _, lt := range captureLinks {
		for _, v6 := range []bool{false, true} {
			if v6 && !lt.v6 || !v6 && !lt.v4 {
				continue
			}
			t.Run(fmt.Sprintf("%s/v6=%v", lt.name, v6), func(t *testing.T) {
				client, server := "192.0.2.1:1234", "198.51.100.7:8080"
				if v6 {
					client, server = "[2001:db8::1]:1234", "[2001:db8::2]:8080"
				}
				c := capturetest.NewCapture(lt.opts)
				k := c.Conn(client, server)
				k.Handshake()
				k.Client([]byte("request"))
				k.Server([]byte("response!"))
				f := c.Open()
				payloads := []string{"", "", "", "request", "response!"}
				for i, want := range payloads {
					p, err := f.ReadPacket()
					if err != nil {
						t.Fatalf("ReadPacket() = %v", err)
					}
					var seg capture.Segment
					if !capture.DecodeTCP(&p, &seg) {
						t.Fatalf("DecodeTCP(packet %d %x) = false, want true", p.Number, p.Data)
					}
					from, to := netip.MustParseAddrPort(client), netip.MustParseAddrPort(server)
					if i == 1 || i == 4 {
						from, to = to, from
					}
					if seg.Src != from || seg.Dst != to || string(seg.Payload) != want || seg.Missing != 0 {
						t.Errorf("DecodeTCP(packet %d) = %v > %v %q missing %d, want %v > %v %q", p.Number, seg.Src, seg.Dst, seg.Payload, seg.Missing, from, to, want)
					}
					headerEnd := len(p.Data) - len(want)
					for n := range len(p.Data) {
						q := p
						q.Data = p.Data[:n]
						var s capture.Segment
						ok := capture.DecodeTCP(&q, &s)
						switch {
						case n < headerEnd && ok:
							t.Errorf("DecodeTCP(packet %d[:%d]) = true, want false (headers end at %d)", p.Number, n, headerEnd)
						case n >= headerEnd && !ok:
							t.Errorf("DecodeTCP(packet %d[:%d]) = false, want true", p.Number, n)
						case n >= headerEnd && (string(s.Payload) != want[:n-headerEnd] || s.Missing != len(want)-(n-headerEnd)):
							t.Errorf("DecodeTCP(packet %d[:%d]) = %q missing %d, want %q missing %d", p.Number, n, s.Payload, s.Missing, want[:n-headerEnd], len(want)-(n-headerEnd))
						}
					}
				}
				if _, err := f.ReadPacket(); err != io.EOF {
					t.Errorf("ReadPacket() after the last = %v, want io.EOF", err)
				}
			})
		}
	}
}

func TestDecodeTCPDoesNotAllocate(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		p := benchPacket(v6)
		var seg capture.Segment
		if allocs := testing.AllocsPerRun(100, func() { capture.DecodeTCP(&p, &seg) }); allocs != 0 {
			t.Errorf("DecodeTCP(v6=%v) allocates %v times, want 0", v6, allocs)
		}
	}
}

func benchPacket(v6 bool) capture.Packet {
	c := capturetest.NewCapture(capturetest.Options{VLANs: []uint16{7}})
	k := c.Conn("192.0.2.1:1234", "198.51.100.7:8080")
	if v6 {
		k = c.Conn("[2001:db8::1]:1234", "[2001:db8::2]:8080")
	}
	k.Client(bytes.Repeat([]byte("x"), 1400))
	f := c.Open()
	p, err := f.ReadPacket()
	if err != nil {
		panic(err)
	}
	p.Data = bytes.Clone(p.Data)
	return p
}

func BenchmarkDecodeTCP(b *testing.B) {
	for _, v6 := range []bool{false, true} {
		b.Run(fmt.Sprintf("v6=%v", v6), func(b *testing.B) {
			p := benchPacket(v6)
			var seg capture.Segment
			b.ReportAllocs()
			for b.Loop() {
				if !capture.DecodeTCP(&p, &seg) {
					b.Fatal("DecodeTCP() = false")
				}
			}
		})
	}
}

// TestNFLOGByteOrders is a property test of NFLOG's byte order, which the
// file does not record: random records (TLVs of other types and sizes
// before the payload, some after it, a payload of random bytes up to 4,000,
// IPv4 or IPv6) written in either order, each decodes to its own segment.
// A record walked in the wrong order must not be taken for one that holds
// together.
func TestNFLOGByteOrders(t *testing.T) {
	rng := rand.New(rand.NewPCG(28, 239))
	orders := []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian}
	for i := range 5000 {
		order := orders[i%2]
		payload := make([]byte, rng.IntN(4000))
		for j := range payload {
			payload[j] = byte(rng.UintN(256))
		}
		segment := tcp(5, capture.PSH|capture.ACK, string(payload))
		const tcpProto = 6
		ip, v6 := ipv4(tcpProto, 5, -1, 0, segment), rng.IntN(2) == 1
		family := byte(2)
		if v6 {
			ip, family = ipv6(tcpProto, -1, segment), 10
		}
		record := []byte{family, 0, 0, byte(rng.UintN(256))}
		tlv := func() {
			typ := uint16(1 + rng.IntN(20))
			if typ == 9 {
				typ = 10
			}
			value := make([]byte, rng.IntN(40))
			for j := range value {
				value[j] = byte(rng.UintN(256))
			}
			record = append(record, nflogTLV(order, typ, value)...)
		}
		for range rng.IntN(6) {
			tlv()
		}
		record = append(record, nflogTLV(order, 9, ip)...)
		for range rng.IntN(3) {
			tlv()
		}
		p := capture.Packet{LinkType: capture.LinkTypeNFLOG, Data: record, Length: len(record)}
		var seg capture.Segment
		if !capture.DecodeTCP(&p, &seg) || !bytes.Equal(seg.Payload, payload) || seg.Src.Addr().Is6() != v6 {
			t.Fatalf("record %d (%v, %d bytes): DecodeTCP = %v, payload %d bytes, want %d", i, order, len(record), seg.Payload != nil, len(seg.Payload), len(payload))
		}
	}
}
