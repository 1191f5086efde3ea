package transcript

import (
	"strings"
	"testing"
	"time"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// step is what one side sends in a scripted connection: frame bytes, after
// a pause.
type step struct {
	fromClient bool
	data       []byte
	pause      time.Duration
}

func client(s string) step                { return step{fromClient: true, data: analyzetest.Text(true, s)} }
func server(s string) step                { return step{data: analyzetest.Text(false, s)} }
func clientBinary(p []byte) step          { return step{fromClient: true, data: analyzetest.Binary(true, p)} }
func (s step) after(d time.Duration) step { s.pause = d; return s }

// script is one WebSocket connection of a test capture.
type script struct {
	client string   // "ip:port"
	path   string   // upgrade request target
	header []string // extra request header lines
	steps  []step
}

// writeCapture writes a pcap of the scripted connections, one after the
// other, and returns its path.
func writeCapture(t *testing.T, scripts ...script) string {
	t.Helper()
	c := capturetest.NewCapture(capturetest.Options{})
	for _, s := range scripts {
		k := c.Conn(s.client, "127.0.0.1:9001")
		k.Handshake()
		k.Client(analyzetest.Request(s.path, s.header...))
		k.Server(analyzetest.Response())
		for _, st := range s.steps {
			c.Advance(st.pause)
			if st.fromClient {
				k.Client(st.data)
			} else {
				k.Server(st.data)
			}
		}
		k.Client(analyzetest.Close(true, 1000, "bye"))
		k.Server(analyzetest.Close(false, 1000, ""))
		k.CloseFIN(false)
		k.CloseFIN(true)
		k.Ack(false)
	}
	return c.TempFile(t, "test.pcap")
}

// transcribe makes the transcript of a capture.
func transcribe(t *testing.T, path string, o Options) *Transcript {
	t.Helper()
	tr, err := ReadFile(path, o, analyze.Options{})
	if err != nil {
		t.Fatalf("ReadFile(%s): %v", path, err)
	}
	return tr
}

// diffText compares two transcripts and returns the diff ("" when equal).
func diffText(t *testing.T, a, b *Transcript, o DiffOptions) string {
	t.Helper()
	d, err := Diff(a, b, o)
	if err != nil {
		t.Fatalf("Diff: %v", err)
	}
	var sb strings.Builder
	if err := d.WriteTo(&sb, "old", "new"); err != nil {
		t.Fatal(err)
	}
	if d.Equal() != (sb.Len() == 0) {
		t.Errorf("Equal() = %v but the diff is %q", d.Equal(), sb.String())
	}
	return sb.String()
}
