//go:build !race

package display

const raceEnabled = false
