//go:build ignore

// Gen writes the hostile captures of internal/bench.HostileCaptures into
// this directory: the small ones, gzip-compressed (capture reads them as
// they are), which are kept in the repository, or with
// -all every one of them (the large ones, up to 14 MB, are otherwise made
// by the tests when they run).
//
//	go run ./testdata/hostile/gen.go [-all] [-dir testdata/hostile]
package main

import (
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wsviz/wsviz/internal/bench"
)

func main() {
	all := flag.Bool("all", false, "write the large captures too")
	dir := flag.String("dir", filepath.Join("testdata", "hostile"), "output directory")
	flag.Parse()
	for _, h := range bench.HostileCaptures() {
		if !h.Small && !*all {
			continue
		}
		path := filepath.Join(*dir, h.Name+".pcap")
		if h.Small {
			path += ".gz"
		}
		f, err := os.Create(path)
		if err == nil {
			if h.Small {
				zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
				zw.ModTime = time.Time{} // the same bytes on every run
				err = h.Write(zw)
				if cerr := zw.Close(); err == nil {
					err = cerr
				}
			} else {
				err = h.Write(f)
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", path)
	}
}
