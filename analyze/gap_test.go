package analyze

import (
	"bytes"
	"math/rand"
	"net/netip"
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
