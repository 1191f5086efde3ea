// Package capturetest builds synthetic packet captures for tests, as
// net/http/httptest builds requests: script TCP conversations and get the
// bytes of a pcap or pcapng file.
//
//	c := capturetest.NewCapture(capturetest.Options{})
//	k := c.Conn("127.0.0.1:50000", "127.0.0.1:8080")
//	k.Handshake()
//	k.Client([]byte("GET /chat HTTP/1.1\r\n...\r\n\r\n"))
//	k.Server([]byte("HTTP/1.1 101 Switching Protocols\r\n...\r\n\r\n"))
//	k.Drop(1)                       // the next segment is lost in the capture
//	k.Server(frame)
//	k.CloseFIN(true)
//	data := c.Bytes()               // or c.WriteFile(path), or c.Open()
//
// Everything is deterministic: timestamps start at Options.Start and
// advance by Options.Step per packet, sequence numbers start at ClientISN
// and ServerISN, and every segment acknowledges all the peer has sent (even
// segments dropped from the capture, as a receiver that got them would).
// The same script gives the same bytes on every run and machine.
//
// Packets carry valid IPv4 and TCP checksums. Misuse (a malformed address,
// an IPv6 connection on an IPv4-only link type, cuts out of order) is a bug
// in the test and panics.
package capturetest
