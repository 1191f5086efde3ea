// Package capture reads packets from capture files (pcap, pcapng) and live
// interfaces and hands them out behind one small interface, Source, so that a
// file and a live interface are the same thing to the analyzer.
//
// It also decodes the link, network and transport layers users meet
// (Ethernet with VLAN tags, Linux cooked SLL and SLL2, BSD loopback NULL and
// LOOP, raw IP; IPv4 and IPv6) down to TCP segments, with DecodeTCP.
//
// The package knows nothing of HTTP or WebSocket.
package capture
