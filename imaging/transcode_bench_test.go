package imaging

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkTranscode re-encodes each corpus JPEG at full size
// (format=jpeg&quality=85, nothing else) through Pipeline.Process, which
// transcodes in the DCT domain, beside the pixel path (decode, encode) the
// same job took before. out-bytes is the output's size; cpu-ms/op (see
// reportMS) is steadier than the wall time on a shared machine.
//
//	go test ./imaging/ -run '^$' -bench Transcode -count 5
func BenchmarkTranscode(b *testing.B) {
	files := corpusJPEGs(b)
	p := NewPipeline(Limits{}, inline{}, nil)
	opt, err := ParseOptions(map[string][]string{"format": {"jpeg"}, "quality": {"85"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		for _, path := range []string{"transcode", "pixels"} {
			b.Run(filepath.Base(f)+"/"+path, func(b *testing.B) {
				var res Result
				cpu0 := cpuTime()
				for b.Loop() {
					pl, err := p.Plan(src, opt)
					if err != nil {
						b.Fatal(err)
					}
					if path == "transcode" && !pl.transcode {
						b.Skip("the plan does not transcode")
					}
					pl.transcode = path == "transcode"
					if res, err = p.Run(context.Background(), src, pl); err != nil {
						b.Fatal(err)
					}
				}
				reportMS(b, cpu0)
				b.ReportMetric(float64(len(res.Data)), "out-bytes")
			})
		}
	}
}
