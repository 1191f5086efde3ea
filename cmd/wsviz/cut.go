package main

// wsviz events -r IN -w OUT.pcapng [--conn N | -Y EXPR]: cut packets out
// of a capture file. The connection of each packet is the analyzer's
// (analyze.Options.OnPacket): its connection table is the one owner of the
// numbering; a test (TestCutMatchesTshark) checks the result against
// tshark's tcp.stream.

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/save"
)

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
		stop := startProgress(in, stderr, df.quiet)
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
	stop := startProgress(in, stderr, df.quiet)
	if df.selects() {
		var werr error // from out: stops the decoding at the next event
		opts := df.options(in)
		opts.OnPacket = func(p *capture.Packet, conn int, _ string) {
			if werr == nil && conn != 0 && selected(conn) {
				werr = out.write(p)
			}
		}
		err = analyze.Decode(in.src, opts, func(*analyze.Event) error { return werr })
		if err == nil {
			err = werr
		}
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
	ng      *save.NgWriter
	in      *capture.File
	ids     map[int]int // input interface index → output interface id
	packets int64
}

func newPcapngCut(path string, in *capture.File) (*pcapngCut, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &pcapngCut{f: f, in: in, ids: map[int]int{}}, nil
}

// ngInterface describes input interface i for the output.
func (c *pcapngCut) ngInterface(i int) (save.Interface, error) {
	ifaces := c.in.Interfaces()
	if i < 0 || i >= len(ifaces) {
		return save.Interface{}, fmt.Errorf("packet on interface %d, which the file did not describe", i)
	}
	in := ifaces[i]
	// A link type number capture.LinkType cannot hold (above 255, but
	// for SLL2's 276 and PKTAP's 258; 20 and 2, which stand for those)
	// would be written as another one.
	if capture.LinkTypeNumber(in.LinkType) != in.LinkTypeNumber {
		return save.Interface{}, fmt.Errorf("cannot save packets of link type %d yet", in.LinkTypeNumber)
	}
	return save.Interface{Name: in.Name, LinkType: in.LinkType, SnapLen: int(in.Snaplen)}, nil
}

// startNg starts the output with the section header and its first
// interface.
func (c *pcapngCut) startNg(intf save.Interface) (err error) {
	if c.ng, err = save.NewNgWriter(c.f, save.WsvizSection); err == nil {
		_, err = c.ng.AddInterface(intf)
	}
	return err
}

func (c *pcapngCut) write(p *capture.Packet) error {
	id, ok := c.ids[p.Interface]
	if !ok {
		intf, err := c.ngInterface(p.Interface)
		if err != nil {
			return err
		}
		if c.ng == nil {
			if err := c.startNg(intf); err != nil {
				return err
			}
			id = 0
		} else if id, err = c.ng.AddInterface(intf); err != nil {
			return err
		}
		c.ids[p.Interface] = id
	}
	if err := c.ng.WritePacket(id, p); err != nil {
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
			intf = save.Interface{LinkType: capture.LinkTypeEthernet}
		}
		err = c.startNg(intf)
	}
	if err == nil {
		err = c.ng.Flush()
	}
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	return err
}
