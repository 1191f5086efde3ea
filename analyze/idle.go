package analyze

import (
	"slices"
	"time"
)

// Idle tells the Analyzer that its source has handed out every packet it
// has and waits for more, and that the time is now: a live capture that
// went quiet (see capture.IdleSource, which Decode follows). What waited
// only for a later packet is decided now, as a packet arriving at now
// would have decided it:
//
//   - connections holding TLS records for their keys try again when the
//     key log grew, and give up once they have waited KeyWaitTime;
//   - a connection a RST ended closes once ReorderTime passed since the
//     RST (segments of it recorded late are decoded until then);
//   - a pending hole (bytes the receiver acknowledged that the capture has
//     not shown) whose later bytes have waited longer than ReorderTime,
//     and at least IdleReorderTime, is a tcp.gap, and what waited behind
//     it is decoded. The reorder window's packet count is not waited for:
//     no packet is coming, and the receiver, having acknowledged the
//     bytes, will not have them sent again.
//
// So the last message of a conversation that then goes quiet is shown
// when it can be, not when the next packet comes. The events Idle emits
// carry the number and time of the packet that brought their bytes, as
// they would have at the next packet. now is on the clock of the packets'
// timestamps (the wall clock, for a live capture). Idle must not be called
// during Packet, nor on an Analyzer of the sharded decoder.
func (a *Analyzer) Idle(now time.Time) {
	if now.Before(a.pktTime) {
		now = a.pktTime
	}
	a.tlsRetryAt(now)
	for _, f := range a.table.expiredResets(now) {
		// The reorder window after its RST passed while the capture was
		// quiet: nothing more of it is coming late.
		a.endFlow(f, CloseRST)
	}
	if d := now.Sub(a.idleSwept); d >= 0 && d < idleSweepEvery {
		return // the connections were looked at a moment ago
	}
	a.idleSwept = now
	var holes []*flow
	for _, f := range a.table.flows {
		if c := f.conn; c != nil && !c.done && (c.half[client].acked > c.half[client].off || c.half[server].acked > c.half[server].off) {
			holes = append(holes, f)
		}
	}
	if len(holes) == 0 {
		return
	}
	// In the order of their numbers: the same events in the same order
	// every run.
	slices.SortFunc(holes, func(x, y *flow) int { return x.id - y.id })
	a.idleAt = now.UnixNano()
	for _, f := range holes {
		a.settleConn(f.conn)
	}
	a.idleAt = 0
}

// idleSweepEvery bounds how often Idle looks through every connection for
// holes: a busy live capture is idle each time the kernel's ring runs dry,
// and a hole waits at least IdleReorderTime anyway.
const idleSweepEvery = 100 * time.Millisecond

// IdleReorderTime is the least time bytes wait behind a pending hole
// before Idle declares it, whatever Options.ReorderTime says: a kernel
// under load may hand a captured packet over late (on loopback, the data
// and the ACK that follows it are captured on different CPUs, and a busy
// one runs its share later), and a quiet capture has no packet count to
// wait for besides.
const IdleReorderTime = time.Second

// waitedOut reports whether bytes that arrived with packet at time t (Unix
// ns) have waited behind a pending hole for longer than the reorder
// window: ReorderPackets packets and ReorderTime of capture time, or,
// during Idle, ReorderTime and IdleReorderTime until the idle moment.
func (a *Analyzer) waitedOut(packet, t int64) bool {
	if a.idleAt != 0 {
		return a.idleAt-t > int64(max(a.opts.ReorderTime, IdleReorderTime))
	}
	return a.pktNum-packet > int64(a.opts.ReorderPackets) && a.pktTime.UnixNano()-t > int64(a.opts.ReorderTime)
}
