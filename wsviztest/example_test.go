package wsviztest_test

import (
	"fmt"

	"github.com/wsviz/wsviz/wsviztest"
)

// reporter prints what a failing test would report; in a real test, pass
// the *testing.T.
type reporter struct{}

func (reporter) Helper()                           {}
func (reporter) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }
func (reporter) Fatalf(format string, args ...any) { fmt.Printf(format+"\n", args...) }

// In a test, with the -update flag declared as the standard library's
// golden tests do:
//
//	var update = flag.Bool("update", false, "rewrite the golden files")
//
//	func TestSession(t *testing.T) {
//		wsviztest.Compare(t, "testdata/session.pcapng", "testdata/session.transcript")
//	}
//
// go test -update writes testdata/session.transcript; go test then fails
// when a new recording says something else. Here, a recording whose two
// connections were opened in the other order matches the golden file, and
// one with a message changed does not.
func ExampleCompare() {
	wsviztest.Compare(reporter{}, "../testdata/session/ba.pcapng", "../testdata/session/ab.transcript")
	fmt.Println("ba.pcapng matches ab.transcript")
	wsviztest.Compare(reporter{}, "../testdata/session/changed.pcapng", "../testdata/session/ab.transcript")
	// Output:
	// ba.pcapng matches ab.transcript
	// wsviztest: ../testdata/session/changed.pcapng differs from ../testdata/session/ab.transcript: 1 connection differs (of 2 and 2 connections) (go test -update rewrites it)
	// --- ../testdata/session/ab.transcript
	// +++ ../testdata/session/changed.pcapng
	// @@ connection 2 websocket /chat, message 2 (server text) @@
	//    client text 37 json {"seq":1,"type":"hello","user":"bob"}
	// -  server text 66 json {"motd":"the lobby is open","seq":1,"type":"welcome","user":"bob"}
	// +  server text 68 json {"motd":"the lobby is closed","seq":1,"type":"welcome","user":"bob"}
	//    client binary 16 hex 627e40512b370418eafbc5d9aeb28c9d
}
