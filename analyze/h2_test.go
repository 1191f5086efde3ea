package analyze_test

import (
	"os"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// h2Opening is what an HTTP/2 client with prior knowledge sends first: the
// connection preface (RFC 9113 §3.4) and an empty SETTINGS frame.
const h2Opening = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"

// h2Notes returns the events that carry http.h2_preface, and whether any
// event decoded WebSocket or HTTP/1 from the connection.
func h2Notes(events []analyze.Event) (notes []analyze.Event, decoded bool) {
	for _, ev := range events {
		if ev.HasWarning("http.h2_preface") {
			notes = append(notes, ev)
		}
		switch ev.Type {
		case analyze.TypeWSOpen, analyze.TypeWSFrame, analyze.TypeWSMessage, analyze.TypeHTTPRequest, analyze.TypeHTTPResponse:
			decoded = true
		}
	}
	return notes, decoded
}

// TestH2PrefaceEverySplit opens a cleartext connection with HTTP/2's
// preface cut into segments at every place and every pair of places, with
// the server's SETTINGS before or after it, on one worker and two: each
// time one http.error says it, from the client, at the packet that holds
// the preface's first line (16 bytes), and nothing is decoded as HTTP/1 or
// WebSocket.
func TestH2PrefaceEverySplit(t *testing.T) {
	const line = len("PRI * HTTP/2.0\r\n")
	var splits [][]int
	for i := 1; i < len(h2Opening); i++ {
		splits = append(splits, []int{i})
		for j := i + 1; j < len(h2Opening); j++ {
			splits = append(splits, []int{i, j})
		}
	}
	for _, serverFirst := range []bool{false, true} {
		for _, cuts := range splits {
			c := capturetest.NewCapture(capturetest.Options{})
			k := c.Conn("127.0.0.1:50000", "127.0.0.1:50051")
			k.Handshake()
			if serverFirst {
				k.Server([]byte("\x00\x00\x00\x04\x00\x00\x00\x00\x00"))
			}
			first := int64(c.Packets()) + 1 // the first segment of the preface
			k.ClientSegments([]byte(h2Opening), cuts...)
			if !serverFirst {
				k.Server([]byte("\x00\x00\x00\x04\x00\x00\x00\x00\x00"))
			}
			k.CloseFIN(true)
			k.CloseFIN(false)
			// The segment that holds byte line-1.
			want := first
			for _, cut := range cuts {
				if cut < line {
					want++
				}
			}
			for _, workers := range []int{1, 2} {
				notes, decoded := h2Notes(decodeEvents(t, c.Bytes(), workers))
				if len(notes) != 1 || notes[0].Type != analyze.TypeHTTPError || notes[0].From != analyze.FromClient || notes[0].Packet != want || decoded {
					t.Fatalf("server first %v, cuts %v, %d workers: %d notes (%+v), decoded %v; want one http.error from the client at packet %d",
						serverFirst, cuts, workers, len(notes), notes, decoded, want)
				}
			}
		}
	}
}

// TestH2PrefaceNotElsewhere: bytes that only look like the preface, or are
// not a connection's first client bytes, are not taken for it; nor is a
// TLS connection's (its handshake's ALPN says HTTP/2: tls.alpn_h2).
func TestH2PrefaceNotElsewhere(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script func(k *capturetest.Conn)
	}{
		{"an HTTP/1.1 request for PRI", func(k *capturetest.Conn) {
			k.Client([]byte("PRI /x HTTP/1.1\r\nHost: a\r\n\r\n"))
			k.Server([]byte("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n"))
		}},
		{"the first line's last byte differs", func(k *capturetest.Conn) {
			k.Client([]byte("PRI * HTTP/2.0\r\r\n\r\nSM\r\n\r\n"))
		}},
		{"after a request", func(k *capturetest.Conn) {
			k.Client([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
			k.Server([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
			k.Client([]byte(h2Opening))
		}},
		{"after lost bytes", func(k *capturetest.Conn) {
			k.Drop(1)
			k.Client([]byte("GET / HTTP/1.1\r\n"))
			k.Client([]byte(h2Opening))
		}},
		{"from the server", func(k *capturetest.Conn) {
			k.Server([]byte(h2Opening))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := capturetest.NewCapture(capturetest.Options{})
			k := c.Conn("127.0.0.1:50000", "127.0.0.1:50051")
			k.Handshake()
			tc.script(k)
			k.CloseFIN(true)
			k.CloseFIN(false)
			if notes, _ := h2Notes(decodeEvents(t, c.Bytes(), 1)); len(notes) != 0 {
				t.Errorf("%d http.h2_preface notes (%+v), want none", len(notes), notes)
			}
		})
	}

	// Go's net/http client and server over TLS 1.3 (ALPN h2), the key log
	// in the pcapng: the preface is decrypted, and only the handshake
	// says HTTP/2.
	t.Run("TLS", func(t *testing.T) {
		data, err := os.ReadFile("../testdata/h2/h2-tls.pcapng")
		if err != nil {
			t.Fatal(err)
		}
		var alpn int
		events := decodeEvents(t, data, 1)
		for _, ev := range events {
			if ev.HasWarning("tls.alpn_h2") {
				alpn++
			}
		}
		if notes, _ := h2Notes(events); len(notes) != 0 || alpn != 1 {
			t.Errorf("%d http.h2_preface notes, %d tls.alpn_h2; want 0 and 1", len(notes), alpn)
		}
	})
}

// TestH2PrefaceRealCapture: Go's HTTP/2 client with prior knowledge and an
// Upgrade: h2c request, against golang.org/x/net/http2/h2c, taken on
// loopback by tcpdump.
func TestH2PrefaceRealCapture(t *testing.T) {
	data, err := os.ReadFile("../testdata/h2/h2c.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range decodeEvents(t, data, 1) {
		if ev.Type == analyze.TypeHTTPError {
			got = append(got, ev.Warnings[0].Code)
		}
	}
	if strings.Join(got, " ") != "http.h2_preface http.not_websocket" {
		t.Errorf("http.error codes %v, want the prior-knowledge connection's http.h2_preface, then the upgrade's http.not_websocket", got)
	}
}
