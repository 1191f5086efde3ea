package analyze

import (
	"time"

	"github.com/wsviz/wsviz/analyze/internal/jsonenc"
	"github.com/wsviz/wsviz/analyze/internal/wsproto"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/filter"
)

// Defaults for Options fields left zero. They bound what hostile traffic
// can make the analyzer hold.
const (
	// DefaultMaxPayload is how many payload bytes of each message an event
	// carries; the rest is counted, not kept.
	DefaultMaxPayload = 4096
	// DefaultMaxMessage caps one message's size after inflating (a deflate
	// bomb costs at most this much CPU) and the bytes kept with
	// --full-payload.
	DefaultMaxMessage = 64 << 20
	// DefaultMaxBufferPerConn caps out-of-order bytes buffered for one
	// connection.
	DefaultMaxBufferPerConn = 4 << 20
	// DefaultMaxBufferTotal caps out-of-order bytes buffered for all
	// connections together.
	DefaultMaxBufferTotal = 64 << 20
	// DefaultMaxConns caps tracked connections; past it the least recently
	// active one is evicted (tcp.close with how "evicted").
	DefaultMaxConns = 50000
	// DefaultMaxDeflateHistory caps the permessage-deflate histories held
	// for all connections: 64 KiB per direction with context takeover, so
	// 512 connections compressing both ways are decoded whole.
	DefaultMaxDeflateHistory = 64 << 20
	// DefaultReorderPackets and DefaultReorderTime are the reorder window:
	// an acknowledged hole becomes a tcp.gap once the data after it has
	// waited longer than both. Capture points record packets out of order
	// by a few packets and microseconds (multi-queue NICs, -i any, mirror
	// ports, merged interfaces); a window of 64 packets and 200 ms covers
	// them with room to spare, and only delays the decision.
	DefaultReorderPackets = 64
	DefaultReorderTime    = 200 * time.Millisecond
)

// Options tune the analyzer. The zero value means the defaults.
type Options struct {
	// MaxPayload is the number of payload bytes kept per message in
	// Message.Payload; 0 means DefaultMaxPayload, a negative value keeps
	// whole messages (up to MaxMessage).
	MaxPayload int
	// MaxMessage caps one message after decompression; 0 means
	// DefaultMaxMessage. Hitting it adds ws.decompression_limit.
	MaxMessage int64
	// MaxBufferPerConn and MaxBufferTotal cap buffered out-of-order TCP
	// data; 0 means the defaults. Hitting one adds tcp.buffer_limit to the
	// gap it forces.
	MaxBufferPerConn int
	MaxBufferTotal   int64
	// MaxConns caps tracked connections; 0 means DefaultMaxConns.
	MaxConns int
	// MaxDeflateHistory caps the bytes of permessage-deflate history
	// (RFC 7692 §7.2.2: the window a sender with context takeover may refer
	// back to) held for all connections; 0 means DefaultMaxDeflateHistory.
	// Past it the history of the direction that inflated least recently is
	// dropped, and its next message that refers to it gets
	// ws.deflate_history_limit.
	MaxDeflateHistory int64
	// Keys holds the TLS secrets (a key log) used to decrypt TLS
	// connections; nil means none. Decode adds to it (creating it if nil)
	// the secrets a pcapng source carries. See tls.go.
	Keys *KeyLog
	// KeyWait, when positive, is how many bytes of TLS records a
	// connection holds while the keys they need are not in Keys yet: a
	// live capture follows a key log that its endpoints write a moment
	// after the handshake. 0 decodes every record as soon as it arrives.
	KeyWait int
	// ReorderPackets and ReorderTime are the reorder window (see
	// DefaultReorderPackets): bytes the receiver acknowledged but the
	// capture has not shown are a pending hole, and the direction's later
	// bytes wait behind it, until the first of them has waited more than
	// ReorderPackets packets of the capture and ReorderTime of capture
	// time; then the hole is a tcp.gap. 0 means the defaults; a negative
	// value means no wait (the hole is declared at the first packet of its
	// connection after the later data arrived). ReorderTime is also how
	// long a connection lingers after a RST, or after its last data
	// since, for bytes sent before the RST took effect (see tcp.close);
	// either negative ends it at the RST.
	ReorderPackets int
	ReorderTime    time.Duration
	// OnPacket, when not nil, is called for every packet after the events
	// it caused were emitted, with the number of the connection the
	// connection table put it in and who sent it (FromClient or
	// FromServer); conn 0 and from "" for a packet of no connection (not
	// TCP, or an IP fragment whose datagram is not whole yet). It is the
	// table's own decision: a packet before its connection's tcp.open
	// (the handshake's SYN and SYN-ACK), a late packet after its
	// tcp.close, and a reused port's new connection are counted where they
	// belong. p is valid only during the call. Decode calls it on the
	// caller's goroutine, with any number of workers; DecodeJSON runs on
	// one worker when OnPacket is set.
	OnPacket func(p *capture.Packet, conn int, from string)
	// OnNote, when not nil, is called at the end of decoding (from
	// Decode, DecodeJSON and DecodeFile, on the caller's goroutine, with
	// any number of workers) with each note about the capture that no
	// event carries: data captured on connections that had already ended,
	// which was not decoded. The commands print them on stderr, the
	// timeline in its notice bar.
	OnNote func(note string)
	// Workers is the number of goroutines Decode shards connections
	// across; 0 means runtime.GOMAXPROCS(0), 1 decodes on the caller's
	// goroutine alone. The events and their order are the same for every
	// value (see Decode). The Analyzer itself is always single-threaded.
	Workers int
	// PacketFilter, when set, keeps only the packets it matches at some
	// level: as captured, inside a tunnel, or reassembled from fragments
	// (capture.DecoderOptions.Filter). A source filtered before with
	// PacketFilter.OrEncapsulated (a live capture's kernel filter) lets
	// through the fragments and tunnels this needs.
	PacketFilter *filter.Filter
}

func (o Options) withDefaults() Options {
	if o.MaxPayload == 0 {
		o.MaxPayload = DefaultMaxPayload
	}
	if o.MaxMessage <= 0 {
		o.MaxMessage = DefaultMaxMessage
	}
	if o.MaxPayload < 0 || int64(o.MaxPayload) > o.MaxMessage {
		o.MaxPayload = -1
	}
	if o.MaxBufferPerConn <= 0 {
		o.MaxBufferPerConn = DefaultMaxBufferPerConn
	}
	if o.MaxBufferTotal <= 0 {
		o.MaxBufferTotal = DefaultMaxBufferTotal
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxDeflateHistory <= 0 {
		o.MaxDeflateHistory = DefaultMaxDeflateHistory
	}
	switch {
	case o.ReorderPackets == 0:
		o.ReorderPackets = DefaultReorderPackets
	case o.ReorderPackets < 0:
		o.ReorderPackets = 0
	}
	switch {
	case o.ReorderTime == 0:
		o.ReorderTime = DefaultReorderTime
	case o.ReorderTime < 0:
		o.ReorderTime = 0
	}
	return o
}

// Analyzer turns packets into events. It is not safe for concurrent use.
// Feed it packets in capture order with Packet and call Close at the end
// of the capture.
type Analyzer struct {
	opts Options
	emit func(*Event)

	dec       *capture.Decoder // IP reassembly and tunnels (see ip.go)
	seg       capture.Segment
	table     table // the connection table (a sharded Analyzer's is unused: the dispatcher routes)
	buffered  int64 // out-of-order bytes held over all connections
	bufferCap int64 // cap on buffered: MaxBufferTotal, or a worker's share of it
	pool      segmentPool
	ws        *wsproto.Shared // shared by the WebSocket decoders of all connections
	late      lateData        // data on connections already ended (Options.OnNote)

	// the packet being processed
	pktNum  int64
	pktTime time.Time
	pkt     capture.Packet // its copy for Options.OnPacket

	// Idle (idle.go): during a call, the wall clock (Unix ns) the waits
	// are measured to; and when it last looked through the connections.
	idleAt    int64
	idleSwept time.Time

	tls tlsState // connections waiting for TLS keys (tls.go)

	ev         Event          // reused for every emitted event
	tcpScratch []TCPPacket    // the handshake or teardown of ev
	notes      *jsonenc.Notes // builds the notes of frames, data messages and pings
}

// New returns an Analyzer that calls emit for every event, synchronously,
// in capture order. The *Event and its slices are reused after emit returns:
// call Clone to keep one.
func New(opts Options, emit func(*Event)) *Analyzer {
	opts = opts.withDefaults()
	return &Analyzer{
		opts:      opts,
		emit:      emit,
		dec:       capture.NewDecoder(capture.DecoderOptions{Filter: opts.PacketFilter}),
		table:     newTable(opts.MaxConns, opts.ReorderPackets, opts.ReorderTime),
		bufferCap: opts.MaxBufferTotal,
		ws:        wsproto.NewShared(opts.MaxDeflateHistory),
		notes:     new(jsonenc.Notes),
	}
}

// Packet analyzes one packet. Packets that are not TCP are counted by the
// caller's source but produce no events.
func (a *Analyzer) Packet(p *capture.Packet) {
	a.pktNum = p.Number
	a.pktTime = p.Timestamp
	ok := a.dec.Decode(p, &a.seg)
	if reports := a.dec.Reports(); len(reports) > 0 {
		a.ipReports(reports)
	}
	var c *conn
	if ok {
		c = a.segment(&a.seg)
	}
	if a.opts.OnPacket != nil {
		a.onPacket(p, c)
	}
}

// onPacket calls Options.OnPacket for p, of connection c (nil: none), with
// a copy of p: handing p itself to a function value would make every
// caller's packet escape to the heap.
func (a *Analyzer) onPacket(p *capture.Packet, c *conn) {
	a.pkt = *p
	id, d := sideOf(&a.seg, c)
	a.opts.OnPacket(&a.pkt, int(id), sideName(id, d))
	a.pkt = capture.Packet{}
}

// clearGroup zeroes the type-specific group ev.Type names, keeping the
// capacity of WSOpen.Offered; the other groups are zero already (newEvent
// clears each one when the next event is made).
func (ev *Event) clearGroup() { ev.clearGroupOf(ev.Type) }

// clearGroupOf zeroes the group of ev that type typ sets.
func (ev *Event) clearGroupOf(typ string) {
	switch typ {
	case TypeTCPOpen:
		ev.TCPOpen = TCPOpen{}
	case TypeTCPClose:
		ev.TCPClose = TCPClose{}
	case TypeTCPGap:
		ev.TCPGap = TCPGap{}
	case TypeHTTPRequest, TypeHTTPResponse:
		ev.HTTP = HTTP{}
	case TypeWSOpen:
		ev.WSOpen = WSOpen{Offered: ev.WSOpen.Offered[:0]}
	case TypeWSFrame:
		ev.Frame = Frame{}
	case TypeWSMessage:
		ev.Message = Message{}
	case TypeTLSHandshake, TypeTLSMessage, TypeTLSAlert, TypeTLSRecord:
		ev.TLS = TLS{}
	case TypeH2StreamClose:
		ev.H2Close = H2Close{}
	}
}

// sideOf returns the number of connection c (0 for none) and which side
// sent s, for Options.OnPacket: onPacket's call, or a sharded worker's,
// which the merge makes (parallel.go).
func sideOf(s *capture.Segment, c *conn) (id int32, d uint8) {
	if c == nil {
		return 0, 0
	}
	if s.Src == c.addr[client] {
		return int32(c.id), client
	}
	return int32(c.id), server
}

// sideName is what Options.OnPacket is told of side d of connection id:
// FromClient, FromServer, or "" for a packet of no connection.
func sideName(id int32, d uint8) string {
	if id == 0 {
		return ""
	}
	return fromName[d]
}

// Close ends the capture: buffered data is flushed (with gaps where bytes
// never arrived), open connections end with tcp.close "end", in the order
// of their numbers, stamped with the capture's last packet.
func (a *Analyzer) Close() {
	a.dec.Flush()
	a.ipReports(a.dec.Reports())
	for _, f := range a.table.byNumber() {
		a.endFlow(f, CloseEnd)
	}
}

// newEvent resets the shared event for a new emission, keeping the
// capacity of its slices. Of the type-specific groups only the previous
// event's can be set: only it is cleared (the Event is large, and this is
// done for every frame and message).
func (a *Analyzer) newEvent(typ string, c *conn, from string) *Event {
	ev := &a.ev
	ev.clearGroup()
	ev.Type, ev.Time, ev.Packet, ev.From = typ, a.pktTime, a.pktNum, from
	ev.Conn, ev.Stream = 0, 0
	if c != nil {
		ev.Conn = c.id
	}
	ev.Note = ""
	ev.Warnings = ev.Warnings[:0]
	ev.Carried = Carried{Records: ev.Carried.Records[:0]}
	if c != nil && c.app.tls != nil {
		a.tlsCarried(ev, c) // tls.go
	}
	return ev
}

func (a *Analyzer) send(ev *Event) {
	a.emit(ev)
}
