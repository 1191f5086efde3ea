package capture_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
	"github.com/wsviz/wsviz/capture/filter"
)

// decoded is what a Decoder made of a capture: the segments' payloads per
// direction, in order, the tunnels of the first segment, and what was
// reported.
type decoded struct {
	client, server []byte
	segments       int
	tunnel         []capture.Tunnel
	fragments      int // of the segments that came in fragments
	problems       []string
	reports        []string
}

// decodeAll runs a capture through a Decoder.
func decodeAll(t *testing.T, c *capturetest.Capture, client string, opts capture.DecoderOptions) decoded {
	t.Helper()
	f := c.Open()
	d := capture.NewDecoder(opts)
	var out decoded
	cl := netip.MustParseAddrPort(client)
	report := func() {
		for _, r := range d.Reports() {
			for _, p := range r.Problems {
				out.reports = append(out.reports, p.Code)
				if !strings.Contains(p.Msg, "RFC") && p.Code != capture.CodeFragmentLimit {
					t.Errorf("report %s: message %q names no RFC", p.Code, p.Msg)
				}
			}
			if r.Problems[0].Code == capture.CodeFragmentIncomplete && (r.Src != cl && r.Dst != cl) {
				t.Errorf("report %s about %v → %v, not the connection of %v", r.Problems[0].Code, r.Src, r.Dst, cl)
			}
		}
	}
	for {
		p, err := f.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var seg capture.Segment
		ok := d.Decode(&p, &seg)
		report()
		if !ok {
			continue
		}
		out.segments++
		if seg.Src == cl {
			out.client = append(out.client, seg.Payload...)
		} else {
			out.server = append(out.server, seg.Payload...)
		}
		if o := seg.Outer; o != nil {
			if out.tunnel == nil {
				out.tunnel = slices.Clone(o.Tunnel)
			}
			out.fragments += o.Fragments
			for _, p := range o.Problems {
				out.problems = append(out.problems, p.Code)
			}
		}
	}
	d.Flush()
	report()
	return out
}

// session scripts the same short conversation on every connection: a
// handshake, a request and a response longer than any fragment size used
// here, and FINs.
func session(k *capturetest.Conn) {
	k.Handshake()
	k.Client(bytes.Repeat([]byte("request "), 300))
	k.Server(bytes.Repeat([]byte("the response "), 500))
	k.CloseFIN(true)
	k.CloseFIN(false)
}

// TestDecoderFragments reassembles IPv4 and IPv6 datagrams cut into
// fragments written in order, in reverse, last first and twice over, and
// checks that the streams are those of the unfragmented capture.
func TestDecoderFragments(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		client, server := "192.0.2.1:40000", "198.51.100.7:8080"
		if v6 {
			client, server = "[2001:db8::1]:40000", "[2001:db8::2]:8080"
		}
		plain := capturetest.NewCapture(capturetest.Options{})
		session(plain.Conn(client, server))
		want := decodeAll(t, plain, client, capture.DecoderOptions{})
		for _, tc := range []struct {
			name       string
			fragmenter func(ip []byte) [][]byte
		}{
			{"in order", capturetest.Fragments(512, nil)},
			{"reversed", capturetest.Fragments(256, capturetest.Reverse)},
			{"last first", capturetest.Fragments(504, capturetest.LastFirst)},
			{"tiny", capturetest.Fragments(8, nil)},
			{"every fragment twice", func(ip []byte) [][]byte {
				// A capture on Linux's "any" sees each packet twice.
				var out [][]byte
				for _, f := range capturetest.Fragments(512, nil)(ip) {
					out = append(out, f, f)
				}
				return out
			}},
		} {
			t.Run(fmt.Sprintf("v6=%v/%s", v6, tc.name), func(t *testing.T) {
				c := capturetest.NewCapture(capturetest.Options{})
				k := c.Conn(client, server)
				k.SetFragmenter(tc.fragmenter)
				session(k)
				got := decodeAll(t, c, client, capture.DecoderOptions{})
				if !bytes.Equal(got.client, want.client) || !bytes.Equal(got.server, want.server) || got.segments != want.segments {
					t.Errorf("reassembled %d segments, %d and %d bytes; want %d, %d and %d", got.segments, len(got.client), len(got.server), want.segments, len(want.client), len(want.server))
				}
				if got.fragments == 0 || len(got.problems) > 0 || len(got.reports) > 0 {
					t.Errorf("%d fragments, problems %v, reports %v; want fragments and no problem", got.fragments, got.problems, got.reports)
				}
			})
		}
	}
}

// fragmentScript is a capture of IP fragments for TestDecoderFragmentProblems.
type fragmentScript func(ip []byte) [][]byte

// TestDecoderFragmentProblems checks what is reported of overlapping,
// conflicting, malformed and missing fragments, and what is kept.
func TestDecoderFragmentProblems(t *testing.T) {
	var cut int // packets the script cut
	big := func(ip []byte) bool {
		if len(ip) < 1000 {
			return false
		}
		cut++
		return true
	}
	for _, v6 := range []bool{false, true} {
		client, server := "192.0.2.1:40000", "198.51.100.7:8080"
		if v6 {
			client, server = "[2001:db8::1]:40000", "[2001:db8::2]:8080"
		}
		plain := capturetest.NewCapture(capturetest.Options{})
		session(plain.Conn(client, server))
		want := decodeAll(t, plain, client, capture.DecoderOptions{})
		for _, tc := range []struct {
			name     string
			script   fragmentScript
			problems []string // on each segment cut
			reports  []string // for each segment cut
			same     bool     // the streams are the plain ones
		}{
			{"overlap with the same bytes", func(ip []byte) [][]byte {
				if !big(ip) {
					return nil
				}
				n := payloadLen(ip)
				return [][]byte{
					capturetest.Fragment(ip, 0, 512, true, nil),
					capturetest.Fragment(ip, 256, 768, true, nil),
					capturetest.Fragment(ip, 768, n, false, nil),
				}
			}, []string{capture.CodeFragmentOverlap}, nil, true},
			{"overlap with other bytes: the first copy wins", func(ip []byte) [][]byte {
				if !big(ip) {
					return nil
				}
				n := payloadLen(ip)
				return [][]byte{
					capturetest.Fragment(ip, 0, 512, true, nil),
					capturetest.Fragment(ip, 256, 512, true, bytes.Repeat([]byte("X"), 256)),
					capturetest.Fragment(ip, 512, n, false, nil),
				}
			}, []string{capture.CodeFragmentConflict}, nil, true},
			{"a malformed fragment", func(ip []byte) [][]byte {
				if !big(ip) {
					return nil
				}
				n := payloadLen(ip)
				bad := capturetest.Fragment(ip, 0, 512, true, nil)
				bad = bad[:len(bad)-3] // 509 bytes, and more to come
				fixLength(bad)
				return [][]byte{bad, capturetest.Fragment(ip, 0, 512, true, nil), capturetest.Fragment(ip, 512, n, false, nil)}
			}, []string{capture.CodeBadFragment}, nil, true},
			{"a fragment never captured", func(ip []byte) [][]byte {
				if !big(ip) {
					return nil
				}
				return [][]byte{capturetest.Fragment(ip, 0, 512, true, nil)}
			}, nil, []string{capture.CodeFragmentIncomplete}, false},
		} {
			t.Run(fmt.Sprintf("v6=%v/%s", v6, tc.name), func(t *testing.T) {
				c := capturetest.NewCapture(capturetest.Options{})
				k := c.Conn(client, server)
				k.SetFragmenter(tc.script)
				cut = 0
				session(k)
				got := decodeAll(t, c, client, capture.DecoderOptions{})
				if same := bytes.Equal(got.client, want.client) && bytes.Equal(got.server, want.server); same != tc.same {
					t.Errorf("streams of %d and %d bytes, the plain ones: %v, want %v", len(got.client), len(got.server), same, tc.same)
				}
				wantProblems, wantReports := slices.Repeat(tc.problems, cut), slices.Repeat(tc.reports, cut)
				if cut < 3 || !slices.Equal(got.problems, wantProblems) || !slices.Equal(got.reports, wantReports) {
					t.Errorf("%d packets cut: problems %v, reports %v; want %v, %v", cut, got.problems, got.reports, wantProblems, wantReports)
				}
			})
		}
	}
}

// payloadLen is the length of an IP packet's payload.
func payloadLen(ip []byte) int {
	if ip[0]>>4 == 4 {
		return len(ip) - int(ip[0]&0x0f)*4
	}
	return len(ip) - 40
}

// fixLength rewrites the length field of an IP packet cut short.
func fixLength(ip []byte) {
	if ip[0]>>4 == 4 {
		binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
		return
	}
	binary.BigEndian.PutUint16(ip[4:], uint16(len(ip)-40))
}

// TestDecoderFragmentTimeout gives up a datagram whose fragments waited
// past the timeout, in capture time, and reports it then.
func TestDecoderFragmentTimeout(t *testing.T) {
	c := capturetest.NewCapture(capturetest.Options{})
	k := c.Conn("192.0.2.1:40000", "198.51.100.7:8080")
	k.Handshake()
	k.SetFragmenter(func(ip []byte) [][]byte {
		if payloadLen(ip) < 100 {
			return nil
		}
		return [][]byte{capturetest.Fragment(ip, 0, 64, true, nil)} // the rest never comes
	})
	k.Client(bytes.Repeat([]byte("r"), 200))
	k.SetFragmenter(nil)
	c.Advance(capture.DefaultFragmentTimeout)
	k.Client([]byte("later"))
	f := c.Open()
	d := capture.NewDecoder(capture.DecoderOptions{})
	var at []int64
	for {
		p, err := f.ReadPacket()
		if err != nil {
			break
		}
		var seg capture.Segment
		d.Decode(&p, &seg)
		for _, r := range d.Reports() {
			at = append(at, p.Number)
			if r.Problems[0].Code != capture.CodeFragmentIncomplete || r.Src.String() != "192.0.2.1:40000" || !strings.Contains(r.Problems[0].Msg, "within 30s") {
				t.Errorf("report %+v, want the client's segment incomplete within 30s", r)
			}
		}
	}
	d.Flush()
	if !slices.Equal(at, []int64{5}) || len(d.Reports()) != 0 {
		t.Errorf("reports at packets %v and %d at the end, want one at packet 5 (the first after the timeout)", at, len(d.Reports()))
	}
}

// TestDecoderFragmentFlood sends thousands of first fragments that never
// complete, from many addresses: reassembly stays within its bounds,
// reports the drops at most once per timeout, and the connection's own
// fragmented datagrams still complete.
func TestDecoderFragmentFlood(t *testing.T) {
	opts := capture.DecoderOptions{MaxFragmentBytes: 1 << 20, MaxFragmentBytesPerFlow: 256 << 10, MaxFragments: 512}
	d := capture.NewDecoder(opts)
	start := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	var limitReports, n int
	for i := range 20000 {
		// A fragment at offset 65000, 8 bytes, each of its own datagram.
		ip := make([]byte, 28)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], 28)
		binary.BigEndian.PutUint16(ip[4:], uint16(i))
		binary.BigEndian.PutUint16(ip[6:], 0x2000|65000/8)
		ip[9] = 6
		copy(ip[12:], []byte{10, byte(i >> 8 & 3), byte(i), 1})
		copy(ip[16:], []byte{10, 9, 9, 9})
		p := capture.Packet{Number: int64(i + 1), Timestamp: start.Add(time.Duration(i) * time.Millisecond), LinkType: capture.LinkTypeRaw, Data: ip, Length: len(ip)}
		var seg capture.Segment
		if d.Decode(&p, &seg) {
			t.Fatalf("packet %d: a lone fragment decoded as a segment", i+1)
		}
		for _, r := range d.Reports() {
			n++
			if r.Problems[0].Code == capture.CodeFragmentLimit {
				limitReports++
			}
		}
	}
	// 20 seconds of capture time: one report at the first drop.
	if limitReports != 1 || n != 1 {
		t.Errorf("%d limit reports of %d, want 1", limitReports, n)
	}
	d.Flush()
	if r := d.Reports(); len(r) != 1 || r[0].Problems[0].Code != capture.CodeFragmentLimit {
		t.Errorf("Flush: reports %+v, want the drops since the last report", r)
	}
}

// TestDecoderTunnels decodes the same session inside each tunnel: the
// inner streams are those of the plain capture, and Outer lists the
// tunnels.
func TestDecoderTunnels(t *testing.T) {
	client, server := "192.168.0.1:40000", "192.168.0.2:8080"
	plain := capturetest.NewCapture(capturetest.Options{})
	session(plain.Conn(client, server))
	want := decodeAll(t, plain, client, capture.DecoderOptions{})
	addr := netip.MustParseAddr
	for _, tc := range []struct {
		name    string
		opts    capturetest.Options
		client  string
		server  string
		tunnels []capturetest.Tunnel
		outer   func(ip []byte) [][]byte
		want    []capture.Tunnel
	}{
		{name: "gre", tunnels: []capturetest.Tunnel{{Kind: capture.TunnelGRE, Src: "10.0.0.1", Dst: "10.0.0.2"}},
			want: []capture.Tunnel{{Kind: capture.TunnelGRE, Src: addr("10.0.0.1"), Dst: addr("10.0.0.2")}}},
		{name: "gre keyed sequenced with checksum", tunnels: []capturetest.Tunnel{{Kind: capture.TunnelGRE, Src: "10.0.0.1", Dst: "10.0.0.2", Key: 7, HasKey: true, Sequence: true, Checksum: true}},
			want: []capture.Tunnel{{Kind: capture.TunnelGRE, Src: addr("10.0.0.1"), Dst: addr("10.0.0.2"), Key: 7, HasKey: true}}},
		{name: "gre ethernet over ipv6", tunnels: []capturetest.Tunnel{{Kind: capture.TunnelGRE, Src: "2001:db8::a", Dst: "2001:db8::b", Ethernet: true}},
			want: []capture.Tunnel{{Kind: capture.TunnelGRE, Src: addr("2001:db8::a"), Dst: addr("2001:db8::b")}}},
		{name: "vxlan", tunnels: []capturetest.Tunnel{{Kind: capture.TunnelVXLAN, Src: "10.0.0.1", Dst: "10.0.0.2", VNI: 42}},
			want: []capture.Tunnel{{Kind: capture.TunnelVXLAN, Src: addr("10.0.0.1"), Dst: addr("10.0.0.2"), VNI: 42}}},
		{name: "vxlan in qinq, outer fragmented", opts: capturetest.Options{VLANs: []uint16{100, 200}},
			tunnels: []capturetest.Tunnel{{Kind: capture.TunnelVXLAN, Src: "10.0.0.1", Dst: "10.0.0.2", VNI: 42}},
			outer:   capturetest.Fragments(1000, nil),
			want:    []capture.Tunnel{{Kind: capture.TunnelVXLAN, Src: addr("10.0.0.1"), Dst: addr("10.0.0.2"), VNI: 42}}},
		{name: "geneve with options", tunnels: []capturetest.Tunnel{{Kind: capture.TunnelGeneve, Src: "10.0.0.1", Dst: "10.0.0.2", VNI: 9, GeneveOptions: 8}},
			want: []capture.Tunnel{{Kind: capture.TunnelGeneve, Src: addr("10.0.0.1"), Dst: addr("10.0.0.2"), VNI: 9}}},
		{name: "geneve ethernet", tunnels: []capturetest.Tunnel{{Kind: capture.TunnelGeneve, Src: "10.0.0.1", Dst: "10.0.0.2", VNI: 9, Ethernet: true}},
			want: []capture.Tunnel{{Kind: capture.TunnelGeneve, Src: addr("10.0.0.1"), Dst: addr("10.0.0.2"), VNI: 9}}},
		{name: "ipip", tunnels: []capturetest.Tunnel{{Kind: capture.TunnelIPIP, Src: "10.0.0.1", Dst: "10.0.0.2"}},
			want: []capture.Tunnel{{Kind: capture.TunnelIPIP, Src: addr("10.0.0.1"), Dst: addr("10.0.0.2")}}},
		{name: "6in4", client: "[2001:db8::1]:40000", server: "[2001:db8::2]:8080", tunnels: []capturetest.Tunnel{{Kind: capture.Tunnel6in4, Src: "10.0.0.1", Dst: "10.0.0.2"}},
			want: []capture.Tunnel{{Kind: capture.Tunnel6in4, Src: addr("10.0.0.1"), Dst: addr("10.0.0.2")}}},
		{name: "4in6", tunnels: []capturetest.Tunnel{{Kind: capture.Tunnel4in6, Src: "2001:db8::a", Dst: "2001:db8::b"}},
			want: []capture.Tunnel{{Kind: capture.Tunnel4in6, Src: addr("2001:db8::a"), Dst: addr("2001:db8::b")}}},
		{name: "6in6", client: "[2001:db8::1]:40000", server: "[2001:db8::2]:8080", tunnels: []capturetest.Tunnel{{Kind: capture.Tunnel6in6, Src: "2001:db8::a", Dst: "2001:db8::b"}},
			want: []capture.Tunnel{{Kind: capture.Tunnel6in6, Src: addr("2001:db8::a"), Dst: addr("2001:db8::b")}}},
		{name: "mpls", tunnels: []capturetest.Tunnel{{Kind: capture.TunnelMPLS, Label: 100}, {Kind: capture.TunnelMPLS, Label: 200}},
			want: []capture.Tunnel{{Kind: capture.TunnelMPLS, Label: 100}, {Kind: capture.TunnelMPLS, Label: 200}}},
		{name: "mpls in gre in vxlan", tunnels: []capturetest.Tunnel{
			{Kind: capture.TunnelVXLAN, Src: "10.0.0.1", Dst: "10.0.0.2", VNI: 1},
			{Kind: capture.TunnelGRE, Src: "172.16.0.1", Dst: "172.16.0.2"},
			{Kind: capture.TunnelMPLS, Label: 16}},
			want: []capture.Tunnel{
				{Kind: capture.TunnelVXLAN, Src: addr("10.0.0.1"), Dst: addr("10.0.0.2"), VNI: 1},
				{Kind: capture.TunnelGRE, Src: addr("172.16.0.1"), Dst: addr("172.16.0.2")},
				{Kind: capture.TunnelMPLS, Label: 16}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl, sv := client, server
			if tc.client != "" {
				cl, sv = tc.client, tc.server
			}
			ref := want
			if tc.client != "" {
				p := capturetest.NewCapture(capturetest.Options{})
				session(p.Conn(cl, sv))
				ref = decodeAll(t, p, cl, capture.DecoderOptions{})
			}
			c := capturetest.NewCapture(tc.opts)
			k := c.Conn(cl, sv)
			k.SetTunnels(tc.outer, tc.tunnels...)
			session(k)
			got := decodeAll(t, c, cl, capture.DecoderOptions{})
			if !bytes.Equal(got.client, ref.client) || !bytes.Equal(got.server, ref.server) || got.segments != ref.segments {
				t.Errorf("decoded %d segments, %d and %d bytes; want %d, %d and %d", got.segments, len(got.client), len(got.server), ref.segments, len(ref.client), len(ref.server))
			}
			if !slices.Equal(got.tunnel, tc.want) {
				t.Errorf("tunnels %+v, want %+v", got.tunnel, tc.want)
			}
			if len(got.problems) > 0 || len(got.reports) > 0 {
				t.Errorf("problems %v, reports %v", got.problems, got.reports)
			}
			// DecodeTCP unwraps the same tunnels, without recording
			// them, and without reassembly.
			if tc.outer == nil {
				f := c.Open()
				p, _ := f.ReadPacket()
				var seg capture.Segment
				if !capture.DecodeTCP(&p, &seg) || seg.Src.String() != cl || seg.Outer != nil {
					t.Errorf("DecodeTCP(first packet) = %v from %v, Outer %v", seg, seg.Src, seg.Outer)
				}
			}
		})
	}
}

// TestDecoderDoesNotAllocate checks the plain path: no allocation per
// packet, and no Outer.
func TestDecoderDoesNotAllocate(t *testing.T) {
	d := capture.NewDecoder(capture.DecoderOptions{})
	for _, v6 := range []bool{false, true} {
		p := benchPacket(v6)
		var seg capture.Segment
		if allocs := testing.AllocsPerRun(100, func() { d.Decode(&p, &seg) }); allocs != 0 || seg.Outer != nil {
			t.Errorf("Decoder.Decode(v6=%v) allocates %v times, Outer %v; want 0 and nil", v6, allocs, seg.Outer)
		}
	}
}

func BenchmarkDecoder(b *testing.B) {
	for _, v6 := range []bool{false, true} {
		b.Run(fmt.Sprintf("v6=%v", v6), func(b *testing.B) {
			p := benchPacket(v6)
			d := capture.NewDecoder(capture.DecoderOptions{})
			var seg capture.Segment
			b.ReportAllocs()
			for b.Loop() {
				if !d.Decode(&p, &seg) {
					b.Fatal("Decode() = false")
				}
			}
		})
	}
}

// TestDecoderFilter checks that a filter keeps what it matches at any
// level: the captured packet, the packet inside a tunnel, the datagram
// reassembled from fragments; and that what it drops is not reported.
func TestDecoderFilter(t *testing.T) {
	c := capturetest.NewCapture(capturetest.Options{})
	tunnelled := c.Conn("192.168.0.1:40000", "192.168.0.2:8080")
	tunnelled.SetTunnels(nil, capturetest.Tunnel{Kind: capture.TunnelVXLAN, Src: "10.0.0.1", Dst: "10.0.0.2", VNI: 42})
	fragmented := c.Conn("192.0.2.1:40001", "192.0.2.2:9001")
	fragmented.SetFragmenter(capturetest.Fragments(256, capturetest.Reverse))
	plain := c.Conn("192.0.2.1:40002", "192.0.2.2:22")
	lost := c.Conn("192.0.2.1:40003", "192.0.2.2:7000")
	lost.SetFragmenter(func(ip []byte) [][]byte {
		if payloadLen(ip) < 100 {
			return nil
		}
		return [][]byte{capturetest.Fragment(ip, 0, 64, true, nil)} // never completes
	})
	for _, k := range []*capturetest.Conn{tunnelled, fragmented, plain, lost} {
		session(k)
	}
	for _, tc := range []struct {
		expr    string
		ports   []uint16 // the server ports of the segments kept
		reports int
	}{
		{"", []uint16{8080, 9001, 22, 7000}, 7}, // the 7 datagrams of port 7000 never complete
		{"port 8080", []uint16{8080}, 0},
		{"host 10.0.0.1", []uint16{8080}, 0},
		{"udp port 4789", []uint16{8080}, 0},
		{"tcp port 9001", []uint16{9001}, 0},
		{"port 22", []uint16{22}, 0},
		{"port 7000", []uint16{7000}, 7},
		{"not port 22 and not port 7000", []uint16{8080, 9001}, 0},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			d := capture.NewDecoder(capture.DecoderOptions{Filter: filter.MustParse(tc.expr)})
			f := c.Open()
			var ports []uint16
			reports := 0
			for {
				p, err := f.ReadPacket()
				if err != nil {
					break
				}
				var seg capture.Segment
				if d.Decode(&p, &seg) {
					port := min(seg.Src.Port(), seg.Dst.Port())
					if !slices.Contains(ports, port) {
						ports = append(ports, port)
					}
				}
				reports += len(d.Reports())
			}
			d.Flush()
			reports += len(d.Reports())
			if !slices.Equal(ports, tc.ports) || reports != tc.reports {
				t.Errorf("filter %q kept server ports %v and %d reports, want %v and %d", tc.expr, ports, reports, tc.ports, tc.reports)
			}
		})
	}
}

// BenchmarkDecoderFlood decodes fragments that never complete, as the
// hostile capture fragment-flood (internal/bench) sends them, in turn:
// first fragments from many sources, fragments at byte 65,000 from many
// sources (each makes its datagram 64 KiB long), and the same from one
// source. Reassembly gives up the oldest datagrams at its bounds.
func BenchmarkDecoderFlood(b *testing.B) {
	const n = 1 << 14
	packets := make([]capture.Packet, n)
	start := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range packets {
		ip := make([]byte, 20+48)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
		binary.BigEndian.PutUint16(ip[4:], uint16(i*7919))
		off := 65000 / 8
		if i%3 == 0 {
			off = 0
		}
		binary.BigEndian.PutUint16(ip[6:], 0x2000|uint16(off))
		ip[9] = 6
		copy(ip[12:], []byte{11, byte(i >> 16), byte(i >> 8), byte(i)})
		if i%3 == 2 {
			copy(ip[12:], []byte{11, 255, 255, 1})
		}
		copy(ip[16:], []byte{10, 1, 0, 1})
		packets[i] = capture.Packet{Number: int64(i + 1), Timestamp: start.Add(time.Duration(i) * 10 * time.Microsecond), LinkType: capture.LinkTypeRaw, Data: ip, Length: len(ip)}
	}
	d := capture.NewDecoder(capture.DecoderOptions{})
	var seg capture.Segment
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := packets[i%n]
		p.Timestamp = start.Add(time.Duration(i) * 10 * time.Microsecond)
		d.Decode(&p, &seg)
		i++
	}
}

// BenchmarkDecoderFlowFlood: 8,000 datagrams from other sources wait,
// then one source floods fragments at byte 65,000, past its bound per
// pair of addresses: each fragment gives up that source's oldest datagram.
func BenchmarkDecoderFlowFlood(b *testing.B) {
	start := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	fragment := func(i int, src [4]byte, off int) capture.Packet {
		ip := make([]byte, 20+48)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
		binary.BigEndian.PutUint16(ip[4:], uint16(i))
		binary.BigEndian.PutUint16(ip[6:], 0x2000|uint16(off/8))
		ip[9] = 6
		copy(ip[12:], src[:])
		copy(ip[16:], []byte{10, 1, 0, 1})
		return capture.Packet{Number: int64(i + 1), Timestamp: start, LinkType: capture.LinkTypeRaw, Data: ip, Length: len(ip)}
	}
	d := capture.NewDecoder(capture.DecoderOptions{})
	var seg capture.Segment
	for i := range 8000 {
		p := fragment(i, [4]byte{11, 0, byte(i >> 8), byte(i)}, 0)
		d.Decode(&p, &seg)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := fragment(i, [4]byte{11, 255, 255, 1}, 65000)
		d.Decode(&p, &seg)
		i++
	}
}

// TestDecoderReusesBuffers interleaves a connection whose datagrams come
// in fragments, last first, with fragments of other datagrams that never
// complete, full of 0xee bytes, given up at a small bound: their buffers
// are reused for the connection's datagrams, whose bytes must still be
// exactly those sent, with no overlap reported.
func TestDecoderReusesBuffers(t *testing.T) {
	client, server := "192.0.2.1:40000", "198.51.100.7:8080"
	plain := capturetest.NewCapture(capturetest.Options{})
	script := func(k, noise *capturetest.Conn) {
		k.Handshake()
		for i := range 20 {
			if noise != nil {
				noise.Client(bytes.Repeat([]byte{0xee}, 1400))
			}
			k.Client(bytes.Repeat([]byte{'a' + byte(i)}, 1448))
			k.Server(bytes.Repeat([]byte{'A' + byte(i)}, 700+i))
		}
		k.CloseFIN(true)
		k.CloseFIN(false)
	}
	script(plain.Conn(client, server), nil)
	want := decodeAll(t, plain, client, capture.DecoderOptions{})

	c := capturetest.NewCapture(capturetest.Options{})
	k := c.Conn(client, server)
	k.SetFragmenter(capturetest.Fragments(512, capturetest.LastFirst))
	noise := c.Conn("203.0.113.9:5000", server)
	noise.SetFragmenter(func(ip []byte) [][]byte {
		if payloadLen(ip) < 1416 {
			return nil
		}
		return [][]byte{capturetest.Fragment(ip, 8, 1416, true, nil)} // never completes
	})
	script(k, noise)
	got := decodeAll(t, c, client, capture.DecoderOptions{MaxFragments: 6})
	if !bytes.Equal(got.client, want.client) || !bytes.Equal(got.server, want.server) {
		t.Errorf("reassembled %d and %d bytes, want the %d and %d sent", len(got.client), len(got.server), len(want.client), len(want.server))
	}
	if len(got.problems) > 0 || !slices.Contains(got.reports, capture.CodeFragmentLimit) {
		t.Errorf("problems %v, reports %v; want none, and the noise given up at the bound", got.problems, got.reports)
	}
}
