//go:build race

package seshat

// The race detector changes what allocates, so allocation counts are
// checked only in a normal build.
const raceEnabled = true
