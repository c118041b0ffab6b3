// Command benchreport turns the raw figures bench/run.sh collects (a TSV
// file) into the markdown report and the PNG chart:
//
//	benchreport -in bench/results/latest.tsv -md bench/results/latest.md -png docs/benchmarks.png
//
// Every ratio it prints is a median over rounds of a ratio taken within one
// round (a contender against the baseline measured minutes before it), so a
// machine that slows down between rounds moves both sides of each ratio.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
)

func main() {
	in := flag.String("in", "bench/results/latest.tsv", "raw results written by run.sh")
	md := flag.String("md", "", "markdown report to write (empty: standard output)")
	png := flag.String("png", "", "PNG chart to write (empty: none)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("benchreport: ")
	if err := report(*in, *md, *png); err != nil {
		log.Fatal(err)
	}
}

func report(in, mdPath, pngPath string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	res, err := parse(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	var md bytes.Buffer
	writeMarkdown(&md, res, pngPath)
	if mdPath == "" {
		_, err = os.Stdout.Write(md.Bytes())
	} else {
		err = os.WriteFile(mdPath, md.Bytes(), 0o644)
	}
	if err != nil || pngPath == "" {
		return err
	}
	var img bytes.Buffer
	if err := drawChart(&img, res); err != nil {
		return err
	}
	return os.WriteFile(pngPath, img.Bytes(), 0o644)
}
