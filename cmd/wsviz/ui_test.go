package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/display"
	"github.com/wsviz/wsviz/capture/capturetest"
	"github.com/wsviz/wsviz/capture/filter"
	"github.com/wsviz/wsviz/internal/bench"
)

// uiFrame encodes one final frame (RFC 6455 §5.2), masked when it comes from
// the client: small payloads only (7-bit length).
func uiFrame(fromClient bool, opcode byte, payload []byte) []byte {
	if len(payload) > 125 {
		panic("uiFrame: payload too long for a 7-bit length")
	}
	b := []byte{0x80 | opcode, byte(len(payload))}
	if !fromClient {
		return append(b, payload...)
	}
	mask := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	b[1] |= 0x80
	b = append(b, mask[:]...)
	for i, c := range payload {
		b = append(b, c^mask[i%4])
	}
	return b
}

// uiCapture writes a capture of one WebSocket connection: upgrade, a text
// message each way, a binary one, and a clean close.
func uiCapture(t *testing.T) string {
	t.Helper()
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) // RFC 6455 §4.2.2
	accept := base64.StdEncoding.EncodeToString(h[:])
	c := capturetest.NewCapture(capturetest.Options{NG: true})
	k := c.Conn("127.0.0.1:50000", "127.0.0.1:9001")
	k.Handshake()
	k.Client([]byte("GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	k.Server([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n"))
	k.Client(uiFrame(true, 0x1, []byte("hello")))
	k.Server(uiFrame(false, 0x1, []byte(`{"hi":"there"}`)))
	k.Server(uiFrame(false, 0x2, []byte{0, 1, 0xfe, 0xff}))
	k.Client(uiFrame(true, 0x8, []byte{0x03, 0xe8}))
	k.Server(uiFrame(false, 0x8, []byte{0x03, 0xe8}))
	k.CloseFIN(false)
	k.CloseFIN(true)
	return c.TempFile(t, "one.pcapng")
}

func TestUIServesTheCapture(t *testing.T) {
	path := uiCapture(t)
	tests := []struct {
		name, addr string
		warn       bool
		expr       string // -Y: the page starts with these events only
		file       string // "" for the session of uiCapture
		filter     string // the packet filter
	}{
		{"loopback", "127.0.0.1:0", false, "", "", ""},
		{"wildcard", "0.0.0.0:0", true, "", "", ""},
		{"-Y", "127.0.0.1:0", false, `type == "ws.message"`, "", ""},
		// The filter is tested inside the tunnel: the session is kept
		// whole, or not at all.
		{"filter-tunnel", "127.0.0.1:0", false, "", "../../testdata/encap/vxlan.pcap", "tcp port 9001"},
		{"filter-tunnel-other-port", "127.0.0.1:0", false, "", "../../testdata/encap/vxlan.pcap", "tcp port 80"},
		// The secrets inside the pcapng reach the analyzer through the
		// filter: the events are the decrypted ones.
		{"filter-secrets", "127.0.0.1:0", false, "", "../../testdata/wss-dsb.pcapng", "tcp port 8443"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := path
			if tc.file != "" {
				path = tc.file
			}
			ctx, cancel := context.WithCancel(context.Background())
			var stdout, stderr bytes.Buffer
			urls := make(chan string, 1)
			done := make(chan error, 1)
			in := &decodeFlags{file: path, live: &liveFlags{}, display: tc.expr, filterArgs: strings.Fields(tc.filter)}
			wantSource := path
			if tc.filter != "" {
				wantSource += " (" + tc.filter + ")"
			}
			opts := analyze.Options{PacketFilter: filter.MustParse(tc.filter)}
			if tc.expr != "" {
				var err error
				if in.filter, err = display.Compile(tc.expr); err != nil {
					t.Fatal(err)
				}
				wantSource += " -Y " + strconv.Quote(tc.expr)
			}
			var want int
			if err := analyze.DecodeFile(path, opts, func(ev *analyze.Event) error {
				if in.keep(ev) {
					want++
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			cfg := uiConfig{in: in, addr: tc.addr, maxEvents: 1000}
			go func() { done <- serveUI(ctx, cfg, &stdout, &stderr, func(u string) { urls <- u }) }()
			var u string
			select {
			case u = <-urls:
			case err := <-done:
				t.Fatalf("serveUI = %v before serving; stderr %q", err, stderr.String())
			case <-time.After(10 * time.Second):
				t.Fatal("serveUI never served")
			}
			if !strings.HasPrefix(u, "http://127.0.0.1:") {
				t.Errorf("page address = %q, want http://127.0.0.1:PORT/", u)
			}
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("GET %s = %d, CSP %q", u, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
			}
			ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(u, "http")+"ws", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			for {
				typ, data, err := ws.ReadMessage()
				if err != nil {
					t.Fatalf("stream: %v", err)
				}
				var st struct {
					Type   string
					Events int
					Done   bool
					Source string
					Read   int64
					Total  int64
				}
				if typ == websocket.TextMessage && json.Unmarshal(data, &st) == nil && st.Type == "status" && st.Done {
					if st.Events != want || st.Source != wantSource || st.Read != st.Total || st.Total == 0 {
						t.Errorf("final status = %+v, want %d events from %s, all read", st, want, wantSource)
					}
					break
				}
			}
			if got := strings.Contains(stderr.String(), "WARNING"); got != tc.warn {
				t.Errorf("--addr %s: warning printed = %v, want %v; stderr %q", tc.addr, got, tc.warn, stderr.String())
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serveUI = %v after cancel", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("serveUI did not return after cancel")
			}
		})
	}
}

func TestUIUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no source", nil},
		{"two sources", []string{"-r", "x.pcap", "-i", "lo"}},
		{"-w without -i", []string{"-r", "x.pcap", "-w", "out.pcapng"}},
		{"unknown flag", []string{"--nope"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := runUI(tc.args, &stdout, &stderr); !errors.Is(err, errUsage) {
				t.Errorf("runUI(%q) = %v, want errUsage", tc.args, err)
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if err := runUI([]string{"-r", filepath.Join(t.TempDir(), "missing.pcap")}, &stdout, &stderr); err == nil || errors.Is(err, errUsage) {
		t.Errorf("runUI on a missing file = %v, want an error", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("runUI on a missing file printed %q", stdout.String())
	}
}

// TestUIQuitWhileDecoding: quitting while a big file is still being read
// stops the decoder before the server closes, and says nothing about it
// (it used to print "server closed; later events are shown without
// details" as wsviz exited).
func TestUIQuitWhileDecoding(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.pcap")
	if _, err := bench.GenerateFile(path, bench.Config{Conns: 50, Messages: 400, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		var stdout, stderr syncBuffer
		urls := make(chan string, 1)
		done := make(chan error, 1)
		cfg := uiConfig{in: &decodeFlags{file: path, live: &liveFlags{}, quiet: true}, addr: "127.0.0.1:0"}
		go func() { done <- serveUI(ctx, cfg, &stdout, &stderr, func(u string) { urls <- u }) }()
		select {
		case <-urls:
		case err := <-done:
			t.Fatalf("serveUI = %v before serving; stderr %q", err, stderr.String())
		case <-time.After(10 * time.Second):
			t.Fatal("serveUI never served")
		}
		time.Sleep(time.Duration(i) * 20 * time.Millisecond) // quit at once, or a little into the file
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serveUI = %v after quitting", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("serveUI did not return after quitting")
		}
		time.Sleep(200 * time.Millisecond) // what a decoder left running would print
		if got := stderr.String(); got != "" {
			t.Errorf("quit after %d ms: stderr %q, want nothing", i*20, got)
		}
	}
}
