//go:build linux

package inflate

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"unsafe"
)

// benchStreams is the message mix of wsviz-bench's compressed capture
// (internal/bench's Generate with Records and Deflate): per connection and
// eight messages, three small JSON texts from the server, two JSON requests
// from the client, one 1-9 KB snapshot of 32-byte records from the server
// (and a ping and its pong, not compressed), each direction compressed with
// context takeover at zlib's default level as permessage-deflate sends it.
// The messages are in the order the capture has them: every connection's
// m-th message, then every connection's m+1-th, so that with many
// connections each direction's window has gone cold when its next message
// comes, as in wsviz.
type benchStreams struct {
	dirs  int
	msgs  []benchMessage
	out   int64 // bytes inflated from all messages
	plain [][]byte
}

type benchMessage struct {
	dir int
	z   []byte // compressed, with deflateTail
	n   int    // bytes inflated
}

// makeBenchStreams compresses conns connections' messages (messages each,
// as Generate's loop: messages-2 of them); keep keeps the plain messages
// (for the test).
func makeBenchStreams(conns, messages int, keep bool) *benchStreams {
	rng := rand.New(rand.NewPCG(1, 0x5eed))
	s := &benchStreams{dirs: 2 * conns}
	ws := make([]*messageWriter, s.dirs)
	for k := range ws {
		w, _ := flate.NewWriter(nil, flate.DefaultCompression)
		ws[k] = &messageWriter{w: w, takeover: true}
		ws[k].w.Reset(&ws[k].buf)
	}
	var p []byte
	for m := 0; m < messages-2; m++ {
		for i := range conns {
			fromClient := false
			p = p[:0]
			switch m % 8 {
			case 0, 3, 6:
				p = append(p, `{"type":"tick","conn":`...)
				p = strconv.AppendInt(p, int64(i), 10)
				p = append(p, `,"seq":`...)
				p = strconv.AppendInt(p, int64(m), 10)
				p = append(p, `,"symbol":"WSVZ","price":`...)
				p = strconv.AppendFloat(p, 100+float64(rng.IntN(100000))/100, 'f', 2, 64)
				p = append(p, `,"volume":`...)
				p = strconv.AppendInt(p, int64(rng.IntN(1000000)), 10)
				p = append(p, `,"bids":[`...)
				for k := range 1 + rng.IntN(8) {
					if k > 0 {
						p = append(p, ',')
					}
					p = strconv.AppendFloat(p, 99+float64(rng.IntN(10000))/100, 'f', 2, 64)
				}
				p = append(p, "]}"...)
			case 1, 4:
				fromClient = true
				p = append(p, `{"op":"subscribe","channel":"book.`...)
				p = strconv.AppendInt(p, int64(rng.IntN(500)), 10)
				p = append(p, `","id":`...)
				p = strconv.AppendInt(p, int64(m), 10)
				p = append(p, '}')
			case 2:
				p = streamRecords(p, rng, 1024+rng.IntN(8*1024), i, m)
			default:
				continue // a ping or a pong: not compressed
			}
			dir := 2*i + 1
			if fromClient {
				dir = 2 * i
			}
			z := append(ws[dir].message(p), deflateTail...)
			s.msgs = append(s.msgs, benchMessage{dir, z, len(p)})
			s.out += int64(len(p))
			if keep {
				s.plain = append(s.plain, bytes.Clone(p))
			}
		}
	}
	return s
}

// streamRecords is internal/bench's appendRecords.
func streamRecords(b []byte, rng *rand.Rand, n, conn, msg int) []byte {
	symbols := [8]string{"WSVZ", "GOPK", "ZLIB", "RFC7", "DEFL", "TCPX", "PCAP", "HTTP"}
	seq := uint32(msg * 1000)
	ts := uint64(1_700_000_000_000 + msg*250)
	price := uint32(10_000 + conn*37)
	for k := 0; k < n/32; k++ {
		seq++
		ts += uint64(rng.IntN(4))
		price += uint32(rng.IntN(7)) - 3
		b = binary.LittleEndian.AppendUint32(b, seq)
		b = binary.LittleEndian.AppendUint64(b, ts)
		b = append(b, symbols[rng.IntN(len(symbols))]...)
		b = binary.LittleEndian.AppendUint32(b, price)
		b = binary.LittleEndian.AppendUint32(b, uint32(100*(1+rng.IntN(20))))
		b = binary.LittleEndian.AppendUint32(b, rng.Uint32()>>8)
		var flags uint32
		if rng.IntN(16) == 0 {
			flags = 1 << rng.IntN(8)
		}
		b = binary.LittleEndian.AppendUint32(b, flags)
	}
	return b
}

// only keeps the messages of one direction.
func (s *benchStreams) only(dir int) *benchStreams {
	o := &benchStreams{dirs: s.dirs}
	for k, m := range s.msgs {
		if m.dir == dir {
			o.msgs = append(o.msgs, m)
			o.out += int64(m.n)
			if s.plain != nil {
				o.plain = append(o.plain, s.plain[k])
			}
		}
	}
	return o
}

// decode inflates every message in order, each direction's into its own
// window as wsproto does (the window after a message is the next one's
// history), and returns the bytes inflated. check, when not nil, is given
// each message's output.
func (s *benchStreams) decode(d *Decoder, wins [][]byte, check func(k int, out []byte, err error)) int64 {
	for k := range wins {
		wins[k] = wins[k][:0]
	}
	var n int64
	var msg []byte
	for k, m := range s.msgs {
		d.Reset(m.z, wins[m.dir])
		msg = msg[:0]
		var err error
		for {
			out, rerr := d.Next()
			n += int64(len(out))
			if check != nil {
				msg = append(msg, out...)
			}
			if rerr != nil {
				err = rerr
				break
			}
		}
		if check != nil {
			check(k, msg, err)
		}
		wins[m.dir] = d.Window()
	}
	return n
}

// benchWindows returns one window per direction, as wsproto's pool
// (windows_linux.go) takes them: out of memory mapped in huge pages
// (MADV_HUGEPAGE), 2 MiB-aligned. The mapping is never unmapped.
func benchWindows(dirs int) [][]byte {
	const huge = 2 << 20
	n := (dirs*WindowCap + huge - 1) &^ (huge - 1)
	m, err := syscall.Mmap(-1, 0, n+huge, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		panic(err)
	}
	off := int(-uintptr(unsafe.Pointer(&m[0])) & (huge - 1))
	slab := m[off : off+n]
	_ = syscall.Madvise(slab, syscall.MADV_HUGEPAGE)
	wins := make([][]byte, dirs)
	for k := range wins {
		wins[k] = slab[k*WindowCap : k*WindowCap : (k+1)*WindowCap]
	}
	return wins
}

// TestBenchStreams checks that the benchmark's streams inflate to their
// messages, with both fast loops.
func TestBenchStreams(t *testing.T) {
	s := makeBenchStreams(3, 300, true)
	for _, pureGo := range []bool{false, true} {
		d := Decoder{pureGo: pureGo}
		for _, st := range []*benchStreams{s, s.only(1)} {
			st.decode(&d, benchWindows(s.dirs), func(k int, out []byte, err error) {
				if err != io.EOF || !bytes.Equal(out, st.plain[k]) {
					t.Fatalf("pureGo %v: message %d = %d bytes, %v; want %d bytes, EOF", pureGo, k, len(out), err, len(st.plain[k]))
				}
			})
		}
	}
}

var (
	benchOnce           sync.Once
	benchCold, benchHot *benchStreams
)

func benchSetup() {
	benchOnce.Do(func() {
		// The 200 connections of wsviz-bench's capture with 400 messages
		// each (as its 200 × 400 capture: 59,800 compressed messages, 55.7
		// MB inflated from 23.2 MB), and one direction of one connection,
		// its server side: 1,999 messages, 2.8 MB.
		benchCold = makeBenchStreams(200, 400, false)
		benchHot = makeBenchStreams(1, 4000, false).only(1)
	})
}

// BenchmarkStreams inflates the bench's compressed message mix: cold, the
// 400 directions of 200 connections in turn (their windows, 25.6 MB, out
// of the caches when their next message comes), and hot, one direction's
// messages one after the other; with the assembly fast loop and the Go
// one. MB/s are of inflated output.
func BenchmarkStreams(b *testing.B) {
	benchSetup()
	for _, bc := range []struct {
		name string
		s    *benchStreams
	}{{"cold", benchCold}, {"hot", benchHot}} {
		for _, pureGo := range []bool{false, true} {
			if pureGo && !haveRoundAsm {
				continue
			}
			name := bc.name
			if pureGo {
				name += "-go"
			}
			b.Run(name, func(b *testing.B) {
				d := Decoder{pureGo: pureGo}
				wins := benchWindows(bc.s.dirs)
				b.SetBytes(bc.s.out)
				for b.Loop() {
					bc.s.decode(&d, wins, nil)
				}
			})
		}
	}
}
