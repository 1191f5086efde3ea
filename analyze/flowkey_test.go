package analyze

import (
	"net/netip"
	"testing"
)

// TestMakeFlowKeyOrder checks that a connection's key is the same both ways
// and that lo is the lesser endpoint in netip.AddrPort.Compare's order,
// which makeFlowKey reproduces without calling it.
func TestMakeFlowKeyOrder(t *testing.T) {
	addrs := []string{
		"127.0.0.1:9001", "127.0.0.1:52816", "127.0.0.2:1", "10.0.0.1:80", "192.168.1.1:65535", "0.0.0.0:0",
		"[::1]:9001", "[::1]:80", "[2001:db8::1]:443", "[fe80::1]:5000", "[::ffff:127.0.0.1]:9001", "[::]:0",
	}
	for _, x := range addrs {
		for _, y := range addrs {
			a, b := netip.MustParseAddrPort(x), netip.MustParseAddrPort(y)
			if a.Addr().Is4() != b.Addr().Is4() {
				continue // never in one packet
			}
			k := makeFlowKey(a, b)
			if k != makeFlowKey(b, a) {
				t.Errorf("makeFlowKey(%v, %v) differs from the other way round", a, b)
			}
			lo := a
			if a.Compare(b) > 0 {
				lo = b
			}
			if k.lo != makeEndpoint(lo) {
				t.Errorf("makeFlowKey(%v, %v).lo = %v, want %v", a, b, k.lo, lo)
			}
		}
	}
}
