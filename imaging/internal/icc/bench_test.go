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

// BenchmarkTransform_Apply converts a 1-megapixel image in place (4 bytes
// a pixel); ns/op divided by 1e6 is ns per pixel.
func BenchmarkTransform_Apply(b *testing.B) {
	const pixels = 1 << 20
	for name, data := range benchProfiles(b) {
		b.Run(name, func(b *testing.B) {
			p, _ := Parse(data)
			tr, err := p.ToSRGB()
			if err != nil {
				b.Fatal(err)
			}
			src := make([]byte, 4*pixels)
			for i := range src {
				src[i] = byte(i*7 + i>>10)
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
