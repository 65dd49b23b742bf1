package imaging

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	imgops "github.com/disintegration/imaging"
)

// blurInput is a w×h NRGBA of gradients, noise and hard edges; with alpha,
// a quarter of it is transparent and the rest of varied alpha.
func blurInput(w, h int, alpha bool, seed uint64) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{uint8(x * 255 / max(w-1, 1)), uint8(rng.IntN(256)), uint8(255 * ((x/7 + y/5) % 2)), 255}
			if alpha {
				switch {
				case x < w/2 && y < h/2:
					c.A = 0
				case (x+y)%3 == 0:
					c.A = uint8(rng.IntN(256))
				default:
					c.A = uint8(40 + y*200/max(h, 1))
				}
			}
			m.SetNRGBA(x, y, c)
		}
	}
	return m
}

// floatBlur is a plain float reference of imgops.Blur's definition: a
// separable Gaussian of radius ⌈3σ⌉, cut off and renormalised at the edges,
// colour weighted by alpha, with no rounding between the passes.
func floatBlur(m *image.NRGBA, sigma float64) *image.NRGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	r := int(math.Ceil(3 * sigma))
	k := func(d int) float64 { return math.Exp(-float64(d*d) / (2 * sigma * sigma)) }
	// Premultiplied planes r·a, g·a, b·a, a.
	pass := func(in []float64, n, lines, step, lineStep int) []float64 {
		out := make([]float64, len(in))
		for l := range lines {
			for x := range n {
				var s [4]float64
				var sw float64
				for i := max(x-r, 0); i <= min(x+r, n-1); i++ {
					wt := k(x - i)
					o := l*lineStep + i*step
					for c := range 4 {
						s[c] += wt * in[o+c]
					}
					sw += wt
				}
				o := l*lineStep + x*step
				for c := range 4 {
					out[o+c] = s[c] / sw
				}
			}
		}
		return out
	}
	p := make([]float64, w*h*4)
	for y := range h {
		for x := range w {
			c := m.NRGBAAt(x, y)
			a := float64(c.A)
			o := (y*w + x) * 4
			p[o], p[o+1], p[o+2], p[o+3] = float64(c.R)*a, float64(c.G)*a, float64(c.B)*a, a
		}
	}
	p = pass(p, w, h, 4, w*4)
	p = pass(p, h, w, w*4, 4)
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	round := func(v float64) uint8 { return uint8(min(max(math.Round(v), 0), 255)) }
	for y := range h {
		for x := range w {
			o := (y*w + x) * 4
			if p[o+3] < 1e-9 {
				continue
			}
			out.SetNRGBA(x, y, color.NRGBA{round(p[o] / p[o+3]), round(p[o+1] / p[o+3]), round(p[o+2] / p[o+3]), round(p[o+3])})
		}
	}
	return out
}

// blurDiff is the largest difference of two NRGBA images: of alpha, and of
// colour premultiplied by alpha (what a composite shows; both blurs round
// the colour of nearly transparent pixels between their passes, which the
// weight of their alpha then hides); -1 when their sizes differ.
func blurDiff(a, b *image.NRGBA) int {
	if a.Rect.Size() != b.Rect.Size() {
		return -1
	}
	d := 0
	w, h := a.Rect.Dx(), a.Rect.Dy()
	for y := range h {
		for x := range w {
			pa := a.Pix[y*a.Stride+x*4 : y*a.Stride+x*4+4]
			pb := b.Pix[y*b.Stride+x*4 : y*b.Stride+x*4+4]
			d = max(d, iabs(int(pa[3])-int(pb[3])))
			for c := range 3 {
				ca := float64(pa[c]) * float64(pa[3]) / 255
				cb := float64(pb[c]) * float64(pb[3]) / 255
				d = max(d, int(math.Round(math.Abs(ca-cb))))
			}
		}
	}
	return d
}

func TestBlur(t *testing.T) {
	sizes := []image.Point{{1, 1}, {2, 50}, {50, 2}, {37, 23}, {150, 97}}
	for _, sigma := range []float64{0.5, 1, 3, 10, 50} {
		for _, sz := range sizes {
			for _, alpha := range []bool{false, true} {
				name := fmt.Sprintf("sigma%g/%dx%d/alpha=%t", sigma, sz.X, sz.Y, alpha)
				t.Run(name, func(t *testing.T) {
					in := blurInput(sz.X, sz.Y, alpha, uint64(sz.X*1000+sz.Y))
					orig := imgops.Clone(in)
					ref := floatBlur(in, sigma)
					lib := imgops.Blur(in, sigma)
					for _, procs := range []int{1, 3} {
						got := blur(in, sigma, procs)
						if d := blurDiff(got, ref); d < 0 || d > 2 {
							t.Errorf("procs %d: differs from the float reference by %d levels, want at most 2", procs, d)
						}
						if d := blurDiff(got, lib); d < 0 || d > 2 {
							t.Errorf("procs %d: differs from imgops.Blur by %d levels, want at most 2", procs, d)
						}
					}
					if blurDiff(in, orig) != 0 {
						t.Error("blur changed its input")
					}
				})
			}
		}
	}
}

// TestBlur_types checks that the image types the pipeline may hold at the
// blur step (sub-images included) blur like their NRGBA copy.
func TestBlur_types(t *testing.T) {
	src := blurInput(64, 48, false, 7)
	ycc := image.NewYCbCr(src.Rect, image.YCbCrSubsampleRatio420)
	for y := range 48 {
		for x := range 64 {
			c := src.NRGBAAt(x, y)
			yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
			ycc.Y[ycc.YOffset(x, y)] = yy
			ycc.Cb[ycc.COffset(x, y)] = cb
			ycc.Cr[ycc.COffset(x, y)] = cr
		}
	}
	tests := []struct {
		name string
		img  image.Image
	}{
		{"nrgba", src},
		{"sub-nrgba", src.SubImage(image.Rect(5, 7, 50, 40))},
		{"ycbcr", ycc},
		{"gray", imgops.Grayscale(src)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := blur(tt.img, 2, 2)
			want := floatBlur(imgops.Clone(tt.img), 2)
			if d := blurDiff(got, want); d < 0 || d > 2 {
				t.Errorf("differs from the float reference by %d levels, want at most 2", d)
			}
		})
	}
}

func TestSharpen(t *testing.T) {
	for _, alpha := range []bool{false, true} {
		in := blurInput(70, 40, alpha, 3)
		for _, sigma := range []float64{0.7, 2} {
			got := sharpen(in, sigma, 2)
			want := imgops.Sharpen(in, sigma)
			// A level of blur shows as two in 2·src − blur.
			if d := blurDiff(got, want); d < 0 || d > 4 {
				t.Errorf("alpha=%t sigma %g: differs from imgops.Sharpen by %d levels, want at most 4", alpha, sigma, d)
			}
			if sub := sharpen(in.SubImage(image.Rect(3, 3, 60, 30)), sigma, 1); sub.Rect != image.Rect(0, 0, 57, 27) {
				t.Errorf("sharpen of a sub-image is %v, want 57×27 from 0,0", sub.Rect)
			}
		}
	}
}

// BenchmarkBlur compares the fast blur with imgops.Blur on an 800×533 image
// (the bench matrix's 800 px blur) at sigma 3.
func BenchmarkBlur(b *testing.B) {
	in := blurInput(800, 533, false, 1)
	b.Run("fast/procs1", func(b *testing.B) {
		for b.Loop() {
			blur(in, 3, 1)
		}
	})
	b.Run("fast/procs2", func(b *testing.B) {
		for b.Loop() {
			blur(in, 3, 2)
		}
	})
	b.Run("imgops", func(b *testing.B) {
		for b.Loop() {
			imgops.Blur(in, 3)
		}
	})
}
