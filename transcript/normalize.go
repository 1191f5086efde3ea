package transcript

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture"
)

// Normalize applies o's normalisations to a transcript that was read back
// (Parse): the Ignore paths to its JSON payloads, the ignored headers, the
// Unordered sort, and the connections' stable order. It is what a Builder
// with o does to a capture, for what a transcript still holds: a JSON
// payload written as a digest cannot be reached by a new Ignore path, and
// a detail it did not keep cannot be added (o.Keep and o.Inline must be
// its own: it returns an error otherwise).
func (t *Transcript) Normalize(o Options) error {
	if !o.Keep.Equal(t.Options.Keep) {
		return fmt.Errorf("transcript: it keeps %s, not %s", t.Options.Keep, o.Keep)
	}
	if o.inline() != t.Options.inline() {
		return fmt.Errorf("transcript: its inline limit is %d bytes, not %d", t.Options.inline(), o.inline())
	}
	if o.Filter != t.Options.Filter {
		return fmt.Errorf("transcript: it was made with packet filter %q, not %q", t.Options.Filter, o.Filter)
	}
	if o.Display != t.Options.Display {
		return fmt.Errorf("transcript: it was made with display filter %q, not %q", t.Options.Display, o.Display)
	}
	ign, err := compilePaths(o.Ignore)
	if err != nil {
		return err
	}
	headers := ignoredHeaders(o)
	for _, c := range t.Conns {
		lines := c.Lines[:0]
		for _, l := range c.Lines {
			switch {
			case l.Depth == 1 && strings.HasPrefix(l.Text, "header "):
				if name, err := parseHeaderLine(l.Text); err == nil && headers[canonicalHeader(name)] {
					continue
				}
			case l.Depth == 0 && len(ign) > 0 && isMessageLine(l.Text):
				if m, err := parseMessage(l.Text); err == nil && m.Encoding == "json" {
					if c, ok := canonicalJSON([]byte(m.Payload), ign); ok {
						m.Payload = string(c)
						l.Text = m.String()
					}
				}
			}
			lines = append(lines, l)
		}
		c.Lines = lines
		if o.Unordered {
			c.sortMessages()
		}
	}
	t.sortConns()
	t.Options = mergeOptions(t.Options, o)
	return nil
}

// mergeOptions adds o's normalisations to base's.
func mergeOptions(base, o Options) Options {
	for _, p := range o.Ignore {
		if !slices.Contains(base.Ignore, p) {
			base.Ignore = append(base.Ignore, p)
		}
	}
	for _, h := range o.IgnoreHeaders {
		if !slices.ContainsFunc(base.IgnoreHeaders, func(x string) bool { return strings.EqualFold(x, h) }) {
			base.IgnoreHeaders = append(base.IgnoreHeaders, h)
		}
	}
	base.Unordered = base.Unordered || o.Unordered
	return base
}

// Side is one side of a comparison: a capture file or a transcript file.
type Side struct {
	// Path is the file's name.
	Path string
	// Transcript is the file read as a transcript, or the transcript of
	// the capture once Resolve made it.
	Transcript *Transcript
	// IsCapture reports whether the file is a capture.
	IsCapture bool
}

// OpenSide reads a file that is either a capture (pcap, pcapng,
// gzip-compressed or not) or a transcript. A capture is only checked here;
// Resolve decodes it. Anything else is rejected with an error that says
// what the file is not.
func OpenSide(path string) (*Side, error) {
	f, err := capture.OpenFile(path)
	if err == nil {
		f.Close()
		return &Side{Path: path, IsCapture: true}, nil
	}
	if !errors.Is(err, capture.ErrNotCapture) {
		return nil, err
	}
	tf, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer tf.Close()
	t, err := Parse(tf)
	if errors.Is(err, ErrNotTranscript) {
		why := strings.TrimPrefix(err.Error(), "transcript: "+ErrNotTranscript.Error()+": ")
		return nil, &notEitherError{fmt.Sprintf("%s is neither a capture (pcap, pcapng) nor a wsviz transcript: %s", path, why)}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Side{Path: path, Transcript: t}, nil
}

// Resolve makes both sides comparable: the options are o's, with what the
// transcript files among the sides were made with (their kept details,
// inline limit, packet and display filters, which a capture is then
// transcribed with,
// and their normalisations, which apply to both sides). keepGiven says
// o.Keep was asked for rather than defaulted: it must then be what the
// transcript files keep. Captures are decoded with decode (see
// DecodeOptions).
func Resolve(o Options, keepGiven bool, decode analyze.Options, sides ...*Side) (Options, error) {
	var from *Side
	for _, s := range sides {
		if s.IsCapture {
			continue
		}
		so := s.Transcript.Options
		if from == nil {
			if keepGiven && !o.Keep.Equal(so.Keep) {
				return o, fmt.Errorf("%s keeps %s, not %s: give the same --keep, or none", s.Path, so.Keep, o.Keep)
			}
			o.Keep, o.Inline, o.Filter, o.Display = so.Keep, so.Inline, so.Filter, so.Display
			from = s
		} else {
			switch {
			case !so.Keep.Equal(o.Keep):
				return o, fmt.Errorf("%s keeps %s but %s keeps %s: transcripts made with different --keep cannot be compared", s.Path, so.Keep, from.Path, o.Keep)
			case so.inline() != o.inline():
				return o, fmt.Errorf("%s inlines payloads up to %d bytes but %s up to %d", s.Path, so.inline(), from.Path, o.inline())
			case so.Filter != o.Filter:
				return o, fmt.Errorf("%s was made with packet filter %q but %s with %q", s.Path, so.Filter, from.Path, o.Filter)
			case so.Display != o.Display:
				return o, fmt.Errorf("%s was made with display filter %q but %s with %q", s.Path, so.Display, from.Path, o.Display)
			}
		}
		o = mergeOptions(o, so)
	}
	for _, s := range sides {
		if s.IsCapture {
			t, err := ReadFile(s.Path, o, decode)
			if err != nil {
				return o, err
			}
			s.Transcript = t
			continue
		}
		if err := s.Transcript.Normalize(o); err != nil {
			return o, fmt.Errorf("%s: %w", s.Path, err)
		}
	}
	return o, nil
}

// notEitherError is OpenSide's error for a file that is neither a capture
// nor a transcript.
type notEitherError struct{ msg string }

func (e *notEitherError) Error() string { return e.msg }

// Unwrap returns ErrNotTranscript (and the file is not a capture either).
func (e *notEitherError) Unwrap() []error { return []error{ErrNotTranscript, capture.ErrNotCapture} }
