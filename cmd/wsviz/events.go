package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/wsviz/wsviz/analyze"
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
	return func() analyze.Options {
		o := analyze.Options{
			MaxPayload:       *maxPayload,
			MaxMessage:       *maxMessage,
			MaxBufferPerConn: *maxBuffer,
			MaxBufferTotal:   *maxBufferTotal,
			MaxConns:         *maxConns,
		}
		if *fullPayload {
			o.MaxPayload = -1
		}
		return o
	}
}

func runEvents(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wsviz events", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("r", "", "read packets from this pcap or pcapng `file`")
	opts := analyzeFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: wsviz events -r FILE [flags]\n\nDecodes a capture into annotated events, one JSON object per line, in capture order.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if *file == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	w := bufio.NewWriterSize(stdout, 256<<10)
	var line []byte
	err := analyze.DecodeFile(*file, opts(), func(ev *analyze.Event) error {
		line = ev.AppendJSON(line[:0])
		line = append(line, '\n')
		_, err := w.Write(line)
		return err
	})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}
