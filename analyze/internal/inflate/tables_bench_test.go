package inflate

import (
	"compress/flate"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
)

// benchDirection is one direction of a permessage-deflate connection as
// wsviz-bench's compressed capture makes it (internal/bench, gen.go): the
// messages, each compressed with context takeover at zlib's default level
// and followed by deflateTail, and what they inflate to.
type benchDirection struct {
	msgs  [][]byte
	plain int // bytes inflated, all messages
	wire  int // bytes compressed
}

// benchDirections makes the two directions of conns connections of the
// bench's compressed capture, msgs messages each (the mix of gen.go: per
// eight, three JSON ticks and a binary snapshot of 32-byte records from
// the server, two JSON requests from the client, a ping and its pong,
// which are not compressed).
func benchDirections(conns, msgs int) []benchDirection {
	rng := rand.New(rand.NewPCG(1, 0x5eed))
	var dirs []benchDirection
	for c := range conns {
		var server, client benchDirection
		sw := &messageWriter{w: mustWriter(flate.DefaultCompression), takeover: true}
		cw := &messageWriter{w: mustWriter(flate.DefaultCompression), takeover: true}
		sw.w.Reset(&sw.buf)
		cw.w.Reset(&cw.buf)
		var p []byte
		for m := range msgs {
			p = p[:0]
			dir, w := &server, sw
			switch m % 8 {
			case 0, 3, 6:
				p = append(p, `{"type":"tick","conn":`...)
				p = strconv.AppendInt(p, int64(c), 10)
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
				dir, w = &client, cw
				p = append(p, `{"op":"subscribe","channel":"book.`...)
				p = strconv.AppendInt(p, int64(rng.IntN(500)), 10)
				p = append(p, `","id":`...)
				p = strconv.AppendInt(p, int64(m), 10)
				p = append(p, '}')
			case 2:
				p = benchRecords(p, rng, 1024+rng.IntN(8*1024), c, m)
			default:
				continue
			}
			z := append(w.message(p), deflateTail...)
			dir.msgs = append(dir.msgs, z)
			dir.plain += len(p)
			dir.wire += len(z)
		}
		dirs = append(dirs, server, client)
	}
	return dirs
}

func mustWriter(level int) *flate.Writer {
	w, err := flate.NewWriter(io.Discard, level)
	if err != nil {
		panic(err)
	}
	return w
}

// benchRecords is gen.go's appendRecords: about n bytes of 32-byte
// records (sequence, timestamp, symbol, price, size, order id, flags).
func benchRecords(b []byte, rng *rand.Rand, n, conn, msg int) []byte {
	symbols := [8]string{"WSVZ", "GOPK", "ZLIB", "RFC7", "DEFL", "TCPX", "PCAP", "HTTP"}
	seq := uint32(msg * 1000)
	ts := uint64(1_700_000_000_000 + msg*250)
	price := uint32(10_000 + conn*37)
	for range n / 32 {
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

// dynamicBlocks returns the messages of dirs that start with a dynamic
// block (the record snapshots, and a few JSON ticks).
func dynamicBlocks(dirs []benchDirection) [][]byte {
	var out [][]byte
	for _, dir := range dirs {
		for _, m := range dir.msgs {
			if m[0]>>1&3 == 2 {
				out = append(out, m)
			}
		}
	}
	return out
}

// BenchmarkDynamicHeader reads the header of each dynamic block of the
// bench's messages and builds its tables: the per-block cost that a
// compressed capture pays once per record message.
func BenchmarkDynamicHeader(b *testing.B) {
	blocks := dynamicBlocks(benchDirections(8, 400))
	var d Decoder
	win := make([]byte, 0, WindowCap)
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for _, m := range blocks {
			d.Reset(m, win)
			d.blockHeader()
			if d.err != nil || d.state != stateHuffman {
				b.Fatalf("block header: %v", d.err)
			}
		}
		n += len(blocks)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/block")
}

// BenchmarkMessages inflates the bench's messages direction by direction,
// each into its direction's window with context takeover, as wsproto
// does: the tables and the decoding that they serve, together.
func BenchmarkMessages(b *testing.B) {
	dirs := benchDirections(8, 400)
	plain := 0
	nmsgs := 0
	for _, dir := range dirs {
		plain += dir.plain
		nmsgs += len(dir.msgs)
	}
	var d Decoder
	wins := make([][]byte, len(dirs))
	for i := range wins {
		wins[i] = make([]byte, 0, WindowCap)
	}
	b.SetBytes(int64(plain))
	b.ResetTimer()
	for b.Loop() {
		for i, dir := range dirs {
			win := wins[i][:0]
			for _, m := range dir.msgs {
				d.Reset(m, win)
				for {
					_, err := d.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				win = d.Window()
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nmsgs), "ns/msg")
}

// TestBenchMessages checks the benchmarks' messages against compress/flate.
func TestBenchMessages(t *testing.T) {
	dirs := benchDirections(2, 64)
	var d Decoder
	for _, dir := range dirs {
		var hist []byte
		for _, m := range dir.msgs {
			if msg := same(&d, m, hist, WindowCap); msg != "" {
				t.Fatal(msg)
			}
			out, err := reference(m, hist, 1<<22)
			if err != io.EOF && err != io.ErrUnexpectedEOF {
				t.Fatalf("reference: %v", err)
			}
			hist = append(hist, out...)
			hist = hist[max(0, len(hist)-WindowSize):]
		}
	}
	if n := len(dynamicBlocks(dirs)); n == 0 {
		t.Fatal("no dynamic blocks")
	}
}

// blockCodes is the code lengths of a dynamic block: its code length
// code's and its literal/length and distance codes'.
type blockCodes struct {
	clens     [numPrecode]uint8
	lit, dist []uint8
}

// codesOf reads the code lengths of the dynamic blocks that start blocks.
func codesOf(tb testing.TB, blocks [][]byte) []blockCodes {
	var d Decoder
	win := make([]byte, 0, WindowCap)
	var out []blockCodes
	for _, m := range blocks {
		var c blockCodes
		v := binary.LittleEndian.Uint64(m) >> 3
		nlit := int(v&0x1f) + 257
		ndist := int(v>>5&0x1f) + 1
		nclen := int(v>>10&0xf) + 4
		for k := range nclen {
			p := 17 + 3*k // bits: the block's header, HLIT, HDIST, HCLEN
			c.clens[codeOrder[k]] = uint8(binary.LittleEndian.Uint16(m[p/8:]) >> (p % 8) & 7)
		}
		d.Reset(m, win)
		d.blockHeader()
		if d.err != nil || d.state != stateHuffman {
			tb.Fatalf("block header: %v", d.err)
		}
		n := nlit + ndist
		lens := append([]uint8(nil), d.lens[:n]...)
		c.lit, c.dist = lens[:nlit], lens[nlit:]
		out = append(out, c)
	}
	return out
}

// BenchmarkBuildTable builds the tables of the bench's dynamic blocks
// from their code lengths, each kind apart.
func BenchmarkBuildTable(b *testing.B) {
	codes := codesOf(b, dynamicBlocks(benchDirections(8, 400)))
	var d Decoder
	for _, kind := range []string{"lit", "dist", "precode"} {
		b.Run(kind, func(b *testing.B) {
			n := 0
			for b.Loop() {
				for i := range codes {
					c := &codes[i]
					var ok bool
					switch kind {
					case "lit":
						_, _, ok = buildTable(d.litTable[:], c.lit, &litMeaning, litRootBits, litSub, badEntry, &d.scratch)
					case "dist":
						_, _, ok = buildTable(d.distTable[:], c.dist, &distMeaning, distRootBits, distSub, badDistance, &d.scratch)
					default:
						_, _, ok = buildTable(d.precodeTable[:], c.clens[:], &precodeMeaning, precodeRootBits, 0, badEntry, &d.scratch)
					}
					if !ok {
						b.Fatal("buildTable refused a code")
					}
				}
				n += len(codes)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/table")
		})
	}
}
