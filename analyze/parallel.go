package analyze

import (
	"errors"
	"io"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsviz/wsviz/analyze/internal/hugepage"
	"github.com/wsviz/wsviz/analyze/internal/jsonenc"
	"github.com/wsviz/wsviz/analyze/internal/wsproto"
	"github.com/wsviz/wsviz/capture"
)

// The sharded decoder. A dispatcher reads packets, decodes their TCP
// headers and keeps the connection table: it numbers connections in order
// of first packet, keeps the recency list and evicts, exactly as a single
// Analyzer does. Each connection belongs to one shard (its number
// modulo the number of workers); each worker is an Analyzer that sees only
// its shard's packets. Packets travel in batches; every worker runs through
// every batch, handling its own items, and writes the events into the
// batch. The batch is then merged: for each item in order, the events of
// the worker that handled it. So the events and their order are those of
// one Analyzer, whatever the number of workers.
//
// The worker that finishes a batch last queues it (complete): for Decode
// to the caller's goroutine, which merges it and calls emit; for
// DecodeJSON to whichever worker next holds dispatching, which writes the
// lines (help). Batches complete in the order they were sent, without a
// sequence number to check: every worker runs through the batches in that
// order and queues a batch it completes before it starts the next one, so
// when the last worker finishes batch k, batch k-1 is queued.
//
// The dispatcher is not a goroutine either but a state that the workers
// (and Decode's caller, after it merged a batch) run in turn, under
// dispatching, whenever a batch may be free (help). A worker ahead of
// another writes and dispatches while the other catches up, so the
// goroutines are as many as the Ps and none waits for a P the others
// hold: a merger goroutine and a dispatcher goroutine, woken on a worker's
// P, waited there for it (docs/performance.md).
//
// With Options.OnPacket (Decode only) every packet read is also copied
// into the batch, with the index of the item after which its call comes:
// its own segment's, whose connection and side the worker records as it
// decodes it, or for a packet of no connection the last item before it.
// The merge calls OnPacket after that item's events, so the calls come in
// packet order, in the same places among the events as with one worker.
//
// Memory is bounded by the number of batches in flight (batchesPerWorker
// per worker, plus three; see dispatch) times a batch: at most batchItems
// packets and batchData bytes of payload (and with OnPacket as many
// packets' bytes), and the events they produce.
//
// One difference is unavoidable: the caps over all connections,
// MaxBufferTotal (out-of-order bytes) and MaxDeflateHistory (compression
// histories), are divided among the workers, since each holds its own
// connections' buffers. Output differs from one worker's only when one of
// those caps is hit.

const (
	batchItems       = 512
	batchData        = capture.MaxCaptureLength // any packet's payload fits
	batchesPerWorker = 2
)

// jsonBatchCap is the capacity a worker's JSON lines for a batch start
// with: more than a batch's lines need on the bench captures (about 280
// KiB a worker), so the buffer does not grow. Grown by append from
// nothing, it was copied and zeroed up to each new capacity, and every
// page of every step faulted in once (a page fault costs about 34 µs on
// the project's VM: half the faults of a compressed decode were there).
// A page of the capacity is touched only when lines are written into it.
const jsonBatchCap = 2 * batchData

// payloadBatchCap is the capacity a worker's message payloads for a batch
// start with (Decode).
const payloadBatchCap = batchData

// Kinds of batch items.
const (
	itemPacket   = iota // a TCP segment
	itemEvict           // evict the connection (MaxConns); stamped with the packet that caused it
	itemReplaced        // a new connection took its addresses; stamped with the packet that did
	itemEnd             // end of capture: close the connection
	itemReport          // a report of the IP layer (ip.go): seg.Outer.Problems, about flow's connection if any
	itemReset           // the reorder window after the connection's RST passed: close it (lingerReset)
)

// item is one unit of work for one shard.
type item struct {
	kind  uint8
	reset bool  // itemPacket: a RST its connection lingers after (lingerReset), as the dispatcher decided
	from  uint8 // itemPacket with Options.OnPacket: client or server, set by the worker
	conn  int32 // itemPacket with Options.OnPacket: the connection's number, set by the worker
	shard int
	id    int   // itemPacket: number of the connection it opens, 0 for none
	flow  *flow // whose conn field the shard keeps
	num   int64
	time  time.Time
	seg   capture.Segment // Payload aliases batch.data
}

// batch is a run of items and, once the workers are done, their events.
type batch struct {
	items []item
	mine  [][]int32 // per worker: the indexes of its items, in order
	data  []byte
	out   []shardOut // one per worker

	// With Options.OnPacket: every packet read into this batch, in
	// order, its bytes copied into calls' data, for the merge to call
	// OnPacket with after the events of its item.
	calls     []packetCall
	callsData []byte

	pending atomic.Int32 // workers yet to run through it; the last merges it
}

// packetCall is a call of Options.OnPacket that waits for the merge.
type packetCall struct {
	after int32 // the index of the last item added before it (-1: none); for a TCP segment, its own
	tcp   bool  // a TCP segment: after's item is its own, whose conn and from the worker set
	pkt   capture.Packet
}

// shardOut holds what one worker produced for one batch: events (or their
// JSON lines) in item order, each tagged with its item's index.
type shardOut struct {
	index  []int32  // item index of each event
	events []Event  // Decode: deep copies (keep)
	types  []string // Decode: the type each slot of events holds
	// Decode: the arenas of the events' slices, each copy after the
	// other (keep). (A payload slice of each slot's own, grown to the
	// largest payload it ever held, had made every slot of every batch
	// hold up to MaxPayload.)
	payloads []byte
	headers  []byte
	packets  []int64
	warnings []Warning
	records  []TLSRecord
	json     []byte  // DecodeJSON: the lines
	ends     []int32 // DecodeJSON: end offset of each line in json

	streams    []streamed // DecodeJSON: payloads left out of json (jsonpieces.go)
	nextStream int        // the merger: the first not written yet
}

// sink is how merged events leave the pipeline.
type sink struct {
	json bool
	emit func(*Event) error // !json
	w    io.Writer          // json
}

// workers returns the number of workers opts ask for.
func (o Options) workers() int {
	if o.Workers > 0 {
		return min(o.Workers, maxWorkers)
	}
	return min(runtime.GOMAXPROCS(0), maxWorkers)
}

// pipeline is one run of the sharded decoder.
type pipeline struct {
	opts    Options
	nw      int
	shards  []*Analyzer
	states  []*shardState
	out     sink
	work    []chan *batch // to each worker
	merge   chan *batch   // Decode: completed batches, in order, to the caller's goroutine; closed when the workers are done
	free    chan *batch
	quit    chan struct{} // closed when the merge stops at an error
	written chan *batch   // DecodeJSON: completed batches, in order, to write (help)
	running atomic.Int32  // workers not done yet; the last closes merge
	idle    atomic.Int32  // workers waiting for a batch (next)

	// The dispatcher: run by whoever holds dispatching (help).
	dispatching sync.Mutex
	wanted      atomic.Bool                 // a batch may have become free since the dispatcher last ran
	read        func(*capture.Packet) error // the source's next packet (capture.ReadTo)
	pkt         capture.Packet              // the packet read
	srcErr      error                       // what stopped the source (io.EOF at its end)
	ending      []*flow                     // the connections to close at the end, in order
	reports     []capture.Report            // the decoder's reports not yet added, before held
	held        bool                        // heldPkt waits for its reports to be added
	heldTCP     bool                        // heldPkt is a TCP segment, in seg
	heldPkt     capture.Packet
	phase       uint8 // dispatchReading, dispatchEnding, dispatchDone
	stopped     bool  // quit was seen

	// Set by the merge of one batch, read by the next and, after merge is
	// closed, by decodeSharded: merges are ordered (complete).
	emitErr  error
	panicked any // DecodeJSON: what a Write panicked with, panicked again on the caller's goroutine

	progress []workerProgress // per worker: see tlsBarrier (tls.go)

	table  table // the connection table
	recent *[recentRoutes]recentRoute
	dec    *capture.Decoder
	seg    capture.Segment
	cur    *batch
	chunks [][]byte // merger: the JSON lines of a batch, in order
	joined []byte   // merger: chunks copied together for a plain io.Writer
	pieces []byte   // merger: a streamed payload's piece, encoded
	last   struct { // the last packet read, TCP or not, as Analyzer.Close stamps
		num  int64
		time time.Time
	}
}

// decodeSharded is Decode and DecodeJSON with opts.workers() > 1.
func decodeSharded(src capture.Source, opts Options, out sink) error {
	opts = opts.withDefaults()
	nw := opts.workers()
	p := &pipeline{
		opts:    opts,
		nw:      nw,
		out:     out,
		read:    capture.ReadTo(src),
		work:    make([]chan *batch, nw),
		merge:   make(chan *batch, batchesPerWorker*nw+3),
		free:    make(chan *batch, batchesPerWorker*nw+3),
		written: make(chan *batch, batchesPerWorker*nw+3),
		quit:    make(chan struct{}),
		table:   newTable(opts.MaxConns, opts.ReorderPackets, opts.ReorderTime),
		recent:  new([recentRoutes]recentRoute),
		dec:     capture.NewDecoder(capture.DecoderOptions{Filter: opts.PacketFilter}),
	}
	// The batches' payload buffers and JSON lines, mapped in huge pages
	// (package hugepage), a batch's buffers together: first touched 4 KiB
	// at a time they took two thousand page faults at the start of every
	// decode of the bench capture; a small capture touches one or two
	// huge pages. Unmapped only when every worker is
	// done: not when emit panics on this goroutine while they run.
	per := batchData
	if out.json {
		per += nw * jsonBatchCap
	} else {
		per += nw * payloadBatchCap
	}
	mapping, mem := hugepage.Map(cap(p.free) * per)
	for range cap(p.free) {
		b := p.newBatch()
		if mem != nil {
			b.data, mem = mem[:0:batchData], mem[batchData:]
			for w := range b.out {
				if out.json {
					b.out[w].json, mem = mem[:0:jsonBatchCap], mem[jsonBatchCap:]
				} else {
					b.out[w].payloads, mem = mem[:0:payloadBatchCap], mem[payloadBatchCap:]
				}
			}
		}
		p.free <- b
	}
	p.progress = make([]workerProgress, nw)
	for w := range nw {
		p.work[w] = make(chan *batch, cap(p.free))
		a := p.newShard(opts, out.json)
		a.tls.barrier = p.tlsBarrier(w)
		a.bufferCap = max(opts.MaxBufferTotal/int64(nw), int64(opts.MaxBufferPerConn))
		a.ws = wsproto.NewShared(opts.MaxDeflateHistory / int64(nw))
		p.shards = append(p.shards, a)
	}
	p.running.Store(int32(nw))
	for w := range nw {
		go p.worker(w)
	}

	// DecodeJSON: nothing comes; the workers write the batches.
	for b := range p.merge {
		p.mergeAndRecycle(b, p.mergeBatch)
		p.help()
	}
	// p.merge is closed after the workers are done, and they after the
	// dispatcher closed their work: srcErr is set, every batch merged.
	hugepage.Unmap(mapping)
	if p.panicked != nil {
		panic(p.panicked)
	}
	if p.emitErr != nil {
		return p.emitErr
	}
	var late lateData
	for _, a := range p.shards {
		late.segments += a.late.segments
		late.bytes += a.late.bytes
	}
	notify(opts, late)
	if errors.Is(p.srcErr, io.EOF) {
		return nil
	}
	return p.srcErr
}

// newBatch returns an empty batch. Its items grow as they fill, up to
// batchItems; data and the JSON lines, unless given (decodeSharded), are
// allocated when first needed, whole (add, jsonBatchCap), and their pages
// are touched as they fill.
func (p *pipeline) newBatch() *batch {
	return &batch{
		mine: make([][]int32, p.nw),
		out:  make([]shardOut, p.nw),
	}
}

// shardState is where a shard's Analyzer puts its events: the output of
// the batch and the index of the item being processed.
type shardState struct {
	out   *shardOut
	index int32
}

// newShard returns the Analyzer of the next shard.
func (p *pipeline) newShard(opts Options, json bool) *Analyzer {
	st := &shardState{}
	p.states = append(p.states, st)
	var times jsonenc.TimeCache
	notes := new(jsonenc.Notes) // the Analyzer's: its notes are copied unescaped
	if json {
		// The events go nowhere but appendJSON: the notes can reuse
		// their memory (Decode's events are copied and kept, and keep
		// their notes).
		notes = jsonenc.ReusingNotes()
	}
	a := New(opts, func(ev *Event) {
		out := st.out
		out.index = append(out.index, st.index)
		if json {
			if out.json == nil {
				out.json = make([]byte, 0, jsonBatchCap)
			}
			var at int
			out.json, at = ev.appendJSONAt(out.json, &times, notes, streamsPayload(ev))
			if at >= 0 {
				out.streams = append(out.streams, streamed{int32(at), ev.Message.Opcode == "text", ev.Message.Payload})
			}
			out.json = append(out.json, '\n')
			out.ends = append(out.ends, int32(len(out.json)))
			return
		}
		out.keep(len(out.index)-1, ev)
	})
	a.notes = notes
	return a
}

// worker runs the Analyzer of shard w over every batch.
func (p *pipeline) worker(w int) {
	a, st := p.shards[w], p.states[w]
	for {
		b := p.next(w)
		if b == nil {
			break
		}
		st.out = &b.out[w]
		for _, i := range b.mine[w] {
			it := &b.items[i]
			st.index = i
			// The progress the TLS barrier reads is reported by the
			// barrier itself, before it waits, and at the end of the
			// batch (tls.go): an atomic store per item waited, on
			// amd64, for every store before it to reach the cache.
			a.pktNum, a.pktTime = it.num, it.time
			switch it.kind {
			case itemPacket:
				a.shardSegment(&it.seg, it.id, it.flow, it.reset)
				if p.opts.OnPacket != nil {
					it.conn, it.from = sideOf(&it.seg, it.flow.conn)
				}
			case itemEvict:
				a.endFlow(it.flow, CloseEvicted)
			case itemReplaced:
				a.endFlow(it.flow, CloseReplaced)
			case itemEnd:
				a.endFlow(it.flow, CloseEnd)
			case itemReset:
				a.endFlow(it.flow, CloseRST)
			case itemReport:
				a.reportItem(it)
			}
		}
		if n := len(b.items); n > 0 {
			p.progress[w].done.Store(b.items[n-1].num)
		}
		if b.pending.Add(-1) > 0 {
			// Ahead of another worker: write what is complete and
			// dispatch while that one catches up.
			p.help()
		} else {
			p.complete(b)
		}
	}
	// The last batches: a worker that holds dispatching now looks again
	// (wanted) before it lowers running and leaves.
	p.help()
	if p.running.Add(-1) == 0 {
		close(p.merge)
	}
}

// next returns worker w's next batch, nil at the end. When none is ready
// it writes and dispatches first, then waits for a batch from whoever
// does.
func (p *pipeline) next(w int) *batch {
	select {
	case b := <-p.work[w]:
		return b
	default:
	}
	p.idle.Add(1)
	p.help()
	// Every batch comes, or the channel is closed: a batch not free now
	// is with a worker or the merge, whose help dispatches when it is
	// recycled; a free one was used by the help above, or by the one
	// dispatching, which looks again (help).
	b := <-p.work[w]
	p.idle.Add(-1)
	return b
}

// help writes the complete batches and runs the dispatcher, unless
// another goroutine does; then that one looks again (wanted).
func (p *pipeline) help() {
	p.wanted.Store(true)
	for p.wanted.Load() && p.dispatching.TryLock() {
		p.wanted.Store(false)
		p.writeQueued()
		p.dispatch()
		p.dispatching.Unlock()
	}
}

// complete queues b, which every worker has run through, for its merge,
// on the goroutine of the worker that finished it last. The batches before
// b are queued: see the comment at the top of the file.
func (p *pipeline) complete(b *batch) {
	if !p.out.json {
		// emit is called on the caller's goroutine (Decode's contract).
		p.merge <- b // room for every batch: never blocks
		return
	}
	select {
	case p.written <- b:
	default:
		// Full (add made batches beyond the ring): write the queue.
		p.dispatching.Lock()
		p.writeQueued()
		p.dispatching.Unlock()
		p.written <- b
	}
	p.wanted.Store(true)
	if p.idle.Load() > 0 {
		// The others wait: write it and dispatch now.
		p.help()
	}
}

// writeQueued writes the batches queued for it, in order, and recycles
// them. Its caller holds dispatching.
func (p *pipeline) writeQueued() {
	for {
		select {
		case b := <-p.written:
			p.mergeAndRecycle(b, p.mergeJSON)
		default:
			return
		}
	}
}

// mergeAndRecycle merges b with merge, unless an earlier batch's merge
// failed, and returns b to the free list.
func (p *pipeline) mergeAndRecycle(b *batch, merge func(*batch) error) {
	if p.emitErr == nil {
		p.emitErr = merge(b)
		if p.emitErr != nil {
			close(p.quit)
		}
	}
	p.recycle(b)
}

// mergeJSON is mergeBatch on a worker's goroutine: a Write that panics is
// recovered from, and the caller's goroutine panics with it once the
// workers are done (decodeSharded).
func (p *pipeline) mergeJSON(b *batch) (err error) {
	defer func() {
		if r := recover(); r != nil {
			p.panicked = r
			err = errPanicked
		}
	}()
	return p.mergeBatch(b)
}

// errPanicked stops the pipeline when a Write panicked (pipeline.panicked).
var errPanicked = errors.New("analyze: write panicked")

// keep copies ev into o.events[n], the next event of the batch (Decode).
// The copy's slices (message payload, frame header, packets, warnings,
// records) go one after the other into the batch's arenas (o.payloads and
// the others, reset by recycle), and the slot is only written, never read:
// the merger read it last, on the other core, and every load of it waited
// for its cache line to come back (docs/performance.md).
func (o *shardOut) keep(n int, ev *Event) {
	if n == len(o.events) {
		o.events = append(o.events, Event{})
		o.types = append(o.types, "")
	}
	dst := &o.events[n]
	o.copyEvent(dst, o.types[n], ev)
	o.types[n] = ev.Type
	dst.Message.Payload = arena(&o.payloads, ev.Message.Payload)
}

// copyEvent deep-copies src into dst, whose type was prev, all but the
// message payload, which keep copies. A frame or a message (nearly every
// event) is copied field by field, its slices into o's arenas, after the
// group prev set is cleared: not the whole Event (904 bytes, most of them
// zero), and without reading dst. Any other event is cloned whole.
func (o *shardOut) copyEvent(dst *Event, prev string, src *Event) {
	if !byFields(src.Type) {
		*dst = src.Clone()
		return
	}
	if byFields(prev) {
		dst.clearGroupOf(prev)
	} else {
		*dst = Event{}
	}
	dst.Type, dst.Time, dst.Conn, dst.From, dst.Packet, dst.Note = src.Type, src.Time, src.Conn, src.From, src.Packet, src.Note
	dst.Stream = src.Stream
	dst.Warnings = arena(&o.warnings, src.Warnings)
	// Field by field: a composite literal is built on the stack and
	// copied 16 bytes a load, each load waiting for the 8-byte stores
	// before it (as in wsHandler.Frame).
	dst.Carried.Records = arena(&o.records, src.Carried.Records)
	dst.Carried.More, dst.Carried.MoreLen = src.Carried.More, src.Carried.MoreLen
	if src.Type == TypeWSFrame {
		f, g := &dst.Frame, &src.Frame
		f.Fin, f.RSV, f.Opcode, f.Masked, f.Mask, f.Len = g.Fin, g.RSV, g.Opcode, g.Masked, g.Mask, g.Len
		f.Header = arena(&o.headers, g.Header)
		return
	}
	m, g := &dst.Message, &src.Message
	m.Opcode, m.Len, m.WireLen, m.Compressed, m.Frames = g.Opcode, g.Len, g.WireLen, g.Compressed, g.Frames
	m.Truncated, m.Undecodable, m.Code, m.Reason = g.Truncated, g.Undecodable, g.Code, g.Reason
	m.Packets = arena(&o.packets, g.Packets)
}

// byFields reports whether copyEvent copies events of type typ field by
// field: frames and messages, which set no group but their own (newEvent).
func byFields(typ string) bool { return typ == TypeWSFrame || typ == TypeWSMessage }

// arena appends s to *a and returns the copy (nil when s is empty, as Clone
// leaves it). When *a grows, the copies made before keep the old array,
// which nothing writes any more.
func arena[T any](a *[]T, s []T) []T {
	if len(s) == 0 {
		return nil
	}
	start := len(*a)
	*a = append(*a, s...)
	return (*a)[start:len(*a):len(*a)]
}

// mergeBatch hands b's events to p.out in item order: for Decode on the
// caller's goroutine, for DecodeJSON through mergeJSON.
func (p *pipeline) mergeBatch(b *batch) error {
	out := p.out
	var next, start [maxWorkers]int
	chunks := p.chunks[:0]
	lastShard := -1 // shard of the last chunk
	calls := b.calls
	calls = p.callOnPacket(calls, -1, nil)
	for i := range b.items {
		w := b.items[i].shard
		o := &b.out[w]
		n := next[w]
		for n < len(o.index) && o.index[n] == int32(i) {
			if !out.json {
				if err := out.emit(&o.events[n]); err != nil {
					return err
				}
			}
			n++
		}
		if len(calls) > 0 {
			calls = p.callOnPacket(calls, int32(i), &b.items[i])
		}
		if out.json && n > next[w] {
			// The lines of consecutive items of one shard are contiguous.
			end := int(o.ends[n-1])
			if o.nextStream < len(o.streams) && int(o.streams[o.nextStream].at) < end {
				var err error
				if chunks, err = p.writeStreamed(chunks, o, start[w], end, out.w); err != nil {
					return err
				}
				lastShard = w
			} else if w == lastShard {
				// Still the same shard: its lines follow the chunk's.
				k := len(chunks) - 1
				chunks[k] = o.json[start[w]-len(chunks[k]) : end]
			} else {
				chunks = append(chunks, o.json[start[w]:end])
				lastShard = w
			}
			start[w] = end
		}
		next[w] = n
	}
	p.chunks = chunks[:0]
	if len(chunks) == 0 {
		return nil
	}
	return writeChunks(out.w, chunks, &p.joined)
}

// callOnPacket calls Options.OnPacket for the calls that come after item
// i (it, nil for -1: before the batch's first item) and returns the calls
// left. A TCP segment's call is its item's; a packet of no connection's
// has conn 0 and from "", as Analyzer.Packet calls it.
func (p *pipeline) callOnPacket(calls []packetCall, i int32, it *item) []packetCall {
	for len(calls) > 0 && calls[0].after == i {
		c := &calls[0]
		var id int32
		var d uint8
		if c.tcp {
			id, d = it.conn, it.from
		}
		p.opts.OnPacket(&c.pkt, int(id), sideName(id, d))
		calls = calls[1:]
	}
	return calls
}

// writeChunks writes chunks to w in order: in one WriteBuffers call when w
// is a BuffersWriter, else copied together into *joined (reused) for one
// Write.
func writeChunks(w io.Writer, chunks [][]byte, joined *[]byte) error {
	if bw, ok := w.(BuffersWriter); ok {
		return bw.WriteBuffers(chunks)
	}
	j := (*joined)[:0]
	for _, c := range chunks {
		j = append(j, c...)
	}
	*joined = j
	_, err := w.Write(j)
	return err
}

// maxWorkers caps Options.Workers.
const maxWorkers = 64

// recycle empties b and returns it to the free list.
func (p *pipeline) recycle(b *batch) {
	clear(b.items) // drop references to payloads and routes; add relies on zeroed items
	b.items = b.items[:0]
	for w := range b.mine {
		b.mine[w] = b.mine[w][:0]
	}
	b.data = b.data[:0]
	if cap(b.data) > batchData {
		b.data = nil // a one-off for a huge packet: do not keep it
	}
	clear(b.calls)
	b.calls, b.callsData = b.calls[:0], b.callsData[:0]
	if cap(b.callsData) > batchData {
		b.callsData = nil
	}
	for w := range b.out {
		b.out[w].reset()
	}
	select {
	case p.free <- b:
	default: // one of add's extra batches
	}
}

// reset empties o for the batch's next use. The events and their slots'
// types stay, for keep to overwrite.
func (o *shardOut) reset() {
	o.index, o.json, o.ends, o.payloads = o.index[:0], o.json[:0], o.ends[:0], o.payloads[:0]
	clear(o.warnings) // their strings
	clear(o.records)
	o.headers, o.packets, o.warnings, o.records = o.headers[:0], o.packets[:0], o.warnings[:0], o.records[:0]
	clear(o.streams)
	o.streams, o.nextStream = o.streams[:0], 0
	if cap(o.json) > 4*batchData {
		o.json = nil // a burst of big events: do not keep the memory
	}
	if cap(o.payloads) > 4*batchData {
		o.payloads = nil
	}
	if cap(o.packets) > batchData {
		o.packets = nil // a message of a great many packets
	}
}

// The dispatcher's phases.
const (
	dispatchReading = iota // packets from src
	dispatchEnding         // the ends of the connections open at the end
	dispatchDone           // the work channels are closed
)

// dispatch reads packets of src into batches while a batch is free for
// them, and at the end of src closes the connections and the work
// channels. Its caller holds dispatching.
//
// It never waits for a batch: the batch it would wait for may be one the
// calling worker has still to run through. A packet (or an end) starts only
// when a batch is free besides the current one, for a flush halfway
// through it (add).
func (p *pipeline) dispatch() {
	for p.phase != dispatchDone && len(p.free) > 0 {
		if p.stopped {
			p.finish()
			return
		}
		if len(p.reports) > 0 {
			p.ipReport(&p.reports[0])
			p.reports = p.reports[1:]
			continue
		}
		if p.held {
			p.held = false
			p.route(&p.heldPkt, p.heldTCP)
			continue
		}
		if p.phase == dispatchEnding {
			if len(p.ending) == 0 {
				p.finish()
				return
			}
			f := p.ending[0]
			p.ending = p.ending[1:]
			it := p.add(itemEnd, int(f.shard), nil)
			it.flow, it.num, it.time = f, p.last.num, p.last.time
			continue
		}
		pkt := &p.pkt
		if err := p.read(pkt); err != nil {
			p.srcErr = err
			p.dec.Flush()
			// Reports first (above), one a turn: the end of a capture can
			// give up thousands of datagrams (MaxFragments), more than
			// the ring of batches holds. Then the open connections end
			// in the order of their numbers.
			p.reports = p.dec.Reports()
			p.ending, p.phase = p.table.byNumber(), dispatchEnding
			continue
		}
		p.last.num, p.last.time = pkt.Number, pkt.Timestamp
		ok := p.dec.Decode(pkt, &p.seg)
		if reports := p.dec.Reports(); len(reports) > 0 {
			// The reports, then the packet, each in its own turn. They
			// alias the decoder's memory, and pkt the source's, until
			// the next ReadPacket: that comes after them.
			p.reports = reports
			p.held, p.heldTCP, p.heldPkt = ok || p.opts.OnPacket != nil, ok, *pkt
			continue
		}
		p.route(pkt, ok)
	}
}

// route hands one packet read to the batches: its TCP segment, in p.seg,
// when tcp, and with Options.OnPacket the packet itself, for the merge to
// call OnPacket with after the events the packet caused.
func (p *pipeline) route(pkt *capture.Packet, tcp bool) {
	if p.opts.OnPacket == nil {
		if tcp {
			p.packet(pkt)
		}
		return
	}
	if b := p.cur; b != nil && (len(b.calls) == batchItems || len(b.callsData)+len(pkt.Data) > batchData) {
		p.flush()
	}
	if tcp {
		p.packet(pkt)
	}
	b := p.current()
	start := len(b.callsData)
	if start+len(pkt.Data) > cap(b.callsData) {
		// Allocated whole, as add does for data.
		b.callsData = append(make([]byte, 0, max(start+len(pkt.Data), batchData)), b.callsData...)
	}
	b.callsData = append(b.callsData, pkt.Data...)
	b.calls = append(b.calls, packetCall{after: int32(len(b.items) - 1), tcp: tcp, pkt: *pkt})
	b.calls[len(b.calls)-1].pkt.Data = b.callsData[start:len(b.callsData):len(b.callsData)]
}

// finish sends the last batch and closes the work channels.
func (p *pipeline) finish() {
	p.flush()
	for _, c := range p.work {
		close(c)
	}
	p.ending, p.phase = nil, dispatchDone
}

// packet routes one TCP segment through the connection table, as
// Analyzer.segment does.
func (p *pipeline) packet(pkt *capture.Packet) {
	s := &p.seg
	slot := &p.recent[recentSlot(s.Src.Port(), s.Dst.Port())]
	var key flowKey
	var known *flow
	if slot.f != nil && slot.src == s.Src && slot.dst == s.Dst {
		known, key = slot.f, slot.f.key
	} else {
		key = makeFlowKey(s.Src, s.Dst)
	}
	for _, f := range p.table.expiredResets(pkt.Timestamp) {
		it := p.add(itemReset, int(f.shard), nil)
		it.flow, it.num, it.time = f, pkt.Number, pkt.Timestamp
	}
	f, opened, replaced, evicted := p.table.route(s, &key, known)
	// Decided here, for the worker: the flow's fields are the
	// dispatcher's, which runs ahead of it.
	linger := (s.Flags&capture.RST != 0 || f.reset) && p.table.lingerReset(f, s, pkt.Timestamp)
	for _, old := range [2]*flow{replaced, evicted} {
		if old == nil {
			continue
		}
		p.forgetRecent(old)
		kind := uint8(itemEvict)
		if old == replaced {
			kind = itemReplaced
		}
		it := p.add(kind, int(old.shard), nil)
		it.flow, it.num, it.time = old, pkt.Number, pkt.Timestamp
	}
	id := 0
	if opened {
		f.shard = int32((f.id - 1) % p.nw)
		id = f.id
	}
	if slot.f != f {
		slot.src, slot.dst, slot.f = s.Src, s.Dst, f
	}
	it := p.add(itemPacket, int(f.shard), s.Payload)
	payload := it.seg.Payload
	it.seg = *s
	it.seg.Payload = payload
	if s.Outer != nil {
		it.seg.Outer = keepOuter(s.Outer, id != 0)
	}
	it.id, it.flow, it.num, it.time = id, f, pkt.Number, pkt.Timestamp
	it.reset = linger
}

// recentRoutes is the size of pipeline.recent, a power of two.
const recentRoutes = 1024

// recentRoute remembers the route of one direction of a connection, by its
// source and destination as the packets carry them: most packets find
// their route there, without building a flow key and hashing it.
type recentRoute struct {
	src, dst netip.AddrPort
	f        *flow
}

// recentSlot returns the index in pipeline.recent of the direction with
// these ports.
func recentSlot(srcPort, dstPort uint16) int {
	return int((uint32(srcPort)*0x9e3779b1 ^ uint32(dstPort)*0x85ebca6b) >> 22)
}

// forgetRecent clears the recent routes to f, which the table no longer
// tracks.
func (p *pipeline) forgetRecent(f *flow) {
	for _, i := range [2]int{recentSlot(f.key.lo.port, f.key.hi.port), recentSlot(f.key.hi.port, f.key.lo.port)} {
		if p.recent[i].f == f {
			p.recent[i] = recentRoute{}
		}
	}
}

// add appends an item of the given kind for shard to the current batch,
// with payload copied into the batch as its seg.Payload, and returns it
// for the caller to fill in; its other fields are zero (recycle cleared
// them).
func (p *pipeline) add(kind uint8, shard int, payload []byte) *item {
	if p.cur != nil && (len(p.cur.items) == batchItems || len(p.cur.data)+len(payload) > batchData) {
		p.flush()
	}
	b := p.current()
	b.mine[shard] = append(b.mine[shard], int32(len(b.items)))
	if n := len(b.items); n < cap(b.items) {
		b.items = b.items[:n+1]
	} else {
		b.items = append(b.items, item{})
	}
	it := &b.items[len(b.items)-1]
	it.kind, it.shard = kind, shard
	if len(payload) > 0 {
		start := len(b.data)
		if start+len(payload) > cap(b.data) {
			// batchData at once (or the one huge payload): a page of it
			// is touched only when payloads are copied into it, and
			// grown by doubling every step faulted its pages in anew
			// (see jsonBatchCap). The payloads already added keep
			// pointing into the old array, which nothing writes any
			// more.
			n := max(start+len(payload), batchData)
			b.data = append(make([]byte, 0, n), b.data...)
		}
		b.data = append(b.data, payload...)
		it.seg.Payload = b.data[start:len(b.data):len(b.data)]
	}
	return it
}

// current returns the batch being filled, starting one if none is.
func (p *pipeline) current() *batch {
	if p.cur == nil {
		select {
		case p.cur = <-p.free:
		default:
			// A packet whose items (an eviction, a replaced
			// connection, the packet) cross into a third batch:
			// one more, dropped when recycled if the ring is full.
			p.cur = p.newBatch()
		}
	}
	return p.cur
}

// flush sends the current batch to the workers.
func (p *pipeline) flush() {
	b := p.cur
	if b == nil {
		return
	}
	p.cur = nil
	b.pending.Store(int32(p.nw))
	for _, c := range p.work {
		c <- b
	}
	select {
	case <-p.quit:
		p.stopped = true
	default:
	}
}
