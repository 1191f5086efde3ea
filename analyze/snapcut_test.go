package analyze_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/internal/bench"
)

// cutPcap returns a copy of the classic little-endian pcap file data with
// every packet cut to snap bytes, as `tcpdump -s snap` would have saved
// it, the number of bytes the cut removed and the number of the first
// packet it cut (0 when none).
func cutPcap(t *testing.T, data []byte, snap int) (_ []byte, removed, first int64) {
	t.Helper()
	if len(data) < 24 || binary.LittleEndian.Uint32(data) != 0xa1b2c3d4 && binary.LittleEndian.Uint32(data) != 0xa1b23c4d {
		t.Fatal("not a little-endian pcap file")
	}
	out := append([]byte(nil), data[:24]...)
	binary.LittleEndian.PutUint32(out[16:], uint32(snap))
	for n, rest := int64(1), data[24:]; len(rest) > 0; n++ {
		incl := int(binary.LittleEndian.Uint32(rest[8:]))
		keep := min(incl, snap)
		hdr := append([]byte(nil), rest[:16]...)
		binary.LittleEndian.PutUint32(hdr[8:], uint32(keep))
		out = append(out, hdr...)
		out = append(out, rest[16:16+keep]...)
		if keep < incl && first == 0 {
			first = n
		}
		removed += int64(incl - keep)
		rest = rest[16+incl:]
	}
	return out, removed, first
}

// maxHeaders is the longest run of bytes before a TCP payload in the
// capture: a snap length from there on keeps every packet decodable.
func maxHeaders(t *testing.T, data []byte) int {
	t.Helper()
	src, err := capture.NewReader(bytes.NewReader(data), "uncut.pcap")
	if err != nil {
		t.Fatal(err)
	}
	most := 0
	for {
		p, err := src.ReadPacket()
		if err != nil {
			break
		}
		var seg capture.Segment
		if !capture.DecodeTCP(&p, &seg) {
			t.Fatalf("packet %d is not TCP", p.Number)
		}
		most = max(most, len(p.Data)-len(seg.Payload))
	}
	return most
}

type dirKey struct {
	conn int
	from string
}

// TestSnapLengthFamily cuts every packet of generated captures (plain,
// and permessage-deflate with context takeover) to snap lengths from the
// bare headers up to longer than most packets, as captures taken with
// `tcpdump -s N` are, and checks what must hold whatever the length:
//
//   - each connection's tcp.close counts the bytes each side sent, as in
//     the whole capture (the packets' lengths say so);
//   - the gaps of a direction are in order, do not overlap, lie inside
//     what it sent, and add up to exactly the bytes the cut removed: no
//     captured byte is lost, no byte invented;
//   - every message decoded complete (neither truncated nor undecodable)
//     is one the whole capture has, with the same payload, in the same
//     order on its connection and side;
//   - every message the whole capture has whose packets all came before
//     the first packet cut is decoded, complete and the same;
//   - with nothing cut, the output is the whole capture's.
func TestSnapLengthFamily(t *testing.T) {
	for _, cfg := range []bench.Config{
		{Conns: 3, Messages: 40, Seed: 21},
		{Conns: 3, Messages: 40, Deflate: true, Records: true, Seed: 22},
	} {
		data := genBytes(t, cfg)
		whole := decodeEvents(t, data, 1)
		heads := maxHeaders(t, data)
		sent := map[dirKey]int64{}
		complete := map[dirKey][][]byte{}
		last := map[dirKey][]int64{} // each message's last packet
		for _, ev := range whole {
			switch ev.Type {
			case analyze.TypeTCPClose:
				sent[dirKey{ev.Conn, analyze.FromClient}] = ev.TCPClose.ClientBytes
				sent[dirKey{ev.Conn, analyze.FromServer}] = ev.TCPClose.ServerBytes
			case analyze.TypeTCPGap:
				t.Fatalf("deflate=%v: the whole capture has a gap: %s", cfg.Deflate, ev.AppendJSON(nil))
			case analyze.TypeWSMessage:
				k := dirKey{ev.Conn, ev.From}
				complete[k] = append(complete[k], ev.Message.Payload)
				last[k] = append(last[k], ev.Message.Packets[len(ev.Message.Packets)-1])
			}
		}
		rng := rand.New(rand.NewPCG(cfg.Seed, 5))
		snaps := []int{heads, heads + 1, heads + 2, heads + 14, 1 << 16}
		for range 8 {
			snaps = append(snaps, heads+rng.IntN(1600))
		}
		for _, snap := range snaps {
			t.Run(fmt.Sprintf("deflate=%v/snap=%d", cfg.Deflate, snap), func(t *testing.T) {
				cut, removed, first := cutPcap(t, data, snap)
				evs := decodeEvents(t, cut, 1)
				if removed == 0 {
					if len(evs) != len(whole) {
						t.Fatalf("nothing cut: %d events, the whole capture %d", len(evs), len(whole))
					}
					for i := range evs {
						if a, b := evs[i].AppendJSON(nil), whole[i].AppendJSON(nil); !bytes.Equal(a, b) {
							t.Fatalf("nothing cut: event %d is\n%s\nwant\n%s", i, a, b)
						}
					}
					return
				}
				var gaps int64
				got := map[dirKey][][]byte{} // the complete messages, in order
				next := map[dirKey]int{}
				order := streamGaps{} // FuzzPipeline's check: in order, within what tcp.close counts
				for _, ev := range evs {
					if err := order.check(&ev); err != nil {
						t.Errorf("event %s: %v", ev.AppendJSON(nil), err)
					}
					k := dirKey{ev.Conn, ev.From}
					switch ev.Type {
					case analyze.TypeTCPClose:
						c, s := sent[dirKey{ev.Conn, analyze.FromClient}], sent[dirKey{ev.Conn, analyze.FromServer}]
						if ev.TCPClose.ClientBytes != c || ev.TCPClose.ServerBytes != s {
							t.Errorf("conn %d: tcp.close counts %d and %d bytes sent, the whole capture %d and %d", ev.Conn, ev.TCPClose.ClientBytes, ev.TCPClose.ServerBytes, c, s)
						}
					case analyze.TypeTCPGap:
						if ev.TCPGap.Size <= 0 {
							t.Errorf("conn %d %s: a gap of %d bytes", ev.Conn, ev.From, ev.TCPGap.Size)
						}
						gaps += ev.TCPGap.Size
					case analyze.TypeWSMessage:
						m := ev.Message
						if m.Truncated || m.Undecodable {
							continue
						}
						want := complete[k]
						i := next[k]
						for i < len(want) && !bytes.Equal(want[i], m.Payload) {
							i++
						}
						if i == len(want) {
							t.Errorf("conn %d %s: complete message %.60q (packet %d) is none the whole capture has after its %d-th", ev.Conn, ev.From, m.Payload, ev.Packet, next[k])
							continue
						}
						next[k] = i + 1
						got[k] = append(got[k], m.Payload)
					}
				}
				if gaps != removed {
					t.Errorf("the gaps add up to %d bytes; the cut removed %d", gaps, removed)
				}
				for k, packets := range last {
					for i, p := range packets {
						if p >= first {
							break
						}
						if i >= len(got[k]) || !bytes.Equal(got[k][i], complete[k][i]) {
							t.Errorf("conn %d %s: message %d (last packet %d, before the first cut packet %d) is not decoded as in the whole capture", k.conn, k.from, i, p, first)
							break
						}
					}
				}
			})
		}
	}
}
