package spill

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/wsviz/wsviz/analyze"
)

// Event type codes of Row.Type. The page (ui/static) keeps the same table.
const (
	TypeUnknown       = 0
	TypeTCPOpen       = 1
	TypeTCPClose      = 2
	TypeTCPGap        = 3
	TypeHTTPRequest   = 4
	TypeHTTPResponse  = 5
	TypeWSOpen        = 6
	TypeWSFrame       = 7
	TypeWSMessage     = 8
	TypeHTTPError     = 9
	TypeCaptureStats  = 10
	TypeTLSHandshake  = 11
	TypeTLSMessage    = 12
	TypeTLSAlert      = 13
	TypeTLSRecord     = 14
	TypeIPFragments   = 15
	TypeH2StreamClose = 16
)

// Direction codes of Row.From.
const (
	FromNone   = 0
	FromClient = 1
	FromServer = 2
)

// Opcodes (RFC 6455 §5.2, §11.8) as Row.Kind of frames and messages.
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xa
	OpUnknown      = 0xff
)

// Row.Kind of tcp.close events: how the connection ended.
const (
	HowFIN     = 1
	HowRST     = 2
	HowEnd     = 3
	HowEvicted = 4
)

// Row.Kind of h2.stream_close events: how the HTTP/2 stream of a
// WebSocket ended (RFC 9113 §5.1, §6.4).
const (
	StreamEnd     = 1 // END_STREAM both ways
	StreamReset   = 2 // RST_STREAM with an error code other than NO_ERROR
	StreamResetOK = 3 // RST_STREAM NO_ERROR
)

// Flag bits of Row.Flags.
const (
	FlagWarning    = 1 << 0 // the event carries at least one warning
	FlagTruncated  = 1 << 1 // ws.message: payload cut or not fully recovered
	FlagCompressed = 1 << 2 // ws.message: permessage-deflate (RSV1)
	FlagFin        = 1 << 3 // ws.frame: FIN bit
	FlagMasked     = 1 << 4 // ws.frame: MASK bit
	FlagSYN        = 1 << 5 // tcp.open: the SYN was captured
	FlagMidstream  = 1 << 6 // ws.open: no handshake captured
	FlagNoDetail   = 1 << 7 // the event's details were not kept
	// FlagUpgrade shares its bit with FlagFin (flags other than warning
	// and noDetail are per type): on http.request, the request asks to
	// switch to WebSocket; on http.response, it answers such a request.
	// RowOf does not set it: the caller knows (Store.AddFlags).
	FlagUpgrade = 1 << 3
)

// Row is one event as the timeline needs it to draw, filter and hit-test
// it: no notes, headers or payload.
type Row struct {
	ID     uint64 // the event's number, from 0, in capture order
	Time   int64  // Unix nanoseconds
	Size   int64  // see RowOf
	Packet int64
	Conn   uint32
	// Stream is the event's HTTP/2 stream (analyze.Event.Stream), 0 on a
	// connection that does not speak HTTP/2 and for its connection-wide
	// events.
	Stream uint32
	Type   uint8
	From   uint8
	Kind   uint8
	Flags  uint8
}

// TypeCode returns the code of an event type name.
func TypeCode(t string) uint8 {
	switch t {
	case analyze.TypeTCPOpen:
		return TypeTCPOpen
	case analyze.TypeTCPClose:
		return TypeTCPClose
	case analyze.TypeTCPGap:
		return TypeTCPGap
	case analyze.TypeHTTPRequest:
		return TypeHTTPRequest
	case analyze.TypeHTTPResponse:
		return TypeHTTPResponse
	case analyze.TypeWSOpen:
		return TypeWSOpen
	case analyze.TypeWSFrame:
		return TypeWSFrame
	case analyze.TypeWSMessage:
		return TypeWSMessage
	case analyze.TypeHTTPError:
		return TypeHTTPError
	case analyze.TypeCaptureStats:
		return TypeCaptureStats
	case analyze.TypeTLSHandshake:
		return TypeTLSHandshake
	case analyze.TypeTLSMessage:
		return TypeTLSMessage
	case analyze.TypeTLSAlert:
		return TypeTLSAlert
	case analyze.TypeTLSRecord:
		return TypeTLSRecord
	case analyze.TypeIPFragments:
		return TypeIPFragments
	case analyze.TypeH2StreamClose:
		return TypeH2StreamClose
	}
	return TypeUnknown
}

func fromCode(from string) uint8 {
	switch from {
	case analyze.FromClient:
		return FromClient
	case analyze.FromServer:
		return FromServer
	}
	return FromNone
}

// MessageOpcode maps Message.Opcode ("text", "reserved-3", ...) to its
// number; OpUnknown when unrecognised.
func MessageOpcode(s string) uint8 {
	switch s {
	case "text":
		return OpText
	case "binary":
		return OpBinary
	case "close":
		return OpClose
	case "ping":
		return OpPing
	case "pong":
		return OpPong
	}
	const prefix = "reserved-"
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		n := 0
		for _, c := range s[len(prefix):] {
			if c < '0' || c > '9' || n > 15 {
				return OpUnknown
			}
			n = n*10 + int(c-'0')
		}
		if n <= 15 {
			return uint8(n)
		}
	}
	return OpUnknown
}

func howCode(how string) uint8 {
	switch how {
	case analyze.CloseFIN:
		return HowFIN
	case analyze.CloseRST:
		return HowRST
	case analyze.CloseEnd:
		return HowEnd
	case analyze.CloseEvicted:
		return HowEvicted
	}
	return 0
}

func streamHowCode(c *analyze.H2Close) uint8 {
	switch {
	case c.How == analyze.CloseEndStream:
		return StreamEnd
	case c.How != analyze.CloseRSTStream:
		return 0
	case c.ErrorCode == "NO_ERROR":
		return StreamResetOK
	}
	return StreamReset
}

// RowOf extracts the row of ev (without its ID). Size is the message or
// frame payload length, the gap size, the bytes of a closed connection or
// HTTP/2 stream, or the status code of a response; Kind is the opcode of
// frames and messages, how a TCP connection closed and how an HTTP/2
// stream ended.
func RowOf(ev *analyze.Event) Row {
	r := Row{
		Time:   ev.Time.UnixNano(),
		Packet: ev.Packet,
		Stream: ev.Stream,
		Type:   TypeCode(ev.Type),
		From:   fromCode(ev.From),
	}
	if ev.Conn > 0 && ev.Conn <= math.MaxUint32 {
		r.Conn = uint32(ev.Conn)
	}
	if len(ev.Warnings) > 0 {
		r.Flags |= FlagWarning
	}
	switch r.Type {
	case TypeTCPOpen:
		if ev.TCPOpen.SYN {
			r.Flags |= FlagSYN
		}
	case TypeTCPClose:
		r.Kind = howCode(ev.TCPClose.How)
		r.Size = ev.TCPClose.ClientBytes + ev.TCPClose.ServerBytes
	case TypeTCPGap:
		r.Size = ev.TCPGap.Size
	case TypeH2StreamClose:
		r.Kind = streamHowCode(&ev.H2Close)
		r.Size = ev.H2Close.ClientBytes + ev.H2Close.ServerBytes
	case TypeHTTPResponse:
		r.Size = int64(ev.HTTP.Status)
	case TypeWSOpen:
		if ev.WSOpen.Midstream {
			r.Flags |= FlagMidstream
		}
	case TypeWSFrame:
		r.Kind = ev.Frame.Opcode & 0xf
		r.Size = int64(min(ev.Frame.Len, math.MaxInt64))
		if ev.Frame.Fin {
			r.Flags |= FlagFin
		}
		if ev.Frame.Masked {
			r.Flags |= FlagMasked
		}
	case TypeWSMessage:
		r.Kind = MessageOpcode(ev.Message.Opcode)
		r.Size = ev.Message.Len
		if ev.Message.Truncated {
			r.Flags |= FlagTruncated
		}
		if ev.Message.Compressed {
			r.Flags |= FlagCompressed
		}
	}
	return r
}

// Message kind classes, the columns of Summary.Msgs: what the timeline
// colours differently.
const (
	ClassText = iota
	ClassBinary
	ClassClose
	ClassPing
	ClassPong
	ClassOther // continuation, reserved or unknown opcodes
	NumClasses
)

// Class returns the kind class of a message opcode.
func Class(op uint8) int {
	switch op {
	case OpText:
		return ClassText
	case OpBinary:
		return ClassBinary
	case OpClose:
		return ClassClose
	case OpPing:
		return ClassPing
	case OpPong:
		return ClassPong
	}
	return ClassOther
}

// Special reports whether r is an event the timeline draws as its own mark
// at any zoom (anything but frames and messages): TCP open and close,
// gaps, HTTP heads, the WebSocket upgrade.
func (r *Row) Special() bool { return r.Type != TypeWSMessage && r.Type != TypeWSFrame }

// appendRow appends the delta encoding of r after prev (the previous row
// of the same sequence, or the zero Row) to b: varints of the differences
// of id, time and packet, the size, then conn, stream and the four byte
// columns.
func appendRow(b []byte, r, prev *Row) []byte {
	b = binary.AppendUvarint(b, r.ID-prev.ID)
	b = binary.AppendVarint(b, r.Time-prev.Time)
	b = binary.AppendVarint(b, r.Packet-prev.Packet)
	b = binary.AppendVarint(b, r.Size)
	b = binary.AppendUvarint(b, uint64(r.Conn))
	b = binary.AppendUvarint(b, uint64(r.Stream))
	return append(b, r.Type, r.From, r.Kind, r.Flags)
}

var errCorrupt = errors.New("spill: corrupt row data")

// readRow decodes one row written by appendRow after prev from b and
// returns the rest of b.
func readRow(b []byte, prev *Row, r *Row) ([]byte, error) {
	var n int
	d, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, errCorrupt
	}
	b = b[n:]
	r.ID = prev.ID + d
	t, n := binary.Varint(b)
	if n <= 0 {
		return nil, errCorrupt
	}
	b = b[n:]
	r.Time = prev.Time + t
	p, n := binary.Varint(b)
	if n <= 0 {
		return nil, errCorrupt
	}
	b = b[n:]
	r.Packet = prev.Packet + p
	if r.Size, n = binary.Varint(b); n <= 0 {
		return nil, errCorrupt
	}
	b = b[n:]
	c, n := binary.Uvarint(b)
	if n <= 0 || c > math.MaxUint32 {
		return nil, errCorrupt
	}
	r.Conn = uint32(c)
	b = b[n:]
	st, n := binary.Uvarint(b)
	if n <= 0 || st > math.MaxUint32 || len(b) < n+4 {
		return nil, errCorrupt
	}
	r.Stream = uint32(st)
	b = b[n:]
	r.Type, r.From, r.Kind, r.Flags = b[0], b[1], b[2], b[3]
	return b[4:], nil
}
