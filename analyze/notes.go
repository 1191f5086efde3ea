package analyze

import "fmt"

// The notes of the frequent events (frames, data messages, pings) are built
// by jsonenc.Notes; the others with fmt where they are emitted. What is here
// is shared by those.

// pongAnswerNote is the note of a pong answering a ping, by direction:
// constant strings, no allocation.
var pongAnswerNote = [2]string{
	"the client answered the ping with a pong",
	"the server answered the ping with a pong",
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
