// Package demo runs a small WebSocket chat on loopback for `wsviz demo`: a
// gorilla/websocket server with permessage-deflate (RFC 7692) enabled, a
// chat page a presenter opens to type messages, and bots that keep the
// conversation going with every kind of traffic worth showing: text and
// JSON messages, a binary message, pings, a fragmented message, and a bot
// that leaves with a close code and comes back with a new handshake.
//
// The chat knows nothing of capture or analysis; the command captures its
// port and shows the timeline beside it.
package demo
