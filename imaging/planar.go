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
// encode that works on RGB: no colour conversion, crop, padding, rotation,
// flip, filter, tone change or overlay, and a single frame. An EXIF
// orientation is applied to the resized planes; a cover crop with a fixed
// gravity and no orientation is made by computing only the output samples
// it keeps; smart gravity scores RGB pixels. Whether the decoded image is
// a YCbCr one planarResize reads is only known after the decode; when it is
// not, the RGB path runs.
func (pl *Plan) canPlanar() bool {
	o := pl.Options
	cover := o.Fit == FitCover && o.Width > 0 && o.Height > 0 &&
		(pl.resizeWidth != o.Width || pl.resizeHeight != o.Height)
	if cover && o.Gravity != GravitySmart && pl.orientation() == 1 {
		cover = false // cropped by the weights (planarSource)
	}
	return pl.OutFormat == FormatJPEG && pl.resizeWidth > 0 && !pl.transcode &&
		!pl.colour.convert && o.Crop.Empty() && !cover &&
		pl.padWidth == 0 && o.Rotate == 0 && o.Flip == "" && o.Blur == 0 && o.Sharpen == 0 &&
		!o.Grayscale && o.Brightness == 0 && o.Contrast == 0 && o.Gamma == 1 &&
		!pl.overlay.present() && pl.Frames <= 1
}

// planarResize scales img, when the plan allows it (Plan.canPlanar) and img
// is a YCbCr image of 4:4:4, 4:2:2 or 4:2:0 chroma, to a 4:2:0 YCbCr image
// of the plan's resize size, cover-cropped and turned by its EXIF
// orientation, with the Lanczos-3 weights of lanczosResize, each plane
// filtered on its own. It returns nil otherwise, for reductions that resize
// would start with a box shrink, which works on RGB, and when the decoded
// image already has the resize size.
//
// Chroma is centred between the luma samples it covers, as in JFIF: output
// chroma sample j of the (w+1)/2 is centred at luma position 2(j+0.5) of
// the output, (j+0.5)·2·sw/w of the source, which is (j+0.5)·2·sw/(w·f) in
// source chroma samples of f luma samples each. The weights are those of
// that step rather than of the ratio of the planes' sizes, which differs
// from it by up to a sample when a size is odd.
func planarResize(img image.Image, pl Plan, procs int) *image.YCbCr {
	j, ok := planarSource(img, pl)
	if !ok {
		return nil
	}
	o := pl.orientation()
	m, w, h := j.m, j.w, j.h
	sw, sh := m.Rect.Dx(), m.Rect.Dy()
	du, dv := float64(sw)/float64(j.rw), float64(sh)/float64(j.rh)
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	resizePlane(dst.Y, dst.YStride, w, h, m.Y, m.YStride, sw, sh,
		du, dv, float64(j.x0)*du, float64(j.y0)*dv, procs)
	csw, csh := (sw+j.fx-1)/j.fx, (sh+j.fy-1)/j.fy
	cw, ch := (w+1)/2, (h+1)/2
	dx, dy := 2*du/float64(j.fx), 2*dv/float64(j.fy)
	ox, oy := float64(j.x0)*dx/2, float64(j.y0)*dy/2
	// An odd side the orientation mirrors has its half-covered chroma
	// sample at the other end once turned: chroma sample k then covers
	// output luma 2k-1 and 2k, centred half a step earlier.
	mx, my := orientMirrors(o)
	if mx && w%2 == 1 {
		ox -= dx / 2
	}
	if my && h%2 == 1 {
		oy -= dy / 2
	}
	resizePlane(dst.Cb, dst.CStride, cw, ch, m.Cb, m.CStride, csw, csh, dx, dy, ox, oy, procs)
	resizePlane(dst.Cr, dst.CStride, cw, ch, m.Cr, m.CStride, csw, csh, dx, dy, ox, oy, procs)
	if o > 1 {
		dst = orientYCbCr(dst, o)
	}
	return dst
}

// orientMirrors says which sides of the image as stored EXIF orientation o
// reverses: its columns (mx) and its rows (my).
func orientMirrors(o int) (mx, my bool) {
	switch o {
	case 2, 8:
		return true, false
	case 4, 6:
		return false, true
	case 3, 7:
		return true, true
	}
	return false, false
}

// orientYCbCr applies an EXIF orientation to a 4:2:0 image at the origin,
// plane by plane, as orient does to pixels. When a mirrored side is odd, the
// half-covered last chroma column or row becomes the first: planarResize
// sites that chroma for it.
func orientYCbCr(m *image.YCbCr, o int) *image.YCbCr {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	if o >= 5 {
		w, h = h, w
	}
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	orientPlane(dst.Y, dst.YStride, w, h, m.Y, m.YStride, o)
	cw, ch := (w+1)/2, (h+1)/2
	orientPlane(dst.Cb, dst.CStride, cw, ch, m.Cb, m.CStride, o)
	orientPlane(dst.Cr, dst.CStride, cw, ch, m.Cr, m.CStride, o)
	return dst
}

// orientPlane writes the w×h plane dst from src turned by EXIF orientation
// o; src is h×w for orientations 5 to 8, else w×h.
func orientPlane(dst []uint8, dstStride, w, h int, src []uint8, srcStride, o int) {
	sw, sh := w, h
	if o >= 5 {
		sw, sh = h, w
	}
	for y := range h {
		d := dst[y*dstStride : y*dstStride+w]
		for x := range d {
			var sx, sy int
			switch o {
			case 2: // flip horizontally
				sx, sy = sw-1-x, y
			case 3: // rotate 180°
				sx, sy = sw-1-x, sh-1-y
			case 4: // flip vertically
				sx, sy = x, sh-1-y
			case 5: // transpose
				sx, sy = y, x
			case 6: // rotate 90° clockwise
				sx, sy = y, sh-1-x
			case 7: // transverse
				sx, sy = sw-1-y, sh-1-x
			case 8: // rotate 90° counter-clockwise
				sx, sy = sw-1-y, x
			default:
				sx, sy = x, y
			}
			d[x] = src[sy*srcStride+sx]
		}
	}
}

// planarJob is what planarResize does: resize m to rw×rh as stored (before
// the orientation), keeping the w×h samples from (x0, y0) (a cover crop),
// m's chroma being subsampled by fx×fy.
type planarJob struct {
	m              *image.YCbCr
	rw, rh, w, h   int
	x0, y0, fx, fy int
}

// planarSource is the job planarResize does on img; ok is false when it
// returns nil for it. transform asks it before applying the orientation,
// which the planar path applies after the resize, and the cover crop, which
// it makes.
func planarSource(img image.Image, pl Plan) (j planarJob, ok bool) {
	m, ok := img.(*image.YCbCr)
	if !ok || !pl.planar {
		return j, false
	}
	j.m = m
	j.rw, j.rh = pl.resizeWidth, pl.resizeHeight
	j.w, j.h = j.rw, j.rh
	if o := pl.Options; o.Fit == FitCover && o.Width > 0 && o.Height > 0 {
		// As imgops.CropAnchor places the crop (canPlanar allows no
		// orientation with it).
		j.w, j.h = o.Width, o.Height
		switch o.Gravity {
		case GravityNorthWest, GravityWest, GravitySouthWest:
		case GravityNorthEast, GravityEast, GravitySouthEast:
			j.x0 = j.rw - j.w
		default:
			j.x0 = (j.rw - j.w) / 2
		}
		switch o.Gravity {
		case GravityNorthWest, GravityNorth, GravityNorthEast:
		case GravitySouthWest, GravitySouth, GravitySouthEast:
			j.y0 = j.rh - j.h
		default:
			j.y0 = (j.rh - j.h) / 2
		}
	}
	if pl.orientation() >= 5 {
		// Resized as stored, then turned.
		j.rw, j.rh, j.w, j.h = j.rh, j.rw, j.h, j.w
	}
	j.fx, j.fy = 1, 1
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
	case image.YCbCrSubsampleRatio422:
		j.fx = 2
	case image.YCbCrSubsampleRatio420:
		j.fx, j.fy = 2, 2
	default:
		return j, false
	}
	sw, sh := m.Rect.Dx(), m.Rect.Dy()
	if m.Rect.Min != (image.Point{}) || j.w <= 0 || j.h <= 0 || j.x0 < 0 || j.y0 < 0 ||
		j.x0+j.w > j.rw || j.y0+j.h > j.rh || sw <= 0 || sh <= 0 ||
		(sw == j.rw && sh == j.rh) || sw/(2*j.rw) >= 2 || sh/(2*j.rh) >= 2 {
		return j, false
	}
	return j, true
}

// resizePlane filters an 8-bit plane of sw×sh samples to w×h, output
// samples du and dv source samples apart and offset by ou and ov (see
// lanczosWeightsStep), as lanczosResize filters opaque
// pixels: each source row filtered horizontally once into a ring the
// vertical pass reads, each pass rounding to 8 bits, output rows split among
// up to procs goroutines.
func resizePlane(dst []uint8, dstStride, w, h int, src []uint8, srcStride, sw, sh int, du, dv, ou, ov float64, procs int) {
	var fw *filterWeights
	if w != sw || du != 1 || ou != 0 {
		fw = lanczosWeightsStep(w, sw, du, ou, lanczosBits)
	}
	row := func(y int, buf []uint8) []uint8 {
		s := src[y*srcStride : y*srcStride+sw]
		if fw == nil {
			return s
		}
		lanczosRowPlane(buf, s, fw)
		return buf
	}
	if h == sh && dv == 1 && ov == 0 {
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
	fh := lanczosWeightsStep(h, sh, dv, ov, lanczosBits)
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
