package analyze

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wsviz/wsviz/analyze/internal/jsonenc"
	"github.com/wsviz/wsviz/analyze/internal/tlsdec"
	"github.com/wsviz/wsviz/capture"
)

// The TLS layer. A connection whose first bytes are a TLS record goes
// through a tlsdec.Conn, which sits between the TCP reassembly (tcp.go) and
// the HTTP and WebSocket decoders (app.go): it takes the bytes of each
// direction and gives them the plaintext of the application data records,
// in order, so that everything decoded over ws:// is decoded over wss://.
// What TLS itself did is reported as tls.* events.

// Event types of the TLS layer.
const (
	// TypeTLSHandshake says what a TLS handshake established: version,
	// cipher suite, server name, application protocol, resumption, and
	// whether keys were found to decrypt the rest.
	TypeTLSHandshake = "tls.handshake"
	// TypeTLSMessage is one TLS handshake message (client_hello,
	// server_hello, finished, ...) or change_cipher_spec.
	TypeTLSMessage = "tls.message"
	// TypeTLSAlert is one TLS alert (close_notify, or an error).
	TypeTLSAlert = "tls.alert"
	// TypeTLSRecord is a TLS record whose content could not be read: no
	// keys, failed authentication, lost in a gap. Its size is what the
	// network saw.
	TypeTLSRecord = "tls.record"
)

// DefaultKeyWait is the Options.KeyWait a live capture that follows a key
// log uses: how many bytes of TLS records a connection holds while their
// keys have not arrived (and at most 4,096 records).
const DefaultKeyWait = tlsdec.DefaultWait

// KeyWaitTime bounds how long, in capture time, a connection holds records
// whose keys have not arrived (Options.KeyWait): endpoints write their key
// log during the handshake, so keys that have not come by then will not.
// Past it the records are shown as records without keys.
const KeyWaitTime = 10 * time.Second

// keyWaitTotal bounds the bytes of records held over all the connections
// of one analyzer: past it the connection that has waited longest gives
// up first.
const keyWaitTotal = 64 << 20

// KeyLog holds TLS secrets in the NSS key log format (what SSLKEYLOGFILE
// names): the analyzer decrypts the TLS sessions whose secrets it holds.
// It is safe for concurrent use; secrets may be added while decoding (a
// live capture follows a growing key log) and each is used from the packet
// it was added at.
type KeyLog = tlsdec.KeyLog

// KeyLogError is the error for a malformed key log line: it names the file
// and the line.
type KeyLogError = tlsdec.KeyLogError

// NewKeyLog returns an empty KeyLog. Fill it with its Parse method (a
// whole key log) or NewParser (one that grows).
func NewKeyLog() *KeyLog { return tlsdec.NewKeyLog() }

// ReadKeyLogFile reads a key log file into a new KeyLog.
func ReadKeyLogFile(path string) (*KeyLog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	defer f.Close()
	k := NewKeyLog()
	if err := k.Parse(f, path, 0); err != nil {
		return nil, err
	}
	return k, nil
}

// UseSecrets makes the TLS secrets src carries (pcapng Decryption Secrets
// Blocks of type TLSK) go into opts.Keys, created if nil, as src reads
// them; each applies from the packet after its block. Decode and
// DecodeJSON call it for a src that carries secrets; call it before
// wrapping such a source in one that does not (a filter). A malformed key
// log in a block stops src with an error naming the block and the line.
func UseSecrets(src capture.SecretsSource, opts *Options) {
	if opts.Keys == nil {
		opts.Keys = NewKeyLog()
	}
	keys := opts.Keys
	src.OnSecrets(func(s *capture.Secrets) error {
		if s.Type != capture.SecretsTLSKeyLog {
			return nil // other protocols' secrets: not wsviz's
		}
		p := keys.NewParser(fmt.Sprintf("in the decryption secrets block at byte offset %d", s.Offset))
		if err := p.Write(s.Data, s.Packet); err != nil {
			return err
		}
		return p.Close(s.Packet)
	})
}

// useSourceSecrets is UseSecrets for a src that carries secrets.
func useSourceSecrets(src capture.Source, opts *Options) {
	if ss, ok := src.(capture.SecretsSource); ok {
		UseSecrets(ss, opts)
	}
}

// tlsState is the analyzer's part of the TLS layer: the connections whose
// records wait for keys, and the key log version they last tried.
type tlsState struct {
	waiting map[*conn]*keyWait
	held    int       // bytes held over the waiting connections
	replay  *keyWait  // the connection whose held records are being decoded
	checked time.Time // capture time of the last look for waits past KeyWaitTime
	version int64
	barrier func(packet int64) // sharded: see pipeline.tlsBarrier
	scratch tlsdec.Scratch     // what this analyzer's connections decrypt into, one after the other
}

// workerProgress is how far a worker of the sharded decoder has got: every
// packet up to done (by number) that belongs to it has been processed.
type workerProgress struct {
	done atomic.Int64
	_    [56]byte // a cache line of its own
}

// tlsBarrier returns the wait of worker w for what other workers learned
// before a packet. A TLS 1.2 connection that resumes a session finds its
// master secret by the session ID or ticket another connection got earlier
// in the capture, which another worker may decode: so that the output is
// the same for any number of workers, it waits until every other worker
// has processed all its packets before this one. No wait can be circular:
// a worker waits only for packets before its own, and reports its own
// progress before it waits: every packet before the one it is processing
// is done (a worker reports it only here and at the end of each batch, so
// a waiting worker may wait for the end of the other's batch; the
// barrier is rare, and a store per packet cost more).
func (p *pipeline) tlsBarrier(w int) func(packet int64) {
	return func(packet int64) {
		p.progress[w].done.Store(p.shards[w].pktNum - 1)
		for v := range p.progress {
			if v == w {
				continue
			}
			for p.progress[v].done.Load() < packet-1 {
				runtime.Gosched()
			}
		}
	}
}

// tlsData feeds in-order bytes of direction d to the connection's TLS
// layer, starting one when these are the connection's first application
// bytes and look like TLS. It reports whether it took them.
func (a *Analyzer) tlsData(c *conn, d int, b []byte, packet int64) bool {
	p := &c.app
	if p.tls == nil {
		if p.phase != phaseHTTP || p.hs != nil || !(tlsdec.LooksLikeTLS(b) || tlsdec.LooksLikeRecord(b) && b[0] != 22) {
			return false
		}
		p.tls = tlsdec.NewConn(tlsdec.Config{Keys: a.opts.Keys, Wait: a.opts.KeyWait, Barrier: a.tls.barrier, Scratch: &a.tls.scratch}, &tlsHandler{a, c})
	}
	p.tls.Write(d, b, packet)
	if a.opts.KeyWait <= 0 {
		return true // nothing is ever held (tlsWaiting)
	}
	a.tlsWaiting(c)
	if w := a.tls.waiting[c]; w != nil && len(w.times) < maxWaitTimes {
		// The time of what it holds, for the events decoded from it later.
		if w.times == nil {
			w.times = make(map[int64]time.Time)
		}
		if _, ok := w.times[packet]; !ok {
			w.times[packet] = a.pktTime
		}
	}
	return true
}

// tlsGap tells the TLS layer about lost bytes; it reports whether there
// is one.
func (a *Analyzer) tlsGap(c *conn, d int, n int64) bool {
	p := &c.app
	if p.tls == nil {
		return false
	}
	p.tlsLost = n
	p.tls.Gap(d, n)
	return true
}

// tlsEnd ends the TLS layer of a connection: held records are given up.
func (a *Analyzer) tlsEnd(c *conn) {
	if t := c.app.tls; t != nil {
		a.tlsReplay(c, t.End)
		a.tlsWaiting(c)
	}
}

// keyWait is a connection whose records wait for keys: since when (capture
// time), how many bytes it holds, and the time of each packet that brought
// them.
type keyWait struct {
	since time.Time
	held  int
	times map[int64]time.Time // by packet number, at most maxWaitTimes

	// closing is how the connection closed while it waited (tlsLinger),
	// by the packet closePkt at closeTime; "" while it is open.
	closing   string
	closePkt  int64
	closeTime time.Time
}

// tlsLinger keeps c open, after its TCP connection closed (how: FIN or
// RST) while its records wait for keys: a short conversation often ends
// before its endpoint's key log is read. It reports whether c lingers;
// then its tcp.close comes when its records are decoded or given up
// (tlsClose), stamped with the packet that closed it. Its later packets are
// not looked at, as those of a closed connection.
func (a *Analyzer) tlsLinger(c *conn, how string) bool {
	if len(a.tls.waiting) == 0 || how != CloseFIN && how != CloseRST {
		return false
	}
	w := a.tls.waiting[c]
	if w == nil || w.closing != "" {
		return false
	}
	w.closing, w.closePkt, w.closeTime = how, a.pktNum, a.pktTime
	return true
}

// lingering reports whether c closed while it waits for keys (tlsLinger).
func (a *Analyzer) lingering(c *conn) bool {
	if len(a.tls.waiting) == 0 {
		return false
	}
	w := a.tls.waiting[c]
	return w != nil && w.closing != ""
}

// tlsClose ends c, which closed while it waited for keys (w, tlsLinger),
// once it no longer waits: as it closed, by the packet that closed it.
func (a *Analyzer) tlsClose(c *conn, w *keyWait) {
	if w == nil || w.closing == "" || a.tls.waiting[c] != nil {
		return
	}
	defer a.stampAt(w.closePkt, w.closeTime)()
	a.finish(c, w.closing)
}

// stampAt makes the events that follow carry packet num and time t, and
// returns what puts the analyzer's own back.
func (a *Analyzer) stampAt(num int64, t time.Time) (restore func()) {
	oldNum, oldTime := a.pktNum, a.pktTime
	a.pktNum, a.pktTime = num, t
	return func() { a.pktNum, a.pktTime = oldNum, oldTime }
}

// maxWaitTimes bounds the packet times a waiting connection keeps; the
// events of records past it are stamped with the time they were decoded.
const maxWaitTimes = 8192

// tlsReplay runs f, which decodes records c held, with the analyzer's
// packet and time set, event by event, to those of the packet each record
// came in (tlsHandler's calls to replayAt): the events are those a decode
// with every key at hand would have made, whenever the keys came.
func (a *Analyzer) tlsReplay(c *conn, f func()) {
	w := a.tls.waiting[c]
	if w == nil {
		f()
		return
	}
	num, t := a.pktNum, a.pktTime
	a.tls.replay = w
	f()
	a.tls.replay = nil
	a.pktNum, a.pktTime = num, t
}

// replayAt sets the packet and time of the events that follow to those of
// packet, while held records are decoded.
func (a *Analyzer) replayAt(packet int64) {
	if w := a.tls.replay; w != nil {
		if t, ok := w.times[packet]; ok {
			a.pktNum, a.pktTime = packet, t
		}
	}
}

// tlsWaiting keeps track of whether c's records wait for keys, and of the
// bytes held: past keyWaitTotal, the connections that have waited longest
// give up.
func (a *Analyzer) tlsWaiting(c *conn) {
	if a.opts.KeyWait <= 0 {
		return
	}
	w := a.tls.waiting[c]
	if c.app.tls.Waiting() {
		if w == nil {
			if a.tls.waiting == nil {
				a.tls.waiting = make(map[*conn]*keyWait)
			}
			w = &keyWait{since: a.pktTime}
			a.tls.waiting[c] = w
		}
		n := c.app.tls.Held()
		a.tls.held += n - w.held
		w.held = n
		for a.tls.held > keyWaitTotal {
			a.tlsGiveUp(a.waitingConns()[0])
		}
	} else if w != nil {
		a.tls.held -= w.held
		delete(a.tls.waiting, c)
	}
}

// waitingConns returns the connections waiting for keys, the longest
// waiting first (by connection number when they started together), so
// that what is given up or retried comes out in the same order every run.
func (a *Analyzer) waitingConns() []*conn {
	list := make([]*conn, 0, len(a.tls.waiting))
	for c := range a.tls.waiting {
		list = append(list, c)
	}
	slices.SortFunc(list, func(x, y *conn) int {
		if c := a.tls.waiting[x].since.Compare(a.tls.waiting[y].since); c != 0 {
			return c
		}
		return x.id - y.id
	})
	return list
}

// tlsGiveUp stops c waiting for keys.
func (a *Analyzer) tlsGiveUp(c *conn) {
	w := a.tls.waiting[c]
	a.tlsReplay(c, c.app.tls.GiveUp)
	a.tlsWaiting(c)
	a.tlsClose(c, w)
}

// tlsRetry lets connections waiting for keys try again when the key log
// grew, and gives up those that waited past KeyWaitTime. It runs before
// every segment; while nothing waits it costs a compare.
func (a *Analyzer) tlsRetry() { a.tlsRetryAt(a.pktTime) }

// tlsRetryAt is tlsRetry at time now: the packet's, or the wall clock of
// an idle live capture (Idle).
func (a *Analyzer) tlsRetryAt(now time.Time) {
	if len(a.tls.waiting) == 0 {
		return
	}
	if v := a.opts.Keys.Version(); v != a.tls.version {
		a.tls.version = v
		for _, c := range a.waitingConns() {
			if c.done || c.app.tls == nil {
				a.tls.held -= a.tls.waiting[c].held
				delete(a.tls.waiting, c)
				continue
			}
			w := a.tls.waiting[c]
			a.tlsReplay(c, c.app.tls.Retry)
			a.tlsWaiting(c)
			a.tlsClose(c, w)
		}
	}
	// Once a second at most (or when the clock went back).
	if d := now.Sub(a.tls.checked); d >= time.Second || d < 0 {
		a.tls.checked = now
		for _, c := range a.waitingConns() {
			if now.Sub(a.tls.waiting[c].since) > KeyWaitTime {
				a.tlsGiveUp(c)
			}
		}
	}
}

// tlsHandler turns one connection's TLS layer into events and plaintext.
type tlsHandler struct {
	a *Analyzer
	c *conn
}

func (h *tlsHandler) Carried(d int, typ uint8, n int, packet int64) {
	p := &h.c.app.carried[d]
	if len(p.Records) < MaxCarried {
		name := "application_data" // nearly every record: no call
		if typ != 23 {
			name = recordTypeName(typ)
		}
		p.Records = append(p.Records, TLSRecord{Type: name, Len: n, Packet: packet})
	} else {
		p.More++
		p.MoreLen += int64(n)
	}
}

// recordTypeName names an outer content type (RFC 8446 §5.1).
func recordTypeName(typ uint8) string {
	switch typ {
	case 20:
		return "change_cipher_spec"
	case 21:
		return "alert"
	case 22:
		return "handshake"
	case 23:
		return "application_data"
	}
	return fmt.Sprintf("unknown_%d", typ)
}

// appendAppDataRecord appends the object appendCarried writes for a
// record of type application_data, {"len":N,"packet":P} (the type left
// out): every message of a wss connection lists one or more, so it is
// written in one piece, numbers of up to eight digits as one word each.
func appendAppDataRecord(b []byte, length int, packet int64) []byte {
	if uint64(length) >= 1e8 || uint64(packet) >= 1e8 {
		b = append(b, `{"len":`...)
		b = jsonenc.AppendInt(b, int64(length))
		b = append(b, `,"packet":`...)
		b = jsonenc.AppendInt(b, packet)
		return append(b, '}')
	}
	// {"len": and ,"packet": are stored as words (what follows overwrites
	// the byte past the first), not copied.
	const head, mid = len(`{"len":`), len(`,"packet":`)
	at := len(b)
	b = slices.Grow(b, head+1+8+mid+8+1)
	o := b[at : at+head+1+8+mid+8+1]
	binary.LittleEndian.PutUint64(o, recordHeadWord)
	w, n := digits8(uint64(length))
	binary.LittleEndian.PutUint64(o[head:], w)
	o = o[head+n:]
	binary.LittleEndian.PutUint64(o, recordMidWord)
	binary.LittleEndian.PutUint16(o[8:], recordMidEnd)
	w, m := digits8(uint64(packet))
	binary.LittleEndian.PutUint64(o[mid:], w)
	o[mid+m] = '}'
	return b[:at+head+n+mid+m+1]
}

// The constant parts of appendAppDataRecord's object as words.
var (
	recordHeadWord = binary.LittleEndian.Uint64([]byte(`{"len": `))
	recordMidWord  = binary.LittleEndian.Uint64([]byte(`,"packet":`))
	recordMidEnd   = binary.LittleEndian.Uint16([]byte(`,"packet":`)[8:])
)

// digits8 returns v < 10^8 in decimal as ASCII in a little-endian word
// (the first digit in the low byte), and its number of digits. It splits v
// in lanes of one word instead of digit by digit: 4+4 digits in 32-bit
// lanes, 2+2 in 16-bit lanes, 1+1 in bytes (x*5243>>19 is x/100 for x <
// 43,699 and x*103>>10 is x/10 for x < 179, so no lane reaches into the
// next); the leading zeros are the low zero bytes, shifted out.
func digits8(v uint64) (uint64, int) {
	x := v/10000 | v%10000<<32
	q := x * 5243 >> 19 & 0x0000007f_0000007f
	x = q | (x-q*100)<<16
	q = x * 103 >> 10 & 0x000f000f_000f000f
	x = q | (x-q*10)<<8
	n := max(8-bits.TrailingZeros64(x)/8, 1) // x is 0 for v = 0
	return (x + 0x30303030_30303030) >> (8 * (8 - n)), n
}

// tlsCarried lists on ev the TLS records of its direction read since the
// last event that listed them, when ev is of a type that reports what
// records carried (see Carried).
func (a *Analyzer) tlsCarried(ev *Event, c *conn) {
	switch ev.Type {
	case TypeHTTPRequest, TypeHTTPResponse, TypeWSMessage, TypeTLSMessage, TypeTLSAlert:
	default:
		return
	}
	d := client
	switch ev.From {
	case FromClient:
	case FromServer:
		d = server
	default:
		return
	}
	p := &c.app.carried[d]
	if len(p.Records) == 0 && p.More == 0 {
		return
	}
	// The event takes the list and the connection the event's emptied
	// one: no record is copied. newEvent empties ev's list before each
	// event, so the memory of both stays reused.
	records := ev.Carried.Records[:0]
	ev.Carried = *p
	*p = Carried{Records: records}
}

func (h *tlsHandler) CarriedData(d int, n int, b []byte, packet int64) {
	c := h.c
	if p := &c.app.carried[d]; len(p.Records) < MaxCarried {
		p.Records = append(p.Records, TLSRecord{Type: "application_data", Len: n, Packet: packet})
	} else {
		p.More++
		p.MoreLen += int64(n)
	}
	h.a.replayAt(packet)
	h.a.plainData(c, d, b, packet)
}

func (h *tlsHandler) Data(d int, b []byte, packet int64) {
	h.a.replayAt(packet)
	h.a.plainData(h.c, d, b, packet)
}

func (h *tlsHandler) Lost(d int, n int64, packet int64) {
	h.a.replayAt(packet)
	if n < 0 {
		// The plaintext's size is unknown: at most the bytes TCP lost.
		n = max(h.c.app.tlsLost, 1)
	}
	h.a.plainGap(h.c, d, n)
}

func (h *tlsHandler) Handshake(i *tlsdec.Info, d int, packet int64) {
	h.a.replayAt(packet)
	a, c := h.a, h.c
	ev := a.newEvent(TypeTLSHandshake, c, "")
	ev.Packet = packet
	ev.TLS = TLS{SNI: i.SNI, ALPN: i.ALPN, ALPNOffered: i.ALPNOffered, Resumed: i.Resumed, ResumedBy: i.ResumedBy,
		HelloRetry: i.HelloRetry, EarlyData: i.EarlyData, Keys: i.Keys}
	if i.Version != 0 {
		ev.TLS.Version, ev.TLS.CipherSuite = tlsdec.VersionName(i.Version), tlsdec.SuiteName(i.Suite)
	}
	var b strings.Builder
	switch {
	case i.Version != 0:
		fmt.Fprintf(&b, "TLS handshake: %s with %s", tlsdec.VersionName(i.Version), tlsdec.SuiteName(i.Suite))
	case i.ClientHello:
		b.WriteString("TLS handshake: the server's answer is not in the capture")
	default:
		b.WriteString("TLS: the connection carries TLS records, but its handshake is not in the capture")
	}
	if i.SNI != "" {
		fmt.Fprintf(&b, ", server name %s", i.SNI)
	}
	switch {
	case i.ALPN != "":
		fmt.Fprintf(&b, ", application protocol %s", i.ALPN)
	case len(i.ALPNOffered) > 0:
		fmt.Fprintf(&b, ", the client offered %s", strings.Join(i.ALPNOffered, ", "))
	}
	if i.Resumed {
		fmt.Fprintf(&b, ", resuming an earlier session (%s)", strings.ReplaceAll(i.ResumedBy, "_", " "))
	}
	if i.HelloRetry {
		b.WriteString(", after a HelloRetryRequest")
	}
	if i.EarlyData != "" {
		fmt.Fprintf(&b, ", 0-RTT data %s", i.EarlyData)
	}
	if i.Keys {
		b.WriteString("; keys found in the key log: the records are decrypted and what they carry is shown")
	} else {
		b.WriteString("; no keys: the records stay encrypted and only their sizes and timing are shown")
	}
	if i.ALPN == "h2" && i.Keys {
		b.WriteString("; it speaks HTTP/2 (ALPN h2): its streams are decoded, and WebSockets on them (RFC 8441)")
	}
	ev.Note = b.String()
	addProblems(ev, i.Problems)
	a.send(ev)
	if i.ALPN == "h2" && i.Keys && c.app.h2 == nil {
		a.startH2(c) // RFC 9113 §3.2: h2 is HTTP/2 over TLS
	}
}

func (h *tlsHandler) Message(m *tlsdec.Message) {
	h.a.replayAt(m.Packet)
	a, c := h.a, h.c
	ev := a.newEvent(TypeTLSMessage, c, fromName[m.Dir])
	ev.Packet = m.Packet
	ev.TLS = TLS{Message: m.Type, Encrypted: m.Encrypted}
	// What a hello says, on the message that says it.
	i := c.app.tls.Info()
	switch m.Type {
	case "client_hello":
		if len(m.Problems) == 0 {
			ev.TLS.SNI, ev.TLS.ALPNOffered = i.SNI, i.ALPNOffered
		}
	case "server_hello":
		if i.Version != 0 && len(m.Problems) == 0 {
			ev.TLS.Version, ev.TLS.CipherSuite, ev.TLS.ALPN = tlsdec.VersionName(i.Version), tlsdec.SuiteName(i.Suite), i.ALPN
		}
	case "encrypted_extensions":
		ev.TLS.ALPN = i.ALPN
	}
	ev.Note = m.Note
	if ev.Note == "" {
		ev.Note = fmt.Sprintf("the %s sent a TLS %s message (%s)", fromName[m.Dir], m.Type, plural(int64(m.Len), "byte", "bytes"))
	}
	if m.Encrypted {
		ev.Note += " [travelled encrypted]"
	}
	ev.Note = m.Type + ": " + ev.Note
	addProblems(ev, m.Problems)
	a.send(ev)
}

func (h *tlsHandler) Alert(al *tlsdec.Alert) {
	h.a.replayAt(al.Packet)
	a, c := h.a, h.c
	ev := a.newEvent(TypeTLSAlert, c, fromName[al.Dir])
	ev.Packet = al.Packet
	level := "warning"
	if al.Level == 2 {
		level = "fatal"
	}
	name := tlsdec.AlertName(al.Description)
	ev.TLS = TLS{Alert: name, Level: level, Encrypted: al.Encrypted}
	if al.Description == 0 {
		ev.Note = fmt.Sprintf("the %s closes the TLS connection (close_notify alert): it will send nothing more", fromName[al.Dir])
	} else {
		ev.Note = fmt.Sprintf("the %s sent a %s TLS alert: %s", fromName[al.Dir], level, name)
	}
	if al.Encrypted {
		ev.Note += " [travelled encrypted]"
	}
	a.send(ev)
}

func (h *tlsHandler) Record(r *tlsdec.Record) {
	h.a.replayAt(r.Packet)
	a, c := h.a, h.c
	ev := a.newEvent(TypeTLSRecord, c, fromName[r.Dir])
	ev.Packet = r.Packet
	what := recordTypeName(r.Type)
	ev.TLS = TLS{RecordType: what, RecordLen: r.Len}
	if r.Len > 0 {
		ev.Note = fmt.Sprintf("the %s sent an encrypted TLS record of %s (%s outside)", fromName[r.Dir], plural(int64(r.Len), "byte", "bytes"), what)
	} else {
		ev.Note = fmt.Sprintf("the %s's TLS records cannot be followed", fromName[r.Dir])
	}
	switch r.Code {
	case tlsdec.CodeNoKeys, tlsdec.CodeHandshakeMissing:
		// The tls.handshake event carries the warning, once.
		ev.Note += ": no keys, so its content is unknown"
	case "":
	default:
		ev.Note += ": " + r.Msg
		ev.Warn(r.Code, r.Msg)
	}
	a.send(ev)
}
