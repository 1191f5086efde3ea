package main

// -T text: one aligned line per event, as tshark prints one per packet.

import (
	"bufio"
	"fmt"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture"
)

// textWriter writes events as aligned lines:
//
//	packet  seconds  conn  direction        type           size  summary  [warnings]
//	     8 0.000522     1  client → server  ws.message       52  text {"mood":"curious"}
//
// seconds count from the first event of the capture (filtered or not, as
// tshark's relative time counts from the first packet). Payloads and other
// captured strings are escaped onto one line: control characters, invalid
// UTF-8 and bidirectional overrides become \n, \xNN or \u202e, so a capture
// cannot move the cursor or recolour the terminal.
type textWriter struct {
	w       *bufio.Writer
	color   bool
	t0      time.Time
	started bool
	line    []byte
}

// ANSI colours, used only when standard output is a terminal (and NO_COLOR
// is not set).
const (
	colReset  = "\x1b[0m"
	colDim    = "\x1b[2m"
	colRed    = "\x1b[31m"
	colGreen  = "\x1b[32m"
	colYellow = "\x1b[33m"
	colBlue   = "\x1b[34m"
	colCyan   = "\x1b[36m"
	colBold   = "\x1b[1m"
)

// previewRunes is the most characters of a text payload a line shows;
// previewBytes the most bytes of a binary one (as hex).
const (
	previewRunes = 100
	previewBytes = 24
)

// see records the time of an event that may not be printed: relative times
// count from the first event decoded, or from the first packet of its
// handshake when that event is a tcp.open (emitted once the handshake
// completes), so that they count from the capture's first packet.
func (tw *textWriter) see(ev *analyze.Event) {
	if !tw.started {
		tw.t0, tw.started = ev.Time, true
		if ev.Type == analyze.TypeTCPOpen && len(ev.TCPOpen.Handshake) > 0 {
			tw.t0 = ev.TCPOpen.Handshake[0].Time
		}
	}
}

// write prints one event.
func (tw *textWriter) write(ev *analyze.Event) error {
	tw.see(ev)
	b := tw.line[:0]
	b = fmt.Appendf(b, "%6d %11.6f ", ev.Packet, ev.Time.Sub(tw.t0).Seconds())
	if ev.Conn != 0 {
		b = fmt.Appendf(b, "%5d  ", ev.Conn)
	} else {
		b = append(b, "       "...)
	}
	switch ev.From {
	case analyze.FromClient:
		b = tw.paint(b, colYellow, "client → server")
	case analyze.FromServer:
		b = tw.paint(b, colCyan, "server → client")
	default:
		b = append(b, "               "...)
	}
	b = append(b, "  "...)
	b = tw.paint(b, typeColor(ev), fmt.Sprintf("%-13s", ev.Type))
	size := ""
	switch ev.Type {
	case analyze.TypeWSMessage:
		size = strconv.FormatInt(ev.Message.Len, 10)
	case analyze.TypeWSFrame:
		size = strconv.FormatUint(ev.Frame.Len, 10)
	case analyze.TypeTCPGap:
		size = strconv.FormatInt(ev.TCPGap.Size, 10)
	}
	b = fmt.Appendf(b, " %8s  ", size)
	if ev.Stream != 0 {
		b = fmt.Appendf(b, "stream %d: ", ev.Stream)
	}
	b = appendSummary(b, ev)
	if len(ev.Warnings) > 0 {
		b = append(b, "  "...)
		var w []byte
		w = append(w, '[')
		for i, warn := range ev.Warnings {
			if i > 0 {
				w = append(w, ' ')
			}
			w = appendEscaped(w, warn.Code, 0)
		}
		w = append(w, ']')
		b = tw.paint(b, colRed, string(w))
	}
	b = append(b, '\n')
	tw.line = b
	_, err := tw.w.Write(b)
	return err
}

func (tw *textWriter) paint(b []byte, color, s string) []byte {
	if !tw.color || color == "" {
		return append(b, s...)
	}
	b = append(b, color...)
	b = append(b, s...)
	return append(b, colReset...)
}

func typeColor(ev *analyze.Event) string {
	switch ev.Type {
	case analyze.TypeWSMessage:
		return colGreen
	case analyze.TypeWSOpen:
		return colBold + colGreen
	case analyze.TypeWSFrame:
		return colDim
	case analyze.TypeHTTPRequest, analyze.TypeHTTPResponse:
		return colBlue
	case analyze.TypeTCPGap:
		return colRed
	}
	return ""
}

// appendTunnels appends the tunnels a connection came in, outermost
// first: " via vxlan 42 10.0.0.1→10.0.0.2, mpls 100".
func appendTunnels(b []byte, ts []analyze.Tunnel) []byte {
	for i := range ts {
		t := &ts[i]
		if i == 0 {
			b = append(b, " via "...)
		} else {
			b = append(b, ", "...)
		}
		b = appendEscaped(b, t.Kind, 0)
		switch {
		case t.Kind == capture.TunnelVXLAN || t.Kind == capture.TunnelGeneve:
			b = fmt.Appendf(b, " %d", t.VNI)
		case t.Kind == capture.TunnelMPLS:
			b = fmt.Appendf(b, " %d", t.Label)
		case t.HasKey:
			b = fmt.Appendf(b, " key %d", t.Key)
		}
		if t.Src != "" || t.Dst != "" {
			b = append(b, ' ')
			b = appendEscaped(b, t.Src, 0)
			b = append(b, "→"...)
			b = appendEscaped(b, t.Dst, 0)
		}
	}
	return b
}

// appendSummary appends what the event says, in a few words.
func appendSummary(b []byte, ev *analyze.Event) []byte {
	switch ev.Type {
	case analyze.TypeTCPOpen:
		o := &ev.TCPOpen
		b = appendEscaped(b, o.Client, 0)
		b = append(b, " → "...)
		b = appendEscaped(b, o.Server, 0)
		if o.SYN {
			b = append(b, " (SYN)"...)
		} else {
			b = append(b, " (already open)"...)
		}
		return appendTunnels(b, o.Tunnel)
	case analyze.TypeTCPClose:
		c := &ev.TCPClose
		return fmt.Appendf(b, "%s: %d bytes from the client, %d from the server", c.How, c.ClientBytes, c.ServerBytes)
	case analyze.TypeTCPGap:
		return fmt.Appendf(b, "%d bytes never captured at stream offset %d", ev.TCPGap.Size, ev.TCPGap.Offset)
	case analyze.TypeH2StreamClose:
		c := &ev.H2Close
		b = append(b, c.How...)
		if c.ErrorCode != "" {
			b = append(b, ' ')
			b = appendEscaped(b, c.ErrorCode, 0)
		}
		return fmt.Appendf(b, ": %d bytes from the client, %d from the server", c.ClientBytes, c.ServerBytes)
	case analyze.TypeHTTPRequest:
		h := &ev.HTTP
		b = appendEscaped(b, h.Method, 0)
		b = append(b, ' ')
		b = appendEscaped(b, h.Target, 0)
		b = append(b, ' ')
		return appendEscaped(b, h.Proto, 0)
	case analyze.TypeHTTPResponse:
		h := &ev.HTTP
		b = appendEscaped(b, h.Proto, 0)
		b = fmt.Appendf(b, " %d", h.Status)
		if h.Reason == "" {
			return b // HTTP/2 has none (RFC 9113 §8.3.2)
		}
		b = append(b, ' ')
		return appendEscaped(b, h.Reason, 0)
	case analyze.TypeWSOpen:
		o := &ev.WSOpen
		if o.Midstream {
			b = append(b, "(mid-stream, no handshake captured)"...)
		} else {
			b = appendEscaped(b, o.Path, 0)
		}
		if o.Subprotocol != "" {
			b = append(b, " subprotocol "...)
			b = appendEscaped(b, o.Subprotocol, 0)
		}
		if d := o.Deflate; d != nil {
			b = append(b, " permessage-deflate"...)
			switch {
			case d.ClientNoContextTakeover && d.ServerNoContextTakeover:
				b = append(b, " (no context takeover)"...)
			case d.ClientNoContextTakeover:
				b = append(b, " (no client context takeover)"...)
			case d.ServerNoContextTakeover:
				b = append(b, " (no server context takeover)"...)
			}
		}
		if o.Accept == "bad" || o.Accept == "missing" {
			b = append(b, " accept "...)
			b = append(b, o.Accept...)
		}
		return b
	case analyze.TypeWSFrame:
		f := &ev.Frame
		b = append(b, analyze.OpcodeName(f.Opcode)...)
		if f.Fin {
			b = append(b, " FIN"...)
		}
		for i, name := range []string{"RSV1", "RSV2", "RSV3"} {
			if f.RSV&(4>>i) != 0 {
				b = append(b, ' ')
				b = append(b, name...)
			}
		}
		if f.Masked {
			b = fmt.Appendf(b, " mask %x", f.Mask[:])
		}
		return b
	case analyze.TypeWSMessage:
		m := &ev.Message
		b = appendEscaped(b, m.Opcode, 0)
		if m.Compressed {
			b = fmt.Appendf(b, " (compressed, %d on the wire)", m.WireLen)
		}
		if m.Frames > 1 {
			b = fmt.Appendf(b, " %d frames", m.Frames)
		}
		b = append(b, ' ')
		if m.Opcode == "close" {
			if m.Code == 0 {
				return append(b, "(no code)"...)
			}
			b = strconv.AppendInt(b, int64(m.Code), 10)
			if m.Reason != "" {
				b = append(b, ' ')
				b = appendEscaped(b, m.Reason, previewRunes)
			}
			return b
		}
		// Text is shown as text, invalid bytes escaped; other payloads
		// as text when they are UTF-8 (a ping's "hello"), else in hex.
		if m.Opcode != "text" && (m.Opcode == "binary" || !utf8.Valid(m.Payload)) {
			return appendHex(b, m.Payload, previewBytes, m.Truncated)
		}
		b = appendEscaped(b, string(m.Payload), previewRunes)
		if m.Truncated && utf8.RuneCount(m.Payload) <= previewRunes {
			b = append(b, "…"...)
		}
		return b
	case analyze.TypeCaptureStats:
		return fmt.Appendf(b, "%d packets captured, %d dropped by the kernel", ev.Capture.Packets, ev.Capture.Drops)
	}
	return appendEscaped(b, ev.Note, previewRunes)
}

// appendEscaped appends s on one line: control characters, invalid UTF-8,
// bidirectional and other format characters escaped; at most maxRunes
// characters (0: all), then "…".
func appendEscaped(b []byte, s string, maxRunes int) []byte {
	n := 0
	for i := 0; i < len(s); {
		if maxRunes > 0 && n == maxRunes {
			return append(b, "…"...)
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b = fmt.Appendf(b, `\x%02x`, s[i])
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r < ' ' || r == 0x7f:
			b = fmt.Appendf(b, `\x%02x`, r)
		case unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			b = fmt.Appendf(b, `\u%04x`, r)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
		n++
	}
	return b
}

// appendHex appends up to max bytes of p in hex, "00 01 fe", then "…" when
// there is more.
func appendHex(b, p []byte, max int, truncated bool) []byte {
	if len(p) == 0 {
		return append(b, "(empty)"...)
	}
	for i, c := range p {
		if i == max {
			return append(b, " …"...)
		}
		if i > 0 {
			b = append(b, ' ')
		}
		b = fmt.Appendf(b, "%02x", c)
	}
	if truncated {
		b = append(b, " …"...)
	}
	return b
}
