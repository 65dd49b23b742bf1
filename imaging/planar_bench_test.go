package imaging

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkPlanarResize resizes each corpus JPEG to width=1280 and
// width=800 as JPEG quality 85 through Pipeline.Run, with the resize on the
// YCbCr planes (planarResize) beside the RGB path the same job took before.
// cpu-ms/op (see reportMS) is steadier than the wall time on a shared
// machine.
//
//	go test ./imaging/ -run '^$' -bench PlanarResize -count 5
func BenchmarkPlanarResize(b *testing.B) {
	files := corpusJPEGs(b)
	p := NewPipeline(Limits{}, inline{}, nil)
	for _, width := range []string{"1280", "800"} {
		opt, err := ParseOptions(map[string][]string{"width": {width}, "quality": {"85"}}, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			for _, path := range []string{"planar", "rgb"} {
				b.Run(filepath.Base(f)+"/w"+width+"/"+path, func(b *testing.B) {
					var res Result
					cpu0 := cpuTime()
					for b.Loop() {
						pl, err := p.Plan(src, opt)
						if err != nil {
							b.Fatal(err)
						}
						if path == "planar" && !pl.planar {
							b.Skip("the plan is not planar")
						}
						pl.planar = path == "planar"
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
}

// BenchmarkPlanarStep times the resize step alone on one core, 1920×1200
// 4:2:0 to 1280×800: planarResize beside resize, the RGB path's step (whose
// output the encoder then converts back to YCbCr).
//
//	go test ./imaging/ -run '^$' -bench PlanarStep -count 5
func BenchmarkPlanarStep(b *testing.B) {
	src := ycbcrOf(texture(1920, 1200), image.YCbCrSubsampleRatio420)
	pl := Plan{planar: true, resizeWidth: 1280, resizeHeight: 800}
	b.Run("planar", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			planarResize(src, pl, 1)
		}
		reportMS(b, cpu0)
	})
	b.Run("rgb", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			resize(src, 1280, 800, 1)
		}
		reportMS(b, cpu0)
	})
}
