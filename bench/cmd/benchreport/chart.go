package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Chart geometry, in pixels before the final 2× scaling (the bitmap font is
// 7×13, so the chart is laid out small and enlarged without blurring).
const (
	chartW     = 660
	labelW     = 150 // contender names on the left
	rightW     = 44  // room for the last value label
	topH       = 58  // title and legend
	bottomH    = 30  // axis labels
	barH       = 11
	barGap     = 1
	groupGap   = 10
	chartScale = 2
	// maxRatio is where the axis ends: a longer bar is cut there (its label
	// still gives the figure), so one odd ratio cannot flatten all others.
	maxRatio = 4.0
	// maxGroups bounds the chart's height.
	maxGroups = 40
)

var (
	colBackground = color.RGBA{255, 255, 255, 255}
	colText       = color.RGBA{30, 30, 30, 255}
	colGrid       = color.RGBA{225, 225, 225, 255}
	colBaseline   = color.RGBA{200, 30, 30, 255}
	colWhisker    = color.RGBA{40, 40, 40, 255}
	routeColors   = []color.RGBA{{76, 114, 176, 255}, {85, 168, 104, 255}, {221, 132, 82, 255}}
)

// drawChart draws one group of bars per contender (baseline excluded: it
// is the red line at 1), one bar per route, the length the median req/s
// ratio to the baseline, a whisker over the range of per-round ratios.
func drawChart(w io.Writer, res *results) error {
	var cs []string
	for _, c := range res.contenders() {
		if c != baseline {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return fmt.Errorf("chart: no contender besides the baseline has results")
	}
	if len(cs) > maxGroups {
		return fmt.Errorf("chart: %d contenders, at most %d fit", len(cs), maxGroups)
	}
	xmax := 1.0
	for _, c := range cs {
		for _, route := range speedRoutes {
			if s := spreadOf(res.ratios(c, baseline, route, rps)); s.n > 0 {
				xmax = math.Max(xmax, s.max)
			}
		}
	}
	xmax = math.Min(math.Ceil(xmax*5+0.5)/5, maxRatio) // a step of 0.2 past the longest bar
	groupH := len(speedRoutes)*barH + (len(speedRoutes)-1)*barGap + groupGap
	h := topH + len(cs)*groupH + bottomH
	plotW := chartW - labelW - rightW
	img := image.NewRGBA(image.Rect(0, 0, chartW, h))
	fill(img, img.Bounds(), colBackground)
	xOf := func(v float64) int { return labelW + int(math.Round(math.Min(v, xmax)/xmax*float64(plotW))) }

	text(img, 8, 14, colText, "req/s as a ratio to a no-session baseline run next to it (1 = as fast as no session)")
	text(img, 8, 28, colText, fmt.Sprintf("median of %s rounds, whiskers: range; wrk %s; %s", orQ(res.meta["rounds"]), wrkFlags(res.meta["wrk_command"]), orQ(res.meta["started"])))
	lx := labelW
	for i, route := range speedRoutes {
		fill(img, image.Rect(lx, 38, lx+12, 48), routeColors[i])
		text(img, lx+16, 47, colText, route)
		lx += 16 + 7*len(route) + 18
	}

	plotTop, plotBottom := topH-4, h-bottomH
	for t := 0.0; t <= xmax+1e-9; t += 0.1 {
		x := xOf(t)
		fill(img, image.Rect(x, plotTop, x+1, plotBottom), colGrid)
		if k := int(math.Round(t * 10)); k%2 == 0 {
			label := fmt.Sprintf("%.1f", t)
			text(img, x-7*len(label)/2, plotBottom+15, colText, label)
		}
	}
	// The baseline's line goes under the bars and labels.
	one := xOf(1)
	fill(img, image.Rect(one, plotTop, one+2, plotBottom), colBaseline)
	for i, c := range cs {
		y0 := topH + i*groupH
		text(img, labelW-8-7*len(c), y0+barH+barGap+barH/2+5, colText, c)
		for j, route := range speedRoutes {
			s := spreadOf(res.ratios(c, baseline, route, rps))
			y := y0 + j*(barH+barGap)
			if s.n == 0 {
				text(img, labelW+4, y+barH-1, colText, "not measured")
				continue
			}
			fill(img, image.Rect(labelW, y, max(xOf(s.med), labelW+1), y+barH), routeColors[j])
			end := xOf(s.med)
			if s.n > 1 {
				mid := y + barH/2
				fill(img, image.Rect(xOf(s.min), mid, xOf(s.max)+1, mid+1), colWhisker)
				fill(img, image.Rect(xOf(s.min), mid-2, xOf(s.min)+1, mid+3), colWhisker)
				fill(img, image.Rect(xOf(s.max), mid-2, xOf(s.max)+1, mid+3), colWhisker)
				end = max(end, xOf(s.max))
			}
			label := fmt.Sprintf("%.2f", s.med)
			// A white box keeps the label readable where it crosses a line.
			fill(img, image.Rect(end+3, y, end+5+7*len(label), y+barH), colBackground)
			text(img, end+4, y+barH-1, colText, label)
		}
	}
	fill(img, image.Rect(labelW, plotBottom, chartW-rightW, plotBottom+1), colText)
	return png.Encode(w, scale(img, chartScale))
}

// wrkFlags picks "-t2 -c32 -d5s" out of the recorded wrk command.
func wrkFlags(cmd string) string {
	var t, c, d string
	fmt.Sscanf(cmd, "wrk %s %s %s", &t, &c, &d)
	if t == "" {
		return "?"
	}
	return t + " " + c + " " + d
}

// orQ is orDash for the chart, whose bitmap font has no dash glyph.
func orQ(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

func fill(img *image.RGBA, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
}

func text(img *image.RGBA, x, y int, c color.Color, s string) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// scale enlarges img k times, each pixel a k×k square.
func scale(img *image.RGBA, k int) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()*k, b.Dy()*k))
	for y := 0; y < b.Dy(); y++ {
		src := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):][:4*b.Dx()]
		row := out.Pix[out.PixOffset(0, y*k):][:4*b.Dx()*k]
		for x := 0; x < b.Dx(); x++ {
			for i := 0; i < k; i++ {
				copy(row[4*(x*k+i):], src[4*x:4*x+4])
			}
		}
		for i := 1; i < k; i++ {
			copy(out.Pix[out.PixOffset(0, y*k+i):], row)
		}
	}
	return out
}
