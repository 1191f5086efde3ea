package analyze_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
	"github.com/wsviz/wsviz/internal/bench"
)

// decodeLines decodes data with opts through Decode (emit) or DecodeJSON
// and returns the JSON lines.
func decodeLines(t *testing.T, data []byte, opts analyze.Options, viaEmit bool) ([]byte, error) {
	t.Helper()
	var out bytes.Buffer
	err := decodeTo(t, data, opts, viaEmit, &out)
	return out.Bytes(), err
}

// decodeTo decodes data with opts through Decode (emit) or DecodeJSON and
// writes the JSON lines to w.
func decodeTo(t *testing.T, data []byte, opts analyze.Options, viaEmit bool, w io.Writer) error {
	t.Helper()
	src, err := capture.NewReader(bytes.NewReader(data), "test.pcap")
	if err != nil {
		t.Fatalf("capture.NewReader: %v", err)
	}
	if !viaEmit {
		return analyze.DecodeJSON(src, opts, w)
	}
	var line []byte
	return analyze.Decode(src, opts, func(ev *analyze.Event) error {
		line = append(ev.AppendJSON(line[:0]), '\n')
		w.Write(line)
		return nil
	})
}

// decodeWithPackets decodes data with opts through Decode, with an
// Options.OnPacket that writes a line for each packet among the events'
// lines: its number, time, length, interface, link type, a checksum of
// its bytes, and the connection and side it was given.
func decodeWithPackets(t *testing.T, data []byte, opts analyze.Options) ([]byte, error) {
	t.Helper()
	var out bytes.Buffer
	err := decodePacketsTo(t, data, opts, &out)
	return out.Bytes(), err
}

// decodePacketsTo is decodeWithPackets writing to w.
func decodePacketsTo(t *testing.T, data []byte, opts analyze.Options, w io.Writer) error {
	t.Helper()
	src, err := capture.NewReader(bytes.NewReader(data), "test.pcap")
	if err != nil {
		t.Fatalf("capture.NewReader: %v", err)
	}
	var line []byte
	opts.OnPacket = func(p *capture.Packet, conn int, from string) {
		line = fmt.Appendf(line[:0], "packet %d %s len=%d/%d if=%d link=%d crc=%08x conn=%d from=%q\n", p.Number,
			p.Timestamp.Format(time.RFC3339Nano), len(p.Data), p.Length, p.Interface, p.LinkType, crc32.ChecksumIEEE(p.Data), conn, from)
		w.Write(line)
	}
	return analyze.Decode(src, opts, func(ev *analyze.Event) error {
		line = append(ev.AppendJSON(line[:0]), '\n')
		w.Write(line)
		return nil
	})
}

// compareWorkers checks that every worker count gives exactly the output of
// one worker, through both Decode and DecodeJSON, and through Decode with
// Options.OnPacket: the same calls, in the same places among the events.
// Only one worker's outputs are kept; the others are checked as they are
// written (a matcher), which under the race detector halves the test.
func compareWorkers(t *testing.T, data []byte, opts analyze.Options) {
	t.Helper()
	opts.Workers = 1
	want, wantErr := decodeLines(t, data, opts, true)
	if len(want) == 0 {
		t.Fatalf("Decode(Workers=1) produced no events")
	}
	wantPackets, err := decodeWithPackets(t, data, opts)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Errorf("Workers=1 with OnPacket: error %v, want %v", err, wantErr)
	}
	var events []byte
	packets := 0
	for line := range bytes.Lines(wantPackets) {
		if bytes.HasPrefix(line, []byte("packet ")) {
			packets++
		} else {
			events = append(events, line...)
		}
	}
	if !bytes.Equal(events, want) {
		t.Errorf("Workers=1: OnPacket changes the events:\n%s", firstDiff(events, want))
	}
	if packets == 0 {
		t.Errorf("Workers=1: OnPacket was never called")
	}
	for _, workers := range []int{1, 2, 3, 4} {
		for _, viaEmit := range []bool{false, true} {
			if workers == 1 && viaEmit {
				continue
			}
			opts.Workers = workers
			m := newMatcher(want)
			err := decodeTo(t, data, opts, viaEmit, m)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Errorf("Workers=%d emit=%v: error %v, want %v", workers, viaEmit, err, wantErr)
			}
			if diff := m.diff(); diff != "" {
				t.Errorf("Workers=%d emit=%v: output differs from Workers=1:\n%s", workers, viaEmit, diff)
			}
		}
		if workers > 1 {
			m := newMatcher(wantPackets)
			err := decodePacketsTo(t, data, opts, m)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Errorf("Workers=%d with OnPacket: error %v, want %v", workers, err, wantErr)
			}
			if diff := m.diff(); diff != "" {
				t.Errorf("Workers=%d with OnPacket: output differs from Workers=1:\n%s", workers, diff)
			}
		}
	}
}

// firstDiff describes the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d (of %d, want %d):\n got  %.400s\n want %.400s", i+1, len(g), len(w), gl, wl)
		}
	}
	return "same lines"
}

// matcher is an io.Writer that checks what is written against want as it
// comes, keeping only the line where they first differ: a decode's output
// can be tens of MB, and a test that buffers it spends most of its time,
// under the race detector, faulting in the buffer and its shadow.
type matcher struct {
	want  []byte
	n     int    // bytes written
	lines int    // newlines written
	at    int    // offset of the first difference, or -1
	got   []byte // the line holding at as written, from its start
	limit int    // got's bound: 2 KiB past the difference (firstDiff shows 400 characters)
}

func newMatcher(want []byte) *matcher { return &matcher{want: want, at: -1} }

func (m *matcher) Write(p []byte) (int, error) {
	written := len(p)
	m.lines += bytes.Count(p, []byte("\n"))
	if m.at < 0 {
		rest := m.want[m.n:]
		if len(p) <= len(rest) && bytes.Equal(p, rest[:len(p)]) {
			m.n += len(p)
			return len(p), nil
		}
		k := 0
		for k < len(p) && k < len(rest) && p[k] == rest[k] {
			k++
		}
		m.at = m.n + k
		start := bytes.LastIndexByte(m.want[:m.at], '\n') + 1
		m.got = append([]byte(nil), m.want[start:m.at]...)
		m.limit = len(m.got) + 2048
		p = p[k:]
		m.n += k
	}
	m.got = append(m.got, p[:min(len(p), max(0, m.limit-len(m.got)))]...)
	m.n += len(p)
	return written, nil
}

// diff describes the first line where what was written differs from want,
// as firstDiff does, or returns "" when they are the same.
func (m *matcher) diff() string {
	at, got := m.at, m.got
	if at < 0 {
		if m.n == len(m.want) {
			return ""
		}
		at = m.n // the output ended early
		if at < len(m.want) && m.want[at] == '\n' {
			at++ // at the end of a whole line: the next one is missing
		}
		got = m.want[bytes.LastIndexByte(m.want[:at], '\n')+1 : at]
	}
	line := bytes.Count(m.want[:at], []byte("\n"))
	if i := bytes.IndexByte(got, '\n'); i >= 0 {
		got = got[:i]
	}
	wl := m.want[bytes.LastIndexByte(m.want[:at], '\n')+1:]
	if i := bytes.IndexByte(wl, '\n'); i >= 0 {
		wl = wl[:i]
	}
	return fmt.Sprintf("line %d (of %d, want %d):\n got  %.400s\n want %.400s", line+1, m.lines+1, bytes.Count(m.want, []byte("\n"))+1, got, wl)
}

// captureFiles returns the captures of ../shared/corpus (when present)
// and of testdata/, testdata/link/ and testdata/h2/.
func captureFiles() []string {
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", "*", "*.pcap*"))
	for _, dir := range []string{"", "link", "h2"} {
		more, _ := filepath.Glob(filepath.Join("..", "testdata", dir, "*.pcap*"))
		files = append(files, more...)
	}
	return slices.DeleteFunc(files, func(f string) bool { return strings.HasSuffix(f, ".tsv") })
}

func TestWorkersSameOutputCorpus(t *testing.T) {
	files := captureFiles()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			compareWorkers(t, data, analyze.Options{})
		})
	}
	if len(files) == 0 {
		t.Skip("no captures found")
	}
}

func TestWorkersSameOutputSynthetic(t *testing.T) {
	scripted := func(build func(c *capturetest.Capture)) []byte {
		c := capturetest.NewCapture(capturetest.Options{})
		build(c)
		return c.Bytes()
	}
	wsConn := func(c *capturetest.Capture, client string) *capturetest.Conn {
		k := c.Conn(client, "10.1.0.1:8080")
		k.Handshake()
		k.Client(analyzetest.Request("/x"))
		k.Server(analyzetest.Response())
		return k
	}
	for _, tc := range []struct {
		name string
		data []byte
		opts analyze.Options
		want []string // the case exercises what it is named for
	}{
		{"plain 40x60", genBytes(t, bench.Config{Conns: 40, Messages: 60, Seed: 7}), analyze.Options{}, nil},
		{"deflate 40x60", genBytes(t, bench.Config{Conns: 40, Messages: 60, Deflate: true, Seed: 7}), analyze.Options{}, nil},
		{"full payload", genBytes(t, bench.Config{Conns: 9, Messages: 40, Seed: 3}), analyze.Options{MaxPayload: -1}, nil},
		// Eviction crosses shards: the evicted connection's close comes
		// before the tcp.open of the packet that evicted it.
		{"eviction", genBytes(t, bench.Config{Conns: 30, Messages: 20, Seed: 5}), analyze.Options{MaxConns: 7}, []string{`"how":"evicted"`}},
		{"port reuse after FIN and RST", scripted(func(c *capturetest.Capture) {
			for round := range 3 {
				a := wsConn(c, "10.0.0.1:40000")
				b := wsConn(c, "10.0.0.2:40000")
				a.Server(analyzetest.Text(false, fmt.Sprint("round ", round)))
				b.Client(analyzetest.Text(true, "hello"))
				a.CloseFIN(true)
				b.Reset(false)
				a.CloseFIN(false)
				a.Handshake() // a retransmitted SYN on a closed connection opens a new one
			}
		}), analyze.Options{}, []string{`"how":"rst"`, `"how":"fin"`, `"conn":7,"packet"`}},
		{"SYNs after FINs with a hole", scripted(func(c *capturetest.Capture) {
			for i := range 3 {
				k := wsConn(c, fmt.Sprintf("10.0.0.%d:40000", i+1))
				k.Drop(i % 2) // a hole keeps the first connection open past its FINs
				k.Server(analyzetest.Text(false, "data"))
				k.CloseFIN(false)
				k.CloseFIN(true)
				k.Handshake()
				k.Handshake()
				k.Client(analyzetest.Text(true, "again"))
			}
		}), analyze.Options{}, []string{`"how":"fin"`, `"tcp.gap"`}},
		{"out of order and gaps", scripted(func(c *capturetest.Capture) {
			for i := range 6 {
				k := wsConn(c, fmt.Sprintf("10.0.0.%d:4000%d", i+1, i))
				k.Delay(2)
				k.Server(analyzetest.Binary(false, bytes.Repeat([]byte{byte(i)}, 5000)))
				k.Drop(1)
				k.Client(analyzetest.Text(true, strings.Repeat("x", 3000)))
				k.Server(analyzetest.Text(false, "after"))
			}
		}), analyze.Options{MaxBufferPerConn: 1000}, []string{`"tcp.gap"`, `"tcp.buffer_limit"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			compareWorkers(t, tc.data, tc.opts)
			opts := tc.opts
			opts.Workers = 1
			out, _ := decodeLines(t, tc.data, opts, false)
			for _, w := range tc.want {
				if !bytes.Contains(out, []byte(w)) {
					t.Errorf("output of %s lacks %s", tc.name, w)
				}
			}
		})
	}
}

// TestWorkersStopAtEmitError checks that an error from emit stops the
// sharded decoder and is returned.
func TestWorkersStopAtEmitError(t *testing.T) {
	data := genBytes(t, bench.Config{Conns: 20, Messages: 200, Seed: 2})
	for _, workers := range []int{1, 2, 4} {
		src, err := capture.NewReader(bytes.NewReader(data), "test.pcap")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		stop := fmt.Errorf("stop")
		err = analyze.Decode(src, analyze.Options{Workers: workers}, func(*analyze.Event) error {
			n++
			if n == 100 {
				return stop
			}
			return nil
		})
		if err != stop || n != 100 {
			t.Errorf("Decode(Workers=%d) with emit failing at event 100 = %v after %d events, want %v after 100", workers, err, n, stop)
		}
	}
}

// genBytes generates a synthetic capture in memory.
func genBytes(t testing.TB, cfg bench.Config) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := bench.Generate(&buf, cfg); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestWorkersHandOff checks the hand-offs of the sharded decoder (which
// worker dispatches, which one writes a batch, which waits) with many
// batches, several workers and a capture that ends part-way through a
// batch: every size and worker count gives the output of one worker.
func TestWorkersHandOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  bench.Config
	}{
		{"one connection", bench.Config{Conns: 1, Messages: 3, Seed: 11}},
		{"under a batch", bench.Config{Conns: 5, Messages: 30, Seed: 12}},
		{"many batches", bench.Config{Conns: 60, Messages: 150, Seed: 13}},
		{"many batches, deflate", bench.Config{Conns: 33, Messages: 120, Deflate: true, Seed: 14}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			compareWorkers(t, genBytes(t, tc.cfg), analyze.Options{})
		})
	}
}

// TestWorkersCaptureCut checks the sharded decoder on a capture cut short
// at several places: the events before the cut, the connections closed
// at the end, and the source's error, all as with one worker.
func TestWorkersCaptureCut(t *testing.T) {
	data := genBytes(t, bench.Config{Conns: 20, Messages: 80, Seed: 15})
	for _, frac := range []int{3, 10, 50, 77, 99} {
		cut := data[:len(data)*frac/100]
		t.Run(fmt.Sprint(frac, "%"), func(t *testing.T) {
			opts := analyze.Options{Workers: 1}
			_, err := decodeLines(t, cut, opts, true)
			if err == nil {
				t.Fatalf("Decode of the capture cut at %d%% = nil, want an error", frac)
			}
			compareWorkers(t, cut, analyze.Options{})
		})
	}
}

// failingWriter accepts limit bytes, then fails; panics instead when
// panicking is set.
type failingWriter struct {
	bytes.Buffer
	limit    int
	panicked bool
}

var errWriterFull = fmt.Errorf("writer full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.Len()+len(p) > w.limit {
		if w.panicked {
			panic(errWriterFull)
		}
		return 0, errWriterFull
	}
	return w.Buffer.Write(p)
}

// TestWorkersStopAtWriteError checks that an error from DecodeJSON's
// writer part-way through stops the sharded decoder and is returned,
// after a prefix of the output, and that a writer's panic reaches the
// caller's goroutine.
func TestWorkersStopAtWriteError(t *testing.T) {
	data := genBytes(t, bench.Config{Conns: 30, Messages: 120, Seed: 16})
	full, err := decodeLines(t, data, analyze.Options{Workers: 1}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{2, 3, 4} {
		for _, limit := range []int{0, 1000, len(full) / 3, len(full) - 1} {
			src, err := capture.NewReader(bytes.NewReader(data), "test.pcap")
			if err != nil {
				t.Fatal(err)
			}
			w := &failingWriter{limit: limit}
			err = analyze.DecodeJSON(src, analyze.Options{Workers: workers}, w)
			if err != errWriterFull {
				t.Errorf("DecodeJSON(Workers=%d) with a writer full after %d bytes = %v, want %v", workers, limit, err, errWriterFull)
			}
			if !bytes.HasPrefix(full, w.Bytes()) {
				t.Errorf("DecodeJSON(Workers=%d) with a writer full after %d bytes wrote what one worker does not:\n%s", workers, limit, firstDiff(w.Bytes(), full))
			}
		}
		t.Run(fmt.Sprint("panic, workers ", workers), func(t *testing.T) {
			src, err := capture.NewReader(bytes.NewReader(data), "test.pcap")
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if r := recover(); r != errWriterFull {
					t.Errorf("DecodeJSON(Workers=%d) with a panicking writer: recovered %v, want %v", workers, r, errWriterFull)
				}
			}()
			analyze.DecodeJSON(src, analyze.Options{Workers: workers}, &failingWriter{limit: len(full) / 2, panicked: true})
		})
	}
}

// fragmentFlood returns a pcap of n IPv4 first fragments, each of its own
// datagram, each carrying a TCP header: at the end of the capture every
// datagram still waiting (up to capture.DefaultMaxFragments) is given up
// with a report of its own.
func fragmentFlood(n int) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr[0:], 0xa1b2c3d4)
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 65535)
	le.PutUint32(hdr[20:], 1) // Ethernet
	b.Write(hdr)
	for k := range n {
		tcp := make([]byte, 24) // a TCP header and 4 bytes: a multiple of 8
		binary.BigEndian.PutUint16(tcp[0:], uint16(40000+k%1000))
		binary.BigEndian.PutUint16(tcp[2:], 80)
		tcp[12], tcp[13] = 0x50, 0x18
		ip := make([]byte, 20)
		ip[0], ip[8], ip[9] = 0x45, 64, 6
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(tcp)))
		binary.BigEndian.PutUint16(ip[4:], uint16(k))
		binary.BigEndian.PutUint16(ip[6:], 0x2000) // more fragments, offset 0
		copy(ip[12:], []byte{10, 0, byte(k >> 8), byte(k)})
		copy(ip[16:], []byte{10, 1, 0, 1})
		var sum uint32
		for i := 0; i < 20; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(ip[i:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
		frame := append(append([]byte{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 8, 0}, ip...), tcp...)
		rec := make([]byte, 16)
		le.PutUint32(rec[0:], uint32(1000+k/1000))
		le.PutUint32(rec[4:], uint32(k%1000*1000))
		le.PutUint32(rec[8:], uint32(len(frame)))
		le.PutUint32(rec[12:], uint32(len(frame)))
		b.Write(rec)
		b.Write(frame)
	}
	return b.Bytes()
}

// TestWorkersFragmentReportFlood: the reports of datagrams given up at the
// end of a capture (thousands, more than the ring of batches holds) and
// along the way (past the fragment limits) go through the workers like one
// Analyzer's. The sharded decoder once deadlocked here: its dispatcher, run
// by a worker, made batches beyond the ring for the reports and blocked on
// a full work channel while the worker that would empty it waited to
// write. A deadlock panics with every goroutine's stack instead of hanging
// until the test binary's timeout.
func TestWorkersFragmentReportFlood(t *testing.T) {
	for _, n := range []int{600, 8000, 12000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			deadline := time.AfterFunc(2*time.Minute, func() {
				panic(fmt.Sprintf("TestWorkersFragmentReportFlood/%d: no end after 2 minutes: deadlock", n))
			})
			defer deadline.Stop()
			compareWorkers(t, fragmentFlood(n), analyze.Options{})
		})
	}
}

// TestMatcher checks the matcher against firstDiff: for outputs equal to
// want, cut short, run on, or changed at any byte, written in random
// pieces, it reports what firstDiff reports for the whole output, and
// nothing when they are equal.
func TestMatcher(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 2000 {
		var want []byte
		for range rng.IntN(6) {
			want = append(want, bytes.Repeat([]byte{byte('a' + rng.IntN(3))}, rng.IntN(600))...)
			want = append(want, '\n')
		}
		got := slices.Clone(want)
		switch rng.IntN(4) {
		case 1:
			got = got[:rng.IntN(len(got)+1)]
		case 2:
			got = append(got, "more\nlines"[:1+rng.IntN(10)]...)
		case 3:
			if len(got) > 0 {
				got[rng.IntN(len(got))] ^= byte(1 + rng.IntN(255))
			}
		}
		m := newMatcher(want)
		for rest := got; len(rest) > 0; {
			n := 1 + rng.IntN(min(len(rest), 700))
			if k, err := m.Write(rest[:n]); k != n || err != nil {
				t.Fatalf("case %d: Write = %d, %v, want %d, nil", i, k, err, n)
			}
			rest = rest[n:]
		}
		wantDiff := ""
		if !bytes.Equal(got, want) {
			wantDiff = firstDiff(got, want)
		}
		if d := m.diff(); d != wantDiff {
			t.Fatalf("case %d: got %q, want %q:\n matcher  %s\n firstDiff %s", i, got, want, d, wantDiff)
		}
	}
}
