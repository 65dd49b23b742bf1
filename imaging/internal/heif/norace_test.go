//go:build !race

package heif

const raceEnabled = false
