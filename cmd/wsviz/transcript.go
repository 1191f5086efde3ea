package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/transcript"
)

func init() {
	register("transcript", "write a capture's stable text transcript, for golden files (docs/transcript.md)", runTranscript)
}

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string { return strings.Join(*r, " ") }

func (r *repeated) Set(s string) error {
	*r = append(*r, s)
	return nil
}

// transcriptFlags registers what a transcript keeps and how it is
// normalised; the returned func reads them back after parsing, and says
// whether --keep was given.
func transcriptFlags(fs *flag.FlagSet) func() (transcript.Options, bool, error) {
	keep := fs.String("keep", "", "details to keep besides the server's port, a comma-separated `list` of "+
		strings.Join(transcript.KeepNames(), ", ")+"; -NAME drops one (-port), none drops all")
	var ignore, ignoreHeader repeated
	fs.Var(&ignore, "ignore", "replace the values this `JSONPATH` selects in JSON messages by \"<ignored>\" ($.id, $..timestamp, $.items[*].id); repeatable")
	fs.Var(&ignoreHeader, "ignore-header", "leave this HTTP header `name` out, as the volatile ones (keys, dates, cookies) are; repeatable")
	unordered := fs.Bool("unordered", false, "compare each connection's messages as a multiset per direction (sorted), for messages that may interleave differently")
	inline := fs.Int("inline", transcript.DefaultInline, "largest payload written out, in `bytes`; larger ones are written as their SHA-256 digest")
	return func() (transcript.Options, bool, error) {
		o := transcript.Options{Ignore: ignore, IgnoreHeaders: ignoreHeader, Unordered: *unordered, Inline: *inline}
		given := false
		fs.Visit(func(f *flag.Flag) { given = given || f.Name == "keep" })
		k, err := transcript.ParseKeep(*keep, transcript.DefaultKeep)
		if err != nil {
			return o, given, err
		}
		o.Keep = k
		for _, p := range ignore {
			if _, err := transcript.NewBuilder(transcript.Options{Ignore: []string{p}}); err != nil {
				return o, given, err
			}
		}
		return o, given, nil
	}
}

func runTranscript(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wsviz transcript", flag.ContinueOnError)
	fs.SetOutput(stderr)
	df := addDecodeFlags(fs, decodeSpec{})
	out := fs.String("o", "", "write the transcript to this `file` instead of standard output")
	topts := transcriptFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: wsviz transcript -r FILE [-o OUT] [-Y EXPR] [flags] [FILTER]

Writes a stable, human-readable transcript of the capture's connections, meant
to be committed as a golden file and compared with "wsviz diff": per connection,
in an order that does not depend on when it was opened, the upgrade request and
response (volatile headers left out), then every message with its direction,
type, size and payload (JSON with sorted keys), close codes and warnings by
code. No times, client ports, masks or packet numbers unless --keep asks.
FILTER is a tcpdump-style packet filter; -Y writes only the events a display
filter matches (docs/filters.md); both are recorded in the transcript. --conn
selects connections by their number in this capture, which another recording
may not share. The format: docs/transcript.md.

Exit status: 0; 1 on an input error: a file that is not a capture, or one that
could not be read to the end (the transcript of what was decoded is written,
marked incomplete); 2 on usage.

Flags:`)
		fs.PrintDefaults()
	}
	if err := df.parse(fs, args, stderr); err != nil {
		return err
	}
	o, _, err := topts()
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	o.Filter = strings.Join(df.filterArgs, " ")
	o.Display = displayExpr(df)
	b, err := transcript.NewBuilder(o)
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	in, err := df.open(stderr, liveOptions{})
	if err != nil {
		return err
	}
	defer in.Close()
	stop := startProgress(in, stderr, df.quiet || *out == "" && isTerminal(stdout))
	derr := analyze.Decode(in.src, transcript.DecodeOptions(df.options(in)), func(ev *analyze.Event) error {
		b.Add(ev) // the Builder applies -Y itself, so that connections keep their names
		return nil
	})
	stop()
	t := b.Transcript(transcript.IncompleteReason(derr))
	if err := writeTranscript(t, *out, stdout); err != nil {
		return err
	}
	if t.Incomplete != "" {
		return fmt.Errorf("the capture could not be read to the end (the transcript says so): %s", t.Incomplete)
	}
	return nil
}

// displayExpr is the display filter a transcript records: -Y, and --conn
// as a condition on conn.
func displayExpr(df *decodeFlags) string {
	expr := df.display
	if len(df.conns) == 0 {
		return expr
	}
	var conds []string
	for _, r := range df.conns {
		if r.lo == r.hi {
			conds = append(conds, fmt.Sprintf("conn == %d", r.lo))
		} else {
			conds = append(conds, fmt.Sprintf("conn >= %d && conn <= %d", r.lo, r.hi))
		}
	}
	c := "(" + strings.Join(conds, ") || (") + ")"
	if expr == "" {
		return c
	}
	return "(" + expr + ") && (" + c + ")"
}

// writeTranscript writes t to the file path, or to stdout when path is "".
func writeTranscript(t *transcript.Transcript, path string, stdout io.Writer) error {
	if path == "" {
		_, err := t.WriteTo(stdout)
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := t.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
