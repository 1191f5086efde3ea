package analyze_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// permutations returns every order of 0..n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			out = append(out, slices.Insert(slices.Clone(p), i, n-1))
		}
	}
	return out
}

// reorderFirst returns data, a pcap capture, with its first len(order) packets
// in the given order (order[i] is the packet captured i-th), the
// timestamps kept in order.
func reorderFirst(t *testing.T, data []byte, order []int) []byte {
	t.Helper()
	header, records := pcapRecords(t, data)
	out := bytes.Clone(header)
	for i, r := range records {
		if i < len(order) {
			r = bytes.Clone(records[order[i]])
			copy(r[:8], records[i][:8])
		}
		out = append(out, r...)
	}
	return out
}

// fastOpenRest finishes a connection opened by HandshakeFastOpen with the
// upgrade request: the 101, a message each way, FINs.
func fastOpenRest(k *capturetest.Conn, c *capturetest.Capture) []byte {
	k.Server(analyzetest.Response())
	k.Client(analyzetest.Text(true, "request"))
	k.Server(analyzetest.Text(false, "response"))
	k.CloseFIN(true)
	k.CloseFIN(false)
	return c.Bytes()
}

// TestHandshakeOrders: capture order is not always send order (merged
// interfaces, multi-queue NICs, both ends captured on different hosts), and
// the handshake is where it shows: a SYN-ACK, or the client's ACK, captured
// before the SYN they answer. Every order of the handshake's packets and
// the upgrade request after it, and of a TCP Fast Open handshake whose SYN
// carries the request (accepted, or not and sent again), decodes to one
// connection opened with its SYN (unless the ACK or the request was
// captured before it: tcp.open comes first), the client the client, the
// request and the messages each way once, and no warning; on one worker
// and two. (The
// connection was split in two before: the late SYN taken for a new one on
// the same ports, tcp.port_reused, and the request decoded in the second.)
func TestHandshakeOrders(t *testing.T) {
	const cl, sv = "127.0.0.1:50000", "127.0.0.1:9001"
	for _, kind := range []string{"plain", "fast open", "fast open refused"} {
		n := 4 // SYN, SYN-ACK, ACK and the request
		if kind != "plain" {
			n = 3 // the request is in the SYN, or after the ACK
		}
		for _, order := range permutations(n) {
			c := capturetest.NewCapture(capturetest.Options{})
			k := c.Conn(cl, sv)
			switch kind {
			case "plain":
				k.Handshake()
				k.Client(analyzetest.Request("/chat"))
			case "fast open":
				k.HandshakeFastOpen(analyzetest.Request("/chat"), true)
			default:
				k.HandshakeFastOpen(analyzetest.Request("/chat"), false)
			}
			data := reorderFirst(t, fastOpenRest(k, c), order)
			for _, workers := range []int{1, 2} {
				var got []string
				for _, ev := range decodeEvents(t, data, workers) {
					s := ev.Type
					switch ev.Type {
					case analyze.TypeTCPOpen:
						s = fmt.Sprintf("open %d syn=%v client=%s", ev.Conn, ev.TCPOpen.SYN, ev.TCPOpen.Client)
					case analyze.TypeHTTPRequest:
						s = fmt.Sprintf("request %d %s", ev.Conn, ev.HTTP.Target)
					case analyze.TypeWSMessage:
						s = fmt.Sprintf("%s %s %q", ev.From, ev.Message.Opcode, ev.Message.Payload)
					case analyze.TypeTCPClose:
						s = fmt.Sprintf("close %d %s", ev.Conn, ev.TCPClose.How)
					case analyze.TypeHTTPResponse, analyze.TypeWSOpen, analyze.TypeWSFrame:
						continue
					}
					for _, w := range ev.Warnings {
						s += " " + w.Code
					}
					got = append(got, s)
				}
				// tcp.open comes with the handshake's last packet or before
				// the first that is not part of it: when the ACK (or the
				// request) was captured before the SYN, it could not have
				// seen it (syn=false, the roles guessed), and the late SYN is
				// no new connection.
				syn := slices.Index(order, 0) < slices.Index(order, 2) && (kind != "plain" || slices.Index(order, 0) < slices.Index(order, 3))
				want := []string{fmt.Sprintf("open 1 syn=%v client=%s", syn, cl), "request 1 /chat", `client text "request"`, `server text "response"`, "close 1 fin"}
				if !slices.Equal(got, want) {
					t.Errorf("%s, packets in order %v, %d workers:\n got %q\nwant %q", kind, order, workers, got, want)
				}
			}
		}
	}
}
