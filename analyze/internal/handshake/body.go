package handshake

import "fmt"

// How a message body is delimited (RFC 9112 §6.3).
type bodyKind uint8

const (
	noBody      bodyKind = iota // no body, or it has ended
	lengthBody                  // Content-Length bytes (§6.3 item 6)
	chunkedBody                 // chunked transfer coding (§7.1)
	closeBody                   // runs to the end of the connection (§6.3 item 8)
)

// Where the chunked decoder is in the grammar of RFC 9112 §7.1:
//
//	chunked-body = *chunk last-chunk trailer-section CRLF
//	chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//	last-chunk   = 1*("0") [ chunk-ext ] CRLF
type chunkState uint8

const (
	chunkSize    chunkState = iota // the hex digits of chunk-size
	chunkExt                       // chunk-ext, up to the end of the line
	chunkSizeLF                    // the LF after the size line's CR
	chunkData                      // chunk-data
	chunkDataCR                    // the CRLF after chunk-data
	chunkDataLF                    // its LF
	trailerStart                   // a trailer field line, or the final empty line
	trailerLine                    // inside a trailer field line
	trailerEndLF                   // the LF of the final empty line
)

// Bounds on the chunked framing's own lines, which are skipped, not kept.
const (
	maxChunkLine = 4 << 10 // a chunk-size line with its extensions
	maxTrailer   = MaxHead // the whole trailer section
	maxSizeBits  = 60      // larger chunk sizes are refused
)

// body skips a message body as it streams past, holding only counters.
type body struct {
	kind   bodyKind
	remain int64      // lengthBody: bytes left; chunkedBody: chunk-data bytes left
	state  chunkState // chunkedBody only
	size   uint64     // the chunk-size being read
	digits int        // its digits so far
	line   int        // bytes of the current size line or of the trailer section
}

// skip consumes the body bytes at the start of data and returns how many
// there were. When the body ends b.kind becomes noBody. A non-nil Problem
// means the chunked framing is broken.
func (b *body) skip(data []byte) (n int, p *Problem) {
	switch b.kind {
	case noBody:
		return 0, nil
	case closeBody:
		return len(data), nil
	case lengthBody:
		n = int(min(int64(len(data)), b.remain))
		b.remain -= int64(n)
		if b.remain == 0 {
			b.kind = noBody
		}
		return n, nil
	}
	for n < len(data) && b.kind == chunkedBody {
		if b.state == chunkData {
			k := int(min(int64(len(data)-n), b.remain))
			n += k
			b.remain -= int64(k)
			if b.remain == 0 {
				b.state = chunkDataCR
			}
			continue
		}
		if p := b.step(data[n]); p != nil {
			return n, p
		}
		n++
	}
	return n, nil
}

// step advances the chunked framing by one byte outside chunk-data.
func (b *body) step(c byte) *Problem {
	switch b.state {
	case chunkSize:
		b.line++
		if b.line > maxChunkLine {
			return badChunk(fmt.Sprintf("a chunk-size line is longer than %d bytes", maxChunkLine))
		}
		if v, ok := unhex(c); ok {
			if b.size>>(maxSizeBits-4) != 0 {
				return badChunk("a chunk-size is larger than 2^60")
			}
			b.size = b.size<<4 | uint64(v)
			b.digits++
			return nil
		}
		if b.digits == 0 {
			return badChunk(fmt.Sprintf("a chunk-size starts with %q, not a hex digit", c))
		}
		switch c {
		case ';', ' ', '\t':
			b.state = chunkExt
		case '\r':
			b.state = chunkSizeLF
		case '\n': // a bare LF, tolerated as a line end
			b.sizeLineEnd()
		default:
			return badChunk(fmt.Sprintf("a chunk-size is followed by %q", c))
		}
	case chunkExt:
		b.line++
		if b.line > maxChunkLine {
			return badChunk(fmt.Sprintf("a chunk-size line is longer than %d bytes", maxChunkLine))
		}
		if c == '\n' {
			b.sizeLineEnd()
		}
	case chunkSizeLF:
		if c != '\n' {
			return badChunk("a chunk-size line's CR is not followed by LF")
		}
		b.sizeLineEnd()
	case chunkDataCR:
		switch c {
		case '\r':
			b.state = chunkDataLF
		case '\n':
			b.state = chunkSize
		default:
			return badChunk("chunk-data is longer than its chunk-size says")
		}
	case chunkDataLF:
		if c != '\n' {
			return badChunk("chunk-data is not followed by CRLF")
		}
		b.state = chunkSize
	case trailerStart, trailerLine:
		b.line++
		if b.line > maxTrailer {
			return badChunk(fmt.Sprintf("the trailer section is longer than %d bytes", maxTrailer))
		}
		switch {
		case c == '\n' && b.state == trailerStart:
			*b = body{}
		case c == '\n':
			b.state = trailerStart
		case c == '\r' && b.state == trailerStart:
			b.state = trailerEndLF
		default:
			b.state = trailerLine
		}
	case trailerEndLF:
		if c != '\n' {
			return badChunk("the empty line ending the trailer section has CR without LF")
		}
		*b = body{}
	}
	return nil
}

// sizeLineEnd starts the chunk-data of the size just read, or the trailer
// section after the last chunk.
func (b *body) sizeLineEnd() {
	if b.size == 0 {
		b.state = trailerStart
	} else {
		b.state, b.remain = chunkData, int64(b.size)
	}
	b.size, b.digits, b.line = 0, 0, 0
}

func badChunk(detail string) *Problem {
	return &Problem{"http.bad_chunk", detail + " (RFC 9112 §7.1)"}
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
