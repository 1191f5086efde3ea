package ui

import (
	"math"

	"github.com/wsviz/wsviz/analyze"
)

// Event type codes, as sent to the page in the type column. The page
// (static/data.js) keeps the same table.
const (
	codeUnknown      = 0
	codeTCPOpen      = 1
	codeTCPClose     = 2
	codeTCPGap       = 3
	codeHTTPRequest  = 4
	codeHTTPResponse = 5
	codeWSOpen       = 6
	codeWSFrame      = 7
	codeWSMessage    = 8
	codeHTTPError    = 9
	codeCaptureStats = 10
	codeTLSHandshake = 11
	codeTLSMessage   = 12
	codeTLSAlert     = 13
	codeTLSRecord    = 14
	codeIPFragments  = 15
)

// Direction codes of the from column.
const (
	fromNone   = 0
	fromClient = 1
	fromServer = 2
)

// Opcodes (RFC 6455 §5.2, §11.8) as numbers in the kind column of frames and
// messages.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

// Kind codes of tcp.close events: how the connection ended.
const (
	howFIN     = 1
	howRST     = 2
	howEnd     = 3
	howEvicted = 4
)

// Flag bits of the flags column.
const (
	flagWarning    = 1 << 0 // the event carries at least one warning
	flagTruncated  = 1 << 1 // ws.message: payload cut or not fully recovered
	flagCompressed = 1 << 2 // ws.message: permessage-deflate (RSV1)
	flagFin        = 1 << 3 // ws.frame: FIN bit
	flagMasked     = 1 << 4 // ws.frame: MASK bit
	flagSYN        = 1 << 5 // tcp.open: the SYN was captured
	flagMidstream  = 1 << 6 // ws.open: no handshake captured
	flagNoDetail   = 1 << 7 // the event's details were not kept (spill limit)
	// flagUpgrade shares its bit with flagFin (flags other than warning
	// and noDetail are per type): on http.request, the request asks to
	// switch to WebSocket; on http.response, it answers such a request.
	flagUpgrade = 1 << 3
)

func typeCode(t string) uint8 {
	switch t {
	case analyze.TypeTCPOpen:
		return codeTCPOpen
	case analyze.TypeTCPClose:
		return codeTCPClose
	case analyze.TypeTCPGap:
		return codeTCPGap
	case analyze.TypeHTTPRequest:
		return codeHTTPRequest
	case analyze.TypeHTTPResponse:
		return codeHTTPResponse
	case analyze.TypeWSOpen:
		return codeWSOpen
	case analyze.TypeWSFrame:
		return codeWSFrame
	case analyze.TypeWSMessage:
		return codeWSMessage
	case analyze.TypeHTTPError:
		return codeHTTPError
	case analyze.TypeCaptureStats:
		return codeCaptureStats
	case analyze.TypeTLSHandshake:
		return codeTLSHandshake
	case analyze.TypeTLSMessage:
		return codeTLSMessage
	case analyze.TypeTLSAlert:
		return codeTLSAlert
	case analyze.TypeTLSRecord:
		return codeTLSRecord
	case analyze.TypeIPFragments:
		return codeIPFragments
	}
	return codeUnknown
}

func fromCode(from string) uint8 {
	switch from {
	case analyze.FromClient:
		return fromClient
	case analyze.FromServer:
		return fromServer
	}
	return fromNone
}

// messageOpcode maps Message.Opcode ("text", "reserved-3", ...) to its
// number; 0xff when unrecognised.
func messageOpcode(s string) uint8 {
	switch s {
	case "text":
		return opText
	case "binary":
		return opBinary
	case "close":
		return opClose
	case "ping":
		return opPing
	case "pong":
		return opPong
	}
	const prefix = "reserved-"
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		n := 0
		for _, c := range s[len(prefix):] {
			if c < '0' || c > '9' || n > 15 {
				return 0xff
			}
			n = n*10 + int(c-'0')
		}
		if n <= 15 {
			return uint8(n)
		}
	}
	return 0xff
}

func howCode(how string) uint8 {
	switch how {
	case analyze.CloseFIN:
		return howFIN
	case analyze.CloseRST:
		return howRST
	case analyze.CloseEnd:
		return howEnd
	case analyze.CloseEvicted:
		return howEvicted
	}
	return 0
}

// row is one event in the compact index: what the timeline needs to draw it
// and filter it, without notes, headers or payload.
type row struct {
	time   int64 // Unix nanoseconds
	size   int64 // see rowOf
	packet int64
	conn   uint32
	typ    uint8
	from   uint8
	kind   uint8
	flags  uint8
}

// rowOf extracts the index row of ev. Size is the message or frame payload
// length, the gap size, the bytes of a closed connection, or the status code
// of a response; kind is the opcode of frames and messages and how a TCP
// connection closed.
func rowOf(ev *analyze.Event) row {
	r := row{
		time:   ev.Time.UnixNano(),
		packet: ev.Packet,
		typ:    typeCode(ev.Type),
		from:   fromCode(ev.From),
	}
	if ev.Conn > 0 && ev.Conn <= math.MaxUint32 {
		r.conn = uint32(ev.Conn)
	}
	if len(ev.Warnings) > 0 {
		r.flags |= flagWarning
	}
	switch r.typ {
	case codeTCPOpen:
		if ev.TCPOpen.SYN {
			r.flags |= flagSYN
		}
	case codeTCPClose:
		r.kind = howCode(ev.TCPClose.How)
		r.size = ev.TCPClose.ClientBytes + ev.TCPClose.ServerBytes
	case codeTCPGap:
		r.size = ev.TCPGap.Size
	case codeHTTPRequest:
		if isUpgradeRequest(ev.HTTP.Header) {
			r.flags |= flagUpgrade
		}
	case codeHTTPResponse:
		r.size = int64(ev.HTTP.Status)
	case codeWSOpen:
		if ev.WSOpen.Midstream {
			r.flags |= flagMidstream
		}
	case codeWSFrame:
		r.kind = ev.Frame.Opcode & 0xf
		r.size = int64(min(ev.Frame.Len, math.MaxInt64))
		if ev.Frame.Fin {
			r.flags |= flagFin
		}
		if ev.Frame.Masked {
			r.flags |= flagMasked
		}
	case codeWSMessage:
		r.kind = messageOpcode(ev.Message.Opcode)
		r.size = ev.Message.Len
		if ev.Message.Truncated {
			r.flags |= flagTruncated
		}
		if ev.Message.Compressed {
			r.flags |= flagCompressed
		}
	}
	return r
}
