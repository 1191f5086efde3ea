package display

import (
	"errors"
	"strings"
	"testing"
)

// FuzzCompile compiles arbitrary expressions: Compile never panics, an
// error is a *SyntaxError with an offset inside the expression, and a
// filter that compiles has a canonical form (String) that compiles to the
// same canonical form and matches the same sample events. Seeds are in
// testdata/fuzz/FuzzCompile.
func FuzzCompile(f *testing.F) {
	f.Add(`type == "ws.message" && from == "client" && len > 1000`)
	f.Add(`has warnings.code == "tcp.gap" || conn in {2 3 5..9}`)
	events := sampleEvents()
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := Compile(expr)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q) = %v, not a *SyntaxError", expr, err)
			}
			if len(expr) <= MaxLength && (se.Offset < 0 || se.Offset > len(expr)) {
				t.Fatalf("Compile(%q): offset %d outside the expression", expr, se.Offset)
			}
			if c := se.Caret(); !strings.HasSuffix(c, "^") {
				t.Fatalf("Caret() = %q", c)
			}
			return
		}
		canon := flt.String()
		again, err := Compile(canon)
		if err != nil {
			t.Fatalf("Compile(%q) (the String of %q) = %v", canon, expr, err)
		}
		if s := again.String(); s != canon {
			t.Fatalf("String of %q is %q, and of that %q", expr, canon, s)
		}
		for name, ev := range events {
			if flt.Match(ev) != again.Match(ev) {
				t.Fatalf("%q and its String %q disagree on %s", expr, canon, name)
			}
		}
	})
}
