package analyze

import (
	"encoding/binary"
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
	// Keys holds the TLS secrets (a key log) used to decrypt TLS
	// connections; nil means none. Decode adds to it (creating it if nil)
	// the secrets a pcapng source carries. See tls.go.
	Keys *KeyLog
	// KeyWait, when positive, is how many bytes of TLS records a
	// connection holds while the keys they need are not in Keys yet: a
	// live capture follows a key log that its endpoints write a moment
	// after the handshake. 0 decodes every record as soon as it arrives.
	KeyWait int
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

	tls tlsState // connections waiting for TLS keys (tls.go)

	ev       Event  // reused for every emitted event
	note     []byte // reused by the note builders
	jsonOnly bool   // events only reach AppendJSON: see setNote
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
	useSourceSecrets(src, &opts)
	if opts.workers() > 1 {
		return decodeSharded(src, opts, sink{emit: emit})
	}
	return decodeSerial(src, opts, emit, false)
}

// decodeSerial is Decode on the caller's goroutine alone. jsonOnly says
// emit does nothing with an event but AppendJSON (see Analyzer.setNote).
func decodeSerial(src capture.Source, opts Options, emit func(*Event) error, jsonOnly bool) error {
	var emitErr error
	a := New(opts, func(ev *Event) {
		if emitErr == nil {
			emitErr = emit(ev)
		}
	})
	a.jsonOnly = jsonOnly
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
	useSourceSecrets(src, &opts)
	if opts.workers() > 1 {
		return decodeSharded(src, opts, sink{json: true, w: w})
	}
	var buf []byte
	var werr error // from w: nothing more is written
	var times timeCache
	err := decodeSerial(src, opts, func(ev *Event) error {
		buf = ev.appendJSON(buf, &times)
		buf = append(buf, '\n')
		if len(buf) >= jsonWriteSize {
			_, werr = w.Write(buf)
			buf = buf[:0]
		}
		return werr
	}, true)
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
	return Decode(f, opts, emit) // Decode reads the file's TLS secrets too

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
	ev.Note, ev.noteBytes = "", nil
	ev.Warnings = ev.Warnings[:0]
	return ev
}

func (a *Analyzer) send(ev *Event) {
	a.emit(ev)
}

// The note builders below write into the Analyzer's reused buffer with
// append and strconv instead of fmt, and setNote makes the note's string
// from it: one allocation per note instead of about eight, and none for an
// Analyzer that only feeds AppendJSON. They give exactly the text of the
// fmt-built notes in app.go (TestNoteBuilders), which can call them in the
// per-frame and per-message hot path, except that frameNote prints lengths
// of 2^63 and more as the unsigned numbers they are.

// setNote sets ev's note to b, which a note builder returned. An Analyzer
// whose events only ever reach AppendJSON (DecodeJSON's) keeps the bytes
// in ev.noteBytes instead of making a string of them: they are read before
// the next note is built. The builders write nothing a JSON string must
// escape, so AppendJSON copies noteBytes as they are.
func (a *Analyzer) setNote(ev *Event, b []byte) {
	if a.jsonOnly {
		ev.noteBytes = b
		return
	}
	ev.Note = string(b)
}

// frameNote builds the note of a ws.frame event of direction d.
func (a *Analyzer) frameNote(d int, f *wsproto.Frame) []byte {
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
	b = appendUint(b, f.Len)
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
	return b
}

// dataMessageNote builds the note of a text or binary ws.message event of
// direction d, "; payload shown in part" included when it was truncated.
func (a *Analyzer) dataMessageNote(d int, m *wsproto.Message) []byte {
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
		b = appendInt64(b, int64(m.Frames))
		b = append(b, " fragments"...)
	}
	if d == server {
		b = append(b, " without being asked: WebSocket has no request and response"...)
	}
	if m.Truncated {
		b = append(b, "; payload shown in part"...)
	}
	a.note = b
	return b
}

// pingNote builds the note of a ping ws.message event of direction d,
// "; payload shown in part" included when it was truncated.
func (a *Analyzer) pingNote(d int, m *wsproto.Message) []byte {
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
	return b
}

// pongAnswerNote is the note of a pong answering a ping, by direction:
// constant strings, no allocation.
var pongAnswerNote = [2]string{
	"the client answered the ping with a pong",
	"the server answered the ping with a pong",
}

// appendEventTime appends t in UTC as timeLayout does (RFC 3339 with nine
// fraction digits), several times faster than Time.AppendFormat, which
// parses the layout and splits the time on every call: AppendJSON's "t" is
// in the per-event hot path. Times before 1970 or after 9999 take the slow
// path. With a cache, the date and time of day are formatted once per
// second: the events of a capture come in time order, several a second.
func appendEventTime(b []byte, t time.Time, cache *timeCache) []byte {
	const maxUnix = 253402300800 // 10000-01-01T00:00:00Z
	sec := t.Unix()
	if sec < 0 || sec >= maxUnix {
		return t.UTC().AppendFormat(b, timeLayout)
	}
	ns := t.Nanosecond()
	var d [30]byte // 2006-01-02T15:04:05.000000000Z
	if cache != nil && cache.valid && cache.sec == sec {
		copy(d[:20], cache.prefix[:])
	} else {
		year, month, day := civilDate(sec / 86400)
		daySec := int(sec % 86400)
		put2(&d, 0, year/100)
		put2(&d, 2, year%100)
		d[4] = '-'
		put2(&d, 5, month)
		d[7] = '-'
		put2(&d, 8, day)
		d[10] = 'T'
		put2(&d, 11, daySec/3600)
		d[13] = ':'
		put2(&d, 14, daySec/60%60)
		d[16] = ':'
		put2(&d, 17, daySec%60)
		d[19] = '.'
		if cache != nil {
			cache.sec, cache.valid = sec, true
			copy(cache.prefix[:], d[:20])
		}
	}
	d[20] = byte('0' + ns/1e8)
	put2(&d, 21, ns/1e6%100)
	put2(&d, 23, ns/1e4%100)
	put2(&d, 25, ns/100%100)
	put2(&d, 27, ns%100)
	d[29] = 'Z'
	return append(b, d[:]...)
}

// timeCache is appendEventTime's memory of the last second it formatted.
type timeCache struct {
	sec    int64
	valid  bool
	prefix [20]byte // 2006-01-02T15:04:05.
}

// put2 writes v, 0..99, as two digits at d[i:i+2].
func put2(d *[30]byte, i, v int) {
	d[i], d[i+1] = twoDigits[2*v], twoDigits[2*v+1]
}

// twoDigits holds "00" to "99".
const twoDigits = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// civilDate returns the proleptic Gregorian date of a day counted from
// 1970-01-01 (day ≥ 0), by Howard Hinnant's days_from_civil inverse
// (eras of 400 years, years starting in March).
func civilDate(day int64) (year, month, dayOfMonth int) {
	z := uint64(day) + 719468 // days since 0000-03-01
	era := z / 146097
	doe := z - era*146097                                  // day of era, 0..146096
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // year of era, 0..399
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // day of year from March 1, 0..365
	mp := (5*doy + 2) / 153                                // month from March, 0..11
	dayOfMonth = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if mp >= 10 {
		month = int(mp - 9)
	}
	year = int(yoe + era*400)
	if month <= 2 {
		year++
	}
	return year, month, dayOfMonth
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
	b = appendInt64(b, n)
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
