package handshake

import (
	"strings"
	"testing"
)

func TestChunked(t *testing.T) {
	tests := []struct {
		name string
		in   string
		end  int    // offset where the body ends; -1 when it has not ended
		bad  string // a part of the Problem's message, "" for none
	}{
		{"last chunk only", "0\r\n\r\nNEXT", 5, ""},
		{"one chunk", "5\r\nhello\r\n0\r\n\r\nNEXT", 15, ""},
		{"hex sizes in both cases", "a\r\n0123456789\r\nB\r\n0123456789a\r\n0\r\n\r\n", 36, ""},
		{"leading zeros", "0005\r\nhello\r\n000\r\n\r\n", 20, ""},
		{"extensions", "5;name=value;x\r\nhello\r\n0;last\r\n\r\n", 33, ""},
		{"extension after whitespace", "5 ;a\r\nhello\r\n0\r\n\r\n", 18, ""},
		{"trailers", "1\r\nx\r\n0\r\nExpires: 0\r\nX-Sum: 9\r\n\r\nNEXT", 33, ""},
		{"bare LFs", "5\nhello\n0\nX: y\n\nNEXT", 16, ""},
		{"not ended", "5\r\nhel", -1, ""},
		{"in the trailer", "0\r\nX: 1\r\n", -1, ""},
		{"no size", "\r\nhello\r\n", 0, "not a hex digit"},
		{"size not hex", "g\r\n", 0, "not a hex digit"},
		{"junk after size", "5x\r\n", 1, "followed by"},
		{"data too long", "3\r\nabcd\r\n", 6, "longer than its chunk-size"},
		{"CR without LF after data", "3\r\nabc\rX", 7, "not followed by CRLF"},
		{"CR without LF after size", "3\rX", 2, "CR is not followed by LF"},
		{"CR without LF after trailer", "0\r\n\rX", 4, "CR without LF"},
		{"size overflow", "1000000000000000\r\n", 15, "2^60"},
		{"size line too long", "1;" + strings.Repeat("x", maxChunkLine), maxChunkLine, "longer than"},
		{"zeros forever", strings.Repeat("0", maxChunkLine+1), maxChunkLine, "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Whole, then one byte at a time: the same end and problem.
			for _, step := range []int{len(tc.in), 1} {
				b := body{kind: chunkedBody}
				n, end := 0, -1
				var p *Problem
				for n < len(tc.in) && p == nil && b.kind != noBody {
					var k int
					k, p = b.skip([]byte(tc.in[n:min(n+step, len(tc.in))]))
					n += k
				}
				if b.kind == noBody || p != nil {
					end = n
				}
				if end != tc.end {
					t.Errorf("skip(%q) by %d: ended at %d, want %d", tc.in, step, end, tc.end)
				}
				switch {
				case p == nil && tc.bad != "":
					t.Errorf("skip(%q) by %d: no problem, want one with %q", tc.in, step, tc.bad)
				case p != nil && (tc.bad == "" || !strings.Contains(p.Msg, tc.bad) || p.Code != "http.bad_chunk"):
					t.Errorf("skip(%q) by %d: problem %+v, want http.bad_chunk with %q", tc.in, step, p, tc.bad)
				case p != nil && !strings.Contains(p.Msg, "(RFC 9112 §7.1)"):
					t.Errorf("skip(%q): problem %q does not cite RFC 9112 §7.1", tc.in, p.Msg)
				}
			}
		})
	}
}

func TestLengthBody(t *testing.T) {
	tests := []struct {
		kind     bodyKind
		remain   int64
		in       string
		consumed int
		ended    bool
	}{
		{lengthBody, 5, "helloNEXT", 5, true},
		{lengthBody, 5, "hel", 3, false},
		{lengthBody, 1 << 62, "hello", 5, false},
		{closeBody, 0, "everything", 10, false},
		{noBody, 0, "NEXT", 0, true},
	}
	for _, tc := range tests {
		b := body{kind: tc.kind, remain: tc.remain}
		n, p := b.skip([]byte(tc.in))
		if n != tc.consumed || (b.kind == noBody) != tc.ended || p != nil {
			t.Errorf("body{%d, %d}.skip(%q) = %d, %v, ended %t; want %d, nil, ended %t", tc.kind, tc.remain, tc.in, n, p, b.kind == noBody, tc.consumed, tc.ended)
		}
	}
}
