package analyze_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/internal/bench"
)

// maxHeapGrowth bounds the live heap while a hostile capture decodes, over
// the capture's own bytes (held in memory by the test). The bound
// is 150 MB of RSS for the whole process.
const maxHeapGrowth = 100 << 20

// hostileBytes returns the uncompressed capture: the file kept in
// testdata/hostile for small ones, checked to be what the generator makes,
// else freshly generated.
func hostileBytes(t *testing.T, h bench.Hostile) []byte {
	t.Helper()
	var gen bytes.Buffer
	if err := h.Write(&gen); err != nil {
		t.Fatalf("writing %s: %v", h.Name, err)
	}
	if !h.Small {
		return gen.Bytes()
	}
	path := filepath.Join("..", "testdata", "hostile", h.Name+".pcap.gz")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kept, gen.Bytes()) {
		t.Errorf("%s differs from what internal/bench generates: run go run ./testdata/hostile/gen.go", path)
	}
	return kept
}

// hostileSummary is what a hostile capture's decoding is checked against.
type hostileSummary struct {
	codes    map[string]int // warning code → events carrying it
	messages map[int][]string
	events   int
	heapPeak uint64 // highest live heap sampled while decoding
}

func decodeHostile(t *testing.T, data []byte, workers int) hostileSummary {
	t.Helper()
	s := hostileSummary{codes: map[string]int{}, messages: map[int][]string{}}
	src, err := capture.NewReader(bytes.NewReader(data), "hostile.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	err = analyze.Decode(src, analyze.Options{Workers: workers}, func(ev *analyze.Event) error {
		s.events++
		for _, w := range ev.Warnings {
			s.codes[w.Code]++
		}
		if ev.Type == analyze.TypeWSMessage && ev.Conn <= 2 {
			m := ev.Message.Opcode
			if m == "text" {
				m += " " + string(ev.Message.Payload)
			}
			s.messages[ev.Conn] = append(s.messages[ev.Conn], m)
		}
		if s.events%4096 == 0 {
			runtime.ReadMemStats(&ms)
			s.heapPeak = max(s.heapPeak, ms.HeapAlloc)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Decode = %v, want nil", err)
	}
	runtime.ReadMemStats(&ms)
	s.heapPeak = max(s.heapPeak, ms.HeapAlloc)
	return s
}

// TestHostileCaptures decodes each hostile capture and checks that the
// limit it hits is reported as a warning, that decoding goes on after it,
// and that the heap stays bounded. Bounded time and the process's peak RSS
// are shown by the benchmark command, not asserted here.
func TestHostileCaptures(t *testing.T) {
	checks := map[string]func(t *testing.T, s hostileSummary){
		"deflate-bomb": func(t *testing.T, s hostileSummary) {
			if got := fmt.Sprint(s.messages[1]); got != "[binary text still decoding]" {
				t.Errorf("messages = %s, want [binary text still decoding]", got)
			}
		},
		"syn-flood": func(t *testing.T, s hostileSummary) {
			// The one real connection stays recent: it is never evicted and
			// all its 200 messages and its close are decoded.
			if n := len(s.messages[1]); n != 201 {
				t.Errorf("the real connection has %d messages, want 201", n)
			}
		},
		"half-open-100k": func(t *testing.T, s hostileSummary) {
			if n := s.codes["tcp.conn_limit"]; n != 100_000-analyze.DefaultMaxConns {
				t.Errorf("%d connections evicted, want %d", n, 100_000-analyze.DefaultMaxConns)
			}
		},
		"header-byte-per-segment": func(t *testing.T, s hostileSummary) {
			if n := len(s.messages[1]); n != 300 {
				t.Errorf("%d messages, want 300", n)
			}
			for _, m := range s.messages[1] {
				if m != "text abc" {
					t.Fatalf("message %q, want text abc", m)
				}
			}
		},
		"fragment-flood": func(t *testing.T, s hostileSummary) {
			// The real connection's fragmented datagrams complete between
			// the flood's: every message is decoded.
			if n := len(s.messages[1]); n != bench.FragmentFloodMessages {
				t.Errorf("the real connection has %d messages, want %d", n, bench.FragmentFloodMessages)
			}
			for i, m := range s.messages[1][:bench.FragmentFloodMessages-2] {
				if want := fmt.Sprintf("text tick %d ", i); !strings.HasPrefix(m, want) {
					t.Fatalf("message %d is %.20q, want %q...", i+1, m, want)
				}
			}
		},
		"outside-window": func(t *testing.T, s hostileSummary) {
			if got := fmt.Sprint(s.messages[1]); got != "[text before text after text thanks]" {
				t.Errorf("messages = %s, want [text before text after text thanks]", got)
			}
		},
	}
	for _, h := range bench.HostileCaptures() {
		t.Run(h.Name, func(t *testing.T) {
			if !h.Small && testing.Short() {
				t.Skip("large capture, generated at test time")
			}
			data := hostileBytes(t, h)
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			s := decodeHostile(t, data, 1)
			for _, code := range h.Warnings {
				if s.codes[code] == 0 {
					t.Errorf("no %s warning; warnings seen: %v", code, s.codes)
				}
			}
			if grown := int64(s.heapPeak) - int64(before.HeapAlloc); grown > maxHeapGrowth {
				t.Errorf("live heap grew by %d MB while decoding, want at most %d MB", grown>>20, maxHeapGrowth>>20)
			}
			if check := checks[h.Name]; check != nil {
				check(t, s)
			}
			if par := decodeHostile(t, data, 2); fmt.Sprint(par.codes, par.messages, par.events) != fmt.Sprint(s.codes, s.messages, s.events) {
				t.Errorf("Workers=2 gives %d events, warnings %v; Workers=1 %d events, warnings %v", par.events, par.codes, s.events, s.codes)
			}
		})
	}
}
