package wsproto

import "encoding/binary"

// Frame header bits, RFC 6455 §5.2.
const (
	finalBit   = 1 << 7 // RFC 6455 §5.2: FIN, the final fragment of a message
	rsv1Bit    = 1 << 6 // RFC 6455 §5.2: RSV1; RFC 7692 §6: the "Per-Message Compressed" bit
	rsv2Bit    = 1 << 5 // RFC 6455 §5.2: RSV2, meaningful only with an extension
	rsv3Bit    = 1 << 4 // RFC 6455 §5.2: RSV3, meaningful only with an extension
	opcodeBits = 0x0f   // RFC 6455 §5.2: the low 4 bits of the first byte
	maskBit    = 1 << 7 // RFC 6455 §5.2: MASK, set when a masking key follows
	len7Bits   = 0x7f   // RFC 6455 §5.2: the 7-bit "Payload len"

	len16Marker = 126 // RFC 6455 §5.2: "If 126, the following 2 bytes ... are the payload length"
	len64Marker = 127 // RFC 6455 §5.2: "If 127, the following 8 bytes ..."

	maxControlPayload = 125 // RFC 6455 §5.5: control frames carry at most 125 payload bytes
	maxHeaderLen      = 14  // RFC 6455 §5.2: 2 + 8 (64-bit length) + 4 (masking key)

	// RSV values as reported in Frame.RSV.
	RSV1 = rsv1Bit >> 4 // 4
	RSV2 = rsv2Bit >> 4 // 2
	RSV3 = rsv3Bit >> 4 // 1
)

// Opcodes, RFC 6455 §5.2 and §11.8. 0x3-0x7 and 0xB-0xF are reserved.
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xA
)

// isControl reports whether op is a control opcode: RFC 6455 §5.5, "Control
// frames are identified by opcodes where the most significant bit of the
// opcode is 1."
func isControl(op uint8) bool { return op&0x8 != 0 }

// isReserved reports whether op is one of the reserved opcodes 0x3-0x7 and
// 0xB-0xF (RFC 6455 §5.2).
func isReserved(op uint8) bool {
	return (op >= 0x3 && op <= 0x7) || op >= 0xB
}

// Problem is a protocol violation or a limit that was hit, with a stable code
// and a message naming the RFC section. It has the same fields as
// analyze.Warning and converts to it.
type Problem struct{ Code, Msg string }

// Problem codes. They are stable: scripts branch on them.
const (
	CodeUnmaskedClientFrame    = "ws.unmasked_client_frame"
	CodeMaskedServerFrame      = "ws.masked_server_frame"
	CodeReservedOpcode         = "ws.reserved_opcode"
	CodeReservedBits           = "ws.reserved_bits"
	CodeControlFrameTooLong    = "ws.control_frame_too_long"
	CodeFragmentedControlFrame = "ws.fragmented_control_frame"
	CodeUnexpectedContinuation = "ws.unexpected_continuation"
	CodeNonMinimalLength       = "ws.non_minimal_length"
	CodeLengthOverflow         = "ws.length_overflow"
	CodeDataFrameInterrupted   = "ws.data_frame_interrupted"
	CodeInvalidUTF8            = "ws.invalid_utf8"
	CodeInvalidCloseCode       = "ws.invalid_close_code"
	CodeInvalidClosePayload    = "ws.invalid_close_payload"
	CodeIncomplete             = "ws.incomplete"
	CodeDecompressionLimit     = "ws.decompression_limit"
	CodeDeflateError           = "ws.deflate_error"
	CodeDeflateMissingHistory  = "ws.deflate_missing_history"
	CodeDeflateHistoryLimit    = "ws.deflate_history_limit"
	CodeDeflateWindow          = "ws.deflate_window"
	CodeDeflateContext         = "ws.deflate_context_takeover"
	// CodeLostStart marks a message whose first frames were not captured:
	// the capture began mid-stream or framing was lost and found again.
	CodeLostStart = "ws.lost_start"
	// CodeGap marks a message some of whose bytes were never captured.
	CodeGap = "tcp.gap"
)

// Frame is one frame header, RFC 6455 §5.2.
type Frame struct {
	// Fin is the FIN bit: the final fragment of a message.
	Fin bool
	// RSV holds RSV1..RSV3 as a number 0..7 (RSV1 = 4, RSV2 = 2, RSV3 = 1).
	RSV uint8
	// Opcode is the 4-bit opcode.
	Opcode uint8
	// Masked is the MASK bit; Mask the masking key (zero when not masked).
	Masked bool
	Mask   [4]byte
	// Len is the payload length from the header, as on the wire.
	Len uint64
	// HeaderLen is the size of the header in bytes, 2..14.
	HeaderLen int
	// Header holds the header's bytes exactly as they were on the wire
	// (HeaderLen of them, a non-minimal length as it was sent). It is
	// reused between callbacks: copy to keep.
	Header []byte
	// Problems lists every violation found in the header. The slice is
	// reused between callbacks: copy to keep.
	Problems []Problem
}

// flaw is a set of header problems, one bit each, in the order they are
// reported.
type flaw uint16

const (
	flawUnmaskedClient flaw = 1 << iota
	flawMaskedServer
	flawReservedOpcode
	flawRSV23
	flawRSV1NoDeflate
	flawRSV1Continuation
	flawRSV1Control
	flawControlTooLong
	flawFragmentedControl
	flawUnexpectedContinuation
	flawDataInterrupted
	flawNonMinimal
	flawOverflow
)

// flawProblems lists the Problem of each flaw bit, in bit order.
var flawProblems = [...]Problem{
	{CodeUnmaskedClientFrame, "client frame is not masked; RFC 6455 §5.3: a client MUST mask all frames it sends to the server"},
	{CodeMaskedServerFrame, "server frame is masked; RFC 6455 §5.1: a server MUST NOT mask any frames it sends to the client"},
	{CodeReservedOpcode, "reserved opcode; RFC 6455 §5.2: opcodes 0x3-0x7 and 0xB-0xF are reserved for further frames"},
	{CodeReservedBits, "RSV2 or RSV3 set, which no negotiated extension defines; RFC 6455 §5.2"},
	{CodeReservedBits, "RSV1 set but permessage-deflate was not negotiated; RFC 6455 §5.2"},
	{CodeReservedBits, "RSV1 set on a continuation frame; RFC 7692 §6.1: only the first frame of a message carries it"},
	{CodeReservedBits, "RSV1 set on a control frame; RFC 7692 §6.1: control frames are never compressed"},
	{CodeControlFrameTooLong, "control frame payload longer than 125 bytes; RFC 6455 §5.5"},
	{CodeFragmentedControlFrame, "control frame without FIN; RFC 6455 §5.5: control frames MUST NOT be fragmented"},
	{CodeUnexpectedContinuation, "continuation frame with no message in progress; RFC 6455 §5.4"},
	{CodeDataFrameInterrupted, "new data frame while a fragmented message is in progress; RFC 6455 §5.4: fragments of messages MUST NOT be interleaved"},
	{CodeNonMinimalLength, "payload length not in the minimal number of bytes; RFC 6455 §5.2: the minimal number of bytes MUST be used"},
	{CodeLengthOverflow, "64-bit payload length with the most significant bit set; RFC 6455 §5.2: it MUST be 0; the rest of this direction cannot be decoded"},
}

// appendProblems appends the Problem of every bit in fl, in bit order.
func appendProblems(ps []Problem, fl flaw) []Problem {
	for i := range flawProblems {
		if fl&(1<<i) != 0 {
			ps = append(ps, flawProblems[i])
		}
	}
	return ps
}

// headerLen returns the length of the header whose second byte is b1.
func headerLen(b1 byte) int {
	n := 2
	switch b1 & len7Bits {
	case len16Marker:
		n += 2
	case len64Marker:
		n += 8
	}
	if b1&maskBit != 0 {
		n += 4
	}
	return n
}

// firstByteFlaws checks the first header byte: RSV bits, opcode and the
// control-frame rules that depend only on it.
func firstByteFlaws(b0 byte, deflate bool) flaw {
	var fl flaw
	op := b0 & opcodeBits
	if isReserved(op) {
		fl |= flawReservedOpcode
	}
	if b0&(rsv2Bit|rsv3Bit) != 0 {
		fl |= flawRSV23
	}
	if b0&rsv1Bit != 0 {
		// RFC 7692 §6: RSV1 means "compressed", only on the first frame of
		// a data message, only when permessage-deflate was negotiated.
		switch {
		case !deflate:
			fl |= flawRSV1NoDeflate
		case op == OpContinuation:
			fl |= flawRSV1Continuation
		case isControl(op):
			fl |= flawRSV1Control
		}
	}
	if isControl(op) && b0&finalBit == 0 {
		fl |= flawFragmentedControl
	}
	return fl
}

// maskFlaws checks the MASK bit of the second header byte against the
// sending side (RFC 6455 §5.1, §5.3).
func maskFlaws(b1 byte, client bool) flaw {
	masked := b1&maskBit != 0
	switch {
	case client && !masked:
		return flawUnmaskedClient
	case !client && masked:
		return flawMaskedServer
	}
	return 0
}

// decodeHeader decodes the complete header b (len(b) == headerLen(b[1]))
// into f, without f.Problems, and returns every flaw that does not depend on
// the messages in progress. It never reads past b.
func decodeHeader(f *Frame, b []byte, client, deflate bool) flaw {
	// 1. First byte: FIN, RSV1-3, opcode.
	b0, b1 := b[0], b[1]
	f.Fin = b0&finalBit != 0
	f.RSV = (b0 >> 4) & 0x7
	f.Opcode = b0 & opcodeBits
	fl := firstByteFlaws(b0, deflate)

	// 2. Second byte: MASK and the 7-bit length.
	f.Masked = b1&maskBit != 0
	fl |= maskFlaws(b1, client)
	f.HeaderLen = headerLen(b1)
	p := 2

	// 3. Extended payload length. RFC 6455 §5.2: "the minimal number of
	// bytes MUST be used to encode the length"; the 64-bit form's most
	// significant bit MUST be 0.
	switch b1 & len7Bits {
	case len16Marker:
		f.Len = uint64(binary.BigEndian.Uint16(b[p:]))
		p += 2
		if f.Len < len16Marker {
			fl |= flawNonMinimal
		}
	case len64Marker:
		f.Len = binary.BigEndian.Uint64(b[p:])
		p += 8
		if f.Len>>63 != 0 {
			fl |= flawOverflow
		} else if f.Len <= 0xffff {
			fl |= flawNonMinimal
		}
	default:
		f.Len = uint64(b1 & len7Bits)
	}
	if isControl(f.Opcode) && f.Len > maxControlPayload {
		fl |= flawControlTooLong
	}

	// 4. Masking key, RFC 6455 §5.3.
	f.Mask = [4]byte{}
	if f.Masked {
		copy(f.Mask[:], b[p:p+4])
	}
	return fl
}

// probeMaxLen is the largest frame length Probe accepts: a legal length is
// up to 2^63-1, but one beyond a terabyte is far more likely random bytes.
const probeMaxLen = 1 << 40

// Probe reports whether data plausibly starts with WebSocket frames sent by
// the given side (client: masked, server: unmasked). Every complete frame in
// data must have a valid opcode, no RSV bits except RSV1 on the first frame
// of a data message, a minimal length, control frames of at most 125 bytes
// with FIN, a close body other than 1 byte, valid UTF-8 in an unfragmented
// uncompressed text frame, and data frames in a valid order (a continuation
// is accepted only before any other data frame, as the rest of a message
// whose start was not seen). A final partial frame is fine, but the first
// frame's header must be complete.
//
// It is used to recognise a connection whose handshake was not captured and
// to find frame boundaries again after a gap. It rejects random bytes, HTTP
// and TLS with high probability.
func Probe(data []byte, client bool) bool {
	var f Frame
	frames := 0
	inMessage, seenData := false, false
	for len(data) >= 2 {
		hl := headerLen(data[1])
		if len(data) < hl {
			break
		}
		if decodeHeader(&f, data[:hl], client, true) != 0 || f.Len > probeMaxLen {
			return false
		}
		// The first frame must be a whole message or a control frame:
		// fragmented messages are rare, and a first byte of 0x00-0x0f or
		// 0x80 (continuation) or 0x01/0x02 (unfinished text/binary) is
		// what length prefixes of other protocols (DNS, SMB, Modbus,
		// SOCKS, SSH) look like.
		if frames == 0 && (!f.Fin || f.Opcode == OpContinuation) {
			return false
		}
		switch f.Opcode {
		case OpContinuation:
			if !inMessage && seenData {
				return false
			}
			inMessage = !f.Fin
			seenData = true
		case OpText, OpBinary:
			if inMessage {
				return false
			}
			inMessage = !f.Fin
			seenData = true
		case OpClose:
			if f.Len == 1 {
				return false
			}
		}
		frames++
		rest := data[hl:]
		if uint64(len(rest)) < f.Len {
			// A final partial frame: the start of an uncompressed text
			// message must still be UTF-8 as far as it goes.
			if f.Opcode == OpText && f.RSV == 0 && !validMaskedUTF8(rest, &f, false) {
				return false
			}
			return true
		}
		payload := rest[:f.Len]
		if f.Opcode == OpText && f.RSV == 0 && !validMaskedUTF8(payload, &f, f.Fin) {
			return false
		}
		data = rest[f.Len:]
	}
	if frames == 0 {
		return false
	}
	// A final partial header: check what is there.
	if len(data) >= 1 && firstByteFlaws(data[0], true) != 0 {
		return false
	}
	if len(data) >= 2 && (maskFlaws(data[1], client) != 0 ||
		isControl(data[0]&opcodeBits) && data[1]&len7Bits > maxControlPayload) {
		return false
	}
	return true
}

// validMaskedUTF8 reports whether the payload of f, unmasked, is valid
// UTF-8; unless whole, a sequence cut at the end is fine.
func validMaskedUTF8(payload []byte, f *Frame, whole bool) bool {
	var c utf8Checker
	var buf [256]byte
	pos := 0
	for len(payload) > 0 && !c.bad {
		n := copy(buf[:], payload)
		if f.Masked {
			pos = maskBytes(f.Mask, pos, buf[:n])
		}
		c.write(buf[:n])
		payload = payload[n:]
	}
	if whole {
		return c.complete()
	}
	return !c.bad
}
