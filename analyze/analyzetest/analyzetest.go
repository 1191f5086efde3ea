// Package analyzetest builds WebSocket bytes for tests and capture
// generators: frames with any header (violations included, which real
// libraries refuse to send), compressed payloads, and handshakes.
//
// Combine it with capture/capturetest to script whole connections.
package analyzetest

import (
	"bytes"
	"compress/flate"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
)

// Opcodes, RFC 6455 §5.2.
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xA
)

// Frame describes one frame to encode. Fields map one to one onto the
// header of RFC 6455 §5.2, so any header can be written, valid or not.
type Frame struct {
	Fin    bool
	RSV    uint8 // RSV1 = 4, RSV2 = 2, RSV3 = 1
	Opcode uint8
	// Mask, when non-nil, sets the MASK bit and masks the payload.
	Mask *[4]byte
	// LenBytes forces the length encoding: 0 picks the minimal one, 2 or
	// 8 use the 16- or 64-bit extension whatever the length.
	LenBytes int
	// Len, when non-zero, is written as the length instead of
	// len(Payload) (a lying header, e.g. 1<<63).
	Len     uint64
	Payload []byte
}

// Append appends the encoded frame to b.
func (f Frame) Append(b []byte) []byte {
	b0 := f.Opcode & 0x0f
	if f.Fin {
		b0 |= 1 << 7
	}
	b0 |= (f.RSV & 7) << 4
	b = append(b, b0)
	n := uint64(len(f.Payload))
	if f.Len != 0 {
		n = f.Len
	}
	var b1 byte
	if f.Mask != nil {
		b1 = 1 << 7
	}
	switch {
	case f.LenBytes == 8 || (f.LenBytes == 0 && n > 0xffff):
		b = append(b, b1|127)
		b = binary.BigEndian.AppendUint64(b, n)
	case f.LenBytes == 2 || (f.LenBytes == 0 && n > 125):
		b = append(b, b1|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, b1|byte(n))
	}
	if f.Mask == nil {
		return append(b, f.Payload...)
	}
	b = append(b, f.Mask[:]...)
	for i, c := range f.Payload {
		b = append(b, c^f.Mask[i%4])
	}
	return b
}

// Bytes returns the encoded frame.
func (f Frame) Bytes() []byte { return f.Append(nil) }

// DefaultMask is a fixed masking key, so generated captures are stable.
var DefaultMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// Text returns one final text frame; masked when fromClient.
func Text(fromClient bool, s string) []byte {
	return data(fromClient, OpText, []byte(s))
}

// Binary returns one final binary frame; masked when fromClient.
func Binary(fromClient bool, p []byte) []byte {
	return data(fromClient, OpBinary, p)
}

// Close returns a close frame with a status code and reason (code 0: no
// body); masked when fromClient.
func Close(fromClient bool, code int, reason string) []byte {
	var p []byte
	if code != 0 {
		p = binary.BigEndian.AppendUint16(nil, uint16(code))
		p = append(p, reason...)
	}
	return data(fromClient, OpClose, p)
}

func data(fromClient bool, op uint8, p []byte) []byte {
	f := Frame{Fin: true, Opcode: op, Payload: p}
	if fromClient {
		f.Mask = &DefaultMask
	}
	return f.Bytes()
}

// Deflater compresses messages as permessage-deflate does (RFC 7692
// §7.2.1): with context takeover one compressor runs across messages; each
// message is flushed and its trailing 00 00 ff ff removed.
type Deflater struct {
	NoContextTakeover bool
	// Level is the compress/flate level; 0 means flate.BestSpeed, whose
	// encoder does not look back across messages: use a higher level for
	// messages that refer to earlier ones.
	Level int
	buf   bytes.Buffer
	w     *flate.Writer
}

// Compress returns the compressed payload of one message.
func (d *Deflater) Compress(p []byte) []byte {
	if d.w == nil || d.NoContextTakeover {
		d.buf.Reset()
		level := d.Level
		if level == 0 {
			level = flate.BestSpeed
		}
		d.w, _ = flate.NewWriter(&d.buf, level)
	}
	start := d.buf.Len()
	d.w.Write(p)
	d.w.Flush()
	out := bytes.TrimSuffix(d.buf.Bytes()[start:], []byte{0, 0, 0xff, 0xff})
	out = append([]byte(nil), out...)
	if !d.NoContextTakeover {
		d.buf.Reset()
	}
	return out
}

// Key is a fixed Sec-WebSocket-Key (RFC 6455 §4.1 example).
const Key = "dGhlIHNhbXBsZSBub25jZQ=="

// Accept computes Sec-WebSocket-Accept for a key (RFC 6455 §4.2.2).
func Accept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// Request returns an upgrade request for path with extra header lines
// ("Name: value").
func Request(path string, extra ...string) []byte {
	s := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", path, Key)
	for _, h := range extra {
		s += h + "\r\n"
	}
	return []byte(s + "\r\n")
}

// Response returns a 101 answer with the right Accept and extra header
// lines.
func Response(extra ...string) []byte {
	s := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + Accept(Key) + "\r\n"
	for _, h := range extra {
		s += h + "\r\n"
	}
	return []byte(s + "\r\n")
}
