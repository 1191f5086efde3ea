package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/ui"
)

func init() {
	register("ui", "open the timeline in the browser, for a capture file (-r) or live (-i)", runUI)
}

// uiDefaultMaxPayload is the payload kept per message for the page: more
// than `events` prints, since the page fetches payloads only when shown.
const uiDefaultMaxPayload = 1 << 20

// uiMemoryLimit is the soft memory limit of `wsviz ui` (runtime/debug).
const uiMemoryLimit = 150 << 20

// uiConfig is what the ui command's flags say.
type uiConfig struct {
	in        *decodeFlags // -r or -i, the packet filter, -Y, --conn, -c, the analyzer's options
	addr      string
	open      bool
	analyze   analyze.Options
	maxEvents int
}

func runUI(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wsviz ui", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg uiConfig
	cfg.in = addDecodeFlags(fs, decodeSpec{live: true})
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:0", "serve the page on `host:port` (port 0 picks a free one); captured traffic is private: keep it on 127.0.0.1")
	fs.BoolVar(&cfg.open, "open", false, "open the page in the default browser")
	fs.IntVar(&cfg.maxEvents, "max-events", 0, "events kept for the page, later ones only counted (0: no limit; they are kept on disk)")
	if f := fs.Lookup("max-payload"); f != nil {
		f.Value.Set(strconv.Itoa(uiDefaultMaxPayload))
		f.DefValue = strconv.Itoa(uiDefaultMaxPayload)
	}
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: wsviz ui -r FILE [flags] [FILTER]
       wsviz ui -i IFACE [flags] [FILTER]
       wsviz FILE [flags] [FILTER]

Starts a web server on 127.0.0.1, prints its address and shows the WebSocket
connections on a timeline as the packets are read (-r - reads standard input).
FILTER is a tcpdump-style packet filter such as "tcp port 8080". -Y keeps the
events that match a display filter (docs/filters.md) and --conn those of some
connections: the others never reach the page, whose summary names the filter.
While a file is read, a progress line is drawn on the terminal (-q: not).

Flags:`)
		fs.PrintDefaults()
	}
	if err := cfg.in.parse(fs, args, stderr); err != nil {
		return err
	}
	cfg.analyze = cfg.in.analyze()
	return serveUI(context.Background(), cfg, stdout, stderr, nil)
}

// serveUI serves the timeline of cfg's source. A file's page stays up until
// ctx ends or an interrupt; a live capture stops at the first interrupt (or
// --duration, -c) and its page stays up until the next. ready, when set,
// gets the page's address once it is served.
func serveUI(ctx context.Context, cfg uiConfig, stdout, stderr io.Writer, ready func(url string)) error {
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	tcpAddr := ln.Addr().(*net.TCPAddr)
	uiOpts := ui.Options{MaxEvents: cfg.maxEvents, Version: versionString()}
	if !tcpAddr.IP.IsLoopback() {
		fmt.Fprintf(stderr, "wsviz ui: WARNING: serving on %s, reachable from other machines: whoever connects sees the captured traffic\n", ln.Addr())
		uiOpts.AllowedHosts = []string{"*"}
	}

	// Open the source before printing anything: a missing file or
	// permission is then the only thing the user sees.
	// The page's own traffic is never captured: it would feed itself.
	in, err := cfg.in.open(stderr, liveOptions{Exclude: []uint16{uint16(tcpAddr.Port)}})
	if err != nil {
		return err
	}
	defer in.Close()
	lc := in.live
	cfg.in.inputOptions(in, &cfg.analyze)

	// The server's live memory is small and flat (the events are on
	// disk); a soft limit makes the collector return the garbage of
	// decoding before the heap doubles, so that the peak stays under
	// about 200 MB whatever the capture. GOMEMLIMIT overrides it.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(uiMemoryLimit)
	}
	srv, err := ui.NewServer(uiOpts)
	if err != nil {
		return err
	}
	defer srv.Close()
	onNote := cfg.analyze.OnNote // on stderr too
	cfg.analyze.OnNote = func(note string) {
		onNote(note)
		srv.Note(note) // the notice bar
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()

	url := "http://" + pageHost(ln.Addr()) + "/"
	var publishErr, quitting atomic.Bool
	emit := func(ev *analyze.Event) error {
		if quitting.Load() {
			return errQuit // the user quit while the file was read: stop decoding
		}
		if !cfg.in.keep(ev) {
			return nil
		}
		if err := srv.Publish(ev); err != nil && !quitting.Load() && publishErr.CompareAndSwap(false, true) {
			fmt.Fprintf(stderr, "wsviz ui: %v; later events are shown without details\n", err)
		}
		return nil
	}
	source := in.name
	if f, err := parseFilterArgs(cfg.in.filterArgs); err == nil && !f.Empty() && lc == nil {
		source += " (" + f.String() + ")" // as a live capture names its filter
	}
	if cfg.in.display != "" {
		source += " -Y " + strconv.Quote(cfg.in.display)
	}
	if len(cfg.in.conns) > 0 {
		source += " --conn " + cfg.in.conns.String()
	}
	done := make(chan error, 1)
	if lc == nil {
		// The summary counts the packets decoded (past the packet filter
		// and -c), which events alone cannot tell (the last packets, such
		// as the final ACK, complete no event).
		var packetsRead atomic.Int64
		src := packetCounter{in.src, &packetsRead}
		srv.SetSource(source)
		fmt.Fprintf(stdout, "wsviz: the timeline of %s is at %s (Ctrl-C quits)\n", in.name, url)
		stop := startProgress(in, stderr, cfg.in.quiet)
		go func() {
			background() // background_linux.go
			err := decodeFile(in.file, src, cfg.analyze, srv, emit, &packetsRead)
			stop()
			done <- err
		}()
	} else {
		srv.SetSource("live: " + source)
		fmt.Fprintf(stdout, "wsviz: the live timeline of %s is at %s (Ctrl-C stops capturing, then quits)\n", lc.Describe(), url)
		go func() { done <- captureLive(lc, cfg.analyze, srv, emit) }()
	}
	if cfg.open {
		if err := openBrowser(url); err != nil {
			fmt.Fprintf(stderr, "wsviz ui: cannot open a browser (%v); open %s yourself\n", err, url)
		}
	}
	if ready != nil {
		ready(url)
	}
	if lc != nil {
		// The live capture handles the first interrupt itself: it stops.
		if err := <-done; err != nil {
			fmt.Fprintf(stderr, "wsviz ui: %v (the events before it are shown)\n", err)
		}
		fmt.Fprintln(stderr, "wsviz ui: capture stopped; the page stays up until Ctrl-C")
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if lc == nil {
		select {
		case err := <-done:
			if err != nil {
				fmt.Fprintf(stderr, "wsviz ui: %v (the events before it are shown)\n", err)
			}
		case <-ctx.Done():
			// Stop the decoder before the server closes (deferred above),
			// so that it does not write to a closed server, nor say so:
			// it stops at its next event, or is left behind after a
			// second when its input blocks (-r - from a quiet pipe).
			quitting.Store(true)
			select {
			case <-done:
			case <-time.After(time.Second):
			}
			return nil
		}
	}
	<-ctx.Done()
	return nil
}

// errQuit stops the decoding of a file when the user quits wsviz ui.
var errQuit = errors.New("quit")

// decodeFile feeds a capture file (src reads it, maybe filtered) to the
// server, with progress.
func decodeFile(f *capture.File, src capture.Source, opts analyze.Options, srv *ui.Server, emit func(*analyze.Event) error, packets *atomic.Int64) error {
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				srv.Progress(f.Progress())
				srv.SetPackets(packets.Load())
			}
		}
	}()
	err := analyze.Decode(src, opts, emit)
	srv.Progress(f.Progress())
	srv.SetPackets(packets.Load())
	for _, note := range f.Skipped() {
		srv.Note(note)
	}
	srv.Done(err)
	return err
}

// captureLive feeds a live capture to the server until it stops, with the
// capture's packet and drop counts.
func captureLive(lc *liveCapture, opts analyze.Options, srv *ui.Server, emit func(*analyze.Event) error) error {
	stats := func(capturing bool) {
		st := lc.Stats()
		srv.SetStats(ui.Stats{Packets: int64(st.Packets), Drops: int64(st.Drops), Capturing: capturing})
	}
	stats(true)
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				stats(true)
			}
		}
	}()
	err := lc.Decode(opts, emit)
	close(stop)
	stats(false)
	srv.Done(err)
	return err
}

// pageHost is the host:port to print: a wildcard address is shown as
// 127.0.0.1 so the link works on this machine.
func pageHost(a net.Addr) string {
	t, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if t.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(t.Port))
	}
	return t.String()
}

func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	return cmd.Start()
}

// packetCounter counts the packets read from a source: the summary's packet
// count, which events alone cannot tell (the last packets, such as the
// final ACK, complete no event).
type packetCounter struct {
	src capture.Source
	n   *atomic.Int64
}

func (c packetCounter) ReadPacket() (capture.Packet, error) {
	p, err := c.src.ReadPacket()
	if err == nil {
		c.n.Add(1)
	}
	return p, err
}
