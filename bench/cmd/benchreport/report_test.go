package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sample(t *testing.T) *results {
	t.Helper()
	f, err := os.Open("testdata/sample.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestMedianAndRatios(t *testing.T) {
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median of 3 values: %v, want 2", got)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median of 4 values: %v, want 2.5", got)
	}
	res := sample(t)
	// Round 1: 27000 / 30000, round 2: 16000 / 20000: each ratio is taken
	// within its round.
	s := spreadOf(res.ratios("seshat-cookie", "baseline", "/read", rps))
	if s.n != 2 || s.min != 0.8 || s.max != 0.9 {
		t.Errorf("seshat-cookie /read ratios: %+v, want 0.80 and 0.90", s)
	}
	pr := res.perRequest("seshat-redis", "/write")
	if pr.roundTrips != 2 {
		t.Errorf("seshat-redis /write round trips: %v, want 2", pr.roundTrips)
	}
	if pr.commands["hset"] != 2 || pr.commands["evalsha"] != 1 || pr.commands["info"] != 0 || pr.commands["hello"] != 0 {
		t.Errorf("seshat-redis /write commands: %v, want hset 2, evalsha 1, no info or hello", pr.commands)
	}
	if pr := res.perRequest("flask-gunicorn", "/read"); pr.roundTrips != -1 {
		t.Errorf("flask-gunicorn has no counters, got round trips %v", pr.roundTrips)
	}
}

func TestMarkdown(t *testing.T) {
	var b bytes.Buffer
	writeMarkdown(&b, sample(t), "docs/benchmarks.png")
	md := b.String()
	for _, want := range []string{
		"| seshat-cookie | 0.85 (0.80–0.90) | 0.85 (0.80–0.90) | 0.80 (0.80–0.80) |",
		"| scs-redis | /untouched | 1.00 | 1.00: GET 1.00 |",
		"| seshat-redis | /untouched | 0.00 | 0 |",
		"| seshat-cookie /write ÷ baseline | ≥ 0.80 | 0.80 (0.80–0.80) | **met** |",
		"| seshat-redis ÷ scs-redis req/s, /read | ≥ 1.30 | 1.50 (1.50–1.50) | **met** |",
		"| seshat-memstore /read ÷ baseline | ≥ 0.80 | — | not measured |",
		"| heap per idle session, seshat memstore ÷ scs memstore | ≤ 1 | 0.46 | **met** |",
		"| seshat-cookie ÷ flask-gunicorn req/s, /read | ≥ 10 | 21.50 (16.00–27.00) | **met** |",
		"- seshat-postgres: PostgreSQL unreachable",
		"| seshat-cookie | 1.20 (1.20–1.20) | 1.20 (1.20–1.20) | 1.20 (1.20–1.20) | 60.0 |",
		// seshat-cookie ÷ wire-floor: /read 27000/30000 and 16000/20000,
		// /write 24000/30000 in both rounds.
		"| seshat-cookie | 0.85 (0.80–0.90) | 0.80 (0.80–0.80) |",
		"| flask-gunicorn | 40.00 (40.00–40.00) | 40.00 (40.00–40.00) | 40.00 (40.00–40.00) | 2000.0 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}

func TestChart(t *testing.T) {
	var b bytes.Buffer
	if err := drawChart(&b, sample(t)); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	groups := 5 // every contender but the baseline (wire-floor included)
	wantH := (topH + groups*(3*barH+2*barGap+groupGap) + bottomH) * chartScale
	if got := img.Bounds(); got.Dx() != chartW*chartScale || got.Dy() != wantH {
		t.Fatalf("chart is %v, want %d×%d", got, chartW*chartScale, wantH)
	}
	// The first bar (seshat-cookie /login) starts at the axis.
	r, g, bl, _ := img.At((labelW+2)*chartScale, (topH+2)*chartScale).RGBA()
	c := routeColors[0]
	if r>>8 != uint32(c.R) || g>>8 != uint32(c.G) || bl>>8 != uint32(c.B) {
		t.Errorf("first bar pixel is %d,%d,%d, want the /login colour %v", r>>8, g>>8, bl>>8, c)
	}
}

func TestReportWritesFiles(t *testing.T) {
	dir := t.TempDir()
	md, pngPath := filepath.Join(dir, "r.md"), filepath.Join(dir, "c.png")
	if err := report("testdata/sample.tsv", md, pngPath); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{md, pngPath} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v (size %v)", p, err, fi)
		}
	}
}

func TestParseRejectsBadInput(t *testing.T) {
	for _, in := range []string{
		"run\t1\tbaseline\t/read\n",
		"heap\tX\tnot-a-number\n",
		"what\tis\tthis\n",
		"run\t1\tc\t/read\t1\t2\t3\t0\t5\t5\t0\tget\tget=1\t9\n",
		"run\t1\tc\t/read\t1\t2\t3\t0\t5\t5\t0\t-\t-\n",
	} {
		if _, err := parse(strings.NewReader(in)); err == nil {
			t.Errorf("parse(%q) accepted it", in)
		}
	}
}

// With PAIRED=1 run.sh measures the baseline before each contender: each
// run is divided by the baseline run nearest to it (the earlier on a tie),
// and a ratio between two contenders is the ratio of their ratios.
func TestPairedRatios(t *testing.T) {
	line := func(round, c string, rps string) string {
		return "run\t" + round + "\t" + c + "\t/read\t" + rps + "\t900\t9000\t0\t100\t100\t0\t-\t-\t10\n"
	}
	tsv := "meta\tpaired\t1\n" +
		line("1", "baseline", "30000") + line("1", "a", "27000") +
		line("1", "baseline", "20000") + line("1", "b", "16000") +
		line("2", "baseline", "10000") + line("2", "a", "5000")
	res, err := parse(strings.NewReader(tsv))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.ratios("a", baseline, "/read", rps); len(got) != 2 || got[0] != 0.9 || got[1] != 0.5 {
		t.Errorf("a ÷ baseline: %v, want [0.9 0.5] (27000/30000, then 5000/10000)", got)
	}
	if got := res.ratios("b", baseline, "/read", rps); len(got) != 1 || got[0] != 0.8 {
		t.Errorf("b ÷ baseline: %v, want [0.8] (16000/20000, the baseline just before it)", got)
	}
	// Round 2 has no b: only round 1 counts, 0.9 / 0.8.
	if got := res.ratios("a", "b", "/read", rps); len(got) != 1 || got[0] != 0.9/0.8 {
		t.Errorf("a ÷ b: %v, want [%v]", got, 0.9/0.8)
	}
	if got := res.ratios(baseline, baseline, "/read", rps); len(got) != 2 || got[0] != 1 || got[1] != 1 {
		t.Errorf("baseline ÷ baseline: %v, want [1 1]", got)
	}
	var b bytes.Buffer
	writeMarkdown(&b, res, "x.png")
	if !strings.Contains(b.String(), "measured on each route just before each contender") {
		t.Errorf("report does not say the baseline was paired:\n%s", b.String())
	}
}

// A figure just under its goal must not print as the goal: the target table
// shows as many decimals as it takes for the printed figure to agree with the
// verdict.
func TestTargetFigureAgreesWithVerdict(t *testing.T) {
	ten := atLeast(10)
	for _, c := range []struct {
		s    spread
		met  func(float64) bool
		want string
	}{
		{spread{med: 9.998, min: 7.04, max: 10.67, n: 5}, ten, "9.998 (7.04–10.67)"},
		{spread{med: 9.9999, min: 9, max: 11, n: 3}, ten, "9.9999 (9.00–11.00)"},
		{spread{med: 10.004, min: 9, max: 11, n: 3}, ten, "10.00 (9.00–11.00)"},
		{spread{med: 0.8449, min: 0.8, max: 0.9, n: 3}, atLeast(0.85), "0.84 (0.80–0.90)"},
		{spread{med: 0.8496, min: 0.8, max: 0.9, n: 3}, atLeast(0.85), "0.8496 (0.80–0.90)"},
		{spread{med: 0.86, min: 0.8, max: 0.9, n: 3}, atLeast(0.85), "0.86 (0.80–0.90)"},
		{spread{med: 0.41, min: 0.41, max: 0.41, n: 1}, atMost(1), "0.41"},
		{spread{med: 2.004, min: 2.004, max: 2.004, n: 1}, atMost(2), "2.00"},
		{spread{}, ten, "—"},
	} {
		if got := fmtTarget(c.s, c.met); got != c.want {
			t.Errorf("fmtTarget(%+v) = %q, want %q", c.s, got, c.want)
		}
	}
}
