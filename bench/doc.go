// Package bench compares seshat with the session libraries Go users pick
// today (alexedwards/scs, gorilla/sessions) and with Flask on the same work.
// It is its own module so the comparison's dependencies stay out of
// seshat's.
//
// Micro-benchmarks: go test -run '^$' -bench . ./bench/...
//
// Over HTTP, cmd/benchserver serves the same routes with one library at a
// time (flask/app.py the same with Flask under gunicorn), run.sh loads each
// with wrk over several rounds, and cmd/benchreport turns the figures into
// results/latest.md and the chart docs/benchmarks.png. docs/BENCHMARKS.md
// says how to run it and what each number means.
package bench
