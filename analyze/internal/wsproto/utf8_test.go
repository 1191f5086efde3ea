package wsproto

import (
	"testing"
	"unicode/utf8"
)

// TestUTF8Checker checks that the streaming checker agrees with
// utf8.Valid however the input is cut into one, two or three pieces.
func TestUTF8Checker(t *testing.T) {
	inputs := []string{
		"", "a", "hello", "héllo", "€", "𝄞", "a€b𝄞c", "\u07ff\u0800\uffff\U00010000\U0010ffff",
		"\xff", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xa0\x80", "\xf0\x80\x80\x80",
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xe2\x82", "ab\xe2\x82", "\xe2\x82a", "\x80",
		"a\x80b", "€\xbf", "\xf0\x9d\x84", "𝄞\xf0", "\xce", "\xce\xbaό", "\xed\x9f\xbf\xee\x80\x80",
	}
	for _, in := range inputs {
		b := []byte(in)
		want := utf8.Valid(b)
		for i := 0; i <= len(b); i++ {
			for j := i; j <= len(b); j++ {
				var c utf8Checker
				c.write(b[:i])
				c.write(b[i:j])
				c.write(b[j:])
				if got := c.complete(); got != want {
					t.Errorf("utf8Checker(%q cut at %d,%d) = %v, want %v", in, i, j, got, want)
				}
			}
		}
	}
}

// TestUTF8CheckerLose checks that after lost bytes the continuation bytes
// of a code point begun in them are not an error.
func TestUTF8CheckerLose(t *testing.T) {
	var c utf8Checker
	c.write([]byte("ab\xe2"))
	c.lose()
	c.write([]byte("\x82\xacde€"))
	if !c.complete() {
		t.Errorf("utf8Checker(\"ab\\xe2\", lost, \"\\x82\\xacde€\") = invalid, want valid")
	}
	c = utf8Checker{}
	c.lose()
	c.write([]byte("ok\x80"))
	if c.complete() {
		t.Errorf("utf8Checker(lost, \"ok\\x80\") = valid, want invalid")
	}
}
