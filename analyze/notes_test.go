package analyze

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsviz/wsviz/analyze/internal/wsproto"
)

// TestNoteBuilders checks the append-built notes against the fmt-built
// text they replace, over every opcode and flag combination.
func TestNoteBuilders(t *testing.T) {
	a := New(Options{}, func(*Event) {})
	for d := range 2 {
		for op := range uint8(16) {
			for _, fin := range []bool{false, true} {
				for rsv := range uint8(8) {
					for _, masked := range []bool{false, true} {
						for _, n := range []uint64{0, 1, 2, 125, 1 << 40, 1<<63 - 1, 1 << 63, ^uint64(0)} {
							f := &wsproto.Frame{Fin: fin, RSV: rsv, Opcode: op, Masked: masked, Mask: [4]byte{0, 0xab, 3, 0xff}, Len: n}
							var b strings.Builder
							fmt.Fprintf(&b, "%s → %s: %s frame", fromName[d], fromName[1-d], opcodeName(f.Opcode))
							if !f.Fin {
								b.WriteString(" (more fragments follow)")
							} else if f.Opcode == opContinuation {
								b.WriteString(" (last fragment)")
							}
							if f.Len == 1 {
								b.WriteString(", 1 byte of payload")
							} else {
								fmt.Fprintf(&b, ", %d bytes of payload", f.Len)
							}
							if f.RSV&4 != 0 && f.Opcode != opContinuation {
								b.WriteString(", compressed (RSV1)")
							}
							if f.Masked {
								fmt.Fprintf(&b, ", masked with key %x", f.Mask)
							}
							if got, want := string(a.frameNote(d, f)), b.String(); got != want {
								t.Errorf("frameNote(%d, %+v) = %q, want %q", d, *f, got, want)
							}
							checkNoteJSONSafe(t, b.String())
						}
					}
				}
			}
		}
		for _, op := range []uint8{opText, opBinary, opPing} {
			for _, frames := range []int{1, 3} {
				for _, compressed := range []bool{false, true} {
					for _, truncated := range []bool{false, true} {
						for _, n := range []int64{0, 1, 70000} {
							m := &wsproto.Message{Opcode: op, Len: n, WireLen: n / 2, Frames: frames, Compressed: compressed, Truncated: truncated}
							who, peer, size := fromName[d], fromName[1-d], plural(m.Len, "byte", "bytes")
							var want, got string
							if op == opPing {
								want = fmt.Sprintf("the %s sent a ping (%s): the %s must answer with a pong", who, size, peer)
								got = string(a.pingNote(d, m))
							} else {
								kind := "a text"
								if m.Opcode == opBinary {
									kind = "a binary"
								}
								want = fmt.Sprintf("the %s sent %s message of %s", who, kind, size)
								if m.Compressed {
									want += fmt.Sprintf(" (compressed to %s on the wire)", plural(m.WireLen, "byte", "bytes"))
								}
								if m.Frames > 1 {
									want += fmt.Sprintf(" in %d fragments", m.Frames)
								}
								if d == server {
									want += " without being asked: WebSocket has no request and response"
								}
								got = string(a.dataMessageNote(d, m))
							}
							if m.Truncated {
								want += "; payload shown in part"
							}
							if got != want {
								t.Errorf("message note(%d, %+v) = %q, want %q", d, *m, got, want)
							}
							checkNoteJSONSafe(t, got)
						}
					}
				}
			}
		}
		if got, want := pongAnswerNote[d], fmt.Sprintf("the %s answered the ping with a pong", fromName[d]); got != want {
			t.Errorf("pongAnswerNote[%d] = %q, want %q", d, got, want)
		}
	}
	f := &wsproto.Frame{Fin: true, Opcode: opText, Masked: true, Len: 100}
	if n := testing.AllocsPerRun(100, func() { a.frameNote(client, f) }); n != 0 {
		t.Errorf("frameNote allocates %v times, want 0 (the string is made by setNote)", n)
	}
}

// checkNoteJSONSafe fails unless note needs no escaping in a JSON string,
// which AppendJSON relies on for the builders' notes (Event.noteBytes).
func checkNoteJSONSafe(t *testing.T, note string) {
	t.Helper()
	if got := string(appendJSONString(nil, note)); got != `"`+note+`"` {
		t.Errorf("note %q needs escaping in JSON (%s)", note, got)
	}
}

// TestAppendEventTime checks the fast timestamp against Time.AppendFormat.
func TestAppendEventTime(t *testing.T) {
	for _, tm := range []time.Time{
		{},
		time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2024, 2, 29, 12, 0, 0, 120000000, time.FixedZone("x", -7*3600)),
		time.Date(9999, 12, 31, 23, 59, 59, 1, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(1<<33, 5),
		time.Unix(0, 0),
		time.Unix(253402300799, 999999999),
		time.Date(2000, 2, 29, 23, 59, 59, 100, time.UTC),
		time.Date(2100, 3, 1, 0, 0, 0, 0, time.UTC),
	} {
		want := string(tm.UTC().AppendFormat(nil, timeLayout))
		if got := string(appendEventTime(nil, tm, nil)); got != want {
			t.Errorf("appendEventTime(%v) = %q, want %q", tm, got, want)
		}
	}
	// Every day from 1970 to 9999, at a random time of day.
	rng := rand.New(rand.NewPCG(3, 4))
	for day := int64(0); day < 2932897; day += 1 + rng.Int64N(3) {
		tm := time.Unix(day*86400+rng.Int64N(86400), rng.Int64N(1e9))
		want := string(tm.UTC().AppendFormat(nil, timeLayout))
		if got := string(appendEventTime(nil, tm, nil)); got != want {
			t.Fatalf("appendEventTime(%v) = %q, want %q", tm, got, want)
		}
	}
}

// TestAppendEventTimeCache formats a run of times as an encoder does, with
// the cache, several in each second, going back as well as forth across
// seconds, days and years: the same as without it.
func TestAppendEventTimeCache(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var cache timeCache
	tm := time.Date(1999, 12, 31, 23, 59, 58, 0, time.UTC)
	for range 100000 {
		switch rng.IntN(4) {
		case 0:
			tm = tm.Add(time.Duration(rng.Int64N(2e9)))
		case 1:
			tm = tm.Add(-time.Duration(rng.Int64N(2e9)))
		case 2:
			tm = time.Unix(rng.Int64N(253402300800), rng.Int64N(1e9))
		default:
			tm = tm.Add(time.Duration(rng.Int64N(1e6)))
		}
		want := string(tm.UTC().AppendFormat(nil, timeLayout))
		if got := string(appendEventTime(nil, tm, &cache)); got != want {
			t.Fatalf("appendEventTime(%v) with the cache = %q, want %q", tm, got, want)
		}
	}
}

func BenchmarkEventTime(b *testing.B) {
	tm := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	buf := make([]byte, 0, 64)
	b.Run("AppendFormat", func(b *testing.B) {
		for b.Loop() {
			buf = tm.UTC().AppendFormat(buf[:0], timeLayout)
		}
	})
	b.Run("appendEventTime", func(b *testing.B) {
		for b.Loop() {
			buf = appendEventTime(buf[:0], tm, nil)
		}
	})
}

// TestNewEventClearsPrevious checks that the reused event starts every
// emission clean: no field of the event before it shows through.
func TestNewEventClearsPrevious(t *testing.T) {
	a := New(Options{}, func(*Event) {})
	c := &conn{id: 3}
	fill := map[string]func(ev *Event){
		TypeTCPOpen:      func(ev *Event) { ev.TCPOpen = TCPOpen{Client: "a", Server: "b", SYN: true} },
		TypeTCPClose:     func(ev *Event) { ev.TCPClose = TCPClose{How: CloseFIN, ClientBytes: 1, ServerBytes: 2} },
		TypeTCPGap:       func(ev *Event) { ev.TCPGap = TCPGap{Offset: 1, Size: 2} },
		TypeHTTPRequest:  func(ev *Event) { ev.HTTP = HTTP{Method: "GET", Target: "/"} },
		TypeHTTPResponse: func(ev *Event) { ev.HTTP = HTTP{Status: 101, Reason: "x"} },
		TypeWSOpen: func(ev *Event) {
			ev.WSOpen = WSOpen{Path: "/", Offered: append(ev.WSOpen.Offered, "chat"), Deflate: &Deflate{}, Accept: "ok"}
		},
		TypeWSFrame: func(ev *Event) { ev.Frame = Frame{Fin: true, Opcode: 1, Len: 5} },
		TypeWSMessage: func(ev *Event) {
			ev.Message = Message{Opcode: "text", Len: 5, Payload: []byte("hello"), Packets: []int64{1}}
		},
	}
	for prev, set := range fill {
		for next := range fill {
			ev := a.newEvent(prev, c, FromClient)
			set(ev)
			ev.Note = "old"
			ev.Warn("x", "y")
			ev = a.newEvent(next, nil, "")
			want := Event{Type: next, Time: a.pktTime, Packet: a.pktNum}
			got := ev.Clone()
			got.Warnings, got.WSOpen.Offered, got.Message.Packets, got.Message.Payload = nil, nil, nil, nil
			if !reflect.DeepEqual(got, want) || len(ev.Warnings) != 0 || len(ev.WSOpen.Offered) != 0 {
				t.Errorf("newEvent(%s) after %s = %+v, want %+v", next, prev, *ev, want)
			}
		}
	}
}
