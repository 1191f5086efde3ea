package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/wsviz/wsviz/capture"
)

// progressInterval is how often the progress line is redrawn.
const progressInterval = 250 * time.Millisecond

// startProgress draws a progress line on stderr while a file is decoded:
// bytes read, percent, rate and time left. It draws only when stderr is a
// terminal, the file's size is known (a regular file, not a pipe), and
// quiet is false; the command also passes quiet when its own output goes
// to the same terminal, where the line would tear its output apart. The
// returned func draws the last state (100%) and erases the line, so the
// terminal is left as it was; it must be called before anything else is
// printed on stderr. Then, whatever quiet says, it notes the file's
// interfaces whose link type wsviz does not decode (noteSkippedLinks) and
// prints the decoder's notes (input.notes).
func startProgress(in *input, stderr io.Writer, quiet bool) (stop func()) {
	f := in.file
	erase := drawProgress(f, stderr, quiet)
	var once sync.Once
	return func() {
		once.Do(func() {
			erase()
			noteSkippedLinks(f, stderr)
			printNotes(in, stderr)
		})
	}
}

// noteSkippedLinks says on stderr which of f's interfaces (all of them, as
// the file was read to where decoding stopped) have a link type DecodeTCP
// does not read: their packets were skipped, and a capture of nothing else
// would otherwise end without a word.
func noteSkippedLinks(f *capture.File, stderr io.Writer) {
	if f == nil {
		return
	}
	for _, note := range f.Skipped() {
		fmt.Fprintf(stderr, "wsviz: %s\n", note)
	}
}

// printNotes prints the decoder's notes on the whole capture (input.notes)
// on stderr.
func printNotes(in *input, stderr io.Writer) {
	for _, note := range in.notes {
		fmt.Fprintf(stderr, "wsviz: %s\n", note)
	}
}

// drawProgress draws the progress line (see startProgress) and returns the
// func that draws its last state and erases it.
func drawProgress(f *capture.File, stderr io.Writer, quiet bool) (erase func()) {
	if f == nil || quiet || !isTerminal(stderr) {
		return func() {}
	}
	if _, total := f.Progress(); total <= 0 {
		return func() {}
	}
	start := time.Now()
	draw := func() {
		read, total := f.Progress()
		fmt.Fprintf(stderr, "\r\x1b[K%s", progressLine(read, total, time.Since(start)))
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			draw()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		draw()
		fmt.Fprint(stderr, "\r\x1b[K")
	}
}

// progressLine says how far a decode has come:
// "wsviz: 312 MB of 2.10 GB (14.9%), 120 MB/s, 15 s left".
func progressLine(read, total int64, elapsed time.Duration) string {
	pct := 100 * float64(read) / float64(total)
	s := fmt.Sprintf("wsviz: %s of %s (%.1f%%)", byteSize(read), byteSize(total), pct)
	if secs := elapsed.Seconds(); secs >= 0.2 && read > 0 {
		rate := float64(read) / secs
		s += fmt.Sprintf(", %s/s", byteSize(int64(rate)))
		if left := float64(total-read) / rate; read < total {
			s += fmt.Sprintf(", %s left", time.Duration(left*float64(time.Second)).Round(time.Second))
		}
	}
	return s
}

// byteSize formats a byte count in decimal units, three significant
// digits: 950 B, 12.3 kB, 312 MB, 2.10 GB.
func byteSize(n int64) string {
	const units = "kMGTPE"
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	i := -1
	for v >= 999.5 && i < len(units)-1 {
		v /= 1000
		i++
	}
	switch {
	case v >= 99.95:
		return fmt.Sprintf("%.0f %cB", v, units[i])
	case v >= 9.995:
		return fmt.Sprintf("%.1f %cB", v, units[i])
	}
	return fmt.Sprintf("%.2f %cB", v, units[i])
}
