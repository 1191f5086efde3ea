package tlsdec

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
)

// Bounds of a key log: hostile files (or pcapng secrets blocks) cannot make
// the parser hold more.
const (
	// MaxKeyLogLine is the longest key log line accepted: a label, a
	// 64-digit client random and a secret of up to 48 bytes take under 200
	// characters; ECH_CONFIG lines carry an ECHConfig of a few hundred
	// bytes.
	MaxKeyLogLine = 16 << 10
	// MaxKeyLogEntries is the most secrets one KeyLog holds (about 200 MB
	// at most); past it the key log is refused.
	MaxKeyLogEntries = 1 << 20
)

// Labels of the NSS key log format (RFC 9850 §2; the TLS 1.3 labels are
// named after RFC 8446 §7.1's secrets).
const (
	LabelClientRandom           = "CLIENT_RANDOM" // TLS 1.2 and earlier: the 48-byte master secret
	LabelClientEarlyTraffic     = "CLIENT_EARLY_TRAFFIC_SECRET"
	LabelClientHandshakeTraffic = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	LabelServerHandshakeTraffic = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	LabelClientTraffic0         = "CLIENT_TRAFFIC_SECRET_0"
	LabelServerTraffic0         = "SERVER_TRAFFIC_SECRET_0"
	labelEarlyExporter          = "EARLY_EXPORTER_SECRET"
	labelEarlyExporterOld       = "EARLY_EXPORTER_MASTER_SECRET" // NSS's name before RFC 9850
	labelExporter               = "EXPORTER_SECRET"
	labelECHSecret              = "ECH_SECRET"
	labelECHConfig              = "ECH_CONFIG"
	labelRSA                    = "RSA" // NSS: the first 8 bytes of an RSA-encrypted premaster secret, then the premaster
)

// secretKind indexes the secrets of one client random.
type secretKind int

const (
	secretMaster secretKind = iota // CLIENT_RANDOM
	secretClientEarly
	secretClientHandshake
	secretServerHandshake
	secretClientTraffic
	secretServerTraffic
	numSecretKinds
)

var labelKinds = map[string]secretKind{
	LabelClientRandom:           secretMaster,
	LabelClientEarlyTraffic:     secretClientEarly,
	LabelClientHandshakeTraffic: secretClientHandshake,
	LabelServerHandshakeTraffic: secretServerHandshake,
	LabelClientTraffic0:         secretClientTraffic,
	LabelServerTraffic0:         secretServerTraffic,
}

// knownIgnored lists labels of the format that decryption does not need;
// they are checked for form and skipped.
var knownIgnored = map[string]bool{
	labelEarlyExporter: true, labelEarlyExporterOld: true, labelExporter: true,
	labelECHSecret: true, labelECHConfig: true, labelRSA: true,
}

// KeyLog holds the secrets of a key log, by client random. Secrets can be
// added while connections are decoded (a live capture follows a key log
// that grows; a pcapng file can carry secrets blocks between packets):
// each secret is visible from the packet it was added at, so that a capture
// file decodes the same however its connections are spread over workers.
// A KeyLog is safe for concurrent use.
type KeyLog struct {
	mu      sync.RWMutex
	randoms map[[32]byte]*[numSecretKinds]secret
	n       int // secrets held
	version atomic.Int64
	latest  atomic.Int64 // the largest packet number a secret is visible from
	first   int64        // the smallest, under mu
	skipped atomic.Int64 // lines of labels decryption does not use

	// TLS 1.2 sessions seen established in the capture, by session ID or
	// ticket: a resumed session uses its master secret again, and not
	// every endpoint logs it again for the new client random (Go's
	// crypto/tls does not).
	sessions     map[string]secret
	sessionOrder []string

	used map[[32]byte]bool // client randoms whose secrets a Lookup returned
}

// MaxSessions bounds the TLS 1.2 sessions remembered for resumption; the
// oldest is forgotten first.
const MaxSessions = 1 << 16

// secret is one secret and the packet number from which it may be used.
type secret struct {
	value []byte
	at    int64
}

// NewKeyLog returns an empty KeyLog.
func NewKeyLog() *KeyLog {
	return &KeyLog{randoms: make(map[[32]byte]*[numSecretKinds]secret)}
}

// Len returns the number of secrets held.
func (k *KeyLog) Len() int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.n
}

// Version changes whenever a secret is added: a decoder waiting for keys
// need look again only when it changed.
func (k *KeyLog) Version() int64 { return k.version.Load() }

// anyAt reports whether the log holds a secret visible at packet.
func (k *KeyLog) anyAt(packet int64) bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.n > 0 && k.first <= packet
}

// hidden reports whether the log holds secrets not visible yet at packet:
// added ahead of the packets being decoded (a reader ahead of the decoder
// met a pcapng secrets block), so that a Lookup at packet may miss secrets
// a later one finds with no change of Version.
func (k *KeyLog) hidden(packet int64) bool { return k.latest.Load() > packet }

// Secrets are the secrets a key log holds for one client random. A nil
// slice is a secret the key log does not have (yet).
type Secrets struct {
	Master                           []byte // TLS 1.2: CLIENT_RANDOM
	ClientEarly                      []byte // TLS 1.3: CLIENT_EARLY_TRAFFIC_SECRET
	ClientHandshake, ServerHandshake []byte // TLS 1.3: *_HANDSHAKE_TRAFFIC_SECRET
	ClientTraffic, ServerTraffic     []byte // TLS 1.3: *_TRAFFIC_SECRET_0
}

// Any reports whether s holds any secret.
func (s Secrets) Any() bool {
	return s.Master != nil || s.ClientEarly != nil || s.ClientHandshake != nil || s.ServerHandshake != nil ||
		s.ClientTraffic != nil || s.ServerTraffic != nil
}

// Lookup returns the secrets of clientRandom that were added at or before
// packet. The slices are shared: do not modify them.
func (k *KeyLog) Lookup(clientRandom [32]byte, packet int64) Secrets {
	if k == nil {
		return Secrets{}
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	e := k.randoms[clientRandom]
	if e == nil {
		return Secrets{}
	}
	if k.used != nil && !k.used[clientRandom] {
		k.mu.RUnlock()
		k.mu.Lock()
		k.used[clientRandom] = true
		k.mu.Unlock()
		k.mu.RLock()
	}
	get := func(kind secretKind) []byte {
		if s := e[kind]; s.value != nil && s.at <= packet {
			return s.value
		}
		return nil
	}
	return Secrets{
		Master:          get(secretMaster),
		ClientEarly:     get(secretClientEarly),
		ClientHandshake: get(secretClientHandshake),
		ServerHandshake: get(secretServerHandshake),
		ClientTraffic:   get(secretClientTraffic),
		ServerTraffic:   get(secretServerTraffic),
	}
}

// add stores one secret; the first one given for a label and client random
// is kept.
func (k *KeyLog) add(kind secretKind, random [32]byte, value []byte, at int64) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.randoms[random]
	if e == nil {
		if k.n >= MaxKeyLogEntries {
			return fmt.Errorf("more than %d secrets", MaxKeyLogEntries)
		}
		e = new([numSecretKinds]secret)
		k.randoms[random] = e
	}
	if e[kind].value != nil {
		return nil
	}
	if k.n >= MaxKeyLogEntries {
		return fmt.Errorf("more than %d secrets", MaxKeyLogEntries)
	}
	e[kind] = secret{value: value, at: at}
	if k.n == 0 || at < k.first {
		k.first = at
	}
	k.n++
	if at > k.latest.Load() {
		k.latest.Store(at) // under k.mu: no other writer
	}
	k.version.Add(1)
	return nil
}

// TrackUsed makes the KeyLog remember the sessions whose secrets were
// looked up, for WriteUsed.
func (k *KeyLog) TrackUsed() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.used == nil {
		k.used = make(map[[32]byte]bool)
	}
}

// kindLabels names each secretKind as a key log line does.
var kindLabels = [numSecretKinds]string{
	secretMaster:          LabelClientRandom,
	secretClientEarly:     LabelClientEarlyTraffic,
	secretClientHandshake: LabelClientHandshakeTraffic,
	secretServerHandshake: LabelServerHandshakeTraffic,
	secretClientTraffic:   LabelClientTraffic0,
	secretServerTraffic:   LabelServerTraffic0,
}

// WriteUsed writes, in the key log format, the secrets of the sessions
// looked up since TrackUsed (those a capture needed), and reports how many
// lines it wrote.
func (k *KeyLog) WriteUsed(w io.Writer) (int, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	randoms := make([][32]byte, 0, len(k.used))
	for r := range k.used {
		randoms = append(randoms, r)
	}
	slices.SortFunc(randoms, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	n := 0
	for _, r := range randoms {
		for kind, s := range k.randoms[r] {
			if s.value == nil {
				continue
			}
			if _, err := fmt.Fprintf(w, "%s %x %x\n", kindLabels[kind], r, s.value); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// rememberSession stores the master secret of a TLS 1.2 session under id
// (a session ID or ticket, prefixed with what it is), usable from packet at.
func (k *KeyLog) rememberSession(id string, master []byte, at int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sessions == nil {
		k.sessions = make(map[string]secret)
	}
	if _, ok := k.sessions[id]; ok {
		return
	}
	if len(k.sessionOrder) >= MaxSessions {
		delete(k.sessions, k.sessionOrder[0])
		k.sessionOrder = k.sessionOrder[1:]
	}
	k.sessions[id] = secret{value: master, at: at}
	k.sessionOrder = append(k.sessionOrder, id)
}

// session returns the master secret remembered under id at or before
// packet, nil when there is none.
func (k *KeyLog) session(id string, packet int64) []byte {
	if k == nil {
		return nil
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if s, ok := k.sessions[id]; ok && s.at <= packet {
		return s.value
	}
	return nil
}

// KeyLogError reports a malformed key log line.
type KeyLogError struct {
	Name string // the file, or what held the key log
	Line int    // from 1
	Err  error
}

// Error returns a message such as
// "keylog keys.log line 3: CLIENT_RANDOM secret: 47 bytes, want 48".
func (e *KeyLogError) Error() string {
	return fmt.Sprintf("keylog %s line %d: %v", e.Name, e.Line, e.Err)
}

// Unwrap returns e.Err.
func (e *KeyLogError) Unwrap() error { return e.Err }

// ErrLineTooLong is wrapped by the error for a line past MaxKeyLogLine.
var ErrLineTooLong = errors.New("line too long")

// Parse reads a whole key log from r into k; name is used in errors. The
// secrets are visible from packet at (0: from the start). It stops at the
// first malformed line, with a *KeyLogError naming it; the lines before it
// were added.
func (k *KeyLog) Parse(r io.Reader, name string, at int64) error {
	p := k.NewParser(name)
	br := bufio.NewReaderSize(r, 64<<10)
	buf := make([]byte, 32<<10)
	for {
		n, err := br.Read(buf)
		if n > 0 {
			if perr := p.Write(buf[:n], at); perr != nil {
				return perr
			}
		}
		if err == io.EOF {
			return p.Close(at)
		}
		if err != nil {
			return fmt.Errorf("keylog %s: %w", name, err)
		}
	}
}

// Parser parses a key log fed in pieces of any size, as a live capture
// reads a key log file that grows: a line is parsed once its newline
// arrives (Close parses a last line without one).
type Parser struct {
	k       *KeyLog
	name    string
	line    int    // lines parsed
	partial []byte // the start of a line whose newline has not arrived
	long    bool   // partial overflowed MaxKeyLogLine
}

// NewParser returns a Parser adding to k; name is used in errors.
func (k *KeyLog) NewParser(name string) *Parser {
	return &Parser{k: k, name: name}
}

// Lines returns the number of lines parsed so far.
func (p *Parser) Lines() int { return p.line }

// Write parses the complete lines in b (with what earlier calls left of an
// unfinished line); their secrets are visible from packet at.
func (p *Parser) Write(b []byte, at int64) error {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if len(p.partial)+len(b) > MaxKeyLogLine {
				return p.errorf(p.line+1, fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, MaxKeyLogLine))
			}
			p.partial = append(p.partial, b...)
			return nil
		}
		line := b[:i]
		b = b[i+1:]
		if len(p.partial) > 0 {
			if len(p.partial)+len(line) > MaxKeyLogLine {
				return p.errorf(p.line+1, fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, MaxKeyLogLine))
			}
			line = append(p.partial, line...)
			p.partial = p.partial[:0]
		}
		if len(line) > MaxKeyLogLine {
			return p.errorf(p.line+1, fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, MaxKeyLogLine))
		}
		p.line++
		if err := p.k.parseLine(line, at); err != nil {
			return p.errorf(p.line, err)
		}
	}
	return nil
}

// Close parses what is left of a last line without a newline.
func (p *Parser) Close(at int64) error {
	if len(p.partial) == 0 {
		return nil
	}
	line := p.partial
	p.partial = nil
	p.line++
	if err := p.k.parseLine(line, at); err != nil {
		return p.errorf(p.line, err)
	}
	return nil
}

func (p *Parser) errorf(line int, err error) error {
	return &KeyLogError{Name: p.name, Line: line, Err: err}
}

// parseLine parses one line (RFC 9850 §2): "LABEL <client random hex>
// <secret hex>", comments starting with '#' and empty lines.
func (k *KeyLog) parseLine(line []byte, at int64) error {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if len(bytes.TrimSpace(line)) == 0 || line[0] == '#' {
		return nil
	}
	fields := bytes.Fields(line)
	if len(fields) != 3 {
		return fmt.Errorf("%d fields, want 3: LABEL CLIENT_RANDOM SECRET", len(fields))
	}
	label := string(fields[0])
	for _, c := range fields[0] {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("label %.40q: not a key log label (capital letters, digits and _)", label)
		}
	}
	kind, ok := labelKinds[label]
	if !ok {
		if !knownIgnored[label] {
			// A label of a later revision of the format: skipped, as
			// RFC 9850 §2 lets readers do.
			k.skipped.Add(1)
			return nil
		}
		for i, f := range fields[1:] {
			if len(f)%2 != 0 || !isHex(f) {
				return fmt.Errorf("%s field %d: not hexadecimal", label, i+2)
			}
		}
		k.skipped.Add(1)
		return nil
	}
	var random [32]byte
	if len(fields[1]) != 64 {
		return fmt.Errorf("%s client random: %d hex digits, want 64", label, len(fields[1]))
	}
	if _, err := hex.Decode(random[:], fields[1]); err != nil {
		return fmt.Errorf("%s client random: not hexadecimal", label)
	}
	value := make([]byte, hex.DecodedLen(len(fields[2])))
	if len(fields[2])%2 != 0 {
		return fmt.Errorf("%s secret: an odd number of hex digits", label)
	}
	if _, err := hex.Decode(value, fields[2]); err != nil {
		return fmt.Errorf("%s secret: not hexadecimal", label)
	}
	switch {
	case kind == secretMaster && len(value) != 48:
		// RFC 5246 §8.1: the master secret is always 48 bytes.
		return fmt.Errorf("%s secret: %d bytes, want 48", label, len(value))
	case kind != secretMaster && len(value) != 32 && len(value) != 48:
		// RFC 8446 §7.1: a traffic secret is Hash.length bytes, SHA-256
		// or SHA-384 for every TLS 1.3 suite.
		return fmt.Errorf("%s secret: %d bytes, want 32 (SHA-256) or 48 (SHA-384)", label, len(value))
	}
	return k.add(kind, random, value, at)
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
