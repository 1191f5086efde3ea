package wsproto

import (
	"reflect"
	"testing"
)

// TestStartMessageResets holds startMessage, which resets a Message field
// by field, to what a new Message{Opcode, Compressed, Packets[:0],
// Problems[:0]} would be: a field added to Message and not reset there
// fails it.
func TestStartMessageResets(t *testing.T) {
	s := NewStream(Config{Deflate: true}, &recorder{})
	m := &s.data
	// Every field of the Message set to something not zero.
	v := reflect.ValueOf(&m.Message).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int64:
			f.SetInt(7)
		case reflect.Uint8:
			f.SetUint(7)
		case reflect.String:
			f.SetString("x")
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 4))
		default:
			t.Fatalf("Message.%s: kind %v not handled by this test", v.Type().Field(i).Name, f.Kind())
		}
	}
	packets, problems := m.Packets, m.Problems
	s.startMessage(m, OpBinary, true)
	want := Message{Opcode: OpBinary, Compressed: true, Packets: packets[:0], Problems: problems[:0]}
	if !reflect.DeepEqual(m.Message, want) {
		t.Errorf("after startMessage: %+v, want %+v", m.Message, want)
	}
	if cap(m.Packets) != cap(packets) || cap(m.Problems) != cap(problems) {
		t.Errorf("startMessage did not keep the Packets and Problems buffers")
	}
}
