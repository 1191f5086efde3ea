package display

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SyntaxError reports an expression that cannot be compiled, with the byte
// offset in the expression where the problem starts.
type SyntaxError struct {
	Expr   string // the whole expression
	Offset int    // byte offset in Expr where the problem starts
	Msg    string // what is wrong, in lowercase
}

// Error returns a message such as
// `display filter: offset 12: unknown field "lenn"`.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("display filter: offset %d: %s", e.Offset, e.Msg)
}

// Caret returns the expression on one line and a caret under the offending
// byte on the next, for a terminal:
//
//	type == "ws.message" && lenn > 3
//	                        ^
//
// Control characters in the expression are shown as spaces so that the
// caret stays aligned; a caret past the end points just after it.
func (e *SyntaxError) Caret() string {
	var line strings.Builder
	col := 0
	for i, r := range e.Expr {
		if r < ' ' || r == utf8.RuneError || r == 0x7f {
			r = ' '
		}
		line.WriteRune(r)
		if i < e.Offset {
			col++
		}
	}
	return line.String() + "\n" + strings.Repeat(" ", col) + "^"
}

// tokenKind is the kind of a lexical token.
type tokenKind uint8

const (
	tokEOF    tokenKind = iota
	tokIdent            // a field name or a bare word: letters, digits, _ . - :
	tokNumber           // a word that starts with a digit or -digit: 123, -4, 0x1f, 127.0.0.1:80
	tokString           // "..." with Go escapes
	tokOp               // == != < <= > >= ~ && || ! ( ) { } , ..
)

// token is one lexical token; text is the unquoted value of a string.
type token struct {
	kind tokenKind
	off  int    // byte offset in the expression
	text string // the token as written, or a string's value
}

// lexer splits an expression into tokens.
type lexer struct {
	expr string
	pos  int
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdentByte(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// twoByteOps are the operators of two bytes, tried before one-byte ones.
var twoByteOps = []string{"==", "!=", "<=", ">=", "&&", "||", ".."}

// next returns the next token.
func (l *lexer) next() (token, error) {
	for l.pos < len(l.expr) && (l.expr[l.pos] == ' ' || l.expr[l.pos] == '\t' || l.expr[l.pos] == '\n' || l.expr[l.pos] == '\r') {
		l.pos++
	}
	start := l.pos
	if start >= len(l.expr) {
		return token{kind: tokEOF, off: start}, nil
	}
	c := l.expr[start]
	switch {
	case c == '"' || c == '`' || c == 'r' && strings.HasPrefix(l.expr[start:], `r"`):
		return l.str()
	case isIdentStart(c) || isDigit(c) || c == '-' && start+1 < len(l.expr) && isDigit(l.expr[start+1]):
		// Numbers and words lex alike, so that a bare word such as
		// 127.0.0.1:8080 or 96f6ae43 stays one token; the parser decides
		// what a word starting with a digit is.
		l.pos++
		for l.pos < len(l.expr) && isIdentByte(l.expr[l.pos]) && !strings.HasPrefix(l.expr[l.pos:], "..") {
			l.pos++
		}
		kind := tokIdent
		if !isIdentStart(c) {
			kind = tokNumber
		}
		return token{kind: kind, off: start, text: l.expr[start:l.pos]}, nil
	}
	for _, op := range twoByteOps {
		if strings.HasPrefix(l.expr[start:], op) {
			l.pos += 2
			return token{kind: tokOp, off: start, text: op}, nil
		}
	}
	switch c {
	case '<', '>', '!', '(', ')', '{', '}', ',', '~':
		l.pos++
		return token{kind: tokOp, off: start, text: string(c)}, nil
	case '=':
		return token{}, &SyntaxError{Expr: l.expr, Offset: start, Msg: `"=" is not an operator: compare with "=="`}
	case '&':
		return token{}, &SyntaxError{Expr: l.expr, Offset: start, Msg: `"&" is not an operator: "and" is "&&"`}
	case '|':
		return token{}, &SyntaxError{Expr: l.expr, Offset: start, Msg: `"|" is not an operator: "or" is "||"`}
	case '\'':
		return token{}, &SyntaxError{Expr: l.expr, Offset: start, Msg: `strings are quoted with double quotes ("...")`}
	}
	r, _ := utf8.DecodeRuneInString(l.expr[start:])
	return token{}, &SyntaxError{Expr: l.expr, Offset: start, Msg: fmt.Sprintf("unexpected character %q", r)}
}

// str reads a quoted string. In "..." the escapes \a \b \f \n \r \t \v
// \\ \" \xNN \NNN (octal) \uNNNN and \UNNNNNNNN make one character or
// byte (so binary payloads can be matched); a backslash before any other
// character stays, so regular expressions read naturally: "^\{" is ^\{.
// In a raw string, `...` or r"...", nothing is an escape.
func (l *lexer) str() (token, error) {
	start := l.pos
	i := start
	raw := false
	quote := l.expr[i]
	if quote == 'r' {
		i++
		raw, quote = true, '"'
	} else if quote == '`' {
		raw = true
	}
	i++
	var b []byte
	for i < len(l.expr) {
		c := l.expr[i]
		switch {
		case c == quote:
			l.pos = i + 1
			return token{kind: tokString, off: start, text: string(b)}, nil
		case c == '\\' && !raw:
			n, err := unescape(l.expr[i:], &b)
			if err != "" {
				return token{}, &SyntaxError{Expr: l.expr, Offset: i, Msg: err}
			}
			i += n
			continue
		}
		b = append(b, c)
		i++
	}
	return token{}, &SyntaxError{Expr: l.expr, Offset: start, Msg: "string not closed: a closing " + string(quote) + " is missing"}
}

// unescape decodes the escape at the start of s (s[0] is the backslash),
// appends it to *b and returns the bytes it used, or an error message.
func unescape(s string, b *[]byte) (int, string) {
	if len(s) < 2 {
		return 0, "bad escape: a backslash ends the string"
	}
	c := s[1]
	if simple := strings.IndexByte(`abfnrtv\"`, c); simple >= 0 {
		*b = append(*b, "\a\b\f\n\r\t\v\\\""[simple])
		return 2, ""
	}
	width := 0
	switch {
	case c == 'x':
		width = 2
	case c == 'u':
		width = 4
	case c == 'U':
		width = 8
	case c >= '0' && c <= '7':
		if len(s) < 4 {
			return 0, "bad escape: an octal escape is \\ and three digits"
		}
		v, err := strconv.ParseUint(s[1:4], 8, 8)
		if err != nil {
			return 0, fmt.Sprintf("bad escape %q: an octal escape is \\ and three digits up to \\377", s[:4])
		}
		*b = append(*b, byte(v))
		return 4, ""
	default:
		// Not an escape: the backslash stays (regular expressions).
		*b = append(*b, '\\')
		return 1, ""
	}
	if len(s) < 2+width {
		return 0, fmt.Sprintf("bad escape %q: \\%c takes %d hex digits", s[:min(len(s), 2+width)], c, width)
	}
	v, err := strconv.ParseUint(s[2:2+width], 16, 32)
	if err != nil {
		return 0, fmt.Sprintf("bad escape %q: \\%c takes %d hex digits", s[:2+width], c, width)
	}
	if c == 'x' {
		*b = append(*b, byte(v))
	} else {
		if v > utf8.MaxRune || v >= 0xd800 && v < 0xe000 {
			return 0, fmt.Sprintf("bad escape %q: not a Unicode code point", s[:2+width])
		}
		*b = utf8.AppendRune(*b, rune(v))
	}
	return 2 + width, ""
}
