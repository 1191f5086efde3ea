package analyze

import (
	"bytes"
	"fmt"
	"math/rand"
	"net/netip"
	"testing"

	"github.com/gorilla/websocket"
)

// sentMessage is what an endpoint sent, for comparison with ws.message.
type sentMessage struct {
	from    string
	opcode  string
	payload []byte
}

// framingSizes are the payload sizes around every length encoding
// boundary of RFC 6455 §5.2, as in gorilla's TestFraming.
var framingSizes = []int{0, 1, 125, 126, 127, 65535, 65536, 200_000}

// chatScript sends messages of the given sizes both ways, text and
// binary, and returns what was sent.
func chatScript(t *testing.T, sizes []int, sent *[]sentMessage) func(cl, sv *websocket.Conn) {
	return func(cl, sv *websocket.Conn) {
		rng := rand.New(rand.NewSource(1))
		for i, n := range sizes {
			for _, side := range []struct {
				name     string
				from, to *websocket.Conn
			}{{FromClient, cl, sv}, {FromServer, sv, cl}} {
				p := make([]byte, n)
				op, kind := websocket.BinaryMessage, "binary"
				if i%2 == 0 {
					// Text: compressible, valid UTF-8 with multi-byte runes.
					for j := range p {
						p[j] = "abcdé"[j%6]
					}
					if n > 0 && p[n-1] == 0xc3 {
						p[n-1] = 'x'
					}
					op, kind = websocket.TextMessage, "text"
				} else {
					rng.Read(p)
				}
				if err := side.from.WriteMessage(op, p); err != nil {
					t.Fatalf("write: %v", err)
				}
				if _, got, err := side.to.ReadMessage(); err != nil || !bytes.Equal(got, p) {
					t.Fatalf("read back: %v", err)
				}
				*sent = append(*sent, sentMessage{side.name, kind, p})
			}
		}
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
		if err := cl.WriteControl(websocket.CloseMessage, msg, timeNever); err != nil {
			t.Fatal(err)
		}
		sv.ReadMessage() // gorilla answers the close with the same code and no reason
		cl.ReadMessage()
		reply := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		*sent = append(*sent, sentMessage{FromClient, "close", msg}, sentMessage{FromServer, "close", reply})
	}
}

// checkMessages compares the ws.message events with what was sent.
func checkMessages(t *testing.T, events []Event, sent []sentMessage) {
	t.Helper()
	var got []Event
	for _, ev := range events {
		if ev.Type == TypeWSMessage {
			got = append(got, ev)
		}
		if len(ev.Warnings) > 0 {
			t.Errorf("event %s at packet %d has warnings %v", ev.Type, ev.Packet, ev.Warnings)
		}
	}
	if len(got) != len(sent) {
		t.Fatalf("got %d ws.message events, want %d", len(got), len(sent))
	}
	for i, ev := range got {
		m, want := ev.Message, sent[i]
		if ev.From != want.from || m.Opcode != want.opcode || m.Len != int64(len(want.payload)) || !bytes.Equal(m.Payload, want.payload) || m.Truncated {
			t.Errorf("message %d = %s %s len %d truncated %v, want %s %s len %d (payload equal: %v)",
				i, ev.From, m.Opcode, m.Len, m.Truncated, want.from, want.opcode, len(want.payload), bytes.Equal(m.Payload, want.payload))
		}
	}
}

// TestReassemblyRandomSegments sends real gorilla traffic of every framing
// size, with and without compression, through TCP segments cut at random
// boundaries, reordered, duplicated and overlapped, and checks that every
// message comes out exactly as sent.
//
// One-byte segments carry the messages up to 65,536 bytes only: that size
// already has the 64-bit length of §5.2, and the 200,000-byte messages
// would triple the segments (and the test's time under -race) to show
// nothing the other rows do not.
func TestReassemblyRandomSegments(t *testing.T) {
	for _, compress := range []bool{false, true} {
		var sent, sentSmall []sentMessage
		chunks := recordGorilla(t, compress, nil, chatScript(t, framingSizes, &sent))
		small := framingSizes[:len(framingSizes)-1]
		chunksSmall := recordGorilla(t, compress, nil, chatScript(t, small, &sentSmall))
		for _, tc := range []struct {
			name     string
			maxSeg   int
			reorder  int
			dupRate  float64
			overlaps bool
		}{
			{"in order", 1448, 0, 0, false},
			{"tiny segments", 7, 0, 0, false},
			{"one byte", 1, 0, 0, false},
			{"reordered", 1448, 4, 0, false},
			{"duplicated", 600, 0, 0.3, false},
			{"overlapping retransmissions", 900, 0, 0, true},
			{"everything", 300, 6, 0.2, true},
		} {
			for seed := int64(1); seed <= 3; seed++ {
				if tc.maxSeg == 1 && seed > 1 {
					continue
				}
				t.Run(fmt.Sprintf("compress=%v/%s/seed=%d", compress, tc.name, seed), func(t *testing.T) {
					sg := &segmenter{
						rng:    rand.New(rand.NewSource(seed)),
						addr:   [2]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:50000"), netip.MustParseAddrPort("127.0.0.1:9001")},
						isn:    [2]uint32{0xfffff000, 1000}, // the client's sequence numbers wrap
						maxSeg: tc.maxSeg, reorder: tc.reorder, dupRate: tc.dupRate, overlaps: tc.overlaps,
					}
					chunks, sent := chunks, sent
					if tc.maxSeg == 1 {
						chunks, sent = chunksSmall, sentSmall
					}
					events := runSegments(Options{MaxPayload: -1}, sg.segments(chunks))
					checkMessages(t, events, sent)
					last := events[len(events)-1]
					if last.Type != TypeTCPClose || last.TCPClose.How != CloseFIN {
						t.Errorf("last event = %s %+v, want tcp.close fin", last.Type, last.TCPClose)
					}
				})
			}
		}
	}
}
