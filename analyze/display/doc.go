// Package display is wsviz's display filter: an expression over the fields
// of analyze.Event, in the spirit of Wireshark's display filters, that
// `wsviz events -Y`, `har -Y`, `ui -Y` and `transcript -Y` use to keep some
// events and drop the rest.
//
//	type == "ws.message" && from == "client" && len > 1000
//	conn in {2 3}
//	text contains "error" || text matches "^\{"
//	warnings
//	has warnings.code == "tcp.gap"
//
// Compile parses an expression into a Filter; Filter.Match evaluates it
// on one event without allocating. Fields are named as in the event's JSON
// form (docs/events.md), so what `wsviz events` prints is what a filter
// tests. The grammar, the fields and the rules for absent fields and lists
// are in docs/filters.md.
//
// A Filter is immutable and safe for concurrent use. Compile bounds what a
// hostile expression can cost (its length and nesting depth); evaluation
// is linear in the expression and the fields it reads, regular expressions
// included (RE2).
package display
