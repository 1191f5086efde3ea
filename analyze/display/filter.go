package display

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/wsviz/wsviz/analyze"
)

// Limits on what Compile accepts, so that a hostile expression costs little.
const (
	// MaxLength is the longest expression Compile accepts, in bytes.
	MaxLength = 64 << 10
	// MaxDepth bounds the nesting of parentheses and "not".
	MaxDepth = 100
)

// Filter is a compiled display filter. The zero Filter and a nil *Filter
// match every event.
type Filter struct {
	root node
	expr string
}

// Compile parses expr. An empty (or all-blank) expression gives a Filter
// that matches every event. The error is a *SyntaxError with the offset of
// the problem.
func Compile(expr string) (*Filter, error) {
	if len(expr) > MaxLength {
		return nil, &SyntaxError{Expr: expr[:64], Offset: MaxLength, Msg: fmt.Sprintf("expression longer than %d bytes", MaxLength)}
	}
	p := &parser{lex: lexer{expr: expr}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokEOF {
		return &Filter{expr: expr}, nil
	}
	root, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.errorf(p.tok.off, "unexpected %s after a complete expression (missing && or ||?)", p.tok.describe())
	}
	return &Filter{root: root, expr: expr}, nil
}

// Match reports whether ev passes the filter. It allocates nothing,
// unless the filter reads "t" or the name of a reserved frame opcode.
func (f *Filter) Match(ev *analyze.Event) bool {
	if f == nil || f.root == nil {
		return true
	}
	return f.root.match(ev)
}

// Empty reports whether the filter matches every event because its
// expression was empty.
func (f *Filter) Empty() bool { return f == nil || f.root == nil }

// Expr returns the expression as given to Compile.
func (f *Filter) Expr() string {
	if f == nil {
		return ""
	}
	return f.expr
}

// String returns the filter in a canonical form, every operator in its
// symbol form and every binary operation in parentheses. Compiling it
// gives a filter that matches the same events.
func (f *Filter) String() string {
	if f.Empty() {
		return ""
	}
	var b strings.Builder
	f.root.format(&b)
	return b.String()
}

// node is a compiled expression.
type node interface {
	match(ev *analyze.Event) bool
	format(b *strings.Builder)
}

type andNode struct{ l, r node }
type orNode struct{ l, r node }
type notNode struct{ x node }

func (n *andNode) match(ev *analyze.Event) bool { return n.l.match(ev) && n.r.match(ev) }
func (n *orNode) match(ev *analyze.Event) bool  { return n.l.match(ev) || n.r.match(ev) }
func (n *notNode) match(ev *analyze.Event) bool { return !n.x.match(ev) }

func (n *andNode) format(b *strings.Builder) { formatBinary(b, n.l, "&&", n.r) }
func (n *orNode) format(b *strings.Builder)  { formatBinary(b, n.l, "||", n.r) }
func (n *notNode) format(b *strings.Builder) {
	b.WriteString("!(")
	n.x.format(b)
	b.WriteByte(')')
}

func formatBinary(b *strings.Builder, l node, op string, r node) {
	b.WriteByte('(')
	l.format(b)
	b.WriteString(" " + op + " ")
	r.format(b)
	b.WriteByte(')')
}

// quantifier says how a test of a list field combines its elements.
type quantifier uint8

const (
	quantDefault quantifier = iota // any element, except != (no element equal)
	quantAny                       // "any" or "has"
	quantAll                       // "all"
)

// existsNode is a field on its own.
type existsNode struct {
	f     *field
	quant quantifier
}

func (n *existsNode) match(ev *analyze.Event) bool {
	if n.f.list != nil {
		_, ok := n.f.list(ev, 0)
		return ok
	}
	v, ok := n.f.get(ev)
	if !ok {
		return false
	}
	switch v.kind {
	case kindBool:
		return v.bool
	case kindString:
		return v.str != ""
	}
	return true
}

func (n *existsNode) format(b *strings.Builder) {
	if n.quant != quantDefault {
		b.WriteString("has ")
	}
	b.WriteString(n.f.name)
}

// setElem is one element of an "in" set: a value or a range lo..hi.
type setElem struct {
	lo, hi  value
	isRange bool
}

// testNode compares a field with a literal.
type testNode struct {
	f     *field
	quant quantifier
	op    string // == != < <= > >= contains matches in
	lit   value
	set   []setElem
	re    *regexp.Regexp
	src   string // the regular expression as written
}

func (n *testNode) match(ev *analyze.Event) bool {
	if n.f.list == nil {
		v, ok := n.f.get(ev)
		return ok && n.test(v)
	}
	// Any element passes, or all do; a list with no element (the field
	// absent) never passes.
	all := n.quant == quantAll || n.quant == quantDefault && n.op == "!="
	for i := 0; ; i++ {
		v, ok := n.f.list(ev, i)
		if !ok {
			return i > 0 && all
		}
		if n.test(v) != all {
			return !all
		}
	}
}

// test compares one value.
func (n *testNode) test(v value) bool {
	switch n.op {
	case "==":
		return equal(v, n.lit)
	case "!=":
		return !equal(v, n.lit)
	case "<":
		return compare(v, n.lit) < 0
	case "<=":
		return compare(v, n.lit) <= 0
	case ">":
		return compare(v, n.lit) > 0
	case ">=":
		return compare(v, n.lit) >= 0
	case "contains":
		return strings.Contains(v.str, n.lit.str)
	case "matches":
		return n.re.MatchString(v.str)
	case "in":
		for _, e := range n.set {
			if e.isRange {
				if compare(v, e.lo) >= 0 && compare(v, e.hi) <= 0 {
					return true
				}
			} else if equal(v, e.lo) {
				return true
			}
		}
	}
	return false
}

// equal compares a field value with a literal of a kind the field holds.
func equal(v, lit value) bool {
	switch lit.kind {
	case kindNumber:
		return v.kind == kindNumber && cmpNum(v.num, lit.num) == 0
	case kindString:
		return v.str == lit.str // a number's name, or a string
	case kindBool:
		return v.kind == kindBool && v.bool == lit.bool
	}
	return false
}

// compare orders a field value and a literal: numbers by value, strings
// byte by byte.
func compare(v, lit value) int {
	if lit.kind == kindNumber {
		return cmpNum(v.num, lit.num)
	}
	return strings.Compare(v.str, lit.str)
}

func (n *testNode) format(b *strings.Builder) {
	switch n.quant {
	case quantAny:
		b.WriteString("any ")
	case quantAll:
		b.WriteString("all ")
	}
	b.WriteString(n.f.name)
	b.WriteString(" " + n.op + " ")
	switch n.op {
	case "matches":
		b.WriteString(strconv.Quote(n.src))
	case "in":
		b.WriteByte('{')
		for i, e := range n.set {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(formatValue(e.lo))
			if e.isRange {
				b.WriteString("..")
				b.WriteString(formatValue(e.hi))
			}
		}
		b.WriteByte('}')
	default:
		b.WriteString(formatValue(n.lit))
	}
}

func formatValue(v value) string {
	switch v.kind {
	case kindNumber:
		return v.num.String()
	case kindBool:
		return strconv.FormatBool(v.bool)
	}
	return strconv.Quote(v.str)
}

// parser is a recursive-descent parser over the lexer's tokens:
//
//	expr    = and { ("||" | "or") and }
//	and     = unary { ("&&" | "and") unary }
//	unary   = ("!" | "not") unary | "(" expr ")" | test
//	test    = [ "has" | "any" | "all" ] FIELD [ op literal | "in" set ]
//	op      = "==" | "!=" | "<" | "<=" | ">" | ">=" | "contains" | "matches" | "~"
//	          | "eq" | "ne" | "lt" | "le" | "gt" | "ge"
//	set     = "{" elem { [","] elem } "}"
//	elem    = literal [ ".." literal ]
//	literal = NUMBER | STRING | WORD
type parser struct {
	lex lexer
	tok token
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errorf(off int, format string, args ...any) error {
	return &SyntaxError{Expr: p.lex.expr, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// describe names a token in an error message.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of expression"
	case tokString:
		return strconv.Quote(t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// is reports whether the current token is the operator or keyword s.
func (p *parser) is(s ...string) bool {
	if p.tok.kind != tokOp && p.tok.kind != tokIdent {
		return false
	}
	for _, x := range s {
		if p.tok.text == x {
			return true
		}
	}
	return false
}

func (p *parser) or(depth int) (node, error) {
	l, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.is("||", "or") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		l = &orNode{l, r}
	}
	return l, nil
}

func (p *parser) and(depth int) (node, error) {
	l, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.is("&&", "and") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		l = &andNode{l, r}
	}
	return l, nil
}

func (p *parser) unary(depth int) (node, error) {
	if depth >= MaxDepth {
		return nil, p.errorf(p.tok.off, "nested more than %d deep", MaxDepth)
	}
	switch {
	case p.is("!", "not"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &notNode{x}, nil
	case p.is("("):
		open := p.tok.off
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if !p.is(")") {
			if p.tok.kind == tokEOF {
				return nil, p.errorf(open, "this ( is never closed")
			}
			return nil, p.errorf(p.tok.off, "expected ) or an operator, found %s", p.tok.describe())
		}
		return x, p.advance()
	}
	return p.test()
}

// keywords cannot be field names.
var keywords = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "contains": true, "matches": true,
	"has": true, "any": true, "all": true, "eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": true,
}

// wordOps maps the word forms of operators to their symbols.
var wordOps = map[string]string{
	"==": "==", "eq": "==", "!=": "!=", "ne": "!=",
	"<": "<", "lt": "<", "<=": "<=", "le": "<=", ">": ">", "gt": ">", ">=": ">=", "ge": ">=",
	"contains": "contains", "matches": "matches", "~": "matches", "in": "in",
}

func (p *parser) test() (node, error) {
	quant := quantDefault
	if p.tok.kind == tokIdent {
		switch p.tok.text {
		case "has", "any":
			quant = quantAny
		case "all":
			quant = quantAll
		}
		if quant != quantDefault {
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
	}
	if p.tok.kind != tokIdent || keywords[p.tok.text] {
		if p.tok.kind == tokEOF {
			return nil, p.errorf(p.tok.off, "expected a field name, found the end of the expression")
		}
		return nil, p.errorf(p.tok.off, "expected a field name (type, conn, from, len, text, ...), found %s", p.tok.describe())
	}
	nameTok := p.tok
	f := lookupField(nameTok.text)
	if f == nil {
		return nil, p.errorf(nameTok.off, "unknown field %q (the fields are %s)", nameTok.text, strings.Join(FieldNames(), ", "))
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if quant != quantDefault && f.list == nil {
		return nil, p.errorf(nameTok.off, "%q holds one value, not a list: drop the %s", f.name, map[quantifier]string{quantAny: "any/has", quantAll: "all"}[quant])
	}
	opTok := p.tok
	op, isOp := wordOps[opTok.text]
	if opTok.kind != tokOp && opTok.kind != tokIdent || !isOp {
		// The field on its own.
		if quant == quantAll {
			return nil, p.errorf(opTok.off, `"all %s" needs a comparison`, f.name)
		}
		return &existsNode{f: f, quant: quant}, nil
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	n := &testNode{f: f, quant: quant, op: op}
	switch op {
	case "in":
		set, err := p.set(f)
		if err != nil {
			return nil, err
		}
		n.set = set
		return n, nil
	case "contains", "matches":
		if f.kinds&kindString == 0 {
			return nil, p.errorf(opTok.off, "%q holds %s: %s works on strings", f.name, f.kinds, op)
		}
		if p.tok.kind != tokString {
			return nil, p.errorf(p.tok.off, "%s takes a quoted string, found %s", op, p.tok.describe())
		}
		n.lit = strVal(p.tok.text)
		if op == "matches" {
			// Case-insensitive by default, as Wireshark's "matches";
			// (?-i) inside the pattern turns it back on.
			re, err := regexp.Compile("(?i)" + p.tok.text)
			if err != nil {
				return nil, p.errorf(p.tok.off, "bad regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			}
			n.re, n.src = re, p.tok.text
		}
		return n, p.advance()
	}
	lit, err := p.literal(f)
	if err != nil {
		return nil, err
	}
	if lit.kind == kindBool && op != "==" && op != "!=" {
		return nil, p.errorf(opTok.off, "%q is true or false: compare it with == or !=", f.name)
	}
	n.lit = lit
	return n, nil
}

// set parses "{ elem ... }" for field f.
func (p *parser) set(f *field) ([]setElem, error) {
	if !p.is("{") {
		return nil, p.errorf(p.tok.off, "in takes a set such as {1 2 5..9}, found %s", p.tok.describe())
	}
	open := p.tok.off
	if err := p.advance(); err != nil {
		return nil, err
	}
	var set []setElem
	for !p.is("}") {
		if p.tok.kind == tokEOF {
			return nil, p.errorf(open, "this { is never closed")
		}
		lo, err := p.literal(f)
		if err != nil {
			return nil, err
		}
		e := setElem{lo: lo}
		if p.is("..") {
			dots := p.tok.off
			if err := p.advance(); err != nil {
				return nil, err
			}
			hi, err := p.literal(f)
			if err != nil {
				return nil, err
			}
			if lo.kind == kindBool || hi.kind != lo.kind {
				return nil, p.errorf(dots, "a range needs two numbers or two strings")
			}
			e.hi, e.isRange = hi, true
		}
		set = append(set, e)
		if p.is(",") {
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
	}
	if len(set) == 0 {
		return nil, p.errorf(open, "the set is empty")
	}
	return set, p.advance()
}

// literal parses a value to compare field f with, and checks that f holds
// values of its kind.
func (p *parser) literal(f *field) (value, error) {
	t := p.tok
	var v value
	switch t.kind {
	case tokString:
		v = strVal(t.text)
	case tokNumber:
		if n, ok := parseNumber(t.text); ok {
			v = value{kind: kindNumber, num: n}
		} else if f.kinds&kindString != 0 {
			v = strVal(t.text) // a bare word such as 127.0.0.1:8080
		} else {
			return value{}, p.errorf(t.off, "%q is not a number (%q holds %s)", t.text, f.name, f.kinds)
		}
	case tokIdent:
		switch {
		case f.kinds&kindBool != 0 && (t.text == "true" || t.text == "false"):
			v = boolVal(t.text == "true")
		case f.kinds&kindString != 0 && !keywords[t.text]:
			v = strVal(t.text) // a bare word: client, ws.message, tcp.gap
		case lookupField(t.text) != nil:
			return value{}, p.errorf(t.off, "comparing two fields is not supported: %q is a field", t.text)
		default:
			return value{}, p.errorf(t.off, "%q holds %s, found %s", f.name, f.kinds, t.describe())
		}
	case tokEOF:
		return value{}, p.errorf(t.off, "expected a value to compare %q with, found the end of the expression", f.name)
	default:
		return value{}, p.errorf(t.off, "expected a value to compare %q with, found %s", f.name, t.describe())
	}
	if f.kinds&v.kind == 0 {
		return value{}, p.errorf(t.off, "%q holds %s, not %s", f.name, f.kinds, v.kind)
	}
	return v, p.advance()
}

// parseNumber reads a decimal, 0x hex, 0o octal or 0b binary integer with
// an optional minus sign, up to 2^64-1 in magnitude.
func parseNumber(s string) (number, bool) {
	neg := strings.HasPrefix(s, "-")
	u, err := strconv.ParseUint(strings.TrimPrefix(s, "-"), 0, 64)
	if err != nil {
		return number{}, false
	}
	return number{neg: neg, mag: u}, true
}
