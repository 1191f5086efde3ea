package wsproto

import (
	"runtime"

	"github.com/wsviz/wsviz/analyze/internal/hugepage"
	"github.com/wsviz/wsviz/analyze/internal/inflate"
	"github.com/wsviz/wsviz/analyze/internal/lru"
)

// Shared holds what the Streams decoded by one goroutine share, so that a
// connection costs little more than the messages it has in progress:
//
//   - the inflater (about 8 KiB of tables), a 64 KiB window for the
//     messages of directions that hold no history, and a scratch buffer,
//     used only inside one Write, Gap or End call;
//   - spare payload buffers: a message's buffer goes back when the
//     message has been delivered;
//   - the bound on compression histories: a direction with context
//     takeover holds the last 32 KiB of its inflated output (in a 64 KiB
//     buffer), and past MaxHistory bytes for all directions the history
//     of the one that inflated least recently is dropped. Its next message
//     that refers to the dropped history is reported as
//     ws.deflate_history_limit instead of being decoded.
//
// A Shared, and every Stream given it, must be used by one goroutine at a
// time.
type Shared struct {
	maxHistory int64

	dec     *inflate.Decoder
	win     []byte // window of the messages inflated without a history buffer
	scratch [8 << 10]byte

	spare [][]byte // payload buffers free for the next message

	histBytes int64             // capacity of the history buffers held
	histLRU   lru.List[*Stream] // Streams holding a history buffer, least recently inflated first
	windows   *windowPool       // where history buffers come from; nil: the Go heap
}

// windowPool holds the history buffers (windows of 2*histSize bytes) of a
// Shared in memory mapped by hugepage.Map a huge page at a time, where the
// kernel gives them (with hundreds of connections the windows are touched
// at scattered lines for each message, and in 4 KiB pages that is one TLB
// entry per 4 KiB: see docs/performance.md): a buffer given back by releaseHistory is reused, and the
// mappings are unmapped when the Shared is collected (nothing else refers
// to them: a Stream refers to its Shared, and Streams and the decoder are
// the only users of the buffers).
type windowPool struct {
	free     [][]byte // buffers not in use, empty, of capacity 2*histSize
	mappings [][]byte
}

// NewShared returns a Shared that lets the compression histories of its
// Streams hold at most maxHistory bytes together; 0 or negative means no
// bound.
func NewShared(maxHistory int64) *Shared {
	sh := &Shared{maxHistory: maxHistory, windows: new(windowPool)}
	runtime.AddCleanup(sh, func(p *windowPool) {
		for _, m := range p.mappings {
			hugepage.Unmap(m)
		}
	}, sh.windows)
	return sh
}

// newWindow returns an empty history buffer of n bytes: from the pool when
// n is a window's size and the pool has or can map one, else from the Go
// heap.
func (sh *Shared) newWindow(n int) []byte {
	p := sh.windows
	if p == nil || n != 2*histSize {
		return make([]byte, 0, n)
	}
	if len(p.free) == 0 {
		m, w := hugepage.Map(hugepage.Size)
		if m == nil {
			return make([]byte, 0, n)
		}
		p.mappings = append(p.mappings, m)
		for k := 0; k+n <= len(w); k += n {
			p.free = append(p.free, w[k:k:k+n])
		}
	}
	b := p.free[len(p.free)-1]
	p.free[len(p.free)-1] = nil
	p.free = p.free[:len(p.free)-1]
	return b
}

// HistoryBytes returns the bytes held by compression histories.
func (sh *Shared) HistoryBytes() int64 { return sh.histBytes }

// Spare payload buffers: at most maxSpare, each of at most maxSpareCap
// bytes, so that a burst of large messages (--full-payload) leaves nothing
// large behind.
const (
	maxSpare    = 64
	maxSpareCap = OwnedPayload
)

// OwnedPayload is the size past which a Message's Payload is in a buffer
// the Stream gives up when the Message callback returns (it is too large
// to keep as a spare): the Handler may keep such a Payload without copying
// it, which analyze's DecodeJSON does to write a message kept whole
// (--full-payload) after the callback.
const OwnedPayload = 64 << 10

// getBuf returns an empty buffer, a spare one when there is one.
func (sh *Shared) getBuf() []byte {
	if n := len(sh.spare); n > 0 {
		b := sh.spare[n-1]
		sh.spare[n-1] = nil
		sh.spare = sh.spare[:n-1]
		return b
	}
	return nil
}

// putBuf takes back a buffer nothing refers to any more.
func (sh *Shared) putBuf(b []byte) {
	if cap(b) == 0 || cap(b) > maxSpareCap || len(sh.spare) >= maxSpare {
		return
	}
	sh.spare = append(sh.spare, b[:0])
}

// decoder returns the inflater.
func (sh *Shared) decoder() *inflate.Decoder {
	if sh.dec == nil {
		sh.dec = new(inflate.Decoder)
	}
	return sh.dec
}

// window returns the empty window that messages inflate into when their
// direction holds no history buffer.
func (sh *Shared) window() []byte {
	if sh.win == nil {
		sh.win = make([]byte, 0, 2*histSize)
	}
	return sh.win[:0]
}

// holdHistory gives s a history buffer of n bytes, dropping the histories
// of the least recently inflating Streams while the bound is exceeded.
func (sh *Shared) holdHistory(s *Stream, n int) {
	for sh.maxHistory > 0 && sh.histBytes+int64(n) > sh.maxHistory && sh.histLRU.Oldest() != nil && sh.histLRU.Oldest() != &s.histElem {
		victim := sh.histLRU.Oldest().Value
		sh.releaseHistory(victim)
		victim.historyDropped()
	}
	s.hist = sh.newWindow(n)
	sh.histBytes += int64(n)
	s.histElem.Value = s
	sh.histLRU.Push(&s.histElem)
}

// releaseHistory takes back s's history buffer.
func (sh *Shared) releaseHistory(s *Stream) {
	if s.hist == nil {
		return
	}
	sh.histBytes -= int64(cap(s.hist))
	sh.histLRU.Remove(&s.histElem)
	if sh.windows != nil && cap(s.hist) == 2*histSize {
		sh.windows.free = append(sh.windows.free, s.hist[:0])
	}
	s.hist = nil
}
