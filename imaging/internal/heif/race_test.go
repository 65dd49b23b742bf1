//go:build race

package heif

// raceEnabled reports whether the race detector is on: the tests that
// measure memory then skip, as its shadow memory counts in RSS.
const raceEnabled = true
