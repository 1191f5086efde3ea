package capture

import "fmt"

// pcapng Decryption Secrets Block (draft-ietf-opsawg-pcapng §4.7): the
// secrets needed to decrypt the packets of the file, as
// "editcap --inject-secrets" and "wsviz ... -w" write them.
const (
	ngBlockDSB = 0x0000000A
	// SecretsTLSKeyLog is the secrets type of a TLS key log in the NSS
	// format ("TLSK"): the block's data is the key log's text.
	SecretsTLSKeyLog = 0x544c534b
	ngMinDSBLen      = 20 // type, length, secrets type, secrets length, trailing length
	// MaxSecretsLength bounds one Decryption Secrets Block: a key log of
	// about 80,000 TLS 1.3 sessions. A longer block is corrupt for wsviz.
	MaxSecretsLength = 64 << 20
)

// Secrets is the content of one Decryption Secrets Block.
type Secrets struct {
	// Type is the secrets type, SecretsTLSKeyLog for a TLS key log.
	Type uint32
	// Data is the secrets data, without padding. It is the reader's own
	// copy.
	Data []byte
	// Packet is the number of the first packet after the block: the
	// secrets apply from there on (a block normally precedes the packets
	// it decrypts, but one written during a live capture can follow some).
	Packet int64
	// Offset is the block's byte offset in the file.
	Offset int64
}

// SecretsSource is implemented by sources that carry decryption secrets:
// a pcapng File.
type SecretsSource interface {
	Source
	// OnSecrets registers fn, called with every Decryption Secrets Block
	// read from then on, during the ReadPacket that reads past it. An
	// error from fn stops the file with that error, in a *FormatError
	// naming the block.
	OnSecrets(fn func(*Secrets) error)
}

var _ SecretsSource = (*File)(nil)

// OnSecrets implements SecretsSource.
func (f *File) OnSecrets(fn func(*Secrets) error) {
	if fn == nil {
		f.rec.onSecrets = nil
		return
	}
	f.rec.onSecrets = func(s *Secrets) error {
		s.Packet = f.n + 1
		return fn(s)
	}
}

// secretsBlock collects a Decryption Secrets Block as the walker passes
// over it (skipBlock), and hands it over when complete.
type secretsBlock struct {
	buf []byte
}

// startSecrets checks a Decryption Secrets Block's length at its header
// and starts collecting it.
func (r *recordReader) startSecrets(length uint32) error {
	if length < ngMinDSBLen {
		return r.errorf(fmt.Errorf("decryption secrets block: length %d is less than %d", length, ngMinDSBLen))
	}
	if length > MaxSecretsLength {
		return r.errorf(fmt.Errorf("decryption secrets block: length %d exceeds the limit of %d bytes", length, MaxSecretsLength))
	}
	if r.onSecrets != nil {
		r.secrets = &secretsBlock{buf: make([]byte, 0, length)}
	}
	return nil
}

// collectSecrets keeps bytes of the current block as the walker passes them
// and, once the whole block passed, decodes it and calls onSecrets.
func (r *recordReader) collectSecrets(b []byte) error {
	s := r.secrets
	s.buf = append(s.buf, b...)
	if int64(len(s.buf)) < r.size {
		return nil
	}
	r.secrets = nil
	blk := s.buf
	typ, n := r.u32(blk[8:]), r.u32(blk[12:])
	if uint64(n) > uint64(len(blk)-ngMinDSBLen) {
		return r.errorf(fmt.Errorf("decryption secrets block: secrets length %d exceeds the block length %d", n, len(blk)))
	}
	sec := &Secrets{Type: typ, Data: blk[16 : 16+n : 16+n], Offset: r.off}
	if err := r.onSecrets(sec); err != nil {
		return r.errorf(fmt.Errorf("decryption secrets block: %w", err))
	}
	return nil
}
