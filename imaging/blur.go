package imaging

import (
	"image"
	"math"

	imgops "github.com/disintegration/imaging"
)

// blurShift is the fixed-point precision of the blur kernel: the weights of
// a full kernel sum to 1<<blurShift.
const blurShift = 16

// blurColumns is how many columns a goroutine of the vertical pass takes
// at once: 16 pixels are a 64-byte cache line.
const blurColumns = 16

// blur returns a Gaussian blur of img, as imgops.Blur computes it (kernel
// radius ⌈3σ⌉; near the edges the kernel is cut off and renormalised; colour
// weighted by alpha), but in fixed point: a horizontal pass over rows and a
// vertical pass over blocks of columns, both in place on one NRGBA copy of
// img, split among up to procs goroutines. It differs from imgops.Blur by at
// most a level or two.
func blur(img image.Image, sigma float64, procs int) *image.NRGBA {
	dst := imgops.Clone(img)
	if sigma <= 0 {
		return dst
	}
	blurNRGBA(dst, sigma, procs)
	return dst
}

// sharpen is imgops.Sharpen (2·img − blur(img), per byte, clamped) on the
// fast blur.
func sharpen(img image.Image, sigma float64, procs int) *image.NRGBA {
	src, ok := img.(*image.NRGBA)
	if !ok || src.Rect.Min != (image.Point{}) {
		src = imgops.Clone(img)
	}
	dst := blur(src, sigma, procs)
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	bands(h, procs, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			s := src.Pix[y*src.Stride : y*src.Stride+w*4]
			d := dst.Pix[y*dst.Stride : y*dst.Stride+w*4]
			for i := range s {
				d[i] = uint8(min(max(2*int(s[i])-int(d[i]), 0), 255))
			}
		}
	})
	return dst
}

// blurKernel is the integer kernel of a Gaussian: w[k] weighs the taps at
// distance k, and w[0] + 2·Σw[1:] = 1<<blurShift.
func blurKernel(sigma float64) []uint32 {
	r := int(math.Ceil(3 * sigma))
	f := make([]float64, r+1)
	sum := 0.0
	for i := range f {
		f[i] = math.Exp(-float64(i*i) / (2 * sigma * sigma))
		sum += f[i]
		if i > 0 {
			sum += f[i]
		}
	}
	w := make([]uint32, r+1)
	total := uint32(0)
	for i := range f {
		w[i] = uint32(math.Round(f[i] / sum * (1 << blurShift)))
		total += w[i]
		if i > 0 {
			total += w[i]
		}
	}
	// The centre takes the rounding, so a full kernel sums exactly to one.
	w[0] = w[0] + (1 << blurShift) - total
	return w
}

// blurNRGBA blurs m in place. Each line (a row, then a column) is copied
// out and filtered back into m; the columns are taken in blocks of
// blurColumns, whose rows stay in cache from one column to the next.
func blurNRGBA(m *image.NRGBA, sigma float64, procs int) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	if w == 0 || h == 0 {
		return
	}
	k := blurKernel(sigma)
	if m.Opaque() {
		r := len(k) - 1
		kf := make([]uint64, r+1)
		for i := range kf {
			kf[i] = uint64(k[i])
		}
		bands(h, procs, func(y0, y1 int) {
			l := newLanes(w)
			for y := y0; y < y1; y++ {
				p := m.Pix[y*m.Stride : y*m.Stride+w*4]
				for x := range w {
					l.set(x, p[x*4:x*4+4:x*4+4])
				}
				l.blur(p, 4, kf, k)
			}
		})
		bands(ceilDiv(w, blurColumns), procs, func(b0, b1 int) {
			l := newLanes(h)
			for x := b0 * blurColumns; x < min(b1*blurColumns, w); x++ {
				p := m.Pix[x*4:]
				for y := range h {
					l.set(y, p[y*m.Stride:y*m.Stride+4:y*m.Stride+4])
				}
				l.blur(p, m.Stride, kf, k)
			}
		})
		return
	}
	bands(h, procs, func(y0, y1 int) {
		line := make([]uint8, w*4)
		for y := y0; y < y1; y++ {
			p := m.Pix[y*m.Stride : y*m.Stride+w*4]
			copy(line, p)
			blurLineAlpha(p, 4, line, 4, w, k)
		}
	})
	bands(ceilDiv(w, blurColumns), procs, func(b0, b1 int) {
		line := make([]uint8, h*4)
		for x := b0 * blurColumns; x < min(b1*blurColumns, w); x++ {
			p := m.Pix[x*4:]
			for y := range h {
				copy(line[y*4:y*4+4], p[y*m.Stride:])
			}
			blurLineAlpha(p, m.Stride, line, 4, h, k)
		}
	})
}

// lanes holds a line of pixels, their four channels in the 32-bit halves
// of two words, R and B, G and A, so that one multiplication weighs two
// channels: a channel's weighted sum is at most 255<<blurShift, which leaves
// its lane room to spare. The r… fields hold the line reversed, so that
// the taps on either side of a pixel are read in the same direction.
type lanes struct{ rb, ga, rrb, rga []uint64 }

func newLanes(n int) lanes {
	return lanes{make([]uint64, n), make([]uint64, n), make([]uint64, n), make([]uint64, n)}
}

func (l lanes) set(i int, p []uint8) {
	rb, ga := uint64(p[0])|uint64(p[2])<<32, uint64(p[1])|uint64(p[3])<<32
	l.rb[i], l.ga[i] = rb, ga
	j := len(l.rb) - 1 - i
	l.rrb[j], l.rga[j] = rb, ga
}

// blur filters the line of opaque pixels into dst, whose pixels are ds
// bytes apart, with the kernel k (kf is k in 64 bits).
func (l lanes) blur(dst []uint8, ds int, kf []uint64, k []uint32) {
	const half = 1<<(blurShift-1) | 1<<(blurShift-1+32)
	r := len(k) - 1
	n := len(l.rb)
	kh := kf[1:]
	for x := range n {
		d := dst[x*ds : x*ds+4 : x*ds+4]
		if x-r >= 0 && x+r < n {
			// The kernel is symmetric: the taps at x+i (right) and x-i
			// (left, read from the reversed line) share a multiplication.
			rightRB, rightGA := l.rb[x+1:], l.ga[x+1:]
			leftRB, leftGA := l.rrb[n-x:], l.rga[n-x:]
			rightRB, rightGA, leftRB, leftGA = rightRB[:len(kh)], rightGA[:len(kh)], leftRB[:len(kh)], leftGA[:len(kh)]
			rb, ga := kf[0]*l.rb[x], kf[0]*l.ga[x]
			for i, kw := range kh {
				rb += kw * (rightRB[i] + leftRB[i])
				ga += kw * (rightGA[i] + leftGA[i])
			}
			rb += half
			ga += half
			d[0], d[1], d[2], d[3] = uint8(rb>>blurShift), uint8(ga>>blurShift), uint8(rb>>(blurShift+32)), uint8(ga>>(blurShift+32))
			continue
		}
		// At the edges the kernel is cut off and renormalised.
		var rb, ga, sw uint64
		for i := max(x-r, 0); i <= min(x+r, n-1); i++ {
			wt := uint64(k[iabs(x-i)])
			rb += wt * l.rb[i]
			ga += wt * l.ga[i]
			sw += wt
		}
		lane := func(v uint64) uint8 { return uint8((v + sw/2) / sw) }
		d[0], d[1], d[2], d[3] = lane(rb&0xFFFFFFFF), lane(ga&0xFFFFFFFF), lane(rb>>32), lane(ga>>32)
	}
}

// blurLineAlpha filters n NRGBA pixels of src, ss bytes apart, into dst, ds
// bytes apart, weighting colour by alpha (premultiplied), as imgops.Blur
// does. A pixel whose neighbourhood is all transparent becomes 0,0,0,0.
func blurLineAlpha(dst []uint8, ds int, src []uint8, ss, n int, k []uint32) {
	r := len(k) - 1
	for x := range n {
		var sr, sg, sb, sa, sw uint64
		for i := max(x-r, 0); i <= min(x+r, n-1); i++ {
			wt := uint64(k[iabs(x-i)])
			c := src[i*ss : i*ss+4 : i*ss+4]
			wa := wt * uint64(c[3])
			sr += wa * uint64(c[0])
			sg += wa * uint64(c[1])
			sb += wa * uint64(c[2])
			sa += wa
			sw += wt
		}
		d := dst[x*ds : x*ds+4 : x*ds+4]
		if sa == 0 {
			d[0], d[1], d[2], d[3] = 0, 0, 0, 0
			continue
		}
		d[0] = uint8((sr + sa/2) / sa)
		d[1] = uint8((sg + sa/2) / sa)
		d[2] = uint8((sb + sa/2) / sa)
		d[3] = uint8((sa + sw/2) / sw)
	}
}

func iabs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
