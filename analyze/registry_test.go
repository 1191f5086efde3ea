package analyze

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// eventsDoc is the document whose tables the registry generates.
var eventsDoc = filepath.Join("..", "docs", "events.md")

// TestRegistryWellFormed checks the registry's own rules: unique names, a
// description on one line for each, codes only on event types that exist.
func TestRegistryWellFormed(t *testing.T) {
	name := regexp.MustCompile(`^[a-z][a-z0-9]*\.[a-z][a-z0-9_]*$`)
	types := map[string]bool{}
	for _, e := range EventTypes() {
		if types[e.Type] || !name.MatchString(e.Type) {
			t.Errorf("event type %q is repeated or not of the form layer.name", e.Type)
		}
		types[e.Type] = true
		if e.Description == "" || strings.ContainsAny(e.Description, "\n|") {
			t.Errorf("event type %s: description %q is empty or not one table cell", e.Type, e.Description)
		}
	}
	seen := map[string]bool{}
	for _, c := range Codes() {
		if seen[c.Code] || !name.MatchString(c.Code) {
			t.Errorf("code %q is repeated or not of the form layer.name", c.Code)
		}
		seen[c.Code] = true
		if c.Description == "" || strings.ContainsAny(c.Description+c.RFC, "\n|") {
			t.Errorf("code %s: description %q or RFC %q is empty or not one table cell", c.Code, c.Description, c.RFC)
		}
		if c.RFC != "" && !strings.HasPrefix(c.RFC, "RFC ") {
			t.Errorf("code %s: RFC %q does not name an RFC", c.Code, c.RFC)
		}
		if len(c.Events) == 0 {
			t.Errorf("code %s is on no event type", c.Code)
		}
		for _, typ := range c.Events {
			if !types[typ] {
				t.Errorf("code %s is on event type %q, which the registry does not list", c.Code, typ)
			}
		}
		if got, ok := LookupCode(c.Code); !ok || got.Code != c.Code {
			t.Errorf("LookupCode(%q) = %v, %v", c.Code, got, ok)
		}
	}
	if _, ok := LookupCode("ws.no_such_code"); ok {
		t.Errorf("LookupCode(ws.no_such_code) found it")
	}
}

// decoderDirs hold the code that can raise warnings: the analyzer, its
// decoders, capture (IP reassembly and tunnels) and the command (live
// capture statistics).
var decoderDirs = []string{".", filepath.Join("..", "capture"), filepath.Join("..", "cmd", "wsviz")}

// layerPrefixes are the layers a code or event type may be named after:
// those the registry uses and those a new decoder would use. A string
// literal in a decoder of the form layer.name with one of them is an event
// type or a warning code.
func layerPrefixes() map[string]bool {
	p := map[string]bool{"ip": true, "ipv4": true, "ipv6": true, "tls": true, "http2": true, "tunnel": true}
	for _, e := range EventTypes() {
		p[strings.SplitN(e.Type, ".", 2)[0]] = true
	}
	for _, c := range Codes() {
		p[strings.SplitN(c.Code, ".", 2)[0]] = true
	}
	return p
}

// decoderLiterals returns every string literal of the form layer.name in
// the non-test Go files under decoderDirs, with where each was found.
func decoderLiterals(t *testing.T) map[string]string {
	t.Helper()
	prefixes := layerPrefixes()
	name := regexp.MustCompile(`^([a-z][a-z0-9]*)\.[a-z][a-z0-9_]*$`)
	found := map[string]string{}
	for _, dir := range decoderDirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			if slices.ContainsFunc(f.Comments, func(g *ast.CommentGroup) bool {
				return strings.Contains(g.Text(), "//go:build ignore") || strings.HasPrefix(g.Text(), "go:build ignore")
			}) {
				return nil
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if m := name.FindStringSubmatch(s); err == nil && m != nil && prefixes[m[1]] {
					if _, dup := found[s]; !dup {
						found[s] = fset.Position(lit.Pos()).String()
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return found
}

// TestRegistryMatchesDecoders fails when a decoder names a code or event
// type the registry lacks, or the registry lists one no decoder names: the
// code, the docs and the page cannot disagree.
func TestRegistryMatchesDecoders(t *testing.T) {
	lits := decoderLiterals(t)
	known := map[string]bool{}
	for _, e := range EventTypes() {
		known[e.Type] = true
		if _, ok := lits[e.Type]; !ok {
			t.Errorf("the registry lists event type %s, which no decoder names", e.Type)
		}
	}
	for _, c := range Codes() {
		known[c.Code] = true
		if _, ok := lits[c.Code]; !ok {
			t.Errorf("the registry lists code %s, which no decoder raises", c.Code)
		}
	}
	for s, where := range lits {
		if !known[s] {
			t.Errorf("%s: %q is neither an event type nor a code in the registry (analyze/registry.go)", where, s)
		}
	}
}

// checkRegistered fails when an event carries a warning whose code the
// registry does not list for its event type.
func checkRegistered(t *testing.T, ev *Event) {
	t.Helper()
	for _, w := range ev.Warnings {
		c, ok := LookupCode(w.Code)
		if !ok || !slices.Contains(c.Events, ev.Type) {
			t.Errorf("a %s event carries %s, which the registry does not list for it: %s", ev.Type, w.Code, ev.AppendJSON(nil))
		}
	}
}

// unscriptable are the codes no capture file can show.
var unscriptable = map[string]string{
	"capture.drops": "only live captures count kernel drops (cmd/wsviz's live tests show it)",
}

// TestViolationsCoverRegistry checks that every code has its capture in
// testdata/violations (TestViolations), which wsviz's golden tests pin.
func TestViolationsCoverRegistry(t *testing.T) {
	scripted := map[string]bool{}
	for _, v := range violations {
		scripted[v.code] = true
		c, ok := LookupCode(v.code)
		if !ok {
			t.Errorf("violation %s is not a code in the registry", v.code)
		} else if !slices.Contains(c.Events, v.on) {
			t.Errorf("violation %s is shown on %s, which the registry does not list for it (%v)", v.code, v.on, c.Events)
		}
	}
	for _, c := range Codes() {
		if !scripted[c.Code] && unscriptable[c.Code] == "" {
			t.Errorf("code %s has no capture in testdata/violations: add a script to violations", c.Code)
		}
	}
}

// TestRegistryDocs checks that docs/events.md holds the tables the
// registry generates; go test ./analyze -run TestRegistryDocs -update
// rewrites them.
func TestRegistryDocs(t *testing.T) {
	doc, err := os.ReadFile(eventsDoc)
	if err != nil {
		t.Fatal(err)
	}
	got := doc
	for _, table := range []struct{ name, text string }{
		{"event-types", eventTypesTable()},
		{"codes", codesTable()},
	} {
		begin, end := []byte("<!-- registry:"+table.name+" -->\n"), []byte("<!-- /registry:"+table.name+" -->")
		i, j := bytes.Index(got, begin), bytes.Index(got, end)
		if i < 0 || j < i {
			t.Fatalf("%s lacks the markers %s and %s around the generated table", eventsDoc, begin, end)
		}
		got = slices.Concat(got[:i+len(begin)], []byte(table.text), got[j:])
	}
	if *update {
		if err := os.WriteFile(eventsDoc, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, doc) {
		t.Errorf("the tables in %s differ from the registry: run go test ./analyze -run TestRegistryDocs -update", eventsDoc)
	}
}

// eventTypesTable is docs/events.md's table of event types.
func eventTypesTable() string {
	var b strings.Builder
	b.WriteString("| type | what it means |\n|---|---|\n")
	for _, e := range EventTypes() {
		b.WriteString("| [`" + e.Type + "`](#" + strings.ReplaceAll(e.Type, ".", "") + ") | " + e.Description + " |\n")
	}
	return b.String()
}

// codesTable is docs/events.md's table of warning codes.
func codesTable() string {
	var b strings.Builder
	b.WriteString("| code | on | rule | what it means |\n|---|---|---|---|\n")
	for _, c := range Codes() {
		on := make([]string, len(c.Events))
		for i, e := range c.Events {
			on[i] = "`" + e + "`"
		}
		rule := c.RFC
		if rule == "" {
			rule = "—"
		}
		b.WriteString("| `" + c.Code + "` | " + strings.Join(on, ", ") + " | " + rule + " | " + c.Description + " |\n")
	}
	return b.String()
}
