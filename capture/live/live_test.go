package live

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/gorilla/websocket"

	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/filter"
	"github.com/wsviz/wsviz/internal/echotest"
)

// openOrSkip opens a live capture, or skips the test when the process may
// not capture, except in CI (CI=true), which runs as root: there capture
// must work.
func openOrSkip(t *testing.T, iface string, opts Options) *Source {
	t.Helper()
	s, err := Open(iface, opts)
	var pe *PermissionError
	if errors.As(err, &pe) && os.Getenv("CI") != "true" {
		t.Skipf("no capture permission: %v", err)
	}
	if err != nil {
		t.Fatalf("Open(%q) = %v", iface, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// collector reads a source in the background, copying every packet.
type collector struct {
	src  *Source
	mu   sync.Mutex
	pkts []capture.Packet
	done chan error
}

func collect(src *Source) *collector {
	c := &collector{src: src, done: make(chan error, 1)}
	go func() {
		for {
			p, err := src.ReadPacket()
			if err != nil {
				c.done <- err
				return
			}
			p.Data = append([]byte(nil), p.Data...)
			c.mu.Lock()
			c.pkts = append(c.pkts, p)
			c.mu.Unlock()
		}
	}()
	return c
}

// waitFor waits until cond holds for the packets so far (or 5 seconds
// pass), then stops the source and returns everything it captured.
func (c *collector) waitFor(t *testing.T, cond func([]capture.Packet) bool) []capture.Packet {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		c.mu.Lock()
		ok := cond(c.pkts)
		c.mu.Unlock()
		if ok {
			break
		}
	}
	c.src.Stop()
	select {
	case err := <-c.done:
		if err != io.EOF {
			t.Fatalf("ReadPacket = %v, want io.EOF after Stop", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadPacket did not return after Stop")
	}
	return c.pkts
}

// token returns a random marker so that packets of this test are told
// apart from any other traffic on the machine.
func token(t *testing.T) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// transport decodes a captured packet down to its transport layer.
func transport(p capture.Packet) (src, dst uint16, l gopacket.Layer) {
	pkt := gopacket.NewPacket(p.Data, layers.LinkType(p.LinkType), gopacket.NoCopy)
	if tcp, ok := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
		return uint16(tcp.SrcPort), uint16(tcp.DstPort), tcp
	}
	if udp, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
		return uint16(udp.SrcPort), uint16(udp.DstPort), udp
	}
	return 0, 0, nil
}

func udpPayloads(ps []capture.Packet) map[string]int {
	seen := map[string]int{}
	for _, p := range ps {
		if _, _, l := transport(p); l != nil {
			if udp, ok := l.(*layers.UDP); ok {
				seen[string(udp.Payload)]++
			}
		}
	}
	return seen
}

func udpListener(t *testing.T, network, addr string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP(network, &net.UDPAddr{IP: net.ParseIP(addr)})
	if err != nil {
		t.Skipf("no %s loopback: %v", network, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func sendUDP(t *testing.T, to *net.UDPConn, msgs []string) {
	t.Helper()
	conn, err := net.DialUDP(to.LocalAddr().Network(), nil, to.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, m := range msgs {
		if _, err := conn.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoopbackPacketsOnce(t *testing.T) {
	// A packet socket on lo sees every packet leave and come back in;
	// each must be handed out once. On "any" the outgoing copy of a
	// loopback packet is dropped too.
	tests := []struct {
		iface, network, addr string
		link                 capture.LinkType
	}{
		{"lo", "udp4", "127.0.0.1", capture.LinkTypeEthernet},
		{"lo", "udp6", "::1", capture.LinkTypeEthernet},
		{"any", "udp4", "127.0.0.1", capture.LinkTypeLinuxSLL},
		{"any", "udp6", "::1", capture.LinkTypeLinuxSLL},
	}
	for _, tc := range tests {
		t.Run(tc.iface+"/"+tc.network, func(t *testing.T) {
			l := udpListener(t, tc.network, tc.addr)
			port := l.LocalAddr().(*net.UDPAddr).Port
			s := openOrSkip(t, tc.iface, Options{Filter: filter.MustParse(fmt.Sprintf("udp dst port %d", port))})
			if s.LinkType() != tc.link {
				t.Errorf("LinkType() = %v, want %v", s.LinkType(), tc.link)
			}
			c := collect(s)
			tok := token(t)
			var msgs []string
			for i := range 200 {
				msgs = append(msgs, fmt.Sprintf("%s-%d", tok, i))
			}
			sendUDP(t, l, msgs)
			ps := c.waitFor(t, func(ps []capture.Packet) bool { return len(ps) >= len(msgs) })
			seen := udpPayloads(ps)
			for _, m := range msgs {
				if seen[m] != 1 {
					t.Errorf("datagram %q captured %d times, want 1", m, seen[m])
				}
			}
			if len(ps) != len(msgs) {
				t.Errorf("captured %d packets, want %d", len(ps), len(msgs))
			}
			for i, p := range ps {
				if p.Number != int64(i+1) {
					t.Fatalf("packet %d has Number %d, want %d", i, p.Number, i+1)
				}
				if i > 0 && p.Timestamp.Before(ps[i-1].Timestamp) {
					t.Errorf("packet %d at %v is earlier than packet %d at %v", i+1, p.Timestamp, i, ps[i-1].Timestamp)
				}
				if p.LinkType != tc.link || p.Length != len(p.Data) {
					t.Errorf("packet %d: link %v, %d of %d bytes, want %v and whole", i+1, p.LinkType, len(p.Data), p.Length, tc.link)
				}
			}
			if st := s.Stats(); st.Packets != uint64(len(ps)) || st.Drops != 0 {
				t.Errorf("Stats() = %+v, want %d packets and no drops", st, len(ps))
			}
		})
	}
}

func TestTimestampsFromKernel(t *testing.T) {
	l := udpListener(t, "udp4", "127.0.0.1")
	s := openOrSkip(t, "lo", Options{Filter: filter.MustParse(fmt.Sprintf("udp port %d", l.LocalAddr().(*net.UDPAddr).Port))})
	c := collect(s)
	before := time.Now()
	sendUDP(t, l, []string{"a"})
	after := time.Now()
	time.Sleep(3 * DefaultBlockTimeout) // delivered late on purpose
	ps := c.waitFor(t, func(ps []capture.Packet) bool { return len(ps) == 1 })
	if len(ps) != 1 {
		t.Fatalf("captured %d packets, want 1", len(ps))
	}
	// The packet's time is when the kernel saw it, not when it was read.
	if ts := ps[0].Timestamp; ts.Before(before.Add(-time.Millisecond)) || ts.After(after.Add(time.Millisecond)) {
		t.Errorf("Timestamp = %v, want between %v and %v", ts, before, after)
	}
}

func TestWebSocketTraffic(t *testing.T) {
	// Capture one gorilla connection by port while another talks beside
	// it: every message of the first appears exactly once, and nothing of
	// the second.
	port, url := echotest.Server(t, false)
	otherPort, otherURL := echotest.Server(t, false)
	s := openOrSkip(t, "lo", Options{Filter: filter.MustParse(fmt.Sprintf("tcp port %d", port))})
	c := collect(s)
	client, other := echotest.Dial(t, url, false), echotest.Dial(t, otherURL, false)

	tok := token(t)
	const n = 300
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			_ = other.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf("other-%s-%d", tok, i)))
			_, _, _ = other.ReadMessage()
		}
	}()
	var sent []string
	for i := range n {
		m := fmt.Sprintf("%s-%d", tok, i)
		sent = append(sent, m)
		if err := client.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := client.ReadMessage(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()

	ps := c.waitFor(t, func(ps []capture.Packet) bool {
		toServer, toClient := streams(t, ps, uint16(port))
		return len(wsMessages(t, toServer)) >= n && len(wsMessages(t, toClient)) >= n
	})
	for _, p := range ps {
		src, dst, l := transport(p)
		if l == nil || (src != uint16(port) && dst != uint16(port)) || src == uint16(otherPort) || dst == uint16(otherPort) {
			t.Fatalf("packet %d (%d > %d) does not belong to port %d", p.Number, src, dst, port)
		}
	}
	// The outgoing copy of a packet is byte for byte the incoming one.
	seen := map[string]int64{}
	for _, p := range ps {
		if prev, ok := seen[string(p.Data)]; ok {
			t.Errorf("packets %d and %d are identical: a packet was counted twice", prev, p.Number)
		}
		seen[string(p.Data)] = p.Number
	}
	toServer, toClient := streams(t, ps, uint16(port))
	counts := map[string]int{}
	for _, m := range wsMessages(t, toServer) {
		counts[m]++
	}
	for _, m := range wsMessages(t, toClient) {
		counts[m]++
	}
	for _, m := range sent {
		if counts[m] != 1 || counts["re:"+m] != 1 {
			t.Errorf("message %q seen %d times and its answer %d times, want 1 and 1", m, counts[m], counts["re:"+m])
		}
	}
}

// streams reassembles the TCP payload sent to and from the port, ordered
// by sequence number; overlapping bytes are taken once.
func streams(t *testing.T, ps []capture.Packet, port uint16) (toServer, toClient []byte) {
	type seg struct {
		seq  uint32
		data []byte
	}
	var segs [2][]seg
	var isn [2]uint32
	var synSeen [2]bool
	for _, p := range ps {
		_, dst, l := transport(p)
		tcp, ok := l.(*layers.TCP)
		if !ok {
			continue
		}
		d := 1
		if dst == port {
			d = 0
		}
		if tcp.SYN {
			isn[d], synSeen[d] = tcp.Seq+1, true
		}
		if len(tcp.Payload) > 0 {
			segs[d] = append(segs[d], seg{tcp.Seq, tcp.Payload})
		}
	}
	var out [2][]byte
	for d := range 2 {
		if !synSeen[d] {
			continue
		}
		sort.Slice(segs[d], func(i, j int) bool { return int32(segs[d][i].seq-segs[d][j].seq) < 0 })
		next := isn[d]
		for _, s := range segs[d] {
			skip := int32(next - s.seq)
			if skip < 0 { // a hole: stop here
				break
			}
			if int(skip) < len(s.data) {
				out[d] = append(out[d], s.data[skip:]...)
				next = s.seq + uint32(len(s.data))
			}
		}
	}
	return out[0], out[1]
}

// wsMessages returns the payloads of the complete unfragmented data frames
// after the HTTP upgrade in a reassembled stream (RFC 6455 §5.2), unmasked.
func wsMessages(t *testing.T, stream []byte) []string {
	i := bytes.Index(stream, []byte("\r\n\r\n"))
	if i < 0 {
		return nil
	}
	b := stream[i+4:]
	var msgs []string
	for len(b) >= 2 {
		masked := b[1]&0x80 != 0
		n := uint64(b[1] & 0x7f)
		h := 2
		switch n {
		case 126:
			if len(b) < 4 {
				return msgs
			}
			n, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			if len(b) < 10 {
				return msgs
			}
			n, h = binary.BigEndian.Uint64(b[2:]), 10
		}
		var key []byte
		if masked {
			if len(b) < h+4 {
				return msgs
			}
			key, h = b[h:h+4], h+4
		}
		if uint64(len(b)-h) < n {
			return msgs
		}
		payload := append([]byte(nil), b[h:h+int(n)]...)
		for j := range payload {
			if masked {
				payload[j] ^= key[j%4]
			}
		}
		if b[0]&0x0f == byte(websocket.TextMessage) {
			msgs = append(msgs, string(payload))
		}
		b = b[h+int(n):]
	}
	return msgs
}

func TestKernelFilterAgreesWithMatch(t *testing.T) {
	// Two captures side by side: one takes all UDP, the other a filter.
	// The filtered one must hold exactly the packets of the first that
	// the Go matcher accepts.
	l4a, l4b := udpListener(t, "udp4", "127.0.0.1"), udpListener(t, "udp4", "127.0.0.1")
	l6 := udpListener(t, "udp6", "::1")
	pa, pb := l4a.LocalAddr().(*net.UDPAddr).Port, l4b.LocalAddr().(*net.UDPAddr).Port
	p6 := l6.LocalAddr().(*net.UDPAddr).Port
	exprs := []string{
		fmt.Sprintf("udp port %d", pa),
		fmt.Sprintf("udp and not port %d", pa),
		fmt.Sprintf("ip6 and udp dst port %d", p6),
		fmt.Sprintf("host 127.0.0.1 and (port %d or %d)", pa, pb),
		fmt.Sprintf("net ::1/128 or dst port %d", pb),
		fmt.Sprintf("portrange %d-%d", min(pa, pb), max(pa, pb)),
	}
	for _, expr := range exprs {
		t.Run(expr, func(t *testing.T) {
			f := filter.MustParse(expr)
			all := openOrSkip(t, "lo", Options{Filter: filter.MustParse("udp")})
			some := openOrSkip(t, "lo", Options{Filter: f})
			prog, err := f.Compile(capture.LinkTypeEthernet)
			if err != nil {
				t.Fatal(err)
			}
			ca, cs := collect(all), collect(some)
			tok := token(t)
			var msgs []string
			for i, l := range []*net.UDPConn{l4a, l4b, l6} {
				batch := []string{fmt.Sprintf("%s-%d-a", tok, i), fmt.Sprintf("%s-%d-b", tok, i)}
				sendUDP(t, l, batch)
				msgs = append(msgs, batch...)
			}
			mine := func(ps []capture.Packet) int {
				n := 0
				for m := range udpPayloads(ps) {
					if strings.HasPrefix(m, tok) {
						n++
					}
				}
				return n
			}
			psAll := ca.waitFor(t, func(ps []capture.Packet) bool { return mine(ps) >= len(msgs) })
			psSome := cs.waitFor(t, func([]capture.Packet) bool { return true })
			want := map[string]int{}
			for _, p := range psAll {
				if prog.Match(p.Data) {
					want[string(p.Data)]++
				}
			}
			got := map[string]int{}
			for _, p := range psSome {
				got[string(p.Data)]++
			}
			if mine(psAll) != len(msgs) {
				t.Fatalf("the unfiltered capture saw %d of %d datagrams", mine(psAll), len(msgs))
			}
			for data, n := range want {
				if got[data] != n && bytes.Contains([]byte(data), []byte(tok)) {
					t.Errorf("kernel filter %q passed a packet %d times, Match says %d", expr, got[data], n)
				}
			}
			for data, n := range got {
				if want[data] == 0 && bytes.Contains([]byte(data), []byte(tok)) {
					t.Errorf("kernel filter %q passed a packet (%d times) that Match rejects", expr, n)
				}
			}
		})
	}
}

func TestExcludePorts(t *testing.T) {
	keep, drop := udpListener(t, "udp4", "127.0.0.1"), udpListener(t, "udp4", "127.0.0.1")
	dropPort := uint16(drop.LocalAddr().(*net.UDPAddr).Port)
	s := openOrSkip(t, "lo", Options{Filter: filter.MustParse("udp"), ExcludePorts: []uint16{dropPort}})
	if got, want := s.Filter().String(), fmt.Sprintf("((udp) or <IP fragments and tunnels>) and (not port %d)", dropPort); got != want {
		t.Errorf("Filter() = %q, want %q", got, want)
	}
	c := collect(s)
	tok := token(t)
	sendUDP(t, drop, []string{tok + "-drop"})
	sendUDP(t, keep, []string{tok + "-keep"})
	ps := c.waitFor(t, func(ps []capture.Packet) bool { return udpPayloads(ps)[tok+"-keep"] > 0 })
	seen := udpPayloads(ps)
	if seen[tok+"-keep"] != 1 || seen[tok+"-drop"] != 0 {
		t.Errorf("captured the kept datagram %d times and the excluded one %d times, want 1 and 0", seen[tok+"-keep"], seen[tok+"-drop"])
	}
}

func TestDrops(t *testing.T) {
	// A small ring that nobody reads overflows: the kernel counts drops,
	// and what it did keep is still handed out.
	l := udpListener(t, "udp4", "127.0.0.1")
	s := openOrSkip(t, "lo", Options{
		Filter:     filter.MustParse(fmt.Sprintf("udp port %d", l.LocalAddr().(*net.UDPAddr).Port)),
		BufferSize: 2 << 20,
	})
	payload := strings.Repeat("x", 1200)
	msgs := make([]string, 4000) // about 5 MB through a 2 MiB ring
	for i := range msgs {
		msgs[i] = payload
	}
	sendUDP(t, l, msgs)
	time.Sleep(3 * DefaultBlockTimeout)
	s.Stop()
	n := 0
	for {
		if _, err := s.ReadPacket(); err != nil {
			break
		}
		n++
	}
	st := s.Stats()
	if st.Drops == 0 {
		t.Errorf("Stats() = %+v, want drops", st)
	}
	if st.Packets != uint64(n) || n == 0 {
		t.Errorf("Stats().Packets = %d, handed out %d", st.Packets, n)
	}
	if s.kernelDedup && st.Received != st.Packets+st.Drops {
		t.Errorf("Stats() = %+v: received should be handed out + dropped", st)
	}
}

func TestStopWakesReader(t *testing.T) {
	s := openOrSkip(t, "lo", Options{Filter: filter.MustParse("udp port 9 and host 127.0.0.254")})
	var waits atomic.Int32
	s.onWait = func() { waits.Add(1) }
	done := make(chan error, 1)
	go func() {
		_, err := s.ReadPacket()
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	s.Stop()
	select {
	case err := <-done:
		if err != io.EOF {
			t.Errorf("ReadPacket after Stop = %v, want io.EOF", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("ReadPacket still waiting 2s after Stop")
	}
	if waits.Load() == 0 {
		t.Errorf("OnWait was not called before waiting")
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if _, err := s.ReadPacket(); err != io.EOF {
		t.Errorf("ReadPacket after Close = %v, want io.EOF", err)
	}
	s.Stop() // harmless after Close
	if err := s.Close(); err != nil {
		t.Errorf("second Close() = %v", err)
	}
}

func TestStopDeliversCaptured(t *testing.T) {
	// Stop right after sending: packets still in the kernel's open block
	// are handed out before io.EOF.
	l := udpListener(t, "udp4", "127.0.0.1")
	s := openOrSkip(t, "lo", Options{Filter: filter.MustParse(fmt.Sprintf("udp port %d", l.LocalAddr().(*net.UDPAddr).Port))})
	msgs := []string{"one", "two", "three"}
	sendUDP(t, l, msgs)
	s.Stop()
	n := 0
	for {
		_, err := s.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != len(msgs) {
		t.Errorf("handed out %d packets after Stop, want %d", n, len(msgs))
	}
}

func TestOpenErrors(t *testing.T) {
	openOrSkip(t, "lo", Options{}).Close()
	tests := []struct {
		iface string
		opts  Options
		want  string
	}{
		{"nosuch0", Options{}, "capture: cannot open nosuch0: no such interface"},
		{"lo", Options{Filter: filter.MustParse("port 1" + strings.Repeat(" or 2", 600))}, "too long"},
	}
	for _, tc := range tests {
		t.Run(tc.iface, func(t *testing.T) {
			s, err := Open(tc.iface, tc.opts)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) = nil error, want %q", tc.iface, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open(%q) = %q, want %q", tc.iface, err, tc.want)
			}
		})
	}
}

const permChildEnv = "WSVIZ_LIVE_PERMISSION_CHILD"

func TestPermissionError(t *testing.T) {
	const want = "capture: cannot open lo: permission denied: run as root or `sudo setcap cap_net_raw,cap_net_admin+eip $(which wsviz)`"
	if os.Getenv(permChildEnv) != "" {
		// In the child, without CAP_NET_RAW.
		_, err := Open("lo", Options{})
		fmt.Printf("ERR=%v\n", err)
		if !errors.Is(err, os.ErrPermission) {
			fmt.Println("NOT-PERMISSION")
		}
		return
	}
	s, err := Open("lo", Options{})
	if err != nil {
		// Already without permission: check the message here.
		var pe *PermissionError
		if !errors.As(err, &pe) || err.Error() != want || !errors.Is(err, os.ErrPermission) {
			t.Fatalf("Open without permission = %v, want %q", err, want)
		}
		return
	}
	s.Close()
	// With permission: run this test again without CAP_NET_RAW.
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv not found: cannot drop CAP_NET_RAW to test the error")
	}
	cmd := exec.Command(setpriv, "--bounding-set=-net_raw,-net_admin", "--inh-caps=-net_raw,-net_admin",
		os.Args[0], "-test.run=^TestPermissionError$", "-test.v")
	cmd.Env = append(os.Environ(), permChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child without CAP_NET_RAW: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ERR="+want+"\n") || strings.Contains(string(out), "NOT-PERMISSION") {
		t.Errorf("Open without CAP_NET_RAW said:\n%s\nwant %q", out, want)
	}
}
