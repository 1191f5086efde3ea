package main

// wsviz events -r IN -w OUT.pcapng [--conn N | -Y EXPR]: cut packets out
// of a capture file, and the packet-to-connection tracking that it and
// wsviz stats share.

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"

	"github.com/google/gopacket"
	"github.com/google/gopacket/pcapgo"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture"
)

// connTracker finds the connection a packet belongs to, numbered as the
// analyzer numbers them, from the tcp.open events: the analyzer emits
// tcp.open while it processes a connection's first packet (its own, a
// reused 4-tuple's new SYN, or the next packet of an evicted one), so a
// packet belongs to the connection most recently opened on its pair of
// addresses. The analyzer stays the one owner of the numbering; a test
// (TestCutMatchesTshark) checks the result against tshark's tcp.stream.
//
// It must see a packet's events before the packet is asked about: the
// analyzer must run on one worker, fed through trackSource.
type connTracker struct {
	conns map[addrPair]trackedConn
	open  map[int]addrPair // the pairs of the connections not closed yet
	seg   capture.Segment
}

// addrPair is a connection's two endpoints in order, whichever sent.
type addrPair struct{ lo, hi netip.AddrPort }

func makePair(a, b netip.AddrPort) addrPair {
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	return addrPair{a, b}
}

type trackedConn struct {
	conn   int
	client netip.AddrPort
	closed bool // tcp.close seen: may be dropped when the table grows large
}

// maxTracked bounds the tracker: past it, closed connections are
// forgotten (a stray packet after their close is then not attributed).
const maxTracked = 1 << 20

func newConnTracker() *connTracker {
	return &connTracker{conns: make(map[addrPair]trackedConn), open: make(map[int]addrPair)}
}

// event learns from one event.
func (t *connTracker) event(ev *analyze.Event) {
	switch ev.Type {
	case analyze.TypeTCPOpen:
		client, err1 := netip.ParseAddrPort(ev.TCPOpen.Client)
		server, err2 := netip.ParseAddrPort(ev.TCPOpen.Server)
		if err1 != nil || err2 != nil {
			return
		}
		if len(t.conns) >= maxTracked {
			for k, c := range t.conns {
				if c.closed {
					delete(t.conns, k)
				}
			}
		}
		pair := makePair(client, server)
		t.conns[pair] = trackedConn{conn: ev.Conn, client: client}
		t.open[ev.Conn] = pair
	case analyze.TypeTCPClose:
		// The pair stays: late ACKs still belong to the connection.
		pair, ok := t.open[ev.Conn]
		if !ok {
			return
		}
		delete(t.open, ev.Conn)
		if c := t.conns[pair]; c.conn == ev.Conn {
			c.closed = true
			t.conns[pair] = c
		}
	}
}

// lookup returns the connection of a packet, 0 when it belongs to none
// (not TCP, or not yet seen), and whether the client sent it.
func (t *connTracker) lookup(p *capture.Packet) (conn int, fromClient bool) {
	if !capture.DecodeTCP(p, &t.seg) {
		return 0, false
	}
	c, ok := t.conns[makePair(t.seg.Src, t.seg.Dst)]
	if !ok {
		return 0, false
	}
	return c.conn, t.seg.Src == c.client
}

// trackSource hands packets to a one-worker analyzer and, once the
// analyzer has emitted a packet's events (when it asks for the next
// packet), calls settle with the packet and its connection.
type trackSource struct {
	src     capture.Source
	tracker *connTracker
	settle  func(p *capture.Packet, conn int, fromClient bool) error
	pending capture.Packet
	has     bool
}

func (t *trackSource) ReadPacket() (capture.Packet, error) {
	if t.has {
		// pending.Data is valid until the next src.ReadPacket.
		t.has = false
		conn, fromClient := t.tracker.lookup(&t.pending)
		if err := t.settle(&t.pending, conn, fromClient); err != nil {
			return capture.Packet{}, err
		}
	}
	p, err := t.src.ReadPacket()
	if err != nil {
		return p, err
	}
	t.pending, t.has = p, true
	return p, nil
}

// cutPackets writes the packets of df's input that pass the packet filter
// (and -c) to the -w file; with --conn or -Y, only those of the selected
// connections. With -Y the file is read twice: once to find the
// connections with a matching event, once to copy their packets.
func cutPackets(df *decodeFlags, stderr io.Writer) error {
	selected := df.conns.has
	var nconns int
	if df.filter != nil {
		in, err := df.open(stderr, liveOptions{})
		if err != nil {
			return err
		}
		set := map[int]bool{}
		stop := startProgress(in.file, stderr, df.quiet)
		err = analyze.Decode(in.src, df.options(in), func(ev *analyze.Event) error {
			if ev.Conn != 0 && df.keep(ev) {
				set[ev.Conn] = true
			}
			return nil
		})
		stop()
		in.Close()
		if err != nil {
			return err
		}
		selected = func(conn int) bool { return set[conn] }
		nconns = len(set)
	}

	in, err := df.open(stderr, liveOptions{})
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := newPcapngCut(df.live.write, in.file)
	if err != nil {
		return err
	}
	stop := startProgress(in.file, stderr, df.quiet)
	if df.selects() {
		tracker := newConnTracker()
		src := &trackSource{src: in.src, tracker: tracker, settle: func(p *capture.Packet, conn int, _ bool) error {
			if conn == 0 || !selected(conn) {
				return nil
			}
			return out.write(p)
		}}
		opts := df.options(in)
		opts.Workers = 1 // trackSource needs each packet's events before the next packet
		err = analyze.Decode(src, opts, func(ev *analyze.Event) error {
			tracker.event(ev)
			return nil
		})
	} else {
		for {
			p, rerr := in.src.ReadPacket()
			if rerr != nil {
				if !errors.Is(rerr, io.EOF) {
					err = rerr
				}
				break
			}
			if err = out.write(&p); err != nil {
				break
			}
		}
	}
	stop()
	if cerr := out.close(); err == nil {
		err = cerr
	}
	if !df.quiet {
		what := ""
		switch {
		case df.filter != nil:
			what = fmt.Sprintf(" of the %d %s with an event matching -Y", nconns, countNoun(int64(nconns), "connection", "connections"))
		case len(df.conns) > 0:
			what = fmt.Sprintf(" of connections %s", df.conns.String())
		}
		fmt.Fprintf(stderr, "wsviz: saved %d %s%s to %s\n", out.packets, countNoun(out.packets, "packet", "packets"), what, df.live.write)
	}
	return err
}

// pcapngCut writes packets to a pcapng file with the interfaces they were
// captured on: each input interface becomes an output interface the first
// time one of its packets is written (name, link type, snap length), and
// timestamps are kept to the nanosecond.
type pcapngCut struct {
	f       *os.File
	ng      *pcapgo.NgWriter
	in      *capture.File
	ids     map[int]int // input interface index → output interface id
	packets int64
}

var ngOptions = pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
	Hardware: runtime.GOARCH, OS: runtime.GOOS, Application: "wsviz",
}}

func newPcapngCut(path string, in *capture.File) (*pcapngCut, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &pcapngCut{f: f, in: in, ids: map[int]int{}}, nil
}

// ngInterface describes input interface i for the output.
func (c *pcapngCut) ngInterface(i int) (pcapgo.NgInterface, error) {
	ifaces := c.in.Interfaces()
	if i < 0 || i >= len(ifaces) {
		return pcapgo.NgInterface{}, fmt.Errorf("packet on interface %d, which the file did not describe", i)
	}
	in := ifaces[i]
	if in.LinkTypeNumber > 255 {
		return pcapgo.NgInterface{}, fmt.Errorf("cannot save packets of link type %d yet", in.LinkTypeNumber)
	}
	return pcapgo.NgInterface{Name: in.Name, LinkType: in.LinkType, SnapLength: in.Snaplen, TimestampResolution: 9}, nil
}

func (c *pcapngCut) write(p *capture.Packet) error {
	id, ok := c.ids[p.Interface]
	if !ok {
		intf, err := c.ngInterface(p.Interface)
		if err != nil {
			return err
		}
		if c.ng == nil {
			if c.ng, err = pcapgo.NewNgWriterInterface(c.f, intf, ngOptions); err != nil {
				return err
			}
			id = 0
		} else if id, err = c.ng.AddInterface(intf); err != nil {
			return err
		}
		c.ids[p.Interface] = id
	}
	ci := gopacket.CaptureInfo{Timestamp: p.Timestamp, CaptureLength: len(p.Data),
		Length: max(p.Length, len(p.Data)), InterfaceIndex: id}
	if err := c.ng.WritePacket(ci, p.Data); err != nil {
		return fmt.Errorf("write %s: %w", c.f.Name(), err)
	}
	c.packets++
	return nil
}

// close finishes the file: with no packet written, it still gets a section
// and the input's first interface, so that it opens as an empty capture.
func (c *pcapngCut) close() error {
	var err error
	if c.ng == nil {
		intf, ierr := c.ngInterface(0)
		if ierr != nil {
			intf = pcapgo.NgInterface{LinkType: 1, TimestampResolution: 9}
		}
		c.ng, err = pcapgo.NewNgWriterInterface(c.f, intf, ngOptions)
	}
	if err == nil {
		err = c.ng.Flush()
	}
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	return err
}
