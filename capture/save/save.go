package save

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/wsviz/wsviz/capture"
)

// Interface describes where the packets were captured, for the file's
// Interface Description Block (pcapng §4.2).
type Interface struct {
	Name        string           // if_name, e.g. "lo"
	Description string           // if_description, free text
	Filter      string           // if_filter, the capture filter expression
	LinkType    capture.LinkType // how each packet's data begins
	SnapLen     int              // most bytes kept of a packet; 0 for no limit
	// OS is if_os, the capturing host's operating system. Create and
	// NewWriter write runtime.GOOS when it is empty; NgWriter.AddInterface
	// leaves an empty one out.
	OS string
}

// WsvizSection is the section header wsviz writes: the application, the
// machine's architecture and operating system.
var WsvizSection = Section{Application: "wsviz", Hardware: runtime.GOARCH, OS: runtime.GOOS}

// Writer writes packets to a pcapng file of one interface. It is not safe
// for concurrent use.
type Writer struct {
	name    string // file name, for errors
	file    io.Closer
	ng      *NgWriter
	packets int64
	first   time.Time
	last    time.Time
	stats   *Stats
	closed  bool
}

// Stats are the interface's counts for the Interface Statistics Block
// (pcapng §4.6) that Close writes.
type Stats struct {
	Received uint64 // isb_ifrecv: packets the interface received
	Dropped  uint64 // isb_ifdrop: packets dropped for lack of resources
}

// Create creates (or truncates) the named file and writes the pcapng
// headers for the interface.
func Create(path string, iface Interface) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("save: %w", err)
	}
	w, err := newWriter(f, path, iface)
	if err != nil {
		f.Close()
		return nil, err
	}
	w.file = f
	return w, nil
}

// NewWriter writes the pcapng headers for the interface to out and returns
// a Writer that appends packets to it. Close does not close out.
func NewWriter(out io.Writer, iface Interface) (*Writer, error) {
	return newWriter(out, "output", iface)
}

func newWriter(out io.Writer, name string, iface Interface) (*Writer, error) {
	if iface.OS == "" {
		iface.OS = runtime.GOOS
	}
	ng, err := NewNgWriter(out, WsvizSection)
	if err == nil {
		_, err = ng.AddInterface(iface)
	}
	if err != nil {
		return nil, fmt.Errorf("save: write %s: %w", name, err)
	}
	return &Writer{name: name, ng: ng}, nil
}

// WritePacket appends the packet. The data is copied into the writer's
// buffer, so the packet may be reused when WritePacket returns.
func (w *Writer) WritePacket(p *capture.Packet) error {
	if w.closed {
		return fmt.Errorf("save: write %s: %w", w.name, os.ErrClosed)
	}
	if err := w.ng.WritePacket(0, p); err != nil {
		return fmt.Errorf("save: write %s: %w", w.name, err)
	}
	if w.packets == 0 {
		w.first = p.Timestamp
	}
	w.last = p.Timestamp
	w.packets++
	return nil
}

// Packets returns the number of packets written.
func (w *Writer) Packets() int64 { return w.packets }

// SetStats records the interface's counts, written by Close.
func (w *Writer) SetStats(st Stats) { w.stats = &st }

// Flush writes the buffered packets to the file.
func (w *Writer) Flush() error {
	if w.closed {
		return nil
	}
	if err := w.ng.Flush(); err != nil {
		return fmt.Errorf("save: write %s: %w", w.name, err)
	}
	return nil
}

// Close writes the statistics block if SetStats was called, flushes, and
// closes the file when the Writer created it. The file is complete and
// valid afterwards.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	var errs []error
	if w.stats != nil {
		st := IfaceStats{
			LastUpdate: w.last,
			Start:      w.first,
			End:        w.last,
			Received:   w.stats.Received,
			Dropped:    w.stats.Dropped,
		}
		errs = append(errs, w.ng.WriteStats(0, st))
	}
	errs = append(errs, w.ng.Flush())
	w.closed = true
	if w.file != nil {
		errs = append(errs, w.file.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("save: close %s: %w", w.name, err)
	}
	return nil
}

// Tee returns a Source that reads from src and writes every packet it
// returns to w before returning it. A write error ends the source with that
// error.
func Tee(src capture.Source, w *Writer) capture.Source {
	return &tee{src: src, w: w}
}

type tee struct {
	src capture.Source
	w   *Writer
}

func (t *tee) ReadPacket() (capture.Packet, error) {
	p, err := t.src.ReadPacket()
	if err != nil {
		return p, err
	}
	if err := t.w.WritePacket(&p); err != nil {
		return capture.Packet{}, err
	}
	return p, nil
}
