package main

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// run is one wrk run of one contender on one route in one round.
type run struct {
	round     int
	contender string
	route     string
	rps       float64
	p50, p99  float64 // microseconds
	errors    int64
	// requests and roundTrips are the benchserver's counter deltas over the
	// run; -1 when the server has none (Flask).
	requests, roundTrips int64
	// redisBefore and redisAfter are INFO commandstats calls per command.
	redisBefore, redisAfter map[string]int64
	// wrkRequests is wrk's count of completed requests.
	wrkRequests int64
	// cpuTicks is the server's user + system CPU time over the run (with
	// its child processes), in clock ticks.
	cpuTicks int64
}

// results is everything run.sh wrote to its TSV file.
type results struct {
	meta    map[string]string
	heap    map[string]float64 // benchmark name → bytes per idle session
	runs    []run
	skipped []string // "contender: reason"
	failed  []string
}

// parse reads run.sh's TSV: one record per line, its kind in the first
// field (meta, heap, run, skip, fail).
func parse(r io.Reader) (*results, error) {
	res := &results{meta: map[string]string{}, heap: map[string]float64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		f := strings.Split(sc.Text(), "\t")
		if len(f) == 1 && f[0] == "" {
			continue
		}
		bad := func(why string) error { return fmt.Errorf("line %d: %s: %s", n, f[0], why) }
		switch f[0] {
		case "meta":
			if len(f) != 3 {
				return nil, bad("want 3 fields")
			}
			res.meta[f[1]] = f[2]
		case "heap":
			if len(f) != 3 {
				return nil, bad("want 3 fields")
			}
			v, err := strconv.ParseFloat(f[2], 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, bad("want a finite number")
			}
			res.heap[f[1]] = v
		case "skip", "fail":
			if len(f) != 3 {
				return nil, bad("want 3 fields")
			}
			s := f[1] + ": " + f[2]
			if f[0] == "skip" {
				res.skipped = append(res.skipped, s)
			} else {
				res.failed = append(res.failed, s)
			}
		case "run":
			if len(f) != 14 {
				return nil, bad("want 14 fields")
			}
			rn, err := parseRun(f[1:])
			if err != nil {
				return nil, bad(err.Error())
			}
			res.runs = append(res.runs, rn)
		default:
			return nil, bad("unknown record kind")
		}
	}
	return res, sc.Err()
}

func parseRun(f []string) (run, error) {
	var r run
	var err error
	num := func(s string) float64 {
		if err != nil {
			return 0
		}
		var v float64
		v, err = strconv.ParseFloat(s, 64)
		if err == nil && (math.IsNaN(v) || math.IsInf(v, 0) || v < 0) {
			err = fmt.Errorf("%q: want a finite number ≥ 0", s)
		}
		return v
	}
	count := func(s string) int64 {
		if s == "-" || s == "" || err != nil {
			return -1
		}
		var v int64
		v, err = strconv.ParseInt(s, 10, 64)
		return v
	}
	r.round = int(num(f[0]))
	r.contender, r.route = f[1], f[2]
	r.rps, r.p50, r.p99 = num(f[3]), num(f[4]), num(f[5])
	r.errors = count(f[6])
	r.wrkRequests = count(f[7])
	r.requests, r.roundTrips = count(f[8]), count(f[9])
	r.cpuTicks = count(f[12])
	if err != nil {
		return r, err
	}
	if r.redisBefore, err = parseCalls(f[10]); err != nil {
		return r, err
	}
	r.redisAfter, err = parseCalls(f[11])
	return r, err
}

// parseCalls reads "cmd=calls,cmd=calls"; "-" or "" is no data (nil).
func parseCalls(s string) (map[string]int64, error) {
	if s == "-" || s == "" {
		return nil, nil
	}
	m := map[string]int64{}
	for kv := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("commandstats %q: want cmd=calls", kv)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("commandstats %q: %w", kv, err)
		}
		m[k] = n
	}
	return m, nil
}

// cpuPerRequest is a metric: the server's CPU time per request in
// microseconds (0 when not measured), counted against the requests the
// server served, or wrk's count when it has no counter.
func (res *results) cpuPerRequest(r run) float64 {
	tck, err := strconv.ParseFloat(res.meta["clk_tck"], 64)
	n := r.requests
	if n < 0 {
		n = r.wrkRequests
	}
	if err != nil || tck <= 0 || n <= 0 || r.cpuTicks <= 0 {
		return 0
	}
	return float64(r.cpuTicks) / tck * 1e6 / float64(n)
}

// median of xs (which it sorts); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// spread is a median with the smallest and largest value it was taken of.
type spread struct {
	med, min, max float64
	n             int
}

func spreadOf(xs []float64) spread {
	if len(xs) == 0 {
		return spread{}
	}
	return spread{med: median(xs), min: slices.Min(xs), max: slices.Max(xs), n: len(xs)}
}

// ratios gives, for contender c on route, one ratio of metric per round.
// Against the baseline, each of c's runs is divided by the baseline run of
// the same round and route that run.sh measured nearest to it (the one just
// before it when run.sh pairs them, PAIRED=1; otherwise the round's only
// one), so that a shared machine's drift between the two counts as little
// as it can. Against any other contender, it is the ratio of the two
// contenders' ratios to their baselines in the same round: what the issue's
// "1.3× scs's Redis ratio" means, and equal to their plain ratio when one
// baseline serves the whole round. Rounds where a run is missing are left
// out; the result is in round order.
func (res *results) ratios(c, ref, route string, metric func(run) float64) []float64 {
	mine := res.toBaseline(c, route, metric)
	if ref != baseline {
		theirs := res.toBaseline(ref, route, metric)
		for round, x := range mine {
			if y, ok := theirs[round]; ok && y > 0 {
				mine[round] = x / y
			} else {
				delete(mine, round)
			}
		}
	}
	rounds := slices.Sorted(maps.Keys(mine))
	out := make([]float64, 0, len(rounds))
	for _, round := range rounds {
		out = append(out, mine[round])
	}
	return out
}

// baseline is the contender that keeps no session.
const baseline = "baseline"

// toBaseline maps each round to the ratio of c's metric on route to that
// of the baseline run measured nearest to it (see ratios).
func (res *results) toBaseline(c, route string, metric func(run) float64) map[int]float64 {
	out := map[int]float64{}
	for i, r := range res.runs {
		if r.contender != c || r.route != route {
			continue
		}
		j := res.nearest(i, baseline)
		if j < 0 {
			continue
		}
		if b := metric(res.runs[j]); b > 0 {
			out[r.round] = metric(r) / b
		}
	}
	return out
}

// nearest is the index of ref's run of the same round and route as run i
// that lies nearest to it in measurement order, the earlier one on a tie;
// -1 when there is none.
func (res *results) nearest(i int, ref string) int {
	r, best := res.runs[i], -1
	for j, q := range res.runs {
		if q.contender != ref || q.route != r.route || q.round != r.round {
			continue
		}
		if best < 0 || abs(j-i) < abs(best-i) {
			best = j
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// values lists metric over the rounds of c on route.
func (res *results) values(c, route string, metric func(run) float64) []float64 {
	var out []float64
	for _, r := range res.runs {
		if r.contender == c && r.route == route {
			out = append(out, metric(r))
		}
	}
	return out
}

// contenders lists the contenders with runs, baseline first, then in the
// order of first appearance.
func (res *results) contenders() []string {
	var out []string
	for _, r := range res.runs {
		if !slices.Contains(out, r.contender) {
			out = append(out, r.contender)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == baseline:
			return -1
		case b == baseline:
			return 1
		}
		return 0
	})
	return out
}

// connSetup are the commands a Redis client sends when it opens a
// connection, or run.sh itself: not part of any request's work.
var connSetup = map[string]bool{"info": true, "hello": true, "client|setinfo": true, "client|setname": true, "ping": true, "select": true, "auth": true}

// perRequest is a contender's engine traffic on one route, summed over its
// rounds: round trips counted in the client, Redis commands counted by the
// server (INFO commandstats), each divided by the requests served.
type perRequest struct {
	requests   int64
	roundTrips float64            // per request; -1 when not counted
	commands   map[string]float64 // per request, by command; nil when not counted
}

func (res *results) perRequest(c, route string) perRequest {
	var req, rt int64
	counted := false
	var cmds map[string]int64
	for _, r := range res.runs {
		if r.contender != c || r.route != route || r.requests < 0 || r.roundTrips < 0 {
			continue
		}
		counted = true
		req += r.requests
		rt += r.roundTrips
		if r.redisBefore != nil && r.redisAfter != nil {
			if cmds == nil {
				cmds = map[string]int64{}
			}
			for k, after := range r.redisAfter {
				if d := after - r.redisBefore[k]; d > 0 && !connSetup[k] {
					cmds[k] += d
				}
			}
		}
	}
	p := perRequest{requests: req, roundTrips: -1}
	if !counted || req == 0 {
		return p
	}
	p.roundTrips = float64(rt) / float64(req)
	if cmds != nil {
		p.commands = map[string]float64{}
		for k, v := range cmds {
			p.commands[k] = float64(v) / float64(req)
		}
	}
	return p
}
