// Package tlsdec decrypts captured TLS 1.2 and TLS 1.3 connections with the
// secrets endpoints write to a key log (the NSS SSLKEYLOGFILE format), so
// that what TLS carried can be decoded by the layers above it.
//
// It is a layer of the same shape as the HTTP and WebSocket decoders: a
// Conn takes the bytes of each direction of a TCP connection, in order, and
// gives its Handler the handshake it saw, every handshake message, alert
// and record it could not read, and the plaintext of the application data
// records, in order, with the packet that carried each record's last byte.
//
// What it writes itself is what no library exports: the record layer
// (RFC 8446 §5, RFC 5246 §6.2, RFC 7366 encrypt-then-MAC), the TLS 1.3 key
// schedule from traffic secrets (RFC 8446 §7), the TLS 1.2 PRF and key block
// (RFC 5246 §5, §6.3) and a parser of the handshake messages it needs
// (RFC 8446 §4, RFC 5246 §7.4). The primitives come from the standard
// library (crypto/aes, crypto/cipher, crypto/hkdf, crypto/hmac) and
// golang.org/x/crypto (ChaCha20-Poly1305).
//
// Every record is authenticated before any of its bytes is used: a wrong or
// missing key is reported as such, never shown as garbage. Everything kept
// is bounded: a record is at most 2^14+2048 bytes (RFC 5246 §6.2.3), a
// handshake message kept whole at most MaxHandshakeMessage, a key log line
// at most MaxKeyLogLine, a key log at most MaxKeyLogEntries secrets.
package tlsdec
