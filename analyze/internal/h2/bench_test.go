package h2

import (
	"strconv"
	"strings"
	"testing"
)

// BenchmarkDataFrames measures DATA frames of several sizes, padded or
// not, passing through a Conn in 1500-byte Writes (a TCP segment's worth),
// to a Handler that does nothing. Bytes per second count the frames'
// headers and padding too.
func BenchmarkDataFrames(b *testing.B) {
	for _, bc := range []struct {
		size   int
		padded bool
	}{{defaultMaxFrameSize, false}, {defaultMaxFrameSize, true}, {1 << 20, false}, {100, false}} {
		name := strconv.Itoa(bc.size)
		if bc.padded {
			name += "/padded"
		}
		b.Run(name, func(b *testing.B) {
			payload := strings.Repeat("w", bc.size)
			flags := uint8(0)
			if bc.padded {
				payload = "\x10" + payload[17:] + strings.Repeat("\x00", 16)
				flags = flagPadded
			}
			var frames []byte
			for len(frames) < 4<<20 {
				frames = append(frames, fr(frameData, flags, 1, payload)...)
			}
			c := NewConnOptions(nopHandler{}, Options{SkipPreface: true})
			// The client lets the server send frames of any size.
			c.Write(Client, []byte(fr(frameSettings, 0, 0, set(SettingMaxFrameSize, maxMaxFrameSize))), 0)
			b.SetBytes(int64(len(frames)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				for i := 0; i < len(frames); i += 1500 {
					c.Write(Server, frames[i:min(i+1500, len(frames))], int64(i))
				}
			}
			if !c.Synced(Server) {
				b.Fatal("the server side lost its framing")
			}
		})
	}
}
