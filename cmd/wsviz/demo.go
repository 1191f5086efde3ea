package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/internal/demo"
	"github.com/wsviz/wsviz/ui"
)

func init() {
	register("demo", "run a WebSocket chat with bots on loopback and watch it live in the timeline", runDemo)
}

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wsviz demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "serve the timeline on this `address`")
	chatAddr := fs.String("chat-addr", "127.0.0.1:0", "serve the demo chat on this loopback `address`")
	pace := fs.Duration("pace", demo.DefaultPace, "average time between two messages of one bot")
	noBots := fs.Bool("no-bots", false, "start the chat without bots: only what you type in the chat page")
	open := fs.Bool("open", false, "open the timeline and the chat in the default browser")
	useTLS := fs.Bool("tls", false, "serve the chat over https:// and wss:// (a self-signed certificate made at start; the timeline shows the TLS layer, decrypted with the chat's own key log)")
	lf := &liveFlags{iface: "lo"}
	lf.addCaptureFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: wsviz demo [flags]\n\n"+
			"Starts a small WebSocket chat on loopback (gorilla/websocket, permessage-deflate on)\n"+
			"with bots that talk in text, JSON and binary, ping, send a fragmented message and\n"+
			"leave with a close code; captures it live on lo and serves the timeline. Open the\n"+
			"chat page to type messages yourself. Ctrl-C stops it.\n\n"+
			"Capturing needs root or CAP_NET_RAW.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	if err := lf.Check(); err != nil {
		fmt.Fprintf(stderr, "wsviz demo: %v\n", err)
		return errUsage
	}

	var demoOpts analyze.Options
	var chatTLS, botTLS *tls.Config
	if *useTLS {
		var err error
		if chatTLS, botTLS, demoOpts.Keys, err = demoTLS(); err != nil { // demotls.go
			return fmt.Errorf("tls: %w", err)
		}
	}

	// Listen first, capture next: a missing permission is the first and
	// only thing the user sees.
	chatLn, err := net.Listen("tcp", *chatAddr)
	if err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	defer chatLn.Close()
	chatPort := chatLn.Addr().(*net.TCPAddr)
	if !chatPort.IP.IsLoopback() {
		return fmt.Errorf("--chat-addr %s is not a loopback address: the demo captures lo", *chatAddr)
	}
	uiLn, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	defer uiLn.Close()
	uiPort := uiLn.Addr().(*net.TCPAddr).Port

	var chat atomic.Pointer[demo.Server]
	lc, err := lf.Open([]string{"tcp", "port", strconv.Itoa(chatPort.Port)}, liveOptions{
		Exclude: []uint16{uint16(uiPort)},
		// The bots' closing handshakes are part of the show: let them
		// happen before the capture stops.
		BeforeStop: func() {
			if c := chat.Load(); c != nil {
				c.Close()
			}
		},
	}, stderr)
	if err != nil {
		return err
	}
	defer lc.Close()

	srv, err := ui.NewServer(ui.Options{})
	if err != nil {
		return err
	}
	defer srv.Close()
	srv.SetSource("wsviz demo: live on " + lc.Describe())
	httpSrv := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = httpSrv.Serve(uiLn) }()
	defer httpSrv.Close()

	// Decode on this goroutine's behalf; report the capture's counts to
	// the page while it runs.
	decoded := make(chan error, 1)
	go func() {
		decoded <- lc.Decode(demoOpts, func(ev *analyze.Event) error {
			_ = srv.Publish(ev) // a spill error loses details, not the event
			return nil
		})
	}()
	var statsDone sync.WaitGroup
	stopStats := make(chan struct{})
	statsDone.Add(1)
	go func() {
		defer statsDone.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			st := lc.Stats()
			srv.SetStats(ui.Stats{Packets: int64(st.Packets), Drops: int64(st.Drops), Capturing: true})
			select {
			case <-tick.C:
			case <-stopStats:
				return
			}
		}
	}()

	timelineURL := "http://" + uiLn.Addr().String() + "/"
	var logMu sync.Mutex
	c := demo.Start(chatLn, demo.Options{
		Pace:        *pace,
		NoBots:      *noBots,
		TimelineURL: timelineURL,
		TLS:         chatTLS,
		BotTLS:      botTLS,
		Logf: func(format string, args ...any) {
			logMu.Lock()
			defer logMu.Unlock()
			fmt.Fprintf(stderr, "wsviz demo: "+format+"\n", args...)
		},
	})
	chat.Store(c)
	defer c.Close()

	fmt.Fprintf(stdout, "timeline: %s\nchat:     %s\n", timelineURL, c.URL())
	fmt.Fprintln(stderr, "wsviz demo: capturing the chat on lo; open the timeline, then the chat to type; Ctrl-C stops")
	if *open {
		for _, u := range []string{timelineURL, c.URL()} {
			if err := openBrowser(u); err != nil {
				fmt.Fprintf(stderr, "wsviz demo: cannot open a browser (%v); open %s yourself\n", err, u)
			}
		}
	}

	// The capture ends on Ctrl-C, SIGTERM, --duration or -c; the bots have
	// said goodbye by then (BeforeStop), except after -c.
	err = <-decoded
	c.Close()
	close(stopStats)
	statsDone.Wait()
	st := lc.Stats()
	srv.SetStats(ui.Stats{Packets: int64(st.Packets), Drops: int64(st.Drops), Capturing: false})
	srv.Done(err)
	return err
}
