// Package jsonenc holds the encoders behind `wsviz events`: JSON strings
// and numbers, base64, timestamps, and the notes of the events that come
// by the thousand (frames, data messages, pings). They carry most of the
// bytes wsviz writes, so each is several times faster than its standard
// library form while giving exactly its output (the tests compare them
// with encoding/json, encoding/base64, strconv and Time.AppendFormat, and
// fuzz the fast paths against simple ones).
//
// The package analyze lays out an event's fields with these encoders
// (analyze/json.go); its Event stays plain data: every speed trick lives
// here. The one that crosses from building to encoding is Notes: the notes
// it builds need no escaping, and Notes.AppendString, given a note it
// built, copies it without looking at it.
//
// On amd64 base64 is encoded with AVX2 or SSSE3 where the CPU has them
// (base64_amd64.s), and strings are escaped 32 bytes at a time with AVX2
// (escape_amd64.s); the portable loops do the rest and run elsewhere (or
// with the purego build tag).
package jsonenc
