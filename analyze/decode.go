package analyze

import (
	"errors"
	"io"
	"time"

	"github.com/wsviz/wsviz/analyze/internal/jsonenc"
	"github.com/wsviz/wsviz/capture"
)

// Decode reads every packet from src and calls emit for every event in
// capture order. It stops at the first error from emit, or from src
// (other than io.EOF); events of everything read before a source error
// were emitted, and open connections were closed, before Decode returns it.
//
// The *Event and its slices are reused after emit returns: call Clone to
// keep one.
//
// With Options.Workers other than 1, connections are sharded across that
// many goroutines; emit is still called on the caller's goroutine, one
// event at a time, with the same events in the same order as with one
// worker (connections numbered in order of first packet, the events of
// one packet together, end-of-capture closes in connection order). The one
// exception: the caps over all connections (MaxBufferTotal and
// MaxDeflateHistory) are divided among the workers. Options.OnPacket is
// called on the caller's goroutine too, in packet order, each call after
// the events of its packet, as with one worker. From a capture.IdleSource
// (a live capture, whose events must come as its packets do, not a batch
// at a time), it decodes on one worker, and calls Analyzer.Idle whenever
// the source is idle.
func Decode(src capture.Source, opts Options, emit func(*Event) error) error {
	useSourceSecrets(src, &opts) // tls.go
	if opts.sharded(src, false) {
		return decodeSharded(src, opts, sink{emit: emit})
	}
	return decodeSerial(src, opts, emit, nil)
}

// sharded reports whether Decode (json false) or DecodeJSON shards src's
// connections across workers.
func (o Options) sharded(src capture.Source, json bool) bool {
	_, live := src.(capture.IdleSource)
	return o.workers() > 1 && !(json && o.OnPacket != nil) && !live
}

// decodeSerial is Decode on the caller's goroutine alone. notes, when not
// nil, is the note builder the Analyzer is to use.
func decodeSerial(src capture.Source, opts Options, emit func(*Event) error, notes *jsonenc.Notes) error {
	var emitErr error
	a := New(opts, func(ev *Event) {
		if emitErr == nil {
			emitErr = emit(ev)
		}
	})
	if notes != nil {
		a.notes = notes
	}
	if is, ok := src.(capture.IdleSource); ok {
		is.SetIdle(func(now time.Time) {
			if emitErr == nil {
				a.Idle(now)
			}
		})
		defer is.SetIdle(nil)
	}
	read := capture.ReadTo(src)
	var p capture.Packet
	for emitErr == nil {
		if err := read(&p); err != nil {
			a.Close()
			if emitErr != nil {
				return emitErr
			}
			notify(opts, a.late)
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		a.Packet(&p)
	}
	return emitErr
}

// notify hands the notes on what the whole decode counted to
// Options.OnNote.
func notify(opts Options, late lateData) {
	if n := late.note(); n != "" && opts.OnNote != nil {
		opts.OnNote(n)
	}
}

// DecodeJSON decodes src as Decode does and writes every event to w in
// its AppendJSON form, one per line: what `wsviz events` prints. With
// several workers the events are also encoded in parallel. w receives
// large writes (up to jsonWriteSize bytes, or a batch's lines), so it need
// not be buffered; when w is a BuffersWriter a batch's lines are handed
// over as they lie in the workers' buffers, without being copied together
// first. It returns the first error from w or from src (as Decode).
func DecodeJSON(src capture.Source, opts Options, w io.Writer) error {
	useSourceSecrets(src, &opts) // tls.go
	if opts.sharded(src, true) {
		return decodeSharded(src, opts, sink{json: true, w: w})
	}
	var buf []byte
	var werr error // from w: nothing more is written
	var times jsonenc.TimeCache
	// The Analyzer's notes builder: its notes are copied unescaped, and
	// since the events go nowhere but appendJSON, it can reuse its memory.
	notes := jsonenc.ReusingNotes()
	var pieces []byte
	err := decodeSerial(src, opts, func(ev *Event) error {
		if streamsPayload(ev) {
			// The line up to the payload, the payload in pieces, the rest
			// (jsonpieces.go).
			var at int
			buf, at = ev.appendJSONAt(buf, &times, notes, true)
			buf = append(buf, '\n')
			if _, werr = w.Write(buf[:at]); werr == nil {
				werr = writePayload(w, ev.Message.Payload, ev.Message.Opcode == "text", &pieces)
			}
			buf = buf[:copy(buf, buf[at:])]
			return werr
		}
		buf = ev.appendJSON(buf, &times, notes)
		buf = append(buf, '\n')
		if len(buf) >= jsonWriteSize {
			_, werr = w.Write(buf)
			buf = buf[:0]
		}
		return werr
	}, notes)
	if werr == nil && len(buf) > 0 {
		// The events before a source error are written too.
		if _, werr = w.Write(buf); err == nil {
			err = werr
		}
	}
	return err
}

// jsonWriteSize is the size of DecodeJSON's writes on one worker.
const jsonWriteSize = 256 << 10

// BuffersWriter is an io.Writer that also writes several buffers in one
// call, in order, as writev(2) does; cmd/wsviz gives DecodeJSON one for its
// standard output on Linux. WriteBuffers returns nil only when every byte
// was written. It may modify bufs.
type BuffersWriter interface {
	io.Writer
	WriteBuffers(bufs [][]byte) error
}

// DecodeFile decodes a pcap or pcapng file; see Decode.
func DecodeFile(path string, opts Options, emit func(*Event) error) error {
	f, err := capture.OpenFile(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return Decode(f, opts, emit)
}

// ReadFile decodes a whole capture file and returns copies of all its
// events: convenient for tests of small captures. For big captures use
// DecodeFile, which holds nothing.
func ReadFile(path string, opts Options) ([]Event, error) {
	var events []Event
	err := DecodeFile(path, opts, func(ev *Event) error {
		events = append(events, ev.Clone())
		return nil
	})
	return events, err
}
