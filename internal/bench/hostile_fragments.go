package bench

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// Fragment flood: what writeFragmentFlood writes.
const (
	// floodFragments is the number of hostile fragments, none of which
	// ever completes a datagram.
	floodFragments = 150_000
	// floodPayload is the bytes each hostile fragment carries (a multiple
	// of 8, as a fragment followed by others must have, RFC 791 §3.2).
	floodPayload = 48
	// floodFarOffset is where the far fragments start: the last bytes a
	// datagram can have, so that each makes its datagram 64 KiB long.
	floodFarOffset = 65_000 &^ 7
	// FragmentFloodMessages is the number of messages of the real
	// connection inside the flood: 200 text messages and the two closes.
	FragmentFloodMessages = 202
)

// writeFragmentFlood: 150,000 IPv4 fragments that never complete, around
// one real WebSocket connection whose every packet longer than 512 bytes
// comes in fragments (RFC 791 §3.2), with a burst of hostile fragments
// between any two of its packets, fragments of one datagram included. The
// connection must be decoded whole. The hostile fragments are of three
// kinds, in turn: first fragments of datagrams from spoofed sources in
// 11.0.0.0/8 (a TCP header to the server's port, 48 bytes: the number of
// datagrams waiting is the bound hit); fragments at byte 65,000 from
// spoofed sources (each makes its datagram 64 KiB: the bytes held in all);
// fragments at byte 65,000 from one source (the bytes per pair of
// addresses). Halfway, the capture is idle for 31 seconds, past the
// reassembly timeout.
func writeFragmentFlood(w io.Writer) error {
	c := capturetest.NewCapture(capturetest.Options{})
	k := c.Conn("10.0.0.1:40000", "10.1.0.1:8080")
	k.SetFragmenter(capturetest.Fragments(512, nil))
	k.Handshake()
	k.Client(analyzetest.Request("/flood"))
	k.Server(analyzetest.Response())
	for i := range FragmentFloodMessages - 2 {
		line := fmt.Sprintf("tick %d ", i)
		k.Server(analyzetest.Text(false, string(bytes.Repeat([]byte(line), 1000/len(line)))))
	}
	k.Client(analyzetest.Close(true, 1000, "done"))
	k.Server(analyzetest.Close(false, 1000, "done"))
	k.CloseFIN(true)
	k.CloseFIN(false)
	real, err := capture.NewReader(bytes.NewReader(c.Bytes()), "flood.pcap")
	if err != nil {
		return err
	}
	var packets [][]byte
	for {
		p, err := real.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		packets = append(packets, bytes.Clone(p.Data))
	}

	pcap, err := newPcapWriter(w)
	if err != nil {
		return err
	}
	pw := &floodWriter{pcapWriter: pcap}
	rng := rand.New(rand.NewPCG(5, 5))
	server := [4]byte{10, 1, 0, 1}
	tcp := make([]byte, floodPayload)
	binary.BigEndian.PutUint16(tcp[2:], 8080)
	tcp[12] = 5 << 4
	tcp[13] = flagACK | flagPSH
	perPacket := floodFragments / len(packets)
	sent, idle := 0, false
	for i, data := range packets {
		if !idle && i >= len(packets)/2 && !moreFragments(packets[i-1]) {
			pw.t = pw.t.Add(31 * time.Second) // the reassembly timeout is 30 s
			idle = true
		}
		if err := pw.frame(data); err != nil {
			return err
		}
		for j := 0; j < perPacket || i == len(packets)-1 && sent < floodFragments; j++ {
			var src [4]byte
			binary.BigEndian.PutUint32(src[:], rng.Uint32()&0x00ffffff|0x0b000000) // 11.0.0.0/8
			id := uint16(rng.Uint32())
			var err error
			switch sent % 3 {
			case 0:
				binary.BigEndian.PutUint16(tcp, uint16(rng.IntN(64512)+1024))
				err = pw.fragment(src, server, id, 0, tcp)
			case 1:
				err = pw.fragment(src, server, id, floodFarOffset, tcp)
			case 2:
				err = pw.fragment([4]byte{11, 255, 255, 1}, server, id, floodFarOffset, tcp)
			}
			if err != nil {
				return err
			}
			sent++
		}
	}
	return pw.w.Flush()
}

// moreFragments reports whether an Ethernet frame holds an IPv4 fragment
// that more fragments follow.
func moreFragments(frame []byte) bool {
	return len(frame) >= 34 && frame[12] == 0x08 && frame[13] == 0 && frame[20]&0x20 != 0
}

// floodWriter writes hostile fragments through one reused frame buffer.
type floodWriter struct {
	*pcapWriter
	frameBuf []byte
}

// fragment writes an IPv4 fragment (protocol TCP, more fragments follow)
// from src to dst with identification id, carrying payload at byte off.
func (fw *floodWriter) fragment(src, dst [4]byte, id uint16, off int, payload []byte) error {
	b := fw.frameBuf[:0]
	b = append(b, 0x02, 0, 0, 0, 0, dst[3], 0x02, 0, 0, 0, 0, src[3], 0x08, 0x00)
	ip := len(b)
	b = append(b, 0x45, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(20+len(payload)))
	b = binary.BigEndian.AppendUint16(b, id)
	b = binary.BigEndian.AppendUint16(b, 0x2000|uint16(off/8)) // MF, RFC 791 §3.1
	b = append(b, 64, 6, 0, 0)
	b = append(b, src[:]...)
	b = append(b, dst[:]...)
	var sum uint32
	for i := ip; i < ip+20; i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(b[ip+10:], ^uint16(sum))
	b = append(b, payload...)
	fw.frameBuf = b
	return fw.frame(b)
}

// frame writes one Ethernet frame as captured whole.
func (pw *pcapWriter) frame(data []byte) error {
	b := pw.buf[:0]
	b = binary.LittleEndian.AppendUint32(b, uint32(pw.t.Unix()))
	b = binary.LittleEndian.AppendUint32(b, uint32(pw.t.Nanosecond()/1000))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	pw.buf = b
	pw.t = pw.t.Add(10 * time.Microsecond)
	pw.stats.Packets++
	pw.stats.Bytes += int64(len(b))
	_, err := pw.w.Write(b)
	return err
}
