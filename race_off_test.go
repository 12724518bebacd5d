//go:build !race

package sessionkit

const raceEnabled = false
