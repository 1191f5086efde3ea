package jsonenc

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestAppendEventTime checks the fast timestamp against Time.AppendFormat.
func TestAppendEventTime(t *testing.T) {
	for _, tm := range []time.Time{
		{},
		time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2024, 2, 29, 12, 0, 0, 120000000, time.FixedZone("x", -7*3600)),
		time.Date(9999, 12, 31, 23, 59, 59, 1, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(1<<33, 5),
		time.Unix(0, 0),
		time.Unix(253402300799, 999999999),
		time.Date(2000, 2, 29, 23, 59, 59, 100, time.UTC),
		time.Date(2100, 3, 1, 0, 0, 0, 0, time.UTC),
	} {
		want := string(tm.UTC().AppendFormat(nil, TimeLayout))
		if got := string(AppendTime(nil, tm, nil)); got != want {
			t.Errorf("AppendTime(%v) = %q, want %q", tm, got, want)
		}
	}
	// Every day from 1970 to 9999, at a random time of day.
	rng := rand.New(rand.NewPCG(3, 4))
	for day := int64(0); day < 2932897; day += 1 + rng.Int64N(3) {
		tm := time.Unix(day*86400+rng.Int64N(86400), rng.Int64N(1e9))
		want := string(tm.UTC().AppendFormat(nil, TimeLayout))
		if got := string(AppendTime(nil, tm, nil)); got != want {
			t.Fatalf("AppendTime(%v) = %q, want %q", tm, got, want)
		}
	}
}

// TestAppendEventTimeCache formats a run of times as an encoder does, with
// the cache, several in each second, going back as well as forth across
// seconds, days and years: the same as without it.
func TestAppendEventTimeCache(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var cache TimeCache
	tm := time.Date(1999, 12, 31, 23, 59, 58, 0, time.UTC)
	for range 100000 {
		switch rng.IntN(4) {
		case 0:
			tm = tm.Add(time.Duration(rng.Int64N(2e9)))
		case 1:
			tm = tm.Add(-time.Duration(rng.Int64N(2e9)))
		case 2:
			tm = time.Unix(rng.Int64N(253402300800), rng.Int64N(1e9))
		default:
			tm = tm.Add(time.Duration(rng.Int64N(1e6)))
		}
		want := string(tm.UTC().AppendFormat(nil, TimeLayout))
		if got := string(AppendTime(nil, tm, &cache)); got != want {
			t.Fatalf("AppendTime(%v) with the cache = %q, want %q", tm, got, want)
		}
	}
}

func BenchmarkEventTime(b *testing.B) {
	tm := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	buf := make([]byte, 0, 64)
	b.Run("AppendFormat", func(b *testing.B) {
		for b.Loop() {
			buf = tm.UTC().AppendFormat(buf[:0], TimeLayout)
		}
	})
	b.Run("AppendTime", func(b *testing.B) {
		for b.Loop() {
			buf = AppendTime(buf[:0], tm, nil)
		}
	})
}
