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
	df := addDecodeFlags(fs, decodeSpec{})
	out := fs.String("o", "", "write the HAR to this `file` instead of standard output")
	// HAR tools expect whole messages.
	if f := fs.Lookup("full-payload"); f != nil {
		f.Value.Set("true")
		f.DefValue = "true"
	}
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: wsviz har -r FILE [-o OUT.har] [flags] [FILTER]

Writes an HTTP Archive (HAR 1.2) with one entry per WebSocket connection and its
text and binary messages in _webSocketMessages, as Chrome DevTools exports them.
-r - reads standard input. FILTER is a tcpdump-style packet filter; -Y keeps the
events that match a display filter (docs/filters.md), so -Y 'from == "client"'
exports what the clients sent, and --conn N one connection.

Exit status: 0 when the capture was read to the end, 1 when it could not be
(the HAR of what came before is still written), 2 on a usage error.

Flags:`)
		fs.PrintDefaults()
	}
	if err := df.parse(fs, args, stderr); err != nil {
		return err
	}
	in, err := df.open(stderr, liveOptions{})
	if err != nil {
		return err
	}
	defer in.Close()
	// The output is created before the long decode, so that a path that
	// cannot be written fails at once.
	w := stdout
	var f *os.File
	if *out != "" {
		if f, err = os.Create(*out); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	// The same writer as the page's Export HAR: events go to a temporary
	// spill file and each connection is streamed from it.
	h, err := ui.NewHAR("")
	if err != nil {
		return err
	}
	defer h.Close()
	h.SetCreatorVersion(versionString())
	stop := startProgress(in, stderr, df.quiet || f == nil && isTerminal(stdout))
	decodeErr := analyze.Decode(in.src, df.options(in), func(ev *analyze.Event) error {
		if !df.keep(ev) {
			return nil
		}
		return h.Add(ev)
	})
	stop()
	if decodeErr != nil {
		// The connections before the error are still worth having.
		fmt.Fprintf(stderr, "wsviz har: %v (writing what was decoded before it)\n", decodeErr)
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
	if decodeErr != nil {
		return errAfterOutput
	}
	return nil
}

// errAfterOutput is returned by a command that already printed why its
// input could not be read to the end: exit status 1, nothing more said.
var errAfterOutput = errors.New("the input could not be read to the end")
