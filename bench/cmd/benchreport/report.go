package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// speedRoutes are the routes of the speed tables and the chart; /untouched
// is run only to count round trips.
var speedRoutes = []string{"/login", "/read", "/write"}

func rps(r run) float64 { return r.rps }
func p50(r run) float64 { return r.p50 }
func p99(r run) float64 { return r.p99 }

func ms(us float64) string { return fmt.Sprintf("%.2f ms", us/1000) }

// fmtSpread prints a median ratio and, over several rounds, its range.
func fmtSpread(s spread) string { return fmtSpreadDigits(s, 2) }

// fmtSpreadDigits is fmtSpread with digits decimals in the median (the
// range keeps two).
func fmtSpreadDigits(s spread, digits int) string {
	if s.n == 0 {
		return "—"
	}
	if s.n == 1 {
		return fmt.Sprintf("%.*f", digits, s.med)
	}
	return fmt.Sprintf("%.*f (%.2f–%.2f)", digits, s.med, s.min, s.max)
}

func writeMarkdown(w io.Writer, res *results, pngPath string) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	m := res.meta
	p("# HTTP benchmark: session libraries against a no-session baseline\n\n")
	p("Written by `bench/cmd/benchreport` from `%s` (raw figures: `bench/results/latest.tsv`).\n\n", orDash(m["command"]))
	p("- Date: %s; run took %s.\n", orDash(m["started"]), orDash(m["elapsed"]))
	p("- Machine: %s; %s; %s.\n", orDash(m["machine"]), orDash(m["go"]), orDash(m["wrk"]))
	p("- Load average (1, 5, 15 min) at start %s, at end %s. The machine is shared: other jobs may have run.\n", orDash(m["load_start"]), orDash(m["load_end"]))
	p("- Server and wrk share the host's CPUs over 127.0.0.1. Redis: %s. Flask: %s.\n", orDash(m["redis"]), orDash(m["flask"]))
	p("- Each route: `%s`. On /read and /write every connection logs in once and then sends its cookie; on /login every request logs in afresh.\n", orDash(m["wrk_command"]))
	if m["profiles"] != "" {
		p("- %s.\n", m["profiles"])
	}
	if m["paired"] == "1" {
		p("- %s rounds, the contenders in an order rotated by one each round; `baseline` (same routes, no session) is measured on each route just before each contender, so that each ratio compares two runs seconds apart. ", orDash(m["rounds"]))
	} else {
		p("- %s rounds; in each, `baseline` (same routes, no session) first, then the contenders in an order rotated by one each round. ", orDash(m["rounds"]))
	}
	p("Each ratio is the **median over rounds** of (contender ÷ the baseline run nearest to it in the same round); the range after it is the smallest and largest of those per-round ratios. ")
	p("req/s ratios below 1 and latency ratios above 1 mean slower than no session at all.\n")

	cs := res.contenders()
	p("\n## req/s as a ratio to the baseline\n\n")
	p("| contender | /login | /read | /write |\n|---|---:|---:|---:|\n")
	for _, c := range cs {
		p("| %s |", c)
		for _, route := range speedRoutes {
			p(" %s |", fmtSpread(spreadOf(res.ratios(c, baseline, route, rps))))
		}
		p("\n")
	}
	if pngPath != "" {
		p("\nChart: `%s` (the same ratios; whiskers show the range over rounds).\n", pngPath)
	}

	writeWireFloor(p, res, cs)

	// CPU time per request moves much less than req/s when other jobs take
	// the machine's CPUs: it is what the server spent, not what it got.
	cpu := res.cpuPerRequest
	p("\n## Server CPU time per request as a multiple of the baseline's\n\n")
	p("User + system CPU time of the server process (with gunicorn's workers) over each wrk run, from /proc, divided by the requests it served: ")
	p("what a request costs the server, whatever share of the CPUs it got. It leaves out wrk and, for the Redis and PostgreSQL contenders, the database server's own work. ")
	p("Median over rounds of (contender ÷ the baseline run nearest to it in the same round); above 1 means costlier than no session.\n\n")
	p("| contender | /login | /read | /write | µs per /read request |\n|---|---:|---:|---:|---:|\n")
	for _, c := range cs {
		p("| %s |", c)
		for _, route := range speedRoutes {
			p(" %s |", fmtSpread(spreadOf(positive(res.ratios(c, baseline, route, cpu)))))
		}
		if v := positive(res.values(c, "/read", cpu)); len(v) > 0 {
			p(" %.1f |\n", median(v))
		} else {
			p(" — |\n")
		}
	}

	for _, route := range speedRoutes {
		p("\n## `%s`\n\n", route)
		p("| contender | req/s | × baseline | p50 | × baseline | p99 | × baseline | errors |\n")
		p("|---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, c := range cs {
			v := res.values(c, route, rps)
			if len(v) == 0 {
				continue
			}
			var errs int64
			for _, r := range res.runs {
				if r.contender == c && r.route == route {
					errs += max(r.errors, 0)
				}
			}
			p("| %s | %.0f | %s | %s | %.2f | %s | %.2f | %d |\n", c, median(v),
				fmtSpread(spreadOf(res.ratios(c, baseline, route, rps))),
				ms(median(res.values(c, route, p50))), median(res.ratios(c, baseline, route, p50)),
				ms(median(res.values(c, route, p99))), median(res.ratios(c, baseline, route, p99)),
				errs)
		}
	}
	p("\nreq/s, p50 and p99 are medians over rounds; errors (non-2xx responses and socket errors wrk counted) are summed.\n")

	writeRoundTrips(w, res, cs)
	writeHeap(w, res)
	writeTargets(w, res)

	for _, sec := range []struct {
		title string
		lines []string
	}{{"Skipped", res.skipped}, {"Failed", res.failed}} {
		if len(sec.lines) == 0 {
			continue
		}
		p("\n## %s\n\n", sec.title)
		for _, s := range sec.lines {
			p("- %s\n", s)
		}
	}
}

// positive drops the zeros of unmeasured figures.
func positive(xs []float64) []float64 {
	out := xs[:0]
	for _, x := range xs {
		if x > 0 {
			out = append(out, x)
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// writeRoundTrips prints, for each contender that talks to an engine over
// the network, its round trips per request by route.
func writeRoundTrips(w io.Writer, res *results, cs []string) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	routes := append([]string{"/untouched"}, speedRoutes...)
	header := false
	for _, c := range cs {
		if !strings.Contains(c, "redis") && !strings.Contains(c, "postgres") {
			continue
		}
		if !header {
			header = true
			p("\n## Round trips to the session engine per request\n\n")
			p("Counted in the benchserver (a go-redis hook: one per command or pipeline, and one per command of a pipeline in which redisstore batched concurrent requests, since each of them waited for it; a pgx tracer: one per statement, batch or prepare) ")
			p("and, for Redis, by the server: `INFO commandstats` deltas on run.sh's private redis-server, without connection set-up commands (HELLO, CLIENT SETINFO, PING). ")
			p("Both are divided by the requests the benchserver served during the wrk runs of that route; /untouched (a handler that never reads its session) ran in round 1 only.\n\n")
			p("| contender | route | round trips / request | Redis commands / request (commandstats) |\n|---|---|---:|---|\n")
		}
		for _, route := range routes {
			pr := res.perRequest(c, route)
			if pr.roundTrips < 0 {
				continue
			}
			cmds := "—"
			if strings.Contains(c, "redis") && pr.commands != nil {
				cmds = fmtCommands(pr.commands)
			}
			p("| %s | %s | %.2f | %s |\n", c, route, pr.roundTrips, cmds)
		}
	}
}

// fmtCommands prints commands per request, most frequent first.
func fmtCommands(m map[string]float64) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			if m[a] > m[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	var parts []string
	total := 0.0
	for _, k := range keys {
		total += m[k]
		if m[k] >= 0.005 {
			parts = append(parts, fmt.Sprintf("%s %.2f", strings.ToUpper(k), m[k]))
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return fmt.Sprintf("%.2f: %s", total, strings.Join(parts, ", "))
}

const (
	heapSeshat = "BenchmarkIdleHeapSeshatMemstore"
	heapScs    = "BenchmarkIdleHeapScsMemstore"
)

func writeHeap(w io.Writer, res *results) {
	if len(res.heap) == 0 {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("\n## Heap per idle session\n\n")
	p("`bench/idle_test.go`: 50,000 sessions created through each library's API with the same values, live heap after GC divided by 50,000.\n\n")
	p("| store | bytes per idle session |\n|---|---:|\n")
	for _, k := range slices.Sorted(maps.Keys(res.heap)) {
		p("| %s | %.0f |\n", strings.TrimPrefix(k, "BenchmarkIdleHeap"), res.heap[k])
	}
}

// wireFloor is the contender that exchanges seshat-cookie's bytes with no
// session work (bench/cmd/benchserver/wire.go).
const wireFloor = "wire-floor"

// writeWireFloor splits each seshat contender's distance from the baseline
// in two: what carrying the session over HTTP costs (wire-floor ÷
// baseline) and what the library itself costs (contender ÷ wire-floor).
func writeWireFloor(p func(string, ...any), res *results, cs []string) {
	if len(res.values(wireFloor, "/read", rps)) == 0 {
		return
	}
	p("\n## req/s as a ratio to the wire floor\n\n")
	p("`%s` sends and receives exactly seshat-cookie's bytes (the same cookie in, the same Set-Cookie, Vary and Cache-Control out) from constants, with no session work. ", wireFloor)
	p("Its own ratio to the baseline is what carrying a session over HTTP costs any library; a contender's ratio to it (its ratio to the baseline ÷ the floor's, in the same round; median and range over rounds) is what the library adds on top.\n\n")
	p("| contender | /read | /write |\n|---|---:|---:|\n")
	for _, c := range cs {
		if c == wireFloor || !strings.HasPrefix(c, "seshat-") {
			continue
		}
		p("| %s |", c)
		for _, route := range []string{"/read", "/write"} {
			p(" %s |", fmtSpread(spreadOf(res.ratios(c, wireFloor, route, rps))))
		}
		p("\n")
	}
}
