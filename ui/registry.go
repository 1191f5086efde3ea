package ui

import (
	"net/http"
)

// registryJSON is what /api/registry answers: the vocabulary of the events,
// so that the page's tables (the Warnings panel's RFC sections and plain
// meanings, the event type names) come from the one registry in analyze.
type registryJSON struct {
	Types []registryType `json:"types"`
	Codes []registryCode `json:"codes"`
}

type registryType struct {
	Type        string `json:"type"`
	Code        uint8  `json:"code"` // the type's number in the wire form (wire.go)
	Description string `json:"description"`
}

type registryCode struct {
	Code    string   `json:"code"`
	Events  []string `json:"events"`
	RFC     string   `json:"rfc"`
	Meaning string   `json:"meaning"`
}

// registry builds the answer of /api/registry.
func registry() registryJSON {
	var r registryJSON
	for code, name := range typeNames {
		if code == codeUnknown {
			continue
		}
		r.Types = append(r.Types, registryType{Type: name, Code: uint8(code)})
	}
	return r
}

func serveRegistry(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, registry())
}
