package tlsdec

import (
	"bytes"
	"crypto/tls"
	"strings"
	"testing"
)

// TestGapResync: bytes lost inside a record lose that record only; bytes
// lost across record boundaries are found again by authenticating the
// next record under the sequence numbers the gap can have taken. What
// follows decrypts, and the loss is reported, never filled.
func TestGapResync(t *testing.T) {
	rc, _ := testCerts(t)
	for _, tc := range []struct {
		name string
		max  uint16
	}{{"TLS 1.3", tls.VersionTLS13}, {"TLS 1.2 GCM", tls.VersionTLS12}} {
		t.Run(tc.name, func(t *testing.T) {
			keys := &lockedBuffer{}
			scfg := &tls.Config{Certificates: []tls.Certificate{rc}, KeyLogWriter: keys, MaxVersion: tc.max}
			ccfg := &tls.Config{InsecureSkipVerify: true, MaxVersion: tc.max}
			sizes := []int{1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}
			s := runSession(t, ccfg, scfg, sizes)
			k := parseKeys(t, keys.b.Bytes())
			// Join each direction's bytes in order, then cut a hole in the
			// server's: inside one record, and across two boundaries.
			var stream [2][]byte
			for _, ch := range s.chunks {
				stream[ch.dir] = append(stream[ch.dir], ch.b...)
			}
			srv := stream[Server]
			for _, hole := range []struct{ from, to int }{{len(srv) - 5000, len(srv) - 4990}, {len(srv) - 3500, len(srv) - 1500}} {
				r := &recorder{}
				c := NewConn(Config{Keys: k}, r)
				off := 0 // of the server's stream
				for i, ch := range s.chunks {
					if ch.dir == Client {
						c.Write(Client, ch.b, int64(i+1))
						continue
					}
					for j, b := range ch.b {
						switch {
						case off+j < hole.from || off+j >= hole.to:
							c.Write(Server, []byte{b}, int64(i+1))
						case off+j == hole.from:
							c.Gap(Server, int64(hole.to-hole.from))
						}
					}
					off += len(ch.b)
				}
				c.End()
				all := strings.Join(r.lines, "\n")
				if !bytes.Equal(r.data[Client], s.sent[Client]) {
					t.Errorf("hole %v: client data damaged", hole)
				}
				got := r.data[Server]
				if len(got) == 0 || len(got) >= len(s.sent[Server]) || !bytes.HasPrefix(s.sent[Server], got[:1000]) || !bytes.HasSuffix(s.sent[Server], got[len(got)-500:]) {
					t.Errorf("hole %v: server data %d bytes of %d; want the start and the end, not the hole\n%s", hole, len(got), len(s.sent[Server]), all)
				}
				if !strings.Contains(all, "server lost") || strings.Contains(all, "bad_record_mac") {
					t.Errorf("hole %v: want a loss and no bad_record_mac:\n%s", hole, all)
				}
			}
		})
	}
}
