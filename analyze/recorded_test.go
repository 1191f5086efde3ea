package analyze_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture"
)

// sentLine is a line of a recorder's .sent file (browsertests.Sent): a
// message an endpoint logged as it sent it.
type sentLine struct {
	From   string `json:"from"`
	Opcode string `json:"opcode"`
	Len    int    `json:"len"`
	SHA256 string `json:"sha256"`
}

// checkRecorded decodes a capture a recorder of browsertests/cmd made, on
// one worker and two, and holds its one WebSocket connection to the .sent
// file beside it: every message each endpoint logged, byte for byte (by
// SHA-256), in order, n from each side, and no warning on the connection.
// check is called with each decode's events and the WebSocket's
// connection, for what is particular to the capture.
func checkRecorded(t *testing.T, pcap string, n int, check func(t *testing.T, workers int, events []analyze.Event, wsConn int)) {
	b, err := os.ReadFile(strings.TrimSuffix(pcap, ".pcapng") + ".sent")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]sentLine{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var s sentLine
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		want[s.From] = append(want[s.From], s)
	}
	if len(want[analyze.FromClient]) != n || len(want[analyze.FromServer]) != n {
		t.Fatalf("the .sent file has %d client and %d server messages, want %d each", len(want[analyze.FromClient]), len(want[analyze.FromServer]), n)
	}
	for _, workers := range []int{1, 2} {
		events, err := analyze.ReadFile(pcap, analyze.Options{MaxPayload: -1, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		wsConn := 0
		for _, ev := range events {
			if ev.Type == analyze.TypeWSOpen {
				if wsConn != 0 {
					t.Fatalf("two WebSocket connections")
				}
				wsConn = ev.Conn
			}
		}
		if wsConn == 0 {
			t.Fatalf("%d workers: no WebSocket connection decoded", workers)
		}
		got := map[string][]sentLine{}
		for _, ev := range events {
			if ev.Conn != wsConn {
				continue
			}
			for _, w := range ev.Warnings {
				t.Errorf("%d workers: %s at packet %d: %s: %s", workers, ev.Type, ev.Packet, w.Code, w.Msg)
			}
			if ev.Type != analyze.TypeWSMessage {
				continue
			}
			if op := ev.Message.Opcode; op == "text" || op == "binary" {
				h := sha256.Sum256(ev.Message.Payload)
				got[ev.From] = append(got[ev.From], sentLine{ev.From, op, len(ev.Message.Payload), hex.EncodeToString(h[:])})
			}
		}
		for _, from := range []string{analyze.FromClient, analyze.FromServer} {
			if len(got[from]) != len(want[from]) {
				t.Errorf("%d workers: %d messages from the %s, want %d", workers, len(got[from]), from, len(want[from]))
				continue
			}
			for i := range want[from] {
				if got[from][i] != want[from][i] {
					t.Errorf("%d workers: %s message %d: %+v, want %+v", workers, from, i+1, got[from][i], want[from][i])
				}
			}
		}
		check(t, workers, events, wsConn)
	}
}

// TestFirefoxWSS: a real Firefox ESR 140 (NSS's TLS 1.3) loading a page
// over HTTP/2 and talking wss:// over HTTP/1.1 with permessage-deflate to a
// Go server, captured live by wsviz with the secrets Firefox logged saved
// in the pcapng (browsertests/cmd/firefoxcap). Decoded from the file
// alone, every message each endpoint logged comes out (checkRecorded); the
// WebSocket's connection is TLS 1.3 with its keys found; the page's
// connection speaks HTTP/2.
func TestFirefoxWSS(t *testing.T) {
	checkRecorded(t, "../testdata/firefox-wss.pcapng", 11, func(t *testing.T, workers int, events []analyze.Event, wsConn int) {
		keys, h2 := false, 0
		for _, ev := range events {
			if ev.Type == analyze.TypeTLSHandshake && ev.TLS.ALPN == "h2" {
				h2++
			}
			if ev.Conn == wsConn && ev.Type == analyze.TypeTLSHandshake {
				keys = ev.TLS.Keys && ev.TLS.Version == "TLS 1.3" && ev.TLS.ALPN == "http/1.1"
			}
		}
		if !keys || h2 != 1 {
			t.Errorf("%d workers: the WebSocket's TLS 1.3 keys found %v, %d connections with ALPN h2 (want 1)", workers, keys, h2)
		}
	})
}

// TestPythonChromium: a real Chromium talking to Python's websockets
// library, whose permessage-deflate asks for 4 KiB windows both ways
// (browsertests/cmd/pythoncap): CPython's zlib and Chromium's compressor
// keep to them on messages that repeat themselves further back. Every
// message each endpoint logged comes out with no warning (checkRecorded):
// no ws.deflate_window on senders that keep to their window. The same
// bytes with a 512-byte window agreed in the 101 (the header rewritten in
// place) are ws.deflate_window on both sides, the messages still whole.
func TestPythonChromium(t *testing.T) {
	const pcap = "../testdata/python-chromium.pcapng"
	checkRecorded(t, pcap, 49, func(t *testing.T, workers int, events []analyze.Event, wsConn int) {
		for _, ev := range events {
			if ev.Type == analyze.TypeWSOpen {
				if d := ev.WSOpen.Deflate; d == nil || d.ServerMaxWindowBits != 12 || d.ClientMaxWindowBits != 12 || d.ServerNoContextTakeover || d.ClientNoContextTakeover {
					t.Errorf("%d workers: ws.open deflate %+v, want 12-bit windows both ways with context takeover", workers, d)
				}
			}
		}
	})

	b, err := os.ReadFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	agreed := []byte("server_max_window_bits=12; client_max_window_bits=12")
	if bytes.Count(b, agreed) != 1 {
		t.Fatalf("the 101's extension header is not in the capture once")
	}
	// Optional whitespace before ';' and at the end of a header value
	// (RFC 9110 §5.6.3): the same length, so no packet changes size.
	small := bytes.Replace(b, agreed, []byte("server_max_window_bits=9 ; client_max_window_bits=9 "), 1)
	f, err := os.CreateTemp(t.TempDir(), "*.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(small)
	f.Close()
	events, err := analyze.ReadFile(f.Name(), analyze.Options{MaxPayload: -1})
	if err != nil {
		t.Fatal(err)
	}
	far := map[string]int{}
	for _, ev := range events {
		for _, w := range ev.Warnings {
			if w.Code != "ws.deflate_window" {
				t.Errorf("%s at packet %d: %s: %s", ev.Type, ev.Packet, w.Code, w.Msg)
				continue
			}
			if ev.Message.Truncated || ev.Message.Undecodable {
				t.Errorf("packet %d: a message past the window is not shown whole", ev.Packet)
			}
			far[ev.From]++
		}
	}
	if far[analyze.FromClient] == 0 || far[analyze.FromServer] == 0 {
		t.Errorf("ws.deflate_window on %d client and %d server messages with 512-byte windows agreed, want some from each", far[analyze.FromClient], far[analyze.FromServer])
	}
}

// TestTFO: WebSocket connections opened with TCP Fast Open on Linux's
// loopback (browsertests/cmd/tfocap): the first asks for a cookie and sends
// its upgrade request after the handshake; the second sends the request in
// its SYN, which the SYN-ACK acknowledges. Both decode whole, with no
// warning; the second's request is decoded at its SYN and its tcp.open says
// the SYN carried it.
func TestTFO(t *testing.T) {
	events, err := analyze.ReadFile("../testdata/tfo.pcapng", analyze.Options{})
	if err != nil {
		t.Fatal(err)
	}
	type conn struct {
		synPacket, request int64
		note, path         string
		messages           int
	}
	conns := map[int]*conn{}
	for _, ev := range events {
		for _, w := range ev.Warnings {
			t.Errorf("%s at packet %d: %s", ev.Type, ev.Packet, w.Code)
		}
		c := conns[ev.Conn]
		if c == nil {
			c = &conn{}
			conns[ev.Conn] = c
		}
		switch ev.Type {
		case analyze.TypeTCPOpen:
			c.note = ev.Note
			if len(ev.TCPOpen.Handshake) > 0 && ev.TCPOpen.Handshake[0].Flags == "SYN" {
				c.synPacket = ev.TCPOpen.Handshake[0].Packet
			}
		case analyze.TypeHTTPRequest:
			c.request, c.path = ev.Packet, ev.HTTP.Target
		case analyze.TypeWSMessage:
			c.messages++
		}
	}
	first, second := conns[2], conns[3]
	if len(conns) != 3 || first == nil || second == nil || first.path != "/tfo/1" || second.path != "/tfo/2" || first.messages != 3 || second.messages != 3 {
		t.Fatalf("connections %d; want the capture's probe and two WebSockets of three messages each", len(conns))
	}
	if first.request <= first.synPacket || strings.Contains(first.note, "Fast Open") {
		t.Errorf("without a cookie: request at packet %d, SYN %d, tcp.open %q; want the request after the handshake", first.request, first.synPacket, first.note)
	}
	if second.request != second.synPacket || second.synPacket == 0 || !strings.Contains(second.note, "bytes of data in its SYN (TCP Fast Open") {
		t.Errorf("with a cookie: request at packet %d, SYN %d, tcp.open %q; want the request in the SYN, named", second.request, second.synPacket, second.note)
	}
}

// TestRSTCrossing decodes testdata/rst-crossing.pcapng (browsertests/cmd/
// rstcap): Linux's own reset on a slow link. The client reset the
// connection while the server streamed 10-byte ticks to it; the server
// went on until the RST reached it, and what it had queued crossed the RST
// on the wire: the capture shows it after the RST, each segment answered
// by the client's kernel with a bare RST. Every tick the server's segments
// carry is decoded, in order, on one worker and two (before, the 53 after
// the RST were dropped without a word); tcp.close says rst, at the
// client's RST, after them.
func TestRSTCrossing(t *testing.T) {
	const pcap = "../testdata/rst-crossing.pcapng"
	f, err := os.Open(pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := capture.NewReader(f, pcap)
	if err != nil {
		t.Fatal(err)
	}
	// The oracle: the server's payload after its 101, in 12-byte frames,
	// and the packet of the client's RST.
	var ticks, afterRST int
	var rst int64
	for {
		p, err := src.ReadPacket()
		if err != nil {
			break
		}
		var s capture.Segment
		if !capture.DecodeTCP(&p, &s) {
			continue
		}
		switch {
		case s.Flags&capture.RST != 0 && rst == 0:
			rst = p.Number
		case s.Src.Port() == 9001 && len(s.Payload) > 0 && !bytes.HasPrefix(s.Payload, []byte("HTTP/1.1 101")):
			ticks += len(s.Payload) / 12
			if rst != 0 {
				afterRST += len(s.Payload) / 12
			}
		}
	}
	if rst == 0 || afterRST < 10 {
		t.Fatalf("the capture has its RST at packet %d and %d ticks after it: not a crossing", rst, afterRST)
	}
	for _, workers := range []int{1, 2} {
		events, err := analyze.ReadFile(pcap, analyze.Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		var got int
		for _, ev := range events {
			for _, w := range ev.Warnings {
				t.Errorf("%d workers: %s at packet %d: %s", workers, ev.Type, ev.Packet, w.Code)
			}
			switch {
			case ev.Type == analyze.TypeWSMessage && ev.From == analyze.FromServer:
				if want := fmt.Sprintf("tick %05d", got); string(ev.Message.Payload) != want {
					t.Fatalf("%d workers: server message %d is %q, want %q", workers, got+1, ev.Message.Payload, want)
				}
				got++
			case ev.Type == analyze.TypeTCPClose && ev.TCPClose.ServerBytes > 0:
				if ev.TCPClose.How != analyze.CloseRST || ev.Packet != rst || got != ticks {
					t.Errorf("%d workers: tcp.close %s at packet %d after %d ticks; want rst at %d after %d", workers, ev.TCPClose.How, ev.Packet, got, rst, ticks)
				}
			}
		}
		if got != ticks {
			t.Errorf("%d workers: %d ticks decoded, the capture has %d (%d after the RST)", workers, got, ticks, afterRST)
		}
	}
}

// TestChromiumH2WebSocket: a real Chromium loading a page over HTTP/2 from
// a Go server that allows extended CONNECT (GODEBUG=http2xconnect=1), and
// opening its WebSocket on a stream of that connection (RFC 8441) with
// permessage-deflate, the server's messages in frames of 16 KiB
// (browsertests/cmd/h2cap). Decoded from the file alone, every message
// each endpoint logged comes out (checkRecorded); the WebSocket shares its
// connection with the page's GET and the favicon's, all on their own
// streams; its stream ends as Go's server ends it, with END_STREAM and
// RST_STREAM NO_ERROR after the closing handshake, which is no violation.
func TestChromiumH2WebSocket(t *testing.T) {
	checkRecorded(t, "../testdata/h2-websocket.pcapng", 11, func(t *testing.T, workers int, events []analyze.Event, wsConn int) {
		var requests []string
		var wsStream uint32
		closes := 0
		for _, ev := range events {
			if ev.Conn != wsConn {
				continue
			}
			switch ev.Type {
			case analyze.TypeHTTPRequest:
				requests = append(requests, fmt.Sprint(ev.Stream, " ", ev.HTTP.Method, " ", ev.HTTP.Target))
			case analyze.TypeWSOpen:
				wsStream = ev.Stream
				if ev.WSOpen.Deflate == nil {
					t.Errorf("%d workers: ws.open without permessage-deflate", workers)
				}
			case analyze.TypeWSFrame, analyze.TypeWSMessage:
				if ev.Stream != wsStream || wsStream == 0 {
					t.Fatalf("%d workers: a %s on stream %d, the WebSocket's is %d", workers, ev.Type, ev.Stream, wsStream)
				}
			case analyze.TypeH2StreamClose:
				closes++
				if ev.Stream != wsStream || ev.H2Close.How != analyze.CloseRSTStream || ev.H2Close.ErrorCode != "NO_ERROR" || !strings.Contains(ev.Note, "after its END_STREAM") {
					t.Errorf("%d workers: %s", workers, ev.AppendJSON(nil))
				}
			}
		}
		if want := []string{"1 GET /", "3 CONNECT /ws", "5 GET /favicon.ico"}; !slices.Equal(requests, want) || wsStream != 3 || closes != 1 {
			t.Errorf("%d workers: requests %q, WebSocket on stream %d, %d h2.stream_close; want %q, 3, 1", workers, requests, wsStream, closes, want)
		}
	})
}
