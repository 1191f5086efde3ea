package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze"
)

// TestDemoTLS: wsviz demo --tls runs the chat over https and wss, decodes
// it live with its own key log, and saves with -w a capture that decrypts
// itself (the secrets it used, in a Decryption Secrets Block).
func TestDemoTLS(t *testing.T) {
	skipWithoutCapture(t)
	t.Setenv("SSLKEYLOGFILE", "")
	path := filepath.Join(t.TempDir(), "demo-tls.pcapng")
	var stdout, stderr syncBuffer
	code := run([]string{"demo", "--tls", "--duration", "2500ms", "--pace", "250ms", "-w", path}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("wsviz demo --tls exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "chat:     https://127.0.0.1:") {
		t.Errorf("stdout = %q, want the chat's https URL", stdout.String())
	}
	if !strings.Contains(stderr.String(), "TLS secrets of its sessions") {
		t.Errorf("stderr = %q, want it to say the secrets were saved", stderr.String())
	}
	events, err := analyze.ReadFile(path, analyze.Options{}) // no keys given: the file's own
	if err != nil {
		t.Fatal(err)
	}
	s := showOf(events)
	handshakes := 0
	for _, ev := range events {
		if ev.Type == analyze.TypeTLSHandshake {
			handshakes++
			if len(ev.Warnings) > 0 || !strings.Contains(ev.Note, "keys found") {
				t.Errorf("tls.handshake: %s %v", ev.Note, ev.Warnings)
			}
		}
	}
	if handshakes < 4 || s.handshakes < 4 || s.fromClient == 0 || s.fromServer == 0 {
		t.Errorf("%d TLS handshakes, %d WebSocket handshakes, %d/%d messages; want the 4 bots over wss, messages both ways", handshakes, s.handshakes, s.fromClient, s.fromServer)
	}
}
