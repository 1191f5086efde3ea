package link

import (
	"fmt"
	"testing"

	"github.com/google/gopacket/layers"
)

// TestStringMatchesGopacket checks that every link type prints as
// gopacket's layers.LinkType did, with %v and %d alike, so that messages
// naming a link type stay byte for byte the same.
func TestStringMatchesGopacket(t *testing.T) {
	for i := 0; i < 256; i++ {
		got, want := Type(i), layers.LinkType(i)
		for _, verb := range []string{"%v", "%s", "%d", "%x", "%#v"} {
			if g, w := fmt.Sprintf(verb, got), fmt.Sprintf(verb, want); g != w {
				t.Errorf("Sprintf(%q, Type(%d)) = %q, want %q", verb, i, g, w)
			}
		}
	}
}

// TestConstantsMatchGopacket checks the numbers of the named link types.
func TestConstantsMatchGopacket(t *testing.T) {
	for _, tc := range []struct {
		got  Type
		want layers.LinkType
	}{
		{Null, layers.LinkTypeNull},
		{Ethernet, layers.LinkTypeEthernet},
		{PPP, layers.LinkTypePPP},
		{Raw, layers.LinkTypeRaw},
		{Loop, layers.LinkTypeLoop},
		{LinuxSLL, layers.LinkTypeLinuxSLL},
		{IPv4, layers.LinkTypeIPv4},
		{IPv6, layers.LinkTypeIPv6},
	} {
		if uint8(tc.got) != uint8(tc.want) {
			t.Errorf("%v = %d, want %d", tc.want, tc.got, tc.want)
		}
	}
}
