package analyze

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/wsviz/wsviz/analyze/internal/jsonenc"
)

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

// TestNoteNamesNeedNoEscape checks the names the Analyzer gives the note
// builders: jsonenc.Notes copies its notes into JSON unescaped.
func TestNoteNamesNeedNoEscape(t *testing.T) {
	names := append(opcodeNames[:], fromName[:]...)
	for _, name := range names {
		if got := string(jsonenc.AppendString(nil, name)); got != `"`+name+`"` {
			t.Errorf("name %q needs escaping in JSON (%s)", name, got)
		}
	}
	for op := range uint8(16) {
		if got, want := opcodeName(op), []string{"continuation", "text", "binary"}; int(op) < len(want) && got != want[op] {
			t.Errorf("opcodeName(%d) = %q, want %q", op, got, want[op])
		}
		if op >= 3 && op <= 7 || op >= 11 {
			if got, want := opcodeName(op), fmt.Sprintf("reserved-%d", op); got != want {
				t.Errorf("opcodeName(%d) = %q, want %q", op, got, want)
			}
		}
	}
}
