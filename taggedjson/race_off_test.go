//go:build !race

package taggedjson_test

const raceEnabled = false
