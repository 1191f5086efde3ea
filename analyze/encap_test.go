package analyze

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// encapDir holds one capture per way of carrying a WebSocket session that
// is more than plain IP packets: IP fragments (in order, out of order,
// overlapping) and each tunnel. TestEncapsulations writes them (with
// -update) and checks that wsviz sees the plain session in each; wsviz's
// golden tests pin their events.
var encapDir = filepath.Join("..", "testdata", "encap")

// encapSession scripts the session: an upgrade, a masked client message
// of 2990 bytes (three segments), a server message, a ping and its pong,
// the closing handshake: six messages.
func encapSession(k *capturetest.Conn) {
	k.Handshake()
	k.Client(analyzetest.Request("/chat"))
	k.Server(analyzetest.Response())
	k.Client(analyzetest.Text(true, strings.Repeat("a line of a long message; ", 115)))
	k.Server(analyzetest.Text(false, `{"ok":true}`))
	k.Server(analyzetest.Frame{Fin: true, Opcode: analyzetest.OpPing, Payload: []byte("hb")}.Bytes())
	k.Client(analyzetest.Frame{Fin: true, Opcode: analyzetest.OpPong, Mask: mask, Payload: []byte("hb")}.Bytes())
	closeAll(k)
}

// encapsulations are the captures of encapDir.
var encapsulations = []struct {
	name           string
	opts           capturetest.Options
	client, server string
	script         func(k *capturetest.Conn)
	tunnel         string // the kinds tcp.open lists
}{
	{name: "fragments-ipv4-in-order", script: func(k *capturetest.Conn) { k.SetFragmenter(capturetest.Fragments(512, nil)) }},
	{name: "fragments-ipv4-reversed", script: func(k *capturetest.Conn) { k.SetFragmenter(capturetest.Fragments(504, capturetest.Reverse)) }},
	{name: "fragments-ipv6-in-order", client: "[2001:db8::1]:50000", server: "[2001:db8::2]:9001",
		script: func(k *capturetest.Conn) { k.SetFragmenter(capturetest.Fragments(1232, nil)) }},
	{name: "fragments-ipv6-last-first", client: "[2001:db8::1]:50000", server: "[2001:db8::2]:9001",
		script: func(k *capturetest.Conn) { k.SetFragmenter(capturetest.Fragments(400, capturetest.LastFirst)) }},
	{name: "fragments-ipv6-overlapping", client: "[2001:db8::1]:50000", server: "[2001:db8::2]:9001",
		script: func(k *capturetest.Conn) {
			k.SetFragmenter(func(ip []byte) [][]byte {
				n := len(ip) - 40
				if n <= 800 {
					return nil
				}
				return [][]byte{
					capturetest.Fragment(ip, 0, 512, true, nil),
					capturetest.Fragment(ip, 400, 800, true, nil),
					capturetest.Fragment(ip, 800, n, false, nil),
				}
			})
		}},
	{name: "gre", tunnel: "gre", script: func(k *capturetest.Conn) {
		k.SetTunnels(nil, capturetest.Tunnel{Kind: capture.TunnelGRE, Src: "10.0.0.1", Dst: "10.0.0.2"})
	}},
	{name: "gre-keyed-sequenced", tunnel: "gre", script: func(k *capturetest.Conn) {
		k.SetTunnels(nil, capturetest.Tunnel{Kind: capture.TunnelGRE, Src: "10.0.0.1", Dst: "10.0.0.2", Key: 1234, HasKey: true, Sequence: true, Checksum: true})
	}},
	{name: "gre-ethernet", tunnel: "gre", script: func(k *capturetest.Conn) {
		k.SetTunnels(nil, capturetest.Tunnel{Kind: capture.TunnelGRE, Src: "10.0.0.1", Dst: "10.0.0.2", Ethernet: true})
	}},
	{name: "vxlan", tunnel: "vxlan", script: func(k *capturetest.Conn) {
		k.SetTunnels(nil, capturetest.Tunnel{Kind: capture.TunnelVXLAN, Src: "10.0.0.1", Dst: "10.0.0.2", VNI: 42})
	}},
	{name: "vxlan-qinq-outer-fragmented", tunnel: "vxlan", opts: capturetest.Options{VLANs: []uint16{100, 200}}, script: func(k *capturetest.Conn) {
		// A mirror session whose VXLAN packets exceed the path's MTU.
		k.SetTunnels(capturetest.Fragments(1024, nil), capturetest.Tunnel{Kind: capture.TunnelVXLAN, Src: "10.0.0.1", Dst: "10.0.0.2", VNI: 42})
	}},
	{name: "geneve", tunnel: "geneve", script: func(k *capturetest.Conn) {
		k.SetTunnels(nil, capturetest.Tunnel{Kind: capture.TunnelGeneve, Src: "10.0.0.1", Dst: "10.0.0.2", VNI: 7, Ethernet: true, GeneveOptions: 8})
	}},
	{name: "ipip", tunnel: "ipip", script: func(k *capturetest.Conn) {
		k.SetTunnels(nil, capturetest.Tunnel{Kind: capture.TunnelIPIP, Src: "10.0.0.1", Dst: "10.0.0.2"})
	}},
	{name: "6in4", tunnel: "6in4", client: "[2001:db8::1]:50000", server: "[2001:db8::2]:9001", script: func(k *capturetest.Conn) {
		k.SetTunnels(nil, capturetest.Tunnel{Kind: capture.Tunnel6in4, Src: "192.0.2.1", Dst: "192.0.2.2"})
	}},
	{name: "mpls", tunnel: "mpls,mpls", script: func(k *capturetest.Conn) {
		k.SetTunnels(nil, capturetest.Tunnel{Kind: capture.TunnelMPLS, Label: 100}, capturetest.Tunnel{Kind: capture.TunnelMPLS, Label: 200})
	}},
}

// TestEncapsulations writes each capture of encapDir (with -update) and
// checks that wsviz decodes the very messages of the plain session, and
// every frame as tshark 4.0 does (its dissection is kept beside each
// capture as NAME.pcap.tshark.tsv, rewritten with -update where tshark is
// installed, and compared with tshark's output there).
func TestEncapsulations(t *testing.T) {
	messages := func(events []Event) []string {
		var out []string
		for _, ev := range events {
			if ev.Type == TypeWSMessage {
				out = append(out, fmt.Sprintf("%s %s %q", ev.From, ev.Message.Opcode, ev.Message.Payload))
			}
		}
		return out
	}
	_, lookErr := exec.LookPath("tshark")
	haveTshark := lookErr == nil
	for _, tc := range encapsulations {
		t.Run(tc.name, func(t *testing.T) {
			cl, sv := client1, server1
			if tc.client != "" {
				cl, sv = tc.client, tc.server
			}
			plain := capturetest.NewCapture(capturetest.Options{})
			encapSession(plain.Conn(cl, sv))
			c := capturetest.NewCapture(tc.opts)
			k := c.Conn(cl, sv)
			tc.script(k)
			encapSession(k)
			data := c.Bytes()
			path := filepath.Join(encapDir, tc.name+".pcap")
			if *update {
				if err := os.MkdirAll(encapDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if on, err := os.ReadFile(path); err != nil || !bytes.Equal(on, data) {
				t.Errorf("%s is not what its script makes (err %v): run go test ./analyze -run TestEncapsulations -update", path, err)
			}
			want, err := ReadFile(writeTemp(t, plain.Bytes()), Options{})
			if err != nil {
				t.Fatal(err)
			}
			events, err := ReadFile(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := messages(events), messages(want); !slices.Equal(got, want) || len(got) != 6 {
				t.Errorf("messages:\n%s\nwant those of the plain session:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			var kinds []string
			for _, tun := range events[0].TCPOpen.Tunnel {
				kinds = append(kinds, tun.Kind)
			}
			if got := strings.Join(kinds, ","); events[0].Type != TypeTCPOpen || got != tc.tunnel {
				t.Errorf("tcp.open tunnel kinds %q, want %q: %s", got, tc.tunnel, events[0].AppendJSON(nil))
			}
			for _, ev := range events {
				checkRegistered(t, &ev)
				if ev.Type == TypeIPFragments && !strings.Contains(tc.name, "overlapping") {
					t.Errorf("unexpected %s", ev.AppendJSON(nil))
				}
			}

			tsv := path + ".tshark.tsv"
			if haveTshark {
				rows := tsharkRows(t, path, strings.HasPrefix(cl, "["))
				if *update {
					if err := os.WriteFile(tsv, []byte(rows), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if on, err := os.ReadFile(tsv); err != nil || string(on) != rows {
					t.Errorf("%s is not tshark's dissection (err %v): run go test ./analyze -run TestEncapsulations -update", tsv, err)
				}
			}
			checkFramesAgainstTshark(t, events, readTsharkRows(t, tsv))
		})
	}
}

// writeTemp writes a capture to a temporary file and returns its path.
func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plain.pcap")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// tsharkRows runs tshark 4.0 on a capture and returns its WebSocket frames
// in the corpus's .tshark.tsv form, one line per frame: packet, stream,
// the innermost addresses (IPv6 ones when v6) and ports, opcode, fin, rsv, masked, length and
// close code ("" when none).
func tsharkRows(t *testing.T, path string, v6 bool) string {
	t.Helper()
	fields := []string{"frame.number", "tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport",
		"websocket.opcode", "websocket.fin", "websocket.rsv", "websocket.mask", "websocket.payload_length",
		"websocket.payload_length_ext_16", "websocket.payload_length_ext_64"}
	args := []string{"-r", path, "-o", "tcp.reassemble_out_of_order:TRUE", "-Y", "websocket", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", strings.Join(args, " "), err)
	}
	last := func(s string) string { v := strings.Split(s, ","); return v[len(v)-1] }
	all := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, ",")
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		c := strings.Split(line, "\t")
		if len(c) != len(fields) {
			t.Fatalf("tshark line %q: %d fields, want %d", line, len(c), len(fields))
		}
		src, dst := last(c[2]), last(c[5])
		if v6 {
			src, dst = last(c[3]), last(c[6])
		}
		ops, fins, rsvs, masks, lens, ext16, ext64 := all(c[8]), all(c[9]), all(c[10]), all(c[11]), all(c[12]), all(c[13]), all(c[14])
		for i := range ops {
			n := lens[i]
			switch n {
			case "126":
				n, ext16 = ext16[0], ext16[1:]
			case "127":
				n, ext64 = ext64[0], ext64[1:]
			}
			rsv, err := strconv.ParseUint(rsvs[i], 0, 8) // tshark writes 0x04 for RSV1
			if err != nil {
				t.Fatalf("tshark line %q: rsv %q", line, rsvs[i])
			}
			fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t\n", c[0], last(c[1]), src, last(c[4]), dst, last(c[7]),
				ops[i], tsharkBool(fins[i]), rsv, tsharkBool(masks[i]), n)
		}
	}
	return b.String()
}

// tsharkBool writes tshark's True/False (or 1/0) as 1 or 0.
func tsharkBool(s string) string {
	if b, err := strconv.ParseBool(s); err == nil && b {
		return "1"
	}
	return "0"
}

// checkFramesAgainstTshark compares every ws.frame with tshark's row.
func checkFramesAgainstTshark(t *testing.T, events []Event, want []frameRow) {
	t.Helper()
	conns := map[int][2]string{}
	var got []frameRow
	for _, ev := range events {
		switch ev.Type {
		case TypeTCPOpen:
			conns[ev.Conn] = [2]string{ev.TCPOpen.Client, ev.TCPOpen.Server}
		case TypeWSFrame:
			ends := conns[ev.Conn]
			if ev.From == FromServer {
				ends[0], ends[1] = ends[1], ends[0]
			}
			src, sport := splitHostPort(ends[0])
			dst, dport := splitHostPort(ends[1])
			f := ev.Frame
			got = append(got, frameRow{packet: fmt.Sprint(ev.Packet), src: src, sport: sport, dst: dst, dport: dport,
				opcode: fmt.Sprint(f.Opcode), fin: boolDigit(f.Fin), rsv: fmt.Sprint(f.RSV),
				masked: boolDigit(f.Masked), payloadLen: fmt.Sprint(f.Len)})
		}
	}
	if len(got) == 0 {
		t.Errorf("no frame decoded")
	}
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w frameRow
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("frame %d:\n got %v\nwant %v (tshark)", i+1, g, w)
		}
	}
}
