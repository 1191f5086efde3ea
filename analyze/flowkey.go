package analyze

import (
	"encoding/binary"
	"net/netip"
)

// flowKey identifies a connection regardless of direction: its two
// endpoints in order, lo < hi. It is plain memory without padding, so the
// connection maps hash it in one go: a netip.AddrPort holds a zone handle
// and is hashed field by field, which cost a tenth of the decoding time
// (every packet is looked up by the dispatcher and by its shard).
type flowKey struct {
	lo, hi endpoint
}

// endpoint is an address and port in flowKey's form: the 16-byte form of
// the address (IPv4-mapped for IPv4) and whether it is IPv4, so that an
// IPv4 address and its IPv4-mapped IPv6 twin stay apart.
type endpoint struct {
	ip   [16]byte
	port uint16
	is4  uint16 // 1 for IPv4; a uint16, not a bool, to leave no padding
}

func makeEndpoint(ap netip.AddrPort) endpoint {
	e := endpoint{ip: ap.Addr().As16(), port: ap.Port()}
	if ap.Addr().Is4() {
		e.is4 = 1
	}
	return e
}

// makeFlowKey returns the key of the connection between a and b, the
// same both ways: lo is the lesser endpoint, in the order of
// netip.AddrPort.Compare (address, then port) for two addresses of one
// family.
func makeFlowKey(a, b netip.AddrPort) flowKey {
	ea, eb := makeEndpoint(a), makeEndpoint(b)
	if eb.less(ea) {
		ea, eb = eb, ea
	}
	return flowKey{ea, eb}
}

// less orders endpoints by address bytes, then port. The address is
// compared as two big-endian words: the order of bytes.Compare, without
// its call (this runs for every packet).
func (e endpoint) less(f endpoint) bool {
	if x, y := binary.BigEndian.Uint64(e.ip[:8]), binary.BigEndian.Uint64(f.ip[:8]); x != y {
		return x < y
	}
	if x, y := binary.BigEndian.Uint64(e.ip[8:]), binary.BigEndian.Uint64(f.ip[8:]); x != y {
		return x < y
	}
	return e.port < f.port
}
