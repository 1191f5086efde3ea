package analyze

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"time"

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

	// the packet being processed
	pktNum  int64
	pktTime time.Time

	ev   Event  // reused for every emitted event
	note []byte // reused by the note builders
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
// exception: the cap on out-of-order bytes over all connections
// (MaxBufferTotal) is divided among the workers.
func Decode(src capture.Source, opts Options, emit func(*Event) error) error {
	if opts.workers() > 1 {
		return decodeSharded(src, opts, sink{emit: emit})
	}
	var emitErr error
	a := New(opts, func(ev *Event) {
		if emitErr == nil {
			emitErr = emit(ev)
		}
	})
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
// several workers the events are also encoded in parallel, and w receives
// large writes. It returns the first error from w or from src (as Decode).
func DecodeJSON(src capture.Source, opts Options, w io.Writer) error {
	if opts.workers() > 1 {
		return decodeSharded(src, opts, sink{json: true, w: w})
	}
	var line []byte
	return Decode(src, opts, func(ev *Event) error {
		line = ev.AppendJSON(line[:0])
		line = append(line, '\n')
		_, err := w.Write(line)
		return err
	})
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

// flowKey identifies a connection regardless of direction: lo < hi.
type flowKey struct {
	lo, hi netip.AddrPort
}

func makeFlowKey(a, b netip.AddrPort) flowKey {
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	return flowKey{a, b}
}

// newEvent resets the shared event for a new emission, keeping the
// capacity of its slices.
func (a *Analyzer) newEvent(typ string, c *conn, from string) *Event {
	ev := &a.ev
	warnings, packets, payload, offered := ev.Warnings[:0], ev.Message.Packets[:0], ev.Message.Payload[:0], ev.WSOpen.Offered[:0]
	*ev = Event{Type: typ, Time: a.pktTime, Packet: a.pktNum, From: from}
	ev.Warnings = warnings
	ev.Message.Packets = packets
	ev.Message.Payload = payload
	ev.WSOpen.Offered = offered
	if c != nil {
		ev.Conn = c.id
	}
	return ev
}

func (a *Analyzer) send(ev *Event) {
	a.emit(ev)
}

// The note builders below write into the Analyzer's reused buffer with
// append and strconv instead of fmt: one allocation per note (the string)
// instead of about eight. They give exactly the text of the fmt-built notes
// in app.go (TestNoteBuilders), which can call them in the per-frame and
// per-message hot path, except that frameNote prints lengths of 2^63 and
// more as the unsigned numbers they are.

// frameNote returns the note of a ws.frame event of direction d.
func (a *Analyzer) frameNote(d int, f *wsproto.Frame) string {
	b := append(a.note[:0], fromName[d]...)
	b = append(b, " → "...)
	b = append(b, fromName[1-d]...)
	b = append(b, ": "...)
	b = appendOpcodeName(b, f.Opcode)
	b = append(b, " frame"...)
	if !f.Fin {
		b = append(b, " (more fragments follow)"...)
	} else if f.Opcode == opContinuation {
		b = append(b, " (last fragment)"...)
	}
	// The length is unsigned: 2^63 and above are lengths too (ws.length_overflow).
	b = append(b, ", "...)
	b = strconv.AppendUint(b, f.Len, 10)
	if f.Len == 1 {
		b = append(b, " byte of payload"...)
	} else {
		b = append(b, " bytes of payload"...)
	}
	if f.RSV&4 != 0 && f.Opcode != opContinuation {
		b = append(b, ", compressed (RSV1)"...)
	}
	if f.Masked {
		b = append(b, ", masked with key "...)
		b = hex.AppendEncode(b, f.Mask[:])
	}
	a.note = b
	return string(b)
}

// dataMessageNote returns the note of a text or binary ws.message event of
// direction d, "; payload shown in part" included when it was truncated.
func (a *Analyzer) dataMessageNote(d int, m *wsproto.Message) string {
	b := append(a.note[:0], "the "...)
	b = append(b, fromName[d]...)
	b = append(b, " sent "...)
	if m.Opcode == opBinary {
		b = append(b, "a binary"...)
	} else {
		b = append(b, "a text"...)
	}
	b = append(b, " message of "...)
	b = appendPlural(b, m.Len, "byte", "bytes")
	if m.Compressed {
		b = append(b, " (compressed to "...)
		b = appendPlural(b, m.WireLen, "byte", "bytes")
		b = append(b, " on the wire)"...)
	}
	if m.Frames > 1 {
		b = append(b, " in "...)
		b = strconv.AppendInt(b, int64(m.Frames), 10)
		b = append(b, " fragments"...)
	}
	if d == server {
		b = append(b, " without being asked: WebSocket has no request and response"...)
	}
	if m.Truncated {
		b = append(b, "; payload shown in part"...)
	}
	a.note = b
	return string(b)
}

// pingNote returns the note of a ping ws.message event of direction d,
// "; payload shown in part" included when it was truncated.
func (a *Analyzer) pingNote(d int, m *wsproto.Message) string {
	b := append(a.note[:0], "the "...)
	b = append(b, fromName[d]...)
	b = append(b, " sent a ping ("...)
	b = appendPlural(b, m.Len, "byte", "bytes")
	b = append(b, "): the "...)
	b = append(b, fromName[1-d]...)
	b = append(b, " must answer with a pong"...)
	if m.Truncated {
		b = append(b, "; payload shown in part"...)
	}
	a.note = b
	return string(b)
}

// pongAnswerNote is the note of a pong answering a ping, by direction:
// constant strings, no allocation.
var pongAnswerNote = [2]string{
	"the client answered the ping with a pong",
	"the server answered the ping with a pong",
}

// appendEventTime appends t in UTC as timeLayout does (RFC 3339 with nine
// fraction digits), several times faster than Time.AppendFormat, which
// parses the layout on every call; AppendJSON can use it for "t". Years
// outside 0..9999 take the slow path.
func appendEventTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, timeLayout)
	}
	hour, minute, sec := t.Clock()
	ns := t.Nanosecond()
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.')
	var frac [9]byte
	for i := 8; i >= 0; i-- {
		frac[i] = byte('0' + ns%10)
		ns /= 10
	}
	b = append(b, frac[:]...)
	return append(b, 'Z')
}

func appendOpcodeName(b []byte, op uint8) []byte {
	switch op {
	case opContinuation, opText, opBinary, opClose, opPing, opPong:
		return append(b, opcodeName(op)...)
	}
	b = append(b, "reserved-"...)
	return strconv.AppendUint(b, uint64(op), 10)
}

func appendPlural(b []byte, n int64, one, many string) []byte {
	b = strconv.AppendInt(b, n, 10)
	b = append(b, ' ')
	if n == 1 {
		return append(b, one...)
	}
	return append(b, many...)
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
