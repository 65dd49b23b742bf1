package imaging

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"testing"

	imgops "github.com/disintegration/imaging"
)

// newNoise returns w×h opaque random pixels, the worst case for ringing.
func newNoise(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	seed := uint32(7)
	for i := range img.Pix {
		seed = seed*1664525 + 1013904223
		img.Pix[i] = uint8(seed >> 24)
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	return img
}

// newTranslucent returns a photo whose alpha ramps across it, with a
// transparent band and an opaque one.
func newTranslucent(w, h int) *image.NRGBA {
	img := newPhoto(w, h)
	for y := range h {
		for x := range w {
			a := uint8(x * 255 / max(w-1, 1))
			switch {
			case y < h/4:
				a = 0
			case y > 3*h/4:
				a = 255
			}
			img.Pix[y*img.Stride+x*4+3] = a
		}
	}
	return img
}

func toYCbCr(src *image.NRGBA, r image.YCbCrSubsampleRatio) *image.YCbCr {
	b := src.Bounds()
	ycc := image.NewYCbCr(b, r)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := src.NRGBAAt(x, y)
			yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
			ycc.Y[ycc.YOffset(x, y)] = yy
			ycc.Cb[ycc.COffset(x, y)] = cb
			ycc.Cr[ycc.COffset(x, y)] = cr
		}
	}
	return ycc
}

// lanczosDiff returns the largest channel difference between two NRGBA
// images of the same size, counting colour only where both alphas are at
// least minAlpha (below that the colour hardly shows, and both sides divide
// tiny alpha sums).
func lanczosDiff(t *testing.T, got, want *image.NRGBA, minAlpha uint8) (maxd int, at image.Point) {
	t.Helper()
	if got.Bounds().Size() != want.Bounds().Size() {
		t.Fatalf("size %v, want %v", got.Bounds().Size(), want.Bounds().Size())
	}
	w, h := got.Bounds().Dx(), got.Bounds().Dy()
	for y := range h {
		for x := range w {
			g := got.Pix[y*got.Stride+x*4 : y*got.Stride+x*4+4]
			e := want.Pix[y*want.Stride+x*4 : y*want.Stride+x*4+4]
			for c := 3; c >= 0; c-- {
				if c < 3 && (g[3] < minAlpha || e[3] < minAlpha) {
					break
				}
				if d := abs(int(g[c]) - int(e[c])); d > maxd {
					maxd, at = d, image.Pt(x, y)
				}
			}
		}
	}
	return maxd, at
}

// TestLanczosMatchesImgops checks lanczosResize against
// imgops.Resize(Lanczos) on each image type it reads, shrinking, enlarging,
// one axis at a time, and on single rows, columns and tiny images.
func TestLanczosMatchesImgops(t *testing.T) {
	photo := newPhoto(157, 93)
	quads := newQuadrants(64, 48) // hard, saturated edges ring and clamp
	noise := newNoise(61, 37)
	alpha := newTranslucent(97, 55)
	rgba := image.NewRGBA(alpha.Bounds())
	draw.Draw(rgba, rgba.Bounds(), alpha, image.Point{}, draw.Src)
	gray := image.NewGray(photo.Bounds())
	draw.Draw(gray, gray.Bounds(), photo, image.Point{}, draw.Src)

	sources := []struct {
		name     string
		img      image.Image
		tol      int
		minAlpha uint8
	}{
		{"nrgba photo", photo, 1, 0},
		{"nrgba quadrants", quads, 1, 0},
		{"nrgba noise", noise, 1, 0},
		{"nrgba translucent", alpha, 2, 16},
		{"nrgba sub-image", photo.SubImage(image.Rect(3, 5, 150, 90)), 1, 0},
		{"rgba translucent", rgba, 2, 16},
		{"gray", gray, 1, 0},
	}
	for _, r := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	} {
		ycc := toYCbCr(photo, r)
		sources = append(sources,
			struct {
				name     string
				img      image.Image
				tol      int
				minAlpha uint8
			}{"ycbcr " + r.String(), ycc, 1, 0},
			struct {
				name     string
				img      image.Image
				tol      int
				minAlpha uint8
			}{"ycbcr sub-image " + r.String(), ycc.SubImage(image.Rect(5, 3, 150, 91)), 1, 0})
	}
	// Output sizes as fractions (or multiples) of the source's.
	sizes := []struct{ fw, fh float64 }{
		{0.5, 0.5}, {0.37, 0.41}, {0.3, 0.3}, {0.8, 0.6}, {1, 0.45}, {0.45, 1},
		{1.7, 2.3}, {2, 1}, {1, 3}, {0.6, 1.5},
	}
	for _, src := range sources {
		b := src.img.Bounds()
		for _, s := range sizes {
			w := max(1, int(float64(b.Dx())*s.fw))
			h := max(1, int(float64(b.Dy())*s.fh))
			t.Run(fmt.Sprintf("%s %dx%d to %dx%d", src.name, b.Dx(), b.Dy(), w, h), func(t *testing.T) {
				want := imgops.Resize(src.img, w, h, imgops.Lanczos)
				for _, procs := range []int{1, 3} {
					got := lanczosResize(src.img, w, h, procs)
					if got == nil {
						t.Fatal("lanczosResize returned nil")
					}
					if d, at := lanczosDiff(t, got, want, src.minAlpha); d > src.tol {
						t.Errorf("procs %d: differs from imgops by %d at %v: %v, want %v", procs, d, at, got.NRGBAAt(at.X, at.Y), want.NRGBAAt(at.X, at.Y))
					}
				}
			})
		}
	}
}

// TestLanczosTiny covers single rows and columns and images of a few
// pixels, where the taps are cut short at both edges.
func TestLanczosTiny(t *testing.T) {
	for _, c := range [][4]int{
		{1, 1, 3, 2}, {2, 2, 1, 1}, {3, 1, 7, 1}, {1, 5, 1, 2}, {1, 40, 1, 7},
		{40, 1, 9, 1}, {40, 1, 97, 1}, {1, 40, 1, 130}, {2, 3, 5, 7}, {5, 4, 2, 9},
		{300, 1, 1, 1}, {1, 300, 1, 1}, {7, 7, 1, 1},
	} {
		sw, sh, w, h := c[0], c[1], c[2], c[3]
		t.Run(fmt.Sprintf("%dx%d to %dx%d", sw, sh, w, h), func(t *testing.T) {
			for _, src := range []image.Image{newNoise(sw, sh), newTranslucent(sw, sh), toYCbCr(newPhoto(sw, sh), image.YCbCrSubsampleRatio420)} {
				want := imgops.Resize(src, w, h, imgops.Lanczos)
				got := lanczosResize(src, w, h, 2)
				if d, at := lanczosDiff(t, got, want, 16); d > 2 {
					t.Errorf("%T: differs from imgops by %d at %v: %v, want %v", src, d, at, got.NRGBAAt(at.X, at.Y), want.NRGBAAt(at.X, at.Y))
				}
			}
		})
	}
}

// TestLanczosFlat checks that a flat colour stays exactly flat: the fixed
// point weights of every output pixel sum to one.
func TestLanczosFlat(t *testing.T) {
	for _, size := range [][4]int{{100, 80, 33, 27}, {10, 10, 37, 41}, {257, 3, 100, 1}} {
		src := image.NewNRGBA(image.Rect(0, 0, size[0], size[1]))
		for i := range src.Pix {
			src.Pix[i] = []uint8{201, 13, 255, 255}[i%4]
		}
		got := lanczosResize(src, size[2], size[3], 1)
		for i, v := range got.Pix {
			if want := []uint8{201, 13, 255, 255}[i%4]; v != want {
				t.Fatalf("%v: pixel %d channel %d = %d, want %d", size, i/4, i%4, v, want)
			}
		}
	}
	for _, n := range [][2]int{{1000, 7}, {7, 1000}, {1, 1}, {3, 2}, {1920, 800}} {
		fw := lanczosWeights(n[1], n[0])
		for i := range n[1] {
			_, coef := fw.at(i)
			var sum int32
			for _, c := range coef {
				sum += c
			}
			if sum != 1<<lanczosBits {
				t.Fatalf("%d to %d: weights of pixel %d sum to %d", n[0], n[1], i, sum)
			}
		}
	}
}

// TestLanczosFallback checks that types lanczosResize does not read go to
// imgops.Resize, and that resize still gives the requested size.
func TestLanczosFallback(t *testing.T) {
	pal := image.NewPaletted(image.Rect(0, 0, 40, 30), color.Palette{color.Black, color.White})
	if lanczosResize(pal, 20, 15, 1) != nil {
		t.Fatal("lanczosResize read a paletted image")
	}
	if got := resize(pal, 20, 15, 2).Bounds(); got != image.Rect(0, 0, 20, 15) {
		t.Fatalf("resize bounds = %v", got)
	}
	if lanczosResize(newPhoto(4, 4), 4, 4, 1) != nil {
		t.Fatal("lanczosResize resized to the same size")
	}
}

// TestLanczosPSNR compares the full resize path (box shrink, then
// lanczosResize) with box shrink then imgops.Resize, through a JPEG-decoded
// photo-like image.
func TestLanczosPSNR(t *testing.T) {
	var buf bytes.Buffer
	buf.Write(encodeAs(t, newPhoto(1201, 803), FormatJPEG))
	img, _, err := image.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{800, 535}, {300, 200}, {1500, 1003}} {
		got := resize(img, size[0], size[1], 2).(*image.NRGBA)
		want := imgops.Resize(img, size[0], size[1], imgops.Lanczos)
		if s := boxShrinkFor(img, size[0], size[1]); s != nil {
			want = imgops.Resize(s, size[0], size[1], imgops.Lanczos)
		}
		if p := psnr(t, got, want); p < 45 {
			t.Errorf("%v: PSNR %.1f dB against imgops, want ≥ 45", size, p)
		}
	}
}

// boxShrinkFor is resize's box step alone.
func boxShrinkFor(img image.Image, w, h int) *image.NRGBA {
	b := img.Bounds()
	kx := min(b.Dx()/(2*w), maxBoxFactor)
	ky := min(b.Dy()/(2*h), maxBoxFactor)
	if kx >= 2 || ky >= 2 {
		return boxShrink(img, max(kx, 1), max(ky, 1), 1)
	}
	return nil
}

// BenchmarkLanczos compares lanczosResize with imgops.Resize(Lanczos) on
// the steps web-size requests make: a JPEG decoded at 1/2 to 800 px, a
// 4:4:4 JPEG to 1280 px, and a box-shrunk NRGBA reduced about 3×; one
// goroutine each.
func BenchmarkLanczos(b *testing.B) {
	photo := newPhoto(1820, 1200)
	cases := []struct {
		name string
		img  image.Image
		w, h int
	}{
		{"ycbcr420-1280x960-to-800x600", toYCbCr(newPhoto(1280, 960), image.YCbCrSubsampleRatio420), 800, 600},
		{"ycbcr444-1820x1200-to-1280x844", toYCbCr(photo, image.YCbCrSubsampleRatio444), 1280, 844},
		{"nrgba-1820x1200-to-640x422", photo, 640, 422},
		{"nrgba-translucent-1200x900-to-400x300", newTranslucent(1200, 900), 400, 300},
	}
	for _, c := range cases {
		b.Run("imgops-"+c.name, func(b *testing.B) {
			for b.Loop() {
				imgops.Resize(c.img, c.w, c.h, imgops.Lanczos)
			}
			reportMS(b, 0)
		})
		b.Run("lanczos-"+c.name, func(b *testing.B) {
			for b.Loop() {
				lanczosResize(c.img, c.w, c.h, 1)
			}
			reportMS(b, 0)
		})
	}
}
