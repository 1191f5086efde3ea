// Command livebench measures how many WebSocket messages per second a live
// loopback capture keeps up with: a separate process (this command run
// again, as the "app") sends small messages from gorilla/websocket clients
// to a gorilla server at a target rate while this process captures lo and
// decodes every packet into events, as `wsviz events -i lo` does. It
// reports the rate reached, the messages decoded, and the kernel's drops.
//
// Capturing needs root or CAP_NET_RAW:
//
//	sudo go run ./internal/demo/livebench                 # 50,000 msg/s for 5s
//	sudo go run ./internal/demo/livebench -rate 0         # as fast as the app can send
//	sudo go run ./internal/demo/livebench -deflate -echo  # compressed, both ways
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture/filter"
	"github.com/wsviz/wsviz/capture/live"
)

type config struct {
	rate     int
	duration time.Duration
	conns    int
	size     int
	deflate  bool
	echo     bool
	bufferMB int
	decode   bool
}

func main() {
	var cfg config
	flag.IntVar(&cfg.rate, "rate", 50000, "messages per second the app sends (0: as fast as it can)")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "how long the app sends")
	flag.IntVar(&cfg.conns, "conns", 4, "WebSocket connections the messages are spread over")
	flag.IntVar(&cfg.size, "size", 64, "payload bytes per message")
	flag.BoolVar(&cfg.deflate, "deflate", false, "negotiate permessage-deflate (the app compresses every message)")
	flag.BoolVar(&cfg.echo, "echo", false, "the server answers every message (twice the messages on the wire)")
	flag.IntVar(&cfg.bufferMB, "buffer", live.DefaultBufferSize>>20, "kernel capture buffer in MiB")
	flag.BoolVar(&cfg.decode, "decode", true, "decode packets into events and JSON (false: capture only)")
	app := flag.Bool("app", false, "internal: run as the app that sends the messages")
	flag.Parse()
	var err error
	if *app {
		err = runApp(cfg, os.Stdin, os.Stdout)
	} else {
		err = runBench(cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "livebench:", err)
		os.Exit(1)
	}
}

// runBench starts the app, captures its port and reports.
func runBench(cfg config) error {
	// The app in its own process, as in real use: wsviz beside a server.
	args := []string{"-app", "-rate", strconv.Itoa(cfg.rate), "-duration", cfg.duration.String(),
		"-conns", strconv.Itoa(cfg.conns), "-size", strconv.Itoa(cfg.size),
		"-deflate=" + strconv.FormatBool(cfg.deflate), "-echo=" + strconv.FormatBool(cfg.echo)}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Stderr = os.Stderr
	toApp, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	fromApp, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(fromApp)
	readLine := func(prefix string) (string, error) {
		for lines.Scan() {
			if v, ok := strings.CutPrefix(lines.Text(), prefix); ok {
				return v, nil
			}
		}
		return "", fmt.Errorf("the app ended before saying %q", prefix)
	}
	portText, err := readLine("port ")
	if err != nil {
		return err
	}

	src, err := live.Open("lo", live.Options{
		Filter:     filter.MustParse("tcp port " + portText),
		BufferSize: cfg.bufferMB << 20,
	})
	if err != nil {
		return err
	}
	defer src.Close()

	var messages, events atomic.Int64
	var captureCPU time.Duration
	captured := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // measure this goroutine's CPU with RUSAGE_THREAD
		start := threadCPU()
		var err error
		if cfg.decode {
			var line []byte
			a := analyze.New(analyze.Options{}, func(ev *analyze.Event) {
				events.Add(1)
				if ev.Type == analyze.TypeWSMessage && (ev.Message.Opcode == "text" || ev.Message.Opcode == "binary") {
					messages.Add(1)
				}
				line = ev.AppendJSON(line[:0]) // what `wsviz events` does
				line = append(line, '\n')
				_, _ = io.Discard.Write(line)
			})
			for {
				p, rerr := src.ReadPacket()
				if rerr != nil {
					err = rerr
					break
				}
				a.Packet(&p)
			}
			a.Close()
		} else {
			for {
				if _, err = src.ReadPacket(); err != nil {
					break
				}
			}
		}
		captureCPU = threadCPU() - start
		if errors.Is(err, io.EOF) {
			err = nil
		}
		captured <- err
	}()

	fmt.Printf("livebench: app sends %s messages of %d bytes over %d connections for %v (deflate %v, echo %v); capture buffer %d MiB; %d CPUs, load average %s\n",
		rateText(cfg.rate), cfg.size, cfg.conns, cfg.duration, cfg.deflate, cfg.echo, cfg.bufferMB, runtime.NumCPU(), loadAverage())
	if _, err := io.WriteString(toApp, "go\n"); err != nil {
		return err
	}
	sentText, err := readLine("sent ")
	if err != nil {
		return err
	}
	var sent int64
	var sendNanos int64
	if _, err := fmt.Sscanf(sentText, "%d %d", &sent, &sendNanos); err != nil {
		return fmt.Errorf("the app said %q: %v", sentText, err)
	}
	if cfg.echo {
		sent *= 2
	}
	_ = cmd.Wait()

	// Let the capture catch up with what is in the ring, then stop it.
	for last, quiet := int64(-1), 0; quiet < 5; time.Sleep(100 * time.Millisecond) {
		n := int64(src.Stats().Packets)
		if n == last {
			quiet++
		} else {
			last, quiet = n, 0
		}
	}
	src.Stop()
	if err := <-captured; err != nil {
		return err
	}
	st := src.Stats()
	secs := time.Duration(sendNanos).Seconds()
	fmt.Printf("sent:     %d messages in %.2fs = %.0f messages/s\n", sent, secs, float64(sent)/secs)
	fmt.Printf("captured: %d packets (%.0f packets/s), kernel drops: %d\n", st.Packets, float64(st.Packets)/secs, st.Drops)
	if cfg.decode {
		fmt.Printf("decoded:  %d messages (%.0f messages/s), %d events\n", messages.Load(), float64(messages.Load())/secs, events.Load())
	}
	fmt.Printf("capture and decoding used %.1f%% of one CPU\n", 100*captureCPU.Seconds()/secs)
	ok := st.Drops == 0 && (!cfg.decode || messages.Load() == sent)
	switch {
	case ok && cfg.rate > 0 && float64(sent)/secs < 0.95*float64(cfg.rate):
		fmt.Printf("result:   no drops, but the app reached only %.0f of %d messages/s\n", float64(sent)/secs, cfg.rate)
	case ok:
		fmt.Printf("result:   kept up with %.0f messages/s without drops\n", float64(sent)/secs)
	default:
		fmt.Printf("result:   FELL BEHIND: %d kernel drops, %d of %d messages decoded\n", st.Drops, messages.Load(), sent)
		os.Exit(2)
	}
	return nil
}

// loadAverage returns the 1-minute load average: other work on the machine
// skews the figures.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b) + " unknown")[0]
}

func rateText(rate int) string {
	if rate <= 0 {
		return "as many"
	}
	return strconv.Itoa(rate) + "/s"
}

// threadCPU returns the CPU time of the calling OS thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runApp is the measured application: a gorilla server and clients on
// loopback. It prints "port N", waits for "go", sends for the duration,
// closes every connection cleanly and prints "sent N NANOSECONDS".
func runApp(cfg config, in io.Reader, out io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var received atomic.Int64
	up := websocket.Upgrader{EnableCompression: cfg.deflate}
	var handlers sync.WaitGroup
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		handlers.Add(1)
		defer handlers.Done()
		defer conn.Close()
		for {
			typ, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			received.Add(1)
			if cfg.echo {
				if err := conn.WriteMessage(typ, msg); err != nil {
					return
				}
			}
		}
	})}
	go srv.Serve(ln)
	fmt.Fprintf(out, "port %d\n", ln.Addr().(*net.TCPAddr).Port)
	if _, err := bufio.NewReader(in).ReadString('\n'); err != nil {
		return err
	}

	d := websocket.Dialer{EnableCompression: cfg.deflate}
	conns := make([]*websocket.Conn, cfg.conns)
	for i := range conns {
		conns[i], _, err = d.Dial("ws://"+ln.Addr().String()+"/", nil)
		if err != nil {
			return err
		}
		if cfg.echo {
			go func(c *websocket.Conn) {
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						return
					}
				}
			}(conns[i])
		}
	}
	// A JSON message, padded to the size; the sequence number changes so
	// that no two messages are alike.
	const seqAt, seqLen = 21, 10 // `{"type":"tick","seq":` then 10 digits
	payload := []byte(`{"type":"tick","seq":0000000000,"data":"`)
	for len(payload) < cfg.size-2 {
		payload = append(payload, 'x')
	}
	payload = append(payload, '"', '}')

	var sent atomic.Int64
	start := time.Now()
	deadline := start.Add(cfg.duration)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func(c *websocket.Conn) {
			defer wg.Done()
			msg := append([]byte(nil), payload...)
			perConn := float64(cfg.rate) / float64(cfg.conns)
			var n int64
			for now := time.Now(); now.Before(deadline); now = time.Now() {
				// Pace by elapsed time: send what is due, then sleep a
				// little; with rate 0, send without pause.
				due := int64(perConn * now.Sub(start).Seconds())
				if cfg.rate <= 0 {
					due = n + 64
				}
				for ; n < due; n++ {
					for i, v := seqAt+seqLen-1, n; i >= seqAt; i, v = i-1, v/10 {
						msg[i] = byte('0' + v%10)
					}
					if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
						return
					}
					sent.Add(1)
				}
				if cfg.rate > 0 {
					time.Sleep(200 * time.Microsecond)
				}
			}
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, c := range conns {
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	}
	// Wait for the server to have read everything, then close.
	for end := time.Now().Add(5 * time.Second); received.Load() < sent.Load() && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	for _, c := range conns {
		c.Close()
	}
	srv.Close()
	fmt.Fprintf(out, "sent %d %d\n", sent.Load(), elapsed.Nanoseconds())
	return nil
}
