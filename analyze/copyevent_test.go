package analyze

import (
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

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
		var wants [3]Event
		n := 0
		err = Decode(src, Options{Workers: 1}, func(ev *Event) error {
			slot := n % 3
			if slot == 0 {
				o.reset() // as recycle does
			}
			o.keep(slot, ev)
			wants[slot] = ev.Clone()
			n++
			types[ev.Type] = true
			// Every event kept since the reset is still its copy: the
			// arenas did not hand one's memory to another.
			for i := range slot + 1 {
				if got := emptyToNil(o.events[i]); !reflect.DeepEqual(got, emptyToNil(wants[i])) {
					t.Fatalf("%s: event %d (%s), slot %d after slot %d: copyEvent gave\n%+v\nwant\n%+v", f, n, ev.Type, i, slot, got, emptyToNil(wants[i]))
				}
			}
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

// TestCopyEventEveryField fills every field of a frame's and a message's
// group (and the common fields) and wants copyEvent's copy equal to Clone,
// landing on slots that held a frame, a message and another type: a field
// added to Frame or Message that copyEvent does not copy fails it, even
// before a capture sets it.
func TestCopyEventEveryField(t *testing.T) {
	for _, typ := range []string{TypeWSFrame, TypeWSMessage} {
		for _, prev := range []string{TypeWSFrame, TypeWSMessage, TypeTCPOpen} {
			var src Event
			fillEvery(reflect.ValueOf(&src).Elem(), 1)
			group := map[string]string{TypeWSFrame: "Frame", TypeWSMessage: "Message"}
			// Only the common fields and the type's group are set.
			kept := src
			src = Event{}
			v, k := reflect.ValueOf(&src).Elem(), reflect.ValueOf(&kept).Elem()
			for i := range v.NumField() {
				name := v.Type().Field(i).Name
				switch name {
				case "TCPOpen", "TCPClose", "TCPGap", "HTTP", "WSOpen", "Frame", "Message", "Capture", "TLS", "H2Close":
					if name != group[typ] {
						continue
					}
				}
				v.Field(i).Set(k.Field(i))
			}
			src.Type = typ

			var o shardOut
			var before Event
			fillEvery(reflect.ValueOf(&before).Elem(), 7)
			before.Type = prev
			o.keep(0, &before)
			o.reset()
			o.keep(0, &src)
			if got, want := emptyToNil(o.events[0]), emptyToNil(src.Clone()); !reflect.DeepEqual(got, want) {
				t.Errorf("%s over %s: copyEvent gave\n%+v\nwant\n%+v", typ, prev, got, want)
			}
		}
	}
}

// fillEvery sets every settable field under v to a non-zero value derived
// from seed, slices to two elements, pointers to a new value.
func fillEvery(v reflect.Value, seed int) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Unix(int64(seed), int64(seed)).UTC()))
			return
		}
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				fillEvery(f, seed+i)
			}
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fillEvery(s.Index(i), seed+i)
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			fillEvery(v.Index(i), seed+i)
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillEvery(p.Elem(), seed)
		v.Set(p)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		key, val := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fillEvery(key, seed)
		fillEvery(val, seed)
		m.SetMapIndex(key, val)
		v.Set(m)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(seed%100 + 1))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(seed%100 + 1))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(seed) + 0.5)
	case reflect.String:
		v.SetString("s" + strconv.Itoa(seed))
	}
}
