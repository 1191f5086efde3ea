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
	"testing"

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
// records packets out of order, the timestamps kept in their order: pure
// ACKs moved up to k places either way (ahead of the data they
// acknowledge, or behind later data), and each run of consecutive data
// segments of one direction shuffled. Data of opposite directions keeps
// its order, and SYN, FIN and RST packets stay in place, as barriers
// nothing crosses (a FIN the peer acknowledged decides the holes before
// it): a response moved ahead of its request, or a SYN ahead of the end
// of an earlier connection on the same ports, changes what the capture
// says. So does the first packet of a direction whose SYN was not
// captured: it is where that stream starts.
func reorder(t *testing.T, data []byte, k int, rng *rand.Rand) []byte {
	t.Helper()
	header, records := pcapRecords(t, data)
	src, err := capture.NewReader(bytes.NewReader(data), "in.pcap")
	if err != nil {
		t.Fatal(err)
	}
	const (
		barrier = iota + 1
		pureACK
		payload
	)
	kind := make([]int, len(records))
	dir := make([]string, len(records))
	started := map[string]bool{}
	for i := range records {
		p, err := src.ReadPacket()
		if err != nil {
			t.Fatalf("packet %d: %v", i+1, err)
		}
		var seg capture.Segment
		switch {
		case !capture.DecodeTCP(&p, &seg), seg.Flags&(capture.SYN|capture.RST|capture.FIN) != 0:
			kind[i] = barrier
		case len(seg.Payload) == 0 && seg.Missing == 0 && seg.Flags&capture.FIN == 0:
			kind[i] = pureACK
		default:
			kind[i] = payload
			dir[i] = seg.Src.String() + ">" + seg.Dst.String()
		}
		if kind[i] != barrier && seg.Src.IsValid() && !started[seg.Src.String()+">"+seg.Dst.String()] {
			// A direction's first packet stays in place too: without a
			// SYN, it is where the stream starts.
			started[seg.Src.String()+">"+seg.Dst.String()] = true
			kind[i] = barrier
		}
		if seg.Flags&capture.SYN != 0 {
			started[seg.Src.String()+">"+seg.Dst.String()] = true
		}
	}
	key := make([]float64, len(records))
	lastBarrier := -1
	for i := range records {
		key[i] = float64(i)
		if kind[i] == barrier {
			lastBarrier = i
		}
		if kind[i] == pureACK {
			next := len(records)
			for j := i + 1; j < len(records); j++ {
				if kind[j] == barrier {
					next = j
					break
				}
			}
			v := float64(i) + (rng.Float64()*2-1)*float64(k)
			key[i] = min(max(v, float64(lastBarrier)+0.5), float64(next)-0.5)
		}
	}
	// Shuffle each run of data of one direction (pure ACKs between its
	// segments do not end a run).
	for i := 0; i < len(records); {
		if kind[i] != payload {
			i++
			continue
		}
		run := []int{i}
		j := i + 1
		for ; j < len(records) && kind[j] != barrier && (kind[j] == pureACK || dir[j] == dir[i]); j++ {
			if kind[j] == payload {
				run = append(run, j)
			}
		}
		keys := make([]float64, len(run))
		for n, r := range run {
			keys[n] = key[r]
		}
		rng.Shuffle(len(keys), func(a, b int) { keys[a], keys[b] = keys[b], keys[a] })
		for n, r := range run {
			key[r] = keys[n]
		}
		i = j
	}
	order := make([]int, len(records))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return key[order[a]] < key[order[b]] })
	out := bytes.Clone(header)
	for i, o := range order {
		r := bytes.Clone(records[o])
		copy(r[:8], records[i][:8]) // the timestamp of the i-th packet: times stay in order
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
	err = analyze.Decode(src, analyze.Options{Workers: workers}, func(ev *analyze.Event) error {
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
// any capture reordered by up to eight packets (ACKs moved ahead of the
// data they acknowledge, segments of one direction swapped; see reorder)
// decodes to exactly the messages of the capture in order, with one worker
// and two, over many seeds.
func TestReorderedCaptureSameMessages(t *testing.T) {
	seeds := 20
	if testing.Short() {
		seeds = 3
	}
	for name, data := range reorderCaptures(t) {
		t.Run(name, func(t *testing.T) {
			want := messagesOf(t, data, 1)
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
		g, w := got[k], want[k]
		for i := range max(len(g), len(w)) {
			var gi, wi string
			if i < len(g) {
				gi = g[i]
			}
			if i < len(w) {
				wi = w[i]
			}
			if gi != wi {
				return fmt.Sprintf("%s message %d:\n got %.200s\nwant %.200s", k, i, gi, wi)
			}
		}
	}
	return ""
}
