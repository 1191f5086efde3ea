package analyze_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// h2Opening is what an HTTP/2 client with prior knowledge sends first: the
// connection preface (RFC 9113 §3.4) and an empty SETTINGS frame; then a
// GET on stream 1 (its header block HPACK-encoded, RFC 7541).
var h2Opening = analyzetest.H2Preface + "\x00\x00\x00\x04\x00\x00\x00\x00\x00" +
	string(analyzetest.NewH2().Headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/first", ":authority", "a"))

// h2Decoded returns the HTTP/2 requests decoded (as "stream method
// target"), the http.error events, and whether any event decoded HTTP/1 or
// WebSocket from the connection.
func h2Decoded(events []analyze.Event) (requests []string, errors []analyze.Event, other bool) {
	for _, ev := range events {
		switch {
		case ev.Type == analyze.TypeHTTPError:
			errors = append(errors, ev)
		case ev.Type == analyze.TypeHTTPRequest && ev.HTTP.Proto == "HTTP/2":
			requests = append(requests, fmt.Sprint(ev.Stream, " ", ev.HTTP.Method, " ", ev.HTTP.Target, " ", ev.Packet))
		case strings.HasPrefix(ev.Type, "ws.") || strings.HasPrefix(ev.Type, "http."):
			other = true
		}
	}
	return requests, errors, other
}

// TestH2PrefaceEverySplit opens a cleartext connection with HTTP/2's
// preface cut into segments at every place and every pair of places, with
// the server's SETTINGS before or after it, on one worker and two: each
// time the connection is decoded as HTTP/2 (prior knowledge, RFC 9113
// §3.3) from its first byte, so the GET after the preface is a request on
// stream 1, at the packet that ends it, and nothing is an error or HTTP/1.
func TestH2PrefaceEverySplit(t *testing.T) {
	var splits [][]int
	for i := 1; i < len(h2Opening); i++ {
		splits = append(splits, []int{i})
		for j := i + 1; j < len(h2Opening); j++ {
			if j-i < 30 || j > len(analyzetest.H2Preface)+20 {
				splits = append(splits, []int{i, j})
			}
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
			k.ClientSegments([]byte(h2Opening), cuts...)
			last := c.Packets() // the segment that ends the GET
			if !serverFirst {
				k.Server([]byte("\x00\x00\x00\x04\x00\x00\x00\x00\x00"))
			}
			k.CloseFIN(true)
			k.CloseFIN(false)
			want := fmt.Sprint("1 GET /first ", last)
			for _, workers := range []int{1, 2} {
				requests, errors, other := h2Decoded(decodeEvents(t, c.Bytes(), workers))
				if len(requests) != 1 || requests[0] != want || len(errors) > 0 || other {
					t.Fatalf("server first %v, cuts %v, %d workers: requests %q, errors %+v, other events %v; want [%q] alone",
						serverFirst, cuts, workers, requests, errors, other, want)
				}
			}
		}
	}
}

// TestH2PrefaceNotElsewhere: bytes that only look like the preface, or are
// not a connection's first client bytes, are not taken for it, and a
// server's first bytes are taken for HTTP/2's SETTINGS only when they are
// one.
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
		{"a server's SETTINGS ACK first", func(k *capturetest.Conn) {
			k.Server([]byte("\x00\x00\x00\x04\x01\x00\x00\x00\x00"))
		}},
		{"a server's SETTINGS of a bad length first", func(k *capturetest.Conn) {
			k.Server([]byte("\x00\x00\x05\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
		}},
		{"a server's SETTINGS after the client spoke", func(k *capturetest.Conn) {
			k.Client([]byte("GET / HTTP/1.1\r\n"))
			k.Server([]byte("\x00\x00\x00\x04\x00\x00\x00\x00\x00"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := capturetest.NewCapture(capturetest.Options{})
			k := c.Conn("127.0.0.1:50000", "127.0.0.1:50051")
			k.Handshake()
			tc.script(k)
			k.CloseFIN(true)
			k.CloseFIN(false)
			for _, ev := range decodeEvents(t, c.Bytes(), 1) {
				if ev.Stream != 0 || ev.HTTP.Proto == "HTTP/2" || strings.HasPrefix(ev.Note, "wsviz stopped decoding the") {
					t.Errorf("decoded as HTTP/2: %s", ev.AppendJSON(nil))
				}
			}
		})
	}
}

// TestH2RealCaptures: Go's net/http client and server. Over TLS 1.3 (ALPN
// h2, the key log in the pcapng), two GETs; over cleartext with prior
// knowledge (golang.org/x/net/http2/h2c), two GETs, and an Upgrade: h2c
// request on a connection of its own, answered on stream 1 after the 101.
// Taken on loopback by tcpdump.
func TestH2RealCaptures(t *testing.T) {
	for _, tc := range []struct {
		file   string
		want   []string
		errors string
	}{
		{"../testdata/h2/h2-tls.pcapng", []string{"1 GET /x 10", "3 GET /x 17"}, ""},
		{"../testdata/h2/h2c.pcap", []string{"1 GET /prior 6", "3 GET /prior 15", "2: 200 on stream 1"}, ""},
	} {
		data, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		events := decodeEvents(t, data, 1)
		requests, errors, _ := h2Decoded(events)
		// h2c.pcap's second connection switched with a 101 to h2c: the
		// upgraded request's answer comes on stream 1 (RFC 7540 §3.2).
		for _, ev := range events {
			if ev.Conn == 2 && ev.Type == analyze.TypeHTTPResponse && ev.Stream == 1 && ev.HTTP.Status == 200 {
				requests = append(requests, "2: 200 on stream 1")
			}
		}
		var codes []string
		for _, ev := range errors {
			codes = append(codes, ev.Warnings[0].Code)
		}
		if !slices.Equal(requests, tc.want) || strings.Join(codes, " ") != tc.errors {
			t.Errorf("%s: HTTP/2 requests %q, http.error codes %v; want %q and %q", tc.file, requests, codes, tc.want, tc.errors)
		}
	}
}
