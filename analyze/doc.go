// Package analyze turns captured packets into annotated WebSocket events.
//
// It reassembles TCP streams (both directions, out-of-order segments,
// retransmissions, gaps), decodes the HTTP Upgrade handshake, RFC 6455
// frames and messages and permessage-deflate (RFC 7692), and emits Events:
// what happened, on which connection, in which packets, and what it means,
// protocol violations included as Warnings.
//
// A protocol violation in captured traffic is a Warning on the event where
// it was seen, never a Go error; an error means the analysis cannot go on (a
// corrupt file, an I/O failure), and every event before it was still
// emitted.
//
// Time comes from packet timestamps only, so a file decodes the same on
// every run.
package analyze
