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

// TestLargeSecretsBlocks reads secrets blocks longer than the walker's peek
// and than the read buffer, between packets, whole and in order, with the
// packets around them; a large block cut short or with a wrong trailing
// length stops the file at its offset.
func TestLargeSecretsBlocks(t *testing.T) {
	keys := func(n int, c byte) []byte { return bytes.Repeat([]byte{c}, n) }
	big, huge := keys(100_001, 'a'), keys(3<<20, 'b')
	file := ngFile(shb(), idb(1, 0), epb(0, 60), dsb(uint32(len(big)), big), epb(0, 61), dsb(uint32(len(huge)), huge), dsb(1, []byte("c")), epb(0, 62))
	for _, gz := range []bool{false, true} {
		data := file
		if gz {
			data = gzipped(file)
		}
		f := open(t, data, "secrets.pcapng")
		var got []*capture.Secrets
		f.OnSecrets(func(s *capture.Secrets) error {
			got = append(got, s)
			return nil
		})
		packets, err := readAllPackets(f)
		if err != io.EOF || len(packets) != 3 || len(packets[2].Data) != 62 {
			t.Fatalf("gzip %v: read %d packets then %v, want 3 then io.EOF", gz, len(packets), err)
		}
		want := []struct {
			data   []byte
			packet int64
		}{{big, 2}, {huge, 3}, {[]byte("c"), 3}}
		if len(got) != len(want) {
			t.Fatalf("gzip %v: %d secrets blocks, want %d", gz, len(got), len(want))
		}
		for i, w := range want {
			if !bytes.Equal(got[i].Data, w.data) || got[i].Packet != w.packet {
				t.Errorf("gzip %v: block %d: %d bytes before packet %d, want %d before %d", gz, i, len(got[i].Data), got[i].Packet, len(w.data), w.packet)
			}
		}
	}
	at := len(ngFile(shb(), idb(1, 0), epb(0, 60)))
	block := dsb(uint32(len(huge)), huge)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"cut short", ngFile(shb(), idb(1, 0), epb(0, 60), block[:len(block)-100]), "unexpected EOF"},
		{"trailer mismatch", ngFile(shb(), idb(1, 0), epb(0, 60), block[:len(block)-4], le32(8)), "at the end"},
	} {
		for _, collect := range []bool{false, true} {
			f := open(t, tc.data, "secrets.pcapng")
			if collect {
				f.OnSecrets(func(*capture.Secrets) error { return nil })
			}
			packets, err := readAllPackets(f)
			var fe *capture.FormatError
			if len(packets) != 1 || !errors.As(err, &fe) || fe.Offset != int64(at) || fe.Packet != 2 || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s (collected %v): %d packets then %v, want 1 then an error at offset %d saying %q", tc.name, collect, len(packets), err, at, tc.want)
			}
		}
	}
}
