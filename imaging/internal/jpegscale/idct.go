package jpegscale

import (
	"image"
	"image/color"
	"math"
)

// Reduced inverse DCTs.
//
// With the JPEG normalisation, the 1-D IDCT is
//
//	f(x) = Σ_u C(u)/2 · F(u) · cos((2x+1)uπ/16),   C(0) = 1/√2, C(u>0) = 1.
//
// The mean of the two samples 2i and 2i+1 is
//
//	Σ_u C(u)/2 · cos(uπ/16) · F(u) · cos((2i+1)uπ/8),
//
// a 4-point IDCT of the weighted coefficients (frequencies u ≥ 4 fold onto
// lower ones and are dropped). Repeating the argument, the mean of four
// samples is a 2-point IDCT with weights cos(uπ/16)·cos(uπ/8), and the mean of
// all eight is F(0)/(2√2). The 2-D transforms are separable, so each
// coefficient (v,u) is weighted by w(u)·w(v); the weights are folded into the
// dequantisation tables (component.qs), which are in fixed point with
// wbits fractional bits.

// wbits is the number of fractional bits of the scaled dequantisation
// tables (and so of the reduced IDCT's input) for each scale.
var wbits = [9]uint{1: 0, 2: 8, 4: 8, 8: 8}

// weights[denom][u] is the per-dimension weight of frequency u.
var weights = func() (w [9][8]float64) {
	for u := range 8 {
		w[1][u] = 1
	}
	cu := func(u int) float64 {
		if u == 0 {
			return 1 / math.Sqrt2
		}
		return 1
	}
	for u := range 4 {
		w[2][u] = cu(u) / 2 * math.Cos(float64(u)*math.Pi/16)
	}
	for u := range 2 {
		w[4][u] = cu(u) / 2 * math.Cos(float64(u)*math.Pi/16) * math.Cos(float64(u)*math.Pi/8)
	}
	// The 2-point basis is cos((2i+1)uπ/4) = ±1/√2 for u = 1; fold it in too.
	w[4][1] *= (1 / math.Sqrt2)
	w[8][0] = 1 / (2 * math.Sqrt2)
	return w
}()

func clamp8(x int32) byte {
	if uint32(x) > 255 {
		if x < 0 {
			return 0
		}
		return 255
	}
	return byte(x)
}

// dcPixel converts a dequantised DC coefficient (scaled as for the decoder's
// scale) to the value of a flat block.
func (d *decoder) dcPixel(x int32) byte {
	if d.denom == 1 {
		return clamp8((x+4)>>3 + 128)
	}
	const p = 8
	return clamp8((x+1<<(p-1))>>p + 128)
}

// output transforms d.blk, whose non-zero entries are at zig-zag positions
// up to last, and writes the result for block (bx, by) of component c. It
// leaves d.blk zeroed.
func (d *decoder) output(c *component, last, bx, by int) {
	blk := &d.blk
	if d.coefOnly {
		// Requantised, in natural or zig-zag order: see coefficients.
		b := (*[64]int16)(c.coef[(by*c.bw+bx)*64:][:64])
		for k := 0; k <= last; k++ {
			z := zigzag[k]
			if v := blk[z]; v != 0 {
				b[d.coefPos[k]&63] = c.rq.apply(int16(v), z)
				blk[z] = 0
			}
		}
		return
	}
	bs := d.bs
	off := by*bs*c.stride + bx*bs
	switch d.denom {
	case 1:
		if last == 0 {
			fill(c.pix[off:], c.stride, 8, d.dcPixel(blk[0]))
		} else {
			idct8(blk, &d.ws, c.pix[off:], c.stride)
		}
	case 2:
		if last == 0 {
			fill(c.pix[off:], c.stride, 4, d.dcPixel(blk[0]))
		} else {
			idct4(blk, c.pix[off:], c.stride)
		}
	case 4:
		idct2(blk, c.pix[off:], c.stride)
	case 8:
		c.pix[off] = d.dcPixel(blk[0])
	}
	for k := 0; k <= last; k++ {
		blk[zigzag[k]] = 0
	}
}

func fill(dst []byte, stride, n int, v byte) {
	for y := range n {
		row := dst[y*stride : y*stride+n]
		for x := range row {
			row[x] = v
		}
	}
}

// Constants for the 8-point IDCT, in 13-bit fixed point. This is the
// Loeffler–Ligtenberg–Moschytz factorisation with 12 multiplies, as used by
// libjpeg's "islow" IDCT.
const (
	cbits = 13
	pass1 = 2

	f0298 = 2446  // sqrt(2) * (-c1+c3+c5-c7)
	f0390 = 3196  // sqrt(2) * (c5-c3)
	f0541 = 4433  // sqrt(2) * c6
	f0765 = 6270  // sqrt(2) * (c2-c6)
	f0899 = 7373  // sqrt(2) * (c7-c3)
	f1175 = 9633  // sqrt(2) * c3
	f1501 = 12299 // sqrt(2) * (c1+c3-c5-c7)
	f1847 = 15137 // sqrt(2) * (-c2-c6)
	f1961 = 16069 // sqrt(2) * (-c3-c5)
	f2053 = 16819 // sqrt(2) * (c1+c3-c5+c7)
	f2562 = 20995 // sqrt(2) * (-c1-c3)
	f3072 = 25172 // sqrt(2) * (c1+c3+c5-c7)
)

// idct8 computes the full 8×8 IDCT of the dequantised coefficients in b
// (natural order), level shifts and clamps the result into dst.
func idct8(b *[64]int32, ws *[64]int32, dst []byte, stride int) {
	// Pass 1: columns, results scaled up by 2^pass1.
	for c := range 8 {
		if b[8+c]|b[16+c]|b[24+c]|b[32+c]|b[40+c]|b[48+c]|b[56+c] == 0 {
			dc := b[c] << pass1
			ws[c], ws[8+c], ws[16+c], ws[24+c] = dc, dc, dc, dc
			ws[32+c], ws[40+c], ws[48+c], ws[56+c] = dc, dc, dc, dc
			continue
		}
		z2, z3 := b[16+c], b[48+c]
		z1 := (z2 + z3) * f0541
		t2 := z1 - z3*f1847
		t3 := z1 + z2*f0765
		z2, z3 = b[c], b[32+c]
		t0 := (z2+z3)<<cbits + 1<<(cbits-pass1-1)
		t1 := (z2-z3)<<cbits + 1<<(cbits-pass1-1)
		t10, t13 := t0+t3, t0-t3
		t11, t12 := t1+t2, t1-t2

		o0, o1, o2, o3 := b[56+c], b[40+c], b[24+c], b[8+c]
		z1 = o0 + o3
		z2 = o1 + o2
		z3 = o0 + o2
		z4 := o1 + o3
		z5 := (z3 + z4) * f1175
		o0 *= f0298
		o1 *= f2053
		o2 *= f3072
		o3 *= f1501
		z1 *= -f0899
		z2 *= -f2562
		z3 = z3*-f1961 + z5
		z4 = z4*-f0390 + z5
		o0 += z1 + z3
		o1 += z2 + z4
		o2 += z2 + z3
		o3 += z1 + z4

		const sh = cbits - pass1
		ws[c] = (t10 + o3) >> sh
		ws[56+c] = (t10 - o3) >> sh
		ws[8+c] = (t11 + o2) >> sh
		ws[48+c] = (t11 - o2) >> sh
		ws[16+c] = (t12 + o1) >> sh
		ws[40+c] = (t12 - o1) >> sh
		ws[24+c] = (t13 + o0) >> sh
		ws[32+c] = (t13 - o0) >> sh
	}
	// Pass 2: rows.
	const sh = cbits + pass1 + 3
	const bias = 1<<(sh-1) + 128<<sh
	for r := range 8 {
		w := ws[r*8 : r*8+8 : r*8+8]
		out := dst[r*stride : r*stride+8 : r*stride+8]
		z2, z3 := w[2], w[6]
		z1 := (z2 + z3) * f0541
		t2 := z1 - z3*f1847
		t3 := z1 + z2*f0765
		t0 := (w[0]+w[4])<<cbits + bias
		t1 := (w[0]-w[4])<<cbits + bias
		t10, t13 := t0+t3, t0-t3
		t11, t12 := t1+t2, t1-t2

		o0, o1, o2, o3 := w[7], w[5], w[3], w[1]
		z1 = o0 + o3
		z2 = o1 + o2
		z3 = o0 + o2
		z4 := o1 + o3
		z5 := (z3 + z4) * f1175
		o0 *= f0298
		o1 *= f2053
		o2 *= f3072
		o3 *= f1501
		z1 *= -f0899
		z2 *= -f2562
		z3 = z3*-f1961 + z5
		z4 = z4*-f0390 + z5
		o0 += z1 + z3
		o1 += z2 + z4
		o2 += z2 + z3
		o3 += z1 + z4

		out[0] = clamp8((t10 + o3) >> sh)
		out[7] = clamp8((t10 - o3) >> sh)
		out[1] = clamp8((t11 + o2) >> sh)
		out[6] = clamp8((t11 - o2) >> sh)
		out[2] = clamp8((t12 + o1) >> sh)
		out[5] = clamp8((t12 - o1) >> sh)
		out[3] = clamp8((t13 + o0) >> sh)
		out[4] = clamp8((t13 - o0) >> sh)
	}
}

// 4-point IDCT constants in 12-bit fixed point: cos(kπ/8).
const (
	k4bits = 12
	k4c1   = 3784 // cos(π/8)
	k4c2   = 2896 // cos(2π/8)
	k4c3   = 1567 // cos(3π/8)
)

// idct4 computes the 4×4 reduced IDCT of the weighted coefficients in the
// top-left 4×4 of b (fixed point with 8 fractional bits).
func idct4(b *[64]int32, dst []byte, stride int) {
	var ws [16]int32
	// Columns: ws[i*4+u] = Σ_v G(v,u) cos((2i+1)vπ/8).
	for u := range 4 {
		g0, g1, g2, g3 := b[u], b[8+u], b[16+u], b[24+u]
		e0 := g0<<k4bits + g2*k4c2
		e1 := g0<<k4bits - g2*k4c2
		o0 := g1*k4c1 + g3*k4c3
		o1 := g1*k4c3 - g3*k4c1
		ws[u] = (e0 + o0) >> k4bits
		ws[12+u] = (e0 - o0) >> k4bits
		ws[4+u] = (e1 + o1) >> k4bits
		ws[8+u] = (e1 - o1) >> k4bits
	}
	const sh = k4bits + 8
	const bias = 1<<(sh-1) + 128<<sh
	for i := range 4 {
		g := ws[i*4 : i*4+4 : i*4+4]
		out := dst[i*stride : i*stride+4 : i*stride+4]
		e0 := g[0]<<k4bits + g[2]*k4c2 + bias
		e1 := g[0]<<k4bits - g[2]*k4c2 + bias
		o0 := g[1]*k4c1 + g[3]*k4c3
		o1 := g[1]*k4c3 - g[3]*k4c1
		out[0] = clamp8((e0 + o0) >> sh)
		out[3] = clamp8((e0 - o0) >> sh)
		out[1] = clamp8((e1 + o1) >> sh)
		out[2] = clamp8((e1 - o1) >> sh)
	}
}

// idct2 computes the 2×2 reduced IDCT of the weighted coefficients in the
// top-left 2×2 of b (fixed point with 8 fractional bits).
func idct2(b *[64]int32, dst []byte, stride int) {
	const bias = 1<<7 + 128<<8
	g00, g01, g10, g11 := b[0]+bias, b[1], b[8], b[9]
	a, bb := g00+g01, g00-g01
	c, dd := g10+g11, g10-g11
	dst[0] = clamp8((a + c) >> 8)
	dst[1] = clamp8((bb + dd) >> 8)
	dst[stride] = clamp8((a - c) >> 8)
	dst[stride+1] = clamp8((bb - dd) >> 8)
}

// reconstructProgressive dequantises and transforms the coefficients
// accumulated by the progressive scans.
func (d *decoder) reconstructProgressive() {
	keep := keepFor(d.denom)
	for ci := 0; ci < d.nComp; ci++ {
		c := &d.comp[ci]
		if !c.qsValid {
			// The component never appeared in a decoded scan; its
			// coefficients are all zero.
			if d.scaledQuant(c) != nil {
				continue
			}
		}
		n := c.ncoef
		if d.denom == 8 {
			q := c.qs[0]
			for by := 0; by < c.cbh; by++ {
				row := c.coef[by*c.bw*n:]
				pix := c.pix[by*c.stride:]
				for bx := 0; bx < c.cbw; bx++ {
					pix[bx] = d.dcPixel(int32(row[bx*n]) * q)
				}
			}
			continue
		}
		m := min(n, keep)
		for by := 0; by < c.cbh; by++ {
			for bx := 0; bx < c.cbw; bx++ {
				cf := c.coef[(by*c.bw+bx)*n:][:m]
				last := 0
				for k, v := range cf {
					if v != 0 {
						d.blk[zigzag[k]] = int32(v) * c.qs[k]
						last = k
					}
				}
				d.output(c, last, bx, by)
			}
		}
	}
}

// toCMYK converts the four decoded planes to an image.CMYK, following
// image/jpeg: Adobe transform 0 means inverted CMYK, any other transform
// means YCCK (inverted K).
func (d *decoder) toCMYK(r image.Rectangle) image.Image {
	img := image.NewCMYK(r)
	p0, p1, p2, p3 := &d.comp[0], &d.comp[1], &d.comp[2], &d.comp[3]
	sub := p0.h == 2 // chroma planes subsampled 2×2
	for y := 0; y < r.Dy(); y++ {
		cy := y
		if sub {
			cy /= 2
		}
		row := img.Pix[y*img.Stride : y*img.Stride+4*r.Dx()]
		r0 := p0.pix[y*p0.stride:]
		r1 := p1.pix[cy*p1.stride:]
		r2 := p2.pix[cy*p2.stride:]
		r3 := p3.pix[y*p3.stride:]
		for x := 0; x < r.Dx(); x++ {
			cx := x
			if sub {
				cx /= 2
			}
			o := row[4*x : 4*x+4 : 4*x+4]
			if d.adobeTr == 0 {
				o[0] = 255 - r0[x]
				o[1] = 255 - r1[cx]
				o[2] = 255 - r2[cx]
			} else {
				o[0], o[1], o[2] = color.YCbCrToRGB(r0[x], r1[cx], r2[cx])
			}
			o[3] = 255 - r3[x]
		}
	}
	return img
}
