package imaging

import "image"

// canPlanar says whether the resize may work on the decoded image's YCbCr
// planes (planarResize) instead of on RGB: the luma plane is filtered to the
// output size and the chroma planes straight to the half size of the JPEG
// encoder's 4:2:0, which then copies them with no colour conversion. Each
// pixel is then neither turned into RGB after the decode nor back into
// YCbCr before the encode, and the filter reads 1.5 samples a pixel instead
// of 4; libvips and cjpeg filter chroma at chroma resolution too.
//
// It needs a JPEG output, a resize, and nothing between the resize and the
// encode that works on RGB: no colour conversion, EXIF orientation (1, or
// auto_orient=false), crop, cover crop, padding, rotation, flip, filter,
// tone change or overlay, and a single frame. Whether the decoded image is
// a YCbCr one planarResize reads is only known after the decode; when it is
// not, the RGB path runs.
func (pl *Plan) canPlanar() bool {
	o := pl.Options
	cover := o.Fit == FitCover && o.Width > 0 && o.Height > 0 &&
		(pl.resizeWidth != o.Width || pl.resizeHeight != o.Height)
	return pl.OutFormat == FormatJPEG && pl.resizeWidth > 0 && !pl.transcode &&
		!pl.colour.convert && pl.orientation() == 1 && o.Crop.Empty() && !cover &&
		pl.padWidth == 0 && o.Rotate == 0 && o.Flip == "" && o.Blur == 0 && o.Sharpen == 0 &&
		!o.Grayscale && o.Brightness == 0 && o.Contrast == 0 && o.Gamma == 1 &&
		!pl.overlay.present() && pl.Frames <= 1
}

// planarResize scales img, when the plan allows it (Plan.canPlanar) and img
// is a YCbCr image of 4:4:4, 4:2:2 or 4:2:0 chroma, to a 4:2:0 YCbCr image
// of w×h with the Lanczos-3 weights of lanczosResize, each plane filtered on
// its own. It returns nil otherwise, and for reductions that resize would
// start with a box shrink, which works on RGB.
//
// Chroma is centred between the luma samples it covers, as in JFIF: output
// chroma sample j of the (w+1)/2 is centred at luma position 2(j+0.5) of
// the output, (j+0.5)·2·sw/w of the source, which is (j+0.5)·2·sw/(w·f) in
// source chroma samples of f luma samples each. The weights are those of
// that step rather than of the ratio of the planes' sizes, which differs
// from it by up to a sample when a size is odd.
func planarResize(img image.Image, pl Plan, procs int) *image.YCbCr {
	m, ok := img.(*image.YCbCr)
	if !ok || !pl.planar {
		return nil
	}
	w, h := pl.resizeWidth, pl.resizeHeight
	fx, fy := 1, 1
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
	case image.YCbCrSubsampleRatio422:
		fx = 2
	case image.YCbCrSubsampleRatio420:
		fx, fy = 2, 2
	default:
		return nil
	}
	sw, sh := m.Rect.Dx(), m.Rect.Dy()
	if m.Rect.Min != (image.Point{}) || w <= 0 || h <= 0 || sw <= 0 || sh <= 0 ||
		sw/(2*w) >= 2 || sh/(2*h) >= 2 {
		return nil
	}
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	resizePlane(dst.Y, dst.YStride, w, h, m.Y, m.YStride, sw, sh,
		float64(sw)/float64(w), float64(sh)/float64(h), procs)
	csw, csh := (sw+fx-1)/fx, (sh+fy-1)/fy
	cw, ch := (w+1)/2, (h+1)/2
	dx := 2 * float64(sw) / float64(w*fx)
	dy := 2 * float64(sh) / float64(h*fy)
	resizePlane(dst.Cb, dst.CStride, cw, ch, m.Cb, m.CStride, csw, csh, dx, dy, procs)
	resizePlane(dst.Cr, dst.CStride, cw, ch, m.Cr, m.CStride, csw, csh, dx, dy, procs)
	return dst
}

// resizePlane filters an 8-bit plane of sw×sh samples to w×h, output
// samples du and dv source samples apart, as lanczosResize filters opaque
// pixels: each source row filtered horizontally once into a ring the
// vertical pass reads, each pass rounding to 8 bits, output rows split among
// up to procs goroutines.
func resizePlane(dst []uint8, dstStride, w, h int, src []uint8, srcStride, sw, sh int, du, dv float64, procs int) {
	var fw *filterWeights
	if w != sw || du != 1 {
		fw = lanczosWeightsStep(w, sw, du, lanczosBits)
	}
	row := func(y int, buf []uint8) []uint8 {
		s := src[y*srcStride : y*srcStride+sw]
		if fw == nil {
			return s
		}
		lanczosRowPlane(buf, s, fw)
		return buf
	}
	if h == sh && dv == 1 {
		bands(h, procs, func(y0, y1 int) {
			for y := y0; y < y1; y++ {
				d := dst[y*dstStride : y*dstStride+w]
				if r := row(y, d); fw == nil {
					copy(d, r)
				}
			}
		})
		return
	}
	fh := lanczosWeightsStep(h, sh, dv, lanczosBits)
	n := min(fh.stride, sh)
	procs = min(procs, max(1, sh/n))
	bands(h, procs, func(y0, y1 int) {
		ring := make([][]uint8, n)
		ringY := make([]int, n)
		for i := range ringY {
			ringY[i] = -1
		}
		bufs := make([]uint8, n*w)
		rows := make([][]uint8, n)
		for y := y0; y < y1; y++ {
			start, coef := fh.at(y)
			for k := range coef {
				sy := start + k
				s := sy % n
				if ringY[s] != sy {
					ring[s] = row(sy, bufs[s*w:(s+1)*w])
					ringY[s] = sy
				}
				rows[k] = ring[s]
			}
			lanczosColumnsOpaque(dst[y*dstStride:y*dstStride+w], rows[:len(coef)], coef)
		}
	})
}

// lanczosRowPlane filters a row of 8-bit samples horizontally.
func lanczosRowPlane(dst, src []uint8, fw *filterWeights) {
	for x := range dst {
		start, coef := fw.at(x)
		s := src[start : start+len(coef)]
		var a int32
		for i, c := range coef {
			a += int32(s[i]) * c
		}
		dst[x] = clampFixed(a)
	}
}
