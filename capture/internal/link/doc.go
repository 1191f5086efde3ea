// Package link holds the link type of captured packets (LINKTYPE numbers,
// https://www.tcpdump.org/linktypes.html), shared by capture and its
// subpackages (filter, live, save), which capture re-exports as
// capture.LinkType.
//
// It replaces gopacket's layers.LinkType, with the same 8-bit width, the same
// numbers and the same names from String, so that wsviz does not link
// gopacket's layers package: its init fills about 5 MB of tables (22–25 ms at
// every start) whose pointers the garbage collector scans in every cycle.
package link
