// Command benchchart draws scripts/bench.sh's workload matrix as an SVG bar
// chart: one group of bars per workload, each server's speed relative to the
// baseline (the libvips peer, else the stock pipeline: its bars are all 1.0,
// and a dashed line marks 1.0); hovering a bar shows its geometric-mean time.
//
//	benchchart -title "..." < matrix.tsv > chart.svg
//
// Input: a header line of server names after the workload column, e.g.
// "workload<TAB>imgsvc<TAB>libvips<TAB>stock", then one line per workload
// with each server's geometric-mean time in ms ("-" or "n/a" when it did
// not run). -baseline names the server the others are measured against.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

func main() {
	title := flag.String("title", "Speed relative to the libvips peer", "chart title")
	note := flag.String("note", "", "a line under the title: the run's conditions")
	baseline := flag.String("baseline", "libvips", "the server the others are measured against")
	flag.Parse()
	if err := run(os.Stdin, os.Stdout, *title, *note, *baseline); err != nil {
		fmt.Fprintf(os.Stderr, "benchchart: %v\n", err)
		os.Exit(1)
	}
}

type row struct {
	name string
	ms   []float64 // NaN where the server did not run
}

func run(r io.Reader, w io.Writer, title, note, baseline string) error {
	sc := bufio.NewScanner(r)
	if !sc.Scan() {
		return fmt.Errorf("no header line")
	}
	servers := strings.Split(sc.Text(), "\t")[1:]
	base := -1
	for i, s := range servers {
		if s == baseline {
			base = i
		}
	}
	if base < 0 {
		return fmt.Errorf("baseline %q is not among the servers %v", baseline, servers)
	}
	var rows []row
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) < 2 {
			continue
		}
		rw := row{name: p[0]}
		for i := range servers {
			v := math.NaN()
			if i+1 < len(p) {
				if f, err := strconv.ParseFloat(p[i+1], 64); err == nil && f > 0 {
					v = f
				}
			}
			rw.ms = append(rw.ms, v)
		}
		rows = append(rows, rw)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(rows) == 0 {
		return fmt.Errorf("no workloads")
	}
	// Speed relative to the baseline: baseline ms / server ms.
	top := 1.0
	for _, rw := range rows {
		for i := range servers {
			if s := rw.ms[base] / rw.ms[i]; s > top {
				top = s
			}
		}
	}
	top = math.Ceil(top*1.15*2) / 2

	colours := []string{"#1f77b4", "#ff7f0e", "#7f7f7f", "#2ca02c"}
	const (
		left, right, topM, bottom = 56.0, 84.0, 64.0, 60.0
		plotH                     = 260.0
		bar                       = 26.0
		gap                       = 30.0
	)
	groupW := float64(len(servers))*bar + gap
	width := left + right + groupW*float64(len(rows))
	height := topM + plotH + bottom
	y := func(v float64) float64 { return topM + plotH - v/top*plotH }

	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="11">`+"\n",
		width, height, width, height)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(w, `<text x="%.0f" y="20" font-size="15" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))
	if note != "" {
		fmt.Fprintf(w, `<text x="%.0f" y="37" fill="#555">%s</text>`+"\n", left, html.EscapeString(note))
	}
	// Legend.
	lx := left
	for i, s := range servers {
		fmt.Fprintf(w, `<rect x="%.0f" y="46" width="10" height="10" fill="%s"/><text x="%.0f" y="55">%s</text>`+"\n",
			lx, colours[i%len(colours)], lx+14, html.EscapeString(s))
		lx += 24 + 7*float64(len(s))
	}
	// Axis and grid.
	for v := 0.0; v <= top+1e-9; v += 0.5 {
		fmt.Fprintf(w, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#e5e5e5"/><text x="%.0f" y="%.1f" text-anchor="end">%.1f×</text>`+"\n",
			left, width-right, y(v), y(v), left-6, y(v)+4, v)
	}
	fmt.Fprintf(w, `<text transform="translate(14 %.0f) rotate(-90)" text-anchor="middle">speed relative to %s (higher is faster)</text>`+"\n",
		topM+plotH/2, html.EscapeString(baseline))
	for g, rw := range rows {
		x0 := left + gap/2 + float64(g)*groupW
		for i := range servers {
			s := rw.ms[base] / rw.ms[i]
			x := x0 + float64(i)*bar
			if math.IsNaN(s) {
				fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#999">n/a</text>`+"\n", x+bar/2, y(0)-4)
				continue
			}
			fmt.Fprintf(w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %.1f ms, %.2f×</title></rect>`+"\n",
				x+1, y(s), bar-2, y(0)-y(s), colours[i%len(colours)], html.EscapeString(rw.name), html.EscapeString(servers[i]), rw.ms[i], s)
			fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="9">%.2f</text>`+"\n", x+bar/2, y(s)-3, s)
		}
		// The workload's name, on two lines when long.
		name := rw.name
		lines := []string{name}
		if len(name) > 14 {
			if k := strings.LastIndex(name[:14], " "); k > 0 {
				lines = []string{name[:k], name[k+1:]}
			}
		}
		for j, l := range lines {
			fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n",
				x0+float64(len(servers))*bar/2, y(0)+16+float64(j)*13, html.EscapeString(l))
		}
	}
	// The baseline, 1.0.
	fmt.Fprintf(w, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#d62728" stroke-dasharray="6 3"/><text x="%.0f" y="%.1f" fill="#d62728">%s = 1.0</text>`+"\n",
		left, width-right, y(1), y(1), width-right+4, y(1)+4, html.EscapeString(baseline))
	fmt.Fprintf(w, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#333"/>`+"\n", left, width-right, y(0), y(0))
	fmt.Fprintln(w, "</svg>")
	return nil
}
