package main

import (
	"fmt"
	"io"
	"strconv"
)

// target is one of issue 7's goals, checked against a run.
type target struct {
	name string
	// measure returns the figure and whether the run has what it needs.
	measure func(res *results) (spread, bool)
	// met says whether the figure reaches the goal.
	met  func(v float64) bool
	goal string
}

func atLeast(x float64) func(float64) bool { return func(v float64) bool { return v >= x } }

// atMost allows 0.005 over x: round trips are averages over thousands of
// requests, and a connection's first use adds a fraction (a script load).
func atMost(x float64) func(float64) bool { return func(v float64) bool { return v <= x+0.005 } }

// ratioTo is the median per-round req/s ratio of c to ref on route (see
// results.ratios: for a ref other than the baseline, the ratio of their
// ratios to the baseline).
func ratioTo(c, ref, route string) func(*results) (spread, bool) {
	return func(res *results) (spread, bool) {
		s := spreadOf(res.ratios(c, ref, route, rps))
		return s, s.n > 0
	}
}

func roundTrips(c, route string) func(*results) (spread, bool) {
	return func(res *results) (spread, bool) {
		pr := res.perRequest(c, route)
		return spread{med: pr.roundTrips, min: pr.roundTrips, max: pr.roundTrips, n: 1}, pr.roundTrips >= 0
	}
}

func heapRatio(res *results) (spread, bool) {
	a, okA := res.heap[heapSeshat]
	b, okB := res.heap[heapScs]
	if !okA || !okB || b == 0 {
		return spread{}, false
	}
	return spread{med: a / b, min: a / b, max: a / b, n: 1}, true
}

var targets = []target{
	{"seshat-cookie /read ÷ baseline", ratioTo("seshat-cookie", baseline, "/read"), atLeast(0.85), "≥ 0.85"},
	{"seshat-cookie /write ÷ baseline", ratioTo("seshat-cookie", baseline, "/write"), atLeast(0.80), "≥ 0.80"},
	{"seshat-memstore /read ÷ baseline", ratioTo("seshat-memstore", baseline, "/read"), atLeast(0.80), "≥ 0.80"},
	{"seshat-memstore /write ÷ baseline", ratioTo("seshat-memstore", baseline, "/write"), atLeast(0.70), "≥ 0.70"},
	{"seshat-redis ÷ scs-redis req/s, /read", ratioTo("seshat-redis", "scs-redis", "/read"), atLeast(1.3), "≥ 1.30"},
	{"seshat-redis ÷ scs-redis req/s, /write", ratioTo("seshat-redis", "scs-redis", "/write"), atLeast(1.3), "≥ 1.30"},
	{"heap per idle session, seshat memstore ÷ scs memstore", heapRatio, atMost(1), "≤ 1"},
	{"seshat-redis round trips, /untouched", roundTrips("seshat-redis", "/untouched"), atMost(0), "0"},
	{"seshat-redis round trips, /read", roundTrips("seshat-redis", "/read"), atMost(1), "1"},
	{"seshat-redis round trips, /write", roundTrips("seshat-redis", "/write"), atMost(2), "≤ 2"},
	{"seshat-cookie ÷ flask-gunicorn req/s, /login", ratioTo("seshat-cookie", "flask-gunicorn", "/login"), atLeast(10), "≥ 10"},
	{"seshat-cookie ÷ flask-gunicorn req/s, /read", ratioTo("seshat-cookie", "flask-gunicorn", "/read"), atLeast(10), "≥ 10"},
	{"seshat-cookie ÷ flask-gunicorn req/s, /write", ratioTo("seshat-cookie", "flask-gunicorn", "/write"), atLeast(10), "≥ 10"},
}

// writeTargets prints each target of issue 7 that this harness measures,
// met or not, with the figure; a target whose contenders did not run says
// so.
func writeTargets(w io.Writer, res *results) {
	fmt.Fprintf(w, "\n## Issue 7 targets measured here\n\n")
	fmt.Fprintf(w, "Ratios are medians over rounds (range in brackets). The cookie codec targets are micro-benchmarks: see docs/BENCHMARKS.md.\n\n")
	fmt.Fprintf(w, "| target | goal | measured | |\n|---|---|---:|---|\n")
	for _, t := range targets {
		s, ok := t.measure(res)
		if !ok {
			fmt.Fprintf(w, "| %s | %s | — | not measured |\n", t.name, t.goal)
			continue
		}
		verdict := "not met"
		if t.met(s.med) {
			verdict = "**met**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", t.name, t.goal, fmtTarget(s, t.met), verdict)
	}
}

// fmtTarget prints s as fmtSpread does, but with as many decimals in the
// median (up to 4) as it takes for the printed figure to meet the goal
// exactly when the figure itself does: 9.998 is not printed as a 10.00 that
// is "not met".
func fmtTarget(s spread, met func(float64) bool) string {
	digits := 2
	for s.n > 0 && digits < 4 {
		shown, err := strconv.ParseFloat(strconv.FormatFloat(s.med, 'f', digits, 64), 64)
		if err != nil || met(shown) == met(s.med) {
			break
		}
		digits++
	}
	return fmtSpreadDigits(s, digits)
}
