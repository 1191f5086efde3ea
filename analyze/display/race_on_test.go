//go:build race

package display

// raceEnabled: the race detector allocates on its own.
const raceEnabled = true
