package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestVectorFileWriteBuffers writes more buffers than one writev takes,
// some empty and some large, to a file and through a pipe whose reader is
// slow (so writes come back short), and checks every byte arrives in order.
func TestVectorFileWriteBuffers(t *testing.T) {
	var bufs [][]byte
	var want bytes.Buffer
	for i := range 3000 {
		b := []byte(fmt.Sprintf("line %d\n", i))
		switch i % 500 {
		case 7:
			b = nil
		case 11:
			b = bytes.Repeat([]byte{'x'}, 300<<10) // larger than a pipe buffer
		}
		bufs = append(bufs, b)
		want.Write(b)
	}

	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "out")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := (&vectorFile{File: f}).WriteBuffers(append([][]byte(nil), bufs...)); err != nil {
			t.Fatal(err)
		}
		f.Close()
		got, _ := os.ReadFile(path)
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("file holds %d bytes, want %d in order", len(got), want.Len())
		}
	})
	t.Run("pipe", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan []byte)
		go func() {
			var got bytes.Buffer
			buf := make([]byte, 1000) // small reads: the writer waits often
			for {
				n, err := r.Read(buf)
				got.Write(buf[:n])
				if err == io.EOF {
					break
				}
			}
			done <- got.Bytes()
		}()
		if err := (&vectorFile{File: w}).WriteBuffers(append([][]byte(nil), bufs...)); err != nil {
			t.Fatal(err)
		}
		w.Close()
		if got := <-done; !bytes.Equal(got, want.Bytes()) {
			t.Errorf("pipe carried %d bytes, want %d in order", len(got), want.Len())
		}
		r.Close()
	})
}
