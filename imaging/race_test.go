//go:build race

package imaging

// raceEnabled is true when the tests run under the race detector.
const raceEnabled = true
