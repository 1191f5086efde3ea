package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/gorilla/websocket"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/live"
	"github.com/wsviz/wsviz/internal/echotest"
)

// openLiveOrSkip parses live flags and opens the capture, skipping the
// test without capture permission unless CI=true (CI runs as root).
func openLiveOrSkip(t *testing.T, args []string, opts liveOptions, stderr io.Writer) *liveCapture {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	lf := addLiveFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if err := lf.Check(); err != nil {
		t.Fatalf("Check(%q) = %v", args, err)
	}
	lc, err := lf.Open(fs.Args(), opts, stderr)
	var pe *live.PermissionError
	if errors.As(err, &pe) && os.Getenv("CI") != "true" {
		t.Skipf("no capture permission: %v", err)
	}
	if err != nil {
		t.Fatalf("Open(%q) = %v", args, err)
	}
	t.Cleanup(func() { lc.Close() })
	return lc
}

// decodeLive runs lc.Decode in a goroutine and returns the channel of its
// result. Should the test end early (a Fatal), its cleanup stops the capture
// and waits for Decode before openLiveOrSkip's cleanup closes the capture
// and the -w file, which Decode may still be writing.
func decodeLive(t *testing.T, lc *liveCapture, emit func(*analyze.Event) error) <-chan error {
	t.Helper()
	decoded := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		decoded <- lc.Decode(analyze.Options{}, emit)
	}()
	t.Cleanup(func() {
		lc.Stop()
		<-done
	})
	return decoded
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// converse sends n messages with the prefix and reads each answer.
func converse(t *testing.T, conn *websocket.Conn, prefix string, n int) []string {
	t.Helper()
	var sent []string
	for i := range n {
		m := fmt.Sprintf("%s-%d", prefix, i)
		if err := conn.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := conn.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, m)
	}
	return sent
}

// eventLog collects copies of events from the decoding goroutine.
type eventLog struct {
	mu     sync.Mutex
	events []analyze.Event
}

func (l *eventLog) emit(ev *analyze.Event) error {
	l.mu.Lock()
	l.events = append(l.events, ev.Clone())
	l.mu.Unlock()
	return nil
}

func (l *eventLog) snapshot() []analyze.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]analyze.Event(nil), l.events...)
}

// messageCounts counts message payloads by direction and text.
func messageCounts(events []analyze.Event) map[string]int {
	n := map[string]int{}
	for _, ev := range events {
		if ev.Type == analyze.TypeWSMessage && ev.Message.Opcode == "text" {
			n[ev.From+":"+string(ev.Message.Payload)]++
		}
	}
	return n
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	// A deadline, not a measure: generous, for a machine under load.
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestLiveEvents(t *testing.T) {
	// A gorilla server and clients on random loopback ports, one of them
	// connected before the capture starts, and another server talking
	// beside them: the capture, filtered by port, yields every message
	// exactly once and nothing of the other server; the -w file decodes
	// to the same events.
	port, url := echotest.Server(t, true)
	otherPort, otherURL := echotest.Server(t, false)
	early := echotest.Dial(t, url, false) // open before the capture: decoded mid-stream

	path := filepath.Join(t.TempDir(), "live.pcapng")
	var stderr syncBuffer
	lc := openLiveOrSkip(t, []string{"-i", "lo", "-w", path, "tcp", "port", fmt.Sprint(port)}, liveOptions{}, &stderr)
	var log eventLog
	decoded := decodeLive(t, lc, log.emit)

	tok := fmt.Sprintf("m%d", time.Now().UnixNano()%1e6)
	other := echotest.Dial(t, otherURL, false)
	client := echotest.Dial(t, url, true)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 100 {
			_ = other.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf("other-%d", i)))
			_, _, _ = other.ReadMessage()
		}
	}()
	sent := converse(t, client, tok, 300)
	sentEarly := converse(t, early, tok+"-early", 20)
	wg.Wait()
	if err := client.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "done"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	all := append(append([]string(nil), sent...), sentEarly...)
	waitUntil(t, "every message and answer", func() bool {
		n := messageCounts(log.snapshot())
		for _, m := range all {
			if n["client:"+m] == 0 || n["server:re:"+m] == 0 {
				return false
			}
		}
		return true
	})
	lc.Stop()
	if err := <-decoded; err != nil {
		t.Fatalf("Decode = %v", err)
	}
	events := log.snapshot()

	n := messageCounts(events)
	for _, m := range all {
		if n["client:"+m] != 1 || n["server:re:"+m] != 1 {
			t.Errorf("message %q seen %d times, its answer %d times; want 1 and 1", m, n["client:"+m], n["server:re:"+m])
		}
	}
	var opens, midstream int
	for _, ev := range events {
		switch ev.Type {
		case analyze.TypeTCPOpen:
			opens++
			if !strings.HasSuffix(ev.TCPOpen.Server, fmt.Sprintf(":%d", port)) {
				t.Errorf("connection %d to %s: only port %d was captured (other server: %d)", ev.Conn, ev.TCPOpen.Server, port, otherPort)
			}
		case analyze.TypeWSOpen:
			if ev.WSOpen.Midstream {
				midstream++
			}
		}
	}
	if opens != 2 || midstream != 1 {
		t.Errorf("saw %d connections, %d of them mid-stream; want 2 and 1", opens, midstream)
	}

	// The saved file gives the same events, from the same packets.
	st := lc.Stats()
	fromFile, err := analyze.ReadFile(path, analyze.Options{})
	if err != nil {
		t.Fatalf("ReadFile(-w file) = %v", err)
	}
	if got, want := jsonLines(fromFile), jsonLines(events); got != want {
		t.Errorf("events from the -w file differ from the live ones:\nfile:\n%.2000s\nlive:\n%.2000s", got, want)
	}
	if saved := countPackets(t, path); saved != lc.read || uint64(saved) != st.Packets {
		t.Errorf("the -w file holds %d packets; the capture read %d and counted %d", saved, lc.read, st.Packets)
	}
	if st.Drops != 0 {
		t.Errorf("the kernel dropped %d packets", st.Drops)
	}
	want := fmt.Sprintf("wsviz: captured %d packets on lo (tcp port %d), 0 dropped by the kernel; 2 connections, %d WebSocket messages; saved %d packets to %s",
		lc.read, port, lc.messages, lc.read, path)
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("summary = %q, want %q", stderr.String(), want)
	}
}

func jsonLines(events []analyze.Event) string {
	var b []byte
	for i := range events {
		b = events[i].AppendJSON(b)
		b = append(b, '\n')
	}
	return string(b)
}

func countPackets(t *testing.T, path string) int64 {
	t.Helper()
	f, err := capture.OpenFile(path)
	if err != nil {
		t.Fatalf("OpenFile(%s) = %v", path, err)
	}
	defer f.Close()
	var n int64
	for {
		_, err := f.ReadPacket()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("reading %s after %d packets: %v", path, n, err)
		}
		n++
	}
}

func TestLiveCountAndDuration(t *testing.T) {
	port, url := echotest.Server(t, false)
	tests := []struct {
		name string
		args []string
		want func(t *testing.T, lc *liveCapture, took time.Duration)
	}{
		{"count", []string{"-c", "7"}, func(t *testing.T, lc *liveCapture, _ time.Duration) {
			if lc.read != 7 {
				t.Errorf("-c 7 read %d packets", lc.read)
			}
		}},
		{"duration", []string{"--duration", "300ms"}, func(t *testing.T, _ *liveCapture, took time.Duration) {
			if took < 300*time.Millisecond || took > 5*time.Second {
				t.Errorf("--duration 300ms ran %v", took)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.pcapng")
			args := append([]string{"-i", "lo", "-w", path}, tc.args...)
			args = append(args, "tcp", "port", fmt.Sprint(port))
			lc := openLiveOrSkip(t, args, liveOptions{}, io.Discard)
			start := time.Now()
			decoded := decodeLive(t, lc, func(*analyze.Event) error { return nil })
			conn := echotest.Dial(t, url, false)
			stop := make(chan struct{})
			go func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if conn.WriteMessage(websocket.TextMessage, []byte("tick")) != nil {
						return
					}
					if _, _, err := conn.ReadMessage(); err != nil {
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			}()
			defer close(stop)
			select {
			case err := <-decoded:
				if err != nil {
					t.Fatalf("Decode = %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the capture did not stop by itself")
			}
			tc.want(t, lc, time.Since(start))
			if saved := countPackets(t, path); saved != lc.read {
				t.Errorf("saved %d packets, read %d", saved, lc.read)
			}
		})
	}
}

func TestLiveFlagsCheck(t *testing.T) {
	tests := []struct {
		args []string
		want string // "" for no error
	}{
		{[]string{"-i", "lo"}, ""},
		{[]string{"-i", "lo", "-w", "x.pcapng", "-c", "5", "--duration", "1s"}, ""},
		{[]string{"-w", "x.pcapng"}, ""}, // with -r: decodeFlags.parse decides
		{[]string{"-c", "5"}, ""},
		{[]string{"--duration", "1s"}, "--duration needs -i"},
		{[]string{"-i", "lo", "-c", "-1"}, "cannot be negative"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			lf := addLiveFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			err := lf.Check()
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check(%q) = %v, want %q", tc.args, err, tc.want)
			}
		})
	}
}

func TestLiveFilterError(t *testing.T) {
	lf := &liveFlags{iface: "lo"}
	_, err := lf.Open([]string{"tcp", "port", "http"}, liveOptions{}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "filter: ") || !strings.Contains(err.Error(), "port needs a number") {
		t.Errorf("Open with filter %q = %v, want a filter error", "tcp port http", err)
	}
}

// packetSource hands out packets from a slice.
type packetSource []capture.Packet

func (s *packetSource) ReadPacket() (capture.Packet, error) {
	if len(*s) == 0 {
		return capture.Packet{}, io.EOF
	}
	p := (*s)[0]
	*s = (*s)[1:]
	return p, nil
}

func TestFilterPackets(t *testing.T) {
	var src packetSource
	for i, port := range []uint16{80, 9001, 80, 22} {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{0, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IPv4(127, 0, 0, 1), DstIP: net.IPv4(127, 0, 0, 1)}
		tcp := &layers.TCP{SrcPort: 40000, DstPort: layers.TCPPort(port), ACK: true}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp); err != nil {
			t.Fatal(err)
		}
		src = append(src, capture.Packet{Number: int64(i + 1), LinkType: capture.LinkTypeEthernet, Data: buf.Bytes(), Length: len(buf.Bytes())})
	}
	filtered, err := filterPackets(&src, []string{"tcp", "port", "80", "or", "22"})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for {
		p, err := filtered.ReadPacket()
		if err != nil {
			break
		}
		got = append(got, p.Number)
	}
	if fmt.Sprint(got) != "[1 3 4]" {
		t.Errorf("filtered packet numbers = %v, want [1 3 4] (numbers kept)", got)
	}
	if _, err := filterPackets(&src, []string{"port"}); err == nil {
		t.Errorf("filterPackets(%q) = nil error", "port")
	}
}
