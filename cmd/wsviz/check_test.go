package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze"
)

func TestCheck(t *testing.T) {
	v := "../../testdata/violations/"
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // lines expected, in order
		stderr string
	}{
		{"clean", []string{"-r", sessionDir + "ab.pcapng"}, 0, nil, "wsviz check: no protocol violations\n"},
		{"a violation", []string{"-r", v + "ws.unmasked_client_frame.pcap"}, 1,
			[]string{", connection 1 /chat, client: ws.frame ws.unmasked_client_frame: client frame is not masked"},
			"wsviz check: 1 violation in 1 connection (1 ws.unmasked_client_frame)\n"},
		{"flags after the file", []string{"-r", v + "ws.invalid_utf8.pcap", "--codes", "ws.invalid_utf8"}, 1, []string{"ws.invalid_utf8"}, "1 violation in 1 connection (1 ws.invalid_utf8)"},
		{"display filter", []string{"-r", v + "ws.unmasked_client_frame.pcap", "-Y", `from == "server"`}, 0, nil, "no protocol violations"},
		{"conn", []string{"-r", v + "ws.unmasked_client_frame.pcap", "--conn", "1"}, 1, []string{"ws.unmasked_client_frame"}, "1 violation"},
		{"not a listed code", []string{"-r", v + "ws.unmasked_client_frame.pcap", "--codes", "ws.invalid_utf8,http.bad_accept"}, 0, nil,
			"wsviz check: no protocol violations; 1 other warning not counted\n"},
		{"a listed family", []string{"--codes", "ws.*", "-r", v + "ws.unmasked_client_frame.pcap"}, 1, []string{"ws.unmasked_client_frame"}, "1 violation"},
		{"a capture artefact is not a violation", []string{"-r", v + "tcp.gap.pcap"}, 0, nil, "no protocol violations; 2 other warnings not counted"},
		{"unless listed", []string{"-r", v + "tcp.gap.pcap", "--codes", "tcp.gap"}, 1,
			[]string{"connection 1 /chat, server: tcp.gap tcp.gap: ", "connection 1 /chat, server: ws.message tcp.gap: "}, "2 violations in 1 connection (2 tcp.gap)"},
		{"handshake", []string{"-r", v + "http.bad_accept.pcap"}, 1, []string{"ws.open http.bad_accept: "}, "1 http.bad_accept"},
		{"HTTP/2, and a switch to it, are not violations", []string{"-r", "../../testdata/h2/h2c.pcap"}, 0, nil, "no protocol violations"},
		{"nor is another upgrade", []string{"-r", "../../testdata/violations/http.not_websocket.pcap"}, 0, nil, "no protocol violations; 1 other warning not counted"},
		{"nor is HTTP/2 over TLS", []string{"-r", "../../testdata/h2/h2-tls.pcapng"}, 0, nil, "no protocol violations"},
		{"nor WebSocket over HTTP/2 (RFC 8441)", []string{"-r", "../../testdata/h2-websocket.pcapng"}, 0, nil, "no protocol violations"},
		{"unless listed too", []string{"-r", "../../testdata/violations/http.not_websocket.pcap", "--codes", "http.not_websocket"}, 1,
			[]string{"packet 5, connection 1 *, server: http.error http.not_websocket: "}, "1 violation in 1 connection (1 http.not_websocket)"},
		{"an HTTP/2 violation names its stream", []string{"-r", "../../testdata/violations/h2.connect_not_enabled.pcap"}, 1,
			[]string{"packet 7, connection 1 /chat, stream 1, client: http.request h2.connect_not_enabled: "}, "1 violation in 1 connection (1 h2.connect_not_enabled)"},
		{"filter", []string{"-r", v + "ws.unmasked_client_frame.pcap", "port", "1"}, 0, nil, "no protocol violations"},
		{"quiet", []string{"-q", "-r", v + "ws.reserved_bits.pcap"}, 1, []string{"ws.reserved_bits"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := wsviz(t, append([]string{"check"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) || tc.stderr == "" && errOut != "" {
				t.Errorf("wsviz check %v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.stderr)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if out == "" {
				lines = nil
			}
			if len(lines) != len(tc.stdout) {
				t.Fatalf("wsviz check %v printed %d lines, want %d:\n%s", tc.args, len(lines), len(tc.stdout), out)
			}
			for i, want := range tc.stdout {
				if !strings.Contains(lines[i], want) {
					t.Errorf("line %d: %q, want %q", i+1, lines[i], want)
				}
			}
		})
	}
}

// TestNotViolationsAreCodes: every code check leaves aside by default is
// one the analyzer can raise.
func TestNotViolationsAreCodes(t *testing.T) {
	for _, code := range notViolations {
		if _, ok := analyze.LookupCode(code); !ok {
			t.Errorf("notViolations lists %q, which is not in the registry (analyze.Codes)", code)
		}
	}
}

func TestCheckErrors(t *testing.T) {
	dir := t.TempDir()
	whole, err := os.ReadFile("../../testdata/violations/ws.unmasked_client_frame.pcap")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcap")
	os.WriteFile(cut, whole[:len(whole)-10], 0o644)
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("notes\n"), 0o644)
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"check"}, "give -r FILE"},
		{[]string{"check", "-r", notes}, "not a pcap or pcapng file"},
		{[]string{"check", "-r", cut}, "the capture could not be read to the end, so it was not all checked: capture: "},
		{[]string{"check", "-r", cut, "port", "port"}, "filter"},
	} {
		code, out, errOut := wsviz(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("wsviz %v: exit %d, stderr %q; want 2 and %q\n%s", tc.args, code, errOut, tc.stderr, out)
		}
	}
	// What was decoded before the cut is still listed.
	if _, out, _ := wsviz(t, "check", "-r", cut); !strings.Contains(out, "ws.unmasked_client_frame") {
		t.Errorf("violations before the cut are not listed:\n%s", out)
	}
}
