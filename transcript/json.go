package transcript

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxJSONDepth bounds the nesting of a payload read as JSON; a deeper one
// is written as text (captured payloads are hostile).
const maxJSONDepth = 200

// ignored replaces the values an Ignore path selects.
const ignored = `"<ignored>"`

// jsonValue is a parsed JSON value. Objects keep every member, duplicates
// included, so that canonicalising never hides a difference.
type jsonValue struct {
	kind    byte   // '{', '[', or 0 for a scalar
	scalar  string // a scalar's canonical text
	keys    []string
	members []*jsonValue // object members (with keys) or array elements
}

// parseJSON reads one JSON object or array. It returns false for
// anything else (a bare scalar, trailing bytes, invalid UTF-8, too deep).
func parseJSON(p []byte) (*jsonValue, bool) {
	p = bytes.TrimSpace(p)
	if len(p) == 0 || (p[0] != '{' && p[0] != '[') || !utf8.Valid(p) {
		return nil, false
	}
	d := json.NewDecoder(bytes.NewReader(p))
	d.UseNumber()
	v, err := readJSON(d, 0)
	if err != nil {
		return nil, false
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, false
	}
	return v, true
}

var errTooDeep = errors.New("too deep")

func readJSON(d *json.Decoder, depth int) (*jsonValue, error) {
	if depth > maxJSONDepth {
		return nil, errTooDeep
	}
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		v := &jsonValue{kind: byte(t)}
		if t != '{' && t != '[' {
			return nil, fmt.Errorf("unexpected %v", t)
		}
		for d.More() {
			if t == '{' {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				ks, ok := k.(string)
				if !ok {
					return nil, errors.New("bad key")
				}
				v.keys = append(v.keys, ks)
			}
			m, err := readJSON(d, depth+1)
			if err != nil {
				return nil, err
			}
			v.members = append(v.members, m)
		}
		if _, err := d.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		if t == '{' {
			v.sortMembers()
		}
		return v, nil
	case string:
		return &jsonValue{scalar: string(appendJSONString(nil, t))}, nil
	case json.Number:
		return &jsonValue{scalar: t.String()}, nil
	case bool:
		return &jsonValue{scalar: strconv.FormatBool(t)}, nil
	case nil:
		return &jsonValue{scalar: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// sortMembers orders an object's members by key; members with the same key
// keep their order.
func (v *jsonValue) sortMembers() {
	idx := make([]int, len(v.keys))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(v.keys[a], v.keys[b]) })
	keys := make([]string, len(idx))
	members := make([]*jsonValue, len(idx))
	for i, j := range idx {
		keys[i], members[i] = v.keys[j], v.members[j]
	}
	v.keys, v.members = keys, members
}

// appendCanonical writes v without spaces, object keys sorted.
func (v *jsonValue) appendCanonical(b []byte) []byte {
	switch v.kind {
	case '{':
		b = append(b, '{')
		for i, m := range v.members {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, v.keys[i])
			b = append(b, ':')
			b = m.appendCanonical(b)
		}
		return append(b, '}')
	case '[':
		b = append(b, '[')
		for i, m := range v.members {
			if i > 0 {
				b = append(b, ',')
			}
			b = m.appendCanonical(b)
		}
		return append(b, ']')
	}
	return append(b, v.scalar...)
}

// appendJSONString writes s as a JSON string, escaping only what JSON
// requires (quote, backslash, control characters), so that text stays
// readable.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// canonicalJSON returns p canonicalised with the ignore paths applied, or
// false when p is not a JSON object or array.
func canonicalJSON(p []byte, ignore []*jsonPath) ([]byte, bool) {
	v, ok := parseJSON(p)
	if !ok {
		return nil, false
	}
	for _, path := range ignore {
		path.apply(v)
	}
	return v.appendCanonical(nil), true
}

// jsonPath is a compiled JSONPath expression: the subset of RFC 9535 that
// names fields ("$.a.b", "$['a b']"), elements ("$.a[0]", "$.a[-1]"),
// wildcards ("$.a[*]", "$.*") and descendants ("$..id").
type jsonPath struct {
	expr  string
	steps []pathStep
}

type pathStep struct {
	descend bool   // ".." : this step applies at any depth below
	any     bool   // "*" or "[*]"
	name    string // a member name, when !any and !isIndex
	isIndex bool
	index   int
}

// compilePath parses a JSONPath expression.
func compilePath(expr string) (*jsonPath, error) {
	p := &jsonPath{expr: expr}
	s := strings.TrimSpace(expr)
	fail := func(at int, msg string) error {
		return fmt.Errorf("transcript: JSONPath %q: %s at offset %d", expr, msg, at)
	}
	if !strings.HasPrefix(s, "$") {
		return nil, fail(0, "must start with $")
	}
	i := 1
	for i < len(s) {
		var st pathStep
		switch {
		case strings.HasPrefix(s[i:], ".."):
			st.descend = true
			i += 2
			if i < len(s) && s[i] == '[' {
				break
			}
			fallthrough
		case s[i] == '.':
			if !st.descend {
				i++
			}
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			if j == i {
				return nil, fail(i, "missing name")
			}
			if s[i:j] == "*" {
				st.any = true
			} else {
				st.name = s[i:j]
			}
			i = j
			p.steps = append(p.steps, st)
			continue
		case s[i] != '[':
			return nil, fail(i, fmt.Sprintf("unexpected %q", s[i]))
		}
		// A bracket: [*], [N], ['name'] or ["name"].
		end := strings.IndexByte(s[i:], ']')
		if end < 0 {
			return nil, fail(i, "unclosed [")
		}
		inner := s[i+1 : i+end]
		switch {
		case inner == "*":
			st.any = true
		case len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0]:
			st.name = inner[1 : len(inner)-1]
		default:
			n, err := strconv.Atoi(inner)
			if err != nil {
				return nil, fail(i+1, fmt.Sprintf("%q is neither *, an index nor a quoted name", inner))
			}
			st.isIndex, st.index = true, n
		}
		i += end + 1
		p.steps = append(p.steps, st)
	}
	if len(p.steps) == 0 {
		return nil, fail(len(s), "selects the whole message")
	}
	return p, nil
}

// compilePaths compiles every expression.
func compilePaths(exprs []string) ([]*jsonPath, error) {
	var paths []*jsonPath
	for _, e := range exprs {
		p, err := compilePath(e)
		if err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// apply replaces every value the path selects in v.
func (p *jsonPath) apply(v *jsonValue) {
	applySteps(v, p.steps)
}

func applySteps(v *jsonValue, steps []pathStep) {
	if len(steps) == 0 || v.kind == 0 {
		return
	}
	st, rest := steps[0], steps[1:]
	for i, m := range v.members {
		if st.matches(v, i) {
			if len(rest) == 0 {
				v.members[i] = &jsonValue{scalar: ignored}
				continue
			}
			applySteps(m, rest)
		}
	}
	if st.descend {
		for _, m := range v.members {
			if m.kind != 0 {
				applySteps(m, steps)
			}
		}
	}
}

// matches reports whether member i of v is selected by the step.
func (st pathStep) matches(v *jsonValue, i int) bool {
	switch {
	case st.any:
		return true
	case st.isIndex:
		if v.kind != '[' {
			return false
		}
		idx := st.index
		if idx < 0 {
			idx += len(v.members)
		}
		return i == idx
	default:
		return v.kind == '{' && v.keys[i] == st.name
	}
}
