package bench

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
	"github.com/wsviz/wsviz/internal/bomb"
)

// Hostile is a capture built to hit one of the analyzer's limits.
type Hostile struct {
	// Name is the file name stem, e.g. "deflate-bomb".
	Name string
	// Small reports whether the capture is small enough to keep in
	// testdata/hostile, as NAME.pcap.gz (the others are generated when
	// needed).
	Small bool
	// Warnings are the codes the capture must produce.
	Warnings []string
	// Write writes the capture as a pcap file.
	Write func(w io.Writer) error
}

// HostileCaptures lists the hostile captures, each with the warning codes
// that show the limit it hits.
func HostileCaptures() []Hostile {
	return []Hostile{
		{"deflate-bomb", false, []string{"ws.decompression_limit"}, writeDeflateBomb},
		{"length-near-2p63", true, []string{"ws.length_overflow", "ws.incomplete"}, writeHugeLengths},
		{"half-open-100k", false, []string{"tcp.conn_limit"}, writeHalfOpen},
		{"syn-flood", false, []string{"tcp.conn_limit"}, writeSYNFlood},
		{"outside-window", false, []string{"tcp.out_of_window", "tcp.buffer_limit", "tcp.gap"}, writeOutsideWindow},
		{"header-byte-per-segment", true, []string{"ws.non_minimal_length"}, writeHeaderBytes},
		{"fragment-flood", false, []string{"ip.fragment_limit", "ip.fragment_incomplete"}, writeFragmentFlood}, // hostile_fragments.go
	}
}

// deflateConn opens a WebSocket connection with permessage-deflate.
func deflateConn(c *capturetest.Capture, client string) *capturetest.Conn {
	k := c.Conn(client, "10.1.0.1:8080")
	k.Handshake()
	k.Client(analyzetest.Request("/bomb", "Sec-WebSocket-Extensions: permessage-deflate"))
	k.Server(analyzetest.Response("Sec-WebSocket-Extensions: permessage-deflate"))
	return k
}

// writeDeflateBomb: one server message of 1 GiB of zeros compressed to
// about 1 MB (RFC 7692 §7.2.1; package bomb), then an ordinary message
// that must still be decoded.
func writeDeflateBomb(w io.Writer) error {
	payload := bomb.Zeros(1 << 30)
	c := capturetest.NewCapture(capturetest.Options{})
	k := deflateConn(c, "10.0.0.1:40000")
	k.Server(analyzetest.Frame{Fin: true, RSV: 4, Opcode: analyzetest.OpBinary, Payload: payload}.Bytes())
	k.Server(analyzetest.Text(false, "still decoding"))
	k.CloseFIN(false)
	k.CloseFIN(true)
	_, err := w.Write(c.Bytes())
	return err
}

// writeHugeLengths: server frames announcing 2^63-1 and 2^63 bytes
// (RFC 6455 §5.2: the most significant bit must be 0), on two connections,
// with a few KB after each header.
func writeHugeLengths(w io.Writer) error {
	c := capturetest.NewCapture(capturetest.Options{})
	for i, n := range []uint64{1<<63 - 1, 1 << 63} {
		k := c.Conn(fmt.Sprintf("10.0.0.%d:40000", i+1), "10.1.0.1:8080")
		k.Handshake()
		k.Client(analyzetest.Request("/huge"))
		k.Server(analyzetest.Response())
		k.Server(analyzetest.Frame{Fin: true, Opcode: analyzetest.OpBinary, Len: n, Payload: bytes.Repeat([]byte("A"), 4000)}.Bytes())
		k.Client(analyzetest.Text(true, "hello?"))
	}
	_, err := w.Write(c.Bytes())
	return err
}

// writeHalfOpen: 100,000 connections that send a SYN, get a SYN-ACK and
// are never heard of again: twice the default number of tracked
// connections.
func writeHalfOpen(w io.Writer) error {
	pw, err := newPcapWriter(w)
	if err != nil {
		return err
	}
	srv := endpoint{ip: [4]byte{10, 1, 0, 1}, port: 8080, seq: 7}
	for i := range 100_000 {
		cli := endpoint{ip: [4]byte{10, 2, byte(i >> 8), byte(i)}, port: uint16(1024 + i%60000), seq: uint32(i) * 7919}
		if err := pw.segment(&cli, &srv, flagSYN, nil); err != nil {
			return err
		}
		if err := pw.segment(&srv, &cli, flagSYN|flagACK, nil); err != nil {
			return err
		}
	}
	return pw.w.Flush()
}

// writeSYNFlood: 200,000 SYNs from random spoofed sources, some repeated,
// around one real WebSocket connection that keeps talking and must be
// decoded whole.
func writeSYNFlood(w io.Writer) error {
	pw, err := newPcapWriter(w)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(3, 3))
	cli := endpoint{ip: [4]byte{10, 0, 0, 1}, port: 40000, seq: 100}
	srv := endpoint{ip: [4]byte{10, 1, 0, 1}, port: 8080, seq: 200}
	legit := []struct {
		fromClient bool
		flags      uint8
		data       []byte
	}{
		{true, flagSYN, nil},
		{false, flagSYN | flagACK, nil},
		{true, flagACK, nil},
		{true, flagACK | flagPSH, analyzetest.Request("/live")},
		{false, flagACK | flagPSH, analyzetest.Response()},
	}
	step := func(fromClient bool, flags uint8, data []byte) error {
		if fromClient {
			return pw.segment(&cli, &srv, flags, data)
		}
		return pw.segment(&srv, &cli, flags, data)
	}
	for _, s := range legit {
		if err := step(s.fromClient, s.flags, s.data); err != nil {
			return err
		}
	}
	for i := range 200_000 {
		src := endpoint{port: uint16(rng.IntN(64512) + 1024), seq: rng.Uint32()}
		binary.BigEndian.PutUint32(src.ip[:], rng.Uint32()&0x00ffffff|0x0b000000) // 11.0.0.0/8
		if i%10 == 9 {
			src.ip, src.port = [4]byte{11, 0, 0, 1}, 5555 // a retransmitted SYN
		}
		dst := srv
		if err := pw.segment(&src, &dst, flagSYN, nil); err != nil {
			return err
		}
		if i%1000 == 0 {
			if err := step(false, flagACK|flagPSH, analyzetest.Text(false, fmt.Sprint("tick ", i))); err != nil {
				return err
			}
		}
	}
	if err := step(true, flagACK|flagPSH, analyzetest.Close(true, 1000, "done")); err != nil {
		return err
	}
	return pw.w.Flush()
}

// writeOutsideWindow: a connection receiving segments 2^30 and more
// bytes away from the next expected sequence number (outside any window,
// RFC 7323 §2.3), and 6 MB of segments 1 MB ahead of a hole (more than the
// per-connection buffer holds), then the data goes on.
func writeOutsideWindow(w io.Writer) error {
	c := capturetest.NewCapture(capturetest.Options{})
	k := c.Conn("10.0.0.1:40000", "10.1.0.1:8080")
	k.Handshake()
	k.Client(analyzetest.Request("/window"))
	k.Server(analyzetest.Response())
	k.Server(analyzetest.Text(false, "before"))
	k.Drop(1) // a hole, and 6 MB behind it that nobody acknowledges yet
	big := analyzetest.Binary(false, bytes.Repeat([]byte("0123456789abcdef"), 6<<16))
	k.Server(big)
	k.Server(analyzetest.Text(false, "after"))
	k.Client(analyzetest.Text(true, "thanks")) // acknowledges everything
	// Last, since capturetest's sender moves on past them.
	junk := bytes.Repeat([]byte{0x81}, 1000)
	next := k.Next(false)
	for _, d := range []uint32{1 << 30, 1<<31 + 5, 3 << 30, ^uint32(0) - (1 << 30) - 7} {
		k.Segment(false, next+d, junk, capture.ACK)
	}
	_, err := w.Write(c.Bytes())
	return err
}

// writeHeaderBytes: 300 masked client frames with 64-bit lengths for
// 3-byte payloads (RFC 6455 §5.2: the minimal encoding must be used), every
// byte in a segment of its own: 5,100 one-byte segments.
func writeHeaderBytes(w io.Writer) error {
	c := capturetest.NewCapture(capturetest.Options{Step: 1000})
	k := c.Conn("10.0.0.1:40000", "10.1.0.1:8080")
	k.Handshake()
	k.Client(analyzetest.Request("/split"))
	k.Server(analyzetest.Response())
	mask := analyzetest.DefaultMask
	var frames []byte
	for range 300 {
		frames = analyzetest.Frame{Fin: true, Opcode: analyzetest.OpText, Mask: &mask, LenBytes: 8, Payload: []byte("abc")}.Append(frames)
	}
	cuts := make([]int, len(frames)-1)
	for i := range cuts {
		cuts[i] = i + 1
	}
	k.ClientSegments(frames, cuts...)
	_, err := w.Write(c.Bytes())
	return err
}
