package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/internal/echotest"
)

// TestEventsKeylog: --keylog decrypts a wss:// capture as its own secrets
// block does; SSLKEYLOGFILE is used (and said) when no flag is given; a
// malformed key log is a usage error naming the file and the line.
func TestEventsKeylog(t *testing.T) {
	want, err := os.ReadFile("../../testdata/wss-dsb.golden")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSLKEYLOGFILE", "")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"events", "--keylog", "../../testdata/wss.keys", "-r", "../../testdata/wss.pcapng"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !bytes.Equal(stdout.Bytes(), want) {
		t.Errorf("events --keylog wss.keys -r wss.pcapng differs from wss-dsb.golden:\n%s", lineDiff(string(want), stdout.String()))
	}

	t.Setenv("SSLKEYLOGFILE", "../../testdata/wss.keys")
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"events", "-r", "../../testdata/wss.pcapng"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !bytes.Equal(stdout.Bytes(), want) {
		t.Errorf("SSLKEYLOGFILE: output differs from wss-dsb.golden")
	}
	if !strings.Contains(stderr.String(), "TLS keys from SSLKEYLOGFILE=../../testdata/wss.keys") {
		t.Errorf("stderr %q does not say the keys come from SSLKEYLOGFILE", stderr.String())
	}

	bad := filepath.Join(t.TempDir(), "bad.keys")
	os.WriteFile(bad, []byte("# fine\nCLIENT_RANDOM 1234 abcd\n"), 0o644)
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"events", "--keylog", bad, "-r", "../../testdata/wss.pcapng"}, &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2 (usage)", code)
	}
	if !strings.Contains(stderr.String(), "keylog "+bad+" line 2: CLIENT_RANDOM client random: 4 hex digits, want 64") {
		t.Errorf("stderr %q does not name the file and line", stderr.String())
	}
}

// TestLiveKeysWhileQuiet: two wss:// conversations captured live whose
// endpoint writes its key log only after them; one connection then goes
// quiet (open, no keep-alives: no packet at all), the other closed
// before the keys came (and waits for them, closed). The
// capture, idle, reads the key log as it grows and shows every message
// with no further packet: the packet count when the messages appear is
// the one from before the keys were written.
func TestLiveKeysWhileQuiet(t *testing.T) {
	var secrets syncBuffer
	ln, err := (&net.ListenConfig{KeepAlive: -1}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(echotest.Handler(false))
	srv.Listener.Close()
	srv.Listener = ln
	srv.TLS = &tls.Config{KeyLogWriter: &secrets}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	port := ln.Addr().(*net.TCPAddr).Port

	path := filepath.Join(t.TempDir(), "keys.log")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	keys, err := analyze.ReadKeyLogFile(path)
	if err != nil {
		t.Fatal(err)
	}
	followed.Store(keys, path)
	lc := openLiveOrSkip(t, []string{"-i", "lo", "tcp", "port", fmt.Sprint(port)}, liveOptions{}, &syncBuffer{})
	var log eventLog
	decoded := make(chan error, 1)
	go func() { decoded <- lc.Decode(analyze.Options{Keys: keys}, log.emit) }()
	t.Cleanup(func() {
		lc.Stop()
		<-decoded
	})

	d := websocket.Dialer{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		NetDialContext:  (&net.Dialer{KeepAlive: -1}).DialContext,
	}
	client, _, err := d.Dial(fmt.Sprintf("wss://127.0.0.1:%d/", port), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	tok := fmt.Sprintf("quiet%d", time.Now().UnixNano()%1e6)
	sent := converse(t, client, tok, 3)
	// A second conversation, over before the keys are read: its
	// connection closes while its records wait for them.
	short, _, err := d.Dial(fmt.Sprintf("wss://127.0.0.1:%d/", port), nil)
	if err != nil {
		t.Fatal(err)
	}
	sent = append(sent, converse(t, short, tok+"-short", 2)...)
	short.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	short.ReadMessage() // the server's close
	short.Close()

	// The conversation is over and the connection quiet: wait until the
	// capture has read every packet (the count still for half a second).
	var packets uint64
	waitUntil(t, "a quiet capture", func() bool {
		n := lc.Stats().Packets
		time.Sleep(500 * time.Millisecond)
		packets = lc.Stats().Packets
		return n > 0 && n == packets
	})
	if n := messageCounts(log.snapshot()); len(n) > 0 {
		t.Fatalf("messages decoded before the key log had their keys: %v", n)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(secrets.String()); err != nil {
		t.Fatal(err)
	}
	f.Close()

	// The messages, and the short conversation's tcp.close after them:
	// the decoder emits them one by one once the keys are read, so a
	// snapshot can fall between the last message and the close.
	waitUntil(t, "the messages and the short connection's close after the keys", func() bool {
		events := log.snapshot()
		n := messageCounts(events)
		for _, m := range sent {
			if n["client:"+m] == 0 || n["server:re:"+m] == 0 {
				return false
			}
		}
		return slices.ContainsFunc(events, func(ev analyze.Event) bool {
			return ev.Type == analyze.TypeTCPClose && ev.Conn == 2
		})
	})
	if now := lc.Stats().Packets; now != packets {
		t.Errorf("the capture read %d packets after the keys were written: the messages came with a packet, not while it was quiet", now-packets)
	}
	// The short conversation's connection closed after its messages, as
	// it did on the wire, and nothing is shown without keys.
	var closed bool
	for _, ev := range log.snapshot() {
		switch {
		case ev.Type == analyze.TypeTCPClose && ev.Conn == 2:
			closed = ev.TCPClose.How == analyze.CloseFIN || ev.TCPClose.How == analyze.CloseRST
		case ev.Conn == 2 && closed:
			t.Errorf("%s of conn 2 after its tcp.close", ev.Type)
		case ev.HasWarning("tls.no_keys"):
			t.Errorf("%s of conn %d has tls.no_keys", ev.Type, ev.Conn)
		}
	}
	if !closed {
		t.Errorf("no tcp.close (fin or rst) for the short conversation's connection")
	}
}
