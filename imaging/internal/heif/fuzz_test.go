package heif

import (
	"errors"
	"testing"
)

// FuzzDecode feeds libheif mutated HEIC and AVIF files: it must return an
// error or an image, never crash or hang, and when Decode succeeds, Probe
// must have succeeded with the same size. Images over 1 MP are refused
// before decoding, to keep each run short.
func FuzzDecode(f *testing.F) {
	l := testLib(f)
	for _, fx := range makeFixtures(f, f.TempDir()) {
		f.Add(readFile(f, fx.path))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxPixels = 1 << 20
		hd, perr := l.Probe(data)
		img, icc, err := l.Decode(data, maxPixels)
		if err != nil {
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("Decode error %T %v is not an *Error", err, err)
			}
			return
		}
		if perr != nil {
			t.Fatalf("Decode succeeded where Probe failed: %v", perr)
		}
		if b := img.Rect; b.Dx() != hd.Width || b.Dy() != hd.Height {
			t.Errorf("Decode gave %dx%d, Probe said %dx%d", b.Dx(), b.Dy(), hd.Width, hd.Height)
		}
		if b := img.Rect; b.Dx()*b.Dy() > maxPixels {
			t.Errorf("Decode gave %v, over the %d pixel limit", b, maxPixels)
		}
		if b := img.Rect; hd.CodedPixels > 0 && b.Dx()*b.Dy() > hd.CodedPixels {
			t.Errorf("Decode gave %v, over the %d pixels of the largest coded frame", b, hd.CodedPixels)
		}
		if len(icc) != len(hd.ICC) {
			t.Errorf("Decode gave %d bytes of ICC, Probe %d", len(icc), len(hd.ICC))
		}
	})
}
