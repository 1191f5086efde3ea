// Package session plays a deterministic WebSocket session between a
// gorilla/websocket client and server on loopback, with permessage-deflate
// on, and records it with wsviz's own live capture. Two recordings of it
// differ in everything a transcript leaves out (client ports, times, masks,
// sequence numbers, the order the two connections are opened in) and in
// nothing else, which is what the regression-test commands are tested on.
//
// The recordings in testdata/session are made by its command, as root:
//
//	go run ./internal/session/cmd/wsviz-session -o testdata/session/ab.pcapng
//	go run ./internal/session/cmd/wsviz-session -o testdata/session/ba.pcapng -reverse
//	go run ./internal/session/cmd/wsviz-session -o testdata/session/changed.pcapng -change
package session
