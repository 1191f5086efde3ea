// Package capture reads packets from capture files (pcap, pcapng) and live
// interfaces and hands them out behind one small interface, Source, so that a
// file and a live interface are the same thing to the analyzer.
//
// It also decodes the link, network and transport layers users meet
// (Ethernet with VLAN tags and PPPoE, Linux cooked SLL and SLL2, BSD
// loopback NULL and LOOP, raw IP, PPP, Cisco HDLC, Linux NFLOG, Apple's
// PKTAP; IPv4 and IPv6) down to TCP segments, with DecodeTCP,
// through the tunnels of overlay networks and traffic mirroring: GRE,
// VXLAN, Geneve, IP-in-IP, 6in4, MPLS, stacked VLAN tags. A Decoder does
// the same with state: it reassembles IP datagrams from their fragments
// (bounded in bytes, fragments and capture time; overlaps reported) and
// records the tunnels each segment came through (Segment.Outer).
//
// OpenFile and NewReader read pcap and pcapng files (gzip-compressed too) in
// pure Go. A record walker checks every record before it is used: hostile
// lengths neither allocate nor panic, and a corrupt or cut file fails with a
// *FormatError that names the byte offset of the broken record, after every
// packet before it. Packets of pcap records and of pcapng packet blocks are
// sliced out of the read buffer by the walker, decoded as gopacket's pcapgo
// would decode them (pcapgo is the tests' oracle; wsviz does not link
// gopacket). Reading allocates nothing
// per packet: Packet.Data aliases the reader's buffer.
//
// DecodeTCP, and a Decoder on a plain packet, allocate nothing either and
// check no checksums. The subpackage capturetest scripts TCP conversations
// into capture files for tests, fragmented and tunnelled as asked.
//
// The package knows nothing of HTTP or WebSocket.
package capture
