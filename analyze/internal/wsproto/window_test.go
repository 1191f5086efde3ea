package wsproto

import (
	"bytes"
	"compress/flate"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

// compressAll compresses msgs as one sender's messages with context
// takeover (RFC 7692 §7.2.1): a sync flush after each, its 00 00 ff ff
// removed.
func compressAll(t *testing.T, w interface {
	Write([]byte) (int, error)
	Flush() error
}, buf *bytes.Buffer, msgs [][]byte) [][]byte {
	var out [][]byte
	for _, m := range msgs {
		buf.Reset()
		w.Write(m)
		w.Flush()
		b := buf.Bytes()
		if !bytes.HasSuffix(b, []byte{0, 0, 0xff, 0xff}) {
			t.Fatalf("flush did not end with 00 00 ff ff")
		}
		out = append(out, bytes.Clone(b[:len(b)-4]))
	}
	return out
}

// frames frames compressed messages as the client (masked) or the server.
func frames(z [][]byte, client bool) []byte {
	var out []byte
	for _, p := range z {
		out = append(out, encode(frameSpec{fin: true, rsv: RSV1, op: OpBinary, masked: client, mask: testMask, payload: p})...)
	}
	return out
}

// TestDeflateWindowKept has senders that keep to the window they agreed to
// (klauspost/compress's encoder with a custom window, 512 bytes to 32 KiB,
// on text that repeats itself near and far, with context takeover), each
// side under its own max_window_bits: nothing is reported, and every
// message inflates to what was sent.
func TestDeflateWindowKept(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	words := strings.Fields("quote symbol price bid ask volume open close high low trade order fill cancel")
	for bits := 8; bits <= 15; bits++ {
		for _, client := range []bool{false, true} {
			t.Run(fmt.Sprintf("bits %d client %v", bits, client), func(t *testing.T) {
				var msgs [][]byte
				for range 30 {
					var m []byte
					for range 20 + rng.Intn(400) {
						m = fmt.Appendf(m, "%s=%d ", words[rng.Intn(len(words))], rng.Intn(50))
					}
					msgs = append(msgs, m)
				}
				var buf bytes.Buffer
				w, err := kflate.NewWriterWindow(&buf, 1<<max(bits, 9))
				if err != nil {
					t.Fatal(err)
				}
				z := compressAll(t, w, &buf, msgs)
				r := decode(Config{Client: client, Deflate: true, WindowBits: bits, MaxPayload: -1}, frames(z, client))
				if len(r.msgs) != len(msgs) {
					t.Fatalf("%d messages, want %d", len(r.msgs), len(msgs))
				}
				for i, m := range r.msgs {
					if len(m.Problems) != 0 || !bytes.Equal(m.Payload, msgs[i]) {
						t.Fatalf("message %d: problems %v, %d bytes; want none, %d bytes", i, codes(m.Problems), len(m.Payload), len(msgs[i]))
					}
				}
			})
		}
	}
}

// TestDeflateWindowPassed has senders that agreed to a window of 2^bits
// bytes and compressed with compress/flate's 32 KiB: a message that
// repeats n random bytes refers n bytes back. It is reported when n is
// past the window (8 bits counting as 9, as zlib has it), with the
// parameter of the sender's side, and still inflates to what was sent.
func TestDeflateWindowPassed(t *testing.T) {
	rng := rand.New(rand.NewSource(12))
	for bits := 8; bits <= 15; bits++ {
		window := 1 << max(bits, 9)
		for _, n := range []int{window / 2, window - 100, window + 1, window + 700, 30000} {
			for _, client := range []bool{false, true} {
				half := make([]byte, n)
				rng.Read(half)
				msgs := [][]byte{slices.Concat(half, half[:min(n, 2000)]), []byte("a short one after it")}
				var buf bytes.Buffer
				w, _ := flate.NewWriter(&buf, flate.BestCompression)
				z := compressAll(t, w, &buf, msgs)
				r := decode(Config{Client: client, Deflate: true, WindowBits: bits, MaxPayload: -1}, frames(z, client))
				if len(r.msgs) != 2 {
					t.Fatalf("bits %d, n %d: %d messages, want 2", bits, n, len(r.msgs))
				}
				m := r.msgs[0]
				var want []string
				if n > window && n <= 32768 {
					want = []string{CodeDeflateWindow}
				}
				if !slices.Equal(codes(m.Problems), want) {
					t.Fatalf("bits %d, n %d, client %v: problems %v, want %v", bits, n, client, codes(m.Problems), want)
				}
				if !bytes.Equal(m.Payload, msgs[0]) || m.Truncated || m.Undecodable {
					t.Fatalf("bits %d, n %d: %d bytes, truncated %v; want all %d", bits, n, len(m.Payload), m.Truncated, len(msgs[0]))
				}
				if want != nil {
					side := "server"
					if client {
						side = "client"
					}
					msg := fmt.Sprintf("refers %d bytes back, past the %d-byte window the sender agreed to (%s_max_window_bits=%d)", n, window, side, bits)
					if !strings.Contains(m.Problems[0].Msg, msg) {
						t.Fatalf("problem %q, want it to say %q", m.Problems[0].Msg, msg)
					}
				}
				if m := r.msgs[1]; len(m.Problems) != 0 || string(m.Payload) != string(msgs[1]) {
					t.Fatalf("bits %d, n %d: the next message: %v %q", bits, n, codes(m.Problems), m.Payload)
				}
			}
		}
	}
}

// TestDeflateContextKept has a sender that agreed to no context takeover
// and kept its compression context: the message that refers to the one
// before is ws.deflate_context_takeover, with the parameter of its side,
// and shows no payload; a sender that reset its compressor has none.
func TestDeflateContextKept(t *testing.T) {
	m1 := []byte(`{"type":"quote","symbol":"WSVZ","price":101.5}`)
	m2 := []byte(`{"type":"quote","symbol":"WSVZ","price":101.7}`)
	for _, client := range []bool{false, true} {
		for _, takeover := range []bool{false, true} {
			z := deflateMessages(t, [][]byte{m1, m2}, takeover)
			r := decode(Config{Client: client, Deflate: true, NoContextTakeover: true, MaxPayload: -1}, frames(z, client))
			if len(r.msgs) != 2 || len(r.msgs[0].Problems) != 0 || !bytes.Equal(r.msgs[0].Payload, m1) {
				t.Fatalf("client %v, takeover %v: %s", client, takeover, msgOps(r))
			}
			m := r.msgs[1]
			if !takeover {
				if len(m.Problems) != 0 || !bytes.Equal(m.Payload, m2) {
					t.Fatalf("client %v, reset: second message %s", client, msgOps(r))
				}
				continue
			}
			if !slices.Equal(codes(m.Problems), []string{CodeDeflateContext}) || !m.Undecodable || m.Len != 0 || len(m.Payload) != 0 {
				t.Fatalf("client %v, context kept: second message %s", client, msgOps(r))
			}
			side := "server"
			if client {
				side = "client"
			}
			if !strings.Contains(m.Problems[0].Msg, "agreed to "+side+"_no_context_takeover") {
				t.Fatalf("problem %q does not name %s_no_context_takeover", m.Problems[0].Msg, side)
			}
		}
	}
}
