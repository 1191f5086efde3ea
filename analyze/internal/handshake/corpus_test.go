package handshake

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// corpusDir holds real-world captures beside the project (see its
// README); a fresh clone does not have it.
const corpusDir = "../../../../shared/corpus"

// corpusStream is one direction of a TCP connection, put in order just
// well enough for these captures: duplicates and retransmissions are
// trimmed, early segments wait for the missing bytes.
type corpusStream struct {
	started bool
	next    uint32
	early   map[uint32][]byte
}

// add returns the in-order bytes a segment makes available.
func (s *corpusStream) add(seq uint32, syn bool, payload []byte) []byte {
	if syn {
		s.started, s.next = true, seq+1
		return nil
	}
	if len(payload) == 0 {
		return nil
	}
	if !s.started {
		s.started, s.next = true, seq
	}
	if int32(seq-s.next) > 0 {
		if s.early == nil {
			s.early = map[uint32][]byte{}
		}
		s.early[seq] = bytes.Clone(payload)
		return nil
	}
	var out []byte
	for payload != nil {
		if skip := int(int32(s.next - seq)); skip < len(payload) {
			out = append(out, payload[skip:]...)
			s.next = seq + uint32(len(payload))
		}
		payload = nil
		for k, v := range s.early {
			if int32(k-s.next) <= 0 {
				seq, payload = k, v
				delete(s.early, k)
				break
			}
		}
	}
	return out
}

// corpusConn is one TCP connection of a capture and its decoder.
type corpusConn struct {
	client  string // "ip:port" of the side that sent SYN or spoke first
	streams map[string]*corpusStream
	d       *driver
}

// decodeCapture decodes the HTTP phase of every TCP connection in a
// capture, in capture order.
func decodeCapture(t *testing.T, path string) []*corpusConn {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var src interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
		LinkType() layers.LinkType
	}
	if strings.HasSuffix(path, ".pcapng") {
		src, err = pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	} else {
		src, err = pcapgo.NewReader(f)
	}
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	conns := map[string]*corpusConn{}
	var order []*corpusConn
	for number := int64(1); ; number++ {
		data, _, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: packet %d: %v", path, number, err)
		}
		p := gopacket.NewPacket(data, src.LinkType(), gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil || p.NetworkLayer() == nil {
			continue
		}
		ns, nd := p.NetworkLayer().NetworkFlow().Endpoints()
		from := fmt.Sprintf("%v:%d", ns, tcp.SrcPort)
		to := fmt.Sprintf("%v:%d", nd, tcp.DstPort)
		key := min(from, to) + " " + max(from, to)
		c := conns[key]
		if c == nil {
			if len(tcp.Payload) == 0 && !tcp.SYN {
				continue
			}
			c = &corpusConn{client: from, streams: map[string]*corpusStream{}, d: newDriver(t)}
			if tcp.SYN && tcp.ACK || LooksLikeResponse(tcp.Payload) && len(tcp.Payload) > 0 {
				c.client = to
			}
			conns[key] = c
			order = append(order, c)
		}
		s := c.streams[from]
		if s == nil {
			s = &corpusStream{}
			c.streams[from] = s
		}
		if b := s.add(tcp.Seq, tcp.SYN, tcp.Payload); len(b) > 0 {
			c.d.feed(from == c.client, b, number)
		}
	}
	return order
}

// corpusUpgrades lists, per capture, the upgrades its connections make, in
// the order of their first packets, and how many connections fail.
var corpusUpgrades = []struct {
	file   string
	want   []string
	failed int
}{
	{"arkime/arkime_synthetic.pcap", []string{`/chat sub="" offered=0 ext="" deflate=nil accept=ok`}, 1}, // a SIP OPTIONS request
	{"arkime/websocket.pcap", []string{`/ sub="" offered=0 ext="" deflate=nil accept=ok`}, 0},
	{"evsetool/cap.pcapng", []string{
		`/steve/websocket/CentralSystemService/CP_1 sub="ocpp1.6" offered=1 ext="permessage-deflate" deflate={snct=false cnct=false s=15 c=15} accept=ok`,
		`/steve/websocket/CentralSystemService/CP_1 sub="ocpp1.6" offered=1 ext="permessage-deflate" deflate={snct=false cnct=false s=15 c=15} accept=ok`,
	}, 0},
	{"mikekap-pcap2har/ipv4-websocket-segmented.pcap", []string{`/ sub="" offered=0 ext="" deflate=nil accept=ok`}, 0},
	{"ndpi/tls_heur__vmess-websocket.pcapng", []string{`/ sub="" offered=0 ext="" deflate=nil accept=ok`}, 0},
	{"suricata-verify/websocket--basic_websockets.pcap", []string{`/service sub="" offered=0 ext="" deflate=nil accept=ok`}, 0},
	{"suricata-verify/websocket-compressed--example_websocket.pcap", []string{
		`/toggle sub="" offered=0 ext="permessage-deflate; client_max_window_bits=15" deflate={snct=false cnct=false s=15 c=15} accept=ok`,
	}, 0},
	// A crafted key of 18 bytes; the server answered it correctly anyway.
	{"suricata-verify/websocket-control-frag--input.pcap", []string{`/chat sub="" offered=0 ext="" deflate=nil accept=ok request[http.bad_key]`}, 0},
	{"suricata-verify/websocket-ping--input.pcap", []string{`/ sub="" offered=0 ext="" deflate=nil accept=ok`}, 0},
	{"zeek/broker-websocket.pcap", []string{`/v1/messages/json sub="" offered=0 ext="" deflate=nil accept=ok`}, 0},
	{"zeek/fragmented-http-reply.pcap", []string{`/ sub="v1" offered=1 ext="" deflate=nil accept=ok`}, 0},
	{"zeek/http-websocket.pcap", []string{`/echo?.kl=Y sub="x-kaazing-handshake" offered=1 ext="" deflate=nil accept=ok`}, 0},
	{"zeek/jupyter-websocket.pcap", []string{
		`/user/christian/api/kernels/f8645ecd-0a76-4bb1-9e6e-cb464276bc69/channels?session_id=deeecee7-efc2-42a1-a7c1-e1c0569436e3 sub="v1.kernel.websocket.jupyter.org" offered=1 ext="" deflate=nil accept=ok`,
	}, 0},
	{"zeek/message-too-big-status.pcap", []string{`/ sub="v1" offered=1 ext="" deflate=nil accept=ok`}, 0},
	{"zeek/oversized-close-frame.pcapng", []string{`/chat sub="" offered=0 ext="" deflate=nil accept=ok`}, 0},
	{"zeek/reply-ping-coalesced.pcap", []string{`/ sub="v1" offered=1 ext="" deflate=nil accept=ok`}, 0},
	{"zeek/reply-ping-separate.pcap", []string{`/ sub="v1" offered=1 ext="" deflate=nil accept=ok`}, 0},
	{"zeek/two-binary-fragments.pcap", []string{`/ sub="v1" offered=1 ext="" deflate=nil accept=ok`}, 0},
	{"zeek/websocket_baseline.pcap", []string{`/ sub="" offered=0 ext="" deflate=nil accept=ok`}, 0},
	{"zeek/websocket_compressed.pcap", []string{
		`/ sub="" offered=0 ext="permessage-deflate; server_max_window_bits=12; client_max_window_bits=12" deflate={snct=false cnct=false s=12 c=12} accept=ok`,
	}, 0},
	{"zeek/wrong-accept-header.pcap", []string{`/ sub="v1" offered=1 ext="" deflate=nil accept=bad upgrade[http.bad_accept]`}, 0},
	{"zeek/wstunnel-http.pcap", []string{`/v1/events sub="v1" offered=2 ext="" deflate=nil accept=ok`}, 0},
	{"zeek/wstunnel-https.pcap", []string{`/v1/events sub="v1" offered=2 ext="" deflate=nil accept=ok`}, 0},
	{"zeek/wstunnel-ssh.pcap", []string{
		`/v1/events sub="v1" offered=2 ext="" deflate=nil accept=ok`,
		`/v1/events sub="v1" offered=2 ext="" deflate=nil accept=ok`,
	}, 0},
}

// validOpcode reports whether a frame's first byte has a defined opcode
// (RFC 6455 §5.2): the bytes handed over start at a frame.
func validOpcode(b byte) bool {
	switch b & 0x0f {
	case 0x0, 0x1, 0x2, 0x8, 0x9, 0xa:
		return true
	}
	return false
}

// TestCorpus decodes the handshakes of real captures that other projects
// made for their own decoders.
func TestCorpus(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("no corpus: %v", err)
	}
	for _, tc := range corpusUpgrades {
		t.Run(tc.file, func(t *testing.T) {
			var got []string
			failed := 0
			for i, c := range decodeCapture(t, filepath.Join(corpusDir, tc.file)) {
				d := c.d
				if d.c.State() == Failed {
					failed++
					t.Logf("connection %d: %v", i, d.c.Err())
				}
				if len(d.rec.ups) == 0 {
					continue
				}
				u := d.rec.ups[0]
				line := fmt.Sprintf("%s sub=%q offered=%d ext=%q deflate=%s accept=%s", u.Path, u.Subprotocol, len(u.Offered), u.Extensions, deflateString(u.Deflate), u.Accept)
				for _, r := range d.rec.reqs {
					if len(r.Problems) > 0 {
						line += " request" + strings.TrimPrefix(problemCodes(r.Problems), " ")
					}
				}
				if len(u.Problems) > 0 {
					line += " upgrade" + strings.TrimPrefix(problemCodes(u.Problems), " ")
				}
				got = append(got, line)
				for dir, b := range d.ws {
					if len(b) > 0 && !validOpcode(b[0]) {
						t.Errorf("connection %d: WebSocket bytes of direction %d start %x, not a frame", i, dir, b[0])
					}
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("upgrades:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if failed != tc.failed {
				t.Errorf("%d connections failed, want %d", failed, tc.failed)
			}
		})
	}
}
