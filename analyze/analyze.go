package analyze

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/wsviz/wsviz/analyze/internal/jsonenc"
	"github.com/wsviz/wsviz/analyze/internal/wsproto"
	"github.com/wsviz/wsviz/capture"
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
	// Workers is the number of goroutines Decode shards connections
	// across; 0 means runtime.GOMAXPROCS(0), 1 decodes on the caller's
	// goroutine alone. The events and their order are the same for every
	// value (see Decode). The Analyzer itself is always single-threaded.
	Workers int
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
	return o
}

// Analyzer turns packets into events. It is not safe for concurrent use.
// Feed it packets in capture order with Packet and call Close at the end
// of the capture.
type Analyzer struct {
	opts Options
	emit func(*Event)

	seg       capture.Segment
	conns     map[flowKey]*conn
	nconns    int // connections numbered so far
	lru       connList
	buffered  int64 // out-of-order bytes held over all connections
	bufferCap int64 // cap on buffered: MaxBufferTotal, or a worker's share of it
	pool      segmentPool
	ws        *wsproto.Shared // shared by the WebSocket decoders of all connections

	// the packet being processed
	pktNum  int64
	pktTime time.Time

	ev    Event          // reused for every emitted event
	notes *jsonenc.Notes // builds the notes of frames, data messages and pings
}

// New returns an Analyzer that calls emit for every event, synchronously,
// in capture order. The *Event and its slices are reused after emit returns:
// call Clone to keep one.
func New(opts Options, emit func(*Event)) *Analyzer {
	opts = opts.withDefaults()
	return &Analyzer{
		opts:      opts,
		emit:      emit,
		conns:     make(map[flowKey]*conn),
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
	if !capture.DecodeTCP(p, &a.seg) {
		return
	}
	a.segment(&a.seg)
}

// Close ends the capture: buffered data is flushed (with gaps where bytes
// never arrived), open connections end with tcp.close "end", in the order
// of their numbers, stamped with the capture's last packet.
func (a *Analyzer) Close() {
	open := make([]*conn, 0, len(a.conns))
	for _, c := range a.conns {
		open = append(open, c)
	}
	slices.SortFunc(open, func(x, y *conn) int { return x.id - y.id })
	for _, c := range open {
		a.finish(c, CloseEnd)
	}
}

// Decode reads every packet from src and calls emit for every event in
// capture order. It stops at the first error from emit, or from src
// (other than io.EOF); events of everything read before a source error
// were emitted, and open connections were closed, before Decode returns it.
//
// The *Event and its slices are reused after emit returns: call Clone to
// keep one.
//
// With Options.Workers other than 1, connections are sharded across that
// many goroutines; emit is still called on the caller's goroutine, one
// event at a time, with the same events in the same order as with one
// worker (connections numbered in order of first packet, the events of
// one packet together, end-of-capture closes in connection order). The one
// exception: the caps over all connections (MaxBufferTotal and
// MaxDeflateHistory) are divided among the workers.
func Decode(src capture.Source, opts Options, emit func(*Event) error) error {
	if opts.workers() > 1 {
		return decodeSharded(src, opts, sink{emit: emit})
	}
	return decodeSerial(src, opts, emit, nil)
}

// decodeSerial is Decode on the caller's goroutine alone. notes, when not
// nil, is the note builder the Analyzer is to use.
func decodeSerial(src capture.Source, opts Options, emit func(*Event) error, notes *jsonenc.Notes) error {
	var emitErr error
	a := New(opts, func(ev *Event) {
		if emitErr == nil {
			emitErr = emit(ev)
		}
	})
	if notes != nil {
		a.notes = notes
	}
	for emitErr == nil {
		p, err := src.ReadPacket()
		if err != nil {
			a.Close()
			if emitErr != nil {
				return emitErr
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		a.Packet(&p)
	}
	return emitErr
}

// DecodeJSON decodes src as Decode does and writes every event to w in
// its AppendJSON form, one per line: what `wsviz events` prints. With
// several workers the events are also encoded in parallel. w receives
// large writes (up to jsonWriteSize bytes, or a batch's lines), so it need
// not be buffered; when w is a BuffersWriter a batch's lines are handed
// over as they lie in the workers' buffers, without being copied together
// first. It returns the first error from w or from src (as Decode).
func DecodeJSON(src capture.Source, opts Options, w io.Writer) error {
	if opts.workers() > 1 {
		return decodeSharded(src, opts, sink{json: true, w: w})
	}
	var buf []byte
	var werr error // from w: nothing more is written
	var times jsonenc.TimeCache
	// The Analyzer's notes builder: its notes are copied unescaped, and
	// since the events go nowhere but appendJSON, it can reuse its memory.
	notes := jsonenc.ReusingNotes()
	err := decodeSerial(src, opts, func(ev *Event) error {
		buf = ev.appendJSON(buf, &times, notes)
		buf = append(buf, '\n')
		if len(buf) >= jsonWriteSize {
			_, werr = w.Write(buf)
			buf = buf[:0]
		}
		return werr
	}, notes)
	if werr == nil && len(buf) > 0 {
		// The events before a source error are written too.
		if _, werr = w.Write(buf); err == nil {
			err = werr
		}
	}
	return err
}

// jsonWriteSize is the size of DecodeJSON's writes on one worker.
const jsonWriteSize = 256 << 10

// BuffersWriter is an io.Writer that also writes several buffers in one
// call, in order, as writev(2) does; cmd/wsviz gives DecodeJSON one for its
// standard output on Linux. WriteBuffers returns nil only when every byte
// was written. It may modify bufs.
type BuffersWriter interface {
	io.Writer
	WriteBuffers(bufs [][]byte) error
}

// DecodeFile decodes a pcap or pcapng file; see Decode.
func DecodeFile(path string, opts Options, emit func(*Event) error) error {
	f, err := capture.OpenFile(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return Decode(f, opts, emit)
}

// ReadFile decodes a whole capture file and returns copies of all its
// events: convenient for tests of small captures. For big captures use
// DecodeFile, which holds nothing.
func ReadFile(path string, opts Options) ([]Event, error) {
	var events []Event
	err := DecodeFile(path, opts, func(ev *Event) error {
		events = append(events, ev.Clone())
		return nil
	})
	return events, err
}

// flowKey identifies a connection regardless of direction: its two
// endpoints in order, lo < hi. It is plain memory without padding, so the
// connection maps hash it in one go: a netip.AddrPort holds a zone handle
// and is hashed field by field, which cost a tenth of the decoding time
// (every packet is looked up by the dispatcher and by its shard).
type flowKey struct {
	lo, hi endpoint
}

// endpoint is an address and port in flowKey's form: the 16-byte form of
// the address (IPv4-mapped for IPv4) and whether it is IPv4, so that an
// IPv4 address and its IPv4-mapped IPv6 twin stay apart.
type endpoint struct {
	ip   [16]byte
	port uint16
	is4  uint16 // 1 for IPv4; a uint16, not a bool, to leave no padding
}

func makeEndpoint(ap netip.AddrPort) endpoint {
	e := endpoint{ip: ap.Addr().As16(), port: ap.Port()}
	if ap.Addr().Is4() {
		e.is4 = 1
	}
	return e
}

// makeFlowKey returns the key of the connection between a and b, the
// same both ways: lo is the lesser endpoint, in the order of
// netip.AddrPort.Compare (address, then port) for two addresses of one
// family.
func makeFlowKey(a, b netip.AddrPort) flowKey {
	ea, eb := makeEndpoint(a), makeEndpoint(b)
	if eb.less(ea) {
		ea, eb = eb, ea
	}
	return flowKey{ea, eb}
}

// less orders endpoints by address bytes, then port. The address is
// compared as two big-endian words: the order of bytes.Compare, without
// its call (this runs for every packet).
func (e endpoint) less(f endpoint) bool {
	if x, y := binary.BigEndian.Uint64(e.ip[:8]), binary.BigEndian.Uint64(f.ip[:8]); x != y {
		return x < y
	}
	if x, y := binary.BigEndian.Uint64(e.ip[8:]), binary.BigEndian.Uint64(f.ip[8:]); x != y {
		return x < y
	}
	return e.port < f.port
}

// newEvent resets the shared event for a new emission, keeping the
// capacity of its slices. Of the type-specific groups only the previous
// event's can be set: only it is cleared (the Event is large, and this is
// done for every frame and message).
func (a *Analyzer) newEvent(typ string, c *conn, from string) *Event {
	ev := &a.ev
	switch ev.Type {
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
	}
	ev.Type, ev.Time, ev.Packet, ev.From = typ, a.pktTime, a.pktNum, from
	ev.Conn = 0
	if c != nil {
		ev.Conn = c.id
	}
	ev.Note = ""
	ev.Warnings = ev.Warnings[:0]
	return ev
}

func (a *Analyzer) send(ev *Event) {
	a.emit(ev)
}

// pongAnswerNote is the note of a pong answering a ping, by direction:
// constant strings, no allocation.
var pongAnswerNote = [2]string{
	"the client answered the ping with a pong",
	"the server answered the ping with a pong",
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
