package jsonenc

import (
	"strings"
	"testing"

	"github.com/wsviz/wsviz/analyze/internal/wsproto"
)

func TestNotes(t *testing.T) {
	var n Notes
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"frame", n.Frame("client", "server", "text", &wsproto.Frame{Fin: true, Opcode: wsproto.OpText, Masked: true, Mask: [4]byte{0xde, 0xad, 0xbe, 0xef}, Len: 5}),
			"client → server: text frame, 5 bytes of payload, masked with key deadbeef"},
		{"frame first fragment compressed", n.Frame("server", "client", "binary", &wsproto.Frame{Opcode: wsproto.OpBinary, RSV: 4, Len: 1}),
			"server → client: binary frame (more fragments follow), 1 byte of payload, compressed (RSV1)"},
		{"frame last fragment", n.Frame("server", "client", "continuation", &wsproto.Frame{Fin: true, RSV: 4, Len: 0}),
			"server → client: continuation frame (last fragment), 0 bytes of payload"},
		{"frame huge length", n.Frame("client", "server", "reserved-3", &wsproto.Frame{Fin: true, Opcode: 3, Len: 1<<64 - 1}),
			"client → server: reserved-3 frame, 18446744073709551615 bytes of payload"},
		{"text", n.DataMessage("client", false, &wsproto.Message{Opcode: wsproto.OpText, Len: 1, WireLen: 1, Frames: 1}),
			"the client sent a text message of 1 byte"},
		{"binary unasked, compressed, fragmented, truncated", n.DataMessage("server", true,
			&wsproto.Message{Opcode: wsproto.OpBinary, Len: 70000, WireLen: 1, Frames: 3, Compressed: true, Truncated: true}),
			"the server sent a binary message of 70000 bytes (compressed to 1 byte on the wire) in 3 fragments without being asked: WebSocket has no request and response; payload shown in part"},
		{"undecodable: history dropped", n.Undecodable("server", &wsproto.Message{Opcode: wsproto.OpBinary, WireLen: 1, Compressed: true, Undecodable: true,
			Problems: []wsproto.Problem{{Code: wsproto.CodeDeflateHistoryLimit}}}),
			"the server sent a binary message (1 byte on the wire); its length and content are unknown: it is compressed and refers to compression history that was dropped to keep memory bounded (--max-deflate-history)"},
		{"undecodable: compressed bytes lost", n.Undecodable("client", &wsproto.Message{Opcode: wsproto.OpText, WireLen: 900, Compressed: true, Undecodable: true,
			Problems: []wsproto.Problem{{Code: wsproto.CodeInvalidUTF8}, {Code: wsproto.CodeGap}}}),
			"the client sent a text message (900 bytes on the wire); its length and content are unknown: it is compressed and some of its compressed bytes were never captured"},
		{"ping", n.Ping("client", "server", &wsproto.Message{Opcode: wsproto.OpPing, Len: 4}),
			"the client sent a ping (4 bytes): the server must answer with a pong"},
		{"ping truncated", n.Ping("server", "client", &wsproto.Message{Opcode: wsproto.OpPing, Len: 1, Truncated: true}),
			"the server sent a ping (1 byte): the client must answer with a pong; payload shown in part"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: note = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

// opcodeNames are the names the analyzer gives Frame (analyze/app.go).
var opcodeNames = []string{"continuation", "text", "binary", "reserved-3", "reserved-7", "close", "ping", "pong", "reserved-15"}

// TestNotesNeedNoEscape builds the note of every combination of direction,
// opcode, flags and length, and checks that none needs escaping in JSON
// and that Notes.AppendString copies each as AppendString encodes it.
func TestNotesNeedNoEscape(t *testing.T) {
	var n Notes
	check := func(note string) {
		t.Helper()
		want := string(AppendString([]byte("x"), note))
		if want != `x"`+note+`"` {
			t.Errorf("note %q needs escaping in JSON (%s)", note, want)
		}
		if !n.built(note) {
			t.Errorf("note %q: built = false just after building it", note)
		}
		if got := string(n.AppendString([]byte("x"), note)); got != want {
			t.Errorf("Notes.AppendString(%q) = %s, want %s", note, got, want)
		}
	}
	dirs := [2]string{"client", "server"}
	for d := range 2 {
		for _, opName := range opcodeNames {
			for op := range uint8(16) {
				for _, fin := range []bool{false, true} {
					for rsv := range uint8(8) {
						for _, masked := range []bool{false, true} {
							for _, l := range []uint64{0, 1, 2, 125, 1 << 40, 1<<63 - 1, 1 << 63, ^uint64(0)} {
								f := &wsproto.Frame{Fin: fin, RSV: rsv, Opcode: op, Masked: masked, Mask: [4]byte{0, 0xab, 3, 0xff}, Len: l}
								check(n.Frame(dirs[d], dirs[1-d], opName, f))
							}
						}
					}
				}
			}
		}
		for _, op := range []uint8{wsproto.OpText, wsproto.OpBinary, wsproto.OpPing} {
			for _, frames := range []int{1, 3, 1 << 40} {
				for _, compressed := range []bool{false, true} {
					for _, truncated := range []bool{false, true} {
						for _, l := range []int64{0, 1, 70000, 1<<63 - 1} {
							m := &wsproto.Message{Opcode: op, Len: l, WireLen: l / 2, Frames: frames, Compressed: compressed, Truncated: truncated}
							check(n.DataMessage(dirs[d], d == 1, m))
							check(n.Ping(dirs[d], dirs[1-d], m))
						}
					}
				}
			}
		}
	}
}

// TestNotesStayValid keeps notes while many more are built after them (in
// new chunks): each keeps its text, and one from an earlier chunk, or a copy
// of one, is escaped like any string.
func TestNotesStayValid(t *testing.T) {
	var n Notes
	type kept struct{ note, text string }
	var keep []kept
	for i := range 20000 {
		f := &wsproto.Frame{Fin: true, Opcode: wsproto.OpText, Len: uint64(i)}
		note := n.Frame("client", "server", "text", f)
		if i%97 == 0 {
			keep = append(keep, kept{note, strings.Clone(note)})
		}
	}
	for _, k := range keep {
		if k.note != k.text {
			t.Fatalf("a note changed after it was built: %q, was %q", k.note, k.text)
		}
	}
	first := keep[0].note
	if n.built(first) {
		t.Errorf("built(%q) = true for a note of an earlier chunk", first)
	}
	if n.built(strings.Clone(first)) || n.built("") {
		t.Errorf("built = true for a string the builder did not make")
	}
	var nilNotes *Notes
	if got, want := string(nilNotes.AppendString(nil, "a\"b")), `"a\"b"`; got != want {
		t.Errorf("(*Notes)(nil).AppendString = %s, want %s", got, want)
	}
	if got, want := string(n.AppendString(nil, first)), `"`+first+`"`; got != want {
		t.Errorf("Notes.AppendString(an older note) = %s, want %s", got, want)
	}
}

// TestNotesAllocs checks that notes cost an allocation per chunk, not per
// note.
func TestNotesAllocs(t *testing.T) {
	var n Notes
	f := &wsproto.Frame{Fin: true, Opcode: wsproto.OpText, Masked: true, Len: 100}
	if allocs := testing.AllocsPerRun(1000, func() { n.Frame("client", "server", "text", f) }); allocs > 0.1 {
		t.Errorf("Frame allocates %v times per note, want about one per %d bytes of notes", allocs, noteChunk)
	}
}

// TestReusingNotes checks that ReusingNotes builds the same notes as the
// zero value, copies the last one unescaped, and allocates nothing.
func TestReusingNotes(t *testing.T) {
	var keep Notes
	reuse := ReusingNotes()
	for i := range 1000 {
		f := &wsproto.Frame{Fin: i%2 == 0, Opcode: wsproto.OpBinary, Masked: true, Mask: [4]byte{byte(i)}, Len: uint64(i * i)}
		want := keep.Frame("client", "server", "binary", f)
		got := reuse.Frame("client", "server", "binary", f)
		if got != want {
			t.Fatalf("ReusingNotes().Frame = %q, want %q", got, want)
		}
		if !reuse.built(got) {
			t.Fatalf("built(%q) = false for the last note", got)
		}
		if enc := string(reuse.AppendString(nil, got)); enc != `"`+want+`"` {
			t.Fatalf("AppendString(last note) = %s, want %q", enc, want)
		}
	}
	f := &wsproto.Frame{Fin: true, Opcode: wsproto.OpText, Len: 100}
	if allocs := testing.AllocsPerRun(100, func() { reuse.Frame("client", "server", "text", f) }); allocs != 0 {
		t.Errorf("ReusingNotes().Frame allocates %v times, want 0", allocs)
	}
}
