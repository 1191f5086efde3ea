package wsproto

import "github.com/wsviz/wsviz/analyze/internal/inflate"

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

	histBytes int64      // capacity of the history buffers held
	histLRU   streamList // Streams holding a history buffer, least recently inflated first
}

// NewShared returns a Shared that lets the compression histories of its
// Streams hold at most maxHistory bytes together; 0 or negative means no
// bound.
func NewShared(maxHistory int64) *Shared {
	return &Shared{maxHistory: maxHistory}
}

// HistoryBytes returns the bytes held by compression histories.
func (sh *Shared) HistoryBytes() int64 { return sh.histBytes }

// Spare payload buffers: at most maxSpare, each of at most maxSpareCap
// bytes, so that a burst of large messages (--full-payload) leaves nothing
// large behind.
const (
	maxSpare    = 64
	maxSpareCap = 64 << 10
)

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
	for sh.maxHistory > 0 && sh.histBytes+int64(n) > sh.maxHistory && sh.histLRU.head != nil && sh.histLRU.head != s {
		victim := sh.histLRU.head
		sh.releaseHistory(victim)
		victim.historyDropped()
	}
	s.hist = make([]byte, 0, n)
	sh.histBytes += int64(n)
	sh.histLRU.push(s)
}

// releaseHistory takes back s's history buffer.
func (sh *Shared) releaseHistory(s *Stream) {
	if s.hist == nil {
		return
	}
	sh.histBytes -= int64(cap(s.hist))
	sh.histLRU.remove(s)
	s.hist = nil
}

// streamList is a doubly linked list of Streams through their histPrev
// and histNext fields.
type streamList struct{ head, tail *Stream }

func (l *streamList) push(s *Stream) {
	s.histPrev, s.histNext = l.tail, nil
	if l.tail != nil {
		l.tail.histNext = s
	} else {
		l.head = s
	}
	l.tail = s
}

func (l *streamList) remove(s *Stream) {
	if s.histPrev != nil {
		s.histPrev.histNext = s.histNext
	} else if l.head == s {
		l.head = s.histNext
	}
	if s.histNext != nil {
		s.histNext.histPrev = s.histPrev
	} else if l.tail == s {
		l.tail = s.histPrev
	}
	s.histPrev, s.histNext = nil, nil
}

// touch makes s the most recently inflating Stream.
func (l *streamList) touch(s *Stream) {
	if l.tail != s {
		l.remove(s)
		l.push(s)
	}
}
