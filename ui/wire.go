package ui

import (
	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/ui/internal/spill"
)

// The codes of the page's columns are the spill store's (ui/internal/spill,
// row.go), under the names the server's code uses; the page
// (static/data.js) keeps the same tables.

// Event type codes of the type column.
const (
	codeUnknown       = spill.TypeUnknown
	codeTCPOpen       = spill.TypeTCPOpen
	codeTCPClose      = spill.TypeTCPClose
	codeTCPGap        = spill.TypeTCPGap
	codeHTTPRequest   = spill.TypeHTTPRequest
	codeHTTPResponse  = spill.TypeHTTPResponse
	codeWSOpen        = spill.TypeWSOpen
	codeWSFrame       = spill.TypeWSFrame
	codeWSMessage     = spill.TypeWSMessage
	codeHTTPError     = spill.TypeHTTPError
	codeCaptureStats  = spill.TypeCaptureStats
	codeTLSHandshake  = spill.TypeTLSHandshake
	codeTLSMessage    = spill.TypeTLSMessage
	codeTLSAlert      = spill.TypeTLSAlert
	codeTLSRecord     = spill.TypeTLSRecord
	codeIPFragments   = spill.TypeIPFragments
	codeH2StreamClose = spill.TypeH2StreamClose
)

// Direction codes of the from column.
const (
	fromNone   = spill.FromNone
	fromClient = spill.FromClient
	fromServer = spill.FromServer
)

// Opcodes (RFC 6455 §5.2, §11.8) as numbers in the kind column of frames and
// messages.
const (
	opContinuation = spill.OpContinuation
	opText         = spill.OpText
	opBinary       = spill.OpBinary
	opClose        = spill.OpClose
	opPing         = spill.OpPing
	opPong         = spill.OpPong
)

// Kind codes of tcp.close events: how the connection ended.
const (
	howFIN     = spill.HowFIN
	howRST     = spill.HowRST
	howEnd     = spill.HowEnd
	howEvicted = spill.HowEvicted
)

// Kind codes of h2.stream_close events: how the HTTP/2 stream ended.
const (
	streamEnd     = spill.StreamEnd
	streamReset   = spill.StreamReset
	streamResetOK = spill.StreamResetOK
)

// Flag bits of the flags column.
const (
	flagWarning    = spill.FlagWarning
	flagTruncated  = spill.FlagTruncated
	flagCompressed = spill.FlagCompressed
	flagFin        = spill.FlagFin
	flagMasked     = spill.FlagMasked
	flagSYN        = spill.FlagSYN
	flagMidstream  = spill.FlagMidstream
	flagNoDetail   = spill.FlagNoDetail
	flagUpgrade    = spill.FlagUpgrade // set by the server, which knows (Server.Publish)
)

// row is one event in the compact index: what the timeline needs to draw it
// and filter it, without notes, headers or payload (spill.Row without its
// ID).
type row struct {
	time   int64 // Unix nanoseconds
	size   int64 // see spill.RowOf
	packet int64
	conn   uint32
	stream uint32 // the HTTP/2 stream, 0 for none
	typ    uint8
	from   uint8
	kind   uint8
	flags  uint8
}

// rowOf extracts the index row of ev (spill.RowOf).
func rowOf(ev *analyze.Event) row {
	r := spill.RowOf(ev)
	return rowOfSpill(&r)
}
