package main

// Live capture flags and wiring, shared by the commands that read packets
// from an interface (events, ui, demo). A command registers the flags with
// addLiveFlags and, when liveFlags.Live reports that -i was given, opens the
// capture and decodes it:
//
//	lf := addLiveFlags(fs)
//	... fs.Parse(args) ...
//	if err := lf.Check(); err != nil { ... usage error ... }
//	if lf.Live() {
//		lc, err := lf.Open(fs.Args(), liveOptions{}, stderr) // trailing args: the filter
//		if err != nil {
//			return err // e.g. the permission error, before anything else happened
//		}
//		lc.OnIdle(func() { out.Flush() })  // optional: runs when the capture waits
//		return lc.Decode(opts, emit)       // until Ctrl-C, SIGTERM, --duration or -c;
//		                                   // closes the capture and prints the summary
//	}
//
// The UI passes its own port in liveOptions.Exclude so that the capture
// never sees the page's event stream, and reads lc.Stats() from its own
// goroutine for the page's packet and drop counts.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/filter"
	"github.com/wsviz/wsviz/capture/live"
	"github.com/wsviz/wsviz/capture/save"
)

// liveFlags holds the flags of a live capture.
type liveFlags struct {
	iface    string
	write    string
	count    int64
	duration time.Duration
	snaplen  int
	bufferMB int
}

// addLiveFlags registers -i, -w, -c, --duration, --snaplen and --buffer on
// fs.
func addLiveFlags(fs *flag.FlagSet) *liveFlags {
	lf := &liveFlags{}
	fs.StringVar(&lf.iface, "i", "", "capture live from this `interface` (lo, eth0, any); trailing arguments are a tcpdump-style filter")
	lf.addCaptureFlags(fs)
	return lf
}

// addCaptureFlags registers the flags of addLiveFlags but -i, for a
// command that chooses the interface itself.
func (lf *liveFlags) addCaptureFlags(fs *flag.FlagSet) {
	fs.StringVar(&lf.write, "w", "", "with -i: also save the captured packets to this pcapng `file`")
	fs.Int64Var(&lf.count, "c", 0, "with -i: stop after this many packets")
	fs.DurationVar(&lf.duration, "duration", 0, "with -i: stop after this long (e.g. 30s, 5m)")
	fs.IntVar(&lf.snaplen, "snaplen", live.DefaultSnapLen, "with -i: bytes kept of each packet")
	fs.IntVar(&lf.bufferMB, "buffer", live.DefaultBufferSize>>20, "with -i: kernel capture buffer in MiB (raise it if packets are dropped)")
}

// Live reports whether -i was given.
func (lf *liveFlags) Live() bool { return lf.iface != "" }

// Check reports live flags with impossible values, and --duration without
// -i. (-w and -c with a file are decodeFlags.parse's business.)
func (lf *liveFlags) Check() error {
	if lf.count < 0 || lf.duration < 0 || lf.snaplen < 0 || lf.bufferMB < 0 {
		return errors.New("-c, --duration, --snaplen and --buffer cannot be negative")
	}
	if !lf.Live() && lf.duration != 0 {
		return errors.New("--duration needs -i")
	}
	return nil
}

// parseFilterArgs parses trailing command-line arguments as one filter
// expression: "tcp port 80" may come quoted or as three arguments.
func parseFilterArgs(args []string) (*filter.Filter, error) {
	return filter.Parse(strings.Join(args, " "))
}

// liveOptions are what a command adds to the live flags.
type liveOptions struct {
	// Exclude lists ports never captured, whatever the filter: the UI's
	// own port, so that the page's event stream does not feed itself.
	Exclude []uint16
	// BeforeStop, when set, runs when Ctrl-C, SIGTERM or --duration ends
	// the capture, just before it stops, so that what it does is still
	// captured: the demo's bots say goodbye.
	BeforeStop func()
}

// Open starts the capture on the interface given with -i, filtered by the
// expression in filterArgs. It returns before anything is printed, so that
// a permission error is the first thing the user sees. It installs the
// SIGINT/SIGTERM handler that stops the capture cleanly; Close removes it.
func (lf *liveFlags) Open(filterArgs []string, opts liveOptions, stderr io.Writer) (*liveCapture, error) {
	f, err := parseFilterArgs(filterArgs)
	if err != nil {
		return nil, err
	}
	lc := &liveCapture{
		limit:       lf.count,
		duration:    lf.duration,
		path:        lf.write,
		stderr:      stderr,
		interrupted: make(chan struct{}),
		ended:       make(chan struct{}),
		userFilter:  f,
		beforeStop:  opts.BeforeStop,
	}
	src, err := live.Open(lf.iface, live.Options{
		Filter:       f,
		ExcludePorts: opts.Exclude,
		SnapLen:      lf.snaplen,
		BufferSize:   lf.bufferMB << 20,
		OnWait:       lc.idle,
		OnWaitEvery:  idleTick,
	})
	if err != nil {
		return nil, err
	}
	lc.src = src
	if lf.write != "" {
		lc.out, err = save.Create(lf.write, save.Interface{
			Name:     src.Name(),
			Filter:   src.Filter().String(),
			LinkType: src.LinkType(),
			SnapLen:  src.SnapLen(),
		})
		if err != nil {
			src.Close()
			return nil, err
		}
	}
	lc.sigs = make(chan os.Signal, 2)
	signal.Notify(lc.sigs, os.Interrupt, syscall.SIGTERM)
	go lc.watchSignals()
	if lf.duration > 0 {
		lc.timer = time.AfterFunc(lf.duration, lc.finish)
	}
	return lc, nil
}

// liveCapture is a running live capture: a capture.Source that applies -c
// and saves to -w as packets are read, and stops on Ctrl-C, SIGTERM or
// --duration.
type liveCapture struct {
	src        *live.Source
	out        *save.Writer // nil without -w
	path       string
	userFilter *filter.Filter
	limit      int64
	duration   time.Duration // --duration, 0 without
	read       int64
	stderr     io.Writer
	onIdle     []func()
	decoder    func(now time.Time) // the analyzer's Idle (SetIdle)

	beforeStop func()
	finishOnce sync.Once

	sigs        chan os.Signal
	interrupted chan struct{} // closed at the first SIGINT or SIGTERM
	ended       chan struct{} // closed when ReadPacket returned io.EOF or an error
	endOnce     sync.Once
	timer       *time.Timer

	reportedDrops uint64
	lastDropCheck time.Time

	conns, messages int64
	quiet           bool // -q: no summary at the end

	closeOnce sync.Once
	closeErr  error
}

// watchSignals stops the capture at the first signal; a second one exits
// at once, for a user whose first Ctrl-C seems to hang.
func (lc *liveCapture) watchSignals() {
	if _, ok := <-lc.sigs; !ok {
		return
	}
	close(lc.interrupted)
	go lc.finish()
	if _, ok := <-lc.sigs; ok {
		fmt.Fprintln(lc.stderr, "wsviz: interrupted twice: exiting without finishing")
		os.Exit(130)
	}
}

// ReadPacket returns the next captured packet, after saving it with -w.
// It returns io.EOF once the capture was stopped and everything captured
// until then was handed out.
func (lc *liveCapture) ReadPacket() (capture.Packet, error) {
	if lc.limit > 0 && lc.read >= lc.limit {
		lc.src.Stop()
		lc.end()
		return capture.Packet{}, io.EOF
	}
	p, err := lc.src.ReadPacket()
	if err != nil {
		lc.end()
		return p, err
	}
	lc.read++
	if lc.out != nil {
		if err := lc.out.WritePacket(&p); err != nil {
			lc.end()
			return capture.Packet{}, err
		}
	}
	if lc.read%4096 == 0 {
		lc.checkDrops()
	}
	return p, nil
}

func (lc *liveCapture) end() { lc.endOnce.Do(func() { close(lc.ended) }) }

// finish ends the capture on a signal or at --duration: BeforeStop first,
// then Stop.
func (lc *liveCapture) finish() {
	lc.finishOnce.Do(func() {
		if lc.beforeStop != nil {
			lc.beforeStop()
		}
		lc.src.Stop()
	})
}

// idleTick is how often a quiet live capture is idle (live.Options.OnWaitEvery):
// how late, at most, the events decided by time alone come, such as records
// whose keys the key log gained while nothing was captured (keylogPoll).
const idleTick = 100 * time.Millisecond

// SetIdle makes lc a capture.IdleSource: the decoder's f runs first when
// the capture is idle, so that the output flushed then holds what it
// decided.
func (lc *liveCapture) SetIdle(f func(now time.Time)) { lc.decoder = f }

// idle runs when the capture waits for packets, and every idleTick while it
// goes on waiting: everything so far is handed out, so the decoder decides
// what waited only for time, and files are flushed.
func (lc *liveCapture) idle() {
	if lc.decoder != nil {
		lc.decoder(time.Now())
	}
	if lc.out != nil {
		_ = lc.out.Flush() // an error shows again at the next write or at Close
	}
	for _, f := range lc.onIdle {
		f()
	}
	lc.checkDrops()
}

// checkDrops warns, at most once a second, when the kernel dropped packets
// since the last warning.
func (lc *liveCapture) checkDrops() {
	now := time.Now()
	if now.Sub(lc.lastDropCheck) < time.Second {
		return
	}
	lc.lastDropCheck = now
	if d := lc.src.Stats().Drops; d > lc.reportedDrops {
		fmt.Fprintf(lc.stderr, "wsviz: the kernel dropped %d packets so far: the capture cannot keep up (try a larger --buffer or a narrower filter)\n", d)
		lc.reportedDrops = d
	}
}

// OnIdle adds a function to call, on the reading goroutine, whenever the
// capture waits for packets: the moment to flush output.
func (lc *liveCapture) OnIdle(f func()) { lc.onIdle = append(lc.onIdle, f) }

// Stop ends the capture: ReadPacket returns io.EOF after what was already
// captured. It may be called from any goroutine.
func (lc *liveCapture) Stop() { lc.src.Stop() }

// Interrupted is closed at the first SIGINT or SIGTERM.
func (lc *liveCapture) Interrupted() <-chan struct{} { return lc.interrupted }

// Ended is closed when the capture has ended (io.EOF or an error from
// ReadPacket).
func (lc *liveCapture) Ended() <-chan struct{} { return lc.ended }

// Stats returns the capture's packet and kernel drop counts. It may be
// called from any goroutine.
func (lc *liveCapture) Stats() live.Stats { return lc.src.Stats() }

// LinkType returns the link type of the captured packets.
func (lc *liveCapture) LinkType() capture.LinkType { return lc.src.LinkType() }

// Describe names the capture for people: "lo (tcp port 9001)".
func (lc *liveCapture) Describe() string {
	if lc.userFilter.Empty() {
		return lc.src.Name()
	}
	return fmt.Sprintf("%s (%s)", lc.src.Name(), lc.userFilter)
}

// Started says on w that the capture is open and reading, as tcpdump's
// "listening on" and tshark's "Capturing on" lines do: the interface and
// filter, the link type, the snap length, and the file packets are saved
// to. Packets sent from now on are captured. Not with -q.
func (lc *liveCapture) Started(w io.Writer) {
	if lc.quiet {
		return
	}
	fmt.Fprintf(w, "wsviz: capturing on %s, link-type %s, snapshot length %d bytes", lc.Describe(), lc.src.LinkType(), lc.src.SnapLen())
	if lc.out != nil {
		fmt.Fprintf(w, ", saving to %s", lc.path)
	}
	switch {
	case lc.limit > 0 && lc.duration > 0:
		fmt.Fprintf(w, "; stops after %d %s, after %v or at Ctrl-C\n", lc.limit, countNoun(lc.limit, "packet", "packets"), lc.duration)
	case lc.limit > 0:
		fmt.Fprintf(w, "; stops after %d %s or at Ctrl-C\n", lc.limit, countNoun(lc.limit, "packet", "packets"))
	case lc.duration > 0:
		fmt.Fprintf(w, "; stops after %v or at Ctrl-C\n", lc.duration)
	default:
		fmt.Fprintln(w, "; Ctrl-C stops")
	}
}

// Count tallies an event for the summary.
func (lc *liveCapture) Count(ev *analyze.Event) {
	switch ev.Type {
	case analyze.TypeTCPOpen:
		lc.conns++
	case analyze.TypeWSMessage:
		lc.messages++
	}
}

// Decode runs the capture through the analyzer until it is stopped, calling
// emit for every event; then it closes the capture (flushing -w) and prints
// the summary on stderr.
func (lc *liveCapture) Decode(opts analyze.Options, emit func(*analyze.Event) error) error {
	// One worker: the sharded decoder hands out events a batch of packets
	// at a time, and live events must show as their packets arrive. One
	// core decodes far more than a live capture delivers.
	opts.Workers = 1
	defer keylogLive(&opts, lc.stderr, lc.path)() // keylog.go
	err := analyze.Decode(lc, opts, func(ev *analyze.Event) error {
		lc.Count(ev)
		return emit(ev)
	})
	if cerr := lc.Close(); err == nil {
		err = cerr
	}
	if !lc.quiet {
		lc.Summary(lc.stderr)
	}
	return err
}

// Close stops the capture, writes the statistics block and closes the -w
// file, releases the socket and removes the signal handler. It is safe to
// call more than once.
func (lc *liveCapture) Close() error {
	lc.closeOnce.Do(func() {
		if lc.timer != nil {
			lc.timer.Stop()
		}
		lc.src.Stop()
		var errs []error
		st := lc.src.Stats()
		if lc.out != nil {
			lc.out.SetStats(save.Stats{Received: st.Received, Dropped: st.Drops})
			errs = append(errs, lc.out.Close())
		}
		errs = append(errs, lc.src.Close())
		signal.Stop(lc.sigs)
		close(lc.sigs)
		lc.closeErr = errors.Join(errs...)
	})
	return lc.closeErr
}

// Summary prints what the capture saw: packets, connections, messages,
// kernel drops, and where the packets were saved.
func (lc *liveCapture) Summary(w io.Writer) {
	st := lc.src.Stats()
	fmt.Fprintf(w, "wsviz: captured %d %s on %s, %d dropped by the kernel; %d %s, %d WebSocket %s",
		lc.read, countNoun(lc.read, "packet", "packets"), lc.Describe(), st.Drops,
		lc.conns, countNoun(lc.conns, "connection", "connections"), lc.messages, countNoun(lc.messages, "message", "messages"))
	if lc.out != nil {
		fmt.Fprintf(w, "; saved %d %s to %s", lc.out.Packets(), countNoun(lc.out.Packets(), "packet", "packets"), lc.path)
	}
	fmt.Fprintln(w)
}

func countNoun(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// filterPackets applies a filter expression to the packets of another
// source (a file), in Go, as a live capture filters in the kernel
// (capture.FilterSource); decodeFlags.options sets the analyzer's precise
// test inside tunnels and fragments. It returns src itself when the
// expression is empty.
func filterPackets(src capture.Source, args []string) (capture.Source, error) {
	f, err := parseFilterArgs(args)
	if err != nil {
		return nil, err
	}
	return capture.FilterSource(src, f), nil
}
