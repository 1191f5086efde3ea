package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
