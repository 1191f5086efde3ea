package tlsdec

import (
	"errors"
	"strings"
	"testing"
)

func TestKeyLogParse(t *testing.T) {
	r := strings.Repeat("ab", 32)
	s32, s48 := strings.Repeat("01", 32), strings.Repeat("02", 48)
	for _, tc := range []struct {
		name, log string
		n         int    // secrets held after
		err       string // "" or a substring of the error
	}{
		{"empty", "", 0, ""},
		{"comments and blank lines", "# SSL/TLS secrets log file\n\n   \n# more\n", 0, ""},
		{"tls12", "CLIENT_RANDOM " + r + " " + s48 + "\n", 1, ""},
		{"tls13 four", "CLIENT_HANDSHAKE_TRAFFIC_SECRET " + r + " " + s32 + "\nSERVER_HANDSHAKE_TRAFFIC_SECRET " + r + " " + s32 +
			"\nCLIENT_TRAFFIC_SECRET_0 " + r + " " + s48 + "\nSERVER_TRAFFIC_SECRET_0 " + r + " " + s48 + "\n", 4, ""},
		{"crlf and no final newline", "CLIENT_RANDOM " + r + " " + s48 + "\r\nCLIENT_EARLY_TRAFFIC_SECRET " + r + " " + s32, 2, ""},
		{"upper-case hex", "CLIENT_RANDOM " + strings.ToUpper(r) + " " + s48 + "\n", 1, ""},
		{"exporter and unknown labels skipped", "EXPORTER_SECRET " + r + " " + s32 + "\nFUTURE_LABEL_9 x y\n", 0, ""},
		{"duplicate kept once", "CLIENT_RANDOM " + r + " " + s48 + "\nCLIENT_RANDOM " + r + " " + s48 + "\n", 1, ""},
		{"two fields", "CLIENT_RANDOM " + r + "\n", 0, "line 1: 2 fields, want 3"},
		{"four fields", "# ok\nCLIENT_RANDOM " + r + " " + s48 + " extra\n", 0, "line 2: 4 fields"},
		{"short random", "CLIENT_RANDOM abcd " + s48 + "\n", 0, "line 1: CLIENT_RANDOM client random: 4 hex digits, want 64"},
		{"bad hex random", "CLIENT_RANDOM " + strings.Repeat("zz", 32) + " " + s48 + "\n", 0, "client random: not hexadecimal"},
		{"bad hex secret", "CLIENT_RANDOM " + r + " " + strings.Repeat("g0", 48) + "\n", 0, "secret: not hexadecimal"},
		{"odd secret", "CLIENT_RANDOM " + r + " 012\n", 0, "odd number of hex digits"},
		{"master of 32 bytes", "CLIENT_RANDOM " + r + " " + s32 + "\n", 0, "32 bytes, want 48"},
		{"traffic secret of 16 bytes", "CLIENT_TRAFFIC_SECRET_0 " + r + " " + strings.Repeat("03", 16) + "\n", 0, "16 bytes, want 32 (SHA-256) or 48 (SHA-384)"},
		{"lower-case label", "client_random " + r + " " + s48 + "\n", 0, "not a key log label"},
		{"binary junk", "\x00\x01\x02 a b\n", 0, "not a key log label"},
		{"ignored label with bad hex", "EXPORTER_SECRET " + r + " xyz\n", 0, "EXPORTER_SECRET field 3: not hexadecimal"},
		{"line too long", strings.Repeat("A", MaxKeyLogLine+1) + "\n", 0, "line 1: line too long"},
		{"long line without newline", strings.Repeat("A", MaxKeyLogLine+1), 0, "line 1: line too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := NewKeyLog()
			err := k.Parse(strings.NewReader(tc.log), "keys.log", 0)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Parse = %v, want nil", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("Parse = %v, want an error with %q", err, tc.err)
			case tc.err != "":
				var ke *KeyLogError
				if !errors.As(err, &ke) || ke.Name != "keys.log" || !strings.HasPrefix(err.Error(), "keylog keys.log line ") {
					t.Errorf("Parse = %#v, want a *KeyLogError naming keys.log and the line", err)
				}
			}
			if k.Len() != tc.n {
				t.Errorf("Len() = %d, want %d", k.Len(), tc.n)
			}
		})
	}
}

// TestKeyLogGrowing feeds a key log in pieces, as a live capture reads a
// key log file that grows, and checks that secrets are visible only from
// the packet they were added at.
func TestKeyLogGrowing(t *testing.T) {
	r := strings.Repeat("cd", 32)
	line := "CLIENT_RANDOM " + r + " " + strings.Repeat("0f", 48) + "\n"
	k := NewKeyLog()
	p := k.NewParser("growing")
	v0 := k.Version()
	for i := 0; i < len(line)-1; i += 7 {
		if err := p.Write([]byte(line[i:min(i+7, len(line)-1)]), 10); err != nil {
			t.Fatal(err)
		}
	}
	if k.Len() != 0 || k.Version() != v0 {
		t.Fatalf("a line without its newline was parsed")
	}
	if err := p.Write([]byte("\n"), 10); err != nil {
		t.Fatal(err)
	}
	var random [32]byte
	copy(random[:], unhex(t, r))
	if k.Lookup(random, 9).Master != nil {
		t.Errorf("Lookup at packet 9 found a secret added at packet 10")
	}
	if k.Lookup(random, 10).Master == nil || k.Version() == v0 {
		t.Errorf("Lookup at packet 10 found nothing, or Version did not change")
	}
}
