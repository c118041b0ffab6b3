//go:build !race

package seshat

const raceEnabled = false
