package analyze_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// resetCapture scripts a WebSocket whose resetter (the client or the
// server) sends RST-ACK right after the peer's last n messages, which the
// RST acknowledges; the capture records those n segments late, each moved
// behind the RST by late packets (and by as many of the resetter's
// retransmitted RSTs, which come in between). It returns the capture and
// the peer's messages.
func resetCapture(t *testing.T, resetter string, n, late int) ([]byte, []string) {
	c := capturetest.NewCapture(capturetest.Options{})
	k := c.Conn("127.0.0.1:50000", "127.0.0.1:9001")
	k.Handshake()
	k.Client(analyzetest.Request("/chat"))
	k.Server(analyzetest.Response())
	peerIsClient := resetter == "server"
	msgs := []string{"first"}
	k.Segment(peerIsClient, k.Next(peerIsClient), analyzetest.Text(peerIsClient, "first"), capture.ACK|capture.PSH)
	p := c.Packets() + 1
	for i := range n {
		m := fmt.Sprintf("late %d", i)
		msgs = append(msgs, m)
		k.Segment(peerIsClient, k.Next(peerIsClient), analyzetest.Text(peerIsClient, m), capture.ACK|capture.PSH)
	}
	for range late {
		k.Reset(!peerIsClient) // the RST-ACK, and its retransmissions
	}
	data := c.Bytes()
	// Move the n late segments behind the RSTs.
	for range n {
		data = movePacket(t, data, p, p+n+late-1)
	}
	return data, msgs
}

// TestResetReorders: a capture may record the peer's last segments after
// the RST that acknowledges them (capture order is not send order). They
// are decoded, whichever side resets, however many and however late
// within the reorder window, on one worker and two; tcp.close says rst, at
// the RST's packet, and comes after them. Past the window they are not
// waited for: the acknowledged bytes are a tcp.gap, not silently lost.
// (Before, the connection ended at the RST and everything after it was
// dropped without a word.)
func TestResetReorders(t *testing.T) {
	for _, resetter := range []string{"client", "server"} {
		peer := analyze.FromClient
		if resetter == "client" {
			peer = analyze.FromServer
		}
		for n := 1; n <= 3; n++ {
			for late := 1; late <= 4; late++ {
				data, msgs := resetCapture(t, resetter, n, late)
				upTo := untilRST(t, data)
				rst := upTo[len(upTo)-1].Number
				for _, workers := range []int{1, 2} {
					events := decodeEvents(t, data, workers)
					var got []string
					var closePacket int64
					closed := 0
					for i, ev := range events {
						for _, w := range ev.Warnings {
							t.Errorf("%s resets, %d late by %d: %s %s", resetter, n, late, ev.Type, w.Code)
						}
						switch {
						case ev.Type == analyze.TypeWSMessage && ev.From == peer && ev.Message.Opcode == "text":
							got = append(got, string(ev.Message.Payload))
						case ev.Type == analyze.TypeTCPClose:
							closed++
							closePacket = ev.Packet
							if ev.TCPClose.How != analyze.CloseRST || i != len(events)-1 {
								t.Errorf("%s resets, %d late by %d: tcp.close %s, event %d of %d", resetter, n, late, ev.TCPClose.How, i+1, len(events))
							}
						case ev.Type == analyze.TypeTCPGap:
							t.Errorf("%s resets, %d late by %d: a gap", resetter, n, late)
						}
					}
					if !slices.Equal(got, msgs) || closed != 1 {
						t.Errorf("%s resets, %d late by %d, %d workers: %q, %d closes; want %q", resetter, n, late, workers, got, closed, msgs)
					}
					if closePacket != rst {
						t.Errorf("%s resets, %d late by %d: tcp.close at packet %d, the RST is %d", resetter, n, late, closePacket, rst)
					}
				}
			}
		}
	}

	// Past the reorder window (4 packets here), the bytes the RST
	// acknowledged are a gap when the window closes, and what comes after
	// is not decoded.
	data, _ := resetCapture(t, "server", 1, 6)
	src, err := capture.NewReader(bytes.NewReader(data), "test.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var gaps, late int
	err = analyze.Decode(src, analyze.Options{ReorderPackets: 4}, func(ev *analyze.Event) error {
		switch {
		case ev.Type == analyze.TypeTCPGap && ev.From == analyze.FromClient:
			gaps++
		case ev.Type == analyze.TypeWSMessage && string(ev.Message.Payload) == "late 0":
			late++
		}
		return nil
	})
	if err != nil || gaps != 1 || late != 0 {
		t.Errorf("past the window: %d gaps, the late message decoded %d times (%v); want 1 gap, 0", gaps, late, err)
	}
}

// untilRST returns the packets of data up to its first RST, which is the
// last of them.
func untilRST(t *testing.T, data []byte) []capture.Packet {
	t.Helper()
	src, err := capture.NewReader(bytes.NewReader(data), "test.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var packets []capture.Packet
	for {
		p, err := src.ReadPacket()
		if err != nil {
			t.Fatal("no RST")
		}
		p.Data = bytes.Clone(p.Data)
		packets = append(packets, p)
		var seg capture.Segment
		if capture.DecodeTCP(&p, &seg) && seg.Flags&capture.RST != 0 {
			return packets
		}
	}
}

// TestIdleEndsReset: a live capture that goes quiet after a RST that
// acknowledged bytes it has not shown: the connection closes at the first
// Idle after the reorder window (ReorderTime), not at the next packet.
func TestIdleEndsReset(t *testing.T) {
	data, _ := resetCapture(t, "server", 1, 1)
	// The packets up to the RST only: the late segment never comes.
	packets := untilRST(t, data)
	rstTime := packets[len(packets)-1].Timestamp
	opts := analyze.Options{ReorderTime: 200 * time.Millisecond}
	afterIdle, atClose := idleRun(packets, opts, []time.Time{rstTime.Add(100 * time.Millisecond), rstTime.Add(300 * time.Millisecond)})
	if countType(afterIdle[0], analyze.TypeTCPClose) != 0 || countType(afterIdle[1], analyze.TypeTCPClose) != 1 || countType(atClose, analyze.TypeTCPClose) != 0 {
		t.Errorf("tcp.close after Idle at +100 ms: %d, at +300 ms: %d, at Close: %d; want 0, 1, 0",
			countType(afterIdle[0], analyze.TypeTCPClose), countType(afterIdle[1], analyze.TypeTCPClose), countType(atClose, analyze.TypeTCPClose))
	}
}

// TestResetDecidedInOrder is FuzzPipeline's 7d1b7f915e1518a3 as a family:
// whether a connection lingers after a RST is decided at that RST, from
// the packets before it. A RST that acknowledges nothing new (here without
// ACK) ends the connection, and what follows it is not decoded, even when
// a later RST of the same connection acknowledges bytes not captured; the
// sharded decoder, whose dispatcher routes packets ahead of the workers,
// gives the output of one worker (it read the later decision before).
func TestResetDecidedInOrder(t *testing.T) {
	for _, first := range []uint8{capture.RST, capture.RST | capture.ACK} {
		c := capturetest.NewCapture(capturetest.Options{})
		k := c.Conn("127.0.0.1:50000", "127.0.0.1:9001")
		k.Handshake()
		k.Client(analyzetest.Request("/chat"))
		k.Server(analyzetest.Response())
		k.Client(analyzetest.Text(true, "before"))
		k.Segment(false, k.Next(false), nil, first) // acknowledges all the client sent
		k.Segment(false, k.Next(false), analyzetest.Text(false, "after the reset"), capture.ACK|capture.PSH)
		k.Drop(1)
		k.Segment(false, k.Next(false), analyzetest.Text(false, "never captured"), capture.ACK|capture.PSH)
		k.Segment(true, k.Next(true), nil, capture.RST|capture.ACK) // acknowledges it all, what was not captured too
		data := c.Bytes()
		compareWorkers(t, data, analyze.Options{})
		for _, ev := range decodeEvents(t, data, 2) {
			if ev.Type == analyze.TypeWSMessage && ev.From == analyze.FromServer {
				t.Errorf("first RST flags %#x: a server message after it was decoded: %q", first, ev.Message.Payload)
			}
		}
	}
}
