package filter

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// SyntaxError reports an expression that cannot be parsed, with the byte
// offset where the problem was found.
type SyntaxError struct {
	Expr   string // the whole expression
	Offset int    // byte offset of the offending token in Expr
	Msg    string // what was wrong, in lowercase
}

// Error returns "filter: EXPR at offset N: MSG".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("filter: %q at offset %d: %s", e.Expr, e.Offset, e.Msg)
}

// Filter is a parsed filter expression, independent of any link type. The
// zero of an expression, Parse(""), matches every packet.
type Filter struct {
	text string
	root node // nil matches everything
}

// Parse parses a tcpdump-style expression (see the package comment). An
// empty or all-blank expression matches every packet.
func Parse(expr string) (*Filter, error) {
	p := &parser{expr: expr}
	if err := p.lex(); err != nil {
		return nil, err
	}
	f := &Filter{text: strings.TrimSpace(expr)}
	if len(p.toks) == 0 {
		return f, nil
	}
	root, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errorf(t, "unexpected %q", t.text)
	}
	f.root = root
	return f, nil
}

// MustParse is like Parse but panics when the expression does not parse.
// It is meant for expressions written in the program, not for user input.
func MustParse(expr string) *Filter {
	f, err := Parse(expr)
	if err != nil {
		panic(err)
	}
	return f
}

// String returns the expression as written (blanks trimmed); expressions
// joined with And are parenthesized.
func (f *Filter) String() string { return f.text }

// Empty reports whether the filter matches every packet because its
// expression was empty.
func (f *Filter) Empty() bool { return f.root == nil }

// And returns a filter that matches packets matched by both f and g. An
// empty filter on either side leaves the other unchanged.
func (f *Filter) And(g *Filter) *Filter {
	switch {
	case f.Empty():
		return g
	case g.Empty():
		return f
	}
	return &Filter{
		text: "(" + f.text + ") and (" + g.text + ")",
		root: &binaryNode{and: true, l: f.root, r: g.root},
	}
}

// OrEncapsulated returns a filter that matches what f matches and every
// packet that may carry, once reassembled or unwrapped, a packet f
// matches: IPv4 and IPv6 fragments, the tunnels capture.DecodeTCP
// unwraps (GRE, IP-in-IP, 6in4, VXLAN, Geneve, GRE in UDP, MPLS), and
// VLAN-tagged and PPPoE frames, past whose headers the filter's tests
// cannot see. A live
// capture filters with it in the kernel; the precise test of f on the
// inner packets is the capture.Decoder's (DecoderOptions.Filter). An
// empty f stays empty: it already matches everything.
func (f *Filter) OrEncapsulated() *Filter {
	if f.Empty() {
		return f
	}
	return &Filter{
		text: "(" + f.text + ") or <IP fragments and tunnels>",
		root: &binaryNode{l: f.root, r: &encapNode{}},
	}
}

// ExcludePort returns a filter matching packets with port as neither their
// TCP or UDP source nor destination port, that is "not port N".
func ExcludePort(port uint16) *Filter {
	return MustParse("not port " + strconv.Itoa(int(port)))
}

// The syntax tree.

type node interface{ isNode() }

type binaryNode struct {
	and  bool // "and" when true, "or" when false
	l, r node
}

type notNode struct{ x node }

// encapNode matches the packets OrEncapsulated adds.
type encapNode struct{}

// Protocol qualifiers.
type proto uint8

const (
	protoAny proto = iota
	protoIP
	protoIP6
	protoTCP
	protoUDP
)

// Direction qualifiers.
type dir uint8

const (
	dirSrcOrDst dir = iota // the default
	dirSrc
	dirDst
	dirSrcAndDst
)

// Type qualifiers.
type kind uint8

const (
	kindProto     kind = iota // a protocol alone: "tcp", "ip6"
	kindHost                  // host ADDR
	kindNet                   // net CIDR
	kindPort                  // port N
	kindPortRange             // portrange N-M
)

// primNode is one primitive. For kindHost the prefix covers one address.
type primNode struct {
	proto  proto
	dir    dir
	kind   kind
	prefix netip.Prefix
	lo, hi uint16
}

func (*binaryNode) isNode() {}
func (*notNode) isNode()    {}
func (*primNode) isNode()   {}
func (*encapNode) isNode()  {}

// The lexer.

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokWord
	tokLParen
	tokRParen
	tokAnd // "and", "&&"
	tokOr  // "or", "||"
	tokNot // "not", "!"
)

type token struct {
	kind tokKind
	text string
	off  int
}

type parser struct {
	expr string
	toks []token
	pos  int
	// last holds the qualifiers of the last host/net/port primitive, which
	// a bare ID reuses ("port 80 or 443").
	last *primNode
}

func (p *parser) lex() error {
	s := p.expr
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			p.toks = append(p.toks, token{tokLParen, "(", i})
			i++
		case c == ')':
			p.toks = append(p.toks, token{tokRParen, ")", i})
			i++
		case c == '!':
			p.toks = append(p.toks, token{tokNot, "!", i})
			i++
		case strings.HasPrefix(s[i:], "&&"):
			p.toks = append(p.toks, token{tokAnd, "&&", i})
			i += 2
		case strings.HasPrefix(s[i:], "||"):
			p.toks = append(p.toks, token{tokOr, "||", i})
			i += 2
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			w := s[i:j]
			k := tokWord
			switch w {
			case "and":
				k = tokAnd
			case "or":
				k = tokOr
			case "not":
				k = tokNot
			}
			p.toks = append(p.toks, token{k, w, i})
			i = j
		default:
			return &SyntaxError{Expr: p.expr, Offset: i, Msg: fmt.Sprintf("unexpected character %q", c)}
		}
	}
	return nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == ':' || c == '/' || c == '-' || c == '_' || c == '%'
}

func (p *parser) peek() token {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return token{kind: tokEOF, off: len(p.expr)}
}

func (p *parser) peekAt(n int) token {
	if p.pos+n < len(p.toks) {
		return p.toks[p.pos+n]
	}
	return token{kind: tokEOF, off: len(p.expr)}
}

func (p *parser) next() token {
	t := p.peek()
	if p.pos < len(p.toks) {
		p.pos++
	}
	return t
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return &SyntaxError{Expr: p.expr, Offset: t.off, Msg: fmt.Sprintf(format, args...)}
}

// maxDepth bounds nesting so that a hostile expression cannot exhaust the
// stack.
const maxDepth = 100

// parseExpr parses terms joined by "and" and "or", which have equal
// precedence and group from the left, as in pcap-filter(7).
func (p *parser) parseExpr() (node, error) {
	return p.parseExprDepth(0)
}

func (p *parser) parseExprDepth(depth int) (node, error) {
	x, err := p.parseTerm(depth)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tokAnd && t.kind != tokOr {
			return x, nil
		}
		p.next()
		y, err := p.parseTerm(depth)
		if err != nil {
			return nil, err
		}
		x = &binaryNode{and: t.kind == tokAnd, l: x, r: y}
	}
}

func (p *parser) parseTerm(depth int) (node, error) {
	t := p.peek()
	if depth > maxDepth {
		return nil, p.errorf(t, "expression nested too deeply")
	}
	switch t.kind {
	case tokNot:
		p.next()
		x, err := p.parseTerm(depth + 1)
		if err != nil {
			return nil, err
		}
		return &notNode{x: x}, nil
	case tokLParen:
		p.next()
		x, err := p.parseExprDepth(depth + 1)
		if err != nil {
			return nil, err
		}
		if r := p.next(); r.kind != tokRParen {
			return nil, p.errorf(r, "expected \")\" to close the \"(\" at offset %d", t.off)
		}
		return x, nil
	case tokWord:
		return p.parsePrimitive()
	case tokEOF:
		return nil, p.errorf(t, "expression ends where a primitive was expected")
	}
	return nil, p.errorf(t, "expected a primitive, got %q", t.text)
}

var protoWords = map[string]proto{"ip": protoIP, "ip6": protoIP6, "tcp": protoTCP, "udp": protoUDP}

var kindWords = map[string]kind{"host": kindHost, "net": kindNet, "port": kindPort, "portrange": kindPortRange}

func isKeyword(w string) bool {
	_, isProto := protoWords[w]
	_, isKind := kindWords[w]
	return isProto || isKind || w == "src" || w == "dst"
}

func (p *parser) parsePrimitive() (node, error) {
	start := p.peek()
	prim := &primNode{}
	var hasProto, hasDir, hasKind bool

	if pr, ok := protoWords[p.peek().text]; ok {
		p.next()
		prim.proto, hasProto = pr, true
	}
	if w := p.peek().text; p.peek().kind == tokWord && (w == "src" || w == "dst") {
		p.next()
		hasDir = true
		prim.dir = dirSrc
		if w == "dst" {
			prim.dir = dirDst
		}
		// "src or dst" and "src and dst" are directions, not operators.
		if op, other := p.peek(), p.peekAt(1); (op.kind == tokAnd || op.kind == tokOr) &&
			other.kind == tokWord && (other.text == "src" || other.text == "dst") && other.text != w {
			p.next()
			p.next()
			prim.dir = dirSrcOrDst
			if op.kind == tokAnd {
				prim.dir = dirSrcAndDst
			}
		}
	}
	if k, ok := kindWords[p.peek().text]; ok && p.peek().kind == tokWord {
		p.next()
		prim.kind, hasKind = k, true
	}

	id := p.peek()
	if id.kind != tokWord || isKeyword(id.text) {
		switch {
		case hasProto && !hasDir && !hasKind:
			prim.kind = kindProto
			return prim, nil
		case id.kind == tokEOF:
			return nil, p.errorf(id, "expression ends where an address or port was expected")
		}
		return nil, p.errorf(id, "expected an address or port, got %q", id.text)
	}
	p.next()

	if !hasProto && !hasDir && !hasKind {
		if p.last != nil {
			// A bare ID reuses the qualifiers before it (pcap-filter(7)).
			prim.proto, prim.dir, prim.kind = p.last.proto, p.last.dir, p.last.kind
			hasKind = true
		}
	}
	if !hasKind {
		// The type defaults to host; a prefix length makes it a net.
		prim.kind = kindHost
		if strings.Contains(id.text, "/") {
			prim.kind = kindNet
		}
	}
	if err := p.parseID(prim, id); err != nil {
		return nil, err
	}
	if err := p.check(prim, start); err != nil {
		return nil, err
	}
	p.last = prim
	return prim, nil
}

// parseID reads the primitive's ID according to its type.
func (p *parser) parseID(prim *primNode, id token) error {
	switch prim.kind {
	case kindHost:
		a, err := netip.ParseAddr(id.text)
		if err != nil || a.Zone() != "" {
			if strings.Contains(id.text, "/") {
				return p.errorf(id, "host needs an address, got the prefix %q (use net)", id.text)
			}
			return p.errorf(id, "host needs an IP address, got %q (names are not resolved)", id.text)
		}
		prim.prefix = netip.PrefixFrom(a, a.BitLen())
	case kindNet:
		var pfx netip.Prefix
		var err error
		if strings.Contains(id.text, "/") {
			pfx, err = netip.ParsePrefix(id.text)
		} else {
			var a netip.Addr
			a, err = netip.ParseAddr(id.text)
			if err == nil {
				pfx = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil || pfx.Addr().Zone() != "" {
			return p.errorf(id, "net needs a CIDR prefix like 10.0.0.0/8, got %q", id.text)
		}
		if pfx.Masked() != pfx {
			return p.errorf(id, "net %s has bits set outside its /%d prefix (did you mean %s?)", id.text, pfx.Bits(), pfx.Masked())
		}
		prim.prefix = pfx
	case kindPort:
		n, ok := parsePort(id.text)
		if !ok {
			return p.errorf(id, "port needs a number from 0 to 65535, got %q", id.text)
		}
		prim.lo, prim.hi = n, n
	case kindPortRange:
		a, b, found := strings.Cut(id.text, "-")
		lo, okLo := parsePort(a)
		hi, okHi := parsePort(b)
		if !found || !okLo || !okHi {
			return p.errorf(id, "portrange needs two port numbers like 8000-8080, got %q", id.text)
		}
		if lo > hi {
			return p.errorf(id, "portrange %q starts after it ends", id.text)
		}
		prim.lo, prim.hi = lo, hi
	}
	return nil
}

// check rejects qualifier combinations that make no sense.
func (p *parser) check(prim *primNode, start token) error {
	switch prim.kind {
	case kindHost, kindNet:
		v6 := prim.prefix.Addr().Is6()
		switch {
		case prim.proto == protoTCP || prim.proto == protoUDP:
			return p.errorf(start, "%q applies to ports, not to addresses", start.text)
		case prim.proto == protoIP && v6:
			return p.errorf(start, "\"ip\" qualifies an IPv6 address")
		case prim.proto == protoIP6 && !v6:
			return p.errorf(start, "\"ip6\" qualifies an IPv4 address")
		}
	}
	return nil
}

func parsePort(s string) (uint16, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, false
	}
	return uint16(n), true
}
