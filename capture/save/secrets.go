package save

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// pcapng block types (draft-ietf-opsawg-pcapng §4).
const (
	blockSHB = 0x0A0D0D0A
	blockIDB = 0x00000001
	blockDSB = 0x0000000A
	// SecretsTLSKeyLog is the Decryption Secrets Block type of a TLS key
	// log (§4.7, "TLSK").
	SecretsTLSKeyLog = 0x544c534b
)

// InjectSecrets rewrites the pcapng file at path with a Decryption Secrets
// Block of the given type holding data, placed after the section header
// and interface descriptions, before the first packet, where readers
// expect the secrets that decrypt the packets ("editcap --inject-secrets"
// does the same). The file is replaced only once the new one is complete.
// It handles the little-endian files Writer makes (and any single-section
// pcapng in the machine's byte order, which is little-endian here).
func InjectSecrets(path string, typ uint32, data []byte) error {
	in, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".wsviz-secrets-*")
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	defer os.Remove(tmp.Name())
	r := bufio.NewReaderSize(in, 1<<20)
	w := bufio.NewWriterSize(tmp, 1<<20)
	// Copy the header blocks (SHB, IDBs) through.
	for {
		h, err := r.Peek(8)
		if err != nil {
			break // no packet at all: the secrets go at the end
		}
		typ := binary.LittleEndian.Uint32(h)
		if typ != blockSHB && typ != blockIDB {
			break
		}
		n := binary.LittleEndian.Uint32(h[4:])
		if typ == blockSHB && binary.LittleEndian.Uint32(h[4:]) > 1<<20 {
			return fmt.Errorf("save: %s: not a little-endian pcapng file", path)
		}
		if _, err := io.CopyN(w, r, int64(n)); err != nil {
			return fmt.Errorf("save: %s: %w", path, err)
		}
	}
	if _, err := w.Write(SecretsBlock(typ, data)); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	if _, err := io.Copy(w, r); err != nil {
		return fmt.Errorf("save: %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return nil
}

// SecretsBlock returns a little-endian Decryption Secrets Block (§4.7):
// type, length, secrets type, secrets length, the data padded to 32 bits,
// no options, the length again.
func SecretsBlock(typ uint32, data []byte) []byte {
	padded := (len(data) + 3) &^ 3
	total := uint32(20 + padded)
	b := make([]byte, 0, total)
	b = binary.LittleEndian.AppendUint32(b, blockDSB)
	b = binary.LittleEndian.AppendUint32(b, total)
	b = binary.LittleEndian.AppendUint32(b, typ)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	b = append(b, make([]byte, padded-len(data))...)
	return binary.LittleEndian.AppendUint32(b, total)
}
