package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// FuzzParse feeds parse arbitrary text: it must return results or an error,
// never panic, and the report and chart of what it accepts must render.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("testdata/sample.tsv"); err == nil {
		f.Add(string(b))
	}
	f.Add("run\t1\tbaseline\t/read\t1e308\t-1\tNaN\t0\t1\t-\t-\t-\t-\t0\n")
	f.Add("meta\tclk_tck\t100\nrun\t1\tc\t/write\t5\t1\t1\t0\t5\t5\t9\ta=1,b=2\ta=3\t7\n")
	f.Fuzz(func(t *testing.T, in string) {
		res, err := parse(strings.NewReader(in))
		if err != nil {
			return
		}
		var b bytes.Buffer
		writeMarkdown(&b, res, "")
		// The chart of a few contenders: larger ones only take longer.
		if n := len(res.contenders()); n > 1 && n <= 8 {
			b.Reset()
			if err := drawChart(&b, res); err != nil {
				t.Fatalf("drawChart: %v", err)
			}
		}
	})
}
