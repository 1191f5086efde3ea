// Package race tells tests whether the race detector is on, so that the
// few expensive tests it adds nothing to can run a part of their cases
// under it (as Go's own tests do with internal/race).
//
// The race detector finds races between goroutines. A randomized test of a
// decoder that runs on one goroutine (the inflater against
// compress/flate, the WebSocket and HTTP/2 round trips) cannot show one,
// and runs five to seven times slower under it: `go test -race ./...`,
// the README's and CI's test command, would spend a third of its time
// there. Under -race such a test keeps a fixed, pseudo-random sample of
// its cases (Keep); without -race it runs all of them.
package race

// Keep reports whether the case named by keys runs: always without the
// race detector; under it, one case in four, chosen by a hash of the keys
// so that every value of each key keeps some of its cases.
func Keep(keys ...int) bool {
	if !Enabled {
		return true
	}
	h := uint64(0x9e3779b97f4a7c15)
	for _, k := range keys {
		h ^= uint64(k)
		// splitmix64's finalizer
		h ^= h >> 30
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 27
		h *= 0x94d049bb133111eb
		h ^= h >> 31
	}
	return h%4 == 0
}
