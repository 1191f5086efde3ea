// Package live captures packets from a live network interface on Linux and
// hands them out as a capture.Source, so that the analyzer treats a live
// interface exactly like a capture file.
//
// It is pure Go (no cgo, no libpcap): an AF_PACKET socket with a TPACKET_V3
// memory-mapped receive ring (packet(7)), a classic BPF filter compiled by
// package filter and attached with SO_ATTACH_FILTER before the socket is
// bound, so that no unwanted packet is ever queued, and timestamps taken by
// the kernel as each packet arrived.
//
// Each packet counts exactly once: on a loopback interface the kernel shows
// a packet socket both the outgoing and the incoming copy of every packet,
// and the outgoing copy is dropped (PACKET_IGNORE_OUTGOING, and the packet
// type checked again for each packet). On other interfaces outgoing packets
// are the only copy and are kept.
//
// Opening a packet socket needs CAP_NET_RAW; without it Open returns a
// *PermissionError that says how to grant it. Errors are prefixed
// "capture:", like those of the capture package the source plugs into.
package live
