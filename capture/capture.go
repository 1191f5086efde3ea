package capture

import (
	"net/netip"
	"time"
)

// Packet is one captured packet.
//
// Data aliases the Source's buffer: it is valid until the next call to
// ReadPacket. Copy it to keep it.
type Packet struct {
	// Number is the packet's position in the source, from 1, exactly like
	// Wireshark's frame number.
	Number int64
	// Timestamp is the capture time recorded with the packet (never the
	// wall clock at decode time).
	Timestamp time.Time
	// LinkType says how Data begins (Ethernet, Linux SLL, ...).
	// LinkType is 8 bits wide: Linux SLL2 (LINKTYPE 276) arrives as
	// LinkTypeLinuxSLL2, Apple's PKTAP (258) as LinkTypePKTAP, and other
	// link types above 255 as a value DecodeTCP rejects; File.Interfaces
	// has the number in the file.
	LinkType LinkType
	// Data holds the captured bytes (possibly fewer than Length).
	Data []byte
	// Length is the packet's original length on the wire.
	Length int
	// Interface is the pcapng interface index (0 for pcap files): an
	// index into File.Interfaces, counting on across the sections of a
	// pcapng file with several.
	Interface int
}

// Source hands out packets in capture order.
//
// ReadPacket returns io.EOF after the last packet. Any other error means the
// source cannot continue (a corrupt file, an I/O failure); packets returned
// before it are still valid.
type Source interface {
	ReadPacket() (Packet, error)
}

// SourceTo is a Source that can also read its next packet into a Packet
// the caller holds (File does): a Packet is too large to come back in
// registers, and a loop over millions of them notices the copy through
// memory that ReadPacket's result takes (BenchmarkReadFile).
type SourceTo interface {
	Source
	// ReadPacketTo is ReadPacket into *p: the same packet, the same
	// errors; on an error *p is the zero Packet.
	ReadPacketTo(p *Packet) error
}

// ReadTo returns the function that reads src's next packet into *p: its
// ReadPacketTo when src is a SourceTo, otherwise ReadPacket.
func ReadTo(src Source) func(p *Packet) error {
	if s, ok := src.(SourceTo); ok {
		return s.ReadPacketTo
	}
	return func(p *Packet) (err error) {
		*p, err = src.ReadPacket()
		return err
	}
}

// IdleSource is a Source whose packets have not all happened yet: a live
// capture. SetIdle gives it a function to call whenever it has handed out
// every packet it has and waits for more, and again every little while
// as it goes on waiting, with the wall-clock time; nil removes it. The
// function runs on the goroutine that called ReadPacket, from inside
// ReadPacket. analyze.Decode uses it to decide what waited only for a
// later packet (see analyze.Analyzer.Idle).
type IdleSource interface {
	Source
	SetIdle(f func(now time.Time))
}

// TCP flag bits, as in the TCP header (RFC 9293 §3.1).
const (
	FIN = 1 << 0
	SYN = 1 << 1
	RST = 1 << 2
	PSH = 1 << 3
	ACK = 1 << 4
	URG = 1 << 5
)

// Segment is a decoded TCP segment.
//
// Payload aliases the packet's data: copy it to keep it.
type Segment struct {
	Src, Dst netip.AddrPort
	Seq, Ack uint32
	Flags    uint8 // FIN, SYN, RST, PSH, ACK, URG
	Window   uint16
	// Payload is the TCP payload as captured: it may be shorter than the
	// segment on the wire when the capture was cut by a snap length.
	Payload []byte
	// Missing counts payload bytes that were on the wire but not captured
	// (snap length), so that reassembly can report them as a gap.
	Missing int
	// Outer, set only by a Decoder, says how the segment was carried when
	// it was more than a plain IP packet: the tunnels around it and the
	// fragments of its datagram. nil for a plain packet. It points into
	// the Decoder's memory, valid until its next Decode: copy it to keep
	// it.
	Outer *Outer
}
