//go:build linux

package live

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/filter"
)

// Layout of the TPACKET_V3 ring, from <linux/if_packet.h>.
const (
	// struct tpacket_block_desc: version, offset_to_priv, then
	// struct tpacket_hdr_v1.
	blockStatusOff   = 8  // block_status
	blockNumPktsOff  = 12 // num_pkts
	blockFirstPktOff = 16 // offset_to_first_pkt
	blockLenOff      = 20 // blk_len
	blockDescLen     = 48 // the descriptor with its timestamps

	// struct tpacket3_hdr.
	hdrNextOff    = 0  // tp_next_offset
	hdrSecOff     = 4  // tp_sec
	hdrNsecOff    = 8  // tp_nsec
	hdrSnaplenOff = 12 // tp_snaplen
	hdrLenOff     = 16 // tp_len
	hdrStatusOff  = 20 // tp_status
	hdrMacOff     = 24 // tp_mac
	hdrNetOff     = 26 // tp_net
	hdrVlanTCIOff = 32 // hv1.tp_vlan_tci
	hdrVlanTPID   = 36 // hv1.tp_vlan_tpid
	hdrLen        = unix.SizeofTpacket3Hdr

	// struct sockaddr_ll follows the header at TPACKET_ALIGN(hdrLen).
	sllOff         = hdrLen
	sllProtocolOff = sllOff + 2  // sll_protocol, network order
	sllIfindexOff  = sllOff + 4  // sll_ifindex
	sllHatypeOff   = sllOff + 8  // sll_hatype
	sllPkttypeOff  = sllOff + 10 // sll_pkttype
	sllHalenOff    = sllOff + 11 // sll_halen
	sllAddrOff     = sllOff + 12 // sll_addr[8]
	sllEnd         = sllOff + unix.SizeofSockaddrLinklayer

	blockSize = 1 << 20
	frameSize = 1 << 11 // TPACKET_V3 packs packets; the frame size only has to divide the block

	// LINKTYPE_LINUX_SLL header (pcap-linktype(7)), written in front of
	// packets captured in cooked mode.
	sllHeaderLen = 16

	etherTypeVLAN = 0x8100 // IEEE 802.1Q
)

// Source is a live capture on one interface. ReadPacket must be called
// from one goroutine at a time; Stop and Stats may be called from any.
type Source struct {
	name    string
	ifindex int
	link    capture.LinkType
	cooked  bool // SOCK_DGRAM: the kernel strips the link header; write an SLL header
	// kernelDedup is set when the kernel itself drops the outgoing copies
	// on loopback (PACKET_IGNORE_OUTGOING), so that its counts are of
	// packets, not copies.
	kernelDedup bool
	loopback    map[int]bool
	filter      *filter.Filter
	snaplen     int
	onWait      func()
	waitEvery   int // ms between calls of onWait while waiting; -1: once
	tov         time.Duration

	mu     sync.Mutex // held by ReadPacket and Close
	fd     int
	wakeFD int // eventfd that Stop writes to interrupt a wait
	ring   []byte
	blocks int
	closed bool

	// The block being read.
	cur      int
	inBlock  bool
	pktLeft  uint32
	pktOff   uint32
	scratch  []byte
	number   int64
	stopping bool // Stop was seen by ReadPacket
	graced   bool // the last wait for a straggling block was done
	drain    int  // blocks still to read after Stop

	stop    atomic.Bool
	wakeMu  sync.Mutex // guards wakeFD between Stop and Close
	packets atomic.Uint64
	statsMu sync.Mutex
	stats   Stats // kernel counters so far (PACKET_STATISTICS resets on read)
}

// Open starts capturing on the named interface ("lo", "eth0", or "any"
// for all interfaces). The filter is attached before the first packet is
// queued.
func Open(iface string, opts Options) (*Source, error) {
	s := &Source{
		name:     iface,
		filter:   opts.effectiveFilter(),
		snaplen:  opts.SnapLen,
		onWait:   opts.OnWait,
		tov:      opts.BlockTimeout,
		loopback: map[int]bool{},
		fd:       -1,
		wakeFD:   -1,
	}
	if s.snaplen <= 0 {
		s.snaplen = DefaultSnapLen
	}
	if s.tov <= 0 {
		s.tov = DefaultBlockTimeout
	}
	s.waitEvery = -1
	if opts.OnWait != nil && opts.OnWaitEvery > 0 {
		s.waitEvery = max(int(opts.OnWaitEvery/time.Millisecond), 1)
	}
	bufSize := opts.BufferSize
	if bufSize <= 0 {
		bufSize = DefaultBufferSize
	}
	s.blocks = max(bufSize/blockSize, 2)

	// Protocol 0: the socket receives nothing until bind, so the filter
	// and ring are in place before the first packet (packet(7)).
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, &PermissionError{Interface: iface, Err: err}
		}
		return nil, fmt.Errorf("capture: cannot open %s: packet socket: %w", iface, err)
	}
	s.fd = fd
	if err := s.setup(); err != nil {
		s.release()
		return nil, err
	}
	return s, nil
}

func (s *Source) setup() error {
	ifaces, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("capture: cannot open %s: list interfaces: %w", s.name, err)
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagLoopback != 0 {
			s.loopback[ifc.Index] = true
		}
		if ifc.Name == s.name {
			s.ifindex = ifc.Index
		}
	}
	if s.name == "any" {
		s.cooked, s.link = true, capture.LinkTypeLinuxSLL
	} else {
		if s.ifindex == 0 {
			return fmt.Errorf("capture: cannot open %s: no such interface", s.name)
		}
		ifr, err := unix.NewIfreq(s.name)
		if err != nil {
			return fmt.Errorf("capture: cannot open %s: %w", s.name, err)
		}
		if err := unix.IoctlIfreq(s.fd, unix.SIOCGIFHWADDR, ifr); err != nil {
			return fmt.Errorf("capture: cannot open %s: hardware type: %w", s.name, err)
		}
		switch hatype := ifr.Uint16(); hatype {
		case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
			s.link = capture.LinkTypeEthernet
		case unix.ARPHRD_NONE, unix.ARPHRD_RAWIP: // tun devices: bare IP packets
			s.link = capture.LinkTypeRaw
		default:
			// Other link layers are captured in cooked mode, as libpcap
			// does.
			s.cooked, s.link = true, capture.LinkTypeLinuxSLL
		}
	}
	if s.cooked {
		unix.Close(s.fd)
		s.fd = -1
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("capture: cannot open %s: packet socket: %w", s.name, err)
		}
		s.fd = fd
	}

	// The kernel runs the filter on what the socket receives: in cooked
	// mode that starts at the network header.
	filterLink := s.link
	if s.cooked {
		filterLink = capture.LinkTypeRaw
	}
	prog, err := s.filter.Compile(filterLink)
	if err != nil {
		return fmt.Errorf("capture: cannot open %s: %w", s.name, err)
	}
	raw, err := prog.Assemble(uint32(s.snaplen))
	if err != nil {
		return fmt.Errorf("capture: cannot open %s: %w", s.name, err)
	}
	if err := attachFilter(s.fd, raw); err != nil {
		return fmt.Errorf("capture: cannot open %s: attach filter %q: %w", s.name, s.filter, err)
	}

	if s.loopback[s.ifindex] {
		// Linux 4.20+; where missing, ReadPacket still drops the
		// outgoing copies by packet type.
		err := unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1)
		s.kernelDedup = err == nil
	}
	if err := unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fmt.Errorf("capture: cannot open %s: TPACKET_V3: %w", s.name, err)
	}
	req := unix.TpacketReq3{
		Block_size:     blockSize,
		Block_nr:       uint32(s.blocks),
		Frame_size:     frameSize,
		Frame_nr:       uint32(s.blocks * blockSize / frameSize),
		Retire_blk_tov: uint32(max(s.tov.Milliseconds(), 1)),
	}
	if err := unix.SetsockoptTpacketReq3(s.fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return fmt.Errorf("capture: cannot open %s: receive ring of %d bytes: %w", s.name, s.blocks*blockSize, err)
	}
	s.ring, err = unix.Mmap(s.fd, 0, s.blocks*blockSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("capture: cannot open %s: map receive ring: %w", s.name, err)
	}
	wakeFD, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return fmt.Errorf("capture: cannot open %s: eventfd: %w", s.name, err)
	}
	s.wakeMu.Lock()
	s.wakeFD = wakeFD
	s.wakeMu.Unlock()
	sll := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: s.ifindex}
	if err := unix.Bind(s.fd, sll); err != nil {
		return fmt.Errorf("capture: cannot open %s: bind: %w", s.name, err)
	}
	return nil
}

func attachFilter(fd int, raw []bpf.RawInstruction) error {
	if len(raw) == 0 {
		return nil
	}
	prog := unix.SockFprog{
		Len:    uint16(len(raw)),
		Filter: (*unix.SockFilter)(unsafe.Pointer(&raw[0])),
	}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog)
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Name returns the interface name.
func (s *Source) Name() string { return s.name }

// LinkType returns the link type of the packets: Ethernet for Ethernet
// devices and loopback, raw IP for tun devices, Linux cooked (SLL) for
// "any" and other devices.
func (s *Source) LinkType() capture.LinkType { return s.link }

// SnapLen returns the most bytes kept of each packet.
func (s *Source) SnapLen() int { return s.snaplen }

// Filter returns the filter in effect, the excluded ports included.
func (s *Source) Filter() *filter.Filter { return s.filter }

// ReadPacket returns the next packet. Data aliases the receive ring and is
// valid until the next call to ReadPacket or Close. After Stop, ReadPacket
// hands out what the kernel had already captured and then returns io.EOF.
func (s *Source) ReadPacket() (capture.Packet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return capture.Packet{}, io.EOF
	}
	for {
		if s.inBlock {
			if s.pktLeft > 0 {
				p, keep, err := s.nextInBlock()
				if err != nil {
					return capture.Packet{}, err
				}
				if keep {
					s.number++
					p.Number = s.number
					s.packets.Add(1)
					return p, nil
				}
				continue
			}
			// Every packet of the block was handed out and the caller
			// is done with the last one: give the block back.
			atomic.StoreUint32(s.blockStatus(s.cur), unix.TP_STATUS_KERNEL)
			s.cur = (s.cur + 1) % s.blocks
			s.inBlock = false
		}
		if !s.stopping && s.stop.Load() {
			s.stopping = true
			s.drain = s.blocks
		}
		if atomic.LoadUint32(s.blockStatus(s.cur))&unix.TP_STATUS_USER != 0 {
			if s.stopping {
				if s.drain == 0 {
					return capture.Packet{}, io.EOF
				}
				s.drain--
			}
			if err := s.enterBlock(); err != nil {
				return capture.Packet{}, err
			}
			continue
		}
		if s.stopping {
			if s.graced {
				return capture.Packet{}, io.EOF
			}
			// The kernel hands over a partly filled block after the
			// block timeout: wait for it once.
			s.graced = true
			if err := s.wait(int(2*s.tov/time.Millisecond), false); err != nil {
				return capture.Packet{}, err
			}
			continue
		}
		if s.onWait != nil {
			s.onWait()
		}
		if err := s.wait(s.waitEvery, true); err != nil {
			return capture.Packet{}, err
		}
	}
}

// wait blocks until the kernel hands over a block, Stop is called (when
// wake is set) or timeout milliseconds pass.
func (s *Source) wait(timeout int, wake bool) error {
	fds := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLIN | unix.POLLERR}}
	if wake {
		fds = append(fds, unix.PollFd{Fd: int32(s.wakeFD), Events: unix.POLLIN})
	}
	for {
		_, err := unix.Poll(fds, timeout)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("capture: %s: poll: %w", s.name, err)
		}
		if fds[0].Revents&unix.POLLERR != 0 {
			// The socket reports an error; reading it clears it.
			if serr, _ := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR); serr != 0 {
				return fmt.Errorf("capture: %s: %w", s.name, unix.Errno(serr))
			}
		}
		return nil
	}
}

func (s *Source) blockStatus(b int) *uint32 {
	return (*uint32)(unsafe.Pointer(&s.ring[b*blockSize+blockStatusOff]))
}

// enterBlock starts reading the current block, after checking what the
// kernel wrote in its descriptor.
func (s *Source) enterBlock() error {
	base := s.cur * blockSize
	blk := s.ring[base : base+blockSize]
	num := binary.NativeEndian.Uint32(blk[blockNumPktsOff:])
	first := binary.NativeEndian.Uint32(blk[blockFirstPktOff:])
	if num > 0 && (first < blockDescLen || first >= blockSize) {
		return fmt.Errorf("capture: %s: ring block %d: first packet at %d outside the block", s.name, s.cur, first)
	}
	s.inBlock, s.pktLeft, s.pktOff = true, num, first
	return nil
}

// nextInBlock decodes the next packet of the current block; keep is false
// for a packet that must not be handed out (the outgoing copy on
// loopback).
func (s *Source) nextInBlock() (p capture.Packet, keep bool, err error) {
	base := s.cur * blockSize
	blk := s.ring[base : base+blockSize]
	off := s.pktOff
	// Bounds first: the header, then the data it points to.
	if uint64(off)+sllEnd > blockSize {
		return p, false, fmt.Errorf("capture: %s: ring block %d: packet header at %d outside the block", s.name, s.cur, off)
	}
	h := blk[off:]
	next := binary.NativeEndian.Uint32(h[hdrNextOff:])
	s.pktLeft--
	s.pktOff = off + next
	if s.pktLeft > 0 && next == 0 {
		return p, false, fmt.Errorf("capture: %s: ring block %d: packet at %d has no successor", s.name, s.cur, off)
	}

	snap := binary.NativeEndian.Uint32(h[hdrSnaplenOff:])
	wire := binary.NativeEndian.Uint32(h[hdrLenOff:])
	status := binary.NativeEndian.Uint32(h[hdrStatusOff:])
	start := uint32(binary.NativeEndian.Uint16(h[hdrMacOff:]))
	if s.cooked {
		start = uint32(binary.NativeEndian.Uint16(h[hdrNetOff:]))
	}
	if uint64(off)+uint64(start)+uint64(snap) > blockSize {
		return p, false, fmt.Errorf("capture: %s: ring block %d: packet at %d overruns the block", s.name, s.cur, off)
	}
	ifindex := int(int32(binary.NativeEndian.Uint32(h[sllIfindexOff:])))
	pkttype := h[sllPkttypeOff]
	if pkttype == unix.PACKET_OUTGOING && s.loopback[ifindex] {
		// The same packet comes back in as PACKET_HOST.
		return p, false, nil
	}

	data := h[start : start+snap]
	length := int(wire)
	switch {
	case s.cooked:
		data = s.cookedHeader(h, data)
		length += sllHeaderLen
	case status&unix.TP_STATUS_VLAN_VALID != 0 && s.link == capture.LinkTypeEthernet && len(data) >= 12:
		data = s.vlanTag(h, status, data)
		length += 4
	}
	p = capture.Packet{
		Timestamp: time.Unix(int64(binary.NativeEndian.Uint32(h[hdrSecOff:])), int64(binary.NativeEndian.Uint32(h[hdrNsecOff:]))),
		LinkType:  s.link,
		Data:      data,
		Length:    length,
	}
	return p, true, nil
}

// cookedHeader returns the packet behind a LINKTYPE_LINUX_SLL header made
// from the packet's sockaddr_ll.
func (s *Source) cookedHeader(h, data []byte) []byte {
	s.scratch = append(s.scratch[:0], make([]byte, sllHeaderLen)...)
	out := s.scratch
	binary.BigEndian.PutUint16(out[0:], uint16(h[sllPkttypeOff]))
	binary.BigEndian.PutUint16(out[2:], binary.NativeEndian.Uint16(h[sllHatypeOff:]))
	halen := min(int(h[sllHalenOff]), 8)
	binary.BigEndian.PutUint16(out[4:], uint16(halen))
	copy(out[6:14], h[sllAddrOff:sllAddrOff+halen])
	// sll_protocol is already in network order.
	out[14], out[15] = h[sllProtocolOff], h[sllProtocolOff+1]
	s.scratch = append(out, data...)
	return s.scratch
}

// vlanTag puts back the 802.1Q tag that the network card removed and the
// kernel reported beside the packet.
func (s *Source) vlanTag(h []byte, status uint32, data []byte) []byte {
	tpid := uint16(etherTypeVLAN)
	if status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
		tpid = binary.NativeEndian.Uint16(h[hdrVlanTPID:])
	}
	tci := uint16(binary.NativeEndian.Uint32(h[hdrVlanTCIOff:]))
	s.scratch = append(s.scratch[:0], data[:12]...)
	s.scratch = binary.BigEndian.AppendUint16(s.scratch, tpid)
	s.scratch = binary.BigEndian.AppendUint16(s.scratch, tci)
	s.scratch = append(s.scratch, data[12:]...)
	return s.scratch
}

// Stop makes ReadPacket return io.EOF once it has handed out the packets
// the kernel already captured, waking it if it is waiting. It may be called
// from any goroutine, for example a signal handler's, and more than once.
func (s *Source) Stop() {
	if s.stop.Swap(true) {
		return
	}
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	if s.wakeFD >= 0 {
		var one [8]byte
		binary.NativeEndian.PutUint64(one[:], 1)
		_, _ = unix.Write(s.wakeFD, one[:])
	}
}

// Stats returns the packet counts so far. It may be called from any
// goroutine, also after Close.
func (s *Source) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.readKernelStats()
	st := s.stats
	st.Packets = s.packets.Load()
	return st
}

// readKernelStats adds the kernel's counters, which reset when read, to
// s.stats. s.statsMu must be held.
func (s *Source) readKernelStats() {
	if s.fd < 0 {
		return
	}
	// After Close the descriptor may have been reused: read only while
	// open (Close takes statsMu before closing).
	ks, err := unix.GetsockoptTpacketStatsV3(s.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return
	}
	s.stats.Received += uint64(ks.Packets)
	s.stats.Drops += uint64(ks.Drops)
}

// Close stops the capture and releases the socket and ring. Packets handed
// out before are no longer valid. Do not call Close while another goroutine
// is in ReadPacket or still uses its packet: call Stop, and Close when
// ReadPacket has returned io.EOF.
func (s *Source) Close() error {
	s.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.release()
}

func (s *Source) release() error {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.readKernelStats()
	var errs []error
	if s.ring != nil {
		errs = append(errs, unix.Munmap(s.ring))
		s.ring = nil
	}
	if s.fd >= 0 {
		errs = append(errs, unix.Close(s.fd))
		s.fd = -1
	}
	s.wakeMu.Lock()
	if s.wakeFD >= 0 {
		errs = append(errs, unix.Close(s.wakeFD))
		s.wakeFD = -1
	}
	s.wakeMu.Unlock()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("capture: close %s: %w", s.name, err)
	}
	return nil
}
