package imaging

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// benchWorkloads are scripts/bench.sh's workload matrix, the same queries.
var benchWorkloads = []struct{ name, query string }{
	{"jpeg300", "width=300&format=jpeg&quality=85"},
	{"jpeg1280", "width=1280&format=jpeg&quality=85"},
	{"cover400", "width=400&height=400&fit=cover&format=jpeg&quality=85"},
	{"png300", "width=300&format=png"},
	{"rot90", "width=1280&rotate=90&format=jpeg&quality=85"},
	{"blur3", "width=800&blur=3&format=jpeg&quality=85"},
	{"full", "format=jpeg&quality=85"},
	{"webp1280", "width=1280&format=webp&quality=80"},
}

// BenchmarkWorkloads runs every corpus file under each workload of
// scripts/bench.sh's matrix through Pipeline.Process, in process: the CPU
// time of one job, without HTTP, for profiling a cell of the matrix.
//
//	go test ./imaging/ -run '^$' -bench 'Workloads/png300/photo-storm' -cpuprofile cpu.out
func BenchmarkWorkloads(b *testing.B) {
	dir := corpusDir()
	if dir == "" {
		b.Skip("corpus not found ($IMGSVC_CORPUS or ../shared/corpus beside the repository)")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	p := NewPipeline(Limits{}, inline{}, nil)
	for _, w := range benchWorkloads {
		q, err := url.ParseQuery(w.query)
		if err != nil {
			b.Fatal(err)
		}
		opt, err := ParseOptions(q, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range files {
			b.Run(w.name+"/"+filepath.Base(f), func(b *testing.B) {
				src, err := os.ReadFile(f)
				if err != nil {
					b.Fatal(err)
				}
				var res Result
				cpu0 := cpuTime()
				for b.Loop() {
					if res, err = p.Process(context.Background(), src, opt); err != nil {
						b.Fatal(err)
					}
				}
				reportMS(b, cpu0)
				b.ReportMetric(float64(len(res.Data)), "out-bytes")
			})
		}
	}
}
