package live

import (
	"fmt"
	"time"

	"github.com/wsviz/wsviz/capture/filter"
)

// Defaults for Options.
const (
	DefaultSnapLen      = 262144   // bytes kept of each packet, as tcpdump
	DefaultBufferSize   = 32 << 20 // bytes of receive ring
	DefaultBlockTimeout = 20 * time.Millisecond
)

// Options configure a live capture. The zero value captures every packet
// whole, with the defaults above.
type Options struct {
	// Filter selects the packets to capture, in the kernel; nil or empty
	// captures everything. Packets that may carry a packet it matches
	// inside, IP fragments and tunnels, are captured too
	// (filter.OrEncapsulated): the analyzer tests the filter on what they
	// carry (capture.DecoderOptions.Filter), so that "port 9001" keeps a
	// connection on port 9001 that is fragmented or in a tunnel.
	Filter *filter.Filter
	// ExcludePorts lists TCP/UDP ports whose packets are never captured,
	// whatever Filter says: the filter becomes "(Filter) and not port N"
	// for each. A program that serves its own results over the network
	// (the timeline UI) excludes its own port so that it does not capture
	// itself.
	ExcludePorts []uint16
	// SnapLen is how many bytes of each packet are kept; 0 means
	// DefaultSnapLen.
	SnapLen int
	// BufferSize is the size of the kernel receive ring in bytes; 0 means
	// DefaultBufferSize. Packets that arrive while it is full are dropped
	// by the kernel and counted in Stats.Drops.
	BufferSize int
	// BlockTimeout bounds how long the kernel may hold packets in a
	// partly filled ring block before handing them over: the latency of a
	// quiet capture. 0 means DefaultBlockTimeout.
	BlockTimeout time.Duration
	// OnWait, when set, is called by ReadPacket just before it waits for
	// the kernel, that is when every packet captured so far has been
	// handed out: the moment to flush a file being written.
	OnWait func()
	// OnWaitEvery, when positive, has ReadPacket call OnWait again this
	// often while it goes on waiting: for what is decided by time alone,
	// such as a key log that grows while nothing is captured. 0 calls it
	// once per wait.
	OnWaitEvery time.Duration
}

// Stats counts packets of a live capture.
type Stats struct {
	// Packets counts the packets ReadPacket has returned.
	Packets uint64
	// Received counts the packets the kernel accepted through the filter,
	// including those it dropped. (On a loopback interface of a kernel
	// older than 4.20 it counts both copies of each packet.)
	Received uint64
	// Drops counts the packets the kernel dropped because the receive
	// ring was full (PACKET_STATISTICS tp_drops).
	Drops uint64
}

// PermissionError is returned by Open when the process may not capture
// packets (it lacks CAP_NET_RAW).
type PermissionError struct {
	Interface string
	Err       error // the system call's error, such as EPERM
}

// Error says that capture is not permitted and how to permit it.
func (e *PermissionError) Error() string {
	return fmt.Sprintf("capture: cannot open %s: permission denied: run as root or `sudo setcap cap_net_raw,cap_net_admin+eip $(which wsviz)`", e.Interface)
}

// Unwrap returns the system call's error, so that
// errors.Is(err, os.ErrPermission) holds.
func (e *PermissionError) Unwrap() error { return e.Err }

// effectiveFilter returns the kernel's filter: the user's, with IP
// fragments and tunnels, and without the excluded ports.
func (o *Options) effectiveFilter() *filter.Filter {
	f := o.Filter
	if f == nil {
		f = filter.MustParse("")
	}
	f = f.OrEncapsulated()
	for _, p := range o.ExcludePorts {
		f = f.And(filter.ExcludePort(p))
	}
	return f
}
