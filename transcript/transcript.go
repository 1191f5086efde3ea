package transcript

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Version is the version of the text format written on a transcript's first
// line ("wsviz transcript 1"). It changes only when a transcript written by
// an older wsviz could be misread by a newer one.
const Version = 1

// magic starts every transcript.
const magic = "wsviz transcript"

// Keep is a set of details a transcript keeps. By default (DefaultKeep) it
// keeps the server's port, which is part of the service; everything else
// listed here differs between two recordings of the same session and is left
// out unless asked for.
type Keep uint16

// The details a transcript may keep.
const (
	// KeepPort keeps the server's port: a "server-port N" line, and the
	// port in the Host and Origin headers.
	KeepPort Keep = 1 << iota
	// KeepAddresses keeps both endpoints as ip:port ("endpoints" line).
	KeepAddresses
	// KeepTimes prefixes each event line with the time since the
	// connection's first packet ("+0.001234", seconds).
	KeepTimes
	// KeepFrames lists each message's frames under it, and the message's
	// size on the wire, compression and frame count.
	KeepFrames
	// KeepMasks adds each client frame's masking key (implies KeepFrames).
	KeepMasks
	// KeepPackets adds the packet numbers that carried each message and
	// frame.
	KeepPackets
	// KeepHeaders keeps the volatile headers (VolatileHeaders).
	KeepHeaders

	// KeepNone keeps nothing: Options.Keep's zero value means DefaultKeep,
	// so an empty set is written KeepNone.
	KeepNone Keep = 1 << 15
)

// DefaultKeep is what a transcript keeps when Options.Keep is zero.
const DefaultKeep = KeepPort

var keepNames = []struct {
	k    Keep
	name string
}{
	{KeepPort, "port"},
	{KeepAddresses, "addresses"},
	{KeepTimes, "times"},
	{KeepFrames, "frames"},
	{KeepMasks, "masks"},
	{KeepPackets, "packets"},
	{KeepHeaders, "headers"},
}

// KeepNames lists the names ParseKeep accepts, in the order String writes
// them.
func KeepNames() []string {
	names := make([]string, len(keepNames))
	for i, kn := range keepNames {
		names[i] = kn.name
	}
	return names
}

// ParseKeep reads a comma-separated list of detail names ("times,frames")
// on top of base: a name adds the detail, a name after "-" removes it
// ("-port"), "none" clears the set, "default" resets it to DefaultKeep.
func ParseKeep(list string, base Keep) (Keep, error) {
	k := base.effective()
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		switch item {
		case "none":
			k = 0
			continue
		case "default":
			k = DefaultKeep
			continue
		}
		remove := strings.HasPrefix(item, "-")
		name := strings.TrimPrefix(item, "-")
		var bit Keep
		for _, kn := range keepNames {
			if kn.name == name {
				bit = kn.k
			}
		}
		if bit == 0 {
			return 0, fmt.Errorf("transcript: unknown detail %q to keep (known: %s, none, default)", name, strings.Join(KeepNames(), ", "))
		}
		if remove {
			k &^= bit
		} else {
			k |= bit
		}
	}
	if k&KeepMasks != 0 {
		k |= KeepFrames
	}
	if k == 0 {
		return KeepNone, nil
	}
	return k, nil
}

// effective returns the set k stands for: DefaultKeep for zero, the empty
// set for KeepNone.
func (k Keep) effective() Keep {
	switch k {
	case 0:
		return DefaultKeep
	case KeepNone:
		return 0
	}
	return k &^ KeepNone
}

// Has reports whether k keeps every detail of d.
func (k Keep) Has(d Keep) bool { return k.effective()&d == d }

// String lists the kept details by name, comma-separated, or "none".
func (k Keep) String() string {
	var names []string
	for _, kn := range keepNames {
		if k.Has(kn.k) {
			names = append(names, kn.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// Equal reports whether k and o keep the same details.
func (k Keep) Equal(o Keep) bool { return k.effective() == o.effective() }

// VolatileHeaders are the HTTP headers a transcript leaves out unless
// KeepHeaders is set: they differ on every connection (keys, dates,
// cookies, credentials, tracing ids) without saying anything about the
// service.
var VolatileHeaders = []string{
	"Age", "Authorization", "Cookie", "Date", "Etag", "Expires", "Last-Modified",
	"Proxy-Authorization", "Sec-Websocket-Accept", "Sec-Websocket-Key", "Set-Cookie",
	"Traceparent", "Tracestate", "X-Request-Id",
}

// DefaultInline is the largest payload, in bytes, a transcript writes out
// by default; a larger one is written as its SHA-256 digest.
const DefaultInline = 4096

// hexMax is the largest binary payload written as hex; larger ones (up to
// the inline limit) are base64.
const hexMax = 32

// Options say what a transcript keeps and how it normalises what it
// keeps. The zero value means the defaults. A transcript records its
// options in its header, so that a capture compared with it later is
// transcribed the same way.
type Options struct {
	// Keep is the set of details kept; zero means DefaultKeep.
	Keep Keep
	// Ignore lists JSONPath expressions ("$.id", "$..timestamp",
	// "$.items[*].id"): in text messages that are JSON, the values they
	// select are replaced by "<ignored>".
	Ignore []string
	// IgnoreHeaders lists more headers to leave out, as VolatileHeaders
	// are (case does not matter).
	IgnoreHeaders []string
	// Unordered compares the messages of each connection as a multiset
	// per direction: they are listed client first, then server, each
	// sorted, for connections whose messages may interleave differently
	// on every run.
	Unordered bool
	// Inline is the largest payload written out, in bytes; a larger one is
	// written as its SHA-256 digest. 0 means DefaultInline.
	Inline int
	// Filter is a packet filter expression (tcpdump syntax, package
	// capture/filter): only the packets it matches are transcribed. ""
	// keeps every packet.
	Filter string
	// Display is a display filter (package analyze/display, `wsviz
	// transcript -Y`): only the events it matches are written. The
	// connections are still named by their upgrade request; those left
	// without a line are left out. "" keeps every event.
	Display string
}

func (o Options) inline() int {
	if o.Inline <= 0 {
		return DefaultInline
	}
	return o.Inline
}

// Transcript is what the connections of a capture did, in a stable order.
type Transcript struct {
	// Options are those it was made with (and that its header records).
	Options Options
	// Incomplete says why the capture could not be read to the end; ""
	// when it was. The connections are then those decoded before.
	Incomplete string
	// Conns are the connections, ordered by what they are (kind, path,
	// then content), never by when they were opened.
	Conns []*Conn
}

// Conn is one connection of a transcript.
type Conn struct {
	// Kind is "websocket", "http" (requests without an upgrade) or "tcp".
	Kind string
	// Path is the upgrade request's target ("" mid-stream), or the first
	// HTTP request's; "" for plain TCP. On HTTP/2, where a connection may
	// carry several WebSockets (RFC 8441), one per stream, it is the
	// first of their targets in sorted order.
	Path string
	// MorePaths are the targets of the other WebSockets of an HTTP/2
	// connection, sorted; nil when it has one or none.
	MorePaths []string
	// Lines are what happened, in order.
	Lines []Line
}

// Line is one line of a connection.
type Line struct {
	// Depth is 0 for what happened (a request, a message, the end), 1 for
	// a detail of the line above it (a header, a warning, a frame).
	Depth int
	// At is the time since the connection's first packet; meaningful when
	// Timed (KeepTimes, on lines of depth 0).
	At    time.Duration
	Timed bool
	// Stream is the HTTP/2 stream (RFC 9113 §5.1.1) the line is about on
	// a connection that speaks HTTP/2: a request's, its response's, its
	// WebSocket's; 0 for the connection's own lines and on HTTP/1.1. A
	// detail line has the stream of the line it belongs to.
	Stream uint32
	// Text is the line without its indentation, time and stream.
	Text string
}

// String returns the line as the transcript writes it.
func (l Line) String() string {
	var b strings.Builder
	b.WriteString(strings.Repeat("  ", l.Depth+1))
	if l.Timed {
		b.WriteString(formatAt(l.At))
		b.WriteByte(' ')
	}
	if l.Stream != 0 && l.Depth == 0 {
		b.WriteString(streamPrefix)
		b.WriteString(strconv.FormatUint(uint64(l.Stream), 10))
		b.WriteByte(' ')
	}
	b.WriteString(l.Text)
	return b.String()
}

// streamPrefix starts the stream label of a line of depth 0 on HTTP/2:
// "stream=3 client text 5 text \"hello\"".
const streamPrefix = "stream="

// formatAt writes a duration as seconds with microseconds, "+0.001234".
func formatAt(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	us := d.Round(time.Microsecond) / time.Microsecond
	return fmt.Sprintf("%s%d.%06d", sign, us/1e6, us%1e6)
}

// title is the connection's header line without its number: "websocket
// /chat", or "websocket /chat /feed" for an HTTP/2 connection that
// carried two WebSockets.
func (c *Conn) title() string {
	if c.Path == "" && len(c.MorePaths) == 0 {
		if c.Kind == "websocket" {
			return c.Kind + " (midstream)"
		}
		return c.Kind
	}
	t := c.Kind + " " + word(c.Path)
	for _, p := range c.MorePaths {
		t += " " + word(p)
	}
	return t
}

// samePaths reports whether two connections have the same targets.
func samePaths(a, b *Conn) bool {
	return a.Path == b.Path && slices.Equal(a.MorePaths, b.MorePaths)
}

// kindRank orders connections by kind: WebSocket first.
func kindRank(kind string) int {
	switch kind {
	case "websocket":
		return 0
	case "http":
		return 1
	}
	return 2
}

// compareConns orders connections by what they are: kind, path, then their
// lines' text (times left aside), so that two recordings list them alike
// whatever order they were opened in.
func compareConns(a, b *Conn) int {
	if c := cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	if c := slices.Compare(a.MorePaths, b.MorePaths); c != 0 {
		return c
	}
	for i := range min(len(a.Lines), len(b.Lines)) {
		la, lb := a.Lines[i], b.Lines[i]
		if c := cmp.Compare(la.Depth, lb.Depth); c != 0 {
			return c
		}
		if c := cmp.Compare(la.Text, lb.Text); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a.Lines), len(b.Lines))
}

// sortConns puts the connections in their stable order.
func (t *Transcript) sortConns() {
	slices.SortStableFunc(t.Conns, compareConns)
}

// ErrNotTranscript is wrapped by the error Parse returns for input that
// does not start as a transcript does.
var ErrNotTranscript = errors.New("not a wsviz transcript")
