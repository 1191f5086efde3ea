package transcript

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Message is one message line of a transcript:
//
//	client text 36 json {"seq":1,"type":"hello"}
//	server close 5 code=1000 text "bye"
//	client binary 70000 wire=312 compressed frames=1 sha256 9f86d0...
type Message struct {
	From   string // "client" or "server": who sent it
	Opcode string // "text", "binary", "ping", "pong", "close", "reserved-N"
	// Size is the payload length after decompression; -1 when unknown
	// (Undecodable).
	Size int64
	// Truncated: the payload shown is not all of it (bytes lost, a limit
	// hit). Undecodable: its bytes cannot be known at all.
	Truncated, Undecodable bool
	// Wire, Compressed and Frames are kept with KeepFrames: the payload
	// bytes on the wire, RSV1 under permessage-deflate, the frame count.
	Wire       int64
	Compressed bool
	Frames     int
	// Packets are the packets that carried it (KeepPackets).
	Packets []int64
	// Code is a close message's status code (when it has one).
	Code int
	// Encoding is how Payload is written: "json" (canonical), "text"
	// (quoted), "hex", "base64", "sha256" (the digest of a payload past
	// the inline limit), "empty" (no payload), "none" (unknown).
	Encoding string
	Payload  string
}

// String returns the message line's text.
func (m *Message) String() string {
	var b strings.Builder
	b.WriteString(m.From + " " + word(m.Opcode) + " ")
	if m.Size < 0 {
		b.WriteString("?")
	} else {
		b.WriteString(strconv.FormatInt(m.Size, 10))
	}
	if m.Truncated {
		b.WriteString(" truncated")
	}
	if m.Undecodable {
		b.WriteString(" undecodable")
	}
	if m.Frames > 0 {
		b.WriteString(" wire=" + strconv.FormatInt(m.Wire, 10))
		if m.Compressed {
			b.WriteString(" compressed")
		}
		b.WriteString(" frames=" + strconv.Itoa(m.Frames))
	}
	if len(m.Packets) > 0 {
		b.WriteString(" packets=")
		for i, p := range m.Packets {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(p, 10))
		}
	}
	if m.Code != 0 {
		b.WriteString(" code=" + strconv.Itoa(m.Code))
	}
	b.WriteString(" " + m.Encoding)
	switch m.Encoding {
	case "empty", "none":
	case "text":
		b.WriteString(" " + strconv.Quote(m.Payload))
	default:
		b.WriteString(" " + m.Payload)
	}
	return b.String()
}

// isMessageLine reports whether a line of depth 0 is a message.
func isMessageLine(text string) bool {
	return isSent(text) && !isOrphanFrame(text)
}

// isSent reports whether a line of depth 0 is something a side sent: a
// message, or a frame of no message ("client frame ...").
func isSent(text string) bool {
	return strings.HasPrefix(text, "client ") || strings.HasPrefix(text, "server ")
}

// isOrphanFrame reports whether a line is a frame of no message.
func isOrphanFrame(text string) bool {
	return strings.HasPrefix(text, "client frame ") || strings.HasPrefix(text, "server frame ")
}

// parseMessage reads a message line's text.
func parseMessage(text string) (*Message, error) {
	var m Message
	tok, rest, err := nextToken(text)
	if err != nil {
		return nil, err
	}
	if tok != "client" && tok != "server" {
		return nil, fmt.Errorf("a message starts with client or server, not %q", tok)
	}
	m.From = tok
	if m.Opcode, rest, err = nextToken(rest); err != nil {
		return nil, err
	}
	var size string
	if size, rest, err = nextToken(rest); err != nil {
		return nil, err
	}
	if size == "?" {
		m.Size = -1
	} else if m.Size, err = strconv.ParseInt(size, 10, 64); err != nil || m.Size < 0 {
		return nil, fmt.Errorf("bad message size %q", size)
	}
	for {
		if tok, rest, err = nextToken(rest); err != nil {
			return nil, err
		}
		key, val, hasVal := strings.Cut(tok, "=")
		switch {
		case tok == "truncated":
			m.Truncated = true
		case tok == "undecodable":
			m.Undecodable = true
		case tok == "compressed":
			m.Compressed = true
		case hasVal && key == "wire":
			if m.Wire, err = strconv.ParseInt(val, 10, 64); err != nil {
				return nil, fmt.Errorf("bad wire size %q", val)
			}
		case hasVal && key == "frames":
			if m.Frames, err = strconv.Atoi(val); err != nil || m.Frames <= 0 {
				return nil, fmt.Errorf("bad frame count %q", val)
			}
		case hasVal && key == "code":
			if m.Code, err = strconv.Atoi(val); err != nil || m.Code <= 0 {
				return nil, fmt.Errorf("bad close code %q", val)
			}
		case hasVal && key == "packets":
			for _, p := range strings.Split(val, ",") {
				n, err := strconv.ParseInt(p, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("bad packet number %q", p)
				}
				m.Packets = append(m.Packets, n)
			}
		case tok == "empty" || tok == "none":
			if rest != "" {
				return nil, fmt.Errorf("text after %q", tok)
			}
			m.Encoding = tok
			return &m, nil
		case tok == "json" || tok == "hex" || tok == "base64" || tok == "sha256":
			if rest == "" || rest[0] != ' ' {
				return nil, fmt.Errorf("%s without a payload", tok)
			}
			m.Encoding, m.Payload = tok, rest[1:]
			return &m, m.checkPayload()
		case tok == "text":
			var q string
			if q, rest, err = nextToken(rest); err != nil {
				return nil, err
			}
			if rest != "" {
				return nil, errors.New("text after the quoted payload")
			}
			if !strings.HasPrefix(q, `"`) {
				return nil, errors.New("a text payload is quoted")
			}
			uq, err := strconv.Unquote(q)
			if err != nil {
				return nil, fmt.Errorf("bad quoted payload: %v", err)
			}
			m.Encoding, m.Payload = tok, uq
			return &m, nil
		default:
			return nil, fmt.Errorf("unknown message attribute %q", tok)
		}
	}
}

// checkPayload checks the payload of the encodings written unquoted.
func (m *Message) checkPayload() error {
	switch m.Encoding {
	case "json":
		if _, ok := parseJSON([]byte(m.Payload)); !ok {
			return fmt.Errorf("json payload that is not a JSON object or array: %.40q", m.Payload)
		}
	case "hex", "sha256":
		for _, c := range []byte(m.Payload) {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return fmt.Errorf("%s payload with a byte that is not lowercase hex: %q", m.Encoding, c)
			}
		}
		if m.Encoding == "sha256" && len(m.Payload) != 64 {
			return fmt.Errorf("sha256 digest of %d hex digits, want 64", len(m.Payload))
		}
	case "base64":
		if strings.ContainsAny(m.Payload, " \t") {
			return errors.New("base64 payload with a space")
		}
	}
	return nil
}

// nextToken returns the next space-separated token of s (which starts
// with the separating space, or at the first token) and what follows it. A
// token starting with a quote is a Go-quoted string, spaces included.
func nextToken(s string) (tok, rest string, err error) {
	s = strings.TrimPrefix(s, " ")
	if s == "" {
		return "", "", errors.New("line ends early")
	}
	if s[0] == '"' {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return "", "", fmt.Errorf("bad quoted string: %.40s", s)
		}
		return q, s[len(q):], nil
	}
	i := strings.IndexByte(s, ' ')
	if i < 0 {
		return s, "", nil
	}
	return s[:i], s[i:], nil
}

// unword reads back a token written by word.
func unword(tok string) (string, error) {
	if strings.HasPrefix(tok, `"`) {
		return strconv.Unquote(tok)
	}
	return tok, nil
}

// word writes s as one token: as it is when it is plain printable ASCII
// without spaces or quotes, Go-quoted otherwise.
func word(s string) string {
	if s == "" {
		return `""`
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' {
			return strconv.Quote(s)
		}
	}
	return s
}

// quoteRest writes s as the rest of a line: as it is when it reads back the
// same (printable, no surrounding spaces, not starting with a quote),
// Go-quoted otherwise.
func quoteRest(s string) string {
	if s == "" || s[0] == '"' || s[0] == ' ' || s[len(s)-1] == ' ' || !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// unquoteRest reads back what quoteRest wrote.
func unquoteRest(s string) (string, error) {
	if strings.HasPrefix(s, `"`) {
		return strconv.Unquote(s)
	}
	return s, nil
}

// sortMessages orders a connection's messages as a multiset per
// direction (Options.Unordered), each HTTP/2 stream's on its own: of a
// stream's lines, those before its first message and from its last on
// stay; the messages in between, each with the detail lines under it (and
// the stream's other lines there), are sorted client first, then server,
// by their text, into the places the stream's lines held.
func (c *Conn) sortMessages() {
	// Items: a line of depth 0 and the detail lines under it.
	var items [][]Line
	for i, l := range c.Lines {
		if l.Depth == 0 || len(items) == 0 {
			items = append(items, nil)
		}
		items[len(items)-1] = append(items[len(items)-1], c.Lines[i])
	}
	// The span of each stream's items from its first message to its last.
	type span struct{ first, last int }
	spans := map[uint32]*span{}
	for k, it := range items {
		if it[0].Depth != 0 || !isSent(it[0].Text) {
			continue
		}
		sp := spans[it[0].Stream]
		if sp == nil {
			sp = &span{first: k}
			spans[it[0].Stream] = sp
		}
		sp.last = k
	}
	if len(spans) == 0 {
		return
	}
	inSpan := func(k int) bool {
		sp := spans[items[k][0].Stream]
		return sp != nil && sp.first <= k && k <= sp.last
	}
	sorted := map[uint32][][]Line{}
	for k, it := range items {
		if inSpan(k) {
			sorted[it[0].Stream] = append(sorted[it[0].Stream], it)
		}
	}
	rank := func(l Line) int {
		switch {
		case strings.HasPrefix(l.Text, "client "):
			return 0
		case strings.HasPrefix(l.Text, "server "):
			return 1
		}
		return 2
	}
	for _, its := range sorted {
		slices.SortStableFunc(its, func(a, b []Line) int {
			if ra, rb := rank(a[0]), rank(b[0]); ra != rb {
				return ra - rb
			}
			for i := range min(len(a), len(b)) {
				if c := strings.Compare(a[i].Text, b[i].Text); c != 0 {
					return c
				}
			}
			return len(a) - len(b)
		})
	}
	lines := make([]Line, 0, len(c.Lines))
	for k, it := range items {
		if inSpan(k) {
			s := it[0].Stream
			it, sorted[s] = sorted[s][0], sorted[s][1:]
		}
		lines = append(lines, it...)
	}
	c.Lines = lines
}
