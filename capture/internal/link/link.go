package link

import "runtime"

// Type is a link type: how a captured packet's data begins. Like gopacket's
// layers.LinkType it is 8 bits wide; capture maps LINKTYPE numbers above 255
// into it (see capture.LinkTypeLinuxSLL2 and capture.LinkTypePKTAP).
type Type uint8

// Link types wsviz decodes, filters or writes, with their LINKTYPE numbers.
const (
	Null     Type = 0   // BSD loopback, host byte order
	Ethernet Type = 1   // IEEE 802.3
	PPP      Type = 9   // PPP
	Raw      Type = 101 // raw IPv4 or IPv6
	Loop     Type = 108 // OpenBSD loopback, network byte order
	LinuxSLL Type = 113 // Linux cooked capture v1
	IPv4     Type = 228 // raw IPv4
	IPv6     Type = 229 // raw IPv6

	PPPHDLC      Type = 50  // PPP in HDLC-like framing (RFC 1662), or Cisco PPP (RFC 1547 §4.3.1)
	CHDLC        Type = 104 // Cisco HDLC
	PPPWithDir   Type = 204 // a direction byte, then PPP as in LINKTYPE_PPP
	CHDLCWithDir Type = 205 // a direction byte, then Cisco HDLC
	NFLOG        Type = 239 // Linux netfilter NFLOG: TLVs, one of them the IP packet

	// LinuxSLL2 is Linux cooked capture v2, LINKTYPE 276, which does not
	// fit in 8 bits: 276 & 0xff. No link type has the number 20.
	LinuxSLL2 Type = 276 & 0xff
	// PKTAP is Apple's PKTAP, LINKTYPE 258, which does not fit in 8 bits
	// either: 258 & 0xff. No link type has the number 2 (DLT_EN3MB, the
	// experimental 3 Mb Ethernet, never got one).
	PKTAP Type = 258 & 0xff
	// RawAlias12 and RawAlias14 are DLT_RAW as some libpcap builds
	// (BSD/OS, OpenBSD) numbered it in files; libpcap maps both to
	// LINKTYPE_RAW (101).
	RawAlias12 Type = 12
	RawAlias14 Type = 14
)

// String returns the name gopacket v1.1.19's layers.LinkType.String gives
// the same number, so that messages read as they did when wsviz used
// gopacket: "Ethernet", "Linux SLL", "Raw", ... and "UnknownLinkType" for
// the numbers gopacket does not name (IPv4 and IPv6 among them).
// TestStringMatchesGopacket checks every value.
func (t Type) String() string {
	switch t {
	case Null:
		return "Null"
	case Ethernet:
		return "Ethernet"
	case PPP:
		return "PPP"
	case 10:
		return "FDDI"
	case 105:
		return "802.11"
	case Loop:
		return "Loop"
	case Raw:
		return "Raw"
	case 117:
		return "PFLog"
	case 127:
		return "RadioTap"
	case 220:
		return "USB"
	case LinuxSLL:
		return "Linux SLL"
	case 119:
		return "Prism"
	}
	// gopacket names DLT_RAW's alias "Raw" too: 14 on OpenBSD, 12
	// elsewhere.
	if (runtime.GOOS == "openbsd" && t == 14) || (runtime.GOOS != "openbsd" && t == 12) {
		return "Raw"
	}
	return "UnknownLinkType"
}
