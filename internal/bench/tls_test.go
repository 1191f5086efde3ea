package bench

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/internal/tls13"
)

// decodeMessages writes cfg's capture (and key log, with keys) and
// returns every ws.message event and every warning code analyze reports.
func decodeMessages(t *testing.T, cfg Config, keys bool) (msgs []analyze.Event, codes map[string]int) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "c.pcap")
	var keylog bytes.Buffer
	if keys {
		cfg.KeyLog = &keylog
	}
	if _, err := GenerateFile(path, cfg); err != nil {
		t.Fatal(err)
	}
	opts := analyze.Options{MaxPayload: -1}
	if keys {
		opts.Keys = analyze.NewKeyLog()
		if err := opts.Keys.Parse(strings.NewReader(keylog.String()), "keys", 0); err != nil {
			t.Fatal(err)
		}
	}
	events, err := analyze.ReadFile(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	codes = map[string]int{}
	for _, ev := range events {
		for _, w := range ev.Warnings {
			codes[w.Code]++
		}
		if ev.Type == analyze.TypeWSMessage {
			msgs = append(msgs, ev)
		}
	}
	return msgs, codes
}

// TestWSSSameMessages: the wss:// variant decodes, with its key log, to
// the very messages of the ws:// one of the same seed (count, order,
// connection, direction, opcode, payload), with no warning; without the
// key log it decodes to none.
func TestWSSSameMessages(t *testing.T) {
	for _, cfg := range []Config{
		{Conns: 3, Messages: 20, Seed: 1},
		{Conns: 2, Messages: 30, Seed: 7, Deflate: true, Records: true},
	} {
		t.Run(fmt.Sprintf("%d×%d deflate=%v", cfg.Conns, cfg.Messages, cfg.Deflate), func(t *testing.T) {
			plain, plainCodes := decodeMessages(t, cfg, false)
			wss, wssCodes := decodeMessages(t, cfg, true)
			if want := cfg.Conns * cfg.Messages; len(plain) != want {
				t.Fatalf("ws:// capture: %d messages, want %d", len(plain), want)
			}
			if len(plainCodes) > 0 || len(wssCodes) > 0 {
				t.Errorf("warnings: ws:// %v, wss:// %v; want none", plainCodes, wssCodes)
			}
			if len(wss) != len(plain) {
				t.Fatalf("wss:// capture: %d messages, want %d as in the ws:// one", len(wss), len(plain))
			}
			for i := range plain {
				p, w := plain[i], wss[i]
				if w.Conn != p.Conn || w.From != p.From || w.Message.Opcode != p.Message.Opcode ||
					!bytes.Equal(w.Message.Payload, p.Message.Payload) || w.Message.Undecodable {
					t.Fatalf("message %d: wss:// conn %d from %s %s %q, want conn %d from %s %s %q", i,
						w.Conn, w.From, w.Message.Opcode, w.Message.Payload, p.Conn, p.From, p.Message.Opcode, p.Message.Payload)
				}
			}
		})
	}
}

// TestWSSRecords: a write is one record, a longer one is cut at 16 KiB of
// plaintext (RFC 8446 §5.1); the decoding itself is TestWSSSameMessages'.
func TestWSSRecords(t *testing.T) {
	var keylog bytes.Buffer
	tc, err := newTLSConn(rand.New(rand.NewPCG(1, 2)), keyLogWriter(&keylog))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, tls13.MaxPlaintext - 1, tls13.MaxPlaintext, tls13.MaxPlaintext + 1, 3*tls13.MaxPlaintext + 5} {
		plain := bytes.Repeat([]byte{'x'}, n)
		recs := tc.client.AppendRecords(nil, contentApplicationData, plain)
		want := max(1, (n+tls13.MaxPlaintext-1)/tls13.MaxPlaintext)
		got, total := 0, 0
		for b := recs; len(b) > 0; got++ {
			if len(b) < 5 || b[0] != contentApplicationData {
				t.Fatalf("%d bytes: record %d: bad header % x", n, got, b[:min(5, len(b))])
			}
			l := int(b[3])<<8 | int(b[4])
			total += l - 1 - 16
			if l-17 > tls13.MaxPlaintext {
				t.Errorf("%d bytes: record %d carries %d bytes, more than %d", n, got, l-17, tls13.MaxPlaintext)
			}
			b = b[5+l:]
		}
		if got != want || total != n {
			t.Errorf("appendRecords(%d bytes) = %d records carrying %d bytes, want %d records", n, got, total, want)
		}
	}
}
