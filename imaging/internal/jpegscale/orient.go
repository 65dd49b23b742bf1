package jpegscale

import "fmt"

// Lossless orientation in the DCT domain, as jpegtran -perfect does it:
// transposing a block transposes its coefficients, mirroring it negates
// the coefficients of odd horizontal (or vertical) frequency. A mirror
// moves whole blocks, so it needs the mirrored side to be a whole number of
// MCUs: otherwise the partial blocks at the right or bottom edge would come
// out at the left or top.

// orientOps lists the steps that turn an image stored with EXIF
// orientation o upright: transpose, then mirror left-right, then top-bottom.
func orientOps(o int) (transpose, flipH, flipV bool) {
	switch o {
	case 2:
		return false, true, false
	case 3:
		return false, true, true
	case 4:
		return false, false, true
	case 5:
		return true, false, false
	case 6:
		return true, true, false
	case 7:
		return true, true, true
	case 8:
		return true, false, true
	}
	return false, false, false
}

// Orientable says whether an image with this header and EXIF orientation o
// can be turned upright losslessly (see CoefFrame.Orient): the sides that
// are mirrored must be whole MCUs, and a transposed 4:1:1 or 4:1:0 would
// be a 1×4 layout few decoders take.
func (h Header) Orientable(o int) bool {
	if h.Err != nil || h.mcuW == 0 {
		return false
	}
	transpose, flipH, flipV := orientOps(o)
	if transpose && h.mcuW > 16 {
		return false
	}
	w, hh, mw, mh := h.Width, h.Height, h.mcuW, h.mcuH
	if transpose {
		w, hh, mw, mh = hh, w, mh, mw
	}
	return (!flipH || w%mw == 0) && (!flipV || hh%mh == 0)
}

// Orient turns the frame of an image stored with EXIF orientation o (1–8)
// upright, losslessly; the tables turn with the coefficients. A transpose
// allocates a second set of coefficients. It fails, leaving the frame
// unusable, when a mirrored side is not a whole number of MCUs.
func (f *CoefFrame) Orient(o int) error {
	if f.ZigZag {
		return unsupported("turning blocks in zig-zag order")
	}
	transpose, flipH, flipV := orientOps(o)
	if transpose {
		for _, c := range f.Components {
			if c.H > 2 && len(f.Components) > 1 {
				return unsupported(fmt.Sprintf("orientation %d of a %dx%d-sampled image", o, c.H, c.V))
			}
		}
		f.transpose()
	}
	hmax, vmax := 1, 1
	if len(f.Components) > 1 {
		for _, c := range f.Components {
			hmax, vmax = max(hmax, c.H), max(vmax, c.V)
		}
	}
	if flipH && f.Width%(8*hmax) != 0 || flipV && f.Height%(8*vmax) != 0 {
		return unsupported(fmt.Sprintf("orientation %d of a %dx%d image that is not whole %dx%d MCUs", o, f.Width, f.Height, 8*hmax, 8*vmax))
	}
	for i := range f.Components {
		c := &f.Components[i]
		if flipH {
			c.mirror(true)
		}
		if flipV {
			c.mirror(false)
		}
	}
	return nil
}

// transpose swaps the frame's axes.
func (f *CoefFrame) transpose() {
	f.Width, f.Height = f.Height, f.Width
	for i := range f.Components {
		c := &f.Components[i]
		out := make([]int16, len(c.Coeffs))
		for by := 0; by < c.BlocksH; by++ {
			for bx := 0; bx < c.BlocksW; bx++ {
				src := (*[64]int16)(c.Coeffs[(by*c.BlocksW+bx)*64:][:64])
				dst := (*[64]int16)(out[(bx*c.BlocksH+by)*64:][:64])
				for v := 0; v < 8; v++ {
					for u := 0; u < 8; u++ {
						dst[u*8+v] = src[v*8+u]
					}
				}
			}
		}
		c.Quant, c.Coeffs = transposed(&c.Quant), out
		c.H, c.V = c.V, c.H
		c.BlocksW, c.BlocksH = c.BlocksH, c.BlocksW
	}
}

// mirror flips the component left-right (horizontal) or top-bottom: the
// blocks trade places and the odd frequencies across the axis change sign.
func (c *CoefComponent) mirror(horizontal bool) {
	block := func(bx, by int) *[64]int16 { return (*[64]int16)(c.Coeffs[(by*c.BlocksW+bx)*64:][:64]) }
	negate := func(b *[64]int16) {
		for v := 0; v < 8; v++ {
			for u := 0; u < 8; u++ {
				if horizontal && u&1 == 1 || !horizontal && v&1 == 1 {
					b[v*8+u] = -b[v*8+u]
				}
			}
		}
	}
	if horizontal {
		for by := 0; by < c.BlocksH; by++ {
			for l, r := 0, c.BlocksW-1; l <= r; l, r = l+1, r-1 {
				a, b := block(l, by), block(r, by)
				*a, *b = *b, *a
				negate(a)
				if l != r {
					negate(b)
				}
			}
		}
		return
	}
	for t, b := 0, c.BlocksH-1; t <= b; t, b = t+1, b-1 {
		for bx := 0; bx < c.BlocksW; bx++ {
			x, y := block(bx, t), block(bx, b)
			*x, *y = *y, *x
			negate(x)
			if t != b {
				negate(y)
			}
		}
	}
}
