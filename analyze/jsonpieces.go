package analyze

import (
	"io"

	"github.com/wsviz/wsviz/analyze/internal/jsonenc"
	"github.com/wsviz/wsviz/analyze/internal/wsproto"
)

// Payloads kept whole (--full-payload, up to MaxMessage bytes) are not
// encoded into their event's JSON line: DecodeJSON writes the line up to
// the payload, then the payload encoded a piece at a time through a small
// buffer, then the rest of the line. Its JSON can be several times its
// size (base64 is 4/3 of it, an escaped control byte six bytes), and a
// deflate bomb's message is MaxMessage bytes: held encoded beside the
// message, it made `wsviz events --full-payload` peak at 250-280 MB on the
// deflate-bomb capture. The bytes written are the same.
//
// The payload is not copied either: a payload this large is in a buffer
// the wsproto.Stream never reuses (wsproto.OwnedPayload), so the sharded
// decoder keeps it in the batch until the merger writes it.
const (
	// streamedPayload is the size from which a payload is written in
	// pieces.
	streamedPayload = 1 << 20
	// payloadPiece is how many payload bytes are encoded per write: 256
	// KiB of base64.
	payloadPiece = 192 << 10
)

// The sharded decoder holds streamed payloads past the emit callback:
// they must be in buffers no Stream reuses.
var _ [streamedPayload - wsproto.OwnedPayload - 1]struct{}

// streamsPayload reports whether DecodeJSON writes ev's payload in pieces.
func streamsPayload(ev *Event) bool {
	return ev.Type == TypeWSMessage && len(ev.Message.Payload) >= streamedPayload
}

// streamed is a payload left out of a batch's JSON lines: its encoding
// goes at offset at of the worker's lines.
type streamed struct {
	at      int32
	text    bool
	payload []byte
}

// writePayload writes payload's encoding in JSON, as "text" (without the
// quotes) or "base64", in pieces encoded into *scratch.
func writePayload(w io.Writer, payload []byte, text bool, scratch *[]byte) error {
	for len(payload) > 0 {
		b := (*scratch)[:0]
		var k int
		if text {
			k = jsonenc.TextCut(payload, payloadPiece)
			b = jsonenc.AppendStringPiece(b, payload[:k])
		} else {
			k = jsonenc.Base64Cut(payload, payloadPiece)
			b = jsonenc.AppendBase64(b, payload[:k])
		}
		*scratch = b
		if _, err := w.Write(b); err != nil {
			return err
		}
		payload = payload[k:]
	}
	return nil
}

// writeStreamed adds the lines o.json[start:end] to chunks and writes,
// for each payload left out of them, the chunks before it and the payload
// itself. It returns the chunks left to write.
func (p *pipeline) writeStreamed(chunks [][]byte, o *shardOut, start, end int, w io.Writer) ([][]byte, error) {
	for ; o.nextStream < len(o.streams) && int(o.streams[o.nextStream].at) < end; o.nextStream++ {
		s := &o.streams[o.nextStream]
		chunks = append(chunks, o.json[start:s.at])
		if err := writeChunks(w, chunks, &p.joined); err != nil {
			return nil, err
		}
		chunks = chunks[:0]
		if err := writePayload(w, s.payload, s.text, &p.pieces); err != nil {
			return nil, err
		}
		s.payload = nil // written: the collector may have it
		start = int(s.at)
	}
	return append(chunks, o.json[start:end]), nil
}
