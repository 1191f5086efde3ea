package main

// The flags every command that decodes packets shares, defined in one
// place. A command registers them with addDecodeFlags, parses its
// arguments with df.parse (flags may come before or after the packet
// filter), and opens its input with df.open:
//
//	fs := flag.NewFlagSet("wsviz cmd", flag.ContinueOnError)
//	df := addDecodeFlags(fs, decodeSpec{live: true})
//	... the command's own flags ...
//	if err := df.parse(fs, args, stderr); err != nil {
//		return err // the usage error is already printed
//	}
//	in, err := df.open(stderr, liveOptions{})
//	if err != nil {
//		return err
//	}
//	defer in.Close()
//	err = analyze.Decode(in.src, df.options(in), func(ev *analyze.Event) error {
//		if !df.keep(ev) { return nil } // -Y and --conn
//		...
//	})
//
// A flag of the analyzer (a limit, a key log, a reordering window) is one
// line in analyzeFlags and one in the Options it returns: every command
// gets it.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/display"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/live"
)

// analyzeFlags registers the analyzer's options on fs; the returned
// func reads them back into Options after parsing.
func analyzeFlags(fs *flag.FlagSet) func() analyze.Options {
	fullPayload := fs.Bool("full-payload", false, "do not truncate payloads (up to --max-message bytes per message)")
	maxPayload := fs.Int("max-payload", analyze.DefaultMaxPayload, "payload bytes shown per message")
	maxMessage := fs.Int64("max-message", analyze.DefaultMaxMessage, "largest message decoded, after decompression, in bytes (deflate bombs stop here)")
	maxBuffer := fs.Int("max-buffer", analyze.DefaultMaxBufferPerConn, "out-of-order TCP bytes buffered per connection")
	maxBufferTotal := fs.Int64("max-buffer-total", analyze.DefaultMaxBufferTotal, "out-of-order TCP bytes buffered over all connections")
	maxConns := fs.Int("max-conns", analyze.DefaultMaxConns, "connections tracked at once; the least recently active is dropped past it")
	maxHistory := fs.Int64("max-deflate-history", analyze.DefaultMaxDeflateHistory, "permessage-deflate history held for all connections, in bytes (64 KiB per direction with context takeover)")
	keylog := addKeylogFlag(fs) // keylog.go
	reorderPackets := fs.Int("reorder-packets", analyze.DefaultReorderPackets, "reorder window, in packets: bytes acknowledged but not captured become a tcp.gap only once later data waited longer than this and --reorder-ms (negative: no wait)")
	reorderMS := fs.Int("reorder-ms", int(analyze.DefaultReorderTime/time.Millisecond), "reorder window, in milliseconds of capture time (see --reorder-packets; negative: no wait); also how long a reset connection lingers after its RST or its last data since")
	return func() analyze.Options {
		o := analyze.Options{
			MaxPayload:        *maxPayload,
			MaxMessage:        *maxMessage,
			MaxBufferPerConn:  *maxBuffer,
			MaxBufferTotal:    *maxBufferTotal,
			MaxConns:          *maxConns,
			MaxDeflateHistory: *maxHistory,
			ReorderPackets:    *reorderPackets,
			ReorderTime:       time.Duration(*reorderMS) * time.Millisecond,
		}
		if *fullPayload {
			o.MaxPayload = -1
		}
		keylog.apply(&o, fs.Output())
		return o
	}
}

// decodeSpec says which of the shared flags a command takes.
type decodeSpec struct {
	// live: -i and the live capture flags (-w, --duration, --snaplen,
	// --buffer) besides -r.
	live bool
	// cut: -w with -r saves the selected packets instead of decoding for
	// output (wsviz events).
	cut bool
}

// decodeFlags are the flags shared by the commands that decode packets,
// and what parsing made of them.
type decodeFlags struct {
	spec    decodeSpec
	name    string     // "wsviz events", for messages
	file    string     // -r: a capture file, "-" for standard input
	live    *liveFlags // -i and the capture flags (-c is here for files too)
	display string     // -Y
	conns   connList   // --conn
	quiet   bool       // -q
	analyze func() analyze.Options

	// Set by parse.
	filterArgs []string        // the packet filter: the arguments that are not flags
	filter     *display.Filter // -Y compiled; nil for none
}

// addDecodeFlags registers -r, -Y, --conn, -c, -q, the analyzer's options
// and, when spec.live, -i and the live capture flags.
func addDecodeFlags(fs *flag.FlagSet, spec decodeSpec) *decodeFlags {
	df := &decodeFlags{spec: spec, name: fs.Name(), live: &liveFlags{}}
	fs.StringVar(&df.file, "r", "", "read packets from this pcap or pcapng `file` (gzip too); - reads standard input")
	if spec.live {
		fs.StringVar(&df.live.iface, "i", "", "capture live from this `interface` (lo, eth0, any; wsviz -D lists them)")
		if spec.cut {
			fs.StringVar(&df.live.write, "w", "", "save packets to this pcapng `file`: with -i, as they are captured; with -r, the packets that pass the filters, instead of printing events")
		} else {
			fs.StringVar(&df.live.write, "w", "", "with -i: also save the captured packets to this pcapng `file`")
		}
		fs.DurationVar(&df.live.duration, "duration", 0, "with -i: stop after this long (e.g. 30s, 5m)")
		fs.IntVar(&df.live.snaplen, "snaplen", live.DefaultSnapLen, "with -i: bytes kept of each packet")
		fs.IntVar(&df.live.bufferMB, "buffer", live.DefaultBufferSize>>20, "with -i: kernel capture buffer in MiB (raise it if packets are dropped)")
	}
	fs.Int64Var(&df.live.count, "c", 0, "stop after this many packets that pass the packet filter")
	fs.StringVar(&df.display, "Y", "", "display filter: keep the events that match this `expression` (docs/filters.md), e.g. 'type == \"ws.message\" && len > 1000'")
	fs.Var(&df.conns, "conn", "keep the events of these connections only: a `list` such as 3 or 2,5-7 (numbers as in the events' conn)")
	fs.BoolVar(&df.quiet, "q", false, "quiet: no progress line, no line when a live capture starts and no closing summary on standard error (errors and warnings are still printed)")
	df.analyze = analyzeFlags(fs)
	return df
}

// parse parses args with fs, letting flags come before or after the
// packet filter ("--" ends the flags), and checks the shared flags. On a
// usage error it prints the message (and the usage text, or a caret under
// a bad -Y) and returns errUsage; -h returns flag.ErrHelp.
func (df *decodeFlags) parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage // the flag package printed the message and usage
	}
	df.filterArgs = rest
	if df.file == "-" {
		// Standard input is often a capture still running (tcpdump -U
		// -w -): one worker hands out each packet's events as it
		// arrives, where the sharded decoder would hold them until a
		// batch fills. A big file decodes faster with -r FILE.
		all := df.analyze
		df.analyze = func() analyze.Options {
			o := all()
			o.Workers = 1
			return o
		}
	}
	usage := func(format string, a ...any) error {
		fmt.Fprintf(stderr, "%s: %s\n", df.name, fmt.Sprintf(format, a...))
		fmt.Fprintf(stderr, "Run '%s -h' for the flags.\n", df.name)
		return errUsage
	}
	live := df.live.Live()
	switch {
	case df.file == "" && !live && df.spec.live:
		return usage("give -r FILE (or -r - for standard input) or -i IFACE")
	case df.file == "" && !live:
		return usage("give -r FILE (or -r - for standard input)")
	case df.file != "" && live:
		return usage("give exactly one of -r FILE and -i IFACE")
	}
	if err := df.live.Check(); err != nil {
		return usage("%v", err)
	}
	if df.live.write != "" && !live && !df.spec.cut {
		return usage("-w with -r: cut packets out of a file with wsviz events -r FILE -w OUT.pcapng")
	}
	if df.live.write != "" && !live && df.display != "" && df.file == "-" {
		return usage("-w with -Y reads the input twice: give a file, not -r -")
	}
	if df.live.count < 0 {
		return usage("-c cannot be negative")
	}
	if _, err := parseFilterArgs(df.filterArgs); err != nil {
		return usage("%v", err)
	}
	if df.display != "" {
		f, err := display.Compile(df.display)
		if err != nil {
			fmt.Fprintf(stderr, "%s: -Y: %v\n", df.name, err)
			var se *display.SyntaxError
			if errors.As(err, &se) {
				fmt.Fprintln(stderr, indent(se.Caret(), "  "))
			}
			return errUsage
		}
		df.filter = f
	}
	return nil
}

// parseInterspersed parses args with fs and returns the arguments that
// are not flags, in order: unlike fs.Parse, it goes on after the first of
// them, so that "wsviz events tcp port 80 -r x.pcap" works. An argument
// "--" ends the flags; everything after it is returned as it is.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		left := fs.Args()
		consumed := args[:len(args)-len(left)]
		if len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(rest, left...), nil
		}
		if len(left) == 0 {
			return rest, nil
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
}

// keep reports whether an event passes -Y and --conn.
func (df *decodeFlags) keep(ev *analyze.Event) bool {
	return df.conns.has(ev.Conn) && df.filter.Match(ev)
}

// selects reports whether -Y or --conn select some events (or, with -w,
// connections).
func (df *decodeFlags) selects() bool {
	return df.filter != nil || len(df.conns) > 0
}

// describe names what the command reads, for messages and the page.
func (df *decodeFlags) describe() string {
	if df.file == "-" {
		return "standard input"
	}
	return df.file
}

// input is an opened source of packets: a file (or standard input) with
// the packet filter and -c applied, or a live capture.
type input struct {
	src   capture.Source
	file  *capture.File // nil when live
	live  *liveCapture  // nil when reading a file
	name  string        // the file's name, "standard input", or the live description
	notes []string      // the decoder's notes on the whole capture (analyze.Options.OnNote)
}

// Close closes the file or stops the capture.
func (in *input) Close() error {
	if in.live != nil {
		return in.live.Close()
	}
	return in.file.Close()
}

// stdin is what -r - reads.
var stdin io.Reader = os.Stdin

// open opens the input the flags name: the file (gzip-compressed or not;
// "-" is standard input), filtered and limited to -c packets, or the live
// capture (see liveFlags.Open).
func (df *decodeFlags) open(stderr io.Writer, lo liveOptions) (*input, error) {
	if df.live.Live() {
		lc, err := df.live.Open(df.filterArgs, lo, stderr)
		if err != nil {
			return nil, err
		}
		lc.quiet = df.quiet
		return &input{src: lc, live: lc, name: lc.Describe()}, nil
	}
	var (
		f   *capture.File
		err error
	)
	if df.file == "-" {
		f, err = capture.NewReader(stdin, "standard input")
	} else {
		f, err = capture.OpenFile(df.file)
	}
	if err != nil {
		return nil, err
	}
	src, err := filterPackets(f, df.filterArgs)
	if err != nil {
		f.Close()
		return nil, err
	}
	if df.live.count > 0 {
		src = &limitSource{src: src, left: df.live.count}
	}
	return &input{src: src, file: f, name: df.describe()}, nil
}

// options returns the analyzer's options for decoding in: the flags', and
// what the input adds (inputOptions).
func (df *decodeFlags) options(in *input) analyze.Options {
	o := df.analyze()
	df.inputOptions(in, &o)
	return o
}

// inputOptions adds to o what decoding in needs beyond the flags: the TLS
// secrets a pcapng file carries, the decoder's notes (kept in in.notes),
// and the packet filter's precise test on
// the packets inside tunnels and fragments (filterPackets and a live
// capture's kernel filter let every packet through that may carry a
// match). The packet filter and -c wrap the file, which hides its secrets
// from analyze.Decode. Every command that decodes in uses it.
func (df *decodeFlags) inputOptions(in *input, o *analyze.Options) {
	o.OnNote = func(note string) { in.notes = append(in.notes, note) } // printed by startProgress's stop
	if in.file != nil {
		useFileSecrets(in.file, o) // keylog.go
	}
	if f, err := parseFilterArgs(df.filterArgs); err == nil && !f.Empty() {
		o.PacketFilter = f
	}
}

// limitSource ends a source after a number of packets (-c with -r).
type limitSource struct {
	src  capture.Source
	left int64
}

func (l *limitSource) ReadPacket() (capture.Packet, error) {
	if l.left <= 0 {
		return capture.Packet{}, io.EOF
	}
	l.left--
	return l.src.ReadPacket()
}

// connList is the value of --conn: connection numbers and ranges, such as
// "3" or "2,5-7"; the flag may be repeated.
type connList []connRange

type connRange struct{ lo, hi int }

func (c *connList) String() string {
	if c == nil {
		return ""
	}
	var parts []string
	for _, r := range *c {
		if r.lo == r.hi {
			parts = append(parts, strconv.Itoa(r.lo))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", r.lo, r.hi))
		}
	}
	return strings.Join(parts, ",")
}

func (c *connList) Set(s string) error {
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 1 || b < a {
			return fmt.Errorf("%q is not a connection number or range (such as 3 or 5-7; connections count from 1)", part)
		}
		*c = append(*c, connRange{a, b})
	}
	return nil
}

// has reports whether conn is in the list; every connection is when the
// list is empty.
func (c connList) has(conn int) bool {
	if len(c) == 0 {
		return true
	}
	return slices.ContainsFunc(c, func(r connRange) bool { return conn >= r.lo && conn <= r.hi })
}

// indent puts prefix before every line of s.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
