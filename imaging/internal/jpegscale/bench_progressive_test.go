package jpegscale

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkProgressive decodes the corpus's progressive JPEGs at 1/1 and
// 1/8 and entropy-decodes them to coefficients, the steps whose speed the
// progressive scan decoding (acFirst, acRefine, the bit reader) decides,
// with the scans on one goroutine and on two.
func BenchmarkProgressive(b *testing.B) {
	n := 0
	for _, f := range corpusFiles(b) {
		if !strings.Contains(filepath.Base(f), "progressive") {
			continue
		}
		n++
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(f), func(b *testing.B) {
			for _, denom := range []int{1, 8} {
				for _, procs := range []int{1, 2} {
					b.Run(fmt.Sprintf("%d/procs%d", denom, procs), func(b *testing.B) {
						b.SetBytes(int64(len(data)))
						for b.Loop() {
							if _, _, err := DecodeWith(data, denom, Options{Procs: procs}); err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			}
			for _, procs := range []int{1, 2} {
				b.Run(fmt.Sprintf("coefficients/procs%d", procs), func(b *testing.B) {
					b.SetBytes(int64(len(data)))
					for b.Loop() {
						if _, err := coefficients(data, nil, false, procs); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
	if n == 0 {
		b.Skip("corpus has no progressive JPEG")
	}
}
