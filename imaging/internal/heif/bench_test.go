package heif

import (
	"fmt"
	"image"
	"os"
	"strings"
	"testing"
)

// BenchmarkDecode decodes photos as HEIC and AVIF at 1280×856, and at
// 4032×3024 (12 MP) when HEIF_MEASURE is set. HEIF_MEASURE_DIR keeps the
// encoded inputs between runs.
func BenchmarkDecode(b *testing.B) {
	l := testLib(b)
	sizes := []image.Point{{1280, 856}}
	if os.Getenv("HEIF_MEASURE") != "" {
		sizes = append(sizes, image.Pt(4032, 3024))
	}
	dir := os.Getenv("HEIF_MEASURE_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	for _, in := range costInputs(b, dir, sizes) {
		if !strings.HasPrefix(in.name, "8bit.") && !strings.HasPrefix(in.name, "10bit") {
			continue
		}
		data := readFile(b, in.path)
		b.Run(fmt.Sprintf("%dx%d-%s", in.w, in.h, in.name), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, _, err := l.Decode(data, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodeAVIF encodes the 1280×853 storm photo at quality 60 at
// several speeds, reporting the size of the result.
func BenchmarkEncodeAVIF(b *testing.B) {
	l := testLib(b)
	img := loadPhoto(b)
	for _, speed := range []int{6, 7, 8, 9} {
		b.Run(fmt.Sprintf("speed%d", speed), func(b *testing.B) {
			var n int
			for b.Loop() {
				out, err := l.EncodeAVIF(img, EncodeOptions{Quality: 60, Speed: speed})
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.ReportMetric(float64(n), "bytes")
		})
	}
}
