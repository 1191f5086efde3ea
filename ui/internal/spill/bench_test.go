package spill

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/wsviz/wsviz/analyze"
)

// BenchmarkAdd measures storing events: JSON form, compression, rows.
func BenchmarkAdd(b *testing.B) {
	evs := genEvents(1, 50, 2000)
	s := openStore(b, Options{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Add(&evs[i%len(evs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	u := s.Usage()
	b.ReportMetric(float64(u.DiskBytes)/float64(u.Events), "disk-B/event")
}

// The big store: 200 connections × 5,000 messages (about 2 million
// events), built once for the query benchmarks.
var (
	bigOnce  sync.Once
	bigStore *Store
	bigT     [2]int64
)

func big(b *testing.B) *Store {
	bigOnce.Do(func() {
		s, err := Open(Options{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		first := true
		genEach(9, 200, 5000, func(ev *analyze.Event) {
			r, err := s.Add(ev)
			if err != nil {
				b.Fatal(err)
			}
			if first {
				bigT[0], first = r.Time, false
			}
			bigT[1] = r.Time
		})
		s.Flush()
		runtime.GC()
		runtime.ReadMemStats(&after)
		u := s.Usage()
		fmt.Printf("big store: %d events, %d index nodes, Go heap +%.1f MB (%.1f bytes an event), spill %.0f MB\n",
			u.Events, u.IndexNodes, float64(after.HeapAlloc-before.HeapAlloc)/1e6,
			float64(after.HeapAlloc-before.HeapAlloc)/float64(u.Events), float64(u.DiskBytes)/1e6)
		bigStore = s
	})
	return bigStore
}

func lanes(n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(i + 1)
	}
	return out
}

func benchWindow(b *testing.B, span float64, f Filter) {
	s := big(b)
	full := bigT[1] - bigT[0]
	w := int64(float64(full) * span)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := bigT[0] + int64(i%97)*(full-w)/97
		if _, err := s.Window(WindowQuery{T0: t0, T1: t0 + w, Buckets: 450, Conns: lanes(30), Filter: f}); err != nil {
			b.Fatal(err)
		}
	}
}

// A page's view: 30 lanes, 450 pixel columns (1,350 px of 3 px marks).
func BenchmarkWindowFitAll(b *testing.B)   { benchWindow(b, 1, Filter{Classes: AllClasses}) }
func BenchmarkWindowZoom50(b *testing.B)   { benchWindow(b, 1.0/50, Filter{Classes: AllClasses}) }
func BenchmarkWindowZoom5000(b *testing.B) { benchWindow(b, 1.0/5000, Filter{Classes: AllClasses}) }
func BenchmarkWindowFiltered(b *testing.B) {
	benchWindow(b, 1.0/5, Filter{Classes: 1 << ClassBinary, Dir: FromServer})
}

func BenchmarkOverview(b *testing.B) {
	s := big(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Overview(bigT[0], bigT[1], 1350, Filter{Classes: AllClasses}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListPage(b *testing.B) {
	s := big(b)
	total := s.Total()
	n := uint64(sumMsgs(total))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := s.List(ListQuery{Kind: ListMessages, Filter: Filter{Classes: AllClasses}, Offset: uint64(i) * 7919 % n, Limit: 60}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRecord(b *testing.B) {
	s := big(b)
	n := s.Len()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := s.Record(uint64(i) * 104729 % n); err != nil {
			b.Fatal(err)
		}
	}
}
