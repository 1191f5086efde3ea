package transcript

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/display"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/filter"
)

// Builder makes a transcript from a stream of analyze events. Add every
// event of a capture in order, then call Transcript.
//
// A Builder keeps every connection's lines until Transcript (the order of
// the connections is known only at the end): payloads up to the inline
// limit, digests of larger ones.
type Builder struct {
	opts    Options
	display *display.Filter
	keep    Keep
	ignore  []*jsonPath
	headers map[string]bool // headers left out, canonical names
	conns   map[int]*connBuilder
	order   []*connBuilder
}

// connBuilder collects one connection.
type connBuilder struct {
	conn  Conn
	times []time.Time // of each line, when kept
	first time.Time   // earliest event time
	port  string      // the server's port
	// wsPaths are the targets of the WebSockets opened on HTTP/2
	// streams (RFC 8441): the connection is named by them all.
	wsPaths []string
	// pending holds, per HTTP/2 stream (0 on HTTP/1.1) and direction, the
	// frames not yet claimed by a message: a message claims its last
	// Frames ones.
	pending map[uint32]*[2][]frameItem
}

// frameItem is a frame waiting for its message.
type frameItem struct {
	f        analyze.Frame
	packet   int64
	t        time.Time
	warnings []analyze.Warning
}

// NewBuilder returns a Builder, or an error for an Ignore expression that
// does not parse.
func NewBuilder(opts Options) (*Builder, error) {
	ign, err := compilePaths(opts.Ignore)
	if err != nil {
		return nil, err
	}
	df, err := display.Compile(opts.Display)
	if err != nil {
		return nil, fmt.Errorf("transcript: display filter: %w", err)
	}
	b := &Builder{opts: opts, display: df, keep: opts.Keep, ignore: ign, headers: ignoredHeaders(opts), conns: map[int]*connBuilder{}}
	return b, nil
}

// ignoredHeaders returns the canonical names of the headers opts leaves
// out.
func ignoredHeaders(opts Options) map[string]bool {
	m := map[string]bool{}
	if !opts.Keep.Has(KeepHeaders) {
		for _, h := range VolatileHeaders {
			m[canonicalHeader(h)] = true
		}
	}
	for _, h := range opts.IgnoreHeaders {
		m[canonicalHeader(h)] = true
	}
	return m
}

// canonicalHeader is the header name as analyze events spell it
// (net/http's canonical form: "Sec-Websocket-Key").
func canonicalHeader(name string) string {
	b := []byte(strings.TrimSpace(name))
	upper := true // at the start of a part
	for i, c := range b {
		// ASCII letters only: a header name is ASCII (RFC 9110 §5.1), and
		// other bytes are kept as they are, valid UTF-8 or not.
		switch {
		case upper && 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case !upper && 'A' <= c && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
		upper = c == '-'
	}
	return string(b)
}

// Add folds one event in. It copies what it keeps, so ev may be reused.
func (b *Builder) Add(ev *analyze.Event) {
	if ev.Conn == 0 {
		return // capture.stats and other events of no connection
	}
	c := b.conns[ev.Conn]
	if c == nil {
		c = &connBuilder{conn: Conn{Kind: "tcp"}, first: ev.Time}
		b.conns[ev.Conn] = c
		b.order = append(b.order, c)
	}
	if ev.Time.Before(c.first) {
		c.first = ev.Time
	}
	if h := ev.TCPOpen.Handshake; ev.Type == analyze.TypeTCPOpen && len(h) > 0 && h[0].Time.Before(c.first) {
		c.first = h[0].Time // tcp.open comes at the end of the handshake: the connection began at its first packet
	}
	if !b.display.Match(ev) {
		// What names the connection is kept; nothing is written.
		switch ev.Type {
		case analyze.TypeTCPOpen:
			if _, port, err := net.SplitHostPort(ev.TCPOpen.Server); err == nil {
				c.port = port
			}
		case analyze.TypeHTTPRequest, analyze.TypeWSOpen:
			c.name(ev)
		}
		return
	}
	switch ev.Type {
	case analyze.TypeTCPOpen:
		b.tcpOpen(c, ev)
	case analyze.TypeHTTPRequest:
		c.name(ev)
		c.add(ev, 0, "request "+ev.HTTP.Method+" "+word(ev.HTTP.Target)+" "+word(ev.HTTP.Proto))
		b.header(c, ev)
		c.warnings(ev.Warnings)
	case analyze.TypeHTTPResponse:
		line := "response " + strconv.Itoa(ev.HTTP.Status)
		if ev.HTTP.Reason != "" {
			line += " " + quoteRest(ev.HTTP.Reason)
		}
		c.add(ev, 0, line)
		b.header(c, ev)
		c.warnings(ev.Warnings)
	case analyze.TypeWSOpen:
		b.wsOpen(c, ev)
	case analyze.TypeWSFrame:
		p := c.pendingOf(ev.Stream)
		d := dir(ev.From)
		p[d] = append(p[d], frameItem{f: ev.Frame, packet: ev.Packet, t: ev.Time,
			warnings: slices.Clone(ev.Warnings)})
	case analyze.TypeWSMessage:
		b.message(c, ev)
	case analyze.TypeTCPGap:
		c.flushAll(b, dir(ev.From))
		c.add(ev, 0, "gap "+ev.From+" "+strconv.FormatInt(ev.TCPGap.Size, 10))
		c.warnings(ev.Warnings)
	case analyze.TypeTCPClose:
		c.flushAll(b, 0)
		c.flushAll(b, 1)
		how := ev.TCPClose.How
		if how == analyze.CloseEnd {
			how = "capture" // the capture ended first
		}
		c.add(ev, 0, "end "+how)
		c.warnings(ev.Warnings)
	case analyze.TypeH2StreamClose:
		c.flushFrames(b, ev.Stream, 0)
		c.flushFrames(b, ev.Stream, 1)
		delete(c.pending, ev.Stream)
		line := "end " + word(ev.H2Close.How)
		if ev.H2Close.How == analyze.CloseRSTStream {
			// Who reset the stream, and why (RFC 9113 §6.4); which side
			// ended it last with END_STREAM is a race, left out.
			line += " " + word(ev.From) + " " + word(ev.H2Close.ErrorCode)
		}
		c.add(ev, 0, line)
		c.warnings(ev.Warnings)
	default:
		if quietTypes[ev.Type] && len(ev.Warnings) == 0 {
			return
		}
		// An event type this package does not write otherwise: say it
		// happened.
		line := "event " + word(ev.Type)
		if ev.From != "" {
			line += " " + word(ev.From)
		}
		c.add(ev, 0, line)
		c.warnings(ev.Warnings)
	}
}

// quietTypes are event types of a layer below HTTP and WebSocket whose
// boundaries differ between recordings of the same session, as TCP
// segments do (TLS records, and handshake messages such as session
// tickets): a transcript shows them only when they carry a warning.
var quietTypes = map[string]bool{"tls.record": true, "tls.message": true}

func dir(from string) int {
	if from == analyze.FromServer {
		return 1
	}
	return 0
}

var dirName = [2]string{analyze.FromClient, analyze.FromServer}

// name names the connection after an HTTP request or a WebSocket: the
// first request's target until a WebSocket opens, then the WebSocket's
// (on HTTP/2, every WebSocket's).
func (c *connBuilder) name(ev *analyze.Event) {
	switch {
	case ev.Type == analyze.TypeHTTPRequest:
		if c.conn.Kind == "tcp" {
			c.conn.Kind, c.conn.Path = "http", ev.HTTP.Target
		}
	case ev.Type == analyze.TypeWSOpen && ev.Stream != 0:
		c.wsPaths = append(c.wsPaths, ev.WSOpen.Path)
		paths := slices.Sorted(slices.Values(c.wsPaths))
		c.conn.Kind, c.conn.Path, c.conn.MorePaths = "websocket", paths[0], paths[1:]
		if len(c.conn.MorePaths) == 0 {
			c.conn.MorePaths = nil
		}
	case ev.Type == analyze.TypeWSOpen:
		c.conn.Kind, c.conn.Path = "websocket", ev.WSOpen.Path
	}
}

// add appends a line stamped with the event's time, on the event's
// stream.
func (c *connBuilder) add(ev *analyze.Event, depth int, text string) {
	c.addOn(ev.Time, depth, ev.Stream, text)
}

// addAt appends a line of the stream of the line before it: a detail.
func (c *connBuilder) addAt(t time.Time, depth int, text string) {
	var stream uint32
	if n := len(c.conn.Lines); n > 0 {
		stream = c.conn.Lines[n-1].Stream
	}
	c.addOn(t, depth, stream, text)
}

func (c *connBuilder) addOn(t time.Time, depth int, stream uint32, text string) {
	c.conn.Lines = append(c.conn.Lines, Line{Depth: depth, Stream: stream, Text: text})
	c.times = append(c.times, t)
}

// warnings appends one line per warning code, in the order first seen,
// with a count when a code repeats.
func (c *connBuilder) warnings(ws []analyze.Warning) {
	for _, w := range countWarnings(ws) {
		c.addAt(time.Time{}, 1, w)
	}
}

// countWarnings returns "warning CODE" per distinct code, "warning CODE
// xN" when it occurs N > 1 times.
func countWarnings(ws []analyze.Warning) []string {
	var codes []string
	counts := map[string]int{}
	for _, w := range ws {
		if counts[w.Code] == 0 {
			codes = append(codes, w.Code)
		}
		counts[w.Code]++
	}
	lines := make([]string, len(codes))
	for i, code := range codes {
		lines[i] = "warning " + word(code)
		if n := counts[code]; n > 1 {
			lines[i] += " x" + strconv.Itoa(n)
		}
	}
	return lines
}

// tcpOpen writes the connection's first lines: they go before every other
// line whenever the analyzer emits tcp.open (it may wait for the end of the
// TCP handshake, or later).
func (b *Builder) tcpOpen(c *connBuilder, ev *analyze.Event) {
	_, port, err := net.SplitHostPort(ev.TCPOpen.Server)
	if err == nil {
		c.port = port
	}
	rest, times := c.conn.Lines, c.times
	c.conn.Lines, c.times = nil, nil
	switch {
	case b.keep.Has(KeepAddresses):
		c.addOn(time.Time{}, 0, 0, "endpoints client "+word(ev.TCPOpen.Client)+" server "+word(ev.TCPOpen.Server))
	case b.keep.Has(KeepPort) && c.port != "":
		c.addOn(time.Time{}, 0, 0, "server-port "+c.port)
	}
	if !ev.TCPOpen.SYN {
		c.addOn(time.Time{}, 0, 0, "begin no-syn")
	}
	c.warnings(ev.Warnings)
	c.conn.Lines, c.times = append(c.conn.Lines, rest...), append(c.times, times...)
}

// header writes a request's or response's headers, names sorted, the
// volatile and ignored ones left out.
func (b *Builder) header(c *connBuilder, ev *analyze.Event) {
	names := make([]string, 0, len(ev.HTTP.Header))
	for name := range ev.HTTP.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if b.headers[canonicalHeader(name)] {
			continue
		}
		for _, v := range ev.HTTP.Header[name] {
			if !b.keep.Has(KeepPort) && !b.keep.Has(KeepAddresses) {
				v = stripPort(canonicalHeader(name), v, c.port)
			}
			c.addAt(time.Time{}, 1, "header "+word(name)+": "+quoteRest(v))
		}
	}
}

// stripPort takes the server's port out of the headers that name it (Host,
// Origin, and HTTP/2's :authority, RFC 9113 §8.3.1) when the transcript
// does not keep it.
func stripPort(name, value, port string) string {
	if port == "" || (name != "Host" && name != "Origin" && name != ":authority") {
		return value
	}
	return strings.TrimSuffix(value, ":"+port)
}

func (b *Builder) wsOpen(c *connBuilder, ev *analyze.Event) {
	o := &ev.WSOpen
	c.name(ev)
	line := "websocket"
	switch {
	case o.Midstream:
		line += " midstream"
	case ev.Stream != 0:
		// An extended CONNECT answered 2xx: RFC 8441 has no
		// Sec-WebSocket-Key, so nothing to accept (§5).
		line += " rfc8441"
	default:
		line += " accept " + word(o.Accept)
	}
	if o.Subprotocol != "" {
		line += " subprotocol " + word(o.Subprotocol)
	}
	if o.Extensions != "" {
		line += " extensions " + strconv.Quote(o.Extensions)
	}
	c.add(ev, 0, line)
	if d := o.Deflate; d != nil {
		l := "deflate"
		if d.ServerNoContextTakeover {
			l += " server_no_context_takeover"
		}
		if d.ClientNoContextTakeover {
			l += " client_no_context_takeover"
		}
		l += " server_max_window_bits=" + strconv.Itoa(d.ServerMaxWindowBits)
		l += " client_max_window_bits=" + strconv.Itoa(d.ClientMaxWindowBits)
		c.addAt(time.Time{}, 1, l)
	}
	c.warnings(ev.Warnings)
}

// message writes a message line, its warnings and those of its frames, or
// its frames with their warnings when KeepFrames.
func (b *Builder) message(c *connBuilder, ev *analyze.Event) {
	d := dir(ev.From)
	m := &ev.Message
	p := c.pendingOf(ev.Stream)
	n := min(max(m.Frames, 0), len(p[d]))
	frames := p[d][len(p[d])-n:]
	p[d] = p[d][:len(p[d])-n]
	c.flushFrames(b, ev.Stream, d) // frames older than this message's belong to none

	msg := Message{From: ev.From, Opcode: m.Opcode, Size: m.Len, Truncated: m.Truncated}
	if b.keep.Has(KeepFrames) {
		msg.Wire, msg.Compressed, msg.Frames = m.WireLen, m.Compressed, m.Frames
	}
	if b.keep.Has(KeepPackets) {
		msg.Packets = slices.Clone(m.Packets)
	}
	msg.setPayload(m, b.opts.inline(), b.ignore)
	c.add(ev, 0, msg.String())
	if b.keep.Has(KeepFrames) {
		c.warnings(ev.Warnings)
		for _, f := range frames {
			c.addAt(time.Time{}, 1, b.frameText(&f))
			c.warnings(f.warnings)
		}
		return
	}
	all := slices.Clone(ev.Warnings)
	for _, f := range frames {
		all = append(all, f.warnings...)
	}
	c.warnings(all)
}

// pendingOf returns the frames waiting for a message on a stream.
func (c *connBuilder) pendingOf(stream uint32) *[2][]frameItem {
	p := c.pending[stream]
	if p == nil {
		if c.pending == nil {
			c.pending = map[uint32]*[2][]frameItem{}
		}
		p = new([2][]frameItem)
		c.pending[stream] = p
	}
	return p
}

// flushFrames writes the frames of a stream's direction d that no message
// claimed (a reserved opcode, a continuation without a start, a header cut
// by the end of the stream), one line each.
func (c *connBuilder) flushFrames(b *Builder, stream uint32, d int) {
	p := c.pending[stream]
	if p == nil {
		return
	}
	for _, f := range p[d] {
		c.addOn(f.t, 0, stream, dirName[d]+" "+b.frameText(&f))
		c.warnings(f.warnings)
	}
	p[d] = p[d][:0]
}

// flushAll writes the unclaimed frames of direction d of every stream, in
// the order of their stream ids: the connection's bytes stop for them all.
func (c *connBuilder) flushAll(b *Builder, d int) {
	for _, stream := range slices.Sorted(maps.Keys(c.pending)) {
		c.flushFrames(b, stream, d)
	}
}

// frameText describes a frame: "frame fin rsv=4 opcode=1 len=58", with the
// masking key and packet when kept.
func (b *Builder) frameText(f *frameItem) string {
	var s strings.Builder
	s.WriteString("frame")
	if f.f.Fin {
		s.WriteString(" fin")
	}
	s.WriteString(" rsv=" + strconv.Itoa(int(f.f.RSV)))
	s.WriteString(" opcode=" + strconv.Itoa(int(f.f.Opcode)))
	s.WriteString(" len=" + strconv.FormatUint(f.f.Len, 10))
	if f.f.Masked {
		if b.keep.Has(KeepMasks) {
			s.WriteString(" mask=" + hex.EncodeToString(f.f.Mask[:]))
		} else {
			s.WriteString(" masked")
		}
	}
	if b.keep.Has(KeepPackets) {
		s.WriteString(" packet=" + strconv.FormatInt(f.packet, 10))
	}
	return s.String()
}

// setPayload chooses the payload's form: canonical JSON or quoted text for
// text messages, hex or base64 for the others, a SHA-256 digest past the
// inline limit; a close message's code and reason.
func (m *Message) setPayload(am *analyze.Message, inline int, ignore []*jsonPath) {
	p := am.Payload
	if m.Undecodable {
		m.Encoding = "none"
		return
	}
	if am.Opcode == "close" && len(p) >= 2 {
		m.Code = am.Code
		p = p[2:]
		m.Encoding, m.Payload = "text", string(p)
		if len(p) > inline {
			m.Encoding, m.Payload = "sha256", digest(p)
		}
		return
	}
	if len(p) == 0 {
		m.Encoding = "empty"
		return
	}
	if am.Opcode == "text" {
		if c, ok := canonicalJSON(p, ignore); ok {
			if len(c) > inline {
				m.Encoding, m.Payload = "sha256", digest(c)
			} else {
				m.Encoding, m.Payload = "json", string(c)
			}
			return
		}
		if len(p) > inline {
			m.Encoding, m.Payload = "sha256", digest(p)
		} else {
			m.Encoding, m.Payload = "text", string(p)
		}
		return
	}
	switch {
	case len(p) > inline:
		m.Encoding, m.Payload = "sha256", digest(p)
	case len(p) <= hexMax:
		m.Encoding, m.Payload = "hex", hex.EncodeToString(p)
	default:
		m.Encoding, m.Payload = "base64", base64.StdEncoding.EncodeToString(p)
	}
}

func digest(p []byte) string {
	sum := sha256.Sum256(p)
	return hex.EncodeToString(sum[:])
}

// flush writes the frames left without a message of every connection.
func (b *Builder) flush() {
	for _, c := range b.order {
		c.flushAll(b, 0)
		c.flushAll(b, 1)
	}
}

// Transcript returns the transcript of the events added so far, its
// connections in their stable order. incomplete says why the capture could
// not be read to the end ("" when it was). The Builder is spent.
func (b *Builder) Transcript(incomplete string) *Transcript {
	b.flush()
	t := &Transcript{Options: b.opts, Incomplete: incomplete}
	t.Options.Keep = b.opts.Keep.effective()
	if t.Options.Keep == 0 {
		t.Options.Keep = KeepNone
	}
	for _, c := range b.order {
		if b.keep.Has(KeepTimes) {
			for i := range c.conn.Lines {
				if c.conn.Lines[i].Depth == 0 && !c.times[i].IsZero() {
					// To the microsecond the text writes (formatAt), so
					// that a capture with nanosecond times compares
					// equal to its own transcript read back.
					at := c.times[i].Sub(c.first).Round(time.Microsecond)
					c.conn.Lines[i].At, c.conn.Lines[i].Timed = at, true
				}
			}
		}
		if len(c.conn.Lines) == 0 {
			continue // every event was filtered out
		}
		conn := c.conn
		t.Conns = append(t.Conns, &conn)
	}
	if b.opts.Unordered {
		for _, c := range t.Conns {
			c.sortMessages()
		}
	}
	t.sortConns()
	return t
}

// DecodeOptions returns the analyzer options a transcript needs on top of
// base: whole payloads (up to MaxMessage), so that digests cover whole
// messages.
func DecodeOptions(base analyze.Options) analyze.Options {
	base.MaxPayload = -1
	return base
}

// Read decodes a capture source into a transcript. A source error after the
// first packet makes the transcript incomplete (Transcript.Incomplete) and
// is not returned; the error is for options that do not parse.
func Read(src capture.Source, opts Options, decode analyze.Options) (*Transcript, error) {
	b, err := NewBuilder(opts)
	if err != nil {
		return nil, err
	}
	if opts.Filter != "" {
		f, err := filter.Parse(opts.Filter)
		if err != nil {
			return nil, err
		}
		// The TLS secrets a pcapng carries reach the analyzer before the
		// filter hides the source's kind.
		if ss, ok := src.(capture.SecretsSource); ok {
			analyze.UseSecrets(ss, &decode)
		}
		// As wsviz transcript filters: the packets that may carry a
		// match, then the precise test inside tunnels and fragments.
		src = capture.FilterSource(src, f)
		decode.PacketFilter = f
	}
	derr := analyze.Decode(src, DecodeOptions(decode), func(ev *analyze.Event) error {
		b.Add(ev)
		return nil
	})
	return b.Transcript(IncompleteReason(derr)), nil
}

// ReadFile decodes a capture file (pcap, pcapng, gzip-compressed or not)
// into a transcript; see Read. The error is for a file that cannot be
// opened or is not a capture (it wraps capture.ErrNotCapture then).
func ReadFile(path string, opts Options, decode analyze.Options) (*Transcript, error) {
	f, err := capture.OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, opts, decode)
}

// IncompleteReason says why decoding stopped (for Builder.Transcript),
// without the directory of the file, so that a transcript reads the same
// wherever the capture lies; "" for nil.
func IncompleteReason(err error) string {
	if err == nil {
		return ""
	}
	var fe *capture.FormatError
	if errors.As(err, &fe) {
		c := *fe
		c.Path = filepath.Base(c.Path)
		return c.Error()
	}
	return err.Error()
}
