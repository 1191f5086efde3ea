package analyze_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// writeRecorder is an io.Writer, and an analyze.BuffersWriter when vector
// is true, that checks what is written against what is wanted (a matcher)
// and keeps the largest single buffer.
type writeRecorder struct {
	*matcher
	largest int
}

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.largest = max(w.largest, len(p))
	return w.matcher.Write(p)
}

type vectorRecorder struct{ writeRecorder }

func (w *vectorRecorder) WriteBuffers(bufs [][]byte) error {
	for _, b := range bufs {
		w.Write(b)
	}
	return nil
}

// largeMessagesCapture has two connections with permessage-deflate
// sending messages of several MiB, kept whole with --full-payload: text
// dense with what a cut between pieces could break (multi-byte
// characters, escapes, U+2028, invalid bytes), compressed and not, and
// binary, between small messages.
func largeMessagesCapture(t *testing.T) (data []byte, payloads int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	atoms := []string{"a", "b", " ", `"`, "\\", "\n", "\x01", "é", "€", "𝄞", "\u2028", "\xff", "\xe2\x82"}
	text := func(n int) []byte {
		var b strings.Builder
		for b.Len() < n {
			b.WriteString(atoms[rng.IntN(len(atoms))])
		}
		return []byte(b.String())
	}
	binary := func(n int) []byte {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(rng.IntN(16))
		}
		return p
	}
	c := capturetest.NewCapture(capturetest.Options{})
	var ks []*capturetest.Conn
	var ds []*analyzetest.Deflater
	for i := range 2 {
		k := c.Conn(fmt.Sprintf("10.0.0.%d:40000", i+1), "10.1.0.1:8080")
		k.Handshake()
		k.Client(analyzetest.Request("/big", "Sec-WebSocket-Extensions: permessage-deflate"))
		k.Server(analyzetest.Response("Sec-WebSocket-Extensions: permessage-deflate"))
		ks = append(ks, k)
		ds = append(ds, &analyzetest.Deflater{Level: 1})
	}
	for round := range 2 {
		for i, k := range ks {
			k.Server(analyzetest.Text(false, "small before"))
			k.Server(analyzetest.Frame{Fin: true, RSV: 4, Opcode: analyzetest.OpText, Payload: ds[i].Compress(text(1<<20 + 100*round))}.Bytes())
			k.Server(analyzetest.Binary(false, binary(1<<20+1)))
			k.Server(analyzetest.Frame{Fin: true, RSV: 4, Opcode: analyzetest.OpBinary, Payload: ds[i].Compress(binary(1<<20 + 7))}.Bytes())
			k.Client(analyzetest.Text(true, string(text(1<<20+3))))
			k.Server(analyzetest.Text(false, "small after"))
			payloads += 4
		}
	}
	return c.Bytes(), payloads
}

// TestFullPayloadInPieces checks that DecodeJSON writes messages kept
// whole (MaxPayload -1, --full-payload) exactly as Decode's events encode
// them, with one worker and several, into a plain writer and a
// BuffersWriter, and that it never writes a payload's JSON as one buffer:
// it streams it in pieces, so that it is never held encoded (the
// deflate-bomb capture's 64 MiB message made 89 MB of JSON).
func TestFullPayloadInPieces(t *testing.T) {
	data, payloads := largeMessagesCapture(t)
	opts := analyze.Options{MaxPayload: -1, Workers: 1}
	want, err := decodeLines(t, data, opts, true)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(want, []byte(`"truncated":true`)); n != 0 {
		t.Fatalf("%d messages truncated, want none", n)
	}
	big := 0
	for line := range bytes.Lines(want) {
		if len(line) > 1<<20 {
			big++
		}
	}
	if big != payloads {
		t.Fatalf("%d lines of more than 1 MiB, want %d", big, payloads)
	}
	for _, workers := range []int{1, 2, 3} {
		for _, vector := range []bool{false, true} {
			t.Run(fmt.Sprintf("workers=%d/vector=%v", workers, vector), func(t *testing.T) {
				opts.Workers = workers
				src, err := capture.NewReader(bytes.NewReader(data), "large.pcap")
				if err != nil {
					t.Fatal(err)
				}
				v := &vectorRecorder{writeRecorder{matcher: newMatcher(want)}}
				w := &v.writeRecorder
				if vector {
					err = analyze.DecodeJSON(src, opts, v)
				} else {
					err = analyze.DecodeJSON(src, opts, w)
				}
				if err != nil {
					t.Fatal(err)
				}
				if diff := w.diff(); diff != "" {
					t.Fatalf("DecodeJSON output differs from Decode's events:\n%s", diff)
				}
				if w.largest >= 1<<20 {
					t.Errorf("DecodeJSON wrote a buffer of %d bytes; payloads of 1 MiB and more are written in pieces of 256 KiB", w.largest)
				}
			})
		}
	}
}
