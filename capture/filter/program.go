package filter

import (
	"encoding/binary"
	"fmt"

	"github.com/wsviz/wsviz/capture/internal/link"
)

// Program is a filter lowered for one link type: a tree of loads and
// comparisons at fixed packet offsets. Match runs it in Go; Instructions
// turns the same tree into classic BPF. A Program is immutable and safe for
// concurrent use.
type Program struct {
	filter *Filter
	link   link.Type
	root   *cond
}

// Compile lowers the filter for packets that begin with the given link
// layer. Supported link types are every one the capture package decodes:
// Ethernet, Linux cooked (SLL and SLL2), BSD loopback (Null and Loop) and
// raw IP (Raw, its aliases 12 and 14, IPv4, IPv6).
func (f *Filter) Compile(lt link.Type) (*Program, error) {
	l, ok := layoutFor(lt)
	if !ok {
		return nil, fmt.Errorf("filter: link type %v (%d) is not supported", lt, uint8(lt))
	}
	prog := &Program{filter: f, link: lt, root: condTrue}
	if f.root != nil {
		prog.root = l.lower(f.root)
	}
	return prog, nil
}

// LinkType returns the link type the program was compiled for.
func (p *Program) LinkType() link.Type { return p.link }

// String returns the filter expression.
func (p *Program) String() string { return p.filter.String() }

// Match reports whether the packet, which begins with the program's link
// layer, passes the filter. A test that needs bytes beyond the end of data
// rejects the packet, as the BPF virtual machine does.
func (p *Program) Match(data []byte) bool {
	ok, inBounds := p.root.eval(data)
	return ok && inBounds
}

// cond is a node of the lowered tree.
type cond struct {
	op   condOp
	l, r *cond // condAnd, condOr: both; condNot: l
	t    test  // condTest
}

type condOp uint8

const (
	condTest condOp = iota
	condAnd
	condOr
	condNot
	condConst // t.val != 0 is true
)

var condTrue = &cond{op: condConst, t: test{val: 1}}

// test loads 1, 2 or 4 bytes (big-endian) at a fixed offset, or at an offset
// relative to the IPv4 header length, masks them and compares them with val.
type test struct {
	// indirect: first X = 4*(data[ihl]&0x0f) (the IPv4 header length, BPF
	// "ldxb 4*([k]&0xf)"), then load at X+off.
	indirect bool
	ihl      uint32
	off      uint32
	size     uint32 // 1, 2 or 4
	mask     uint32 // all ones: no mask
	cmp      cmpOp
	val      uint32
}

type cmpOp uint8

const (
	cmpEQ cmpOp = iota
	cmpGE
	cmpLE
)

const noMask = ^uint32(0)

// eval returns the value of the condition and whether every load it made
// was within data; once a load falls outside, the result is meaningless and
// the whole packet is rejected.
func (c *cond) eval(data []byte) (value, inBounds bool) {
	switch c.op {
	case condConst:
		return c.t.val != 0, true
	case condTest:
		return c.t.eval(data)
	case condNot:
		v, ok := c.l.eval(data)
		return !v, ok
	case condAnd:
		v, ok := c.l.eval(data)
		if !ok || !v {
			return v, ok
		}
		return c.r.eval(data)
	case condOr:
		v, ok := c.l.eval(data)
		if !ok || v {
			return v, ok
		}
		return c.r.eval(data)
	}
	return false, false
}

func (t *test) eval(data []byte) (bool, bool) {
	off := uint64(t.off)
	if t.indirect {
		if uint64(t.ihl) >= uint64(len(data)) {
			return false, false
		}
		off += 4 * uint64(data[t.ihl]&0x0f)
	}
	// Bounds first: BPF computes X+k in 32 bits and rejects what falls
	// outside the packet.
	if off > uint64(len(data)) || uint64(t.size) > uint64(len(data))-off {
		return false, false
	}
	var v uint32
	switch t.size {
	case 1:
		v = uint32(data[off])
	case 2:
		v = uint32(binary.BigEndian.Uint16(data[off:]))
	case 4:
		v = binary.BigEndian.Uint32(data[off:])
	}
	v &= t.mask
	switch t.cmp {
	case cmpGE:
		return v >= t.val, true
	case cmpLE:
		return v <= t.val, true
	}
	return v == t.val, true
}

func and(a, b *cond) *cond { return &cond{op: condAnd, l: a, r: b} }
func or(a, b *cond) *cond  { return &cond{op: condOr, l: a, r: b} }
func not(a *cond) *cond    { return &cond{op: condNot, l: a} }

// Field offsets, from RFC 791 §3.1 (IPv4), RFC 8200 §3 (IPv6) and the TCP
// and UDP headers (RFC 9293 §3.1, RFC 768), where ports come first.
const (
	ipv4ProtoOff   = 9 // Protocol
	ipv4FragOff    = 6 // Flags and Fragment Offset
	ipv4FragMask   = 0x1fff
	ipv4SrcOff     = 12 // Source Address
	ipv4DstOff     = 16 // Destination Address
	ipv6NextOff    = 6  // Next Header
	ipv6SrcOff     = 8  // Source Address
	ipv6DstOff     = 24 // Destination Address
	ipv6HeaderLen  = 40
	srcPortOff     = 0
	dstPortOff     = 2
	ipProtoTCP     = 6
	ipProtoUDP     = 17
	etherTypeIPv4  = 0x0800
	etherTypeIPv6  = 0x86dd
	ipVersionMask  = 0xf0
	ipVersion4Bits = 0x40
	ipVersion6Bits = 0x60
)

// layout says where the network layer starts and how its protocol is
// identified for one link type.
type layout struct {
	netOff uint32
	// typeOff is the offset of a 16-bit EtherType-like protocol field;
	// when rawIP is set, the IP version nibble at netOff is used instead.
	typeOff uint32
	rawIP   bool
}

func layoutFor(lt link.Type) (layout, bool) {
	switch lt {
	case link.Ethernet:
		return layout{netOff: 14, typeOff: 12}, true
	case link.LinuxSLL: // protocol type at 14 (pcap-linktype(7))
		return layout{netOff: 16, typeOff: 14}, true
	case link.LinuxSLL2: // protocol type at 0, a 20-byte header
		return layout{netOff: 20, typeOff: 0}, true
	case link.Null, link.Loop:
		// A 4-byte address family, in the capturing host's byte order
		// (Null) or big-endian (Loop), and AF_INET6 differs from one
		// system to the next: the IP version tells instead.
		return layout{netOff: 4, rawIP: true}, true
	case link.Raw, link.RawAlias12, link.RawAlias14, link.IPv4, link.IPv6:
		return layout{rawIP: true}, true
	}
	return layout{}, false
}

func (l layout) isIPv4() *cond {
	if l.rawIP {
		return &cond{t: test{off: l.netOff, size: 1, mask: ipVersionMask, val: ipVersion4Bits}}
	}
	return &cond{t: test{off: l.typeOff, size: 2, mask: noMask, val: etherTypeIPv4}}
}

func (l layout) isIPv6() *cond {
	if l.rawIP {
		return &cond{t: test{off: l.netOff, size: 1, mask: ipVersionMask, val: ipVersion6Bits}}
	}
	return &cond{t: test{off: l.typeOff, size: 2, mask: noMask, val: etherTypeIPv6}}
}

func (l layout) byteIs(off uint32, v uint32) *cond {
	return &cond{t: test{off: l.netOff + off, size: 1, mask: noMask, val: v}}
}

// transportIs4 and transportIs6 test the IPv4 protocol or IPv6 next header
// against the primitive's protocol; port primitives without one mean TCP or
// UDP.
func (l layout) transportIs4(p proto) *cond {
	switch p {
	case protoTCP:
		return l.byteIs(ipv4ProtoOff, ipProtoTCP)
	case protoUDP:
		return l.byteIs(ipv4ProtoOff, ipProtoUDP)
	}
	return or(l.byteIs(ipv4ProtoOff, ipProtoTCP), l.byteIs(ipv4ProtoOff, ipProtoUDP))
}

func (l layout) transportIs6(p proto) *cond {
	switch p {
	case protoTCP:
		return l.byteIs(ipv6NextOff, ipProtoTCP)
	case protoUDP:
		return l.byteIs(ipv6NextOff, ipProtoUDP)
	}
	return or(l.byteIs(ipv6NextOff, ipProtoTCP), l.byteIs(ipv6NextOff, ipProtoUDP))
}

func combineDir(d dir, src, dst func() *cond) *cond {
	switch d {
	case dirSrc:
		return src()
	case dirDst:
		return dst()
	case dirSrcAndDst:
		return and(src(), dst())
	}
	return or(src(), dst())
}

func (l layout) lower(n node) *cond {
	switch n := n.(type) {
	case *binaryNode:
		if n.and {
			return and(l.lower(n.l), l.lower(n.r))
		}
		return or(l.lower(n.l), l.lower(n.r))
	case *notNode:
		return not(l.lower(n.x))
	case *primNode:
		return l.lowerPrim(n)
	case *encapNode:
		return l.encapsulated()
	}
	panic(fmt.Sprintf("filter: unknown node %T", n))
}

func (l layout) lowerPrim(n *primNode) *cond {
	switch n.kind {
	case kindProto:
		switch n.proto {
		case protoIP:
			return l.isIPv4()
		case protoIP6:
			return l.isIPv6()
		case protoTCP, protoUDP:
			return or(and(l.isIPv4(), l.transportIs4(n.proto)), and(l.isIPv6(), l.transportIs6(n.proto)))
		}
	case kindHost, kindNet:
		if n.prefix.Addr().Is4() {
			return and(l.isIPv4(), combineDir(n.dir,
				func() *cond { return l.prefixIs(ipv4SrcOff, n) },
				func() *cond { return l.prefixIs(ipv4DstOff, n) }))
		}
		return and(l.isIPv6(), combineDir(n.dir,
			func() *cond { return l.prefixIs(ipv6SrcOff, n) },
			func() *cond { return l.prefixIs(ipv6DstOff, n) }))
	case kindPort, kindPortRange:
		// RFC 791 §3.2: only a first fragment (offset 0) carries the
		// transport header.
		v4 := and(and(l.isIPv4(), l.transportIs4(n.proto)),
			and(&cond{t: test{off: l.netOff + ipv4FragOff, size: 2, mask: ipv4FragMask, val: 0}},
				combineDir(n.dir,
					func() *cond { return l.portIs(n, true, srcPortOff) },
					func() *cond { return l.portIs(n, true, dstPortOff) })))
		v6 := and(and(l.isIPv6(), l.transportIs6(n.proto)),
			combineDir(n.dir,
				func() *cond { return l.portIs(n, false, ipv6HeaderLen+srcPortOff) },
				func() *cond { return l.portIs(n, false, ipv6HeaderLen+dstPortOff) }))
		switch n.proto {
		case protoIP:
			return v4
		case protoIP6:
			return v6
		}
		return or(v4, v6)
	}
	panic(fmt.Sprintf("filter: unknown primitive kind %d", n.kind))
}

// Protocols and ports of what encapsulated matches (capture/tunnel.go).
const (
	ipProtoIPIP      = 4
	ipProtoIPv6      = 41
	ipProtoGRE       = 47
	ipv6Fragment     = 44
	ipv4MoreFrags    = 0x2000
	etherTypeMPLS    = 0x8847
	etherTypeMPLM    = 0x8848
	etherTypeVLAN    = 0x8100
	etherTypeQinQ    = 0x88a8
	etherTypeQinQOld = 0x9100
	etherTypePPPoE   = 0x8864 // RFC 2516 session: PPP, IP inside
)

// tunnelPorts are the UDP destination ports of VXLAN (and Linux's older
// VXLAN port), Geneve and GRE in UDP.
var tunnelPorts = []uint32{4789, 8472, 6081, 4754}

// encapsulated matches IP fragments and tunnel packets (see
// OrEncapsulated).
func (l layout) encapsulated() *cond {
	anyOf := func(test func(v uint32) *cond, vals ...uint32) *cond {
		c := test(vals[0])
		for _, v := range vals[1:] {
			c = or(c, test(v))
		}
		return c
	}
	frag4 := not(&cond{t: test{off: l.netOff + ipv4FragOff, size: 2, mask: ipv4MoreFrags | ipv4FragMask, val: 0}})
	proto4 := anyOf(func(v uint32) *cond { return l.byteIs(ipv4ProtoOff, v) }, ipProtoIPIP, ipProtoIPv6, ipProtoGRE)
	udp4 := and(and(l.byteIs(ipv4ProtoOff, ipProtoUDP), &cond{t: test{off: l.netOff + ipv4FragOff, size: 2, mask: ipv4FragMask, val: 0}}),
		anyOf(func(v uint32) *cond {
			return &cond{t: test{indirect: true, ihl: l.netOff, off: l.netOff + dstPortOff, size: 2, mask: noMask, val: v}}
		}, tunnelPorts...))
	next6 := anyOf(func(v uint32) *cond { return l.byteIs(ipv6NextOff, v) }, ipv6Fragment, ipProtoIPIP, ipProtoIPv6, ipProtoGRE)
	udp6 := and(l.byteIs(ipv6NextOff, ipProtoUDP),
		anyOf(func(v uint32) *cond {
			return &cond{t: test{off: l.netOff + ipv6HeaderLen + dstPortOff, size: 2, mask: noMask, val: v}}
		}, tunnelPorts...))
	c := or(and(l.isIPv4(), or(frag4, or(proto4, udp4))), and(l.isIPv6(), or(next6, udp6)))
	if !l.rawIP {
		// MPLS, VLAN tags and PPPoE, which the filter's own tests cannot
		// see past (at fixed offsets, they find the tag's type, not IP).
		c = or(c, anyOf(func(v uint32) *cond { return &cond{t: test{off: l.typeOff, size: 2, mask: noMask, val: v}} },
			etherTypeMPLS, etherTypeMPLM, etherTypeVLAN, etherTypeQinQ, etherTypeQinQOld, etherTypePPPoE))
	}
	return c
}

// prefixIs compares the address at off with the primitive's prefix, one
// 32-bit word at a time, skipping words the prefix does not cover.
func (l layout) prefixIs(off uint32, n *primNode) *cond {
	addr := n.prefix.Addr().AsSlice()
	bits := n.prefix.Bits()
	var c *cond
	for w := 0; w*32 < bits; w++ {
		mask := noMask
		if rest := bits - w*32; rest < 32 {
			mask = ^uint32(0) << (32 - rest)
		}
		word := binary.BigEndian.Uint32(addr[4*w:])
		t := &cond{t: test{off: l.netOff + off + uint32(4*w), size: 4, mask: mask, val: word & mask}}
		if c == nil {
			c = t
		} else {
			c = and(c, t)
		}
	}
	if c == nil { // a /0 prefix matches every address
		return condTrue
	}
	return c
}

// portIs tests the port at off within the transport header: after the IPv4
// header, whose length is read from the packet, or after the fixed IPv6
// header.
func (l layout) portIs(n *primNode, v4 bool, off uint32) *cond {
	t := test{off: l.netOff + off, size: 2, mask: noMask}
	if v4 {
		t.indirect, t.ihl = true, l.netOff
	}
	if n.kind == kindPort || n.lo == n.hi {
		t.val = uint32(n.lo)
		return &cond{t: t}
	}
	ge, le := t, t
	ge.cmp, ge.val = cmpGE, uint32(n.lo)
	le.cmp, le.val = cmpLE, uint32(n.hi)
	return and(&cond{t: ge}, &cond{t: le})
}
