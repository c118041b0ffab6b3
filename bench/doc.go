// Package bench compares seshat with the session libraries Go users pick
// today (alexedwards/scs, gorilla/sessions) on the same work. It is its own
// module so the comparison's dependencies stay out of seshat's.
//
// Run: go test -run '^$' -bench . ./bench/...
package bench
