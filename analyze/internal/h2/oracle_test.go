//go:build h2oracle

// This file checks specFramer against x/net's http2.Framer. x/net/http2
// imports golang.org/x/net/idna, which needs golang.org/x/text in go.mod
// and go.sum; the module does not list it, so run this with a module file
// that does:
//
//	cp go.mod /tmp/h2oracle/go.mod; cp go.sum /tmp/h2oracle/go.sum
//	go get -modfile=/tmp/h2oracle/go.mod golang.org/x/text@v0.44.0
//	go test -modfile=/tmp/h2oracle/go.mod -tags h2oracle ./analyze/internal/h2/

package h2

import (
	"io"
	"slices"
	"testing"

	"golang.org/x/net/http2"
)

// netFramer is x/net's http2.Framer as a framer.
type netFramer struct{ *http2.Framer }

func newNetFramer(w io.Writer) framer {
	return netFramer{http2.NewFramer(w, nil)}
}

func (f netFramer) WriteHeaders(p headersParam) error {
	return f.Framer.WriteHeaders(http2.HeadersFrameParam{StreamID: p.StreamID, BlockFragment: p.BlockFragment,
		EndStream: p.EndStream, EndHeaders: p.EndHeaders, PadLength: p.PadLength, Priority: p.Priority.net()})
}

func (f netFramer) WritePushPromise(p pushPromiseParam) error {
	return f.Framer.WritePushPromise(http2.PushPromiseParam(p))
}

func (f netFramer) WriteRSTStream(stream uint32, code uint32) error {
	return f.Framer.WriteRSTStream(stream, http2.ErrCode(code))
}

func (f netFramer) WriteSettings(settings ...Setting) error {
	var ss []http2.Setting
	for _, s := range settings {
		ss = append(ss, http2.Setting{ID: http2.SettingID(s.ID), Val: s.Value})
	}
	return f.Framer.WriteSettings(ss...)
}

func (f netFramer) WriteGoAway(lastStream uint32, code uint32, debug []byte) error {
	return f.Framer.WriteGoAway(lastStream, http2.ErrCode(code), debug)
}

func (f netFramer) WritePriority(stream uint32, p priorityParam) error {
	return f.Framer.WritePriority(stream, p.net())
}

func (f netFramer) WriteRawFrame(typ, flags uint8, stream uint32, payload []byte) error {
	return f.Framer.WriteRawFrame(http2.FrameType(typ), http2.Flags(flags), stream, payload)
}

// TestOracleFramer makes the conversations of TestRoundTrip with x/net's
// Framer: they must be the bytes specFramer writes, and decode the same.
func TestOracleFramer(t *testing.T) {
	for seed := range int64(roundTripSeeds()) {
		conv := generate(seed, seed%4 == 0, newNetFramer)
		spec := generate(seed, seed%4 == 0, newSpecFramer)
		if !slices.Equal(conv.chunks, spec.chunks) {
			t.Errorf("seed %d: specFramer writes other bytes than x/net's Framer", seed)
		}
		checkRoundTrip(t, seed, conv)
	}
}

func (p priorityParam) net() http2.PriorityParam {
	return http2.PriorityParam{StreamDep: p.StreamDep, Exclusive: p.Exclusive, Weight: p.Weight}
}
