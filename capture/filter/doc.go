// Package filter compiles tcpdump-style filter expressions (pcap-filter(7)),
// such as "tcp port 8080" or "host 127.0.0.1 and not port 22", for one link
// type into two equivalent forms: a classic BPF program for the kernel
// (SO_ATTACH_FILTER on a packet socket) and a Go matcher that runs the very
// same tests on a packet in memory, so filters are testable without a kernel
// and both paths can be checked against each other.
//
// The grammar is the commonly used subset of pcap-filter(7):
//
//	primitive  = [proto] [dir] [type] ID | proto
//	proto      = "ip" | "ip6" | "tcp" | "udp"
//	dir        = "src" | "dst" | "src or dst" | "src and dst"
//	type       = "host" | "net" | "port" | "portrange"
//	expression = primitive, combined with "and" ("&&"), "or" ("||"),
//	             "not" ("!") and parentheses
//
// As in tcpdump, "not" binds tightest while "and" and "or" have equal
// precedence and group from the left, so "port 1 or port 2 and host h" means
// "(port 1 or port 2) and host h". A bare ID after "and"/"or"/"not" reuses the
// qualifiers of the primitive before it: "port 80 or 443" is "port 80 or port
// 443". Hosts and nets are IP addresses and CIDR prefixes (names are never
// resolved); ports are numbers.
//
// Semantics follow libpcap's for the same primitives: "tcp" and "udp" look at
// the IPv4 protocol field or the IPv6 next header field (extension headers
// are not followed); ports are only matched in unfragmented IPv4 packets or
// first fragments, and in IPv6 packets whose next header is TCP or UDP. A
// test that would read past the end of a truncated packet rejects the whole
// packet, in both forms, exactly like the BPF virtual machine.
package filter
