package analyze_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
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
	c, k := upgradedConn()
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

// upgradedConn starts a capture with a WebSocket on it, from
// 127.0.0.1:50000 to 127.0.0.1:9001, upgraded.
func upgradedConn() (*capturetest.Capture, *capturetest.Conn) {
	c := capturetest.NewCapture(capturetest.Options{})
	k := c.Conn("127.0.0.1:50000", "127.0.0.1:9001")
	k.Handshake()
	k.Client(analyzetest.Request("/chat"))
	k.Server(analyzetest.Response())
	return c, k
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

	// Past the reorder window (3 ms here; the script's packets are 1 ms
	// apart), the bytes the RST acknowledged are a gap when the window
	// closes, and what comes after is not decoded.
	data, _ := resetCapture(t, "server", 1, 6)
	src, err := capture.NewReader(bytes.NewReader(data), "test.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var gaps, late int
	err = analyze.Decode(src, analyze.Options{ReorderTime: 3 * time.Millisecond}, func(ev *analyze.Event) error {
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
		c, k := upgradedConn()
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

// crossingCapture scripts a WebSocket on which the resetter (the client or
// the server) sends its last own messages, then a RST-ACK, while the peer
// goes on sending: the capture records the resetter's last own segments
// after its RST (capture order is not send order), then between packets of
// another connection, then the peer's cross messages, sent before the RST
// reached the peer, each answered by the resetter's host with a bare RST
// (RFC 9293 §3.10.7.1). It returns the capture, the packet number of the
// first RST and conn 1's messages from each side.
func crossingCapture(resetter string, own, cross, between int) (data []byte, rst int64, msgs [2][]string) {
	c := capturetest.NewCapture(capturetest.Options{})
	k := c.Conn("127.0.0.1:50000", "127.0.0.1:9001")
	other := c.Conn("127.0.0.1:50001", "127.0.0.1:9001")
	for _, k := range []*capturetest.Conn{k, other} {
		k.Handshake()
		k.Client(analyzetest.Request("/chat"))
		k.Server(analyzetest.Response())
	}
	r := resetter == "client" // the resetter's side, as Segment takes it
	side := map[bool]int{true: 0, false: 1}
	send := func(fromClient bool, m string) {
		msgs[side[fromClient]] = append(msgs[side[fromClient]], m)
		k.Segment(fromClient, k.Next(fromClient), analyzetest.Text(fromClient, m), capture.ACK|capture.PSH)
	}
	send(true, "hello")
	send(false, "welcome")
	k.Delay(own)
	for i := range own {
		send(r, fmt.Sprintf("own %d", i))
	}
	rst = int64(c.Packets()) + 1
	k.Reset(r)
	for i := range between {
		other.Server(analyzetest.Text(false, fmt.Sprintf("elsewhere %d", i)))
	}
	for i := range cross {
		send(!r, fmt.Sprintf("crossing %d", i))
		k.Segment(r, k.Next(r), nil, capture.RST)
	}
	return c.Bytes(), rst, msgs
}

// TestResetCrossing: what either side sent before a RST took effect is
// decoded, though the capture shows it after the RST: the peer's messages
// that crossed the RST on the wire (the RST does not acknowledge them) and
// the resetter's own last segments recorded late, whichever side resets,
// with other traffic in between, on one worker and two. tcp.close says rst,
// at the first RST's packet, and comes after them; nothing is a warning.
// (Before, the connection ended at the RST and all of it was dropped
// without a word, unless the RST acknowledged it.)
func TestResetCrossing(t *testing.T) {
	for _, resetter := range []string{"client", "server"} {
		for own := range 3 {
			for cross := range 4 {
				for between := range 3 {
					data, rst, want := crossingCapture(resetter, own, cross, between)
					name := fmt.Sprintf("%s resets, %d own late, %d crossing, %d between", resetter, own, cross, between)
					for _, workers := range []int{1, 2} {
						var got [2][]string
						closes, last := 0, false
						for _, ev := range decodeEvents(t, data, workers) {
							for _, w := range ev.Warnings {
								t.Errorf("%s, %d workers: %s %s", name, workers, ev.Type, w.Code)
							}
							if ev.Conn != 1 {
								continue
							}
							last = false
							switch ev.Type {
							case analyze.TypeWSMessage:
								d := 0
								if ev.From == analyze.FromServer {
									d = 1
								}
								got[d] = append(got[d], string(ev.Message.Payload))
							case analyze.TypeTCPClose:
								closes++
								last = true
								if ev.TCPClose.How != analyze.CloseRST || ev.Packet != rst {
									t.Errorf("%s, %d workers: tcp.close %s at packet %d; want rst at %d", name, workers, ev.TCPClose.How, ev.Packet, rst)
								}
								if note := lateBytes(want, resetter); !strings.HasSuffix(ev.Note, note) {
									t.Errorf("%s, %d workers: tcp.close says %q; want it to end %q", name, workers, ev.Note, note)
								}
							}
						}
						if !slices.Equal(got[0], want[0]) || !slices.Equal(got[1], want[1]) || closes != 1 || !last {
							t.Errorf("%s, %d workers: client %q, server %q, %d closes (last: %v); want %q, %q, 1 last", name, workers, got[0], got[1], closes, last, want[0], want[1])
						}
					}
				}
			}
		}
	}
}

// TestResetEndsAtOnce: a RST after which the capture can show nothing
// more of the connection ends it at once: tcp.close comes before the
// events of later packets. A refused connection (a RST answering the SYN)
// and a RST after the peer's FIN, every byte captured.
func TestResetEndsAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script func(k *capturetest.Conn)
	}{
		{"refused", func(k *capturetest.Conn) {
			k.Segment(true, ^uint32(0), nil, capture.SYN) // rel 0 is the ISN+1: the SYN is at -1
			k.Segment(false, 0, nil, capture.RST|capture.ACK)
		}},
		{"after the peer's FIN", func(k *capturetest.Conn) {
			k.Handshake()
			k.Client(analyzetest.Request("/chat"))
			k.Server(analyzetest.Response())
			k.CloseFIN(false)
			k.Reset(true)
		}},
	} {
		c := capturetest.NewCapture(capturetest.Options{})
		tc.script(c.Conn("127.0.0.1:50000", "127.0.0.1:9001"))
		other := c.Conn("127.0.0.1:50001", "127.0.0.1:9001")
		other.Handshake()
		data := c.Bytes()
		for _, workers := range []int{1, 2} {
			closeAt, otherAt := -1, -1
			for i, ev := range decodeEvents(t, data, workers) {
				if ev.Conn == 1 && ev.Type == analyze.TypeTCPClose {
					closeAt = i
				}
				if ev.Conn == 2 && otherAt < 0 {
					otherAt = i
				}
			}
			if closeAt < 0 || closeAt > otherAt {
				t.Errorf("%s, %d workers: tcp.close is event %d, the next connection's first is %d; want it before", tc.name, workers, closeAt+1, otherAt+1)
			}
		}
	}
}

// TestResetBareAck: a RST without the ACK flag acknowledges nothing,
// whatever its acknowledgment field holds: while the connection lingers
// after a RST, a host's bare RST answering a segment the capture lost does
// not make the lost bytes a tcp.gap (a RST-ACK would).
func TestResetBareAck(t *testing.T) {
	for _, flags := range []uint8{capture.RST, capture.RST | capture.ACK} {
		c, k := upgradedConn()
		k.Reset(true)
		k.Drop(1)
		k.Server(analyzetest.Text(false, "lost"))
		k.Segment(true, k.Next(true), nil, flags) // its acknowledgment field covers "lost"
		gaps := countType(decodeEvents(t, c.Bytes(), 1), analyze.TypeTCPGap)
		if want := map[bool]int{true: 1, false: 0}[flags&capture.ACK != 0]; gaps != want {
			t.Errorf("second RST flags %#x: %d gaps, want %d", flags, gaps, want)
		}
	}
}

// TestResetSentBefore: a RST's sequence number says how much its sender
// sent: its bytes before it that the capture never showed are a tcp.gap of
// exactly their size when the connection ends, not silently lost.
func TestResetSentBefore(t *testing.T) {
	for _, fromClient := range []bool{true, false} {
		c, k := upgradedConn()
		lost := analyzetest.Text(fromClient, "never captured")
		k.Drop(1)
		k.Segment(fromClient, k.Next(fromClient), lost, capture.ACK|capture.PSH)
		k.Segment(fromClient, k.Next(fromClient), nil, capture.RST) // no ACK: nothing else says the bytes were sent
		var gap int64
		for _, ev := range decodeEvents(t, c.Bytes(), 1) {
			if ev.Type == analyze.TypeTCPGap {
				gap += ev.TCPGap.Size
			}
		}
		if gap != int64(len(lost)) {
			t.Errorf("from the client %v: gaps of %d bytes, want %d", fromClient, gap, len(lost))
		}
	}
}

// TestResetLingersWhileSending: after a RST the connection lingers for the
// reorder time (200 ms by default) since the RST or since the last data
// after it: a peer whose messages cross the RST one every 150 ms, for
// longer than the window in all, has each decoded (a slow link holds what
// it queued before the RST); data 250 ms after the last is past the window
// and not decoded, and tcp.close comes before it.
func TestResetLingersWhileSending(t *testing.T) {
	c, k := upgradedConn()
	k.Reset(true)
	var want []string
	for i := range 5 {
		c.Advance(150 * time.Millisecond)
		m := fmt.Sprintf("tick %d", i)
		want = append(want, m)
		k.Server(analyzetest.Text(false, m))
		k.Segment(true, k.Next(true), nil, capture.RST)
	}
	c.Advance(250 * time.Millisecond)
	k.Server(analyzetest.Text(false, "too late"))
	data := c.Bytes()
	for _, workers := range []int{1, 2} {
		var got []string
		closed := false
		for _, ev := range decodeEvents(t, data, workers) {
			switch ev.Type {
			case analyze.TypeWSMessage:
				if closed {
					t.Errorf("%d workers: %q decoded after tcp.close", workers, ev.Message.Payload)
				}
				got = append(got, string(ev.Message.Payload))
			case analyze.TypeTCPClose:
				closed = true
			}
		}
		if !slices.Equal(got, want) || !closed {
			t.Errorf("%d workers: %q (closed: %v), want %q", workers, got, closed, want)
		}
	}
}

// lateBytes is what tcp.close's note ends with for crossingCapture's
// messages msgs: the bytes of the peer's crossing messages and of the
// resetter's own recorded late.
func lateBytes(msgs [2][]string, resetter string) string {
	var note string
	r := resetter == "client"
	for _, fromClient := range []bool{!r, r} {
		n := 0
		for _, m := range msgs[map[bool]int{true: 0, false: 1}[fromClient]] {
			if strings.HasPrefix(m, "crossing") || strings.HasPrefix(m, "own") {
				n += len(analyzetest.Text(fromClient, m))
			}
		}
		from := map[bool]string{true: "client", false: "server"}[fromClient]
		switch {
		case n == 0:
		case fromClient == r:
			note += fmt.Sprintf("; %d bytes from the %s came after its RST: sent before it, recorded late", n, from)
		default:
			note += fmt.Sprintf("; %d bytes from the %s came after the RST: sent before it reached the %s, they crossed it on the wire", n, from, from)
		}
	}
	return note
}

// TestResetThenReuse: a new connection on the addresses of one that
// lingers after its RST ends the linger: the old one closes (rst, no
// tcp.port_reused) before the new one opens, and each decodes its own
// messages, the data that crossed the RST included.
func TestResetThenReuse(t *testing.T) {
	c, k := upgradedConn()
	k.Server(analyzetest.Text(false, "one"))
	k.Reset(true)
	k.Server(analyzetest.Text(false, "crossing"))
	again := c.Conn("127.0.0.1:50000", "127.0.0.1:9001")
	again.SetISN(5000000, 9000000)
	again.Handshake()
	again.Client(analyzetest.Request("/again"))
	again.Server(analyzetest.Response())
	again.Server(analyzetest.Text(false, "two"))
	data := c.Bytes()
	for _, workers := range []int{1, 2} {
		var got []string
		for _, ev := range decodeEvents(t, data, workers) {
			for _, w := range ev.Warnings {
				t.Errorf("%d workers: %s %s", workers, ev.Type, w.Code)
			}
			switch ev.Type {
			case analyze.TypeWSMessage:
				got = append(got, fmt.Sprintf("%d %s", ev.Conn, ev.Message.Payload))
			case analyze.TypeTCPOpen, analyze.TypeTCPClose:
				got = append(got, fmt.Sprintf("%d %s", ev.Conn, ev.Type))
			}
		}
		want := []string{"1 tcp.open", "1 one", "1 crossing", "1 tcp.close", "2 tcp.open", "2 two", "2 tcp.close"}
		if !slices.Equal(got, want) {
			t.Errorf("%d workers: %q, want %q", workers, got, want)
		}
	}
}

// TestDataPastEnd: a sender's FIN or RST marks where its stream ends, and
// bytes past it (a spoofed segment, or an injected FIN or RST before real
// data) are not decoded but counted on tcp.close (tcp.data_after_end),
// whatever the order the capture holds the sender's last two messages,
// its FIN or RST and the segment past it in (every one of the 24), on one
// worker and two. The two messages are always decoded, and nothing is a
// gap. Before a RST whose sequence number is behind it, the segment is the
// stream's: one captured, with what comes before it, ahead of the RST is
// decoded (a RST may carry a sequence number behind what its sender sent).
func TestDataPastEnd(t *testing.T) {
	for _, mark := range []string{"FIN", "RST"} {
		c, k := upgradedConn()
		first := c.Packets()
		k.Server(analyzetest.Text(false, "one"))
		k.Server(analyzetest.Text(false, "two"))
		at := k.Next(false)
		if mark == "FIN" {
			k.CloseFIN(false)
		} else {
			k.Segment(false, at, nil, capture.RST|capture.ACK)
		}
		spoof := analyzetest.Text(false, "spoofed")
		k.Segment(false, k.Next(false), spoof, capture.ACK|capture.PSH)
		if mark == "FIN" {
			k.CloseFIN(true)
		}
		data := c.Bytes()
		for _, perm := range permutations(4) {
			order := make([]int, first+4)
			for i := range order {
				order[i] = i
			}
			for i, p := range perm {
				order[first+i] = first + p
			}
			// Decoded when it and both messages come before the RST.
			decoded := mark == "RST" && slices.Index(perm, 2) == 3
			name := fmt.Sprintf("%s, captured in order %v", mark, perm)
			reordered := reorderFirst(t, data, order)
			for _, workers := range []int{1, 2} {
				var got []string
				var past int
				for _, ev := range decodeEvents(t, reordered, workers) {
					if ev.Type == analyze.TypeWSMessage {
						got = append(got, string(ev.Message.Payload))
					}
					for _, w := range ev.Warnings {
						if w.Code != "tcp.data_after_end" || ev.Type != analyze.TypeTCPClose {
							t.Errorf("%s, %d workers: %s %s", name, workers, ev.Type, w.Code)
							continue
						}
						past++
						if want := fmt.Sprintf("%d bytes from the server lay past the sequence number of its own %s", len(spoof), mark); !strings.HasPrefix(w.Msg, want) {
							t.Errorf("%s, %d workers: %q, want it to start %q", name, workers, w.Msg, want)
						}
					}
				}
				want, wantPast := []string{"one", "two"}, 1
				if decoded {
					want, wantPast = append(want, "spoofed"), 0
				}
				if !slices.Equal(got, want) || past != wantPast {
					t.Errorf("%s, %d workers: %q and %d tcp.data_after_end, want %q and %d", name, workers, got, past, want, wantPast)
				}
			}
		}
	}
}

// TestLateDataNoted: data captured on a connection that already ended
// (here 300 ms after its RST, past the 200 ms linger) is not decoded, and
// Options.OnNote says so once at the end, with its segments and bytes (its
// retransmission is no news), on one worker and two; a retransmission
// after both FINs gets no note.
func TestLateDataNoted(t *testing.T) {
	notes := func(data []byte, workers int) []string {
		src, err := capture.NewReader(bytes.NewReader(data), "test.pcap")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		opts := analyze.Options{Workers: workers, OnNote: func(n string) { got = append(got, n) }}
		if err := analyze.Decode(src, opts, func(*analyze.Event) error { return nil }); err != nil {
			t.Fatal(err)
		}
		return got
	}

	c, k := upgradedConn()
	k.Reset(true)
	c.Advance(300 * time.Millisecond)
	late := analyzetest.Text(false, "too late")
	at := k.Next(false)
	k.Server(late)
	k.Segment(false, at, late, capture.ACK|capture.PSH) // retransmitted: no new bytes
	for _, workers := range []int{1, 2} {
		want := fmt.Sprintf("1 segment with %d bytes of data came after their connection had ended", len(late))
		if got := notes(c.Bytes(), workers); len(got) != 1 || !strings.HasPrefix(got[0], want) {
			t.Errorf("%d workers: notes %q, want one starting %q", workers, got, want)
		}
	}

	c, k = upgradedConn()
	last := analyzetest.Text(false, "last")
	k.Server(last)
	k.CloseFIN(false)
	k.CloseFIN(true)
	k.Segment(false, k.Next(false)-1-uint32(len(last)), last, capture.ACK|capture.PSH) // retransmitted
	for _, workers := range []int{1, 2} {
		if got := notes(c.Bytes(), workers); len(got) != 0 {
			t.Errorf("a retransmission after both FINs, %d workers: notes %q", workers, got)
		}
	}
}

// TestDataStraddlingEnd: a segment captured after its sender's FIN or RST
// that holds the last message again and bytes past the end (a
// retransmission with more): the message is decoded once, the bytes past
// the end are counted exactly (tcp.data_after_end), nothing is a gap, on
// one worker and two; so when the snap length cut the segment inside the
// message, the bytes past the end all missing.
func TestDataStraddlingEnd(t *testing.T) {
	one, extra := analyzetest.Text(false, "one"), []byte("0123456")
	for _, mark := range []string{"FIN", "RST"} {
		c, k := upgradedConn()
		start := k.Next(false)
		k.Server(one)
		if mark == "FIN" {
			k.CloseFIN(false)
		} else {
			k.Segment(false, k.Next(false), nil, capture.RST|capture.ACK)
		}
		k.Segment(false, start, append(bytes.Clone(one), extra...), capture.ACK|capture.PSH)
		for _, snapped := range []bool{false, true} {
			data := c.Bytes()
			if snapped {
				data = cutLast(t, data, len(one)+len(extra), len(one)-1)
			}
			name := fmt.Sprintf("%s, snapped %v", mark, snapped)
			for _, workers := range []int{1, 2} {
				got, warned := payloadsAndWarnings(decodeEvents(t, data, workers))
				want := fmt.Sprintf("tcp.data_after_end: %d bytes from the server lay past the sequence number of its own %s", len(extra), mark)
				if !slices.Equal(got, []string{"one"}) || len(warned) != 1 || !strings.HasPrefix(warned[0], want) {
					t.Errorf("%s, %d workers: %q, warnings %q; want [one] and %q", name, workers, got, warned, want)
				}
			}
		}
	}
}

// TestDataStraddlingEndBuffered: the same straddling segment captured
// before its sender's FIN or RST and before the message ahead of it, so it
// waits in the out-of-order buffer when the end becomes known: cut there,
// the two messages decoded in order, the bytes past the end counted.
func TestDataStraddlingEndBuffered(t *testing.T) {
	one, two, extra := analyzetest.Text(false, "one"), analyzetest.Text(false, "two"), []byte("0123456")
	for _, mark := range []string{"FIN", "RST"} {
		c, k := upgradedConn()
		first := c.Packets() + 1
		k.Server(one)
		at := k.Next(false)
		k.Segment(false, at, append(bytes.Clone(two), extra...), capture.ACK|capture.PSH)
		end := at + uint32(len(two))
		if mark == "FIN" {
			k.Segment(false, end, nil, capture.FIN|capture.ACK)
		} else {
			k.Segment(false, end, nil, capture.RST|capture.ACK)
		}
		data := movePacket(t, c.Bytes(), first, first+2) // "one" after the FIN or RST
		for _, workers := range []int{1, 2} {
			got, warned := payloadsAndWarnings(decodeEvents(t, data, workers))
			want := fmt.Sprintf("tcp.data_after_end: %d bytes from the server lay past the sequence number of its own %s", len(extra), mark)
			if !slices.Equal(got, []string{"one", "two"}) || len(warned) != 1 || !strings.HasPrefix(warned[0], want) {
				t.Errorf("%s, %d workers: %q, warnings %q; want [one two] and %q", mark, workers, got, warned, want)
			}
		}
	}
}

// payloadsAndWarnings returns the payloads of the messages among events,
// and their warnings as "code: message".
func payloadsAndWarnings(events []analyze.Event) (payloads, warnings []string) {
	for _, ev := range events {
		if ev.Type == analyze.TypeWSMessage {
			payloads = append(payloads, string(ev.Message.Payload))
		}
		for _, w := range ev.Warnings {
			warnings = append(warnings, w.Code+": "+w.Msg)
		}
	}
	return payloads, warnings
}

// cutLast returns data, a pcap capture whose last packet carries a TCP
// payload of size bytes, with that packet cut by the snap length to keep
// of them.
func cutLast(t *testing.T, data []byte, size, keep int) []byte {
	t.Helper()
	header, records := pcapRecords(t, data)
	last := bytes.Clone(records[len(records)-1])
	incl := len(last) - 16 - size + keep
	binary.LittleEndian.PutUint32(last[8:], uint32(incl))
	out := bytes.Clone(header)
	for _, r := range records[:len(records)-1] {
		out = append(out, r...)
	}
	return append(out, last[:16+incl]...)
}
