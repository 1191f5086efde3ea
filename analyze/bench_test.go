package analyze_test

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/internal/bench"
)

var benchCaptures sync.Map // bench.Config → []byte

// benchCapture returns a synthetic capture generated once per test binary.
func benchCapture(b *testing.B, cfg bench.Config) ([]byte, bench.Stats) {
	b.Helper()
	var buf bytes.Buffer
	if v, ok := benchCaptures.Load(cfg); ok {
		data := v.([]byte)
		return data, bench.Stats{Bytes: int64(len(data))}
	}
	st, err := bench.Generate(&buf, cfg)
	if err != nil {
		b.Fatal(err)
	}
	benchCaptures.Store(cfg, buf.Bytes())
	return buf.Bytes(), st
}

// BenchmarkDecode decodes a synthetic capture of many connections and
// encodes every event as JSON, as `wsviz events` does: in the emit
// function given to Decode, or with DecodeJSON, which encodes in the
// workers too.
func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct {
		name    string
		cfg     bench.Config
		workers int
	}{
		{"plain/workers=1", bench.Config{Conns: 50, Messages: 400, Seed: 1}, 1},
		{"plain/workers=2", bench.Config{Conns: 50, Messages: 400, Seed: 1}, 2},
		{"deflate/workers=1", bench.Config{Conns: 50, Messages: 400, Deflate: true, Seed: 1}, 1},
		{"deflate/workers=2", bench.Config{Conns: 50, Messages: 400, Deflate: true, Seed: 1}, 2},
	} {
		b.Run("emit/"+bc.name, func(b *testing.B) {
			data, _ := benchCapture(b, bc.cfg)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var line []byte
			for b.Loop() {
				src, err := capture.NewReader(bytes.NewReader(data), "bench.pcap")
				if err != nil {
					b.Fatal(err)
				}
				err = analyze.Decode(src, analyze.Options{Workers: bc.workers}, func(ev *analyze.Event) error {
					line = ev.AppendJSON(line[:0])
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("json/"+bc.name, func(b *testing.B) {
			data, _ := benchCapture(b, bc.cfg)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				src, err := capture.NewReader(bytes.NewReader(data), "bench.pcap")
				if err != nil {
					b.Fatal(err)
				}
				if err := analyze.DecodeJSON(src, analyze.Options{Workers: bc.workers}, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
		// As wsviz stats decodes: every event and every packet seen.
		b.Run("onpacket/"+bc.name, func(b *testing.B) {
			data, _ := benchCapture(b, bc.cfg)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var events, packets, client int
			opts := analyze.Options{Workers: bc.workers, OnPacket: func(_ *capture.Packet, conn int, from string) {
				packets++
				if from == analyze.FromClient {
					client++
				}
			}}
			for b.Loop() {
				src, err := capture.NewReader(bytes.NewReader(data), "bench.pcap")
				if err != nil {
					b.Fatal(err)
				}
				if err := analyze.Decode(src, opts, func(*analyze.Event) error { events++; return nil }); err != nil {
					b.Fatal(err)
				}
			}
			if packets == 0 || client == 0 || events == 0 {
				b.Fatalf("%d packets (%d from clients), %d events", packets, client, events)
			}
		})
	}
}
