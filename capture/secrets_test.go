package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/capture"
)

// TestSecretsBlock reads the Decryption Secrets Block that
// "editcap --inject-secrets tls,wss.keys" put into testdata/wss-dsb.pcapng:
// its data is the key log, whole, before the first packet.
func TestSecretsBlock(t *testing.T) {
	keys, err := os.ReadFile("../testdata/wss.keys")
	if err != nil {
		t.Fatal(err)
	}
	f, err := capture.OpenFile("../testdata/wss-dsb.pcapng")
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
		_, err := f.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if len(got) != 1 {
		t.Fatalf("%d secrets blocks, want 1", len(got))
	}
	s := got[0]
	if s.Type != capture.SecretsTLSKeyLog || !bytes.Equal(bytes.TrimRight(s.Data, "\x00"), keys) || s.Packet != 1 {
		t.Errorf("secrets type %#x, packet %d, %d bytes; want TLSK, 1, the %d bytes of wss.keys", s.Type, s.Packet, len(s.Data), len(keys))
	}
	if n < 400 {
		t.Errorf("%d packets after the secrets block", n)
	}
}

// dsb builds a Decryption Secrets Block (little-endian) with a declared
// secrets length and data.
func dsb(secretsLen uint32, data []byte) []byte {
	padded := (len(data) + 3) &^ 3
	total := uint32(20 + padded)
	b := binary.LittleEndian.AppendUint32(nil, 0x0A)
	b = binary.LittleEndian.AppendUint32(b, total)
	b = binary.LittleEndian.AppendUint32(b, capture.SecretsTLSKeyLog)
	b = binary.LittleEndian.AppendUint32(b, secretsLen)
	b = append(b, data...)
	b = append(b, make([]byte, padded-len(data))...)
	return binary.LittleEndian.AppendUint32(b, total)
}

// TestSecretsBlockErrors: a block whose secrets overrun it, and an error
// from the handler, stop the file with an error naming the block.
func TestSecretsBlockErrors(t *testing.T) {
	orig, err := os.ReadFile("../testdata/wss.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	// The section header and interface description come first; insert
	// the block after them, where editcap puts it.
	shbLen := binary.LittleEndian.Uint32(orig[4:])
	idbLen := binary.LittleEndian.Uint32(orig[shbLen+4:])
	at := int(shbLen + idbLen)
	for _, tc := range []struct {
		name    string
		block   []byte
		handler error
		want    string
	}{
		{"secrets overrun the block", dsb(1000, []byte("CLIENT_RANDOM")), nil, "decryption secrets block: secrets length 1000 exceeds the block length"},
		{"handler error", dsb(5, []byte("x y z")), errors.New("keylog line 1: bad"), "decryption secrets block: keylog line 1: bad"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := append(append(append([]byte(nil), orig[:at]...), tc.block...), orig[at:]...)
			f, err := capture.NewReader(bytes.NewReader(file), "t.pcapng")
			if err != nil {
				t.Fatal(err)
			}
			f.OnSecrets(func(*capture.Secrets) error { return tc.handler })
			_, err = f.ReadPacket()
			var fe *capture.FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) || fe.Offset != int64(at) {
				t.Errorf("ReadPacket = %v, want a FormatError at offset %d with %q", err, at, tc.want)
			}
		})
	}
}
