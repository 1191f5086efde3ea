// Command wsviz-session records the deterministic session of package
// session on loopback into a pcapng file (as root: capture needs
// CAP_NET_RAW). The recordings in testdata/session are made with:
//
//	go run ./internal/session/cmd/wsviz-session -o testdata/session/ab.pcapng
//	go run ./internal/session/cmd/wsviz-session -o testdata/session/ba.pcapng -reverse
//	go run ./internal/session/cmd/wsviz-session -o testdata/session/changed.pcapng -change
//
// then go test ./transcript -run TestGolden -update remakes their
// transcripts.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/wsviz/wsviz/internal/session"
)

func main() {
	out := flag.String("o", "session.pcapng", "pcapng `file` to write")
	addr := flag.String("addr", session.DefaultAddr, "the server's listening `address`")
	reverse := flag.Bool("reverse", false, "open the second connection first")
	change := flag.Bool("change", false, "change one message (the server's welcome to bob)")
	flag.Parse()
	if err := session.Record(*out, session.Options{Addr: *addr, Reverse: *reverse, Change: *change}); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "wsviz-session: wrote %s\n", *out)
}
