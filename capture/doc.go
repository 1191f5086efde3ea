// Package capture reads packets from capture files (pcap, pcapng) and live
// interfaces and hands them out behind one small interface, Source, so that a
// file and a live interface are the same thing to the analyzer.
//
// It also decodes the link, network and transport layers users meet
// (Ethernet with VLAN tags, Linux cooked SLL and SLL2, BSD loopback NULL and
// LOOP, raw IP; IPv4 and IPv6) down to TCP segments, with DecodeTCP.
//
// OpenFile and NewReader read pcap and pcapng files (gzip-compressed too) in
// pure Go. A record walker checks every record before it is used: hostile
// lengths neither allocate nor panic, and a corrupt or cut file fails with a
// *FormatError that names the byte offset of the broken record, after every
// packet before it. pcapng blocks are then decoded by gopacket's pcapgo;
// pcap records are sliced out of the read buffer by the walker, as pcapgo
// would decode them (pcapgo is the tests' oracle). Reading allocates nothing
// per packet: Packet.Data aliases the reader's buffer.
//
// DecodeTCP allocates nothing either and checks no checksums. The
// subpackage capturetest scripts TCP conversations into capture files for
// tests.
//
// The package knows nothing of HTTP or WebSocket.
package capture
