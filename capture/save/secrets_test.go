package save_test

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/save"
)

// TestInjectSecrets: a saved capture with a key log injected reads back
// with the secrets before the first packet, and the packets unchanged.
func TestInjectSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.pcapng")
	w, err := save.Create(path, save.Interface{Name: "lo", LinkType: capture.LinkTypeEthernet})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		p := capture.Packet{Timestamp: time.Unix(int64(i), 0), Data: bytes.Repeat([]byte{byte(i)}, 60), Length: 60}
		if err := w.WritePacket(&p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	keylog := []byte("CLIENT_RANDOM " + string(bytes.Repeat([]byte("ab"), 32)) + " " + string(bytes.Repeat([]byte("01"), 48)) + "\n")
	if err := save.InjectSecrets(path, save.SecretsTLSKeyLog, keylog); err != nil {
		t.Fatal(err)
	}
	f, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []*capture.Secrets
	f.OnSecrets(func(s *capture.Secrets) error {
		got = append(got, s)
		return nil
	})
	n := 0
	for {
		p, err := f.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p.Data, bytes.Repeat([]byte{byte(n)}, 60)) {
			t.Errorf("packet %d changed", n+1)
		}
		n++
	}
	if n != 3 || len(got) != 1 || got[0].Packet != 1 || got[0].Type != capture.SecretsTLSKeyLog || !bytes.Equal(got[0].Data, keylog) {
		t.Errorf("%d packets, secrets %+v; want 3 packets and the key log before the first", n, got)
	}
}
