package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/ui"
)

func init() {
	register("stats", "per-connection statistics of a capture: packets, bytes, messages, compression, warnings", runStats)
}

func runStats(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wsviz stats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	df := addDecodeFlags(fs, decodeSpec{})
	format := fs.String("T", "table", "output `format`: table (aligned, for people) or json (one object, for scripts)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: wsviz stats -r FILE [-T table|json] [flags] [FILTER]

Prints one line per TCP connection, as tshark -z conv,tcp does, with what
WebSocket adds: client and server, path (for an HTTP/2 connection that carried
several WebSockets, one per stream, how many and their paths), state (as the
timeline names it), duration, packets and TCP payload bytes each way
(→ client to server, ← server to client), messages and their bytes each way,
the compression ratio (message bytes over bytes on the wire) and the warnings;
then the totals, which count every WebSocket.
-r - reads standard input. FILTER is a tcpdump-style packet filter; --conn N
and -Y EXPR keep the connections given, or those with an event that matches
(docs/filters.md): -Y 'has warnings.code == "tcp.gap"' lists the connections
with a gap.

Flags:`)
		fs.PrintDefaults()
	}
	if err := df.parse(fs, args, stderr); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		fmt.Fprintf(stderr, "wsviz stats: -T %q: the formats are table and json\n", *format)
		return errUsage
	}
	in, err := df.open(stderr, liveOptions{})
	if err != nil {
		return err
	}
	defer in.Close()

	st := newCaptureStats()
	opts := df.options(in)
	opts.OnPacket = st.packet
	stop := startProgress(in, stderr, df.quiet)
	decodeErr := analyze.Decode(in.src, opts, func(ev *analyze.Event) error {
		st.event(ev, df.keep(ev))
		return nil
	})
	stop()
	if decodeErr != nil {
		fmt.Fprintf(stderr, "wsviz stats: %v (the statistics are of what came before)\n", decodeErr)
	}
	report := st.report(df.selects())
	bw := bufio.NewWriter(stdout)
	if *format == "json" {
		enc := json.NewEncoder(bw)
		enc.SetIndent("", "  ")
		err = enc.Encode(report)
	} else {
		err = report.writeTable(bw)
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	if decodeErr != nil {
		return errAfterOutput
	}
	return nil
}

// dirCount is a count in each direction.
type dirCount struct {
	Client int64 `json:"client"` // client to server
	Server int64 `json:"server"` // server to client
}

func (d *dirCount) add(fromClient bool, n int64) {
	if fromClient {
		d.Client += n
	} else {
		d.Server += n
	}
}

func (d dirCount) total() int64 { return d.Client + d.Server }

// connStats sums up one connection.
type connStats struct {
	Conn     int      `json:"conn"`
	Client   string   `json:"client"`
	Server   string   `json:"server"`
	Path     string   `json:"path,omitempty"` // the first request's target, then the (first) WebSocket's
	State    string   `json:"state"`
	First    string   `json:"first"` // the first packet's time, RFC 3339
	Last     string   `json:"last"`
	Duration float64  `json:"duration"` // seconds from the first packet to the last
	Packets  dirCount `json:"packets"`
	// H2WebSockets lists the WebSockets an HTTP/2 connection carried, one
	// per stream (RFC 8441), in order of opening; omitted on HTTP/1.1,
	// whose one WebSocket is Path.
	H2WebSockets []h2WebSocket `json:"h2_websockets,omitempty"`
	// Bytes counts TCP payload bytes, gaps included (tcp.close).
	Bytes dirCount `json:"bytes"`
	// Messages and MessageBytes count WebSocket messages (control
	// messages included) and their payload bytes after decompression;
	// WireBytes the same payloads as sent.
	Messages     dirCount `json:"messages"`
	MessageBytes dirCount `json:"message_bytes"`
	WireBytes    dirCount `json:"wire_bytes"`
	// CompressionRatio is MessageBytes over WireBytes, when a message was
	// compressed (permessage-deflate); omitted otherwise.
	CompressionRatio float64          `json:"compression_ratio,omitempty"`
	Warnings         int64            `json:"warnings"`
	WarningCodes     map[string]int64 `json:"warning_codes,omitempty"`

	first, last time.Time
	compressed  bool
	selected    bool
	state       ui.ConnState // named as the timeline names it
}

// h2WebSocket is a WebSocket on an HTTP/2 stream.
type h2WebSocket struct {
	Stream uint32 `json:"stream"`
	Path   string `json:"path"`
}

// webSockets counts the WebSockets a connection carried: one per HTTP/2
// stream that opened one, else one when its upgrade was seen. The totals'
// WebSockets sum them.
func (c *connStats) webSockets() int {
	switch {
	case len(c.H2WebSockets) > 0:
		return len(c.H2WebSockets)
	case c.state.WebSocket():
		return 1
	}
	return 0
}

// statsTotals sums up the capture.
type statsTotals struct {
	Connections  int      `json:"connections"`
	WebSockets   int      `json:"websockets"`
	Packets      int64    `json:"packets"` // every packet read (past the packet filter), of a connection or not
	ConnPackets  dirCount `json:"conn_packets"`
	Bytes        dirCount `json:"bytes"`
	Messages     dirCount `json:"messages"`
	MessageBytes dirCount `json:"message_bytes"`
	WireBytes    dirCount `json:"wire_bytes"`
	Warnings     int64    `json:"warnings"`
	First        string   `json:"first,omitempty"`
	Last         string   `json:"last,omitempty"`
	Duration     float64  `json:"duration"`
}

// statsReport is what wsviz stats prints.
type statsReport struct {
	Connections []*connStats `json:"connections"`
	Totals      statsTotals  `json:"totals"`
}

// captureStats gathers the statistics as the capture is decoded.
type captureStats struct {
	conns       map[int]*connStats
	packets     int64
	first, last time.Time
	warnings    int64 // on events of no connection
}

func newCaptureStats() *captureStats {
	return &captureStats{conns: map[int]*connStats{}}
}

func (s *captureStats) conn(id int) *connStats {
	c := s.conns[id]
	if c == nil {
		c = &connStats{Conn: id}
		s.conns[id] = c
	}
	return c
}

// packet counts one packet, of connection conn, sent by from (the
// analyzer's OnPacket).
func (s *captureStats) packet(p *capture.Packet, conn int, from string) {
	s.packets++
	if s.packets == 1 || p.Timestamp.Before(s.first) {
		s.first = p.Timestamp
	}
	if p.Timestamp.After(s.last) {
		s.last = p.Timestamp
	}
	if conn == 0 {
		return
	}
	c := s.conn(conn)
	c.Packets.add(from == analyze.FromClient, 1)
	if c.first.IsZero() || p.Timestamp.Before(c.first) {
		c.first = p.Timestamp
	}
	if p.Timestamp.After(c.last) {
		c.last = p.Timestamp
	}
}

// event folds one event in; keep says it passed -Y and --conn.
func (s *captureStats) event(ev *analyze.Event, keep bool) {
	if ev.Conn == 0 {
		s.warnings += int64(len(ev.Warnings))
		return
	}
	c := s.conn(ev.Conn)
	c.selected = c.selected || keep
	c.Warnings += int64(len(ev.Warnings))
	for _, w := range ev.Warnings {
		if c.WarningCodes == nil {
			c.WarningCodes = map[string]int64{}
		}
		c.WarningCodes[w.Code]++
	}
	fromClient := ev.From == analyze.FromClient
	c.state.Update(ev)
	switch ev.Type {
	case analyze.TypeTCPOpen:
		c.Client, c.Server = ev.TCPOpen.Client, ev.TCPOpen.Server
	case analyze.TypeTCPClose:
		c.Bytes = dirCount{ev.TCPClose.ClientBytes, ev.TCPClose.ServerBytes}
	case analyze.TypeHTTPRequest:
		if c.Path == "" {
			c.Path = ev.HTTP.Target
		}
	case analyze.TypeWSOpen:
		if ev.Stream != 0 {
			c.H2WebSockets = append(c.H2WebSockets, h2WebSocket{ev.Stream, ev.WSOpen.Path})
			if len(c.H2WebSockets) > 1 {
				break // the connection is named by its first
			}
		}
		if ev.WSOpen.Path != "" {
			c.Path = ev.WSOpen.Path
		}
	case analyze.TypeWSMessage:
		m := &ev.Message
		c.Messages.add(fromClient, 1)
		c.MessageBytes.add(fromClient, m.Len)
		c.WireBytes.add(fromClient, m.WireLen)
		c.compressed = c.compressed || m.Compressed
	}
}

// report orders the connections and sums them up; with selecting, only
// the connections with an event that passed -Y and --conn.
func (s *captureStats) report(selecting bool) *statsReport {
	r := &statsReport{Connections: []*connStats{}}
	for _, c := range s.conns {
		if selecting && !c.selected {
			continue
		}
		c.State = c.state.State()
		c.First, c.Last = formatTime(c.first), formatTime(c.last)
		c.Duration = c.last.Sub(c.first).Seconds()
		if c.compressed && c.WireBytes.total() > 0 {
			c.CompressionRatio = float64(c.MessageBytes.total()) / float64(c.WireBytes.total())
		}
		r.Connections = append(r.Connections, c)
	}
	slices.SortFunc(r.Connections, func(a, b *connStats) int { return a.Conn - b.Conn })
	t := &r.Totals
	t.Packets = s.packets
	t.Warnings = s.warnings
	if selecting {
		t.Warnings = 0
	}
	t.First, t.Last = formatTime(s.first), formatTime(s.last)
	t.Duration = s.last.Sub(s.first).Seconds()
	for _, c := range r.Connections {
		t.Connections++
		t.WebSockets += c.webSockets()
		for _, pair := range []struct{ sum, c *dirCount }{
			{&t.ConnPackets, &c.Packets}, {&t.Bytes, &c.Bytes}, {&t.Messages, &c.Messages},
			{&t.MessageBytes, &c.MessageBytes}, {&t.WireBytes, &c.WireBytes},
		} {
			pair.sum.Client += pair.c.Client
			pair.sum.Server += pair.c.Server
		}
		t.Warnings += c.Warnings
	}
	return r
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// writeTable prints the report aligned, one line per connection, then the
// totals.
func (r *statsReport) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "conn\tclient\tserver\tpath\tstate\tduration\tpackets →\t←\tbytes →\t←\tmessages →\t←\tmsg bytes →\t←\tratio\twarnings\t")
	for _, c := range r.Connections {
		path := string(appendEscaped(nil, c.Path, 40))
		if n := len(c.H2WebSockets); n > 1 {
			// "2 WebSockets: /chat, /feed": how many first, the paths
			// cut as one.
			paths := make([]string, n)
			for i, ws := range c.H2WebSockets {
				paths[i] = ws.Path
			}
			path = fmt.Sprintf("%d WebSockets: %s", n, appendEscaped(nil, strings.Join(paths, ", "), 40))
		}
		if path == "" {
			path = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t\n",
			c.Conn, c.Client, c.Server, path, c.State, seconds(c.Duration),
			c.Packets.Client, c.Packets.Server, byteSize(c.Bytes.Client), byteSize(c.Bytes.Server),
			c.Messages.Client, c.Messages.Server, byteSize(c.MessageBytes.Client), byteSize(c.MessageBytes.Server),
			ratio(c.CompressionRatio), warnings(c))
	}
	t := &r.Totals
	fmt.Fprintf(tw, "total\t%d %s\t%d WebSocket\t\t\t%s\t%d\t%d\t%s\t%s\t%d\t%d\t%s\t%s\t\t%d\t\n",
		t.Connections, countNoun(int64(t.Connections), "connection", "connections"), t.WebSockets, seconds(t.Duration),
		t.ConnPackets.Client, t.ConnPackets.Server, byteSize(t.Bytes.Client), byteSize(t.Bytes.Server),
		t.Messages.Client, t.Messages.Server, byteSize(t.MessageBytes.Client), byteSize(t.MessageBytes.Server), t.Warnings)
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d %s read; → is client to server, ← server to client; bytes are TCP payload, msg bytes after decompression.\n",
		t.Packets, countNoun(t.Packets, "packet", "packets"))
	return err
}

func seconds(s float64) string { return strconv.FormatFloat(s, 'f', 3, 64) + " s" }

func ratio(r float64) string {
	if r == 0 {
		return "-"
	}
	return strconv.FormatFloat(r, 'f', 1, 64) + "×"
}

// warnings lists a connection's warning codes with their counts, most
// frequent first: "3 (tcp.gap 2, ws.bad_utf8 1)".
func warnings(c *connStats) string {
	if c.Warnings == 0 {
		return "0"
	}
	codes := make([]string, 0, len(c.WarningCodes))
	for code := range c.WarningCodes {
		codes = append(codes, code)
	}
	slices.SortFunc(codes, func(a, b string) int {
		if d := c.WarningCodes[b] - c.WarningCodes[a]; d != 0 {
			return int(d)
		}
		if a < b {
			return -1
		}
		return 1
	})
	s := strconv.FormatInt(c.Warnings, 10) + " ("
	for i, code := range codes {
		if i > 0 {
			s += ", "
		}
		s += code + " " + strconv.FormatInt(c.WarningCodes[code], 10)
	}
	return s + ")"
}
