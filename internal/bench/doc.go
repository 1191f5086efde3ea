// Package bench generates synthetic WebSocket captures for benchmarks: many
// connections carrying a realistic mix of messages (small JSON pushes from
// the server, masked client texts, 1–9 KB binaries, pings and pongs,
// closing handshakes) in 1448-byte segments, optionally compressed with
// permessage-deflate and context takeover, or carried over TLS 1.3 as
// wss:// with a key log beside the capture (Config.KeyLog): the same
// messages, each write sealed in one AES-128-GCM record.
//
// Generate streams the pcap file through one reused buffer, so a capture
// of hundreds of megabytes costs a few megabytes of memory to write. The
// command in cmd/wsviz-bench runs wsviz (and tshark, when installed) on
// the captures and prints throughput and peak memory.
package bench
