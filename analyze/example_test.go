package analyze_test

import (
	"fmt"
	"log"

	"github.com/wsviz/wsviz/analyze"
)

// Decode a capture and walk its events the way a regression test would:
// count the WebSocket connections and messages, and fail on any warning.
func ExampleDecodeFile() {
	var upgrades, messages, warnings int
	var firstPush string
	err := analyze.DecodeFile("../testdata/chromium.pcapng", analyze.Options{}, func(ev *analyze.Event) error {
		switch {
		case ev.Type == analyze.TypeWSOpen:
			upgrades++
			fmt.Printf("conn %d: WebSocket on %s, subprotocol %q, deflate %v\n", ev.Conn, ev.WSOpen.Path, ev.WSOpen.Subprotocol, ev.WSOpen.Deflate != nil)
		case ev.Type == analyze.TypeWSMessage:
			messages++
			if firstPush == "" && ev.From == analyze.FromServer {
				// ev is reused after this function returns: copy what you keep.
				firstPush = string(ev.Message.Payload)
			}
		}
		warnings += len(ev.Warnings)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d upgrade, %d messages, %d warnings\n", upgrades, messages, warnings)
	fmt.Println("first server message:", firstPush)
	// Output:
	// conn 3: WebSocket on /ws, subprotocol "chat.v1", deflate true
	// 1 upgrade, 17 messages, 0 warnings
	// first server message: {"type":"welcome","users":["ada","bob"],"room":"websocket"}
}
