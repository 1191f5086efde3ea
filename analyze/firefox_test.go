package analyze_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/wsviz/wsviz/analyze"
)

// firefoxSent is a line of testdata/firefox-wss.sent: a message an
// endpoint logged as it sent it (browsertests/cmd/firefoxcap).
type firefoxSent struct {
	From   string `json:"from"`
	Opcode string `json:"opcode"`
	Len    int    `json:"len"`
	SHA256 string `json:"sha256"`
}

// TestFirefoxWSS: a real Firefox ESR 140 (NSS's TLS 1.3) loading a page
// over HTTP/2 and talking wss:// over HTTP/1.1 with permessage-deflate to a
// Go server, captured live by wsviz with the secrets Firefox logged saved
// in the pcapng. Decoded from the file alone, on one worker and two, every
// message each endpoint logged comes out byte for byte, in order; the
// WebSocket's connection is TLS 1.3 with its keys found and carries no
// warning; the page's connection speaks HTTP/2.
func TestFirefoxWSS(t *testing.T) {
	f, err := os.Open("../testdata/firefox-wss.sent")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]firefoxSent{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var s firefoxSent
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		want[s.From] = append(want[s.From], s)
	}
	f.Close()
	if len(want[analyze.FromClient]) != 11 || len(want[analyze.FromServer]) != 11 {
		t.Fatalf("the .sent file has %d client and %d server messages, want 11 each", len(want[analyze.FromClient]), len(want[analyze.FromServer]))
	}
	for _, workers := range []int{1, 2} {
		events, err := analyze.ReadFile("../testdata/firefox-wss.pcapng", analyze.Options{MaxPayload: -1, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		wsConn, h2 := 0, 0
		for _, ev := range events {
			if ev.Type == analyze.TypeWSOpen {
				if wsConn != 0 {
					t.Fatalf("two WebSocket connections")
				}
				wsConn = ev.Conn
			}
			if ev.HasWarning("tls.alpn_h2") {
				h2++
			}
		}
		got := map[string][]firefoxSent{}
		keys := false
		for _, ev := range events {
			if ev.Conn != wsConn {
				continue
			}
			for _, w := range ev.Warnings {
				t.Errorf("%d workers: %s at packet %d: %s: %s", workers, ev.Type, ev.Packet, w.Code, w.Msg)
			}
			switch ev.Type {
			case analyze.TypeTLSHandshake:
				keys = ev.TLS.Keys && ev.TLS.Version == "TLS 1.3" && ev.TLS.ALPN == "http/1.1"
			case analyze.TypeWSMessage:
				if op := ev.Message.Opcode; op == "text" || op == "binary" {
					h := sha256.Sum256(ev.Message.Payload)
					got[ev.From] = append(got[ev.From], firefoxSent{ev.From, op, len(ev.Message.Payload), hex.EncodeToString(h[:])})
				}
			}
		}
		if wsConn == 0 || !keys || h2 != 1 {
			t.Errorf("%d workers: WebSocket connection %d, its TLS 1.3 keys found %v, %d connections with ALPN h2 (want 1)", workers, wsConn, keys, h2)
		}
		for _, from := range []string{analyze.FromClient, analyze.FromServer} {
			if len(got[from]) != len(want[from]) {
				t.Errorf("%d workers: %d messages from the %s, want %d", workers, len(got[from]), from, len(want[from]))
				continue
			}
			for i := range want[from] {
				if got[from][i] != want[from][i] {
					t.Errorf("%d workers: %s message %d: %+v, want %+v", workers, from, i+1, got[from][i], want[from][i])
				}
			}
		}
	}
}
