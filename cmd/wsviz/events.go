package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/wsviz/wsviz/analyze"
)

func init() {
	register("events", "decode a capture into annotated events: JSON Lines, or aligned text (-T text)", runEvents)
}

func runEvents(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wsviz events", flag.ContinueOnError)
	fs.SetOutput(stderr)
	df := addDecodeFlags(fs, decodeSpec{live: true, cut: true})
	format := fs.String("T", "json", "output `format`: json (one object per line: the contract for scripts) or text (one aligned line per event, like tshark; coloured on a terminal)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this `file` (go tool pprof; see docs/performance.md)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: wsviz events -r FILE [flags] [FILTER]
       wsviz events -i IFACE [flags] [FILTER]
       wsviz events -r FILE -w OUT.pcapng [--conn N | -Y EXPR] [-c N] [FILTER]

Decodes a capture file (-r FILE, or -r - for standard input: pcap or pcapng,
gzip-compressed or not) or live traffic (-i IFACE, Linux) into annotated
events in capture order: one JSON object per line (-T json, the default), or
one aligned line per event (-T text). FILTER is a tcpdump-style packet filter
such as "tcp port 8080" or "host 127.0.0.1 and not port 22"; flags may come
before or after it. -Y keeps the events that match a display filter
(docs/filters.md), --conn those of some connections.

With -r and -w, no events are printed: the packets that pass FILTER are
saved to a pcapng file, with their timestamps and interfaces; with --conn
or -Y, only the packets of the connections selected (those with an event
that matches), as editcap or tshark would cut them (wsviz numbers connections
from 1, tshark's tcp.stream from 0: --conn N is tcp.stream==N-1).

A progress line is drawn on standard error when it is a terminal, the input
a file and standard output not the same terminal (-q: never).

Exit status: 0 when everything was read, 1 when the input could not be read
to the end (what came before is printed), 2 on a usage error.

Flags:`)
		fs.PrintDefaults()
	}
	if err := df.parse(fs, args, stderr); err != nil {
		return err
	}
	if *format != "json" && *format != "text" {
		fmt.Fprintf(stderr, "wsviz events: -T %q: the formats are json and text\n", *format)
		return errUsage
	}
	if *cpuprofile != "" {
		stop, err := startCPUProfile(*cpuprofile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if !df.live.Live() && df.live.write != "" {
		return cutPackets(df, stderr)
	}
	in, err := df.open(stderr, liveOptions{})
	if err != nil {
		return err
	}
	defer in.Close()
	opts := df.options(in)

	if *format == "json" && !df.selects() && in.file != nil {
		// The fast path: DecodeJSON encodes the events on the workers
		// too, so both cores work on a capture of many connections, and
		// makes large writes itself: no bufio between.
		stop := startProgress(in, stderr, df.quiet || isTerminal(stdout))
		widenPipe(stdout)
		err := analyze.DecodeJSON(in.src, opts, jsonWriter(stdout))
		stop()
		return err
	}

	widenPipe(stdout)
	w := bufio.NewWriterSize(stdout, 256<<10)
	var write func(ev *analyze.Event) error
	tw := &textWriter{w: w, color: isTerminal(stdout) && os.Getenv("NO_COLOR") == ""}
	if *format == "text" {
		write = tw.write
	} else {
		var line []byte
		write = func(ev *analyze.Event) error {
			line = ev.AppendJSON(line[:0])
			line = append(line, '\n')
			_, err := w.Write(line)
			return err
		}
	}
	emit := func(ev *analyze.Event) error {
		tw.see(ev)
		if !df.keep(ev) {
			return nil
		}
		return write(ev)
	}
	if in.live != nil {
		in.live.Started(stderr)
		err = eventsLive(in.live, opts, w, emit)
		printNotes(in, stderr)
	} else {
		stop := startProgress(in, stderr, df.quiet || isTerminal(stdout))
		err = analyze.Decode(in.src, opts, emit)
		stop()
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

// eventsLive decodes a live capture until it stops, adding capture.stats
// events when the kernel drops packets and once at the end. Events reach
// a reader (a pipe, a terminal) as soon as the capture goes quiet, not
// only when the buffer fills.
func eventsLive(lc *liveCapture, opts analyze.Options, w *bufio.Writer, emit func(*analyze.Event) error) error {
	var last analyze.Event // time of the latest event
	var reported uint64
	stats := func(final bool) error {
		st := lc.Stats()
		if !final && st.Drops <= reported {
			return nil
		}
		reported = st.Drops
		at := last.Time
		if at.IsZero() {
			at = time.Now() // no event yet: when it is said, not the year 1
		}
		ev := analyze.Event{Type: analyze.TypeCaptureStats, Time: at, Packet: int64(st.Packets),
			Capture: analyze.Capture{Packets: int64(st.Packets), Drops: int64(st.Drops)}}
		ev.Note = fmt.Sprintf("%d packets captured so far; the kernel dropped %d because the capture could not keep up", st.Packets, st.Drops)
		if final {
			ev.Note = fmt.Sprintf("the capture stopped: %d packets captured, %d dropped by the kernel", st.Packets, st.Drops)
		}
		if st.Drops > 0 {
			ev.Warn("capture.drops", "the kernel dropped packets: their bytes appear as tcp.gap (raise --buffer or narrow the filter)")
		}
		return emit(&ev)
	}
	lc.OnIdle(func() {
		stats(false)
		w.Flush()
	})
	err := lc.Decode(opts, func(ev *analyze.Event) error {
		last.Time = ev.Time
		return emit(ev)
	})
	if serr := stats(true); err == nil {
		err = serr
	}
	return err
}

// startCPUProfile writes a CPU profile to path until the returned func is
// called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
