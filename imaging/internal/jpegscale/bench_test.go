package jpegscale

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkDecode decodes each corpus JPEG at every scale, beside a full
// image/jpeg decode of the same file for comparison.
func BenchmarkDecode(b *testing.B) {
	for _, f := range corpusFiles(b) {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(f), func(b *testing.B) {
			b.Run("image-jpeg", func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
						b.Fatal(err)
					}
				}
			})
			for _, denom := range []int{1, 2, 4, 8} {
				b.Run(fmt.Sprint(denom), func(b *testing.B) {
					b.SetBytes(int64(len(data)))
					for b.Loop() {
						if _, err := Decode(data, denom); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
