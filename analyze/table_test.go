package analyze_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// decodeEvents decodes a capture with the given number of workers and
// returns copies of its events.
func decodeEvents(t *testing.T, data []byte, workers int) []analyze.Event {
	t.Helper()
	src, err := capture.NewReader(bytes.NewReader(data), "test.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var events []analyze.Event
	err = analyze.Decode(src, analyze.Options{Workers: workers}, func(ev *analyze.Event) error {
		events = append(events, ev.Clone())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// connSummary is what a test of the connection table looks at: per
// connection number, its tcp.close's how and the text messages it carried.
type connSummary struct {
	how      string
	messages []string
}

func summarize(t *testing.T, events []analyze.Event) map[int]*connSummary {
	t.Helper()
	out := map[int]*connSummary{}
	opened := map[int]bool{}
	for _, ev := range events {
		s := out[ev.Conn]
		if s == nil {
			s = &connSummary{}
			out[ev.Conn] = s
		}
		switch ev.Type {
		case analyze.TypeTCPOpen:
			if opened[ev.Conn] {
				t.Errorf("conn %d has two tcp.open", ev.Conn)
			}
			opened[ev.Conn] = true
		case analyze.TypeTCPClose:
			s.how = ev.TCPClose.How
		case analyze.TypeWSMessage:
			if ev.Message.Opcode == "text" {
				s.messages = append(s.messages, string(ev.Message.Payload))
			}
		default:
			if !opened[ev.Conn] {
				t.Errorf("conn %d: %s before tcp.open", ev.Conn, ev.Type)
			}
		}
	}
	return out
}

// TestPortReuse scripts a second connection on the addresses of a first:
// with and without the first's close captured, with a SYN far from the
// first's window, and a retransmitted or in-window SYN that is not a new
// connection. Serial and sharded decoding agree.
func TestPortReuse(t *testing.T) {
	const cl, sv = "127.0.0.1:50000", "127.0.0.1:9001"
	session := func(k *capturetest.Conn, text string, closeIt bool) {
		k.Client(analyzetest.Request("/chat"))
		k.Server(analyzetest.Response())
		k.Client(analyzetest.Text(true, text))
		if closeIt {
			k.Client(analyzetest.Close(true, 1000, ""))
			k.Server(analyzetest.Close(false, 1000, ""))
			k.CloseFIN(false)
			k.CloseFIN(true)
		}
	}
	tests := []struct {
		name   string
		script func(c *capturetest.Capture)
		want   map[int]connSummary
	}{
		{"first close captured, nearby ISN", func(c *capturetest.Capture) {
			k := c.Conn(cl, sv)
			k.Handshake()
			session(k, "one", true)
			k2 := c.Conn(cl, sv)
			k2.SetISN(capturetest.ClientISN+5000, capturetest.ServerISN+5000) // inside the old window: the close decides
			k2.Handshake()
			session(k2, "two", true)
		}, map[int]connSummary{1: {"fin", []string{"one"}}, 2: {"fin", []string{"two"}}}},
		{"first close not captured", func(c *capturetest.Capture) {
			k := c.Conn(cl, sv)
			k.Handshake()
			session(k, "one", false)
			k2 := c.Conn(cl, sv)
			k2.SetISN(capturetest.ClientISN+1<<20, capturetest.ServerISN+1<<20)
			k2.Handshake()
			session(k2, "two", true)
		}, map[int]connSummary{1: {"replaced", []string{"one"}}, 2: {"fin", []string{"two"}}}},
		{"retransmitted SYN", func(c *capturetest.Capture) {
			k := c.Conn(cl, sv)
			k.Handshake()
			k.Segment(true, ^uint32(0), nil, capture.SYN) // the SYN again (its ISN)
			session(k, "one", true)
		}, map[int]connSummary{1: {"fin", []string{"one"}}}},
		{"SYN inside the window", func(c *capturetest.Capture) {
			k := c.Conn(cl, sv)
			k.Handshake()
			session(k, "one", false)
			k.Segment(true, k.Next(true)+100, nil, capture.SYN) // a stray, not a new connection
			k.Client(analyzetest.Text(true, "still one"))
		}, map[int]connSummary{1: {"end", []string{"one", "still one"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := capturetest.NewCapture(capturetest.Options{})
			tc.script(c)
			data := c.Bytes()
			for _, workers := range []int{1, 2} {
				got := summarize(t, decodeEvents(t, data, workers))
				if len(got) != len(tc.want) {
					t.Errorf("workers=%d: %d connections, want %d", workers, len(got), len(tc.want))
				}
				for id, want := range tc.want {
					g := got[id]
					if g == nil || g.how != want.how || !equalStrings(g.messages, want.messages) {
						t.Errorf("workers=%d: conn %d = %+v, want %+v", workers, id, g, want)
					}
				}
			}
			compareWorkers(t, data, analyze.Options{})
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestHandshakeAndTeardown checks tcp.open's handshake and when it is
// emitted, and tcp.close's teardown.
func TestHandshakeAndTeardown(t *testing.T) {
	const cl, sv = "127.0.0.1:50000", "127.0.0.1:9001"
	type pkt struct {
		flags, from string
		packet      int64
	}
	tests := []struct {
		name       string
		script     func(c *capturetest.Capture)
		openPacket int64
		handshake  []pkt
		teardown   []pkt
		closeHow   string
		syn        bool
	}{
		{"full handshake, FINs", func(c *capturetest.Capture) {
			k := c.Conn(cl, sv)
			k.Handshake()
			k.Client([]byte("hello"))
			k.CloseFIN(true)
			k.CloseFIN(false)
		}, 3, []pkt{{"SYN", "client", 1}, {"SYN-ACK", "server", 2}, {"ACK", "client", 3}},
			[]pkt{{"FIN-ACK", "client", 5}, {"FIN-ACK", "server", 6}}, "fin", true},
		{"retransmitted SYN", func(c *capturetest.Capture) {
			k := c.Conn(cl, sv)
			k.Segment(true, ^uint32(0), nil, capture.SYN)
			k.Handshake()
			k.Reset(false)
		}, 4, []pkt{{"SYN", "client", 1}, {"SYN", "client", 2}, {"SYN-ACK", "server", 3}, {"ACK", "client", 4}},
			[]pkt{{"RST-ACK", "server", 5}}, "rst", true},
		{"refused: SYN then RST", func(c *capturetest.Capture) {
			k := c.Conn(cl, sv)
			k.Segment(true, ^uint32(0), nil, capture.SYN)
			k.Segment(false, ^uint32(0), nil, capture.RST|capture.ACK)
		}, 2, []pkt{{"SYN", "client", 1}}, []pkt{{"RST-ACK", "server", 2}}, "rst", true},
		{"mid-stream: no handshake", func(c *capturetest.Capture) {
			k := c.Conn(cl, sv)
			k.Client(analyzetest.Request("/chat"))
		}, 1, nil, nil, "end", false},
		{"SYN only", func(c *capturetest.Capture) {
			k := c.Conn(cl, sv)
			k.Segment(true, ^uint32(0), nil, capture.SYN)
		}, 1, []pkt{{"SYN", "client", 1}}, nil, "end", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := capturetest.NewCapture(capturetest.Options{})
			tc.script(c)
			data := c.Bytes()
			events := decodeEvents(t, data, 1)
			if len(events) < 2 || events[0].Type != analyze.TypeTCPOpen || events[len(events)-1].Type != analyze.TypeTCPClose {
				t.Fatalf("events %v: want tcp.open first and tcp.close last", events)
			}
			open, cls := events[0], events[len(events)-1]
			if open.Packet != tc.openPacket || open.TCPOpen.SYN != tc.syn {
				t.Errorf("tcp.open at packet %d, syn %v; want %d, %v", open.Packet, open.TCPOpen.SYN, tc.openPacket, tc.syn)
			}
			check := func(what string, got []analyze.TCPPacket, want []pkt) {
				t.Helper()
				if len(got) != len(want) {
					t.Fatalf("%s = %+v, want %+v", what, got, want)
				}
				for i, w := range want {
					if g := got[i]; g.Flags != w.flags || g.From != w.from || g.Packet != w.packet || g.Time.IsZero() {
						t.Errorf("%s[%d] = %+v, want %+v", what, i, g, w)
					}
				}
			}
			check("handshake", open.TCPOpen.Handshake, tc.handshake)
			check("teardown", cls.TCPClose.Teardown, tc.teardown)
			if cls.TCPClose.How != tc.closeHow {
				t.Errorf("tcp.close how = %q, want %q", cls.TCPClose.How, tc.closeHow)
			}
			compareWorkers(t, data, analyze.Options{})
		})
	}
}

// TestOnPacket checks Options.OnPacket: every packet gets the connection
// the table put it in and its sender: the handshake before its tcp.open, a
// reused port's new connection, a late ACK after tcp.close, a connection
// whose start was not captured. Decode with several workers calls it too
// (decoding on one).
func TestOnPacket(t *testing.T) {
	const cl, sv = "127.0.0.1:50000", "127.0.0.1:9001"
	c := capturetest.NewCapture(capturetest.Options{})
	var want []string
	expect := func(conn int, from ...string) {
		t.Helper()
		for _, f := range from {
			want = append(want, fmt.Sprintf("%d %s", conn, f))
		}
		if len(want) != c.Packets() {
			t.Fatalf("script: %d packets expected, %d written", len(want), c.Packets())
		}
	}
	k := c.Conn(cl, sv)
	k.Handshake()
	expect(1, "client", "server", "client")
	k.Client(analyzetest.Request("/chat"))
	expect(1, "client")
	k.Server(analyzetest.Response())
	expect(1, "server")
	k.Client(analyzetest.Text(true, "one"))
	expect(1, "client")
	k2 := c.Conn(cl, sv) // the first one's close was not captured
	k2.SetISN(capturetest.ClientISN+1<<20, capturetest.ServerISN+1<<20)
	k2.Handshake()
	expect(2, "client", "server", "client")
	k2.Client(analyzetest.Request("/chat"))
	expect(2, "client")
	k2.CloseFIN(false)
	k2.CloseFIN(true)
	expect(2, "server", "client")
	k2.Ack(false) // after tcp.close
	expect(2, "server")
	k3 := c.Conn("127.0.0.1:50001", sv) // already open
	k3.Server(analyzetest.Response())
	expect(3, "server")
	data := c.Bytes()

	for _, workers := range []int{1, 4} {
		var got []string
		opts := analyze.Options{Workers: workers, OnPacket: func(p *capture.Packet, conn int, from string) {
			if int(p.Number) != len(got)+1 {
				t.Errorf("workers=%d: OnPacket(packet %d) after %d packets", workers, p.Number, len(got))
			}
			got = append(got, fmt.Sprintf("%d %s", conn, from))
		}}
		src, err := capture.NewReader(bytes.NewReader(data), "test.pcap")
		if err != nil {
			t.Fatal(err)
		}
		closes := 0
		err = analyze.Decode(src, opts, func(ev *analyze.Event) error {
			if ev.Type == analyze.TypeTCPClose {
				closes++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if closes != 3 {
			t.Errorf("workers=%d: %d tcp.close, want 3", workers, closes)
		}
		if !equalStrings(got, want) {
			t.Errorf("workers=%d: OnPacket saw\n%q\nwant\n%q", workers, got, want)
		}
	}
}
