package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture"
)

func init() {
	register("events", "decode a capture into annotated events, one JSON object per line", runEvents)
}

// analyzeFlags registers the analyzer's limits on fs; the returned func
// reads them back into Options after parsing.
func analyzeFlags(fs *flag.FlagSet) func() analyze.Options {
	fullPayload := fs.Bool("full-payload", false, "do not truncate payloads (up to --max-message bytes per message)")
	maxPayload := fs.Int("max-payload", analyze.DefaultMaxPayload, "payload bytes shown per message")
	maxMessage := fs.Int64("max-message", analyze.DefaultMaxMessage, "largest message decoded, after decompression, in bytes (deflate bombs stop here)")
	maxBuffer := fs.Int("max-buffer", analyze.DefaultMaxBufferPerConn, "out-of-order TCP bytes buffered per connection")
	maxBufferTotal := fs.Int64("max-buffer-total", analyze.DefaultMaxBufferTotal, "out-of-order TCP bytes buffered over all connections")
	maxConns := fs.Int("max-conns", analyze.DefaultMaxConns, "connections tracked at once; the least recently active is dropped past it")
	maxHistory := fs.Int64("max-deflate-history", analyze.DefaultMaxDeflateHistory, "permessage-deflate history held for all connections, in bytes (64 KiB per direction with context takeover)")
	keylog := addKeylogFlag(fs) // keylog.go
	return func() analyze.Options {
		o := analyze.Options{
			MaxPayload:        *maxPayload,
			MaxMessage:        *maxMessage,
			MaxBufferPerConn:  *maxBuffer,
			MaxBufferTotal:    *maxBufferTotal,
			MaxConns:          *maxConns,
			MaxDeflateHistory: *maxHistory,
		}
		if *fullPayload {
			o.MaxPayload = -1
		}
		keylog.apply(&o, fs.Output())
		return o
	}
}

func runEvents(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wsviz events", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("r", "", "read packets from this pcap or pcapng `file`")
	lf := addLiveFlags(fs)
	opts := analyzeFlags(fs)
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this `file` (go tool pprof; see docs/performance.md)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: wsviz events -r FILE [flags] [FILTER]
       wsviz events -i IFACE [flags] [FILTER]

Decodes a capture file (-r) or live traffic (-i, Linux) into annotated events,
one JSON object per line, in capture order. FILTER is a tcpdump-style expression
such as "tcp port 8080" or "host 127.0.0.1 and not port 22".

Flags:`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if (*file == "") == !lf.Live() {
		fmt.Fprintln(stderr, "wsviz events: give exactly one of -r FILE and -i IFACE")
		fs.Usage()
		return errUsage
	}
	if err := lf.Check(); err != nil {
		return err
	}
	if *cpuprofile != "" {
		stop, err := startCPUProfile(*cpuprofile)
		if err != nil {
			return err
		}
		defer stop()
	}
	widenPipe(stdout)
	w := bufio.NewWriterSize(stdout, 256<<10)
	var line []byte
	write := func(ev *analyze.Event) error {
		line = ev.AppendJSON(line[:0])
		line = append(line, '\n')
		_, err := w.Write(line)
		return err
	}
	var err error
	if lf.Live() {
		var lc *liveCapture
		if lc, err = lf.Open(fs.Args(), liveOptions{}, stderr); err != nil {
			return err
		}
		var last analyze.Event // time and packet of the latest event
		var reported uint64
		stats := func(final bool) error {
			st := lc.Stats()
			if !final && st.Drops <= reported {
				return nil
			}
			reported = st.Drops
			ev := analyze.Event{Type: analyze.TypeCaptureStats, Time: last.Time, Packet: int64(st.Packets),
				Capture: analyze.Capture{Packets: int64(st.Packets), Drops: int64(st.Drops)}}
			ev.Note = fmt.Sprintf("%d packets captured so far; the kernel dropped %d because the capture could not keep up", st.Packets, st.Drops)
			if final {
				ev.Note = fmt.Sprintf("the capture stopped: %d packets captured, %d dropped by the kernel", st.Packets, st.Drops)
			}
			if st.Drops > 0 {
				ev.Warn("capture.drops", "the kernel dropped packets: their bytes appear as tcp.gap (raise --buffer or narrow the filter)")
			}
			return write(&ev)
		}
		// Live events reach a reader (a pipe, a terminal) as soon as the
		// capture goes quiet, not only when the buffer fills.
		lc.OnIdle(func() {
			stats(false)
			w.Flush()
		})
		err = lc.Decode(opts(), func(ev *analyze.Event) error {
			last.Time = ev.Time
			return write(ev)
		})
		if serr := stats(true); err == nil {
			err = serr
		}
	} else {
		// DecodeJSON makes large writes itself: no bufio between.
		err = decodeEventsFile(*file, fs.Args(), opts(), jsonWriter(stdout))
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

// decodeEventsFile decodes a capture file into JSON Lines on w, keeping only
// the packets that match the filter expression in filterArgs (all when
// empty). DecodeJSON encodes the events on the workers too, so both cores
// work on a capture of many connections.
func decodeEventsFile(path string, filterArgs []string, opts analyze.Options, w io.Writer) error {
	f, err := capture.OpenFile(path)
	if err != nil {
		return err
	}
	defer f.Close()
	useFileSecrets(f, &opts) // keylog.go
	src, err := filterPackets(f, filterArgs)
	if err != nil {
		return err
	}
	return analyze.DecodeJSON(src, opts, w)
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
