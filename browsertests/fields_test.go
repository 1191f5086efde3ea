package browsertests

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsviz/wsviz/analyze"
)

// The tests below draw event fields that other parts of wsviz add
// (docs/events.md): the TCP packets of tcp.open and tcp.close, a frame's
// header bytes, a message whose bytes cannot be known, a tunnel. Each feeds
// the page the field by name, standing in for the server's answer about one
// real event of a real capture, so the page's drawing of the field is tested
// whether or not the analyzer of this build emits it yet; the tests on real
// captures (TestLadderDrawsCapturedPackets, TestFrameHeaderFromWire) check
// the same against the analyzer when it does.

// TestLadderDrawsHandshakeField: a tcp.open with "handshake" and a
// tcp.close with "teardown" are drawn one row per packet, with the
// packets' own times and numbers and the side each came from.
func TestLadderDrawsHandshakeField(t *testing.T) {
	ctx := newBrowser(t)
	path := testCapture(t)
	evs := decoded(t, path)
	open := find(t, evs, func(ev *analyze.Event) bool { return ev.Type == analyze.TypeTCPOpen && ev.Conn == 1 })
	closeID := find(t, evs, func(ev *analyze.Event) bool { return ev.Type == analyze.TypeTCPClose && ev.Conn == 1 })
	openPage(t, ctx, serve(t, path)+"#conn=1", len(evs))
	poll(t, ctx, fmt.Sprintf(`wsviz.app.details.get(%d) && wsviz.app.details.get(%d)`, open, closeID))
	t0 := evs[open].Time
	ts := func(ms int) string { return t0.Add(msDur(ms)).UTC().Format("2006-01-02T15:04:05.000000000Z") }
	eval[any](t, ctx, fmt.Sprintf(`(() => {
		const d = wsviz.app.details;
		d.get(%d).event.handshake = [{flags: 'SYN', from: 'client', packet: 1, t: %q}, {flags: 'SYN-ACK', from: 'server', packet: 2, t: %q}, {flags: 'ACK', from: 'client', packet: 3, t: %q}];
		d.get(%d).event.teardown = [{flags: 'FIN', from: 'client', packet: 40, t: %q}, {flags: 'FIN', from: 'server', packet: 41, t: %q}];
		wsviz.app.ladder.refresh();
		return 0;
	})()`, open, ts(0), ts(1), ts(2), closeID, ts(50), ts(51)))
	type step struct{ Label, Pkt, Time, Arrow string }
	rows := func(id int) []step {
		return eval[[]step](t, ctx, fmt.Sprintf(`[...document.querySelectorAll('#ladder .ladder-row[data-id="%d"]')].sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top)).map(r => ({Label: r.querySelector('.alabel').textContent, Pkt: r.querySelector('.lr-pkt')?.textContent ?? '', Time: r.querySelector('.lr-time').firstChild.textContent, Arrow: r.querySelector('.arrow')?.className ?? ''}))`, id))
	}
	poll(t, ctx, fmt.Sprintf(`document.querySelectorAll('#ladder .ladder-row[data-id="%d"]').length === 3`, open))
	got := rows(open)
	want := []step{{"SYN", "pkt 1", "+0 s", "right"}, {"SYN-ACK", "pkt 2", "+1 ms", "left"}, {"ACK", "pkt 3", "+2 ms", "right"}}
	for i := range want {
		if i >= len(got) || got[i].Label != want[i].Label || got[i].Pkt != want[i].Pkt || got[i].Time != want[i].Time || !strings.Contains(got[i].Arrow, want[i].Arrow) {
			t.Errorf("handshake rows = %+v, want %+v", got, want)
			break
		}
	}
	// The ladder scrolls; the teardown rows are at the end.
	eval[any](t, ctx, `(() => { const l = document.getElementById('ladder'); l.scrollTop = l.scrollHeight; })()`)
	poll(t, ctx, fmt.Sprintf(`document.querySelectorAll('#ladder .ladder-row[data-id="%d"]').length === 2`, closeID))
	tear := rows(closeID)
	if len(tear) != 2 || tear[0].Label != "FIN" || tear[0].Pkt != "pkt 40" || !strings.Contains(tear[0].Arrow, "right") || tear[1].Pkt != "pkt 41" || !strings.Contains(tear[1].Arrow, "left") {
		t.Errorf("teardown rows = %+v", tear)
	}
	screenshot(t, ctx, "ladder-handshake-field")
}

// TestInspectorDrawsAddedFields: a frame's "header" is drawn from its
// bytes (a length of 5 in the 16-bit form shows as 126, then 5, marked); a
// message with "undecodable" says its bytes and length are unknown; a
// tcp.open's "tunnel" lists the encapsulations.
func TestInspectorDrawsAddedFields(t *testing.T) {
	ctx := newBrowser(t)
	path := hostileCapture(t)
	evs := decoded(t, path)
	frameID := warned(evs, "ws.non_minimal_length")[0]
	msgID := find(t, evs, textMessage("abcde"))
	openID := find(t, evs, func(ev *analyze.Event) bool { return ev.Type == analyze.TypeTCPOpen && ev.Conn == 2 })
	openPage(t, ctx, serve(t, path)+"#conn=2", len(evs))
	// Stand in for the server's answers about these three events.
	eval[any](t, ctx, fmt.Sprintf(`(() => {
		const real = wsviz.api.event;
		wsviz.api.event = async (id) => {
			const d = await real(id);
			if (id === %d) d.event.header = '81fe000512345678';
			if (id === %d) { d.event.undecodable = true; delete d.event.len; d.payload_len = 0; }
			if (id === %d) d.event.tunnel = [{kind: 'vxlan', src: '10.0.0.1', dst: '10.0.0.2', vni: 42}];
			return d;
		};
		return 0;
	})()`, frameID, msgID, openID))

	eval[any](t, ctx, fmt.Sprintf(`wsviz.app.select(%d), 0`, frameID))
	poll(t, ctx, `document.querySelector('#inspector .bit-raw') !== null`)
	bits := eval[string](t, ctx, `[...document.querySelectorAll('#inspector .bits .bit')].map(b => b.textContent).join('|')`)
	if want := "FIN1|RSV10|RSV20|RSV30|opcode0001 text|MASK1|length126|extended length5|masking key12345678"; bits != want {
		t.Errorf("header cells = %q, want %q", bits, want)
	}
	if bad := eval[string](t, ctx, `document.querySelector('#inspector .bit.bad')?.textContent ?? ''`); bad != "extended length5" {
		t.Errorf("the cell marked as breaking the rule = %q, want the extended length", bad)
	}
	if raw := eval[string](t, ctx, `document.querySelector('#inspector .bit-raw').textContent`); !strings.Contains(raw, "81 fe 00 05 12 34 56 78") {
		t.Errorf("raw header = %q", raw)
	}
	screenshot(t, ctx, "header-from-wire")

	eval[any](t, ctx, fmt.Sprintf(`wsviz.app.select(%d), 0`, msgID))
	poll(t, ctx, `document.querySelector('#inspector .insp-unknown') !== null`)
	if txt := eval[string](t, ctx, `document.querySelector('#inspector .insp-unknown').textContent`); !strings.Contains(txt, "cannot be known") || !strings.Contains(txt, "unknown, not zero") {
		t.Errorf("undecodable message says %q", txt)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('#payload').length`); n != 0 {
		t.Errorf("an undecodable message shows a payload")
	}

	eval[any](t, ctx, fmt.Sprintf(`wsviz.app.select(%d), 0`, openID))
	poll(t, ctx, `[...document.querySelectorAll('#inspector h3')].some(h => h.textContent.startsWith('Tunnel'))`)
	if txt := eval[string](t, ctx, `[...document.querySelectorAll('#inspector dl')].map(d => d.textContent).join(' ')`); !strings.Contains(txt, "vxlansrc 10.0.0.1 · dst 10.0.0.2 · vni 42") {
		t.Errorf("tunnel fields = %q", txt)
	}
}

func msDur(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }

// TestLadderRepeatedRST: on testdata/rst-crossing.pcapng, where the
// client's kernel answers each server segment that crossed its RST with
// another RST, the ladder draws every row in packet order, the RSTs among
// the messages that crossed the first (before, the teardown came last,
// after them, with earlier times); each row says its packet number, the
// first RST that the client aborts the connection and the others that it
// resets again, no longer having the connection.
func TestLadderRepeatedRST(t *testing.T) {
	ctx := newBrowser(t)
	path := filepath.Join("..", "testdata", "rst-crossing.pcapng")
	evs := decoded(t, path)
	closeID := find(t, evs, func(ev *analyze.Event) bool { return ev.Type == analyze.TypeTCPClose && ev.Conn == 2 })
	teardown := evs[closeID].TCPClose.Teardown
	last := -1
	for i, ev := range evs {
		if ev.Type == analyze.TypeWSMessage && ev.Conn == 2 {
			last = i
		}
	}
	if len(teardown) < 3 || evs[last].Packet <= teardown[0].Packet {
		t.Fatalf("the capture's reset has %d teardown packets and its last message in packet %d: want a RST crossed by messages and its answers", len(teardown), evs[last].Packet)
	}
	openPage(t, ctx, serve(t, path)+"#conn=2", len(evs))
	poll(t, ctx, fmt.Sprintf(`wsviz.app.details.get(%d)`, closeID))
	// Every row's packet, from the ladder's own mapping of rows to steps.
	type mapped struct{ ID, Sub, Packet int }
	mapping := `(() => { const L = wsviz.app.ladder; const out = []; for (let r = 0; r < L.n; r++) { const [k, sub] = L.at(r); const s = L.step(k); if (!s) return null; out.push({ID: s[0], Sub: sub, Packet: sub > 0 ? L.packets(s)[sub - 1].packet : s[3]}); } return out; })()`
	poll(t, ctx, mapping+` !== null && wsviz.app.ladder.merged !== null`)
	rows := eval[[]mapped](t, ctx, mapping)
	var tear []int // rows of the teardown
	for r, m := range rows {
		if r > 0 && m.Packet < rows[r-1].Packet {
			t.Errorf("row %d is packet %d, after packet %d", r, m.Packet, rows[r-1].Packet)
		}
		if m.ID == closeID {
			tear = append(tear, r)
		}
	}
	if len(tear) != len(teardown) {
		t.Fatalf("%d teardown rows, want %d", len(tear), len(teardown))
	}
	type row struct{ Label, Pkt, Note string }
	for i, p := range teardown {
		r := tear[i]
		eval[any](t, ctx, fmt.Sprintf(`(() => { const L = wsviz.app.ladder; L.list.scrollTop = L.rowTop(%d); L.render(); })()`, r))
		sel := fmt.Sprintf(`[...document.querySelectorAll('#ladder .ladder-row[data-id="%d"]')].find(e => e.querySelector('.lr-pkt')?.textContent === 'pkt %d')`, closeID, p.Packet)
		poll(t, ctx, sel+` !== undefined`)
		got := eval[row](t, ctx, `(() => { const r = `+sel+`; return {Label: r.querySelector('.alabel').textContent, Pkt: r.querySelector('.lr-pkt').textContent, Note: r.querySelector('.lr-note').title}; })()`)
		again := strings.Contains(got.Note, "resets again")
		if got.Label != p.Flags || again != (i > 0) || i == 0 && !strings.Contains(got.Note, "came after the RST") {
			t.Errorf("teardown row %d (%s, pkt %d): %+v", i+1, p.Flags, p.Packet, got)
		}
	}
	// The messages say their packets.
	eval[any](t, ctx, `(() => { const l = document.getElementById('ladder'); l.scrollTop = l.scrollHeight; })()`)
	want := fmt.Sprintf("pkt %d", evs[last].Packet)
	poll(t, ctx, fmt.Sprintf(`document.querySelector('#ladder .ladder-row[data-id="%d"] .lr-pkt')?.textContent === %q`, last, want))
	screenshot(t, ctx, "ladder-repeated-rst")
}

// TestLadderCloseNoteOnItsPacket: on testdata/firefox-wss.pcapng the
// server sent FIN-ACK, the client an alert, then the server a RST; in time
// order the FIN-ACK row comes before the alert, and tcp.close's note (the
// connection was reset) goes with the RST's row, not the FIN's.
func TestLadderCloseNoteOnItsPacket(t *testing.T) {
	ctx := newBrowser(t)
	path := filepath.Join("..", "testdata", "firefox-wss.pcapng")
	evs := decoded(t, path)
	closeID := find(t, evs, func(ev *analyze.Event) bool {
		return ev.Type == analyze.TypeTCPClose && ev.TCPClose.How == analyze.CloseRST && len(ev.TCPClose.Teardown) == 2 && ev.TCPClose.Teardown[0].Flags == "FIN-ACK"
	})
	conn, teardown := evs[closeID].Conn, evs[closeID].TCPClose.Teardown
	openPage(t, ctx, serve(t, path)+fmt.Sprintf("#conn=%d", conn), len(evs))
	poll(t, ctx, fmt.Sprintf(`wsviz.app.details.get(%d)`, closeID))
	eval[any](t, ctx, `(() => { const l = document.getElementById('ladder'); l.scrollTop = l.scrollHeight; })()`)
	poll(t, ctx, fmt.Sprintf(`document.querySelectorAll('#ladder .ladder-row[data-id="%d"]').length === 2`, closeID))
	type row struct{ Pkt, Note string }
	got := eval[[]row](t, ctx, fmt.Sprintf(`[...document.querySelectorAll('#ladder .ladder-row[data-id="%d"]')].sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top)).map(r => ({Pkt: r.querySelector('.lr-pkt').textContent, Note: r.querySelector('.lr-note').title}))`, closeID))
	const reset = "the TCP connection was reset (RST)"
	if len(got) != 2 || got[0].Pkt != fmt.Sprintf("pkt %d", teardown[0].Packet) || strings.Contains(got[0].Note, reset) || !strings.Contains(got[1].Note, reset) {
		t.Errorf("teardown rows %+v; want the FIN-ACK's without tcp.close's note and the RST's with it", got)
	}
}
