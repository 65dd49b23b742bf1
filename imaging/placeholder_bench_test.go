package imaging

import (
	"context"
	"strings"
	"testing"
)

// BenchmarkPlaceholder runs Pipeline.Placeholder on the benchmark inputs
// (generated, and the corpus when present), reporting ms/op, cpu-ms/op,
// cost-MB (what the job is charged) and peak-MB (its sampled peak live heap
// plus its source), as BenchmarkPipeline does.
//
//	BENCH_CORPUS_ONLY=1 go test -run '^$' -bench Placeholder -benchtime 10x ./imaging/
func BenchmarkPlaceholder(b *testing.B) {
	var cost costRunner
	p := NewPipeline(Limits{}, &cost, nil)
	for _, in := range benchInputs(b) {
		if !strings.HasSuffix(in.name, "/w300") {
			continue // the width is the thumbnail's; a placeholder has none
		}
		b.Run(strings.TrimSuffix(in.name, "/w300"), func(b *testing.B) {
			run := func() {
				if _, err := p.Placeholder(context.Background(), in.src); err != nil {
					b.Fatal(err)
				}
			}
			peak := peakHeap(run) + int64(len(in.src))
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				run()
			}
			reportMS(b, cpu0)
			b.ReportMetric(float64(cost.cost)/(1<<20), "cost-MB")
			b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
		})
	}
}

// BenchmarkGravity compares a fit=cover thumbnail (BENCH_WIDTH square, 300
// by default) cut with gravity=center and gravity=smart, through
// Pipeline.Process: what the smart window costs a request.
//
//	BENCH_CORPUS_ONLY=1 go test -run '^$' -bench Gravity -benchtime 10x ./imaging/
func BenchmarkGravity(b *testing.B) {
	p := NewPipeline(Limits{}, inline{}, nil)
	for _, in := range benchInputs(b) {
		for _, g := range []Gravity{GravityCenter, GravitySmart} {
			b.Run(in.name+"/"+string(g), func(b *testing.B) {
				opt := benchOptions(b, in.width)
				opt.Height, opt.Fit, opt.Gravity = in.width, FitCover, g
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					if _, err := p.Process(context.Background(), in.src, opt); err != nil {
						b.Fatal(err)
					}
				}
				reportMS(b, cpu0)
			})
		}
	}
}
