package browsertests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/wsviz/wsviz/analyze"
)

// ladderRow is a row of the ladder as the page draws it.
type ladderRow struct {
	ID    int
	Sub   string
	Label string
	Note  string
	Lock  bool
	Faint bool
}

// ladderRows returns every row of the ladder, in order: the ladder is made
// tall enough that all of the connection's steps are in view.
func ladderRows(t *testing.T, ctx context.Context, want int) []ladderRow {
	t.Helper()
	// Every row drawn from its event's details (its key says "d").
	poll(t, ctx, fmt.Sprintf(`wsviz.app.ladder.n === %d && document.querySelectorAll('#ladder .ladder-row').length === %d && [...document.querySelectorAll('#ladder .ladder-row')].every(r => /^\d+:\d+d/.test(r.dataset.key || ''))`, want, want))
	return eval[[]ladderRow](t, ctx, `[...document.querySelectorAll('#ladder .ladder-row')].sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top)).map(r => ({
		ID: Number(r.dataset.id), Sub: r.dataset.sub ?? '', Label: r.querySelector('.alabel').textContent,
		Note: r.querySelector('.lr-note').textContent, Lock: r.querySelector('.alabel .lock') !== null, Faint: r.classList.contains('faint')}))`)
}

// tallLadder gives the page a window in which the ladder holds every row of
// a connection of the wss capture (29 steps of 36 pixels).
func tallLadder(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1600, 2600)); err != nil {
		t.Fatal(err)
	}
}

// TestTLSLadder opens the wss:// capture whose pcapng carries its key log
// (testdata/wss-dsb.pcapng, ten real Go crypto/tls sessions): the ladder of
// a connection draws the TLS handshake message by message before the HTTP
// upgrade (ClientHello with its SNI and ALPN, ServerHello with version and
// suite, Finished), says of every decoded request and message that it
// travelled encrypted and in which records; the toggle shows what the
// network sees instead: the records' sizes, never what they hold, and the
// hellos, which travel in clear; the steps with nothing of their own on the
// wire (WebSocket open, frames) are drawn faint. Every figure is checked
// against the analyzer's events.
func TestTLSLadder(t *testing.T) {
	const path = "../testdata/wss-dsb.pcapng"
	evs := decoded(t, path)
	for _, conn := range []int{1, 2} {
		t.Run(fmt.Sprintf("conn %d", conn), func(t *testing.T) {
			ctx := newBrowser(t)
			tallLadder(t, ctx)
			errs := consoleErrors(ctx)
			openPage(t, ctx, serve(t, path)+fmt.Sprintf("#conn=%d", conn), len(evs))
			var ids []int // the connection's events as the ladder draws them
			for i, ev := range evs {
				if ev.Conn == conn && !(ev.Type == analyze.TypeWSFrame && !frameDrawn(&ev)) {
					ids = append(ids, i)
				}
			}
			steps := len(ids)
			for _, i := range ids {
				steps += max(0, len(tcpPackets(&evs[i]))-1)
			}
			if conn == 1 {
				checkConnStates(t, ctx, evs)
			}
			rows := ladderRows(t, ctx, steps)
			row := func(id int) ladderRow {
				for _, r := range rows {
					if r.ID == id {
						return r
					}
				}
				t.Fatalf("no ladder row for event %d (%s)", id, evs[id].Type)
				return ladderRow{}
			}
			index := func(id int) int {
				for k, r := range rows {
					if r.ID == id {
						return k
					}
				}
				return -1
			}
			var hello, serverHello, request = -1, -1, -1
			finished := 0
			for _, i := range ids {
				ev := &evs[i]
				switch {
				case ev.Type == analyze.TypeTLSMessage && ev.TLS.Message == "client_hello":
					hello = i
				case ev.Type == analyze.TypeTLSMessage && ev.TLS.Message == "server_hello":
					serverHello = i
				case ev.Type == analyze.TypeTLSMessage && ev.TLS.Message == "finished":
					finished++
					if r := row(i); !r.Lock || !strings.HasPrefix(r.Label, "Finished") {
						t.Errorf("Finished row = %+v, want its label and a lock (it travelled encrypted)", r)
					}
				case ev.Type == analyze.TypeHTTPRequest && request < 0:
					request = i
				}
			}
			if hello < 0 || serverHello < 0 || request < 0 || finished != 2 {
				t.Fatalf("capture: client_hello %d, server_hello %d, http.request %d, %d finished", hello, serverHello, request, finished)
			}
			ch, sh := &evs[hello].TLS, &evs[serverHello].TLS
			if r := row(hello); r.Lock || !strings.Contains(r.Label, "ClientHello · SNI "+ch.SNI) || !strings.Contains(r.Label, "ALPN "+strings.Join(ch.ALPNOffered, ", ")) {
				t.Errorf("ClientHello row = %+v, want SNI %s and ALPN %v, no lock", r, ch.SNI, ch.ALPNOffered)
			}
			if r := row(serverHello); !strings.Contains(r.Label, "ServerHello · "+sh.Version+" · "+sh.CipherSuite) {
				t.Errorf("ServerHello row = %+v, want %s and %s", r, sh.Version, sh.CipherSuite)
			}
			if index(hello) > index(serverHello) || index(serverHello) > index(request) {
				t.Errorf("rows: ClientHello %d, ServerHello %d, upgrade request %d: the handshake must come first", index(hello), index(serverHello), index(request))
			}
			var messages []int
			for _, i := range ids {
				ev := &evs[i]
				if ev.Type != analyze.TypeWSMessage && ev.Type != analyze.TypeHTTPRequest && ev.Type != analyze.TypeHTTPResponse {
					continue
				}
				if ev.Type == analyze.TypeWSMessage {
					messages = append(messages, i)
				}
				r := row(i)
				n, sum := carried(ev)
				want := fmt.Sprintf("travelled encrypted: 1 TLS record, %s bytes on the wire", commas(sum))
				if n > 1 {
					want = fmt.Sprintf("travelled encrypted: %d TLS records, %s bytes on the wire", n, commas(sum))
				}
				if !r.Lock || !strings.Contains(r.Note, want) {
					t.Errorf("%s row %+v: want a lock and %q", ev.Type, r, want)
				}
			}
			if len(messages) != 10 {
				t.Fatalf("%d messages on connection %d, want 10", len(messages), conn)
			}
			screenshot(t, ctx, fmt.Sprintf("tls-ladder-conn%d-sent", conn))
			screenshotOf(t, ctx, "#steps-panel", fmt.Sprintf("tls-ladder-conn%d-sent-panel", conn))

			// What the network sees.
			click(t, ctx, `#ladder-view button[data-wire="1"]`)
			if h := hashParams(t, ctx); h.Get("wire") != "1" {
				t.Errorf("address after the toggle = %v, want wire=1", h)
			}
			if title := eval[string](t, ctx, `document.getElementById('ladder-title').textContent`); !strings.Contains(title, "TLS: what the network sees") {
				t.Errorf("ladder title %q, want it to say it shows what the network sees", title)
			}
			wire := ladderRows(t, ctx, steps)
			rows = wire
			for _, r := range wire {
				ev := &evs[r.ID]
				switch ev.Type {
				case analyze.TypeWSOpen, analyze.TypeWSFrame, analyze.TypeHTTPError:
					if !r.Faint || !strings.HasPrefix(r.Note, "nothing of its own on the wire") {
						t.Errorf("the network view draws a %s, which puts nothing on the wire, as if it did: %+v", ev.Type, r)
					}
				case analyze.TypeWSMessage, analyze.TypeHTTPRequest, analyze.TypeHTTPResponse, analyze.TypeTLSAlert:
					n, sum := carried(ev)
					// The outer type: application_data, but an alert of TLS 1.2 says it is one.
					want := fmt.Sprintf("%s · %s B", ev.Carried.Records[0].Type, commas(sum))
					if n > 1 {
						want = fmt.Sprintf("%d records · %s B", n, commas(sum))
					}
					if r.Label != want || !r.Lock {
						t.Errorf("network view of %s: label %q, want %q with a lock", ev.Type, r.Label, want)
					}
					if ev.Type == analyze.TypeWSMessage && len(ev.Message.Payload) > 3 && (strings.Contains(r.Label+r.Note, string(ev.Message.Payload[:4])) || strings.Contains(r.Note, ev.Message.Opcode)) {
						t.Errorf("network view of a message shows what it holds: %+v", r)
					}
				case analyze.TypeTLSMessage:
					if ev.TLS.Encrypted {
						if r.Label == "" || strings.Contains(r.Label, ev.TLS.Message) || strings.Contains(r.Label, "Finished") {
							t.Errorf("network view of an encrypted %s names it: %+v", ev.TLS.Message, r)
						}
					} else if !strings.Contains(r.Note, "in clear") {
						t.Errorf("network view of %s does not say it is in clear: %+v", ev.TLS.Message, r)
					}
				}
			}
			if r := row(hello); !strings.Contains(r.Label, "SNI "+ch.SNI) || !strings.Contains(r.Note, "server name "+ch.SNI) {
				t.Errorf("network view of the ClientHello = %+v: the server name travels in clear", r)
			}
			screenshot(t, ctx, fmt.Sprintf("tls-ladder-conn%d-network", conn))
			screenshotOf(t, ctx, "#steps-panel", fmt.Sprintf("tls-ladder-conn%d-network-panel", conn))

			// The inspector of a message lists its records.
			m := messages[len(messages)/2]
			eval[any](t, ctx, fmt.Sprintf(`wsviz.app.select(%d), 0`, m))
			poll(t, ctx, `[...document.querySelectorAll('#inspector h3')].some(h => h.textContent.startsWith('On the wire'))`)
			txt := eval[string](t, ctx, `document.getElementById('inspector').textContent`)
			for k, rec := range evs[m].Carried.Records {
				if want := fmt.Sprintf("record %dapplication_data · %s bytes · packet %d", k+1, commas(rec.Len), rec.Packet); !strings.Contains(txt, want) {
					t.Errorf("inspector of message %d lacks %q", m, want)
				}
			}
			key(t, ctx, "v")
			if h := hashParams(t, ctx); h.Get("wire") != "" {
				t.Errorf("address after v = %v, want no wire", h)
			}
			if e := errs(); len(e) > 0 {
				t.Errorf("page errors: %v", e)
			}
		})
	}
}

// TestTLSLadderWithoutKeys: the same capture without its key log shows each
// connection as TLS with its hellos and its records, sizes and packets,
// and no message: nothing invented.
func TestTLSLadderWithoutKeys(t *testing.T) {
	const path = "../testdata/wss.pcapng"
	evs := decoded(t, path)
	ctx := newBrowser(t)
	tallLadder(t, ctx)
	openPage(t, ctx, serve(t, path)+"#conn=1&wire=1", len(evs))
	var ids []int
	records := 0
	for i, ev := range evs {
		if ev.Conn != 1 {
			continue
		}
		if ev.Type == analyze.TypeWSMessage || ev.Type == analyze.TypeHTTPRequest {
			t.Fatalf("without keys the analyzer decoded a %s", ev.Type)
		}
		ids = append(ids, i)
		if ev.Type == analyze.TypeTLSRecord {
			records++
		}
	}
	steps := len(ids)
	for _, i := range ids {
		steps += max(0, len(tcpPackets(&evs[i]))-1)
	}
	checkConnStates(t, ctx, evs)
	rows := ladderRows(t, ctx, steps)
	seen := 0
	for _, r := range rows {
		ev := &evs[r.ID]
		if ev.Type != analyze.TypeTLSRecord {
			continue
		}
		seen++
		if want := fmt.Sprintf("%s · %s B", ev.TLS.RecordType, commas(ev.TLS.RecordLen)); r.Label != want {
			t.Errorf("record row label %q, want %q", r.Label, want)
		}
	}
	if seen != records || records == 0 {
		t.Errorf("%d record rows, want %d", seen, records)
	}
	screenshot(t, ctx, "tls-ladder-no-keys")
}

// screenshotOf saves a screenshot of the element sel alone (docs/ui.md's
// pictures of the ladder are these).
func screenshotOf(t *testing.T, ctx context.Context, sel, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.Screenshot(sel))
	if err != nil {
		t.Errorf("screenshot of %s: %v", sel, err)
		return
	}
	p := filepath.Join(screenshotDir(), name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Error(err)
	}
	t.Logf("screenshot: %s", p)
}

// checkConnStates checks the connections table: a TLS connection whose
// records were decrypted shows its WebSocket state and its TLS version; one
// without keys says so.
func checkConnStates(t *testing.T, ctx context.Context, evs []analyze.Event) {
	t.Helper()
	type state struct{ Conn, State string }
	want := map[string]string{}
	for _, ev := range evs {
		if ev.Type != analyze.TypeTLSHandshake {
			continue
		}
		c := fmt.Sprint(ev.Conn)
		if ev.TLS.Keys {
			want[c] = "closed cleanly" + ev.TLS.Version
		} else {
			want[c] = "TLS, no keys"
		}
	}
	poll(t, ctx, fmt.Sprintf(`document.querySelectorAll('#conn-list .conn-row').length === %d`, len(want)))
	got := eval[[]state](t, ctx, `[...document.querySelectorAll('#conn-list .conn-row')].map(r => ({Conn: r.dataset.conn, State: r.querySelector('.c-state').textContent}))`)
	for _, g := range got {
		if want[g.Conn] != g.State {
			t.Errorf("connection %s state = %q, want %q", g.Conn, g.State, want[g.Conn])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d connection rows, want %d", len(got), len(want))
	}
}

// carried returns the number of records that carried ev and their bytes.
func carried(ev *analyze.Event) (int, int) {
	n, sum := len(ev.Carried.Records)+ev.Carried.More, int(ev.Carried.MoreLen)
	for _, r := range ev.Carried.Records {
		sum += r.Len
	}
	return n, sum
}

// tcpPackets returns the TCP packets a tcp.open or tcp.close carries: the
// ladder draws a row for each.
func tcpPackets(ev *analyze.Event) []any {
	var raw struct{ Handshake, Teardown []any }
	json.Unmarshal(ev.AppendJSON(nil), &raw)
	switch ev.Type {
	case analyze.TypeTCPOpen:
		return raw.Handshake
	case analyze.TypeTCPClose:
		return raw.Teardown
	}
	return nil
}

// commas writes n as the page does (en-US grouping).
func commas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
