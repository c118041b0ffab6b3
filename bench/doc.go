// Package bench compares seshat with the session libraries Go users pick
// today (alexedwards/scs, gorilla/sessions) on the same work. It is its own
// module so the comparison's dependencies stay out of seshat's.
//
// Run: go test -run '^$' -bench . ./bench/...
//
// Over HTTP, cmd/benchserver serves the same routes with one library at a
// time and run.sh loads each with wrk; see run.sh for its settings and
// results/latest.md for the last recorded run.
package bench
