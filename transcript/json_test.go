package transcript

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestCanonicalJSON(t *testing.T) {
	tests := []struct {
		name, in string
		ignore   []string
		want     string // "" when the input is not read as JSON
	}{
		{"keys sorted", `{"b":1, "a": {"d":[1, 2], "c":null}}`, nil, `{"a":{"c":null,"d":[1,2]},"b":1}`},
		{"array", ` [ true, false, "x" ] `, nil, `[true,false,"x"]`},
		{"numbers kept as written", `{"n":1.50,"e":1e3,"i":-0}`, nil, `{"e":1e3,"i":-0,"n":1.50}`},
		{"duplicate keys kept in order", `{"a":2,"b":0,"a":1}`, nil, `{"a":2,"a":1,"b":0}`},
		{"escapes only what JSON needs", `{"s":"<tag> & \u00e9 \" \\ \n \u0001 \u2028"}`, nil, "{\"s\":\"<tag> & é \\\" \\\\ \\n \\u0001 \u2028\"}"},
		{"empty containers", `{"a":{},"b":[]}`, nil, `{"a":{},"b":[]}`},
		{"a scalar is text", `42`, nil, ""},
		{"a string is text", `"hello"`, nil, ""},
		{"trailing bytes", `{"a":1} {"b":2}`, nil, ""},
		{"broken", `{"a":`, nil, ""},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", nil, ""},
		{"too deep", strings.Repeat("[", maxJSONDepth+2) + strings.Repeat("]", maxJSONDepth+2), nil, ""},
		{"deep enough", strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth), nil, strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth)},
		{"ignore a field", `{"id":7,"text":"hi"}`, []string{"$.id"}, `{"id":"<ignored>","text":"hi"}`},
		{"ignore a missing field", `{"text":"hi"}`, []string{"$.id"}, `{"text":"hi"}`},
		{"ignore nested", `{"a":{"b":{"c":1,"d":2}}}`, []string{"$.a.b.c"}, `{"a":{"b":{"c":"<ignored>","d":2}}}`},
		{"ignore bracket name", `{"a b":1,"c":2}`, []string{"$['a b']"}, `{"a b":"<ignored>","c":2}`},
		{"ignore every element's field", `{"items":[{"id":1,"v":"x"},{"id":2,"v":"y"}]}`, []string{"$.items[*].id"}, `{"items":[{"id":"<ignored>","v":"x"},{"id":"<ignored>","v":"y"}]}`},
		{"ignore an index", `[10,20,30]`, []string{"$[1]"}, `[10,"<ignored>",30]`},
		{"ignore the last element", `[10,20,30]`, []string{"$[-1]"}, `[10,20,"<ignored>"]`},
		{"ignore at any depth", `{"ts":1,"a":{"ts":2,"b":[{"ts":3}]}}`, []string{"$..ts"}, `{"a":{"b":[{"ts":"<ignored>"}],"ts":"<ignored>"},"ts":"<ignored>"}`},
		{"ignore every member", `{"a":1,"b":{"c":2}}`, []string{"$.*"}, `{"a":"<ignored>","b":"<ignored>"}`},
		{"ignore a duplicate key's every value", `{"a":1,"a":2}`, []string{"$.a"}, `{"a":"<ignored>","a":"<ignored>"}`},
		{"ignore two paths", `{"id":1,"at":"now","x":0}`, []string{"$.id", "$.at"}, `{"at":"<ignored>","id":"<ignored>","x":0}`},
		{"index on an object selects nothing", `{"0":1}`, []string{"$[0]"}, `{"0":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			paths, err := compilePaths(tc.ignore)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := canonicalJSON([]byte(tc.in), paths)
			if tc.want == "" {
				if ok {
					t.Errorf("canonicalJSON(%q) = %q, want it read as text", tc.in, got)
				}
				return
			}
			if !ok || string(got) != tc.want {
				t.Errorf("canonicalJSON(%q, %q) = %q, %v, want %q", tc.in, tc.ignore, got, ok, tc.want)
			}
			// Canonical is a fixed point.
			if again, ok := canonicalJSON(got, paths); !ok || string(again) != string(got) {
				t.Errorf("canonicalJSON(%q) = %q, not a fixed point", got, again)
			}
		})
	}
}

func TestCompilePathErrors(t *testing.T) {
	for _, expr := range []string{"", "id", "$", "$.", "$..", "$[", "$[abc]", "$.a[", "$x", "$.a..", "$['unclosed]"} {
		if _, err := compilePath(expr); err == nil {
			t.Errorf("compilePath(%q) = nil error, want one", expr)
		} else if !strings.Contains(err.Error(), "JSONPath") {
			t.Errorf("compilePath(%q) = %v, want the error to say JSONPath", expr, err)
		}
	}
}

// FuzzCanonicalJSON: captured payloads are hostile. Canonicalising never
// panics, gives valid JSON that is its own canonical form and means what
// the input means (for inputs without duplicate keys), and any JSONPath that
// compiles applies without panicking.
func FuzzCanonicalJSON(f *testing.F) {
	f.Add([]byte(`{"b":[1,{"c":"\u00e9"}],"a":null}`), "$..c")
	f.Add([]byte(`[1,2,3]`), "$[-1]")
	f.Add([]byte(`{"a b":{"x":1}}`), "$['a b'].x")
	f.Add([]byte(`{"a":1,"a":2}`), "$.*")
	f.Fuzz(func(t *testing.T, data []byte, expr string) {
		var paths []*jsonPath
		if p, err := compilePath(expr); err == nil {
			paths = append(paths, p)
		}
		c, ok := canonicalJSON(data, paths)
		if !ok {
			return
		}
		if !json.Valid(c) {
			t.Fatalf("canonicalJSON(%q) = %q, not JSON", data, c)
		}
		again, ok := canonicalJSON(c, paths)
		if !ok || !bytes.Equal(again, c) {
			t.Fatalf("canonicalJSON(%q) = %q, then %q", data, c, again)
		}
		if len(paths) > 0 {
			return
		}
		var in, out any
		if json.Unmarshal(data, &in) == nil && json.Unmarshal(c, &out) == nil && !strings.Contains(string(data), `\u`) {
			if !reflect.DeepEqual(in, out) && !hasDuplicateKeys(data) {
				t.Fatalf("canonicalJSON(%q) = %q, which means something else", data, c)
			}
		}
	})
}

// hasDuplicateKeys reports whether a JSON text has an object with a key
// twice (encoding/json keeps the last; the canonical form keeps both).
func hasDuplicateKeys(data []byte) bool {
	v, ok := parseJSON(data)
	if !ok {
		return false
	}
	var walk func(*jsonValue) bool
	walk = func(v *jsonValue) bool {
		for i := 1; i < len(v.keys); i++ {
			if v.keys[i] == v.keys[i-1] {
				return true
			}
		}
		for _, m := range v.members {
			if walk(m) {
				return true
			}
		}
		return false
	}
	return walk(v)
}
