package icc

import (
	"os"
	"path/filepath"
	"testing"
)

// benchProfiles are one profile of each transform kind.
func benchProfiles(b *testing.B) map[string][]byte {
	ps := map[string][]byte{
		"matrix-P3":    displayP3(),
		"lutAtoB-RGB":  mabRGBLab(),
		"lutAtoB-CMYK": mabCMYKLab(),
		"gray":         grayProfile(0x02100000, tagCurvGamma(2.2)),
	}
	if d, err := os.ReadFile(filepath.Join(iccDir, "ghostscript/default_cmyk.icc")); err == nil {
		ps["lut16-CMYK-ghostscript"] = d
	}
	return ps
}

func BenchmarkProfile_ToSRGB(b *testing.B) {
	for name, data := range benchProfiles(b) {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				p, err := Parse(data)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.ToSRGB(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTransform_Apply converts a 1-megapixel photo (the corpus storm
// photo, as grey, RGB or naive CMYK) in place, 4 bytes a pixel; ns/op
// divided by 1e6 is ns per pixel.
func BenchmarkTransform_Apply(b *testing.B) {
	const pixels = 1000 * 1000
	photo := loadPhoto(b)
	if photo == nil {
		b.Skip("no corpus photo")
	}
	for name, data := range benchProfiles(b) {
		b.Run(name, func(b *testing.B) {
			p, _ := Parse(data)
			tr, err := p.ToSRGB()
			if err != nil {
				b.Fatal(err)
			}
			n := tr.Channels()
			px := testPixels(b, n, nil)[:0]
			bnd := photo.Bounds()
			for y := bnd.Min.Y; y < bnd.Max.Y && len(px) < n*pixels; y++ {
				for x := bnd.Min.X; x < bnd.Min.X+1000 && x < bnd.Max.X; x++ {
					px = append(px, photoPixel(photo, x, y, n)...)
				}
			}
			src := make([]byte, 4*pixels)
			for i := 0; i < pixels; i++ {
				copy(src[4*i:], px[n*i:n*i+n])
			}
			buf := make([]byte, len(src))
			b.SetBytes(pixels)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				copy(buf, src)
				if err := tr.Apply(buf, 4, buf, 4); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
