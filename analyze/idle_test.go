package analyze_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/analyze/analyzetest"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/capturetest"
)

// idleRun feeds packets to an analyzer with opts, then calls Idle at each
// of the times in idle (after the last packet, as a live capture that went
// quiet does), and returns the events emitted after each Idle call (one
// slice per call) and those that only Close emitted.
func idleRun(packets []capture.Packet, opts analyze.Options, idle []time.Time) (afterIdle [][]analyze.Event, atClose []analyze.Event) {
	var got []analyze.Event
	a := analyze.New(opts, func(ev *analyze.Event) { got = append(got, ev.Clone()) })
	for i := range packets {
		a.Packet(&packets[i])
	}
	for _, now := range idle {
		got = got[:0]
		a.Idle(now)
		afterIdle = append(afterIdle, slices.Clone(got))
	}
	got = got[:0]
	a.Close()
	return afterIdle, got
}

func countType(evs []analyze.Event, typ string) int {
	n := 0
	for _, ev := range evs {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

// TestIdleDecodesHeldRecords: a live capture whose endpoints write their
// key log only after every packet; then it is quiet. The connections
// closed while they waited, and wait on (tlsLinger). Without a
// packet after the keys, only Idle can decode the held records: every
// message comes out at the first Idle after the key log grew, with the
// packets and times of the records that carried them, and the whole
// decode is the one that knew every key from the start. An Idle before
// the keys, or after them, emits nothing. (Conn 7 resumes conn 6's TLS
// 1.2 session by ticket, and the key log has no line of its own: its
// server's ChangeCipherSpec comes while conn 6's keys are still missing,
// and it must wait for them too, not report its handshake without keys.)
func TestIdleDecodesHeldRecords(t *testing.T) {
	packets := readPackets(t, "../testdata/wss.pcapng")
	keyfile, err := os.ReadFile("../testdata/wss.keys")
	if err != nil {
		t.Fatal(err)
	}
	keys := analyze.NewKeyLog()
	last := packets[len(packets)-1].Timestamp
	var got []analyze.Event
	a := analyze.New(analyze.Options{Keys: keys, KeyWait: analyze.DefaultKeyWait}, func(ev *analyze.Event) { got = append(got, ev.Clone()) })
	for i := range packets {
		a.Packet(&packets[i])
	}
	before := len(got)
	if n := countType(got, analyze.TypeWSMessage); n != 0 {
		t.Fatalf("%d messages decoded before any key was known", n)
	}
	a.Idle(last.Add(100 * time.Millisecond))
	if len(got) != before {
		t.Fatalf("Idle before the key log grew emitted %d events", len(got)-before)
	}
	if err := keys.Parse(strings.NewReader(string(keyfile)), "late", 0); err != nil {
		t.Fatal(err)
	}
	a.Idle(last.Add(200 * time.Millisecond))
	idle := got[before:]
	msgs := countType(idle, analyze.TypeWSMessage)
	if msgs == 0 {
		t.Fatalf("Idle after the key log grew emitted %d events and no message", len(idle))
	}
	for _, ev := range idle {
		if ev.Time.After(last) || ev.Packet > packets[len(packets)-1].Number {
			t.Errorf("%s of conn %d stamped packet %d at %v: after the capture's last packet (%d at %v)", ev.Type, ev.Conn, ev.Packet, ev.Time, packets[len(packets)-1].Number, last)
			break
		}
	}
	n := len(got)
	a.Idle(last.Add(300 * time.Millisecond))
	if len(got) != n {
		t.Errorf("a second Idle emitted %d more events", len(got)-n)
	}
	a.Close()
	t.Logf("%d events (%d messages) decoded at Idle", len(idle), msgs)
	sameByConn(t, decodeAll(t, packets), linesByConn(got))
}

// TestIdleGivesUpKeys: records whose keys never come (conn 10 of the
// capture) are shown as records without keys once the live capture has
// been quiet for KeyWaitTime, not only at its end.
func TestIdleGivesUpKeys(t *testing.T) {
	packets := readPackets(t, "../testdata/wss.pcapng")
	keys, err := analyze.ReadKeyLogFile("../testdata/wss.keys")
	if err != nil {
		t.Fatal(err)
	}
	// The capture ends before conn 10's FIN (see TestKeyWaitTime).
	packets = packets[:len(packets)-2]
	last := packets[len(packets)-1].Timestamp
	noKeys := func(evs []analyze.Event) bool {
		for _, ev := range evs {
			if ev.Conn == 10 && ev.Type == analyze.TypeTLSHandshake && ev.HasWarning("tls.no_keys") {
				return true
			}
		}
		return false
	}
	idle, _ := idleRun(packets, analyze.Options{Keys: keys, KeyWait: analyze.DefaultKeyWait},
		[]time.Time{last.Add(time.Second), last.Add(analyze.KeyWaitTime + 2*time.Second)})
	if noKeys(idle[0]) {
		t.Errorf("conn 10 gave up waiting for keys 1 s after its records (KeyWaitTime is %v)", analyze.KeyWaitTime)
	}
	if !noKeys(idle[1]) {
		t.Errorf("conn 10 still waits for keys %v after its records: no tls.handshake with tls.no_keys at Idle", analyze.KeyWaitTime+2*time.Second)
	}
}

// TestIdleDeclaresHoles: a segment the capture lost, acknowledged by the
// receiver, with the sender's next message behind it, and then nothing.
// Idle declares the hole a tcp.gap once the message behind it has waited
// the reorder window's time and IdleReorderTime (not its packet count: no
// packet is coming), and decodes what waited; before that time it waits. An Analyzer that is
// never idle emits the same events, line for line, only at Close.
func TestIdleDeclaresHoles(t *testing.T) {
	tests := []struct {
		name          string
		script        func(k *capturetest.Conn)
		wantFrom      string
		wantText      string
		reorder       time.Duration // Options.ReorderTime (0: the default)
		early, enough time.Duration // Idle times after the last packet
	}{
		{"server message lost, the next behind it", func(k *capturetest.Conn) {
			k.Drop(1)
			k.Server(analyzetest.Text(false, "lost"))
			k.Server(analyzetest.Text(false, "behind the loss"))
			k.Ack(true)
		}, analyze.FromServer, "behind the loss", 0, 500 * time.Millisecond, analyze.IdleReorderTime + 10*time.Millisecond},
		{"client message lost, the next behind it", func(k *capturetest.Conn) {
			k.Drop(1)
			k.Client(analyzetest.Text(true, "lost"))
			k.Client(analyzetest.Text(true, "behind the loss"))
			k.Ack(false)
		}, analyze.FromClient, "behind the loss", 0, analyze.DefaultReorderTime + 10*time.Millisecond, analyze.IdleReorderTime + 10*time.Millisecond},
		{"a reorder window longer than IdleReorderTime", func(k *capturetest.Conn) {
			k.Drop(1)
			k.Server(analyzetest.Text(false, "lost"))
			k.Server(analyzetest.Text(false, "behind the loss"))
			k.Ack(true)
		}, analyze.FromServer, "behind the loss", 2 * time.Second, time.Second, 3 * time.Second},
		{"the reply to a lost message waits for it", func(k *capturetest.Conn) {
			// The client's message is lost; the server's reply, which
			// acknowledges it, waits behind the hole (deferred).
			k.Drop(1)
			k.Client(analyzetest.Text(true, "lost"))
			k.Server(analyzetest.Text(false, "the reply"))
		}, analyze.FromServer, "the reply", 0, 50 * time.Millisecond, analyze.IdleReorderTime + 10*time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := capturetest.NewCapture(capturetest.Options{})
			k := c.Conn("127.0.0.1:50000", "127.0.0.1:9001")
			k.Handshake()
			k.Client(analyzetest.Request("/chat"))
			k.Server(analyzetest.Response())
			k.Client(analyzetest.Text(true, "hello"))
			k.Server(analyzetest.Text(false, "hi"))
			tt.script(k)
			packets := sourcePackets(t, c.Open())
			last := packets[len(packets)-1].Timestamp
			opts := analyze.Options{ReorderTime: tt.reorder}
			has := func(evs []analyze.Event) (gap, msg bool) {
				for _, ev := range evs {
					gap = gap || ev.Type == analyze.TypeTCPGap
					msg = msg || ev.Type == analyze.TypeWSMessage && ev.From == tt.wantFrom && string(ev.Message.Payload) == tt.wantText
				}
				return gap, msg
			}

			idle, atClose := idleRun(packets, opts, []time.Time{last.Add(tt.early), last.Add(tt.enough)})
			if gap, msg := has(idle[0]); gap || msg {
				t.Errorf("Idle %v after the last packet: gap %v, %q %v; want neither before the reorder window's time", tt.early, gap, tt.wantText, msg)
			}
			if gap, msg := has(idle[1]); !gap || !msg {
				t.Errorf("Idle %v after the last packet: gap %v, %q %v; want both", tt.enough, gap, tt.wantText, msg)
			}
			if gap, msg := has(atClose); gap || msg {
				t.Errorf("Close emitted gap %v, %q %v again", gap, tt.wantText, msg)
			}
			// Never idle: the same events, only at Close.
			_, never := idleRun(packets, opts, nil)
			if gap, msg := has(never); !gap || !msg {
				t.Fatalf("without Idle, Close emitted gap %v, %q %v; want both (the test's premise)", gap, tt.wantText, msg)
			}
			var closes []analyze.Event
			for _, ev := range never {
				if ev.Type != analyze.TypeTCPClose {
					closes = append(closes, ev)
				}
			}
			if got, want := jsonLines(idle[1]), jsonLines(closes); got != want {
				t.Errorf("Idle emitted:\n%s\nClose, never idle, emitted:\n%s", got, want)
			}
		})
	}
}

func jsonLines(evs []analyze.Event) string {
	var b []byte
	for i := range evs {
		b = evs[i].AppendJSON(b)
		b = append(b, '\n')
	}
	return string(b)
}
