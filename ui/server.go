package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsviz/wsviz/analyze"
)

// Options configures a Server. The zero value is ready to use.
type Options struct {
	// TempDir is the directory of the spill file holding event details and
	// payloads; "" means os.TempDir().
	TempDir string
	// MaxEvents, when positive, bounds the number of events kept; the
	// default is no bound: the store keeps them on disk, and its memory
	// does not grow with them. Events past it still count in the summary
	// and the connections table, and the page says how many it does not
	// show.
	MaxEvents int
	// MaxSpill bounds the spill file of event details in bytes (default
	// 16 GiB; compressed, it is about half the capture). Events past it
	// are shown but their details and payloads are not kept.
	MaxSpill int64
	// MaxPayload bounds the payload bytes kept per message (default 1 MiB);
	// negative keeps all that the analyzer passed on.
	MaxPayload int
	// QueueLen is how many updates may wait for a browser tab before it is
	// counted as fallen behind (default 64). A tab that fell behind is told
	// so and re-synced from the stored events; it never blocks Publish.
	QueueLen int
	// FlushInterval is how often new events are sent to the tabs (default
	// 50ms).
	FlushInterval time.Duration
	// AllowedHosts lists Host header names accepted besides loopback names
	// and addresses ("localhost", 127.0.0.0/8, ::1); "*" accepts any. A
	// server bound to loopback refuses other names, so that a web page
	// cannot reach it through DNS rebinding.
	AllowedHosts []string
	// Version is the version written in exported HARs' creator, after
	// "wsviz"; "1" when empty.
	Version string
}

func (o *Options) setDefaults() {
	if o.MaxSpill <= 0 {
		o.MaxSpill = 16 << 30
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = 1 << 20
	}
	if o.QueueLen <= 0 {
		o.QueueLen = 64
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 50 * time.Millisecond
	}
}

// Stats describes a live capture, for the summary.
type Stats struct {
	// Packets counts the packets captured so far.
	Packets int64
	// Drops counts the packets the kernel or the capture dropped.
	Drops int64
	// Capturing is true while the capture is running.
	Capturing bool
}

// status is the summary sent to the page as {"type":"status",...}.
type status struct {
	Type     string `json:"type"`
	Source   string `json:"source"`
	T0       string `json:"t0"`
	T0Sec    int64  `json:"t0_sec"`
	T0Nsec   int64  `json:"t0_nsec"`
	Events   int    `json:"events"`
	Dropped  int64  `json:"dropped"`
	Packets  int64  `json:"packets"`
	Conns    int    `json:"conns"`
	Messages int64  `json:"messages"`
	// Bytes counts message payload bytes as on the wire (compressed);
	// Inflated as delivered. A decompression bomb is small here and huge
	// there.
	Bytes    int64   `json:"bytes"`
	Inflated int64   `json:"inflated"`
	Warnings int64   `json:"warnings"`
	Duration float64 `json:"duration"` // microseconds from the first to the last event
	Read     int64   `json:"read"`
	Total    int64   `json:"total"`
	Done     bool    `json:"done"`
	Error    string  `json:"error,omitempty"`
	// Notes are what the page says about the source beside its events
	// (Server.Note): packets of link types not decoded.
	Notes     []string `json:"notes,omitempty"`
	Live      bool     `json:"live"`
	Capturing bool     `json:"capturing"`
	Drops     int64    `json:"drops"`
}

// Server holds the events of one capture and serves the timeline page and
// its API. Feed it with Publish (from one goroutine, in capture order) and
// tell it about progress with Progress, SetStats and Done; serve Handler.
// Browser tabs may come and go at any time: each gets every event so far,
// then live updates.
type Server struct {
	opts    Options
	handler http.Handler

	mu      sync.Mutex
	st      *store
	t0      int64
	started bool
	// t0Now and closedNow mirror t0 and closed for the handlers, which
	// read them without mu: Publish holds mu for every event, and a page's
	// request waited behind the decoder for each.
	t0Now     atomic.Int64
	closedNow atomic.Bool
	status    status
	conns     map[uint32]*connInfo
	warn      warnIndex
	// packetsRead is the number of packets the source read, when it
	// told (SetPackets); 0 means unknown and the summary shows the
	// highest packet number an event named.
	packetsRead int64
	dirty       map[uint32]bool
	// flushedTo is the number of events the tabs were last told of.
	flushedTo int
	// connsSentAt is when the changed connections were last sent.
	connsSentAt time.Time
	statusDirty bool
	writeErr    error
	clients     map[*client]bool
	closed      bool
	// query answers the page's views from the spill (ui/query.go).
	query *queryAPI

	stop chan struct{}
	wg   sync.WaitGroup
}

// NewServer returns a Server with no events. It creates the spill file;
// Close removes it.
func NewServer(opts Options) (*Server, error) {
	opts.setDefaults()
	st, err := newStore(opts.TempDir, opts.MaxSpill, opts.MaxPayload)
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:    opts,
		st:      st,
		conns:   make(map[uint32]*connInfo),
		dirty:   make(map[uint32]bool),
		clients: make(map[*client]bool),
		stop:    make(chan struct{}),
		status:  status{Type: "status"},
	}
	s.query = &queryAPI{st: st.sp, t0: s.startTime}
	s.handler = s.routes()
	s.wg.Add(1)
	go s.flushLoop()
	return s, nil
}

// startTime returns the time of the first event (Unix nanoseconds).
func (s *Server) startTime() int64 { return s.t0Now.Load() }

// Handler returns the handler serving the page, its files and API.
func (s *Server) Handler() http.Handler { return s.handler }

// SetSource sets the description of the source shown in the summary, such
// as a file name or an interface.
func (s *Server) SetSource(desc string) {
	s.mu.Lock()
	s.status.Source = desc
	s.statusDirty = true
	s.mu.Unlock()
}

// Progress reports how far reading the source has come, in bytes.
func (s *Server) Progress(read, total int64) {
	s.mu.Lock()
	s.status.Read, s.status.Total = read, total
	s.statusDirty = true
	s.mu.Unlock()
}

// Note adds a sentence the page shows about the source (once, however
// often it is noted): what was read but not decoded, such as a file's
// interfaces of a link type wsviz does not read (capture.File.Skipped).
func (s *Server) Note(msg string) {
	s.mu.Lock()
	if !slices.Contains(s.status.Notes, msg) {
		s.status.Notes = append(s.status.Notes, msg)
		s.statusDirty = true
	}
	s.mu.Unlock()
}

// SetStats reports the state of a live capture; calling it marks the source
// as live.
func (s *Server) SetStats(st Stats) {
	s.mu.Lock()
	s.status.Live = true
	s.status.Capturing = st.Capturing
	s.status.Drops = st.Drops
	if st.Packets > s.status.Packets {
		s.status.Packets = st.Packets
	}
	s.statusDirty = true
	s.mu.Unlock()
}

// SetPackets reports how many packets the source has read so far, for the
// summary; without it the summary shows the highest packet number an event
// named, which misses the packets after the last event (the final ACK).
func (s *Server) SetPackets(n int64) {
	s.mu.Lock()
	if n > 0 {
		s.packetsRead = n
		s.status.Packets = n
		s.statusDirty = true
	}
	s.mu.Unlock()
}

// Done reports that the source ended, with the error that ended it or nil.
// Every event published so far is sent to the tabs at once.
func (s *Server) Done(err error) {
	s.mu.Lock()
	s.status.Done = true
	s.status.Capturing = false
	if err != nil {
		s.status.Error = err.Error()
	}
	s.statusDirty = true
	s.connsSentAt = time.Time{} // every changed connection now
	s.flushLocked()
	s.mu.Unlock()
}

// Publish adds one event. It copies what it keeps, so ev may be reused
// after it returns, and it never waits for a browser tab. An error means the
// event's details could not be written to the spill file; the event is
// still shown without them.
func (s *Server) Publish(ev *analyze.Event) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed
	}
	if !s.started {
		s.started = true
		s.t0 = ev.Time.UnixNano()
		s.t0Now.Store(s.t0)
		s.status.T0 = ev.Time.UTC().Format(time.RFC3339Nano)
		s.status.T0Sec = s.t0 / 1e9
		s.status.T0Nsec = s.t0 % 1e9
		if s.status.T0Nsec < 0 {
			s.status.T0Sec--
			s.status.T0Nsec += 1e9
		}
	}
	s.statusDirty = true
	st := &s.status
	if ev.Packet > st.Packets && s.packetsRead == 0 {
		st.Packets = ev.Packet
	}
	st.Warnings += int64(len(ev.Warnings))
	if ev.Type == analyze.TypeWSMessage {
		st.Messages++
		st.Bytes += ev.Message.WireLen
		st.Inflated += ev.Message.Len
	}
	t := float64(ev.Time.UnixNano()-s.t0) / 1e3
	st.Duration = max(st.Duration, t)
	var c *connInfo
	var flags uint8
	if ev.Conn > 0 {
		id := uint32(ev.Conn)
		c = s.conns[id]
		if c == nil {
			c = &connInfo{ID: ev.Conn}
			s.conns[id] = c
			st.Conns = len(s.conns)
		}
		flags = upgradeFlag(c, ev)
		c.update(ev, s.t0)
		s.dirty[id] = true
	}
	if s.opts.MaxEvents > 0 && s.st.len() >= s.opts.MaxEvents {
		st.Dropped++
		s.warn.add(ev, -1)
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	// The store has its own lock (and Publish is called from one
	// goroutine): writing the event to it, the longest part of Publish,
	// holds no lock a page's request waits for. (The decoder that calls
	// Publish may run at a low priority: cmd/wsviz decodes a file in the
	// background, and a tab's re-sync waited whenever the kernel put it
	// aside while it held the server's lock.)
	id, err := s.st.add(ev, flags)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.warn.add(ev, id)
	st.Events = s.st.len()
	if err != nil && s.writeErr == nil {
		s.writeErr = err
	}
	// The very first event is told at once, so that a page asks for its
	// first marks as soon as the source yields them; after that, every
	// flushBatch events or FlushInterval.
	if s.st.len()-s.flushedTo >= flushBatch || s.flushedTo == 0 {
		s.flushLocked()
	}
	return err
}

// flushBatch is the number of new events that makes Publish tell the tabs
// without waiting for the next tick.
const flushBatch = 8192

// connsInterval is how often the changed connections are sent to the tabs
// at most (the status goes every FlushInterval). While a capture is read
// every connection changes all the time: sent every 50 ms, the table (60
// KB of JSON for 200 connections) kept the page's thread busy parsing it
// while the page started, and the page shows it 5 times a second.
const connsInterval = 250 * time.Millisecond

var errClosed = errors.New("ui: server closed")

// Close disconnects every tab, stops the server's goroutine and removes
// the spill file. The handler answers 503 afterwards.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.closedNow.Store(true)
	close(s.stop)
	for c := range s.clients {
		c.conn.Close()
		delete(s.clients, c)
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.mu.Lock()
	s.st.closeFile()
	s.mu.Unlock()
	return nil
}

func (s *Server) flushLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			s.flushLocked()
			s.mu.Unlock()
		}
	}
}

// flushLocked broadcasts what changed since the last flush: the status
// (with the number of events) and the changed connections.
func (s *Server) flushLocked() {
	if len(s.clients) == 0 {
		// No tab to tell: a tab that opens is sent the status and every
		// connection (the re-sync path), so nothing needs building now.
		s.statusDirty = false
		clear(s.dirty)
		s.flushedTo = s.st.len()
		return
	}
	var msgs []*outMsg
	if s.statusDirty {
		s.statusDirty = false
		msgs = append(msgs, s.statusMsgLocked())
	}
	if len(s.dirty) > 0 && time.Since(s.connsSentAt) >= connsInterval {
		s.connsSentAt = time.Now()
		ids := make([]uint32, 0, len(s.dirty))
		for id := range s.dirty {
			ids = append(ids, id)
		}
		clear(s.dirty)
		msgs = append(msgs, s.connsMsgLocked(ids))
	}
	s.flushedTo = s.st.len()
	for c := range s.clients {
		for _, m := range msgs {
			if !c.offer(m) {
				break
			}
		}
	}
}

func (s *Server) statusMsgLocked() *outMsg {
	b, _ := json.Marshal(&s.status)
	return &outMsg{data: b}
}

// connsMsgLocked encodes the summaries of the connections ids (all when
// ids is nil) as {"type":"conns","conns":[...]}, sorted by id.
func (s *Server) connsMsgLocked(ids []uint32) *outMsg {
	if ids == nil {
		ids = make([]uint32, 0, len(s.conns))
		for id := range s.conns {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	list := make([]*connInfo, 0, len(ids))
	for _, id := range ids {
		if c := s.conns[id]; c != nil {
			list = append(list, c)
		}
	}
	b, _ := json.Marshal(struct {
		Type  string      `json:"type"`
		Conns []*connInfo `json:"conns"`
	}{"conns", list})
	return &outMsg{data: b}
}
