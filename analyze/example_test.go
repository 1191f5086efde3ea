package analyze_test

import (
	"fmt"
	"log"

	"github.com/wsviz/wsviz/analyze"
)

// Decode a capture and walk its events: here, print every message the
// server pushed and every warning, the way a regression test would check
// its own traffic.
func ExampleDecodeFile() {
	err := analyze.DecodeFile("../testdata/demo.pcapng", analyze.Options{}, func(ev *analyze.Event) error {
		if ev.Type == analyze.TypeWSMessage && ev.From == analyze.FromServer && ev.Message.Opcode == "text" {
			fmt.Printf("conn %d packet %d: %s\n", ev.Conn, ev.Packet, ev.Message.Payload)
		}
		for _, w := range ev.Warnings {
			fmt.Printf("conn %d packet %d: %s\n", ev.Conn, ev.Packet, w.Code)
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
}
