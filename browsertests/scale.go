package browsertests

import (
	"fmt"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// ScaleCapture writes a pcapng capture of conns concurrent WebSocket
// connections of about messages messages each to path, for the scale
// benchmark: JSON text both ways of 20 to 600 bytes, a binary message in
// seven, a ping (and its pong) in fifty, and a clean close. One
// conversation is recorded with gorilla/websocket and replayed on every
// connection, the connections interleaved packet by packet, one packet per
// step (so 200 × 2,000 messages span about seven minutes of capture time).
// It returns the number of messages written.
func ScaleCapture(path string, conns, messages int, step time.Duration) (int, error) {
	var steps []Step
	n := 0
	for n < messages {
		i := len(steps)
		switch {
		case i%50 == 49:
			steps = append(steps, Step{true, websocket.PingMessage, []byte("heartbeat")})
			n += 2 // the ping and its pong
		case i%7 == 6:
			b := make([]byte, 64+i%256)
			for j := range b {
				b[j] = byte(i + j*31)
			}
			steps = append(steps, Step{i%2 == 0, websocket.BinaryMessage, b})
			n++
		default:
			pad := strings.Repeat("x", (i*37)%580)
			side := "client"
			if i%2 == 1 {
				side = "server"
			}
			steps = append(steps, Step{i%2 == 0, websocket.TextMessage,
				fmt.Appendf(nil, `{"seq":%d,"from":"%s","kind":"update","pad":"%s"}`, i, side, pad)})
			n++
		}
	}
	steps = append(steps, Step{true, websocket.CloseMessage, websocket.FormatCloseMessage(1000, "done")})
	n += 2
	chunks, err := Record(Conversation{Path: "/stream", Steps: steps})
	if err != nil {
		return 0, err
	}
	c := capturetest.NewCapture(capturetest.Options{NG: true, Step: step})
	convs := make([][]Chunk, conns)
	for i := range convs {
		convs[i] = chunks
	}
	Replay(c, convs)
	return n * conns, c.WriteFile(path)
}
