// Package handshake decodes the HTTP/1.x phase of one TCP connection that
// may switch to WebSocket: request and response heads, the bodies between
// them, and the opening handshake of RFC 6455 §4 with the
// permessage-deflate negotiation of RFC 7692 §5–7.
//
// A Conn is fed the reassembled bytes of each direction in capture order
// (Client, Server) and reports what it decodes through a Handler,
// synchronously, from inside those calls: Request for every request head,
// Response for every response head (paired with its request, oldest
// first, so pipelined requests are matched), and Upgraded once the server
// accepted a WebSocket upgrade with 101 Switching Protocols.
//
// Heads may arrive split across any number of calls, or several in one
// call. They are parsed with net/http's ReadRequest and ReadResponse; the
// Header fields a Handler sees are the head's own fields as
// net/textproto reads them (net/http moves Host and Transfer-Encoding out
// of its Header; this package keeps them). Bodies are skipped as they
// stream past and never buffered: Content-Length, chunked transfer coding
// (RFC 9112 §7.1, trailers included), no body for HEAD, 1xx, 204 and 304
// (RFC 9112 §6.3), and a response with neither runs to the end of the
// connection.
//
// # States
//
// State tells the caller what the bytes are:
//
//   - HTTP: Conn is decoding heads and bodies.
//   - Upgraded: the server answered 101 to a WebSocket upgrade. Bytes after
//     the 101 head (data[n:] of that Server call, then every later call) and
//     the client bytes held back while the answer was awaited (PendingClient)
//     are WebSocket frames, which this package does not decode.
//   - NotHTTP: the first bytes were not HTTP (the capture started inside a
//     connection, or it is another protocol); the caller may look for
//     WebSocket frames mid-stream.
//   - Failed: HTTP framing was lost (bytes missing, a malformed head, a limit
//     hit). Err says why.
//
// # Holding the client's bytes
//
// Once a client asks to upgrade, its next bytes may already be WebSocket
// frames, or they may be the next pipelined HTTP request, depending on an
// answer that has not arrived yet. Client therefore returns right after
// such a request, and while its answer is awaited copies whatever the
// client sends into a pending buffer and returns 0. On 101 the pending
// bytes are WebSocket (PendingClient); on any other final answer Conn
// decodes them as HTTP, inside the Server call that delivered the answer.
//
// # Problems
//
// Protocol violations are not errors: they are Problems attached to the
// Request, Response or Upgrade where they were seen, each with a stable
// code and a message naming the RFC section. Only the reason for Failed
// is reported through Err.
//
// # Limits
//
// Hostile input cannot make a Conn hold much: a head is at most 64 KiB per
// direction (beyond it: Failed with http.head_too_large), held client bytes
// at most 64 KiB (http.pending_too_large), at most 64 requests wait for
// responses (older ones are forgotten and their responses arrive with a nil
// request), and declared body and chunk lengths are only counted down,
// never allocated.
package handshake
