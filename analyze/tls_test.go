package analyze_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze"
)

// sentMessage is a line of testdata/wss.sent: a message an endpoint of
// the capture logged as it sent it (internal/tlscap).
type sentMessage struct {
	Conn   int    `json:"conn"`
	From   string `json:"from"`
	Opcode string `json:"opcode"`
	Text   string `json:"text"`
	Base64 []byte `json:"base64"`
}

func readSent(t *testing.T, path string) map[int][]sentMessage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[int][]sentMessage{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m sentMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		out[m.Conn] = append(out[m.Conn], m)
	}
	return out
}

// TestWSSAgainstEndpoints decodes the wss:// capture of testdata (ten
// connections: TLS 1.3 with deflate, TLS 1.2 with AES-GCM, ChaCha20 and
// AES-CBC suites, resumed by ticket and by PSK, after a HelloRetryRequest,
// one whose keys were withheld) with the key log the endpoints wrote, from
// a file and from the pcapng's own secrets block, and checks every text
// and binary message against what the endpoints logged they sent.
func TestWSSAgainstEndpoints(t *testing.T) {
	sent := readSent(t, "../testdata/wss.sent")
	keys, err := analyze.ReadKeyLogFile("../testdata/wss.keys")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file string
		opts       analyze.Options
	}{
		{"keylog file", "../testdata/wss.pcapng", analyze.Options{Keys: keys, MaxPayload: -1}},
		{"secrets block", "../testdata/wss-dsb.pcapng", analyze.Options{MaxPayload: -1}},
		{"secrets block, sharded", "../testdata/wss-dsb.pcapng", analyze.Options{MaxPayload: -1, Workers: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events, err := analyze.ReadFile(tc.file, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := map[int][]sentMessage{}
			handshakes := map[int]string{}
			for _, ev := range events {
				switch ev.Type {
				case analyze.TypeWSMessage:
					if ev.Message.Opcode != "text" && ev.Message.Opcode != "binary" {
						continue
					}
					m := sentMessage{Conn: ev.Conn, From: ev.From, Opcode: ev.Message.Opcode}
					if m.Opcode == "text" {
						m.Text = string(ev.Message.Payload)
					} else {
						m.Base64 = ev.Message.Payload
					}
					got[ev.Conn] = append(got[ev.Conn], m)
				case analyze.TypeTLSHandshake:
					handshakes[ev.Conn] = ev.Note
				}
				for _, w := range ev.Warnings {
					if strings.HasPrefix(w.Code, "tls.") && !(ev.Conn == 10 && w.Code == "tls.no_keys") {
						t.Errorf("conn %d %s: unexpected warning %s: %s", ev.Conn, ev.Type, w.Code, w.Msg)
					}
				}
			}
			for conn := 1; conn <= 10; conn++ {
				want := sent[conn]
				if conn == 10 {
					want = nil // no keys: nothing may be shown
				}
				if fmt.Sprint(got[conn]) != fmt.Sprint(want) {
					t.Errorf("conn %d: messages differ from what the endpoints sent:\ngot  %.300v\nwant %.300v", conn, got[conn], want)
				}
				if handshakes[conn] == "" {
					t.Errorf("conn %d: no tls.handshake event", conn)
				}
			}
			for conn, want := range map[int]string{
				1:  "TLS 1.3 with TLS_AES_128_GCM_SHA256, server name wsviz.test, application protocol http/1.1; keys found",
				4:  "TLS 1.2 with TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
				6:  "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,",
				7:  "resuming an earlier session (ticket)",
				8:  "resuming an earlier session (psk)",
				9:  "after a HelloRetryRequest",
				10: "no keys: the records stay encrypted",
			} {
				if !strings.Contains(handshakes[conn], want) {
					t.Errorf("conn %d: tls.handshake note %q, want it to say %q", conn, handshakes[conn], want)
				}
			}
		})
	}
}

// TestWSSWithoutKeys: without keys, every connection is shown as TLS with
// its server name and its records' sizes, and no message is invented.
func TestWSSWithoutKeys(t *testing.T) {
	events, err := analyze.ReadFile("../testdata/wss.pcapng", analyze.Options{})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, ev := range events {
		counts[ev.Type]++
		if ev.Type == analyze.TypeTLSHandshake && (!ev.HasWarning("tls.no_keys") || !strings.Contains(ev.Note, "server name wsviz.test")) {
			t.Errorf("conn %d: %s %v", ev.Conn, ev.Note, ev.Warnings)
		}
	}
	if counts[analyze.TypeWSMessage]+counts[analyze.TypeHTTPRequest]+counts[analyze.TypeWSOpen] != 0 || counts[analyze.TypeTLSHandshake] != 10 || counts[analyze.TypeTLSRecord] < 100 {
		t.Errorf("event counts %v: want 10 tls.handshake, many tls.record, no HTTP or WebSocket", counts)
	}
}

// TestCarriedAccountsForEveryRecord: on the wss:// capture, with keys and
// without, the records listed on the events (tls_records) and the records
// that could not be read (tls.record) add up, direction by direction, to
// every byte TCP carried (tcp.close's client_bytes and server_bytes): the
// network's view of a connection is complete, and no record is listed
// twice. With workers the listing is the same.
func TestCarriedAccountsForEveryRecord(t *testing.T) {
	keys, err := analyze.ReadKeyLogFile("../testdata/wss.keys")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts analyze.Options
	}{
		{"keys", analyze.Options{Keys: keys, Workers: 1}},
		{"keys, 2 workers", analyze.Options{Keys: keys, Workers: 2}},
		{"no keys", analyze.Options{Workers: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := analyze.ReadFile("../testdata/wss.pcapng", tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			type key struct {
				conn int
				from string
			}
			seen := map[key]int64{}
			listed := map[key]int{}
			closed := 0
			for _, ev := range evs {
				k := key{ev.Conn, ev.From}
				for _, r := range ev.Carried.Records {
					if r.Len < 5+1 || r.Packet > ev.Packet {
						t.Errorf("conn %d %s: %s lists record %+v: too short or after the event's packet %d", ev.Conn, ev.From, ev.Type, r, ev.Packet)
					}
					seen[k] += int64(r.Len)
				}
				seen[k] += ev.Carried.MoreLen
				listed[k] += len(ev.Carried.Records)
				if ev.Type == analyze.TypeTLSRecord {
					seen[k] += int64(ev.TLS.RecordLen)
				}
				if ev.Type == analyze.TypeWSMessage && ev.From != "" && len(ev.Carried.Records) == 0 && tc.opts.Keys != nil {
					// Every message of this capture has a record of its own.
					t.Errorf("conn %d: %s message at packet %d lists no record", ev.Conn, ev.From, ev.Packet)
				}
				if ev.Type != analyze.TypeTCPClose {
					continue
				}
				closed++
				for _, side := range []struct {
					from  string
					bytes int64
				}{{analyze.FromClient, ev.TCPClose.ClientBytes}, {analyze.FromServer, ev.TCPClose.ServerBytes}} {
					if got := seen[key{ev.Conn, side.from}]; got != side.bytes {
						t.Errorf("conn %d %s: records listed and unread add up to %d bytes, TCP carried %d", ev.Conn, side.from, got, side.bytes)
					}
				}
			}
			if closed != 10 || len(listed) == 0 {
				t.Errorf("%d connections closed, %d directions listed records; want 10 and some", closed, len(listed))
			}
		})
	}
}
