package h2

import (
	"encoding/binary"
	"errors"
	"io"
)

// framer writes HTTP/2 frames: the methods of x/net's http2.Framer that
// the tests use, with this package's types. specFramer implements it from
// RFC 9113; with -tags h2oracle, x/net's Framer does too, and
// TestOracleFramer checks that they write the same bytes.
type framer interface {
	WriteDataPadded(stream uint32, endStream bool, data, pad []byte) error
	WriteHeaders(p headersParam) error
	WriteContinuation(stream uint32, endHeaders bool, fragment []byte) error
	WritePushPromise(p pushPromiseParam) error
	WriteRSTStream(stream uint32, code uint32) error
	WriteSettings(settings ...Setting) error
	WriteSettingsAck() error
	WritePing(ack bool, data [8]byte) error
	WriteGoAway(lastStream uint32, code uint32, debug []byte) error
	WriteWindowUpdate(stream, increment uint32) error
	WritePriority(stream uint32, p priorityParam) error
	WriteRawFrame(typ, flags uint8, stream uint32, payload []byte) error
}

// headersParam is x/net's http2.HeadersFrameParam.
type headersParam struct {
	StreamID      uint32
	BlockFragment []byte
	EndStream     bool
	EndHeaders    bool
	PadLength     uint8 // 0: not padded
	Priority      priorityParam
}

// pushPromiseParam is x/net's http2.PushPromiseParam.
type pushPromiseParam struct {
	StreamID      uint32
	PromiseID     uint32
	BlockFragment []byte
	EndHeaders    bool
	PadLength     uint8 // 0: not padded
}

// priorityParam is x/net's http2.PriorityParam; the zero value means no
// priority fields in HEADERS.
type priorityParam struct {
	StreamDep uint32
	Exclusive bool
	Weight    uint8
}

// specFramer writes frames as RFC 9113 §4.1 and §6 lay them out.
type specFramer struct {
	w   io.Writer
	buf []byte
}

func newSpecFramer(w io.Writer) framer { return &specFramer{w: w} }

var errFrameTooLong = errors.New("specFramer: payload longer than 2^24-1")

// write writes one frame whose payload is parts, joined.
func (f *specFramer) write(typ, flags uint8, stream uint32, parts ...[]byte) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n >= 1<<24 {
		return errFrameTooLong
	}
	// RFC 9113 §4.1: Length (24), Type (8), Flags (8), R (1), Stream Identifier (31).
	f.buf = append(f.buf[:0], byte(n>>16), byte(n>>8), byte(n), typ, flags)
	f.buf = binary.BigEndian.AppendUint32(f.buf, stream&streamMask)
	for _, p := range parts {
		f.buf = append(f.buf, p...)
	}
	_, err := f.w.Write(f.buf)
	return err
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// padding returns the Pad Length field and the padding of n bytes (RFC
// 9113 §6.1), or nothing when not padded.
func padding(padded bool, n int) (field, pad []byte) {
	if !padded {
		return nil, nil
	}
	return []byte{byte(n)}, make([]byte, n)
}

func (f *specFramer) WriteDataPadded(stream uint32, endStream bool, data, pad []byte) error {
	var flags uint8
	if endStream {
		flags |= flagEndStream
	}
	field, zeros := padding(pad != nil, len(pad))
	if pad != nil {
		flags |= flagPadded
	}
	return f.write(frameData, flags, stream, field, data, zeros)
}

func (f *specFramer) WriteHeaders(p headersParam) error {
	var flags uint8
	if p.EndStream {
		flags |= flagEndStream
	}
	if p.EndHeaders {
		flags |= flagEndHeaders
	}
	if p.PadLength != 0 {
		flags |= flagPadded
	}
	var prio []byte
	if p.Priority != (priorityParam{}) {
		flags |= flagPriority
		prio = p.Priority.fields()
	}
	field, zeros := padding(p.PadLength != 0, int(p.PadLength))
	return f.write(frameHeaders, flags, p.StreamID, field, prio, p.BlockFragment, zeros)
}

// fields are the Exclusive, Stream Dependency and Weight fields (RFC 9113
// §6.3).
func (p priorityParam) fields() []byte {
	dep := p.StreamDep & streamMask
	if p.Exclusive {
		dep |= 1 << 31
	}
	return append(be32(dep), p.Weight)
}

func (f *specFramer) WriteContinuation(stream uint32, endHeaders bool, fragment []byte) error {
	var flags uint8
	if endHeaders {
		flags |= flagEndHeaders
	}
	return f.write(frameContinuation, flags, stream, fragment)
}

func (f *specFramer) WritePushPromise(p pushPromiseParam) error {
	var flags uint8
	if p.EndHeaders {
		flags |= flagEndHeaders
	}
	if p.PadLength != 0 {
		flags |= flagPadded
	}
	field, zeros := padding(p.PadLength != 0, int(p.PadLength))
	return f.write(framePushPromise, flags, p.StreamID, field, be32(p.PromiseID), p.BlockFragment, zeros)
}

func (f *specFramer) WriteRSTStream(stream uint32, code uint32) error {
	return f.write(frameRSTStream, 0, stream, be32(code))
}

func (f *specFramer) WriteSettings(settings ...Setting) error {
	var p []byte
	for _, s := range settings {
		p = binary.BigEndian.AppendUint16(p, s.ID)
		p = binary.BigEndian.AppendUint32(p, s.Value)
	}
	return f.write(frameSettings, 0, 0, p)
}

func (f *specFramer) WriteSettingsAck() error { return f.write(frameSettings, flagAck, 0) }

func (f *specFramer) WritePing(ack bool, data [8]byte) error {
	var flags uint8
	if ack {
		flags = flagAck
	}
	return f.write(framePing, flags, 0, data[:])
}

func (f *specFramer) WriteGoAway(lastStream uint32, code uint32, debug []byte) error {
	return f.write(frameGoAway, 0, 0, be32(lastStream), be32(code), debug)
}

func (f *specFramer) WriteWindowUpdate(stream, increment uint32) error {
	return f.write(frameWindowUpdate, 0, stream, be32(increment))
}

func (f *specFramer) WritePriority(stream uint32, p priorityParam) error {
	return f.write(framePriority, 0, stream, p.fields())
}

func (f *specFramer) WriteRawFrame(typ, flags uint8, stream uint32, payload []byte) error {
	return f.write(typ, flags, stream, payload)
}
