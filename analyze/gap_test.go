package analyze

import (
	"bytes"
	"math/rand"
	"net/netip"
	"slices"
	"testing"

	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture"
)

func testSegmenter(maxSeg int) *segmenter {
	return &segmenter{
		rng:    rand.New(rand.NewSource(1)),
		addr:   [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80")},
		isn:    [2]uint32{100, 5000},
		maxSeg: maxSeg,
	}
}

// fixedSegments cuts every chunk into segments of exactly maxSeg bytes
// (the last of each chunk shorter).
func fixedSegments(chunks []chunk, maxSeg int) []capture.Segment {
	sg := testSegmenter(maxSeg)
	sg.fixed = true
	return sg.segments(chunks)
}

func payloadOf(ev Event) []byte { return ev.Message.Payload }

// TestGapInsidePayload drops one segment inside the second of three
// server messages: the gap is reported with its size and offset, only that
// message is marked, and decoding continues exactly at the next frame.
func TestGapInsidePayload(t *testing.T) {
	msg := func(c byte) []byte { return bytes.Repeat([]byte{c}, 5000) }
	chunks := []chunk{
		{client, analyzetest.Request("/feed")},
		{server, analyzetest.Response()},
		{server, analyzetest.Binary(false, msg('a'))},
		{server, analyzetest.Binary(false, msg('b'))},
		{server, analyzetest.Binary(false, msg('c'))},
		{client, analyzetest.Close(true, 1000, "")},
	}
	segs := fixedSegments(chunks, 1000)
	// Find the segment holding server stream offset 7000 (inside message 2:
	// messages start at len(response), +5004, +10008).
	resp := int64(len(analyzetest.Response()))
	lost := -1
	for i, s := range segs {
		off := int64(s.Seq - (5000 + 1))
		if s.Src.Port() == 80 && len(s.Payload) > 0 && off <= resp+7000 && resp+7000 < off+int64(len(s.Payload)) {
			lost = i
		}
	}
	if lost < 0 {
		t.Fatal("no segment to drop")
	}
	lostOff, lostLen := int64(segs[lost].Seq-5001), int64(len(segs[lost].Payload))
	segs = append(segs[:lost:lost], segs[lost+1:]...)

	events := runSegments(Options{MaxPayload: -1}, segs)
	var gaps, msgs []Event
	for _, ev := range events {
		switch ev.Type {
		case TypeTCPGap:
			gaps = append(gaps, ev)
		case TypeWSMessage:
			if ev.From == FromServer {
				msgs = append(msgs, ev)
			}
		}
	}
	if len(gaps) != 1 || gaps[0].TCPGap.Offset != lostOff || gaps[0].TCPGap.Size != lostLen || gaps[0].From != FromServer {
		t.Fatalf("gaps = %+v, want one server gap at offset %d of %d bytes", gaps, lostOff, lostLen)
	}
	if len(msgs) != 3 {
		t.Fatalf("got %d server messages, want 3", len(msgs))
	}
	if !bytes.Equal(payloadOf(msgs[0]), msg('a')) || msgs[0].Message.Truncated {
		t.Errorf("message 1 damaged: truncated=%v", msgs[0].Message.Truncated)
	}
	if !msgs[1].Message.Truncated || !msgs[1].HasWarning("tcp.gap") {
		t.Errorf("message 2 = truncated %v warnings %v, want truncated with tcp.gap", msgs[1].Message.Truncated, msgs[1].Warnings)
	}
	if !bytes.Equal(payloadOf(msgs[2]), msg('c')) || msgs[2].Message.Truncated || len(msgs[2].Warnings) > 0 {
		t.Errorf("message 3 damaged: truncated=%v warnings %v", msgs[2].Message.Truncated, msgs[2].Warnings)
	}
}

// TestBufferLimit holds back the first segment of a long server stream so
// that everything behind it must be buffered: past the per-connection cap
// the analyzer gives up on the hole, says so, and decodes what follows.
func TestBufferLimit(t *testing.T) {
	var chunks []chunk
	chunks = append(chunks, chunk{client, analyzetest.Request("/")}, chunk{server, analyzetest.Response()})
	for i := 0; i < 40; i++ {
		chunks = append(chunks, chunk{server, analyzetest.Binary(false, bytes.Repeat([]byte{byte(i)}, 1000))})
	}
	segs := fixedSegments(chunks, 500)
	// Drop the server's first data segment after the 101 without any ACK
	// covering it: only the buffer cap can resolve the hole.
	var kept []capture.Segment
	dropped := false
	for _, s := range segs {
		if !dropped && s.Src.Port() == 80 && int64(s.Seq-5001) == int64(len(analyzetest.Response())) {
			dropped = true
			continue
		}
		if s.Src.Port() == 40000 {
			s.Flags &^= capture.ACK // no ACK may reveal the hole
		}
		kept = append(kept, s)
	}
	events := runSegments(Options{MaxBufferPerConn: 4000}, kept)
	var limited bool
	var messages int
	for _, ev := range events {
		if ev.Type == TypeTCPGap && ev.HasWarning("tcp.buffer_limit") {
			limited = true
		}
		if ev.Type == TypeWSMessage && !ev.Message.Truncated {
			messages++
		}
	}
	if !limited {
		t.Error("no tcp.gap with tcp.buffer_limit")
	}
	if messages < 35 {
		t.Errorf("%d intact messages after the limit, want at least 35 of 40", messages)
	}
}

// TestSnapCutCoveredByBufferedBytes is the family of FuzzPipeline's
// crasher 13d6b3e1504296a4: a packet the capture's snap length cut short,
// whose missing bytes are partly or wholly carried by a later segment of
// the stream that came first and waits in the out-of-order buffer. Only
// the missing bytes no segment carried are a gap: none when the buffered
// segment starts at the cut (the crasher reported a gap of 0 bytes there),
// the bytes between the cut and the buffered segment otherwise; and the
// message is decoded whole when nothing is missing.
func TestSnapCutCoveredByBufferedBytes(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789"), 6)
	frame := analyzetest.Binary(false, payload) // 62 bytes: 2 of header
	resp := int64(len(analyzetest.Response()))
	chunks := []chunk{
		{client, analyzetest.Request("/feed")},
		{server, analyzetest.Response()},
		{server, frame},
	}
	base := fixedSegments(chunks, 1000) // the frame in one segment
	at := -1
	for i, s := range base {
		if s.Src.Port() == 80 && int64(s.Seq-5001) == resp {
			at = i
		}
	}
	if at < 0 || len(base[at].Payload) != len(frame) {
		t.Fatal("no segment holding the whole frame")
	}
	for _, tc := range []struct {
		name       string
		cut, end   int // the cut packet: the frame's bytes up to end, those up to cut captured
		from, upto int // the frame's bytes the earlier segment carries
		gap        int64
	}{
		{"covered exactly", 20, 62, 20, 62, 0},
		{"buffered bytes past the cut packet", 20, 40, 20, 62, 0},
		{"cut after the header", 2, 62, 2, 62, 0},
		{"a hole before the buffered bytes", 20, 62, 30, 62, 10},
		{"one byte uncovered", 20, 62, 21, 62, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cut, ahead := base[at], base[at]
			cut.Payload, cut.Missing = frame[:tc.cut], tc.end-tc.cut
			ahead.Seq += uint32(tc.from)
			ahead.Payload = frame[tc.from:tc.upto]
			segs := append(slices.Clone(base[:at:at]), ahead, cut)
			segs = append(segs, base[at+1:]...)
			var gaps int64
			var whole bool
			for _, ev := range runSegments(Options{}, segs) {
				switch {
				case ev.Type == TypeTCPGap && ev.TCPGap.Size <= 0:
					t.Errorf("a gap of %d bytes at offset %d: %s", ev.TCPGap.Size, ev.TCPGap.Offset, ev.Note)
				case ev.Type == TypeTCPGap:
					if ev.From != FromServer || ev.TCPGap.Offset != resp+int64(tc.cut) {
						t.Errorf("gap from the %s at offset %d, want the server's at %d", ev.From, ev.TCPGap.Offset, resp+int64(tc.cut))
					}
					gaps += ev.TCPGap.Size
				case ev.Type == TypeWSMessage && ev.From == FromServer:
					whole = bytes.Equal(ev.Message.Payload, payload) && !ev.Message.Truncated
				}
			}
			if gaps != tc.gap {
				t.Errorf("gaps of %d bytes in all, want %d", gaps, tc.gap)
			}
			if want := tc.gap == 0; whole != want {
				t.Errorf("server message decoded whole: %v, want %v", whole, want)
			}
		})
	}
}
