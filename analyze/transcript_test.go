package analyze

import (
	"container/heap"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsviz/wsviz/capture"
)

// chunk is what one side wrote, in the order the bytes crossed the wire.
type chunk struct {
	dir  int
	data []byte
}

// transcript records the bytes of a real connection, both ways, in order.
type transcript struct {
	mu     sync.Mutex
	chunks []chunk
}

func (tr *transcript) add(dir int, b []byte) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if n := len(tr.chunks); n > 0 && tr.chunks[n-1].dir == dir {
		tr.chunks[n-1].data = append(tr.chunks[n-1].data, b...)
		return
	}
	tr.chunks = append(tr.chunks, chunk{dir, append([]byte(nil), b...)})
}

// recordingConn records, on the client side, what the client wrote and
// what it read.
type recordingConn struct {
	net.Conn
	tr *transcript
}

func (c recordingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.tr.add(server, b[:n])
	return n, err
}

func (c recordingConn) Write(b []byte) (int, error) {
	c.tr.add(client, b)
	return c.Conn.Write(b)
}

// recordGorilla runs a real gorilla/websocket client and server over
// loopback, lets script talk over them, and returns the bytes that crossed
// the wire. The server echoes nothing by itself: script drives both ends.
func recordGorilla(t *testing.T, compress bool, protocols []string, script func(cl, sv *websocket.Conn)) []chunk {
	t.Helper()
	tr := &transcript{}
	svc := make(chan *websocket.Conn, 1)
	up := websocket.Upgrader{EnableCompression: compress, Subprotocols: protocols}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		svc <- c
	}))
	defer srv.Close()
	d := websocket.Dialer{
		EnableCompression: compress,
		Subprotocols:      protocols,
		NetDial: func(network, addr string) (net.Conn, error) {
			c, err := net.Dial(network, addr)
			return recordingConn{c, tr}, err
		},
	}
	cl, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/chat", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	sv := <-svc
	script(cl, sv)
	cl.Close()
	sv.Close()
	return tr.chunks
}

// segmenter turns a transcript into TCP segments of one connection.
type segmenter struct {
	rng      *rand.Rand
	addr     [2]netip.AddrPort
	isn      [2]uint32
	maxSeg   int
	fixed    bool    // every segment maxSeg bytes
	reorder  int     // swap window; 0 keeps order
	dupRate  float64 // chance a segment is sent twice
	overlaps bool    // retransmit overlapping ranges
}

// tcpSeg is a segment before ACK numbers are filled in.
type tcpSeg struct {
	dir   int
	off   int64 // stream offset of the payload
	flags uint8
	data  []byte
}

// segments cuts the transcript into segments (with handshake and FINs),
// optionally reorders and duplicates them within a direction, then fills
// ACKs as a real receiver would (only for bytes already seen in the list).
func (sg *segmenter) segments(chunks []chunk) []capture.Segment {
	var list []tcpSeg
	list = append(list, tcpSeg{dir: client, off: -1, flags: capture.SYN},
		tcpSeg{dir: server, off: -1, flags: capture.SYN | capture.ACK})
	var off [2]int64
	for _, c := range chunks {
		for b := c.data; len(b) > 0; {
			n := 1 + sg.rng.Intn(sg.maxSeg)
			if sg.fixed {
				n = sg.maxSeg
			}
			n = min(n, len(b))
			list = append(list, tcpSeg{dir: c.dir, off: off[c.dir], flags: capture.ACK | capture.PSH, data: b[:n]})
			if sg.dupRate > 0 && sg.rng.Float64() < sg.dupRate {
				list = append(list, list[len(list)-1])
			}
			if sg.overlaps && n > 2 && sg.rng.Intn(4) == 0 {
				// A retransmission covering the tail of this segment and
				// nothing new.
				k := sg.rng.Intn(n - 1)
				list = append(list, tcpSeg{dir: c.dir, off: off[c.dir] + int64(k), flags: capture.ACK, data: b[k:n]})
			}
			off[c.dir] += int64(n)
			b = b[n:]
		}
	}
	list = append(list, tcpSeg{dir: client, off: off[client], flags: capture.FIN | capture.ACK},
		tcpSeg{dir: server, off: off[server], flags: capture.FIN | capture.ACK})
	if sg.reorder > 0 {
		for i := 2; i < len(list)-2; i++ {
			// Reorder only within a run of one direction: the peer's
			// answer cannot overtake what it answers.
			j := i + sg.rng.Intn(sg.reorder+1)
			run := j < len(list)-2
			for k := i; run && k <= j; k++ {
				run = list[k].dir == list[i].dir
			}
			if run {
				list[i], list[j] = list[j], list[i]
			}
		}
	}
	// ACKs: what the receiver has contiguously seen so far.
	var seen [2]int64
	var pending [2]rangeHeap // ranges that start beyond seen
	out := make([]capture.Segment, 0, len(list))
	for _, s := range list {
		seg := capture.Segment{Src: sg.addr[s.dir], Dst: sg.addr[1-s.dir], Flags: s.flags, Payload: s.data, Window: 65535}
		if s.off < 0 {
			seg.Seq = sg.isn[s.dir]
		} else {
			seg.Seq = sg.isn[s.dir] + 1 + uint32(s.off)
			if end := s.off + int64(len(s.data)); s.off <= seen[s.dir] {
				seen[s.dir] = max(seen[s.dir], end) // in order: no need to queue it
			} else {
				heap.Push(&pending[s.dir], [2]int64{s.off, end})
			}
			for h := &pending[s.dir]; h.Len() > 0 && (*h)[0][0] <= seen[s.dir]; {
				r := heap.Pop(h).([2]int64)
				seen[s.dir] = max(seen[s.dir], r[1])
			}
		}
		if s.flags&capture.ACK != 0 {
			seg.Ack = sg.isn[1-s.dir] + 1 + uint32(seen[1-s.dir])
		}
		out = append(out, seg)
	}
	return out
}

// runSegments feeds segments to a fresh analyzer and returns its events.
func runSegments(opts Options, segs []capture.Segment) []Event {
	var events []Event
	a := New(opts, func(ev *Event) { events = append(events, ev.Clone()) })
	start := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range segs {
		a.pktNum = int64(i + 1)
		a.pktTime = start.Add(time.Duration(i) * time.Millisecond)
		s := segs[i]
		a.segment(&s)
	}
	a.Close()
	return events
}

// timeNever is a zero deadline: none.
var timeNever time.Time

// rangeHeap orders byte ranges by their start.
type rangeHeap [][2]int64

func (h rangeHeap) Len() int           { return len(h) }
func (h rangeHeap) Less(i, j int) bool { return h[i][0] < h[j][0] }
func (h rangeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *rangeHeap) Push(x any)        { *h = append(*h, x.([2]int64)) }
func (h *rangeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
