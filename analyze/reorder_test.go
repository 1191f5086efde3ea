package analyze_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
	"github.com/wsviz/wsviz/internal/bench"
)

// pcapRecords splits a little-endian pcap file into its header and its
// records (each with its 16-byte record header).
func pcapRecords(t *testing.T, data []byte) (header []byte, records [][]byte) {
	t.Helper()
	if len(data) < 24 || binary.LittleEndian.Uint32(data) != 0xa1b2c3d4 && binary.LittleEndian.Uint32(data) != 0xa1b23c4d {
		t.Fatalf("not a little-endian pcap file")
	}
	header, data = data[:24], data[24:]
	for len(data) >= 16 {
		n := 16 + int(binary.LittleEndian.Uint32(data[8:]))
		records, data = append(records, data[:n]), data[n:]
	}
	return header, records
}

// reorder returns data, a pcap capture, reordered as a capture point
// records packets out of order, the timestamps kept in their order: every
// packet that is not a barrier moves by up to k places either way, in both
// directions alike (an ACK, with or without data of its own, ahead of the
// data it acknowledges; segments of one direction swapped; a response
// ahead of its request), and one in sixteen is also captured twice (a
// duplicate, placed as independently). SYN, FIN and RST packets stay in
// place, as barriers nothing crosses (a FIN the peer acknowledged decides
// the holes before it): a SYN ahead of the end of an earlier connection on
// the same ports changes what the capture says. So does the first packet
// of a direction whose SYN was not captured: it is where that stream
// starts.
func reorder(t *testing.T, data []byte, k int, rng *rand.Rand) []byte {
	t.Helper()
	header, records := pcapRecords(t, data)
	src, err := capture.NewReader(bytes.NewReader(data), "in.pcap")
	if err != nil {
		t.Fatal(err)
	}
	barrier := make([]bool, len(records))
	started := map[string]bool{}
	for i := range records {
		p, err := src.ReadPacket()
		if err != nil {
			t.Fatalf("packet %d: %v", i+1, err)
		}
		var seg capture.Segment
		if !capture.DecodeTCP(&p, &seg) || seg.Flags&(capture.SYN|capture.RST|capture.FIN) != 0 {
			barrier[i] = true
		}
		if dir := seg.Src.String() + ">" + seg.Dst.String(); seg.Src.IsValid() && !started[dir] {
			// A direction's first packet stays in place: without a
			// SYN, it is where the stream starts.
			started[dir] = true
			barrier[i] = true
		}
	}
	type placed struct {
		key    float64
		record int
	}
	var order []placed
	lastBarrier := -1
	for i := range records {
		if barrier[i] {
			lastBarrier = i
			order = append(order, placed{float64(i), i})
			continue
		}
		next := len(records)
		for j := i + 1; j < len(records); j++ {
			if barrier[j] {
				next = j
				break
			}
		}
		copies := 1
		if rng.IntN(16) == 0 {
			copies = 2
		}
		for range copies {
			v := float64(i) + (rng.Float64()*2-1)*float64(k)
			order = append(order, placed{min(max(v, float64(lastBarrier)+0.5), float64(next)-0.5), i})
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return order[a].key < order[b].key })
	out := bytes.Clone(header)
	for i, o := range order {
		r := bytes.Clone(records[o.record])
		// The timestamp of the i-th packet (the last one's for the
		// duplicates past the end): times stay in order.
		copy(r[:8], records[min(i, len(records)-1)][:8])
		out = append(out, r...)
	}
	return out
}

// messagesOf decodes data and returns its messages, per client address and
// direction, in order: what a reordered capture must decode to.
func messagesOf(t *testing.T, data []byte, workers int) map[string][]string {
	t.Helper()
	src, err := capture.NewReader(bytes.NewReader(data), "test.pcap")
	if err != nil {
		t.Fatal(err)
	}
	clients := map[int]string{}
	nth := map[string]int{}
	out := map[string][]string{}
	// A limit below the default 64 MiB: ws.decompression_limit.pcap
	// inflates up to it on every decode (80 decodes a seed run), and
	// whether reordering changes the messages does not depend on where the
	// limit lies. No other capture here has a message near 1 MiB.
	o := analyze.Options{Workers: workers, MaxMessage: 1 << 20}
	err = analyze.Decode(src, o, func(ev *analyze.Event) error {
		switch ev.Type {
		case analyze.TypeTCPOpen:
			nth[ev.TCPOpen.Client]++
			clients[ev.Conn] = fmt.Sprintf("%s#%d", ev.TCPOpen.Client, nth[ev.TCPOpen.Client])
		case analyze.TypeWSMessage:
			m := &ev.Message
			k := clients[ev.Conn] + " " + ev.From
			out[k] = append(out[k], fmt.Sprintf("%s len=%d wire=%d truncated=%v %s", m.Opcode, m.Len, m.WireLen, m.Truncated, base64.StdEncoding.EncodeToString(m.Payload)))
		}
		return nil
	})
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return out
}

// reorderCaptures returns the captures the property is checked on: every
// capture in testdata/violations, a generated many-connection capture, and
// scripted sessions.
func reorderCaptures(t *testing.T) map[string][]byte {
	t.Helper()
	caps := map[string][]byte{}
	paths, _ := filepath.Glob("../testdata/violations/*.pcap")
	for _, p := range paths {
		if filepath.Base(p) == "tcp.overlap_conflict.pcap" {
			// Its two copies of the same bytes differ: which one comes
			// first decides which is kept, by design.
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		caps[filepath.Base(p)] = data
	}
	var buf bytes.Buffer
	if _, err := bench.Generate(&buf, bench.Config{Conns: 4, Messages: 40, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	caps["bench-plain"] = buf.Bytes()
	var dbuf bytes.Buffer
	if _, err := bench.Generate(&dbuf, bench.Config{Conns: 3, Messages: 30, Deflate: true, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	caps["bench-deflate"] = dbuf.Bytes()
	// Real sessions on the loopback interface (wsviz demo, Chromium),
	// rewritten as pcap.
	for _, name := range []string{"demo.pcapng", "chromium.pcapng"} {
		f, err := capture.OpenFile(filepath.Join("..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		w := pcapgo.NewWriterNanos(&out)
		if err := w.WriteFileHeader(capture.MaxCaptureLength, layers.LinkTypeEthernet); err != nil {
			t.Fatal(err)
		}
		for {
			p, err := f.ReadPacket()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			ci := gopacket.CaptureInfo{Timestamp: p.Timestamp, CaptureLength: len(p.Data), Length: max(p.Length, len(p.Data))}
			if err := w.WritePacket(ci, p.Data); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
		caps["real-"+strings.TrimSuffix(name, ".pcapng")] = out.Bytes()
	}
	c := capturetest.NewCapture(capturetest.Options{})
	k := c.Conn("127.0.0.1:50000", "127.0.0.1:9001")
	k.SetMSS(100)
	k.SetISN(0xffffff00, 0xfffffff0) // sequence numbers wrap inside the messages
	k.Handshake()
	k.Client(analyzetest.Request("/chat"))
	k.Server(analyzetest.Response())
	for i := range 20 {
		// Each side acknowledges with a pure ACK, as a real receiver
		// does: the reordering moves those ahead of the data.
		k.Client(analyzetest.Text(true, fmt.Sprintf("client message %d %s", i, bytes.Repeat([]byte("x"), 150))))
		k.Ack(false)
		k.Server(analyzetest.Binary(false, bytes.Repeat([]byte{byte(i)}, 250)))
		k.Ack(true)
	}
	k.CloseFIN(true)
	k.CloseFIN(false)
	caps["wrap"] = c.Bytes()
	return caps
}

// TestReorderedCaptureSameMessages is the property of the reorder window:
// any capture reordered by up to eight packets (ACKs, with or without data,
// moved ahead of the data they acknowledge in either direction, segments
// of one direction swapped, some duplicated; see reorder) decodes to
// exactly the messages of the capture in order, with one worker and two,
// over many seeds.
func TestReorderedCaptureSameMessages(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 3
	}
	for name, data := range reorderCaptures(t) {
		t.Run(name, func(t *testing.T) {
			want := messagesOf(t, data, 1)
			if len(want) == 0 && !strings.Contains(name, ".") {
				t.Fatal("no message in the capture in order")
			}
			for seed := range seeds {
				rng := rand.New(rand.NewPCG(uint64(seed), 9))
				k := 1 + seed%8
				shuffled := reorder(t, data, k, rng)
				for _, workers := range []int{1, 2} {
					got := messagesOf(t, shuffled, workers)
					if d := diffMessages(got, want); d != "" {
						t.Fatalf("seed %d, window %d, workers %d: messages differ from the capture in order: %s", seed, k, workers, d)
					}
				}
			}
		})
	}
}

// diffMessages says where got and want first differ, "" when they do not.
func diffMessages(got, want map[string][]string) string {
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if d := firstLineDiff(want[k], got[k], "message"); d != "" {
			return k + " " + d
		}
	}
	return ""
}
