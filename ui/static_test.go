package ui

import (
	"io/fs"
	"regexp"
	"slices"
	"testing"
)

// TestIndexPreloadsEveryModule checks that index.html names every module
// the page runs (app.js and all it imports) as a script or a
// modulepreload: the browser then fetches them all at once instead of one
// level of imports after the other, which the first marks waited for.
func TestIndexPreloadsEveryModule(t *testing.T) {
	index, err := staticFiles.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, m := range regexp.MustCompile(`<(?:script type="module" src|link rel="modulepreload" href)="/static/([a-z]+\.js)"`).FindAllSubmatch(index, -1) {
		named[string(m[1])] = true
	}
	importRE := regexp.MustCompile(`(?m)^import [^;]* from '\./([a-z]+\.js)';`)
	need := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		if need[name] {
			return
		}
		need[name] = true
		src, err := fs.ReadFile(staticFiles, "static/"+name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, m := range importRE.FindAllSubmatch(src, -1) {
			visit(string(m[1]))
		}
	}
	visit("app.js")
	var missing []string
	for name := range need {
		if !named[name] {
			missing = append(missing, name)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("index.html neither loads nor preloads %v (add <link rel=\"modulepreload\" href=\"/static/NAME\">)", missing)
	}
	if len(need) < 10 {
		t.Errorf("found %d modules from app.js; the import pattern no longer matches the page's imports", len(need))
	}
}
