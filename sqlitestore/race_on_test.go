//go:build race

package sqlitestore

// raceEnabled scales the heaviest tests down: modernc.org/sqlite is C
// translated to Go, and the race detector slows it down about 30 times.
const raceEnabled = true
