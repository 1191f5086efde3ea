package analyze_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// movePacket returns data, a pcap capture, with its packet number from
// (1-based) moved to be packet number to, the timestamps kept in order.
func movePacket(t *testing.T, data []byte, from, to int) []byte {
	t.Helper()
	_, records := pcapRecords(t, data)
	if from < 1 || from > len(records) || to < 1 || to > len(records) {
		t.Fatalf("movePacket(%d, %d) in a capture of %d packets", from, to, len(records))
	}
	order := make([]int, len(records))
	for i := range order {
		order[i] = i
	}
	order = slices.Insert(slices.Delete(order, from-1, from), to-1, from-1)
	return reorderFirst(t, data, order)
}

// decoded is what a scripted capture decodes to: the text messages of
// each direction, the gaps, and every warning code.
type decoded struct {
	client, server []string
	gaps           int
	codes          []string
}

func decodeCapture(t *testing.T, data []byte, workers int) decoded {
	t.Helper()
	var out decoded
	for _, ev := range decodeEvents(t, data, workers) {
		for _, w := range ev.Warnings {
			out.codes = append(out.codes, w.Code)
		}
		switch {
		case ev.Type == analyze.TypeTCPGap:
			out.gaps++
		case ev.Type == analyze.TypeWSMessage && ev.Message.Opcode == "text" && ev.From == analyze.FromClient:
			out.client = append(out.client, string(ev.Message.Payload))
		case ev.Type == analyze.TypeWSMessage && ev.Message.Opcode == "text":
			out.server = append(out.server, string(ev.Message.Payload))
		}
	}
	return out
}

// TestTCPCases scripts what real captures hold and checks that every
// message is decoded exactly, with no false gap: ACKs (pure, or on data)
// captured 1 to 8 packets ahead of the data they acknowledge, in both
// directions; duplicated and swapped segments; keep-alive and zero-window
// probes; sequence numbers that wrap inside a message; and overlapping
// copies that differ (the first one wins, tcp.overlap_conflict).
func TestTCPCases(t *testing.T) {
	const cl, sv = "127.0.0.1:50000", "127.0.0.1:9001"
	long := strings.Repeat("wrapped ", 60)
	type tc struct {
		name   string
		script func(c *capturetest.Capture) []byte
		want   decoded
	}
	var tests []tc

	// An ACK ahead of the data it acknowledges: the data packet of one
	// side is captured n packets late, behind the other side's pure ACK
	// and n-1 data packets, all acknowledging it.
	for n := 1; n <= 8; n++ {
		for _, fromClient := range []bool{true, false} {
			sender, peer := "client", "server"
			if !fromClient {
				sender, peer = peer, sender
			}
			want := decoded{client: []string{"request"}, server: []string{"response"}}
			late := sender + " late"
			var peers []string
			for i := range n - 1 {
				peers = append(peers, fmt.Sprintf("%s %d", peer, i))
			}
			if fromClient {
				want.client = append(want.client, late)
				want.server = append(want.server, peers...)
			} else {
				want.server = append(want.server, late)
				want.client = append(want.client, peers...)
			}
			tests = append(tests, tc{fmt.Sprintf("%s data %d packets behind its ACK", sender, n), func(c *capturetest.Capture) []byte {
				k := c.Conn(cl, sv)
				k.Handshake()
				k.Client(analyzetest.Request("/chat"))
				k.Server(analyzetest.Response())
				k.Client(analyzetest.Text(true, "request"))
				k.Server(analyzetest.Text(false, "response"))
				p := c.Packets() + 1
				k.Segment(fromClient, k.Next(fromClient), analyzetest.Text(fromClient, late), capture.ACK|capture.PSH)
				k.Ack(!fromClient)
				for _, m := range peers {
					k.Segment(!fromClient, k.Next(!fromClient), analyzetest.Text(!fromClient, m), capture.ACK|capture.PSH)
				}
				k.CloseFIN(true)
				k.CloseFIN(false)
				return movePacket(t, c.Bytes(), p, p+n)
			}, want})
		}
	}

	tests = append(tests,
		tc{"duplicated and swapped segments", func(c *capturetest.Capture) []byte {
			k := c.Conn(cl, sv)
			k.Handshake()
			k.Client(analyzetest.Request("/chat"))
			k.Server(analyzetest.Response())
			msg := analyzetest.Text(false, "one message in four segments, captured out of order and twice")
			next := k.Next(false)
			for _, cut := range [][2]int{{10, 30}, {0, 10}, {0, 10}, {10, 30}, {30, 50}, {50, len(msg)}, {50, len(msg)}, {30, 50}} {
				k.Segment(false, next+uint32(cut[0]), msg[cut[0]:cut[1]], capture.ACK)
			}
			k.Ack(true)
			k.Client(analyzetest.Text(true, "after"))
			k.CloseFIN(true)
			k.CloseFIN(false)
			return c.Bytes()
		}, decoded{client: []string{"after"}, server: []string{"one message in four segments, captured out of order and twice"}}},

		// TCP Fast Open (RFC 7413), the SYN with the upgrade request
		// retransmitted (the handshake's orders: TestHandshakeOrders).
		tc{"Fast Open: the SYN with the request retransmitted", func(c *capturetest.Capture) []byte {
			k := c.Conn(cl, sv)
			k.HandshakeFastOpen(analyzetest.Request("/chat"), true)
			data := fastOpenRest(k, c)
			header, records := pcapRecords(t, data)
			out := append(bytes.Clone(header), records[0]...)
			for _, r := range records {
				out = append(out, r...)
			}
			return out
		}, decoded{client: []string{"request"}, server: []string{"response"}}},

		tc{"keep-alive probes with one garbage byte", func(c *capturetest.Capture) []byte {
			k := c.Conn(cl, sv)
			k.Handshake()
			k.Client(analyzetest.Request("/chat"))
			k.Server(analyzetest.Response())
			k.Client(analyzetest.Text(true, "before"))
			for range 3 {
				// RFC 9293 §3.8.4: the last byte sent again, as garbage.
				k.Segment(true, k.Next(true)-1, []byte{0xee}, capture.ACK)
				k.Ack(false)
				k.Segment(false, k.Next(false)-1, []byte{0xee}, capture.ACK)
				k.Ack(true)
			}
			k.Client(analyzetest.Text(true, "after"))
			k.Server(analyzetest.Text(false, "reply"))
			k.CloseFIN(true)
			k.CloseFIN(false)
			return c.Bytes()
		}, decoded{client: []string{"before", "after"}, server: []string{"reply"}}},

		tc{"zero-window probes", func(c *capturetest.Capture) []byte {
			k := c.Conn(cl, sv)
			k.Handshake()
			k.Client(analyzetest.Request("/chat"))
			k.Server(analyzetest.Response())
			msg := analyzetest.Text(false, "sent once the window opens")
			next := k.Next(false)
			// RFC 9293 §3.8.6.1: a probe of one new byte, then probes
			// with an old sequence number and no data; the byte is
			// sent again with the rest.
			k.Segment(false, next, msg[:1], capture.ACK)
			k.Ack(true)
			k.Segment(false, next-1, nil, capture.ACK)
			k.Ack(true)
			k.Segment(false, next, msg, capture.ACK|capture.PSH)
			k.Ack(true)
			k.CloseFIN(true)
			k.CloseFIN(false)
			return c.Bytes()
		}, decoded{server: []string{"sent once the window opens"}}},

		tc{"sequence numbers wrap inside a message, segments swapped behind their ACK", func(c *capturetest.Capture) []byte {
			k := c.Conn(cl, sv)
			k.SetMSS(100)
			k.SetISN(0xffffffff-300, 0xffffffff-200)
			k.Handshake()
			k.Client(analyzetest.Request("/chat"))
			k.Server(analyzetest.Response())
			p := c.Packets() + 1
			k.Server(analyzetest.Text(false, long)) // 5 segments across the wrap
			k.Ack(true)
			k.Client(analyzetest.Text(true, long))
			k.CloseFIN(true)
			k.CloseFIN(false)
			data := movePacket(t, c.Bytes(), p+1, p+6) // behind the client's ACK and data
			return movePacket(t, data, p, p+3)
		}, decoded{client: []string{long}, server: []string{long}}},

		tc{"conflicting overlap: the buffered copy came first", func(c *capturetest.Capture) []byte {
			k := c.Conn(cl, sv)
			k.Handshake()
			k.Client(analyzetest.Request("/chat"))
			k.Server(analyzetest.Response())
			msg := analyzetest.Text(false, "the first copy wins")
			forged := bytes.Clone(msg)
			copy(forged[12:], "FORGED")
			next := k.Next(false)
			k.Segment(false, next+10, msg[10:], capture.ACK|capture.PSH)
			k.Segment(false, next, forged, capture.ACK|capture.PSH)
			k.CloseFIN(true)
			k.CloseFIN(false)
			return c.Bytes()
		}, decoded{server: []string{"the first copy wins"}, codes: []string{"tcp.overlap_conflict"}}},

		tc{"conflicting overlap: two copies ahead of a hole", func(c *capturetest.Capture) []byte {
			k := c.Conn(cl, sv)
			k.Handshake()
			k.Client(analyzetest.Request("/chat"))
			k.Server(analyzetest.Response())
			msg := analyzetest.Text(false, "the first copy wins")
			forged := bytes.Clone(msg)
			copy(forged[2:], "FORGED")
			next := k.Next(false)
			k.Segment(false, next+2, msg[2:12], capture.ACK)
			k.Segment(false, next+2, forged[2:], capture.ACK|capture.PSH)
			k.Segment(false, next, msg[:2], capture.ACK)
			k.CloseFIN(true)
			k.CloseFIN(false)
			return c.Bytes()
		}, decoded{server: []string{"the first copy wins"}, codes: []string{"tcp.overlap_conflict"}}},

		tc{"identical overlap: no conflict", func(c *capturetest.Capture) []byte {
			k := c.Conn(cl, sv)
			k.Handshake()
			k.Client(analyzetest.Request("/chat"))
			k.Server(analyzetest.Response())
			msg := analyzetest.Text(false, "the same bytes twice")
			next := k.Next(false)
			k.Segment(false, next+5, msg[5:], capture.ACK|capture.PSH)
			k.Segment(false, next, msg[:15], capture.ACK)
			k.CloseFIN(true)
			k.CloseFIN(false)
			return c.Bytes()
		}, decoded{server: []string{"the same bytes twice"}}},

		tc{"different bytes over delivered ones: not compared, the first copy stands", func(c *capturetest.Capture) []byte {
			k := c.Conn(cl, sv)
			k.Handshake()
			k.Client(analyzetest.Request("/chat"))
			k.Server(analyzetest.Response())
			msg := analyzetest.Text(false, "delivered first")
			next := k.Next(false)
			k.Segment(false, next, msg, capture.ACK|capture.PSH)
			forged := bytes.Clone(msg)
			copy(forged[2:], "FORGED")
			k.Segment(false, next, forged, capture.ACK|capture.PSH)
			k.CloseFIN(true)
			k.CloseFIN(false)
			return c.Bytes()
		}, decoded{server: []string{"delivered first"}}},
	)

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.script(capturetest.NewCapture(capturetest.Options{}))
			for _, workers := range []int{1, 2} {
				got := decodeCapture(t, data, workers)
				if !slices.Equal(got.client, tc.want.client) || !slices.Equal(got.server, tc.want.server) {
					t.Errorf("workers=%d: messages client %q server %q, want %q and %q", workers, got.client, got.server, tc.want.client, tc.want.server)
				}
				if got.gaps != tc.want.gaps || !slices.Equal(got.codes, tc.want.codes) {
					t.Errorf("workers=%d: %d gaps, codes %q; want %d, %q", workers, got.gaps, got.codes, tc.want.gaps, tc.want.codes)
				}
			}
		})
	}
}
