//go:build race

package jpegscale

// raceEnabled reports whether the race detector is on: the corpus comparison
// then takes minutes, so it runs without it (scripts/check.sh does both).
const raceEnabled = true
