package icc

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestGridSize_Accuracy measures, only with ICC_MEASURE set, how far the
// interpolated tables stray from the exact pipeline for several grid sizes,
// and how long they take to build.
func TestGridSize_Accuracy(t *testing.T) {
	if os.Getenv("ICC_MEASURE") == "" {
		t.Skip("set ICC_MEASURE=1 to measure grid sizes")
	}
	photo := loadPhoto(t)
	profiles := map[string][]byte{
		"RGB-lutAtoB-Lab": mabRGBLab(),
		"RGB-lut16-XYZ":   mft2RGBXYZ(),
		"CMYK-lutAtoB":    mabCMYKLab(),
	}
	for _, f := range []string{"ghostscript/default_cmyk.icc", "ghostscript/ps_cmyk.icc"} {
		if b, err := os.ReadFile(filepath.Join(iccDir, f)); err == nil {
			profiles[f] = b
		}
	}
	m := xyzToSRGB()
	for name, data := range profiles {
		p, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		n, f, _, err := p.pipeline()
		if err != nil {
			t.Fatal(err)
		}
		px := testPixels(t, n, photo)
		exact := make([]byte, 0, len(px)/n*3)
		in := make([]float64, n)
		for i := 0; i < len(px); i += n {
			for c := range in {
				in[c] = float64(px[i+c]) / 255
			}
			o := toSRGB16(&m, f(in))
			exact = append(exact, to8(uint32(o[0])), to8(uint32(o[1])), to8(uint32(o[2])))
		}
		sizes := []int{17, 25, 33}
		if n == 4 {
			sizes = []int{9, 13, 17, 21}
		}
		for _, g := range sizes {
			start := time.Now()
			tr := &Transform{channels: n}
			tr.buildGrid(f, n, g)
			build := time.Since(start)
			got := make([]byte, len(exact))
			if err := tr.Apply(got, 3, px, n); err != nil {
				t.Fatal(err)
			}
			var sum, worst float64
			for i := 0; i < len(got); i += 3 {
				d := deltaE2000(srgbToLab(got[i:i+3]), srgbToLab(exact[i:i+3]))
				sum += d
				worst = max(worst, d)
			}
			t.Logf("%s grid %d: build %v, vs exact: mean ΔE2000 %.3f, max %.3f", name, g, build.Round(time.Millisecond), sum/float64(len(got)/3), worst)
		}
	}
}
