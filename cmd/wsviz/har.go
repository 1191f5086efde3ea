package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/ui"
)

func init() {
	register("har", "export a capture's WebSocket connections as HAR with _webSocketMessages", runHAR)
}

func runHAR(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wsviz har", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("r", "", "read packets from this pcap or pcapng `file`")
	out := fs.String("o", "", "write the HAR to this `file` instead of standard output")
	opts := analyzeFlags(fs)
	// HAR tools expect whole messages.
	if f := fs.Lookup("full-payload"); f != nil {
		f.Value.Set("true")
		f.DefValue = "true"
	}
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: wsviz har -r FILE [-o OUT.har] [flags]\n\n"+
			"Writes an HTTP Archive (HAR 1.2) with one entry per WebSocket connection and its\n"+
			"text and binary messages in _webSocketMessages, as Chrome DevTools exports them.\n\nFlags:")
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
	// The same writer as the page's Export HAR: events go to a temporary
	// spill file and each connection is streamed from it.
	h, err := ui.NewHAR("")
	if err != nil {
		return err
	}
	defer h.Close()
	err = analyze.DecodeFile(*file, opts(), func(ev *analyze.Event) error {
		return h.Add(ev)
	})
	if err != nil {
		// The connections before the error are still worth having.
		fmt.Fprintf(stderr, "wsviz har: %v (writing what was decoded before it)\n", err)
	}
	w := stdout
	var f *os.File
	if *out != "" {
		if f, err = os.Create(*out); err != nil {
			return err
		}
		w = f
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	_, werr := h.WriteTo(bw)
	if ferr := bw.Flush(); werr == nil {
		werr = ferr
	}
	if f != nil {
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
	}
	if werr != nil {
		return werr
	}
	if err != nil {
		return errors.New("the capture could not be read to the end")
	}
	return nil
}
