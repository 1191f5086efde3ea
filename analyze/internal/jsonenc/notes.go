package jsonenc

import (
	"unsafe"

	"github.com/wsviz/wsviz/analyze/internal/wsproto"
)

// Notes builds the notes of the events that come by the thousand: frames,
// text and binary messages, pings. The notes of other events are built with
// fmt where they are emitted (analyze/app.go, tcp.go).
//
// A note is written with append and strconv instead of fmt, into memory
// the Notes keeps, and its string points there. How long that memory holds
// the note depends on who reads the events:
//
//   - The zero value keeps every note: notes are written into a chunk
//     shared by the notes that follow it (a few dozen to a chunk), whose
//     bytes are never written again once a note points at them. A note is
//     an ordinary string that stays valid as long as anyone holds it, at
//     one allocation per chunk instead of about eight per note with fmt;
//     Event.Clone copies it, so that a kept event does not keep its chunk.
//   - ReusingNotes writes every note over the last one: no allocation at
//     all, for an encoder whose events never leave it and are encoded
//     before the next note is built (analyze.DecodeJSON).
//
// The builders write nothing a JSON string must escape (constant text,
// digits, hex, and the direction and opcode names they are given, which
// must need no escaping either: the analyzer's do), so AppendString copies
// a note it built as it is (TestNotesNeedNoEscape).
//
// A Notes is not safe for concurrent use.
type Notes struct {
	chunk []byte // len: the bytes holding notes; past it, free room
	reuse bool   // each note overwrites the last: see ReusingNotes
}

// ReusingNotes returns a Notes that writes each note over the memory of
// the one before: a note's string is valid only until the next note is
// built, so whoever makes it must be the only reader of the events, and be
// done with each before the next is emitted. analyze.DecodeJSON is: its
// events go from the analyzer straight to the encoder.
func ReusingNotes() *Notes { return &Notes{reuse: true} }

const (
	noteChunk = 4 << 10 // bytes of a chunk
	// maxNote is room enough for the longest note the builders write
	// (a 20-digit length, every clause): a note is started in a new chunk
	// when less is left. A longer one would still be right, only built
	// outside the chunk and escaped when encoded.
	maxNote = 256
)

// start returns an empty buffer for a note, in the free room of the chunk.
func (n *Notes) start() []byte {
	if n.reuse {
		n.chunk = n.chunk[:0]
	}
	if cap(n.chunk)-len(n.chunk) < maxNote {
		n.chunk = make([]byte, 0, noteChunk)
	}
	return n.chunk[len(n.chunk):len(n.chunk)]
}

// finish returns the note built in b, which start returned, as a string.
func (n *Notes) finish(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	free := n.chunk[len(n.chunk):cap(n.chunk)]
	if len(free) > 0 && unsafe.SliceData(b) == unsafe.SliceData(free) {
		n.chunk = n.chunk[:len(n.chunk)+len(b)] // not written again (reusing: until the next note)
	}
	// Else append moved b to an array of its own, which nothing else
	// holds or writes either (the next note starts in a new chunk, or,
	// reusing, in the old one).
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// built reports whether s lies in the part of the current chunk that holds
// notes: then it was built here and needs no escaping.
func (n *Notes) built(s string) bool {
	if n == nil || len(s) == 0 || len(n.chunk) == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(n.chunk)))
	return p >= lo && p+uintptr(len(s)) <= lo+uintptr(len(n.chunk))
}

// AppendString appends s as a JSON string, as the package's AppendString
// does; a note n built (the last few dozen) is copied as it is, without
// being looked at. n may be nil.
func (n *Notes) AppendString(b []byte, s string) []byte {
	if n.built(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	return AppendString(b, s)
}

// Frame returns the note of a frame from one side to the other; opcode is
// the name of f.Opcode. Lengths of 2^63 and more are printed as the
// unsigned numbers they are (ws.length_overflow).
func (n *Notes) Frame(from, to, opcode string, f *wsproto.Frame) string {
	b := n.start()
	b = append(b, from...)
	b = append(b, " → "...)
	b = append(b, to...)
	b = append(b, ": "...)
	b = append(b, opcode...)
	b = append(b, " frame"...)
	if !f.Fin {
		b = append(b, " (more fragments follow)"...)
	} else if f.Opcode == wsproto.OpContinuation {
		b = append(b, " (last fragment)"...)
	}
	b = append(b, ", "...)
	b = AppendUint(b, f.Len)
	// One append of a constant: each is a call to memmove.
	switch compressed := f.RSV&4 != 0 && f.Opcode != wsproto.OpContinuation; {
	case f.Len == 1 && compressed:
		b = append(b, " byte of payload, compressed (RSV1)"...)
	case f.Len == 1:
		b = append(b, " byte of payload"...)
	case compressed:
		b = append(b, " bytes of payload, compressed (RSV1)"...)
	default:
		b = append(b, " bytes of payload"...)
	}
	if f.Masked {
		b = append(b, ", masked with key "...)
		b = AppendHex4(b, f.Mask)
	}
	return n.finish(b)
}

// DataMessage returns the note of a text or binary message sent by from;
// unasked says it came from the server, which WebSocket allows at any time.
// It ends with "; payload shown in part" when the payload was truncated.
func (n *Notes) DataMessage(from string, unasked bool, m *wsproto.Message) string {
	b := n.start()
	b = append(b, "the "...)
	b = append(b, from...)
	b = append(b, " sent "...)
	if m.Opcode == wsproto.OpBinary {
		b = append(b, "a binary"...)
	} else {
		b = append(b, "a text"...)
	}
	b = append(b, " message of "...)
	b = appendCount(b, m.Len, "byte", "bytes")
	if m.Compressed {
		b = append(b, " (compressed to "...)
		b = appendCount(b, m.WireLen, "byte", "bytes")
		b = append(b, " on the wire)"...)
	}
	if m.Frames > 1 {
		b = append(b, " in "...)
		b = AppendInt(b, int64(m.Frames))
		b = append(b, " fragments"...)
	}
	if unasked {
		b = append(b, " without being asked: WebSocket has no request and response"...)
	}
	if m.Truncated {
		b = append(b, "; payload shown in part"...)
	}
	return n.finish(b)
}

// Undecodable returns the note of a message none of whose bytes can be
// known (wsproto.Message.Undecodable): what it is, what is unknown, and why,
// from its problems.
func (n *Notes) Undecodable(from string, m *wsproto.Message) string {
	b := n.start()
	b = append(b, "the "...)
	b = append(b, from...)
	switch m.Opcode {
	case wsproto.OpText:
		b = append(b, " sent a text message"...)
	case wsproto.OpBinary:
		b = append(b, " sent a binary message"...)
	default:
		b = append(b, " sent the end of a message whose start was not captured"...)
	}
	b = append(b, " ("...)
	b = appendCount(b, m.WireLen, "byte", "bytes")
	b = append(b, " on the wire); its length and content are unknown: "...)
	why := "its bytes could not be decoded"
problems:
	for _, p := range m.Problems {
		switch p.Code {
		case wsproto.CodeDeflateHistoryLimit:
			why = "it is compressed and refers to compression history that was dropped to keep memory bounded (--max-deflate-history)"
		case wsproto.CodeDeflateMissingHistory:
			why = "it is compressed and refers to earlier data that was not captured (before the capture began, or lost in a gap)"
		case wsproto.CodeDeflateContext:
			why = "it is compressed and refers to an earlier message, though its sender agreed to no context takeover (a receiver that resets its context as agreed cannot inflate it either)"
		case wsproto.CodeGap:
			why = "it is compressed and some of its compressed bytes were never captured"
		case wsproto.CodeLostStart:
			why = "its first frame, which said whether it is compressed, was not captured"
		default:
			continue
		}
		break problems
	}
	b = append(b, why...)
	return n.finish(b)
}

// Ping returns the note of a ping from one side to the other, with
// "; payload shown in part" when its payload was truncated.
func (n *Notes) Ping(from, to string, m *wsproto.Message) string {
	b := n.start()
	b = append(b, "the "...)
	b = append(b, from...)
	b = append(b, " sent a ping ("...)
	b = appendCount(b, m.Len, "byte", "bytes")
	b = append(b, "): the "...)
	b = append(b, to...)
	b = append(b, " must answer with a pong"...)
	if m.Truncated {
		b = append(b, "; payload shown in part"...)
	}
	return n.finish(b)
}

// appendCount appends "1 one" or "N many".
func appendCount(b []byte, v int64, one, many string) []byte {
	b = AppendInt(b, v)
	b = append(b, ' ')
	if v == 1 {
		return append(b, one...)
	}
	return append(b, many...)
}
