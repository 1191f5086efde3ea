package analyze

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wsviz/wsviz/capture"
)

// TestCopyEventMatchesClone checks the copy a sharded worker makes of each
// event for Decode's emit (shardOut.keep: copyEvent, which copies only the
// group the event's type names, and the payload) against Clone, which copies everything: over every
// event of the testdata and corpus captures (violations, hostile, tunnels included), each copied into one of three
// reused events so that the copy lands on events of every other type.
// An Analyzer event with a group set that its type does not name would fail
// it too.
func TestCopyEventMatchesClone(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", "*", "*.pcap*"))
	more, _ := filepath.Glob(filepath.Join("..", "testdata", "*.pcap*"))
	sub, _ := filepath.Glob(filepath.Join("..", "testdata", "*", "*.pcap*"))
	more = append(more, sub...)
	types := map[string]bool{}
	for _, f := range append(files, more...) {
		if strings.HasSuffix(f, ".tsv") {
			continue
		}
		src, err := capture.OpenFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var o shardOut
		n := 0
		err = Decode(src, Options{Workers: 1}, func(ev *Event) error {
			if n%3 == 0 {
				o.payloads = o.payloads[:0] // recycle
			}
			o.keep(n%3, ev)
			dst := &o.events[n%3]
			n++
			want := ev.Clone()
			if got := emptyToNil(*dst); !reflect.DeepEqual(got, emptyToNil(want)) {
				t.Fatalf("%s: event %d (%s): copyEvent gave\n%+v\nwant\n%+v", f, n, ev.Type, got, emptyToNil(want))
			}
			types[ev.Type] = true
			return nil
		})
		src.Close()
		if err != nil {
			t.Logf("%s: %v", f, err)
		}
	}
	for _, typ := range []string{TypeTCPOpen, TypeTCPClose, TypeHTTPRequest, TypeHTTPResponse, TypeWSOpen, TypeWSFrame, TypeWSMessage, TypeTLSHandshake, TypeTLSMessage} {
		if !types[typ] {
			t.Errorf("no %s event among the captures: the test does not cover its copy", typ)
		}
	}
}

// emptyToNil returns ev with its empty slices nil: copyEvent keeps the
// capacity of the event it reuses, Clone leaves empty slices nil.
func emptyToNil(ev Event) Event {
	nilEmpty(reflect.ValueOf(&ev).Elem())
	return ev
}

func nilEmpty(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				nilEmpty(f)
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.SetZero()
			return
		}
		for i := range v.Len() {
			nilEmpty(v.Index(i))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			nilEmpty(v.Elem())
		}
	}
}
