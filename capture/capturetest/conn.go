package capturetest

import (
	"fmt"
	"net/netip"

	"github.com/wsviz/wsviz/capture"
)

// Indices of Conn.ends.
const (
	client_ = 0
	server_ = 1
)

// end is one side of a connection.
type end struct {
	addr netip.AddrPort
	isn  uint32
	nxt  uint32 // sequence number of the next new byte (RFC 9293 SND.NXT)
	ipID uint16
}

// Conn is one TCP connection between a client and a server, scripted
// segment by segment. Every segment it writes acknowledges all the peer
// has sent so far.
type Conn struct {
	c     *Capture
	link  capture.LinkType
	iface int
	ends  [2]end
	mss   int
	drop  int      // segments still to drop
	delay int      // segments still to hold back
	held  [][]byte // frames held back by Delay

	fragmenter      func(ip []byte) [][]byte // SetFragmenter
	tunnels         []Tunnel                 // SetTunnels, outermost first
	outerFragmenter func(ip []byte) [][]byte // SetTunnels
	outerID         uint16                   // the next outer IPv4 identification

	pktap pktapIface // SetPKTAP
}

// pktapIface is the interface a PKTAP header names.
type pktapIface struct {
	name string
	link capture.LinkType // the packet's, after the header
}

// SetMSS sets the largest payload Client and Server put in one segment.
func (k *Conn) SetMSS(mss int) {
	if mss <= 0 {
		panic(fmt.Sprintf("capturetest: SetMSS(%d)", mss))
	}
	k.mss = mss
}

// SetPKTAP sets the interface that the PKTAP headers of the connection's
// later packets name, and its link type, that of the packets after the
// headers (pth_dlt): until then "en0" and capture.LinkTypeEthernet, as
// macOS's tcpdump -i pktap records Wi-Fi. "lo0" with capture.LinkTypeNull
// is the loopback; "pdp_ip0" with link type 12 (DLT_RAW as macOS numbers
// it) an iPhone's cellular data, as rvictl's rvi0 shows it. Any link type
// Conn writes will do but PKTAP itself. SetPKTAP panics on a connection
// of another link type than PKTAP.
func (k *Conn) SetPKTAP(ifname string, link capture.LinkType) {
	switch {
	case k.link != capture.LinkTypePKTAP:
		panic(fmt.Sprintf("capturetest: SetPKTAP on a connection of link type %v", k.link))
	case link == capture.LinkTypePKTAP:
		panic("capturetest: SetPKTAP: a PKTAP header inside a PKTAP header")
	case len(ifname) >= pktapIfnameLen:
		panic(fmt.Sprintf("capturetest: SetPKTAP: interface name %q is longer than %d bytes", ifname, pktapIfnameLen-1))
	}
	checkLink(link, k.ends[client_].addr.Addr())
	k.pktap = pktapIface{name: ifname, link: link}
}

// SetISN sets the initial sequence numbers (to test wrap-around, say). Call
// it before the first segment.
func (k *Conn) SetISN(client, server uint32) {
	k.ends[client_].isn, k.ends[client_].nxt = client, client+1
	k.ends[server_].isn, k.ends[server_].nxt = server, server+1
}

// Handshake writes the three-way handshake: SYN, SYN-ACK, ACK (RFC 9293
// §3.5), the SYNs with an MSS option.
func (k *Conn) Handshake() {
	c, s := &k.ends[client_], &k.ends[server_]
	k.emit(client_, c.isn, 0, capture.SYN, nil, true)
	k.emit(server_, s.isn, c.nxt, capture.SYN|capture.ACK, nil, true)
	k.emit(client_, c.nxt, s.nxt, capture.ACK, nil, false)
}

// HandshakeFastOpen writes a TCP Fast Open handshake (RFC 7413): the
// client's SYN carries data (at most the MSS). When the server accepts it,
// its SYN-ACK acknowledges the data; when not (no valid cookie), only the
// SYN, and the client sends the data again after the handshake, as Linux
// does.
func (k *Conn) HandshakeFastOpen(data []byte, accepted bool) {
	c, s := &k.ends[client_], &k.ends[server_]
	k.emit(client_, c.isn, 0, capture.SYN, data, true)
	if accepted {
		c.nxt += uint32(len(data))
	}
	k.emit(server_, s.isn, c.nxt, capture.SYN|capture.ACK, nil, true)
	k.emit(client_, c.nxt, s.nxt, capture.ACK, nil, false)
	if !accepted {
		k.Segment(true, 0, data, capture.ACK|capture.PSH)
	}
}

// Client sends data from the client in segments of at most the MSS, the
// last one with PSH. Empty data sends nothing.
func (k *Conn) Client(data []byte) { k.send(client_, data, nil) }

// Server sends data from the server, as Client does.
func (k *Conn) Server(data []byte) { k.send(server_, data, nil) }

// ClientSegments sends data from the client cut at the given offsets:
// cuts 3, 10 send data[:3], data[3:10] and data[10:]. The cuts must
// increase strictly within (0, len(data)); the MSS does not apply.
func (k *Conn) ClientSegments(data []byte, cuts ...int) { k.send(client_, data, cuts) }

// ServerSegments sends data from the server, as ClientSegments does.
func (k *Conn) ServerSegments(data []byte, cuts ...int) { k.send(server_, data, cuts) }

func (k *Conn) send(from int, data []byte, cuts []int) {
	if cuts == nil {
		for i := k.mss; i < len(data); i += k.mss {
			cuts = append(cuts, i)
		}
	}
	start := 0
	for i := 0; i <= len(cuts); i++ {
		stop := len(data)
		if i < len(cuts) {
			stop = cuts[i]
			if stop <= start || stop >= len(data) {
				panic(fmt.Sprintf("capturetest: cut %d out of order or outside (0, %d)", stop, len(data)))
			}
		}
		if stop == start {
			return // empty data
		}
		flags := uint8(capture.ACK)
		if stop == len(data) {
			flags |= capture.PSH
		}
		k.Segment(from == client_, k.Next(from == client_), data[start:stop], flags)
		start = stop
	}
}

// Ack writes a segment without data acknowledging all the peer has sent.
func (k *Conn) Ack(fromClient bool) {
	k.Segment(fromClient, k.Next(fromClient), nil, capture.ACK)
}

// CloseFIN writes a FIN from one side (RFC 9293 §3.6); the FIN takes one
// sequence number.
func (k *Conn) CloseFIN(fromClient bool) {
	e := &k.ends[side(fromClient)]
	k.emit(side(fromClient), e.nxt, k.ends[1-side(fromClient)].nxt, capture.FIN|capture.ACK, nil, false)
	e.nxt++
}

// Reset writes a RST from one side (RFC 9293 §3.10.7).
func (k *Conn) Reset(fromClient bool) {
	e := &k.ends[side(fromClient)]
	k.emit(side(fromClient), e.nxt, k.ends[1-side(fromClient)].nxt, capture.RST|capture.ACK, nil, false)
}

// Segment writes one arbitrary segment, for what Client and Server do not
// script: retransmissions, overlaps, data beyond the window. rel is the
// sequence number relative to the sender's first payload byte (0 is ISN+1;
// Next gives the next new byte); flags are exactly the TCP flags written
// (capture.ACK|capture.PSH, say). Like a real sender, data past the
// sender's next sequence number advances it; a retransmission does not.
func (k *Conn) Segment(fromClient bool, rel uint32, payload []byte, flags uint8) {
	from := side(fromClient)
	e := &k.ends[from]
	seq := e.isn + 1 + rel
	k.emit(from, seq, k.ends[1-from].nxt, flags, payload, false)
	if end := seq + uint32(len(payload)); int32(end-e.nxt) > 0 {
		e.nxt = end
	}
}

// Next returns the relative sequence number of the sender's next new byte:
// how many payload bytes (and FINs) it has sent.
func (k *Conn) Next(fromClient bool) uint32 {
	e := &k.ends[side(fromClient)]
	return e.nxt - e.isn - 1
}

// Drop leaves the next n segments of this connection out of the capture,
// as if the capture lost them: sequence numbers advance as if they were
// sent, and later segments acknowledge them.
func (k *Conn) Drop(n int) { k.drop += n }

// Delay holds the next n segments of this connection back and writes them,
// in order, right after the segment that follows them (or at the end of the
// capture): Delay(1), Client(a), Client(b) captures b, then a.
func (k *Conn) Delay(n int) { k.delay += n }

// emit builds one segment and writes it, unless Drop or Delay say
// otherwise.
func (k *Conn) emit(from int, seq, ack uint32, flags uint8, payload []byte, mssOption bool) {
	frames := k.frames(from, seq, ack, flags, payload, mssOption)
	switch {
	case k.drop > 0:
		k.drop--
	case k.delay > 0:
		k.delay--
		k.held = append(k.held, frames...)
	default:
		for _, f := range frames {
			k.c.write(k.iface, f)
		}
		k.flush()
	}
}

// flush writes the frames Delay held back.
func (k *Conn) flush() {
	for _, f := range k.held {
		k.c.write(k.iface, f)
	}
	k.held = nil
}

func side(fromClient bool) int {
	if fromClient {
		return client_
	}
	return server_
}
