package analyze_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
	"github.com/wsviz/wsviz/internal/bench"
)

// decodeLines decodes data with opts through Decode (emit) or DecodeJSON.
func decodeLines(t *testing.T, data []byte, opts analyze.Options, viaEmit bool) ([]byte, error) {
	t.Helper()
	src, err := capture.NewReader(bytes.NewReader(data), "test.pcap")
	if err != nil {
		t.Fatalf("capture.NewReader: %v", err)
	}
	var out bytes.Buffer
	if viaEmit {
		err = analyze.Decode(src, opts, func(ev *analyze.Event) error {
			out.Write(ev.AppendJSON(nil))
			out.WriteByte('\n')
			return nil
		})
	} else {
		err = analyze.DecodeJSON(src, opts, &out)
	}
	return out.Bytes(), err
}

// compareWorkers checks that every worker count gives exactly the output of
// one worker, through both Decode and DecodeJSON.
func compareWorkers(t *testing.T, data []byte, opts analyze.Options) {
	t.Helper()
	opts.Workers = 1
	want, wantErr := decodeLines(t, data, opts, true)
	if len(want) == 0 {
		t.Fatalf("Decode(Workers=1) produced no events")
	}
	for _, workers := range []int{1, 2, 3, 4} {
		for _, viaEmit := range []bool{false, true} {
			if workers == 1 && viaEmit {
				continue
			}
			opts.Workers = workers
			got, err := decodeLines(t, data, opts, viaEmit)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Errorf("Workers=%d emit=%v: error %v, want %v", workers, viaEmit, err, wantErr)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Workers=%d emit=%v: output differs from Workers=1:\n%s", workers, viaEmit, firstDiff(got, want))
			}
		}
	}
}

// firstDiff shows the first differing line of two outputs.
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

func TestWorkersSameOutputCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", "*", "*.pcap*"))
	more, _ := filepath.Glob(filepath.Join("..", "testdata", "*.pcap*"))
	files = append(files, more...)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".tsv") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			compareWorkers(t, data, analyze.Options{})
		})
	}
	if n == 0 {
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
