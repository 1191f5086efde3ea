package capture

import (
	"github.com/wsviz/wsviz/capture/filter"
)

// FilterSource hands out the packets of src that may carry a packet f
// matches, with their numbers in src, as a live capture filters in the
// kernel: those f matches, and the IP fragments and tunnel packets that
// may carry one (filter.Filter.OrEncapsulated). The precise test of f on
// the inner packets, once reassembled and unwrapped, is the Decoder's
// (DecoderOptions.Filter, analyze.Options.PacketFilter): set it too.
// It returns src itself when f is empty.
//
// A link type whose headers have no fixed length (PPP, Cisco HDLC, NFLOG,
// PKTAP) has no compiled filter: its packets all come, for the Decoder's
// precise test. Packets of a link type DecodeTCP does not read (802.11, USB on an
// interface of a pcapng file) are left out: no filter matches what cannot
// be read.
//
// The source it returns hides src's other methods (a pcapng file's TLS
// secrets, its interfaces): take them from src first.
func FilterSource(src Source, f *filter.Filter) Source {
	if f.Empty() {
		return src
	}
	return &filteredSource{src: src, filter: f.OrEncapsulated(), progs: map[LinkType]*filter.Program{}}
}

type filteredSource struct {
	src    Source
	filter *filter.Filter
	progs  map[LinkType]*filter.Program // compiled once per link type; nil for one it cannot be
}

func (fs *filteredSource) ReadPacket() (Packet, error) {
	for {
		p, err := fs.src.ReadPacket()
		if err != nil {
			return p, err
		}
		prog, ok := fs.progs[p.LinkType]
		if !ok {
			prog, _ = fs.filter.Compile(p.LinkType) // nil when not supported
			fs.progs[p.LinkType] = prog
		}
		if prog == nil && Decodable(p.LinkType) || prog != nil && prog.Match(p.Data) {
			return p, nil
		}
	}
}
