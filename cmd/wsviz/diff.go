package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/transcript"
)

func init() {
	register("diff", "compare two captures or transcripts connection by connection (exit 0 equal, 1 differ, 2 error)", runDiff)
}

func runDiff(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wsviz diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	topts := transcriptFlags(fs)
	tolerance := fs.Duration("tolerance", 0, "with --keep times, times this far apart are equal (e.g. 50ms)")
	context := fs.Int("U", transcript.DefaultContext, "unchanged `lines` shown around each change")
	quiet := fs.Bool("q", false, "print only whether they differ, not how")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: wsviz diff [flags] OLD NEW

Compares two recordings of a session. OLD and NEW are each a capture (pcap,
pcapng) or a transcript written by "wsviz transcript". Both are transcribed
alike (a transcript's own options apply to the capture it is compared with)
and compared connection by connection: connections are matched by what they
are (kind, path, content), not by number, so clients that connected in
another order are still equal; two HTTP/2 connections are compared stream by
stream, their streams matched the same way, so the WebSockets sharing one are
told apart and neither the order their messages interleaved in nor the
stream ids count. Differences are printed as a unified diff of the
transcripts, each hunk naming the connection (and the stream) and the
message.

Exit status: 0 equal, 1 different, 2 error (a file that is neither, a capture
that could not be read to the end).

Flags:`)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if len(pos) != 2 {
		fmt.Fprintf(stderr, "wsviz diff: want two files, OLD and NEW, got %d arguments\n", len(pos))
		fs.Usage()
		return errUsage
	}
	o, keepGiven, err := topts()
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	fail := func(err error) error { return &exitError{Code: 2, Err: err} }
	var sides [2]*transcript.Side
	for i, p := range pos {
		if sides[i], err = transcript.OpenSide(p); err != nil {
			return fail(err)
		}
	}
	if _, err := transcript.Resolve(o, keepGiven, analyze.Options{}, sides[0], sides[1]); err != nil {
		return fail(err)
	}
	for _, s := range sides {
		if s.Transcript.Incomplete != "" {
			return fail(fmt.Errorf("%s is incomplete, so the comparison would say nothing: %s", s.Path, s.Transcript.Incomplete))
		}
	}
	d, err := transcript.Diff(sides[0].Transcript, sides[1].Transcript, transcript.DiffOptions{TimeTolerance: *tolerance, Context: *context})
	if err != nil {
		return fail(err)
	}
	if d.Equal() {
		return nil
	}
	if !*quiet {
		if err := d.WriteTo(stdout, pos[0], pos[1]); err != nil {
			return fail(err)
		}
	}
	fmt.Fprintf(stderr, "wsviz diff: %s\n", d.Summary())
	return &exitError{Code: 1}
}
