package tlsdec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

// Directions, as Conn's methods and the Handler's callbacks number them.
const (
	Client = 0
	Server = 1
)

var dirName = [2]string{"client", "server"}

// Bounds.
const (
	// MaxHandshakeMessage is the largest handshake message kept whole to
	// be parsed (hellos, encrypted extensions, tickets, key updates, a
	// few KiB in practice); longer ones, and every message wsviz only
	// names (certificates), are counted as they pass, never buffered.
	MaxHandshakeMessage = 64 << 10
	// DefaultWait is how many bytes of records a connection holds, when
	// Config.Wait asks for it, while the keys they need have not arrived.
	DefaultWait = 1 << 20
	// maxHeld bounds the records a connection holds while waiting for
	// keys, whatever their size: Config.Wait bounds their bytes, this
	// their number (a flood of 6-byte records costs its bookkeeping).
	maxHeld = 4096
	// maxEarlyHeld bounds the 0-RTT plaintext held until the server's
	// answer says whether it was accepted (RFC 8446 §4.2.10).
	maxEarlyHeld = 1 << 20
	// maxResync bounds the bytes searched for a record boundary after a
	// gap before the rest of the direction is given up.
	maxResync = 256 << 10
	// maxSeqSkip bounds the sequence numbers tried for the first record
	// after a gap (each lost record took one).
	maxSeqSkip = 256
	// maxTrial bounds the bytes decrypted while trying candidate records
	// after one gap: hostile bytes full of plausible headers cannot make a
	// direction cost more.
	maxTrial = 16 << 20
)

// Codes of the problems a Conn reports, documented in analyze's registry.
const (
	CodeNoKeys           = "tls.no_keys"
	CodeHandshakeMissing = "tls.handshake_missing"
	CodeBadRecordMAC     = "tls.bad_record_mac"
	CodeGap              = "tls.gap_undecryptable"
	CodeMalformed        = "tls.malformed"
	CodeUnsupported      = "tls.unsupported"
	CodeEarlyDataSkipped = "tls.early_data_skipped"
)

// Info is what the handshake established, as far as the capture shows.
type Info struct {
	Version     uint16   // negotiated; 0 when unknown
	Suite       uint16   // negotiated; 0 when unknown
	SNI         string   // the server name the client asked for (RFC 6066 §3)
	ALPN        string   // the protocol the server selected (RFC 7301), "" for none or unknown
	ALPNOffered []string // the protocols the client offered
	Resumed     bool     // an earlier session was resumed
	ResumedBy   string   // "psk" (TLS 1.3), "session_id" or "ticket" (TLS 1.2)
	HelloRetry  bool     // the server sent a HelloRetryRequest (RFC 8446 §4.1.4)
	EarlyData   string   // "" (not offered), "accepted", "rejected", "offered" (answer not seen)
	EMS         bool     // extended master secret (RFC 7627)
	ETM         bool     // encrypt-then-MAC (RFC 7366)
	Keys        bool     // secrets for this session were found and work
	ClientHello bool     // the ClientHello was captured
	ServerHello bool     // the ServerHello was captured
	Problems    []Problem
}

// Problem is a protocol violation or a reason something could not be
// decrypted: a code of the registry and a message citing the RFC.
type Problem struct{ Code, Msg string }

// Message is one handshake message, or a change_cipher_spec.
type Message struct {
	Dir       int
	Packet    int64  // the packet carrying its last byte
	Type      string // HandshakeTypeName, or "change_cipher_spec"
	Len       int    // body length
	Encrypted bool   // it travelled inside protected records
	Note      string // what it says, in plain words
	Problems  []Problem
}

// Alert is one alert (RFC 8446 §6).
type Alert struct {
	Dir         int
	Packet      int64
	Level       uint8 // 1 warning, 2 fatal
	Description uint8
	Encrypted   bool
}

// Record is a record whose content could not be read: no keys, failed
// authentication, or lost in a gap.
type Record struct {
	Dir    int
	Packet int64
	Type   uint8 // outer content type
	Len    int   // bytes on the wire, header included
	Problem
}

// Handler receives what a Conn decodes, in stream order. Pointers and
// slices are valid until the call returns.
type Handler interface {
	// Handshake is called once, when what the handshake established is
	// known, or as much as the capture will show of it.
	Handshake(info *Info, dir int, packet int64)
	// Message reports a handshake message or change_cipher_spec.
	Message(m *Message)
	// Alert reports an alert.
	Alert(a *Alert)
	// Record reports a record that could not be read.
	Record(r *Record)
	// Carried reports a record whose content is read, in clear or
	// decrypted, before what it carried is reported: its outer content
	// type and its size on the wire, header included. With the Record
	// calls it accounts for every record, which is what the network saw.
	Carried(dir int, typ uint8, length int, packet int64)
	// Data delivers the plaintext of application data, in order.
	Data(dir int, b []byte, packet int64)
	// CarriedData is Carried(dir, application_data, length, packet) then
	// Data(dir, b, packet) in one call: what nearly every record of a
	// connection makes.
	CarriedData(dir int, length int, b []byte, packet int64)
	// Lost reports application bytes of dir that cannot be known: n
	// bytes, or -1 when their number is unknown too.
	Lost(dir int, n int64, packet int64)
}

// Config configures a Conn.
type Config struct {
	// Keys is the key log; nil means none.
	Keys *KeyLog
	// Wait, when positive, is how many bytes of records the connection
	// holds while the keys they need are not in Keys, looking again as
	// Keys grows (Retry); past it, or at End, they are given up.
	Wait int
	// Barrier, when set, is called before a TLS 1.2 connection looks for
	// the session it resumes among those other connections remembered in
	// Keys: it returns once every connection's packets before packet were
	// decoded, wherever they are decoded.
	Barrier func(packet int64)
	// Scratch, when set, is the decryption buffer the Conn shares with
	// others of the same goroutine; nil gives the Conn its own.
	Scratch *Scratch
}

// 1.3 read stages of a direction.
const (
	stageEarly     = iota // client: 0-RTT data under client_early_traffic_secret
	stageHandshake        // handshake traffic secrets
	stageApp              // application traffic secrets
)

// Conn decodes the TLS records of one TCP connection, both directions.
type Conn struct {
	cfg Config
	h   Handler

	half [2]half
	ch   *ClientHello
	sh   *ServerHello
	info Info

	reported  bool
	tls13     bool
	suite     *suite
	fullHS    bool // TLS 1.2: the server sent a certificate or key exchange
	secrets   Secrets
	lookedAt  int64 // KeyLog.Version at the last lookup, -1 before any
	keysOK    bool  // a record decrypted
	keysBad   bool  // a record failed to decrypt with keys from the log
	earlyHeld []queued
	earlyN    int
	early     int // 0 undecided, 1 accepted, 2 rejected

	queue  []queued // records held until keys arrive (Config.Wait)
	queueN int
	noWait bool // the queue was given up once: hold nothing again

	packet int64  // the packet being processed
	plain  []byte // decryption scratch (Config.Scratch's), reused record after record

	// general, set by tests, sends every record through the general path
	// (no openSteady), to compare what the two report.
	general bool
}

// Scratch is the memory records are decrypted into. Conns that are never
// used at the same time (those of one analyzer) can share one, so that a
// capture of many TLS connections holds one record's worth, not one per
// connection.
type Scratch struct{ b []byte }

// scratch makes c.plain hold at least n bytes.
func (c *Conn) scratch(n int) {
	if cap(c.plain) >= n {
		return
	}
	s := c.cfg.Scratch
	if s == nil {
		s = &Scratch{}
		c.cfg.Scratch = s
	}
	if cap(s.b) < n {
		s.b = make([]byte, 0, max(n, maxCiphertext))
	}
	c.plain = s.b[:0]
}

// queued is a record (or early data) held back, with its packet.
type queued struct {
	dir    int
	b      []byte
	packet int64
}

// half is the state of one direction.
type half struct {
	rec      []byte // a record not yet complete, header first
	skip     int    // bytes still to skip of a record lost in a gap
	lostSync bool   // a gap took record boundaries: searching for one
	scan     []byte // lostSync: bytes being searched
	scanned  int
	lostMax  int // lostSync: the most records the gaps can have taken
	trial    int // lostSync: bytes decrypted trying candidates
	dead     bool

	cur, next *protection
	ccs       bool // TLS 1.2: ChangeCipherSpec seen, records are protected
	stage     int

	hsHdr   [4]byte
	hsHdrN  int
	hsType  uint8
	hsLen   int
	hsHave  int
	hsKeep  bool
	hs      []byte
	started bool

	records int64
	bytes   int64
}

// NewConn returns a Conn that reports to h.
func NewConn(cfg Config, h Handler) *Conn {
	c := &Conn{cfg: cfg, h: h, lookedAt: -1}
	c.half[Server].stage = stageHandshake
	c.half[Client].stage = stageHandshake
	return c
}

// LooksLikeTLS reports whether b, the first bytes a client sent, start a
// TLS handshake record holding a ClientHello (RFC 8446 §5.1, §4.1.2).
func LooksLikeTLS(b []byte) bool {
	if len(b) < 6 {
		return len(b) >= 1 && b[0] == typeHandshake && (len(b) < 2 || b[1] == 3)
	}
	return b[0] == typeHandshake && b[1] == 3 && b[2] <= 4 && b[5] == hsClientHello
}

// LooksLikeRecord reports whether b starts with a plausible TLS record
// header: what a connection caught in the middle carries.
func LooksLikeRecord(b []byte) bool {
	return len(b) >= recordHeaderLen && plausibleHeader(b)
}

func plausibleHeader(b []byte) bool {
	return b[0] >= typeChangeCipherSpec && b[0] <= typeApplicationData && b[1] == 3 && b[2] <= 4 &&
		int(binary.BigEndian.Uint16(b[3:])) <= maxCiphertext && binary.BigEndian.Uint16(b[3:]) > 0
}

// Records returns the number of records and their bytes (headers
// included) seen in direction d.
func (c *Conn) Records(d int) (n, bytes int64) { return c.half[d].records, c.half[d].bytes }

// Info returns what the handshake established so far.
func (c *Conn) Info() *Info { return &c.info }

// Waiting reports whether records are held until keys arrive.
func (c *Conn) Waiting() bool { return len(c.queue) > 0 }

// Write decodes in-order bytes of direction d; packet carried them.
func (c *Conn) Write(d int, b []byte, packet int64) {
	h := &c.half[d]
	c.packet = packet
	for len(b) > 0 && !h.dead {
		switch {
		case h.skip > 0:
			n := min(h.skip, len(b))
			h.skip -= n
			b = b[n:]
		case h.lostSync:
			b = c.resync(d, b)
		case len(h.rec) == 0 && len(b) >= recordHeaderLen:
			if n := c.steady(d, b, packet); n > 0 {
				b = b[n:]
				continue
			}
			// A whole record in b is decrypted from where it lies.
			if !c.checkHeader(d, b) {
				return
			}
			n := recordHeaderLen + int(binary.BigEndian.Uint16(b[3:]))
			if len(b) < n {
				h.rec = append(h.rec, b...)
				return
			}
			c.record(d, b[:recordHeaderLen], b[recordHeaderLen:n], false)
			b = b[n:]
		default:
			if len(h.rec) < recordHeaderLen {
				n := min(recordHeaderLen-len(h.rec), len(b))
				h.rec = append(h.rec, b[:n]...)
				b = b[n:]
				if len(h.rec) < recordHeaderLen {
					return
				}
				if !c.checkHeader(d, h.rec) {
					h.rec = h.rec[:0]
					return
				}
			}
			total := recordHeaderLen + int(binary.BigEndian.Uint16(h.rec[3:]))
			n := min(total-len(h.rec), len(b))
			h.rec = append(h.rec, b[:n]...)
			b = b[n:]
			if len(h.rec) == total {
				if h.rec[0] != typeApplicationData || !c.openSteady(d, h.rec, packet) {
					c.record(d, h.rec[:recordHeaderLen], h.rec[recordHeaderLen:], true)
				}
				h.rec = h.rec[:0]
			}
		}
	}
}

// steady decodes the whole application data records at the start of b
// while direction d is in its steady state (see openSteady), and returns
// the bytes it took.
func (c *Conn) steady(d int, b []byte, packet int64) int {
	n := 0
	for len(b)-n >= recordHeaderLen {
		r := b[n:]
		// RFC 8446 §5.1, §5.2: as plausibleHeader, for application data.
		length := int(r[3])<<8 | int(r[4])
		total := recordHeaderLen + length
		if r[0] != typeApplicationData || r[1] != 3 || r[2] > 4 || length == 0 || length > maxCiphertext || len(r) < total ||
			!c.openSteady(d, r[:total], packet) {
			break
		}
		n += total
	}
	return n
}

// openSteady decodes rec, a whole application data record of direction d
// with a plausible header, when d is in its steady state: keys in use,
// nothing held, the handshake reported, no 0-RTT to settle, the key log
// not grown since the keys were looked up. That is nearly every record of
// a connection: it is opened from where it lies into the scratch buffer
// and its plaintext handed on, without the checks and calls of the
// general path (record, process, decrypt, content), which this state makes
// moot. It reports false, having done nothing, for anything else, and for
// a record that fails authentication: the general path then handles it as
// it always did (opening it again, to fail the same way, since it is never
// decrypted in place).
func (c *Conn) openSteady(d int, rec []byte, packet int64) bool {
	h := &c.half[d]
	p := h.cur
	if p == nil || c.sh == nil || c.ch == nil || h.stage == stageEarly || !c.reported || len(c.queue) > 0 || c.general {
		return false
	}
	if c.cfg.Keys != nil && c.cfg.Keys.Version() != c.lookedAt {
		return false // the key log grew: process looks the keys up again
	}
	if cap(c.plain) < len(rec) {
		c.scratch(len(rec))
	}
	var plain []byte
	var inner uint8
	if p.tls13 {
		// protection.open's TLS 1.3 case, in line: RFC 8446 §5.3 nonce,
		// §5.2 the header as additional data, §5.4 padding.
		p.makeNonce(p.seq)
		out, err := p.aead.Open(c.plain[:0], p.nonce[:], rec[recordHeaderLen:], rec[:recordHeaderLen])
		if err != nil {
			return false
		}
		i := len(out) - 1
		for i >= 0 && out[i] == 0 {
			i--
		}
		if i < 0 {
			return false // all padding: the general path reports it
		}
		plain, inner = out[:i], out[i]
	} else {
		var err error
		if plain, inner, err = p.open(c.plain, rec[:recordHeaderLen], rec[recordHeaderLen:], p.seq, false); err != nil {
			return false
		}
	}
	p.seq++
	c.keysOK = true
	c.packet = packet
	h.records++
	h.bytes += int64(len(rec))
	if inner == typeApplicationData {
		c.h.CarriedData(d, len(rec), plain, packet)
	} else {
		c.h.Carried(d, typeApplicationData, len(rec), packet)
		c.content(d, inner, plain, true)
	}
	return true
}

// checkHeader checks a record header (RFC 8446 §5.1, §5.2); a bad one
// loses the direction's record boundaries.
func (c *Conn) checkHeader(d int, hdr []byte) bool {
	if plausibleHeader(hdr) {
		return true
	}
	h := &c.half[d]
	msg := fmt.Sprintf("the %s's bytes are not a TLS record (type %d, version %#02x%02x, length %d); RFC 8446 §5.1",
		dirName[d], hdr[0], hdr[1], hdr[2], binary.BigEndian.Uint16(hdr[3:]))
	if binary.BigEndian.Uint16(hdr[3:]) > maxCiphertext && hdr[1] == 3 {
		msg = fmt.Sprintf("a %s record of %d bytes is longer than any TLS record may be (2^14+2048; RFC 5246 §6.2.3, RFC 8446 §5.2)",
			dirName[d], binary.BigEndian.Uint16(hdr[3:]))
	}
	c.h.Record(&Record{Dir: d, Packet: c.packet, Type: hdr[0], Len: recordHeaderLen, Problem: Problem{CodeMalformed, msg}})
	h.lostSync, h.scanned, h.lostMax = true, 0, 0
	c.h.Lost(d, -1, c.packet)
	return false
}

// record handles one complete record. hdr and body may alias the caller's
// buffer: what is kept is copied. owned says body is the Conn's own
// memory, which may be decrypted in place.
func (c *Conn) record(d int, hdr, body []byte, owned bool) {
	h := &c.half[d]
	h.records++
	h.bytes += int64(recordHeaderLen + len(body))
	if len(c.queue) > 0 {
		c.hold(d, hdr, body)
		return
	}
	c.process(d, hdr, body, c.packet, false, owned)
}

// hold queues a record until keys arrive; past Config.Wait the queue is
// given up.
func (c *Conn) hold(d int, hdr, body []byte) {
	b := make([]byte, 0, len(hdr)+len(body))
	b = append(append(b, hdr...), body...)
	c.queue = append(c.queue, queued{d, b, c.packet})
	c.queueN += len(b)
	if c.queueN > c.cfg.Wait || len(c.queue) > maxHeld {
		c.flushQueue(true)
	}
}

// Held returns the bytes of the records held until their keys arrive.
func (c *Conn) Held() int { return c.queueN }

// Retry looks for the keys held records wait for again (after the key log
// grew) and decodes what they unlock.
func (c *Conn) Retry() {
	if len(c.queue) > 0 {
		c.flushQueue(false)
	}
}

// GiveUp stops waiting for keys (they took too long, or the analyzer holds
// too much): the held records are decoded with the keys the log has now,
// or reported as records without keys, and nothing is held again.
func (c *Conn) GiveUp() {
	if len(c.queue) > 0 {
		c.lookedAt = -1
		c.flushQueue(true)
	}
	c.noWait = true
}

// flushQueue decodes held records in order; unless final, it stops at the
// first one whose keys are still missing.
func (c *Conn) flushQueue(final bool) {
	if final {
		c.noWait = true
	}
	q := c.queue
	c.queue, c.queueN = nil, 0
	for i, r := range q {
		d := r.dir
		if c.process(d, r.b[:recordHeaderLen], r.b[recordHeaderLen:], r.packet, !final, true) {
			// Still waiting: keep this one and the rest.
			c.queue = q[i:]
			for _, r := range c.queue {
				c.queueN += len(r.b)
			}
			return
		}
	}
}

// protected reports whether a record of type typ from d is protected.
func (c *Conn) protected(d int, typ uint8) bool {
	h := &c.half[d]
	if h.ccs {
		return true // TLS 1.2 after ChangeCipherSpec (RFC 5246 §7.1)
	}
	if typ != typeApplicationData {
		return false
	}
	// RFC 8446 §5.2: every protected TLS 1.3 record is application_data
	// outside; before ChangeCipherSpec, application data in TLS 1.2 is a
	// violation, and is not readable either.
	return true
}

// process decodes one record; with wait set it reports true, and does
// nothing, when the record needs keys that may still arrive. With owned
// set, body is decrypted in place (it is the Conn's memory and is not
// needed after).
func (c *Conn) process(d int, hdr, body []byte, packet int64, wait, owned bool) bool {
	h := &c.half[d]
	c.packet = packet
	typ := hdr[0]
	wire := recordHeaderLen + len(body)
	if typ == typeChangeCipherSpec && !h.ccs {
		c.h.Carried(d, typ, wire, packet)
		c.changeCipherSpec(d, body)
		return false
	}
	if !c.protected(d, typ) {
		c.h.Carried(d, typ, wire, packet)
		c.content(d, typ, body, false)
		return false
	}
	if c.ch == nil {
		c.reportMissing(d)
		c.opaque(d, hdr, body, Problem{CodeHandshakeMissing, "the handshake of this connection is not in the capture: without its client random no key in the key log can be matched (RFC 9850 §2)"})
		return false
	}
	if c.cfg.Keys != nil && c.cfg.Keys.Version() != c.lookedAt {
		c.lookup() // the key log grew (or was never looked at)
	}
	plain, inner, status := c.decrypt(d, hdr, body, owned)
	switch status {
	case decOK:
		c.h.Carried(d, typ, wire, packet)
		c.content(d, inner, plain, true)
	case decNoKeys:
		if wait || (c.cfg.Wait > 0 && c.queue == nil && !c.noWait) {
			if !wait {
				// First record without keys: start holding.
				c.hold(d, hdr, body)
				return false
			}
			return true
		}
		c.noKeys(d, hdr, body)
	case decBad:
		c.keysBad = true
		c.opaque(d, hdr, body, Problem{CodeBadRecordMAC, fmt.Sprintf("the %s's record failed authentication with the keys from the key log: a wrong key, or bytes changed on the way (RFC 8446 §5.2, RFC 5246 §6.2.3)", dirName[d])})
	case decSkipped:
		c.opaque(d, hdr, body, Problem{CodeEarlyDataSkipped, "0-RTT data the server did not accept, or whose key (CLIENT_EARLY_TRAFFIC_SECRET) is not in the key log: skipped as the server skips it (RFC 8446 §4.2.10)"})
	}
	return false
}

// noKeys reports a record that cannot be decrypted for want of keys.
func (c *Conn) noKeys(d int, hdr, body []byte) {
	if !c.reported {
		c.report(d) // as much as is known: the records that follow stay opaque
	}
	var p Problem
	if c.suite == nil && c.sh != nil {
		p = Problem{CodeUnsupported, fmt.Sprintf("records of %s with %s cannot be decrypted by wsviz", VersionName(c.info.Version), SuiteName(c.info.Suite))}
	} else {
		p = Problem{CodeNoKeys, "no keys for this session in the key log: the record's content is unknown"}
	}
	c.opaque(d, hdr, body, p)
}

// opaque reports a record that could not be read; application data it
// carried is lost to the layers above.
func (c *Conn) opaque(d int, hdr, body []byte, p Problem) {
	c.h.Record(&Record{Dir: d, Packet: c.packet, Type: hdr[0], Len: recordHeaderLen + len(body), Problem: p})
}

// Results of decrypt.
const (
	decOK      = iota
	decNoKeys  // the keys needed are not in the key log (yet)
	decBad     // authentication failed
	decSkipped // rejected or unreadable 0-RTT data, skipped
)

// decrypt opens a protected record of direction d with the keys of its
// stage, trying the next stage where the protocol allows either. With
// inPlace set, a record opened with the direction's current keys is
// decrypted into body itself; trials (0-RTT, its rejection) never are,
// since a failed one must leave the record as it was.
func (c *Conn) decrypt(d int, hdr, body []byte, inPlace bool) ([]byte, uint8, int) {
	h := &c.half[d]
	c.scratch(len(body))
	if !c.tls13 && c.sh == nil && d == Client && c.ch != nil && c.ch.EarlyData {
		// 0-RTT before the ServerHello: the suite is the PSK's, unknown
		// yet; the secret's length says its hash.
		return c.decryptEarly(hdr, body)
	}
	if c.tls13 && d == Client && h.stage == stageEarly {
		if plain, inner, st := c.decryptEarly(hdr, body); st == decOK {
			return plain, inner, st
		}
		// RFC 8446 §4.2.10: a server that rejects 0-RTT skips records
		// until one decrypts with the handshake keys.
		p := c.keys13(d, stageHandshake)
		if p == nil {
			return nil, 0, decNoKeys
		}
		if plain, inner, err := p.open(c.plain, hdr, body, p.seq, false); err == nil {
			p.seq++
			h.stage, h.cur = stageHandshake, p
			c.decideEarly(false)
			return plain, inner, decOK
		}
		return nil, 0, decSkipped
	}
	if h.cur == nil {
		if c.tls13 {
			h.cur = c.keys13(d, h.stage)
		}
		if h.cur == nil {
			return nil, 0, decNoKeys
		}
	}
	p := h.cur
	plain, inner, err := p.open(c.plain, hdr, body, p.seq, inPlace)
	if err != nil {
		p.seq++
		return nil, 0, decBad
	}
	p.seq++
	c.keysOK = true
	return plain, inner, decOK
}

// decryptEarly opens a 0-RTT record (RFC 8446 §4.2.10) under
// client_early_traffic_secret.
func (c *Conn) decryptEarly(hdr, body []byte) ([]byte, uint8, int) {
	h := &c.half[Client]
	if h.cur == nil || h.stage != stageEarly {
		secret := c.secrets.ClientEarly
		if secret == nil {
			return nil, 0, decSkipped
		}
		// The suite is the PSK's: the one the ServerHello names, or
		// before it any offered whose hash fits the secret.
		var candidates []*suite
		if c.suite != nil {
			candidates = []*suite{c.suite}
		} else {
			for _, id := range c.ch.Suites {
				if s := suites[id]; s != nil && s.tls13 && s.prf().Size() == len(secret) {
					candidates = append(candidates, s)
				}
			}
		}
		for _, s := range candidates {
			p := newProtection13(s, secret)
			if plain, inner, err := p.open(c.plain, hdr, body, 0, false); err == nil {
				p.seq = 1
				h.cur, h.stage = p, stageEarly
				c.keysOK = true
				return plain, inner, decOK
			}
		}
		return nil, 0, decSkipped
	}
	p := h.cur
	plain, inner, err := p.open(c.plain, hdr, body, p.seq, false)
	if err != nil {
		return nil, 0, decSkipped
	}
	p.seq++
	return plain, inner, decOK
}

// lookup fetches the session's secrets from the key log when it may have
// grown since the last look.
func (c *Conn) lookup() {
	if c.cfg.Keys == nil || c.ch == nil {
		return
	}
	v := c.cfg.Keys.Version()
	if v == c.lookedAt {
		return
	}
	c.lookedAt = v
	if c.cfg.Keys.hidden(c.packet) {
		// The log holds secrets visible only from a later packet (read
		// ahead of the packets being decoded, from a pcapng secrets
		// block): look again at the next record, since they come into
		// view with no change of Version.
		c.lookedAt = -1
	}
	c.secrets = c.cfg.Keys.Lookup(c.ch.Random, c.packet)
	if !c.tls13 && c.sh != nil {
		if c.secrets.Master == nil && c.info.Resumed {
			c.secrets.Master = c.resumedMaster()
		}
		c.setup12()
		c.rememberSession()
	}
}

// resumedMaster returns the master secret of the TLS 1.2 session this
// connection resumes, from the sessions seen earlier in the capture.
func (c *Conn) resumedMaster() []byte {
	if c.cfg.Barrier != nil {
		c.cfg.Barrier(c.packet)
	}
	if c.ch.Ticket > 0 {
		if m := c.cfg.Keys.session("ticket:"+string(c.ch.TicketData), c.packet); m != nil {
			return m
		}
	}
	if len(c.sh.SessionID) > 0 {
		return c.cfg.Keys.session("id:"+string(c.sh.SessionID), c.packet)
	}
	return nil
}

// rememberSession keeps the TLS 1.2 session's master secret under its
// session ID, for connections that resume it.
func (c *Conn) rememberSession() {
	if c.secrets.Master != nil && len(c.sh.SessionID) > 0 {
		c.cfg.Keys.rememberSession("id:"+string(c.sh.SessionID), c.secrets.Master, c.packet)
	}
}

// keys13 returns the read state of a TLS 1.3 stage of d, nil when its
// secret is missing.
func (c *Conn) keys13(d int, stage int) *protection {
	if c.suite == nil {
		return nil
	}
	var secret []byte
	switch {
	case d == Client && stage == stageHandshake:
		secret = c.secrets.ClientHandshake
	case d == Server && stage == stageHandshake:
		secret = c.secrets.ServerHandshake
	case d == Client && stage == stageApp:
		secret = c.secrets.ClientTraffic
	case d == Server && stage == stageApp:
		secret = c.secrets.ServerTraffic
	}
	if secret == nil || len(secret) != c.suite.prf().Size() {
		return nil
	}
	return newProtection13(c.suite, secret)
}

// setup12 derives the TLS 1.2 keys from the master secret (RFC 5246 §6.3)
// for the directions that have not switched to them yet.
func (c *Conn) setup12() {
	if c.suite == nil || c.secrets.Master == nil {
		return
	}
	etm := c.info.ETM && (c.suite.cipher == cipherAESCBC || c.suite.cipher == cipher3DESCBC)
	kb := deriveKeyBlock12(c.suite, c.secrets.Master, c.ch.Random, c.sh.Random)
	keys := [2]*protection{
		newProtection12(c.suite, kb.clientMAC, kb.clientKey, kb.clientIV, etm),
		newProtection12(c.suite, kb.serverMAC, kb.serverKey, kb.serverIV, etm),
	}
	for d := range 2 {
		h := &c.half[d]
		if h.ccs {
			if h.cur == nil {
				h.cur = keys[d] // keys arrived after the ChangeCipherSpec: from sequence 0
			}
		} else {
			h.next = keys[d]
		}
	}
}

// changeCipherSpec handles a plaintext ChangeCipherSpec record: in TLS 1.2
// the sender's next records are protected (RFC 5246 §7.1); in TLS 1.3 it
// is only for middleboxes and is ignored (RFC 8446 §5, appendix D.4).
func (c *Conn) changeCipherSpec(d int, body []byte) {
	h := &c.half[d]
	m := &Message{Dir: d, Packet: c.packet, Type: "change_cipher_spec", Len: len(body)}
	if len(body) != 1 || body[0] != 1 {
		m.Problems = append(m.Problems, Problem{CodeMalformed, "a change_cipher_spec must be the single byte 1 (RFC 5246 §7.1, RFC 8446 §5)"})
	}
	// Before the ServerHello (or after a HelloRetryRequest, which only
	// TLS 1.3 has) a client offering TLS 1.3 sends it for middleboxes.
	tls13 := c.tls13 || (c.ch != nil && offers13(c.ch) && (c.sh == nil || c.sh.HelloRetry))
	if tls13 {
		m.Note = "a dummy change_cipher_spec, sent only so that middleboxes that expect TLS 1.2 let the connection through (RFC 8446 appendix D.4)"
		c.h.Message(m)
		return
	}
	m.Note = fmt.Sprintf("the %s's records are encrypted from now on", dirName[d])
	if d == Server && !c.fullHS && c.sh != nil && c.ch != nil && !c.info.Resumed {
		// An abbreviated handshake (RFC 5246 §7.3): the server went from
		// its hello to ChangeCipherSpec without a certificate or key
		// exchange, so it resumed a session.
		c.info.Resumed, c.info.ResumedBy = true, "session_id"
		if c.ch.Ticket > 0 {
			c.info.ResumedBy = "ticket"
		}
		c.lookedAt = -1
	}
	h.ccs = true
	c.lookup()
	h.cur, h.next = h.next, nil
	c.h.Message(m)
	if d == Server && !c.reported && h.cur == nil && (c.cfg.Wait <= 0 || c.noWait) {
		// Its Finished cannot be read: the handshake is as known as it
		// will be. (A connection that may wait for its keys holds that
		// Finished instead, and reports when it is read or given up.)
		c.report(d)
	}
}

func offers13(ch *ClientHello) bool {
	for _, v := range ch.Versions {
		if v == VersionTLS13 {
			return true
		}
	}
	return false
}

// content handles a record's plaintext of content type typ.
func (c *Conn) content(d int, typ uint8, b []byte, encrypted bool) {
	h := &c.half[d]
	switch typ {
	case typeHandshake:
		c.handshakeBytes(d, b, encrypted)
	case typeAlert:
		// RFC 8446 §6: level, description; a record may hold several.
		for len(b) >= 2 {
			c.h.Alert(&Alert{Dir: d, Packet: c.packet, Level: b[0], Description: b[1], Encrypted: encrypted})
			b = b[2:]
		}
	case typeApplicationData:
		if !encrypted {
			c.h.Record(&Record{Dir: d, Packet: c.packet, Type: typ, Len: len(b) + recordHeaderLen,
				Problem: Problem{CodeMalformed, "application data before the keys were agreed (RFC 5246 §6.2.1, RFC 8446 §5.1)"}})
			c.h.Lost(d, int64(len(b)), c.packet)
			return
		}
		if d == Client && (h.stage == stageEarly && (c.tls13 || c.sh == nil) && c.ch != nil && c.ch.EarlyData) && c.early == 0 {
			c.holdEarly(b)
			return
		}
		if !c.reported {
			c.report(d)
		}
		if c.early == 2 && d == Client && h.stage == stageEarly {
			return
		}
		c.h.Data(d, b, c.packet)
	default:
		c.h.Record(&Record{Dir: d, Packet: c.packet, Type: typ, Len: len(b) + recordHeaderLen,
			Problem: Problem{CodeMalformed, fmt.Sprintf("content type %d is not defined (RFC 8446 §5.1)", typ)}})
	}
}

// holdEarly keeps 0-RTT application data until the server's answer says
// whether it was accepted: data a server rejected the client sends again.
func (c *Conn) holdEarly(b []byte) {
	if c.earlyN+len(b) > maxEarlyHeld {
		c.h.Lost(Client, int64(len(b)), c.packet)
		return
	}
	c.earlyHeld = append(c.earlyHeld, queued{Client, append([]byte(nil), b...), c.packet})
	c.earlyN += len(b)
}

// decideEarly settles 0-RTT data: accepted data goes up, rejected data is
// dropped with a note.
func (c *Conn) decideEarly(accepted bool) {
	if c.early != 0 || c.ch == nil || !c.ch.EarlyData {
		return
	}
	held := c.earlyHeld
	c.earlyHeld, c.earlyN = nil, 0
	if accepted {
		c.early, c.info.EarlyData = 1, "accepted"
		for _, q := range held {
			c.h.Data(Client, q.b, q.packet)
		}
		return
	}
	c.early, c.info.EarlyData = 2, "rejected"
}

// handshakeBytes reassembles handshake messages (RFC 8446 §4: type,
// uint24 length, body) across records.
func (c *Conn) handshakeBytes(d int, b []byte, encrypted bool) {
	h := &c.half[d]
	for len(b) > 0 {
		if h.hsHdrN < 4 {
			n := copy(h.hsHdr[h.hsHdrN:], b)
			h.hsHdrN += n
			b = b[n:]
			if h.hsHdrN < 4 {
				return
			}
			h.hsType = h.hsHdr[0]
			h.hsLen = int(h.hsHdr[1])<<16 | int(h.hsHdr[2])<<8 | int(h.hsHdr[3])
			h.hsHave = 0
			h.hsKeep = keepBody(h.hsType) && h.hsLen <= MaxHandshakeMessage
			h.hs = h.hs[:0]
		}
		n := min(h.hsLen-h.hsHave, len(b))
		if h.hsKeep {
			h.hs = append(h.hs, b[:n]...)
		}
		h.hsHave += n
		b = b[n:]
		if h.hsHave == h.hsLen {
			h.hsHdrN = 0
			var body []byte
			if h.hsKeep {
				body = h.hs
			}
			c.message(d, h.hsType, body, h.hsLen, encrypted)
		}
	}
}

// keepBody reports whether a message's body is parsed (and so kept whole).
func keepBody(t uint8) bool {
	switch t {
	case hsClientHello, hsServerHello, hsEncryptedExtensions, hsNewSessionTicket, hsKeyUpdate:
		return true
	}
	return false
}

// message handles one whole handshake message. body is nil when it was not
// kept.
func (c *Conn) message(d int, typ uint8, body []byte, length int, encrypted bool) {
	h := &c.half[d]
	m := &Message{Dir: d, Packet: c.packet, Type: HandshakeTypeName(typ), Len: length, Encrypted: encrypted}
	if keepBody(typ) && body == nil {
		m.Problems = append(m.Problems, Problem{CodeMalformed, fmt.Sprintf("a %s of %d bytes is longer than wsviz reads (%d); not parsed", m.Type, length, MaxHandshakeMessage)})
		c.h.Message(m)
		return
	}
	bad := func(err error) {
		m.Problems = append(m.Problems, Problem{CodeMalformed, err.Error()})
	}
	reportAfter := false
	switch typ {
	case hsClientHello:
		ch, err := parseClientHello(body)
		if err != nil {
			bad(err)
			break
		}
		if c.ch != nil && c.sh != nil && c.sh.HelloRetry {
			// The second ClientHello after a HelloRetryRequest keeps the
			// random (RFC 8446 §4.1.2); early data is over.
			ch.EarlyData = false
		} else if c.ch != nil && c.reported && !c.tls13 {
			// TLS 1.2 renegotiation: a new handshake under the old keys.
			c.sh, c.reported, c.fullHS, c.lookedAt = nil, false, false, -1
		}
		first := c.ch == nil
		c.ch = ch
		c.info.ClientHello = true
		if first || c.info.SNI == "" {
			c.info.SNI = ch.SNI
		}
		c.info.ALPNOffered = ch.ALPN
		if ch.EarlyData && c.info.EarlyData == "" {
			c.info.EarlyData = "offered"
			h.stage = stageEarly
		}
		m.Note = clientHelloNote(ch)
		c.lookedAt = -1
		c.lookup()
	case hsServerHello:
		sh, err := parseServerHello(body)
		if err != nil {
			bad(err)
			break
		}
		c.serverHello(sh, m)
	case hsEncryptedExtensions:
		ee, err := parseEncryptedExtensions(body)
		if err != nil {
			bad(err)
			break
		}
		c.info.ALPN = ee.alpn
		var what []string
		if ee.alpn != "" {
			what = append(what, "the application protocol is "+ee.alpn)
		}
		if c.ch != nil && c.ch.EarlyData {
			c.decideEarly(ee.earlyData)
			if ee.earlyData {
				what = append(what, "the server accepts the 0-RTT data")
			} else {
				what = append(what, "the server rejects the 0-RTT data (the client sends it again)")
			}
		}
		m.Note = "the server's extensions, encrypted"
		if len(what) > 0 {
			m.Note += ": " + strings.Join(what, "; ")
		}
	case hsCertificate:
		m.Note = fmt.Sprintf("the %s's certificate chain (%d bytes)", dirName[d], length)
		if d == Server {
			c.fullHS = true
		}
	case hsServerKeyExchange:
		m.Note = "the server's key exchange parameters"
		c.fullHS = true
	case hsServerHelloDone:
		m.Note = "the server's hello is complete"
		c.fullHS = true
	case hsCertificateRequest:
		m.Note = "the server asks for a client certificate"
	case hsCertificateVerify:
		m.Note = fmt.Sprintf("the %s proves it holds its certificate's private key", dirName[d])
	case hsClientKeyExchange:
		m.Note = "the client's key exchange: both sides can now compute the keys"
	case hsFinished:
		m.Note = fmt.Sprintf("the %s's handshake is complete and verified", dirName[d])
		reportAfter = d == Server
		if c.tls13 {
			// RFC 8446 §7.3: application traffic keys follow Finished.
			h.stage = stageApp
			h.cur = c.keys13(d, stageApp)
			if d == Client {
				c.decideEarly(false)
			}
		}
	case hsNewSessionTicket:
		m.Note = "the server gives the client a ticket to resume this session later without a full handshake"
		if c.tls13 {
			m.Note += " (a PSK for TLS 1.3 resumption; RFC 8446 §4.6.1)"
		} else if ticket, err := parseTicket12(body); err != nil {
			bad(err)
		} else if c.lookup(); c.secrets.Master != nil && len(ticket) > 0 {
			c.cfg.Keys.rememberSession("ticket:"+string(ticket), c.secrets.Master, c.packet)
		}
	case hsEndOfEarlyData:
		m.Note = "the client's 0-RTT data ends; its handshake records follow"
		c.decideEarly(true)
		h.stage = stageHandshake
		h.cur = c.keys13(d, stageHandshake)
	case hsKeyUpdate:
		// RFC 8446 §4.6.3: the sender's next records use the next
		// traffic secret; request_update asks the peer to update too.
		if len(body) != 1 || body[0] > 1 {
			bad(fmt.Errorf("a key_update must hold one byte, 0 or 1 (RFC 8446 §4.6.3)"))
			break
		}
		m.Note = fmt.Sprintf("the %s switches to new keys (its next traffic secret)", dirName[d])
		if body[0] == 1 {
			m.Note += " and asks the " + dirName[1-d] + " to do the same"
		}
		if h.cur != nil {
			h.cur = h.cur.keyUpdate()
		}
	case hsHelloRequest:
		m.Note = "the server asks the client to start a new handshake (renegotiation)"
	}
	c.h.Message(m)
	if reportAfter && !c.reported {
		c.report(d)
	}
}

// serverHello handles a ServerHello or HelloRetryRequest.
func (c *Conn) serverHello(sh *ServerHello, m *Message) {
	if sh.HelloRetry {
		c.info.HelloRetry = true
		m.Type = "hello_retry_request"
		m.Note = fmt.Sprintf("the server asks the client to send its hello again with other parameters (HelloRetryRequest, %s)", SuiteName(sh.Suite))
		c.sh = sh
		c.decideEarly(false)
		return
	}
	c.sh = sh
	c.info.ServerHello = true
	c.info.Version, c.info.Suite = sh.Version, sh.Suite
	c.suite = suites[sh.Suite]
	if c.suite != nil && c.suite.tls13 != (sh.Version == VersionTLS13) {
		c.suite = nil
	}
	if sh.Version != VersionTLS12 && sh.Version != VersionTLS13 {
		c.suite = nil // TLS 1.0 and 1.1 are not decrypted
	}
	c.tls13 = sh.Version == VersionTLS13
	var what []string
	what = append(what, VersionName(sh.Version), SuiteName(sh.Suite))
	if c.tls13 {
		if sh.PSK {
			c.info.Resumed, c.info.ResumedBy = true, "psk"
			what = append(what, "resuming an earlier session (PSK)")
		} else if c.ch != nil && c.ch.EarlyData {
			c.decideEarly(false)
		}
		c.half[Server].stage = stageHandshake
		c.half[Server].cur = nil
		if c.half[Client].stage != stageEarly || c.early == 2 {
			c.half[Client].stage = stageHandshake
			c.half[Client].cur = nil
		}
	} else {
		c.info.ALPN = sh.ALPN
		c.info.EMS = sh.EMS
		c.info.ETM = sh.ETM
		if sh.ALPN != "" {
			what = append(what, "application protocol "+sh.ALPN)
		}
		if len(sh.SessionID) > 0 && c.ch != nil && bytes.Equal(sh.SessionID, c.ch.SessionID) {
			// RFC 5246 §7.4.1.3 (RFC 5077 §3.4 for tickets): the server
			// echoes the session ID to resume.
			c.info.Resumed, c.info.ResumedBy = true, "session_id"
			if c.ch.Ticket > 0 {
				c.info.ResumedBy = "ticket"
			}
			what = append(what, "resuming an earlier session by "+strings.ReplaceAll(c.info.ResumedBy, "_", " "))
		}
		if sh.EMS {
			what = append(what, "extended master secret")
		}
		if sh.ETM {
			what = append(what, "encrypt-then-MAC")
		}
	}
	m.Note = "the server chose " + strings.Join(what, ", ")
	c.lookedAt = -1
	c.lookup()
}

// clientHelloNote says what a ClientHello asks for.
func clientHelloNote(ch *ClientHello) string {
	var what []string
	if ch.SNI != "" {
		what = append(what, "for server name "+ch.SNI)
	}
	if len(ch.ALPN) > 0 {
		what = append(what, "offering application protocols "+strings.Join(ch.ALPN, ", "))
	}
	hi := ch.LegacyVersion
	for _, v := range ch.Versions {
		if v&0x0f0f == v && v > hi && v <= VersionTLS13 {
			hi = v
		}
	}
	what = append(what, fmt.Sprintf("up to %s, %d cipher suites", VersionName(hi), len(ch.Suites)))
	switch {
	case ch.PSK > 0:
		what = append(what, "trying to resume an earlier session (PSK)")
	case ch.Ticket > 0:
		what = append(what, "trying to resume an earlier session (ticket)")
	case len(ch.SessionID) > 0 && len(ch.Versions) == 0:
		what = append(what, "trying to resume an earlier session (session ID)")
	}
	if ch.EarlyData {
		what = append(what, "with 0-RTT data")
	}
	return "the client opens a TLS handshake " + strings.Join(what, ", ")
}

// report calls Handler.Handshake once, with problems about the keys.
func (c *Conn) report(d int) {
	if c.reported {
		return
	}
	c.reported = true
	c.lookup()
	i := &c.info
	switch {
	case !i.ClientHello:
		i.Problems = append(i.Problems, Problem{CodeHandshakeMissing, "the TLS handshake is not in the capture: its records cannot be matched to keys (RFC 9850 §2 keys are found by the ClientHello's random)"})
	case i.ServerHello && c.suite == nil:
		i.Problems = append(i.Problems, Problem{CodeUnsupported, fmt.Sprintf("wsviz does not decrypt %s with %s", VersionName(i.Version), SuiteName(i.Suite))})
	case !c.secrets.Any() && c.cfg.Keys != nil && c.cfg.Keys.anyAt(c.packet):
		i.Problems = append(i.Problems, Problem{CodeNoKeys, "the key log has no secrets for this session's client random: its records stay encrypted"})
	case !c.secrets.Any():
		i.Problems = append(i.Problems, Problem{CodeNoKeys, "no key log was given (--keylog FILE, SSLKEYLOGFILE, or secrets inside the pcapng): the records stay encrypted"})
	}
	i.Keys = c.secrets.Any() && c.suite != nil && !c.keysBad
	if i.EarlyData == "" && c.ch != nil && c.ch.EarlyData {
		i.EarlyData = "offered"
	}
	c.h.Handshake(i, d, c.packet)
}

// reportMissing reports the handshake as missing when a connection starts
// with protected records.
func (c *Conn) reportMissing(d int) {
	if !c.reported {
		c.report(d)
	}
}

// Gap tells the Conn that n bytes of direction d were never captured.
func (c *Conn) Gap(d int, n int64) {
	h := &c.half[d]
	if n <= 0 || h.dead {
		return
	}
	if h.lostSync {
		h.lostMax += int(min(n/minRecord+1, maxSeqSkip))
		return
	}
	if h.skip > 0 {
		if n <= int64(h.skip) {
			h.skip -= int(n)
			return
		}
		n -= int64(h.skip)
		h.skip = 0
		c.loseSync(d, n)
		return
	}
	if len(h.rec) >= recordHeaderLen {
		total := recordHeaderLen + int(binary.BigEndian.Uint16(h.rec[3:]))
		remaining := total - len(h.rec)
		c.lostRecord(d, h.rec[:recordHeaderLen])
		h.rec = h.rec[:0]
		if n < int64(remaining) {
			h.skip = remaining - int(n)
			return
		}
		if n == int64(remaining) {
			return
		}
		n -= int64(remaining)
	}
	h.rec = h.rec[:0]
	c.loseSync(d, n)
}

// minRecord is the shortest protected record: a header and an AEAD tag.
const minRecord = recordHeaderLen + 16

// lostRecord accounts for a record cut by a gap: it took a sequence
// number, and the application data it carried is lost.
func (c *Conn) lostRecord(d int, hdr []byte) {
	h := &c.half[d]
	length := int(binary.BigEndian.Uint16(hdr[3:]))
	c.h.Record(&Record{Dir: d, Packet: c.packet, Type: hdr[0], Len: recordHeaderLen + length,
		Problem: Problem{CodeGap, fmt.Sprintf("part of this %s record was never captured: the whole record cannot be authenticated, so none of it is shown", dirName[d])}})
	if !c.protected(d, hdr[0]) {
		if hdr[0] == typeHandshake {
			h.hsHdrN = 0 // the message in it is lost
		}
		return
	}
	if h.cur != nil {
		h.cur.seq++
		c.h.Lost(d, int64(max(0, length-h.cur.overhead())), c.packet)
		return
	}
	c.h.Lost(d, -1, c.packet)
}

// loseSync starts searching for a record boundary after a gap of n bytes
// that took one or more record headers.
func (c *Conn) loseSync(d int, n int64) {
	h := &c.half[d]
	h.lostSync, h.scan, h.scanned, h.trial = true, h.scan[:0], 0, 0
	h.lostMax = int(min(n/minRecord+1, maxSeqSkip))
	h.hsHdrN = 0
	c.h.Lost(d, -1, c.packet)
}

// resync searches b (after what was kept of earlier bytes) for a record
// that authenticates with the direction's keys under one of the sequence
// numbers the gap can have taken, and resumes decoding there. Without keys
// a record header followed by another is taken as the boundary. It
// returns what is left of b.
func (c *Conn) resync(d int, b []byte) []byte {
	h := &c.half[d]
	h.scan = append(h.scan, b...)
	b = nil
	for i := 0; i+recordHeaderLen <= len(h.scan); i++ {
		s := h.scan[i:]
		if !plausibleHeader(s) {
			continue
		}
		n := recordHeaderLen + int(binary.BigEndian.Uint16(s[3:]))
		if len(s) < n+recordHeaderLen && len(s) < n {
			// Wait for the whole candidate.
			h.scanned += i
			h.scan = append(h.scan[:0], s...)
			return c.resyncBound(d)
		}
		if !c.tryResync(d, s[:n], s[n:]) {
			if h.trial > maxTrial {
				h.scan = h.scan[:0]
				return c.resyncBound(d)
			}
			continue
		}
		h.lostSync = false
		rest := append([]byte(nil), s...)
		h.scan = h.scan[:0]
		return rest
	}
	// Keep the last bytes, where a header may start.
	keep := min(len(h.scan), recordHeaderLen-1)
	h.scanned += len(h.scan) - keep
	copy(h.scan, h.scan[len(h.scan)-keep:])
	h.scan = h.scan[:keep]
	return c.resyncBound(d)
}

func (c *Conn) resyncBound(d int) []byte {
	h := &c.half[d]
	if h.scanned+len(h.scan) > maxResync || h.trial > maxTrial {
		h.dead = true
		h.scan = nil
		c.h.Record(&Record{Dir: d, Packet: c.packet, Type: typeApplicationData, Problem: Problem{CodeGap,
			fmt.Sprintf("after a gap no record of the %s authenticates within %d bytes: the rest of this direction cannot be decrypted", dirName[d], maxResync)}})
	}
	return nil
}

// tryResync reports whether rec (a candidate record, whole) starts a
// record: it authenticates under a sequence number the gap allows, which
// then becomes the direction's; without keys, when it is followed by
// another plausible header (or the bytes end).
func (c *Conn) tryResync(d int, rec, after []byte) bool {
	h := &c.half[d]
	p := h.cur
	if p == nil || !c.protected(d, rec[0]) {
		return len(after) == 0 || (len(after) >= recordHeaderLen && plausibleHeader(after))
	}
	try := func(seq uint64) bool {
		h.trial += len(rec)
		if h.trial > maxTrial {
			return false
		}
		_, _, err := p.open(c.plain[:0], rec[:recordHeaderLen], rec[recordHeaderLen:], seq, false)
		if err == nil {
			p.seq = seq
			return true
		}
		return false
	}
	c.scratch(len(rec))
	if !p.tls13 && p.suite.cipher == cipherAESGCM && len(rec) >= recordHeaderLen+gcmExplicit {
		// Senders put the sequence number in the explicit nonce.
		if seq := binary.BigEndian.Uint64(rec[recordHeaderLen:]); seq >= p.seq && seq <= p.seq+uint64(h.lostMax) && try(seq) {
			return true
		}
	}
	for k := 0; k <= h.lostMax; k++ {
		if try(p.seq + uint64(k)) {
			return true
		}
	}
	return false
}

// End tells the Conn that the connection ended: held records are given up
// and the handshake is reported if it was not yet.
func (c *Conn) End() {
	for d := range 2 {
		if h := &c.half[d]; h.lostSync && !h.dead && h.scanned+len(h.scan) > 0 {
			c.h.Record(&Record{Dir: d, Packet: c.packet, Type: typeApplicationData, Problem: Problem{CodeGap,
				fmt.Sprintf("after a gap no record of the %s authenticated in the %d bytes that followed: they cannot be decrypted", dirName[d], h.scanned+len(h.scan))}})
		}
	}
	c.GiveUp()
	if len(c.earlyHeld) > 0 {
		// The server's answer never came: the data is shown as sent.
		c.decideEarly(true)
	}
	if !c.reported && (c.ch != nil || c.half[Client].records+c.half[Server].records > 0) {
		c.report(Client)
	}
}
