// Package wsviztest checks in go test that a capture still says what a
// golden transcript says: Compare(t, "testdata/session.pcapng",
// "testdata/session.transcript") fails the test with a short diff naming
// the connection (on HTTP/2, the stream: several WebSockets may share one
// connection, RFC 8441) and the message that changed, and rewrites the golden
// file when the test binary runs with -update, as the standard library's
// golden tests do (go/printer, go/doc).
//
// The -update flag is the test's own: declare it in the test package as
//
//	var update = flag.Bool("update", false, "rewrite the golden files")
//
// and Compare reads it by name (a library must not register flags of its
// own: two packages declaring -update would panic). Options.Update does the
// same without a flag.
//
// The transcript format, and what it leaves out so that two recordings of
// the same session compare equal, is in docs/transcript.md (package
// transcript).
package wsviztest
