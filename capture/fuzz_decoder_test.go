package capture_test

import (
	"encoding/binary"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// fuzzDecoderOptions are small bounds, so that the fuzzer reaches them.
var fuzzDecoderOptions = capture.DecoderOptions{
	FragmentTimeout:         10 * time.Second,
	MaxFragmentBytes:        256 << 10,
	MaxFragmentBytesPerFlow: 128 << 10,
	MaxFragments:            64,
}

// FuzzDecoder feeds a sequence of packets on one link type through a
// Decoder: IP reassembly and tunnels. records is a run of packets, each
// a big-endian uint16 length, a time step in eighths of a second, and the
// bytes. Nothing panics; reassembly stays within its bounds; what is
// decoded and reported is well formed; Flush leaves nothing held.
func FuzzDecoder(f *testing.F) {
	known := []string{capture.CodeFragmentOverlap, capture.CodeFragmentConflict, capture.CodeBadFragment,
		capture.CodeFragmentIncomplete, capture.CodeFragmentLimit}
	f.Fuzz(func(t *testing.T, link uint8, records []byte) {
		d := capture.NewDecoder(fuzzDecoderOptions)
		now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
		checkReports := func() {
			for _, r := range d.Reports() {
				if len(r.Problems) == 0 {
					t.Fatalf("a report without problems: %+v", r)
				}
				for _, p := range r.Problems {
					if !slices.Contains(known, p.Code) || p.Msg == "" {
						t.Fatalf("report problem %+v", p)
					}
				}
				if r.Src.IsValid() != r.Dst.IsValid() {
					t.Fatalf("report endpoints %v %v", r.Src, r.Dst)
				}
			}
			b, n, dg := d.Held()
			if b > fuzzDecoderOptions.MaxFragmentBytes || n > fuzzDecoderOptions.MaxFragments || dg > fuzzDecoderOptions.MaxFragments || b < 0 || n < 0 {
				t.Fatalf("reassembly holds %d bytes, %d fragments, %d datagrams: past its bounds", b, n, dg)
			}
		}
		for num := int64(1); len(records) >= 3; num++ {
			n := int(binary.BigEndian.Uint16(records))
			now = now.Add(time.Duration(records[2]) * time.Second / 8)
			records = records[3:]
			n = min(n, len(records))
			data := records[:n]
			records = records[n:]
			p := capture.Packet{Number: num, Timestamp: now, LinkType: capture.LinkType(link), Data: data, Length: len(data)}
			var seg capture.Segment
			ok := d.Decode(&p, &seg)
			checkReports()
			if !ok {
				continue
			}
			if seg.Missing < 0 || len(seg.Payload) > 65535 || !seg.Src.IsValid() || seg.Src.Addr().Is4() != seg.Dst.Addr().Is4() {
				t.Fatalf("segment %v > %v, %d bytes, missing %d", seg.Src, seg.Dst, len(seg.Payload), seg.Missing)
			}
			if o := seg.Outer; o != nil {
				if len(o.Tunnel) == 0 && o.Fragments == 0 {
					t.Fatalf("Outer %+v says nothing", o)
				}
				for _, p := range o.Problems {
					if !slices.Contains(known, p.Code) || p.Msg == "" {
						t.Fatalf("segment problem %+v", p)
					}
				}
			}
		}
		d.Flush()
		checkReports()
		if b, n, dg := d.Held(); b != 0 || n != 0 || dg != 0 {
			t.Fatalf("after Flush reassembly holds %d bytes, %d fragments, %d datagrams", b, n, dg)
		}
	})
}

// decoderSeed turns a capture into FuzzDecoder's arguments: its link type
// and its packets as records.
func decoderSeed(c *capturetest.Capture) (link uint8, records []byte) {
	f := c.Open()
	for {
		p, err := f.ReadPacket()
		if err == io.EOF {
			return link, records
		}
		if err != nil {
			panic(err)
		}
		link = uint8(p.LinkType)
		records = binary.BigEndian.AppendUint16(records, uint16(len(p.Data)))
		records = append(records, 1)
		records = append(records, p.Data...)
	}
}

// decoderSeeds are FuzzDecoder's seeds: short conversations in fragments
// (in order, overlapping, incomplete) and in each tunnel.
func decoderSeeds() map[string][]byte {
	conv := func(k *capturetest.Conn) {
		k.Handshake()
		k.Client([]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
		k.Server([]byte("HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x05hello"))
		k.CloseFIN(true)
	}
	seeds := map[string][]byte{}
	add := func(name string, opts capturetest.Options, v6 bool, script func(k *capturetest.Conn)) {
		c := capturetest.NewCapture(opts)
		client, server := "10.0.0.1:50000", "10.0.0.2:80"
		if v6 {
			client, server = "[2001:db8::1]:50000", "[2001:db8::2]:80"
		}
		k := c.Conn(client, server)
		script(k)
		conv(k)
		link, records := decoderSeed(c)
		seeds[name] = append([]byte{link}, records...)
	}
	add("fragments-ipv4", capturetest.Options{}, false, func(k *capturetest.Conn) { k.SetFragmenter(capturetest.Fragments(16, capturetest.Reverse)) })
	add("fragments-ipv6", capturetest.Options{LinkType: capture.LinkTypeRaw}, true, func(k *capturetest.Conn) { k.SetFragmenter(capturetest.Fragments(24, nil)) })
	add("fragments-overlapping", capturetest.Options{}, false, func(k *capturetest.Conn) {
		k.SetFragmenter(func(ip []byte) [][]byte {
			n := len(ip) - 20
			if n < 40 {
				return nil
			}
			return [][]byte{capturetest.Fragment(ip, 0, 24, true, nil), capturetest.Fragment(ip, 16, 32, true, []byte("conflicting byte")),
				capturetest.Fragment(ip, 8, 16, true, nil), capturetest.Fragment(ip, 32, n, false, nil)}
		})
	})
	add("fragments-incomplete", capturetest.Options{}, false, func(k *capturetest.Conn) {
		k.SetFragmenter(func(ip []byte) [][]byte {
			if len(ip)-20 < 40 {
				return nil
			}
			return [][]byte{capturetest.Fragment(ip, 0, 24, true, nil)}
		})
	})
	for _, tc := range []struct {
		name    string
		v6      bool
		tunnels []capturetest.Tunnel
	}{
		{"gre-keyed-sequenced", false, []capturetest.Tunnel{{Kind: capture.TunnelGRE, Src: "1.1.1.1", Dst: "2.2.2.2", Key: 5, HasKey: true, Sequence: true, Checksum: true}}},
		{"vxlan", false, []capturetest.Tunnel{{Kind: capture.TunnelVXLAN, Src: "1.1.1.1", Dst: "2.2.2.2", VNI: 42}}},
		{"geneve-options", false, []capturetest.Tunnel{{Kind: capture.TunnelGeneve, Src: "1.1.1.1", Dst: "2.2.2.2", VNI: 7, GeneveOptions: 8, Ethernet: true}}},
		{"ipip", false, []capturetest.Tunnel{{Kind: capture.TunnelIPIP, Src: "1.1.1.1", Dst: "2.2.2.2"}}},
		{"6in4", true, []capturetest.Tunnel{{Kind: capture.Tunnel6in4, Src: "1.1.1.1", Dst: "2.2.2.2"}}},
		{"gre-over-ipv6-ethernet", false, []capturetest.Tunnel{{Kind: capture.TunnelGRE, Src: "2001:db8::a", Dst: "2001:db8::b", Ethernet: true}}},
		{"mpls-in-gre", false, []capturetest.Tunnel{{Kind: capture.TunnelGRE, Src: "1.1.1.1", Dst: "2.2.2.2"}, {Kind: capture.TunnelMPLS, Label: 16}}},
	} {
		add(tc.name, capturetest.Options{VLANs: []uint16{3}}, tc.v6, func(k *capturetest.Conn) { k.SetTunnels(nil, tc.tunnels...) })
	}
	add("vxlan-outer-fragments", capturetest.Options{}, false, func(k *capturetest.Conn) {
		k.SetTunnels(capturetest.Fragments(48, nil), capturetest.Tunnel{Kind: capture.TunnelVXLAN, Src: "1.1.1.1", Dst: "2.2.2.2", VNI: 1})
	})
	return seeds
}
