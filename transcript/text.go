package transcript

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsviz/wsviz/analyze/display"
	"github.com/wsviz/wsviz/capture/filter"
)

// WriteTo writes the transcript in its text form (docs/transcript.md).
func (t *Transcript) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	cw := &countWriter{w: bw}
	fmt.Fprintf(cw, "%s %d\n", magic, Version)
	t.writeHeader(cw)
	for i, c := range t.Conns {
		fmt.Fprintf(cw, "\nconnection %d %s\n", i+1, c.title())
		for _, l := range c.Lines {
			io.WriteString(cw, l.String())
			io.WriteString(cw, "\n")
		}
	}
	if err := bw.Flush(); err != nil && cw.err == nil {
		cw.err = err
	}
	return cw.n, cw.err
}

// String returns the transcript's text form.
func (t *Transcript) String() string {
	var b bytes.Buffer
	t.WriteTo(&b)
	return b.String()
}

func (t *Transcript) writeHeader(w io.Writer) {
	o := t.Options
	fmt.Fprintf(w, "keep %s\n", o.Keep)
	for _, p := range o.Ignore {
		fmt.Fprintf(w, "ignore %s\n", quoteRest(p))
	}
	for _, h := range o.IgnoreHeaders {
		fmt.Fprintf(w, "ignore-header %s\n", word(canonicalHeader(h)))
	}
	if o.Unordered {
		fmt.Fprintln(w, "unordered")
	}
	if o.Filter != "" {
		fmt.Fprintf(w, "filter %s\n", quoteRest(o.Filter))
	}
	if o.Display != "" {
		fmt.Fprintf(w, "display %s\n", quoteRest(o.Display))
	}
	if o.Inline > 0 && o.Inline != DefaultInline {
		fmt.Fprintf(w, "inline %d\n", o.Inline)
	}
	if t.Incomplete != "" {
		fmt.Fprintf(w, "incomplete %s\n", quoteRest(t.Incomplete))
	}
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// ParseError reports a line of a transcript that does not read.
type ParseError struct {
	Line int    // from 1
	Text string // the line
	Err  error
}

// Error returns "line N: what is wrong: the line".
func (e *ParseError) Error() string {
	text := e.Text
	if len(text) > 80 {
		text = text[:80] + "..."
	}
	return fmt.Sprintf("transcript: line %d: %v: %q", e.Line, e.Err, text)
}

// Unwrap returns e.Err.
func (e *ParseError) Unwrap() error { return e.Err }

// maxLine bounds one line of a transcript read by Parse.
const maxLine = 64 << 20

// Parse reads a transcript in its text form. Input that does not start
// with "wsviz transcript 1" is rejected with an error wrapping
// ErrNotTranscript; a line that does not read gives a *ParseError.
func Parse(r io.Reader) (*Transcript, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	n := 0
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		n++
		// A CRLF line end, and any carriage returns before it: String
		// quotes every control character it writes, so none ends a line.
		return strings.TrimRight(sc.Text(), "\r"), true
	}
	first, ok := next()
	if !ok {
		if err := sc.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("transcript: %w: the input is empty", ErrNotTranscript)
	}
	first = strings.TrimPrefix(first, "\uFEFF")
	v, found := strings.CutPrefix(first, magic+" ")
	if !found {
		return nil, fmt.Errorf("transcript: %w: the first line is %.40q, not %q", ErrNotTranscript, first, fmt.Sprintf("%s %d", magic, Version))
	}
	if ver, err := strconv.Atoi(v); err != nil || ver != Version {
		return nil, fmt.Errorf("transcript: format %q is not %d, the one this wsviz reads", v, Version)
	}
	t := &Transcript{}
	fail := func(text string, err error) error { return &ParseError{Line: n, Text: text, Err: err} }
	sawKeep := false
	var c *Conn
	var parent string // the kind of the last line of depth 0
	var stream uint32 // its stream
	for {
		line, ok := next()
		if !ok {
			break
		}
		if line == "" {
			continue
		}
		if c == nil && !strings.HasPrefix(line, "connection ") {
			if err := t.parseHeader(line, &sawKeep); err != nil {
				return nil, fail(line, err)
			}
			continue
		}
		if rest, ok := strings.CutPrefix(line, "connection "); ok {
			conn, err := parseConnTitle(rest, len(t.Conns)+1)
			if err != nil {
				return nil, fail(line, err)
			}
			c, parent, stream = conn, "", 0
			t.Conns = append(t.Conns, c)
			continue
		}
		l, err := parseLine(line, parent)
		if err != nil {
			return nil, fail(line, err)
		}
		if l.Depth == 0 {
			parent, _, _ = strings.Cut(l.Text, " ")
			stream = l.Stream
		} else {
			l.Stream = stream
		}
		c.Lines = append(c.Lines, l)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &ParseError{Line: n + 1, Err: fmt.Errorf("line longer than %d bytes", maxLine)}
		}
		return nil, err
	}
	if !sawKeep {
		return nil, fmt.Errorf("transcript: no keep line in the header")
	}
	return t, nil
}

// parseHeader reads one line of the header.
func (t *Transcript) parseHeader(line string, sawKeep *bool) error {
	key, val, _ := strings.Cut(line, " ")
	o := &t.Options
	var err error
	switch key {
	case "keep":
		if *sawKeep {
			return errors.New("a second keep line")
		}
		*sawKeep = true
		if val == "none" {
			o.Keep = KeepNone
			return nil
		}
		o.Keep, err = ParseKeep(val, KeepNone)
		return err
	case "ignore":
		var p string
		if p, err = unquoteRest(val); err != nil {
			return err
		}
		if _, err = compilePath(p); err != nil {
			return err
		}
		o.Ignore = append(o.Ignore, p)
	case "ignore-header":
		var h string
		if h, err = unword(val); err != nil {
			return err
		}
		o.IgnoreHeaders = append(o.IgnoreHeaders, h)
	case "unordered":
		if val != "" {
			return errors.New("unordered takes no value")
		}
		o.Unordered = true
	case "filter":
		if o.Filter, err = unquoteRest(val); err != nil {
			return err
		}
		if _, err = filter.Parse(o.Filter); err != nil {
			return err
		}
	case "display":
		if o.Display, err = unquoteRest(val); err != nil {
			return err
		}
		if _, err = display.Compile(o.Display); err != nil {
			return err
		}
	case "inline":
		if o.Inline, err = strconv.Atoi(val); err != nil || o.Inline <= 0 {
			return fmt.Errorf("bad inline limit %q", val)
		}
	case "incomplete":
		if t.Incomplete, err = unquoteRest(val); err != nil {
			return err
		}
		if t.Incomplete == "" {
			return errors.New("incomplete without a reason")
		}
	default:
		return fmt.Errorf("unknown header line %q", key)
	}
	return nil
}

// parseConnTitle reads "N KIND [PATH...]" (after "connection "): more
// than one path names the WebSockets of an HTTP/2 connection, sorted.
func parseConnTitle(s string, want int) (*Conn, error) {
	num, rest, err := nextToken(s)
	if err != nil {
		return nil, err
	}
	if n, err := strconv.Atoi(num); err != nil || n != want {
		return nil, fmt.Errorf("connection number %q, want %d", num, want)
	}
	kind, rest, err := nextToken(rest)
	if err != nil {
		return nil, err
	}
	c := &Conn{Kind: kind}
	switch kind {
	case "websocket", "http":
	case "tcp":
		if rest != "" {
			return nil, errors.New("a tcp connection has no path")
		}
		return c, nil
	default:
		return nil, fmt.Errorf("unknown kind of connection %q", kind)
	}
	if rest == " (midstream)" && kind == "websocket" {
		return c, nil
	}
	var paths []string
	for rest != "" {
		var p string
		if p, rest, err = nextToken(rest); err != nil {
			return nil, err
		}
		if p, err = unword(p); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	switch {
	case len(paths) == 0:
		return c, nil
	case len(paths) > 1 && kind != "websocket":
		return nil, errors.New("text after the path")
	case !slices.IsSorted(paths):
		return nil, errors.New("the WebSockets' paths are not sorted")
	}
	c.Path = paths[0]
	if len(paths) > 1 {
		c.MorePaths = paths[1:]
	}
	return c, nil
}

// lineKinds are the first words of the lines of depth 0 and 1.
var lineKinds = [2]map[string]bool{
	{"server-port": true, "endpoints": true, "begin": true, "request": true, "response": true,
		"websocket": true, "client": true, "server": true, "gap": true, "end": true, "event": true},
	{"header": true, "warning": true, "deflate": true, "frame": true},
}

// parseLine reads one line of a connection; parent is the first word of
// the last line of depth 0.
func parseLine(line, parent string) (Line, error) {
	var l Line
	indent := len(line) - len(strings.TrimLeft(line, " "))
	switch indent {
	case 2:
		l.Depth = 0
	case 4:
		l.Depth = 1
		if parent == "" {
			return l, errors.New("a detail line before any line it could belong to")
		}
	default:
		return l, fmt.Errorf("indented by %d spaces, want 2 or 4", indent)
	}
	text := line[indent:]
	if l.Depth == 0 && strings.HasPrefix(text, "+") {
		at, rest, ok := strings.Cut(text, " ")
		if !ok {
			return l, errors.New("a time and nothing else")
		}
		d, err := parseAt(at)
		if err != nil {
			return l, err
		}
		l.At, l.Timed, text = d, true, rest
	}
	if l.Depth == 0 && strings.HasPrefix(text, streamPrefix) {
		label, rest, _ := strings.Cut(text, " ")
		id, err := strconv.ParseUint(label[len(streamPrefix):], 10, 31)
		if err != nil || id == 0 {
			// RFC 9113 §5.1.1: a stream id is 31 bits, 0 being the
			// connection's own.
			return l, fmt.Errorf("bad stream %q, want stream=N (1 to 2^31-1)", label)
		}
		l.Stream, text = uint32(id), rest
	}
	l.Text = text
	kind, _, _ := strings.Cut(text, " ")
	if !lineKinds[l.Depth][kind] {
		return l, fmt.Errorf("unknown line %q", kind)
	}
	switch {
	case l.Depth == 0 && isMessageLine(text):
		if _, err := parseMessage(text); err != nil {
			return l, err
		}
	case kind == "header" && parent != "request" && parent != "response":
		return l, errors.New("a header line that follows no request or response")
	case kind == "header":
		if _, err := parseHeaderLine(text); err != nil {
			return l, err
		}
	default:
		if err := checkSimpleLine(kind, text, l.Stream); err != nil {
			return l, err
		}
	}
	return l, nil
}

// checkSimpleLine checks the lines whose form is fixed; stream is the
// line's HTTP/2 stream (0 for the connection's own).
func checkSimpleLine(kind, text string, stream uint32) error {
	fields := strings.Fields(text)
	number := func(s string) bool {
		n, err := strconv.ParseInt(s, 10, 64)
		return err == nil && n >= 0
	}
	ok := true
	switch kind {
	case "end":
		if stream != 0 {
			// How the stream ended (h2.stream_close): "end end_stream",
			// "end rst_stream client CANCEL".
			ok = text == "end end_stream" ||
				len(fields) == 4 && fields[1] == "rst_stream" && (fields[2] == "client" || fields[2] == "server")
			break
		}
		ok = len(fields) == 2 && (fields[1] == "fin" || fields[1] == "rst" || fields[1] == "capture" || fields[1] == "evicted" || fields[1] == "replaced")
	case "gap":
		ok = len(fields) == 3 && (fields[1] == "client" || fields[1] == "server") && number(fields[2])
	case "server-port":
		ok = len(fields) == 2 && number(fields[1])
	case "begin":
		ok = text == "begin no-syn"
	case "warning":
		ok = len(fields) == 2 || len(fields) == 3 && strings.HasPrefix(fields[2], "x") && number(fields[2][1:])
	case "client", "server":
		ok = isOrphanFrame(text) // a message was parsed before
	}
	if !ok {
		return errors.New("not a line of this kind's form (docs/transcript.md)")
	}
	return nil
}

// parseHeaderLine reads `header NAME: VALUE` and returns the name.
func parseHeaderLine(text string) (string, error) {
	rest := strings.TrimPrefix(text, "header ")
	name, rest, err := nextToken(rest)
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(name, ":") {
		if !strings.HasPrefix(rest, ": ") && !strings.HasPrefix(name, `"`) {
			return "", errors.New("a header line is `header NAME: VALUE`")
		}
		rest = strings.TrimPrefix(rest, ":")
	} else {
		name = strings.TrimSuffix(name, ":")
	}
	if !strings.HasPrefix(rest, " ") {
		return "", errors.New("a header line is `header NAME: VALUE`")
	}
	if _, err := unquoteRest(rest[1:]); err != nil {
		return "", fmt.Errorf("bad header value: %v", err)
	}
	return unword(name)
}

// parseAt reads "+1.234567" (seconds).
func parseAt(s string) (time.Duration, error) {
	sec, frac, ok := strings.Cut(s[1:], ".")
	if !ok || len(frac) != 6 {
		return 0, fmt.Errorf("bad time %q, want +S.UUUUUU", s)
	}
	a, err1 := strconv.ParseInt(sec, 10, 64)
	b, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || a < 0 || b < 0 || a > 1e9 {
		return 0, fmt.Errorf("bad time %q, want +S.UUUUUU", s)
	}
	return time.Duration(a)*time.Second + time.Duration(b)*time.Microsecond, nil
}
