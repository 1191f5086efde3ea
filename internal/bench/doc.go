// Package bench generates synthetic WebSocket captures for benchmarks: many
// connections carrying a realistic mix of messages (small JSON pushes from
// the server, masked client texts, 1–9 KB binaries, pings and pongs,
// closing handshakes) in 1448-byte segments, optionally compressed with
// permessage-deflate and context takeover.
//
// Generate streams the pcap file through one reused buffer, so a capture
// of hundreds of megabytes costs a few megabytes of memory to write. The
// command in cmd/wsviz-bench runs wsviz (and tshark, when installed) on
// the captures and prints throughput and peak memory.
package bench
