package analyzetest

import (
	"bytes"
	"encoding/binary"

	"golang.org/x/net/http2/hpack"
)

// H2Preface is the connection preface an HTTP/2 client opens with (RFC 9113
// §3.4).
const H2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// HTTP/2 frame types and flags (RFC 9113 §6).
const (
	H2Data         = 0x0
	H2Headers      = 0x1
	H2RSTStream    = 0x3
	H2Settings     = 0x4
	H2GoAway       = 0x7
	H2Continuation = 0x9

	H2EndStream  = 0x1
	H2EndHeaders = 0x4
	H2Padded     = 0x8
)

// H2SettingEnableConnectProtocol lets a client use extended CONNECT (RFC
// 8441 §3).
const H2SettingEnableConnectProtocol = 0x8

// H2Frame encodes one HTTP/2 frame: any type, flags and stream, valid or
// not (RFC 9113 §4.1).
func H2Frame(typ, flags uint8, stream uint32, payload []byte) []byte {
	b := make([]byte, 9, 9+len(payload))
	b[0], b[1], b[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	b[3], b[4] = typ, flags
	binary.BigEndian.PutUint32(b[5:], stream)
	return append(b, payload...)
}

// H2DataFrame encodes a DATA frame (RFC 9113 §6.1).
func H2DataFrame(stream uint32, endStream bool, p []byte) []byte {
	var flags uint8
	if endStream {
		flags = H2EndStream
	}
	return H2Frame(H2Data, flags, stream, p)
}

// H2SettingsFrame encodes a SETTINGS frame with the id, value pairs given
// (RFC 9113 §6.5).
func H2SettingsFrame(pairs ...uint32) []byte {
	var p []byte
	for i := 0; i+1 < len(pairs); i += 2 {
		p = binary.BigEndian.AppendUint16(p, uint16(pairs[i]))
		p = binary.BigEndian.AppendUint32(p, pairs[i+1])
	}
	return H2Frame(H2Settings, 0, 0, p)
}

// H2RSTStreamFrame encodes a RST_STREAM frame (RFC 9113 §6.4).
func H2RSTStreamFrame(stream, code uint32) []byte {
	return H2Frame(H2RSTStream, 0, stream, binary.BigEndian.AppendUint32(nil, code))
}

// H2 encodes the header blocks one side of an HTTP/2 connection sends: its
// HPACK encoder's dynamic table (RFC 7541) carries over from block to
// block, as the peer's decoder's does.
type H2 struct {
	buf bytes.Buffer
	enc *hpack.Encoder
}

// NewH2 returns an encoder with HPACK's default table size (4096).
func NewH2() *H2 {
	h := &H2{}
	h.enc = hpack.NewEncoder(&h.buf)
	return h
}

// Block encodes the fields, name and value pairs in order (pseudo-header
// fields first, as RFC 9113 §8.3 wants), into one header block.
func (h *H2) Block(fields ...string) []byte {
	h.buf.Reset()
	for i := 0; i+1 < len(fields); i += 2 {
		h.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return bytes.Clone(h.buf.Bytes())
}

// Headers encodes a HEADERS frame with END_HEADERS holding the fields'
// block (RFC 9113 §6.2).
func (h *H2) Headers(stream uint32, endStream bool, fields ...string) []byte {
	flags := uint8(H2EndHeaders)
	if endStream {
		flags |= H2EndStream
	}
	return H2Frame(H2Headers, flags, stream, h.Block(fields...))
}
