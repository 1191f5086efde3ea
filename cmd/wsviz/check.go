package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/wsviz/wsviz/analyze"
)

func init() {
	register("check", "exit 1 when a capture has protocol violations (for CI gates)", runCheck)
}

// notViolations are the warning codes (analyze.Codes) that say something
// about the capture (bytes or a start not captured), about wsviz's limits,
// or about a protocol the peers chose and wsviz does not decode (HTTP/2,
// another upgrade), not about a rule the peers broke: wsviz check does not
// count them unless --codes names them. TestNotViolationsAreCodes keeps the
// list in step with the registry.
var notViolations = []string{
	"capture.drops",
	"tcp.gap", "tcp.buffer_limit", "tcp.conn_limit",
	"http.gap", "http.head_too_large", "http.pending_too_large",
	"http.not_websocket", "h2.lost_sync", "h2.gap_in_headers", "h2.header_block_too_large", "h2.header_list_too_large", "h2.settings_too_large", "h2.websocket_limit",
	"ws.midstream", "ws.lost_start", "ws.incomplete", "ws.deflate_missing_history",
	"ws.deflate_history_limit", "ws.decompression_limit",
}

// codeMatcher says which warning codes count.
type codeMatcher struct {
	patterns []string // codes, or prefixes ending in ".*"
}

func (m codeMatcher) counts(code string) bool {
	if len(m.patterns) == 0 {
		return !slices.Contains(notViolations, code)
	}
	for _, p := range m.patterns {
		if p == code || strings.HasSuffix(p, ".*") && strings.HasPrefix(code, p[:len(p)-1]) {
			return true
		}
	}
	return false
}

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wsviz check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	df := addDecodeFlags(fs, decodeSpec{})
	codes := fs.String("codes", "", "count only these warning `codes`, comma-separated; ws.* names a family (default: every protocol violation)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: wsviz check -r FILE [--codes LIST] [flags] [FILTER]

Decodes the capture and lists every protocol violation (a warning code citing
the RFC, docs/events.md) with its connection, direction and packet, so that a
CI job can gate on "no violations on the wire". By default every warning counts
except those about the capture or wsviz's limits; --codes counts exactly the
listed codes instead. -Y and --conn look only at the events they select. Not
counted by default:

`+wrap(strings.Join(notViolations, ", "), 78)+`

Exit status: 0 none, 1 violations, 2 error (usage, a file that is not a
capture, or one that could not be read to the end: what was decoded is listed).

Flags:`)
		fs.PrintDefaults()
	}
	if err := df.parse(fs, args, stderr); err != nil {
		return err
	}
	var m codeMatcher
	for _, c := range strings.Split(*codes, ",") {
		if c = strings.TrimSpace(c); c != "" {
			m.patterns = append(m.patterns, c)
		}
	}
	fail := func(err error) error { return &exitError{Code: 2, Err: err} }
	in, err := df.open(stderr, liveOptions{})
	if err != nil {
		return fail(err)
	}
	defer in.Close()
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	paths := map[int]string{}
	byCode := map[string]int{}
	var order []string
	connsWith := map[int]bool{}
	total, skipped := 0, 0
	stop := startProgress(in, stderr, df.quiet || isTerminal(stdout))
	derr := analyze.Decode(in.src, df.options(in), func(ev *analyze.Event) error {
		if ev.Type == analyze.TypeWSOpen || (ev.Type == analyze.TypeHTTPRequest && paths[ev.Conn] == "") {
			paths[ev.Conn] = ev.WSOpen.Path
			if ev.Type == analyze.TypeHTTPRequest {
				paths[ev.Conn] = ev.HTTP.Target
			}
		}
		if !df.keep(ev) {
			return nil
		}
		for _, wn := range ev.Warnings {
			if !m.counts(wn.Code) {
				skipped++
				continue
			}
			total++
			if byCode[wn.Code] == 0 {
				order = append(order, wn.Code)
			}
			byCode[wn.Code]++
			connsWith[ev.Conn] = true
			where := fmt.Sprintf("packet %d", ev.Packet)
			if ev.Conn != 0 {
				where += fmt.Sprintf(", connection %d", ev.Conn)
				if p := paths[ev.Conn]; p != "" {
					where += " " + p
				}
			}
			if ev.Stream != 0 {
				where += fmt.Sprintf(", stream %d", ev.Stream)
			}
			if ev.From != "" {
				where += ", " + ev.From
			}
			fmt.Fprintf(w, "%s: %s %s: %s\n", where, ev.Type, wn.Code, wn.Msg)
		}
		return nil
	})
	stop()
	var summary string
	if total == 0 {
		summary = "no protocol violations"
	} else {
		var parts []string
		for _, c := range order {
			parts = append(parts, fmt.Sprintf("%d %s", byCode[c], c))
		}
		summary = fmt.Sprintf("%d %s in %d %s (%s)", total, noun(total, "violation", "violations"),
			len(connsWith), noun(len(connsWith), "connection", "connections"), strings.Join(parts, ", "))
	}
	if skipped > 0 {
		summary += fmt.Sprintf("; %d other %s not counted", skipped, noun(skipped, "warning", "warnings"))
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if !df.quiet {
		fmt.Fprintf(stderr, "wsviz check: %s\n", summary)
	}
	if derr != nil {
		return fail(fmt.Errorf("the capture could not be read to the end, so it was not all checked: %w", derr))
	}
	if total > 0 {
		return &exitError{Code: 1}
	}
	return nil
}

func noun(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// wrap breaks text into lines of at most width bytes at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(text) {
		if i > 0 && n+1+len(w) > width {
			b.WriteByte('\n')
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
