package analyze_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture"
)

// readPackets reads every packet of a capture file.
func readPackets(t *testing.T, path string) []capture.Packet {
	t.Helper()
	f, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return sourcePackets(t, f)
}

// sourcePackets reads every packet of src, each a copy.
func sourcePackets(t *testing.T, src capture.Source) []capture.Packet {
	t.Helper()
	var out []capture.Packet
	for {
		p, err := src.ReadPacket()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		p.Data = slices.Clone(p.Data)
		out = append(out, p)
	}
}

// keysLater feeds packets to an analyzer that follows a key log the way a
// live capture does (Options.KeyWait), calling more before each packet so
// that it can add lines to the key log; more(-1) runs after the last
// packet, before Close. It returns the events by connection (their JSON
// lines), the events emitted before Close, and how many were emitted after
// the packet that completed them (held).
func keysLater(t *testing.T, packets []capture.Packet, keys *analyze.KeyLog, more func(i int)) (byConn map[int][]string, beforeClose []analyze.Event, held int) {
	t.Helper()
	var got []analyze.Event
	var now int64
	a := analyze.New(analyze.Options{Keys: keys, KeyWait: analyze.DefaultKeyWait}, func(ev *analyze.Event) {
		if ev.Packet < now {
			held++
		}
		got = append(got, ev.Clone())
	})
	for i := range packets {
		more(i)
		now = packets[i].Number
		a.Packet(&packets[i])
	}
	more(-1)
	beforeClose = slices.Clone(got)
	a.Close()
	return linesByConn(got), beforeClose, held
}

// linesByConn groups events' JSON lines by connection, in the order they
// came.
func linesByConn(evs []analyze.Event) map[int][]string {
	out := map[int][]string{}
	for i := range evs {
		out[evs[i].Conn] = append(out[evs[i].Conn], string(evs[i].AppendJSON(nil)))
	}
	return out
}

// decodeAll decodes packets with every key known from the start.
func decodeAll(t *testing.T, packets []capture.Packet) map[int][]string {
	t.Helper()
	keys, err := analyze.ReadKeyLogFile("../testdata/wss.keys")
	if err != nil {
		t.Fatal(err)
	}
	var want []analyze.Event
	a := analyze.New(analyze.Options{Keys: keys}, func(ev *analyze.Event) { want = append(want, ev.Clone()) })
	for i := range packets {
		a.Packet(&packets[i])
	}
	a.Close()
	return linesByConn(want)
}

func sameByConn(t *testing.T, want, got map[int][]string) {
	t.Helper()
	for conn := 1; conn <= 10; conn++ {
		if len(want[conn]) == 0 {
			t.Fatalf("conn %d: no events in the reference decode", conn)
		}
		if d := firstLineDiff(want[conn], got[conn], "event"); d != "" {
			t.Errorf("conn %d: decoded differently with keys that came late: %s", conn, d)
		}
	}
}

// TestKeysArriveAfterPackets is a live capture whose key log is written
// after the packets it unlocks, as endpoints write theirs while the
// capture runs and wsviz reads it a moment later: each session's lines
// come a few packets after its ClientHello, after its first encrypted
// records. The analyzer holds each connection's records until the key log
// grows, then decodes them: every connection's events are those of a
// decode that knew every key from the start, line for line, times and
// packets included (conn 10's keys were never logged). The delay ranges
// from the next packet to well past the end of the connections (conn 4
// has 18 packets from its ClientHello to its FIN; one that closes while it
// waits waits on, closed), so the keys come at every step of every kind
// of handshake in the capture (TLS 1.2 full and resumed by ticket, TLS
// 1.3, HelloRetryRequest, 0-RTT) and after the close.
// TestIdleDecodesHeldRecords has the keys come after every packet.
func TestKeysArriveAfterPackets(t *testing.T) {
	packets := readPackets(t, "../testdata/wss.pcapng")
	keyfile, err := os.ReadFile("../testdata/wss.keys")
	if err != nil {
		t.Fatal(err)
	}
	want := decodeAll(t, packets)
	for _, delay := range []int{1, 2, 3, 4, 6, 9, 13, 17, 20, 30, 40, 60} {
		t.Run(fmt.Sprintf("%d packets late", delay), func(t *testing.T) {
			// The key log's lines by client random (the second field).
			byRandom := map[string][]string{}
			for _, l := range strings.SplitAfter(string(keyfile), "\n") {
				if f := strings.Fields(l); len(f) == 3 {
					byRandom[f[1]] = append(byRandom[f[1]], l)
				}
			}
			due := map[int][]string{}
			for i := range packets {
				var seg capture.Segment
				if !capture.DecodeTCP(&packets[i], &seg) {
					continue
				}
				// A record (RFC 8446 §5.1) holding a ClientHello (§4.1.2): its
				// random follows the handshake header and the legacy version.
				b := seg.Payload
				if len(b) < 5+4+2+32 || b[0] != 22 || b[5] != 1 {
					continue
				}
				r := hex.EncodeToString(b[11 : 11+32])
				due[i+delay] = append(due[i+delay], byRandom[r]...)
				delete(byRandom, r)
			}
			keys := analyze.NewKeyLog()
			given := 0
			got, _, held := keysLater(t, packets, keys, func(i int) {
				if len(due[i]) > 0 {
					if err := keys.Parse(strings.NewReader(strings.Join(due[i], "")), "growing", 0); err != nil {
						t.Fatal(err)
					}
					given += len(due[i])
				}
			})
			if given == 0 || len(byRandom) > 0 || held == 0 {
				t.Fatalf("%d key lines given, %d sessions of the key log without a ClientHello, %d events held: want some, none, some", given, len(byRandom), held)
			}
			t.Logf("%d key lines given late, %d events decoded from held records", given, held)
			sameByConn(t, want, got)
		})
	}
}

// TestKeyWaitTime: a connection whose keys never come (conn 10) holds its
// records no longer than analyze.KeyWaitTime of capture time: when the
// capture's clock passes it, they are shown as records without keys,
// before the capture ends, and the other connections are unchanged.
func TestKeyWaitTime(t *testing.T) {
	packets := readPackets(t, "../testdata/wss.pcapng")
	// Conn 10's last data packet comes 11 seconds later, and the capture
	// ends before its FIN, so only the wait can end its waiting before
	// Close; the reference decode sees the same packets.
	packets = packets[:len(packets)-2]
	last := &packets[len(packets)-1]
	last.Timestamp = last.Timestamp.Add(analyze.KeyWaitTime + time.Second)
	keys, err := analyze.ReadKeyLogFile("../testdata/wss.keys")
	if err != nil {
		t.Fatal(err)
	}
	got, before, _ := keysLater(t, packets, keys, func(int) {})
	reported := false
	for _, ev := range before {
		if ev.Conn == 10 && ev.Type == analyze.TypeTLSHandshake {
			reported = ev.HasWarning("tls.no_keys")
		}
	}
	if !reported {
		t.Errorf("conn 10 still waits for keys %v after its records: no tls.handshake with tls.no_keys before the capture ended", analyze.KeyWaitTime+time.Second)
	}
	sameByConn(t, decodeAll(t, packets), got)
}

// firstLineDiff says where got and want first differ, naming the line as
// the noun's number ("event 3"), "" when they do not.
func firstLineDiff(want, got []string, noun string) string {
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			return fmt.Sprintf("%s %d:\ngot  %.400s\nwant %.400s", noun, i, g, w)
		}
	}
	return ""
}
