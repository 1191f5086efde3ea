package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/ui/internal/spill"
)

func getJSONCode(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v\n%s", u, err, body)
		}
	}
	return resp.StatusCode
}

func TestWarningsAPI(t *testing.T) {
	s, hs := newTestServer(t, Options{})
	evs := conversation(1, t0, text("a"), text("b"), text("c"))
	// Frame warnings on two frames, a message warning on one message.
	var frames []int
	for i := range evs {
		if evs[i].Type == analyze.TypeWSFrame && evs[i].Frame.Opcode == opText {
			frames = append(frames, i)
		}
	}
	evs[frames[0]].Warnings = []analyze.Warning{{Code: "ws.non_minimal_length", Msg: "RFC 6455 §5.2"}}
	evs[frames[2]].Warnings = []analyze.Warning{{Code: "ws.non_minimal_length", Msg: "RFC 6455 §5.2 again"}, {Code: "ws.reserved_bits", Msg: "RFC 6455 §5.2 rsv"}}
	publishAll(t, s, evs)

	var all struct{ Codes []warnCode }
	getJSONCode(t, hs.URL+"/api/warnings", &all)
	got := fmt.Sprint(all.Codes)
	if len(all.Codes) != 2 || all.Codes[0].Code != "ws.non_minimal_length" || all.Codes[0].Count != 2 || all.Codes[0].Type != "ws.frame" ||
		all.Codes[1].Code != "ws.reserved_bits" || all.Codes[1].Count != 1 {
		t.Fatalf("/api/warnings = %s", got)
	}
	var page struct {
		Code   string
		Total  int
		Offset int
		IDs    []int
	}
	getJSONCode(t, hs.URL+"/api/warnings?code=ws.non_minimal_length&offset=1&limit=5", &page)
	if page.Total != 2 || page.Offset != 1 || !slices.Equal(page.IDs, []int{frames[2]}) {
		t.Errorf("page = %+v, want total 2 and id %d", page, frames[2])
	}
	getJSONCode(t, hs.URL+"/api/warnings?code=nothing", &page)
	if page.Total != 0 || len(page.IDs) != 0 {
		t.Errorf("unknown code page = %+v", page)
	}
}

func TestSearchRegexAndFrom(t *testing.T) {
	s, hs := newTestServer(t, Options{})
	evs := conversation(1, t0, text("order 17 shipped"), text("Order 18"), text("none"))
	publishAll(t, s, evs)
	ids := func(q string, re bool, from int) []int {
		t.Helper()
		u := hs.URL + "/api/search?q=" + url.QueryEscape(q) + fmt.Sprintf("&from=%d", from)
		if re {
			u += "&re=1"
		}
		var res struct {
			IDs      []int
			Searched int
		}
		if code := getJSONCode(t, u, &res); code != http.StatusOK {
			t.Fatalf("GET %s = %d", u, code)
		}
		if res.Searched != len(evs) {
			t.Errorf("searched = %d, want %d", res.Searched, len(evs))
		}
		return res.IDs
	}
	msg := func(p string) int {
		return slices.IndexFunc(evs, func(ev analyze.Event) bool { return string(ev.Message.Payload) == p })
	}
	if got, want := ids("order", false, 0), []int{msg("order 17 shipped"), msg("Order 18")}; !slices.Equal(got, want) {
		t.Errorf("text search = %v, want %v", got, want)
	}
	if got, want := ids(`^order \d+`, true, 0), []int{msg("order 17 shipped")}; !slices.Equal(got, want) {
		t.Errorf("regex search = %v, want %v", got, want)
	}
	if got, want := ids(`(?i)^order \d+$`, true, 0), []int{msg("Order 18")}; !slices.Equal(got, want) {
		t.Errorf("regex search (?i) = %v, want %v", got, want)
	}
	// From an id on: only the later events.
	if got, want := ids("order", false, msg("order 17 shipped")+1), []int{msg("Order 18")}; !slices.Equal(got, want) {
		t.Errorf("search from = %v, want %v", got, want)
	}
	resp, err := http.Get(hs.URL + "/api/search?re=1&q=" + url.QueryEscape("(unclosed"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad regex: status %d, want 400", resp.StatusCode)
	}
}

// exportHAR asks the server at base for the HAR of the events with the
// ids given, as the page's filtered export does, and returns it decoded
// and as sent.
func exportHAR(t *testing.T, base string, ids ...int) (harFile, []byte) {
	t.Helper()
	var list []string
	for _, id := range ids {
		list = append(list, fmt.Sprint(id))
	}
	resp, err := http.PostForm(base+"/api/export", url.Values{"format": {"har"}, "ids": {strings.Join(list, ",")}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var h harFile
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatalf("filtered HAR is not JSON: %v\n%s", err, body)
	}
	return h, body
}

// TestExportHARFilteredKeepsHandshake: a HAR of filtered events (here, one
// message) keeps the handshake of the message's connection, and leaves out
// the connections none of whose events were chosen.
func TestExportHARFilteredKeepsHandshake(t *testing.T) {
	s, hs := newTestServer(t, Options{})
	evs := conversation(1, t0, text("one"), text("two"))
	evs = append(evs, conversation(2, t0.Add(time.Second), text("three"))...)
	publishAll(t, s, evs)
	two := slices.IndexFunc(evs, func(ev analyze.Event) bool { return string(ev.Message.Payload) == "two" })
	h, body := exportHAR(t, hs.URL, two)
	if len(h.Log.Entries) != 1 {
		t.Fatalf("filtered HAR has %d entries, want 1:\n%s", len(h.Log.Entries), body)
	}
	e := h.Log.Entries[0]
	if e.Request.URL != "ws://example.test:9001/chat?room=1" || e.Response.Status != 101 || len(e.Request.Headers) == 0 {
		t.Errorf("filtered entry lost its handshake: %+v", e)
	}
	if len(e.WebSocketMessages) != 1 || e.WebSocketMessages[0].Data != "two" {
		t.Errorf("filtered entry messages = %+v, want just \"two\"", e.WebSocketMessages)
	}
}

// TestWriteHARMatchesExport: `wsviz har` (WriteHAR) and the page's
// unfiltered export write the same bytes.
func TestWriteHARMatchesExport(t *testing.T) {
	s, hs := newTestServer(t, Options{MaxPayload: -1})
	evs := conversation(1, t0, text(hostile), binaryMsg([]byte{1, 2, 3}))
	evs = append(evs, conversation(2, t0.Add(time.Second), text("three"))...)
	publishAll(t, s, evs)
	resp, err := http.Get(hs.URL + "/api/export?format=har")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var cmd strings.Builder
	if err := WriteHAR(&cmd, slices.Values(ptrs(evs))); err != nil {
		t.Fatal(err)
	}
	if cmd.String() != string(page) {
		t.Errorf("WriteHAR and the page's export differ:\n%s\n---\n%s", cmd.String(), page)
	}
}

func TestSetPacketsAndWireBytes(t *testing.T) {
	s, hs := newTestServer(t, Options{})
	evs := conversation(1, t0, analyze.Message{Opcode: "text", Payload: make([]byte, 1000)})
	for i := range evs {
		if evs[i].Type == analyze.TypeWSMessage && evs[i].Message.Opcode == "text" {
			evs[i].Message.Compressed, evs[i].Message.WireLen = true, 12
		}
	}
	publishAll(t, s, evs)
	s.SetPackets(evs[len(evs)-1].Packet + 1) // the final ACK completes no event
	s.Done(nil)
	c := dial(t, hs)
	var tb tab
	tb.readUntil(t, c, func(tb *tab) bool { return tb.status.Done })
	if want := evs[len(evs)-1].Packet + 1; tb.status.Packets != want {
		t.Errorf("packets = %d, want %d", tb.status.Packets, want)
	}
	if tb.status.Bytes != 12+2+2 || tb.status.Inflated != 1000+2+2 {
		t.Errorf("bytes = %d on the wire, %d inflated; want 16 and 1004", tb.status.Bytes, tb.status.Inflated)
	}
}

// TestPageTablesMatchRegistry: the page's table of event types
// (static/data.js TYPE_NAMES, indexed by the wire codes) is the server's,
// and names every event type of analyze's registry; the Warnings panel
// reads codes, RFC sections and meanings from registry.js, which
// TestRegistryJS keeps equal to the registry.
func TestPageTablesMatchRegistry(t *testing.T) {
	src, err := os.ReadFile("static/data.js")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`export const TYPE_NAMES = \[([^\]]*)\]`).FindSubmatch(src)
	if m == nil {
		t.Fatal("static/data.js has no TYPE_NAMES")
	}
	var page []string
	if err := json.Unmarshal([]byte("["+strings.ReplaceAll(string(m[1]), "'", `"`)+"]"), &page); err != nil {
		t.Fatalf("TYPE_NAMES: %v", err)
	}
	if !slices.Equal(page, typeNames[:]) {
		t.Errorf("data.js TYPE_NAMES = %q, want the server's %q", page, typeNames)
	}
	for _, ty := range analyze.EventTypes() {
		code := spill.TypeCode(ty.Type)
		if code == codeUnknown || int(code) >= len(page) || page[code] != ty.Type {
			t.Errorf("registry event type %q has wire code %d, which the page does not name so", ty.Type, code)
		}
	}
	if len(page)-1 != len(analyze.EventTypes()) {
		t.Errorf("the page names %d event types, the registry %d", len(page)-1, len(analyze.EventTypes()))
	}
	app, err := os.ReadFile("static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(app, []byte("import { CODES } from './registry.js';")) || !bytes.Contains(app, []byte("this.warnings.setRegistry(CODES)")) {
		t.Errorf("app.js does not give the Warnings panel the registry's codes")
	}
}
