package analyze_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
	"github.com/wsviz/wsviz/internal/bench"
)

// pipelineSeeds returns the seed corpus of FuzzPipeline by name: small
// captures (the fuzzer minimizes every new input, which is slow on big
// ones) that reach every stage: handshake, frames, deflate, gaps,
// reordering, several connections, hostile lengths.
func pipelineSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{
		"synthetic-plain":   genBytes(t, bench.Config{Conns: 2, Messages: 4, Seed: 11}),
		"synthetic-deflate": genBytes(t, bench.Config{Conns: 1, Messages: 5, Deflate: true, Seed: 12}),
	}
	c := capturetest.NewCapture(capturetest.Options{})
	k := c.Conn("10.0.0.1:40000", "10.1.0.1:8080")
	k.Handshake()
	k.Client(analyzetest.Request("/r"))
	k.Server(analyzetest.Response())
	k.Server(analyzetest.Frame{Fin: true, Opcode: analyzetest.OpBinary, Len: 1<<63 - 1, Payload: []byte("AAAA")}.Bytes())
	k.Client(analyzetest.Frame{Fin: true, Opcode: analyzetest.OpText, Len: 1 << 63, Payload: []byte("BBBB")}.Bytes())
	seeds["lengths-near-2p63"] = c.Bytes()

	// A RST with the peer's data crossing it and the resetter's own
	// recorded late: the linger after a RST.
	seeds["rst-crossing"], _, _ = crossingCapture("client", 1, 2, 1)

	// WebSocket over HTTP/2 (RFC 8441): a plain request and a WebSocket
	// sharing the connection, a DATA frame cut into segments, a lost one.
	c = capturetest.NewCapture(capturetest.Options{})
	k = c.Conn("10.0.0.1:40000", "10.1.0.1:8080")
	k.Handshake()
	h := analyzetest.OpenH2(k, true)
	h.Get(3, "/")
	h.Connect(1, "/chat", "sec-websocket-extensions", "permessage-deflate")
	h.Answer(1, "200", "sec-websocket-extensions", "permessage-deflate")
	k.ServerSegments(analyzetest.H2DataFrame(1, false, analyzetest.Text(false, "over h2")), 4, 11)
	k.Drop(1)
	h.ServerData(1, false, analyzetest.Text(false, "lost"))
	h.ServerSends(analyzetest.H2RSTStreamFrame(3, 8))
	h.CloseWebSocket(1)
	h.Close()
	seeds["h2-websocket"] = c.Bytes()

	c = capturetest.NewCapture(capturetest.Options{NG: true})
	k = c.Conn("10.0.0.1:40000", "10.1.0.1:8080")
	k.Handshake()
	k.Client(analyzetest.Request("/r", "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover"))
	k.Server(analyzetest.Response("Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover"))
	var d analyzetest.Deflater
	mask := analyzetest.DefaultMask
	msg := analyzetest.Frame{Fin: false, RSV: 4, Opcode: analyzetest.OpText, Mask: &mask, Payload: d.Compress([]byte("hello hello hello"))}.Bytes()
	k.ClientSegments(msg, 1, 3)
	k.Client(analyzetest.Frame{Fin: true, Opcode: analyzetest.OpPing, Mask: &mask, Payload: []byte("p")}.Bytes())
	k.Client(analyzetest.Frame{Fin: true, Opcode: analyzetest.OpContinuation, Mask: &mask}.Bytes())
	k.SetMSS(100)
	k.Delay(1)
	k.Server(analyzetest.Binary(false, bytes.Repeat([]byte{7}, 150)))
	k.Drop(1)
	k.Server(analyzetest.Text(false, "lost"))
	k.Server(analyzetest.Close(false, 1001, "bye"))
	k.Reset(true)
	seeds["pcapng-fragments-reorder-gap-rst"] = c.Bytes()

	// Data behind the ACK that acknowledges it, both ways; overlapping
	// copies that differ; a reused port: the pending holes, deferred
	// segments and the connection table.
	c = capturetest.NewCapture(capturetest.Options{})
	k = c.Conn("10.0.0.1:40000", "10.1.0.1:8080")
	k.Handshake()
	k.Delay(1)
	k.Client(analyzetest.Request("/r"))
	k.Server(analyzetest.Response())
	k.Delay(1)
	k.Server(analyzetest.Text(false, "late"))
	k.Client(analyzetest.Text(true, "ahead"))
	next := k.Next(false)
	k.Segment(false, next+4, []byte("wxyz"), capture.ACK)
	k.Segment(false, next, []byte{0x81, 0x06, 'a', 'b', 'c', 'd', 'W', 'X'}, capture.ACK)
	k2 := c.Conn("10.0.0.1:40000", "10.1.0.1:8080")
	k2.SetISN(0x80000000, 0x90000000)
	k2.Handshake()
	k2.Client(analyzetest.Text(true, "second"))
	seeds["ack-ahead-overlap-reuse"] = c.Bytes()

	// IP fragments (overlapping, one datagram incomplete) and tunnels, for
	// capture.Decoder.
	c = capturetest.NewCapture(capturetest.Options{})
	k = c.Conn("10.0.0.1:40000", "10.1.0.1:8080")
	k.SetTunnels(capturetest.Fragments(64, capturetest.Reverse), capturetest.Tunnel{Kind: capture.TunnelVXLAN, Src: "192.0.2.1", Dst: "192.0.2.2", VNI: 42})
	k.Handshake()
	k.Client(analyzetest.Request("/r"))
	k.Server(analyzetest.Response())
	k.SetFragmenter(func(ip []byte) [][]byte {
		if n := len(ip) - 20; n > 40 {
			return [][]byte{capturetest.Fragment(ip, 0, 24, true, nil), capturetest.Fragment(ip, 16, n, false, nil)}
		}
		return nil
	})
	k.Server(analyzetest.Text(false, "in overlapping fragments"))
	k.SetFragmenter(func(ip []byte) [][]byte {
		if n := len(ip) - 20; n > 40 {
			return [][]byte{capturetest.Fragment(ip, 8, n, false, nil)}
		}
		return nil
	})
	k.Server(analyzetest.Text(false, "its first fragment lost"))
	k2 = c.Conn("[2001:db8::1]:40000", "[2001:db8::2]:8080")
	k2.SetTunnels(nil, capturetest.Tunnel{Kind: capture.TunnelGRE, Src: "192.0.2.1", Dst: "192.0.2.3", Key: 1, HasKey: true}, capturetest.Tunnel{Kind: capture.TunnelMPLS, Label: 16})
	k2.Handshake()
	k2.Client(analyzetest.Text(true, "mid-stream in GRE and MPLS"))
	seeds["fragments-and-tunnels"] = c.Bytes()
	return seeds
}

// FuzzPipeline feeds arbitrary bytes as a capture file through the whole
// pipeline: it must not panic, every event must be well formed, each
// connection's life must hold together (tcp.open first, one tcp.close, its
// gaps in order within what was sent), and two workers must give exactly
// the output of one, with Options.OnPacket's calls in the same places
// among the events.
func FuzzPipeline(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		one := fuzzDecode(t, data, 1, true)
		two := fuzzDecode(t, data, 2, false)
		var events []byte
		for line := range bytes.Lines(one) {
			if !bytes.HasPrefix(line, []byte("packet ")) {
				events = append(events, line...)
			}
		}
		if !bytes.Equal(events, two) {
			t.Fatalf("Workers=2 output differs from Workers=1:\n%s", firstDiff(two, events))
		}
		if twoPackets := fuzzDecode(t, data, 2, true); !bytes.Equal(one, twoPackets) {
			t.Fatalf("Workers=2 with OnPacket: output differs from Workers=1:\n%s", firstDiff(twoPackets, one))
		}
	})
}

// fuzzDecode decodes data with the given number of workers, checks every
// event and returns the JSON lines, the notes (Options.OnNote) and the
// error's text; with packets, a line for each call of Options.OnPacket
// too.
func fuzzDecode(t *testing.T, data []byte, workers int, packets bool) []byte {
	src, err := capture.NewReader(bytes.NewReader(data), "fuzz")
	if err != nil {
		return nil
	}
	var out []byte
	maxPacket := int64(len(data)) // every packet takes at least a byte
	gaps, life := streamGaps{}, connLife{}
	opts := analyze.Options{Workers: workers, MaxConns: 8, MaxBufferPerConn: 4096, MaxBufferTotal: 8192, MaxMessage: 1 << 20}
	opts.OnNote = func(note string) { out = append(append(append(out, "note "...), note...), '\n') }
	if packets {
		opts.OnPacket = func(p *capture.Packet, conn int, from string) {
			out = fmt.Appendf(out, "packet %d %d/%d %x conn=%d from=%q\n", p.Number, len(p.Data), p.Length, crc32.ChecksumIEEE(p.Data), conn, from)
		}
	}
	err = analyze.Decode(src, opts,
		func(ev *analyze.Event) error {
			if err := checkEvent(ev, maxPacket); err != nil {
				t.Fatalf("event %s: %v", ev.AppendJSON(nil), err)
			}
			if err := gaps.check(ev); err != nil {
				t.Fatalf("event %s: %v", ev.AppendJSON(nil), err)
			}
			if err := life.check(ev); err != nil {
				t.Fatalf("event %s: %v", ev.AppendJSON(nil), err)
			}
			line := ev.AppendJSON(nil)
			if !json.Valid(line) {
				t.Fatalf("AppendJSON = %s, not valid JSON", line)
			}
			out = append(out, line...)
			out = append(out, '\n')
			return nil
		})
	// A capture that cannot be read to its end still ends what it began
	// (wsviz events: the error, and the events before it).
	if open := life.open(); len(open) > 0 {
		t.Fatalf("connections %v were never closed (Decode: %v)", open, err)
	}
	return append(out, fmt.Sprint(err)...)
}

// connLife checks each connection's events against its life: tcp.open
// first, one tcp.close, nothing after it. ip.fragments is the exception:
// it reports a packet of the connection, and may come before tcp.open (a
// fragmented SYN) or after tcp.close (a late segment, as in the input
// 03a69c3604a6dc4c of FuzzPipeline: the server's segment after the
// client's RST). The value is true while the connection is open.
type connLife map[int]bool

func (l connLife) check(ev *analyze.Event) error {
	if ev.Conn < 1 || ev.Type == analyze.TypeIPFragments {
		return nil
	}
	open, seen := l[ev.Conn]
	switch {
	case !seen && ev.Type != analyze.TypeTCPOpen:
		return fmt.Errorf("the first event of connection %d is %s, not tcp.open", ev.Conn, ev.Type)
	case seen && !open:
		return fmt.Errorf("an event of connection %d after its tcp.close", ev.Conn)
	case seen && ev.Type == analyze.TypeTCPOpen:
		return fmt.Errorf("a second tcp.open of connection %d", ev.Conn)
	}
	l[ev.Conn] = ev.Type != analyze.TypeTCPClose
	return nil
}

// open returns the connections not closed, in order.
func (l connLife) open() []int {
	var out []int
	for c, open := range l {
		if open {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// checkEvent checks the fields every event must have.
func checkEvent(ev *analyze.Event, maxPacket int64) error {
	if !slices.ContainsFunc(analyze.EventTypes(), func(e analyze.EventTypeInfo) bool { return e.Type == ev.Type }) || ev.Type == analyze.TypeCaptureStats {
		return fmt.Errorf("type %q is not one the analyzer emits (analyze/registry.go)", ev.Type)
	}
	if ev.Conn < 1 && ev.Type != analyze.TypeIPFragments {
		return fmt.Errorf("conn %d, want ≥ 1", ev.Conn)
	}
	if ev.Packet < 1 || ev.Packet > maxPacket {
		return fmt.Errorf("packet %d outside 1..%d", ev.Packet, maxPacket)
	}
	if ev.From != "" && ev.From != analyze.FromClient && ev.From != analyze.FromServer {
		return fmt.Errorf("from %q", ev.From)
	}
	if ev.Note == "" {
		return fmt.Errorf("no note")
	}
	for _, w := range ev.Warnings {
		if w.Code == "" || w.Msg == "" {
			return fmt.Errorf("warning %+v without code or message", w)
		}
		if c, ok := analyze.LookupCode(w.Code); !ok || !slices.Contains(c.Events, ev.Type) {
			return fmt.Errorf("warning %s, which the registry does not list for %s", w.Code, ev.Type)
		}
	}
	if ev.Type == analyze.TypeWSMessage {
		m := &ev.Message
		if m.Len < 0 || int64(len(m.Payload)) > m.Len || m.Frames < 1 || len(m.Packets) == 0 {
			return fmt.Errorf("message len %d, payload %d bytes, %d frames, packets %v", m.Len, len(m.Payload), m.Frames, m.Packets)
		}
		if len(m.Payload) > analyze.DefaultMaxPayload {
			return fmt.Errorf("payload of %d bytes kept, want at most %d", len(m.Payload), analyze.DefaultMaxPayload)
		}
	}
	if ev.Type == analyze.TypeTCPGap && ev.TCPGap.Size <= 0 {
		return fmt.Errorf("gap of %d bytes", ev.TCPGap.Size)
	}
	return nil
}

// streamGaps checks the tcp.gap events of each connection's directions
// against each other and against its tcp.close: a direction's gaps come
// in stream order without overlapping, and end within the bytes tcp.close
// says that side sent (gaps included).
type streamGaps map[dirKey]int64 // the end of the direction's last gap

func (g streamGaps) check(ev *analyze.Event) error {
	switch ev.Type {
	case analyze.TypeTCPGap:
		k := dirKey{ev.Conn, ev.From}
		if ev.TCPGap.Offset < g[k] {
			return fmt.Errorf("gap at offset %d, before the end of the %s's previous gap (%d)", ev.TCPGap.Offset, ev.From, g[k])
		}
		g[k] = ev.TCPGap.Offset + ev.TCPGap.Size
	case analyze.TypeTCPClose:
		for from, sent := range map[string]int64{analyze.FromClient: ev.TCPClose.ClientBytes, analyze.FromServer: ev.TCPClose.ServerBytes} {
			k := dirKey{ev.Conn, from}
			if end := g[k]; end > sent {
				return fmt.Errorf("the %s's gaps end at offset %d, past the %d bytes tcp.close counts", from, end, sent)
			}
			delete(g, k)
		}
	}
	return nil
}

// TestFuzzPipelineSeeds keeps testdata/fuzz/FuzzPipeline in step with
// pipelineSeeds; go test -run TestFuzzPipelineSeeds -update rewrites it.
func TestFuzzPipelineSeeds(t *testing.T) {
	update := false
	if f := flag.Lookup("update"); f != nil {
		update, _ = strconv.ParseBool(f.Value.String())
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzPipeline")
	if update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range pipelineSeeds(t) {
		content := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
		path := filepath.Join(dir, "seed-"+name)
		if update {
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Errorf("%s is missing or stale (err %v): run go test -run TestFuzzPipelineSeeds -update", path, err)
		}
	}
}

// TestCapturesPassFuzzChecks holds every capture of testdata/ and of
// ../shared/corpus (when present) to what FuzzPipeline asks of arbitrary
// bytes: every event well formed, each direction's gaps in order and within
// what its side sent.
func TestCapturesPassFuzzChecks(t *testing.T) {
	for _, f := range captureFiles() {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			fuzzDecode(t, data, 2, false)
		})
	}
}
