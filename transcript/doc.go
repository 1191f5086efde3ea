// Package transcript turns the events of a capture into a transcript: a
// stable, line-oriented text that says what each WebSocket connection did,
// without what differs between two recordings of the same session (ports
// of the client, times, masking keys, TCP sequence numbers, packet numbers,
// segment, frame and compression boundaries, the order in which the
// connections were opened). Two recordings of one deterministic session
// give the same transcript, so a transcript is a golden file for a
// regression test, and Diff compares two of them the way a reviewer would:
// connection by connection, matched by what they are, not by number (and
// an HTTP/2 connection stream by stream, so that the WebSockets sharing it
// are told apart).
//
// The text format is documented in docs/transcript.md; Parse reads it
// back, so a transcript committed to a repository can be compared with a
// new capture (cmd/wsviz: wsviz transcript, wsviz diff, wsviz check;
// package wsviztest for go test).
//
// A Builder consumes analyze events like the ui package does; Read and
// ReadFile decode a capture into a Transcript in one call.
package transcript
