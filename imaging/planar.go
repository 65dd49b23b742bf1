package imaging

import (
	"encoding/binary"
	"image"
	"math/bits"
)

// canPlanar says whether the resize may work on the decoded image's YCbCr
// planes (planarResize) instead of on RGB: the luma plane is filtered to the
// output size and the chroma planes straight to the half size of the JPEG
// encoder's 4:2:0, which then copies them with no colour conversion. Each
// pixel is then neither turned into RGB after the decode nor back into
// YCbCr before the encode, and the filter reads 1.5 samples a pixel instead
// of 4; libvips and cjpeg filter chroma at chroma resolution too.
//
// It needs an output whose encoder takes the planes (Encoder.Planes: JPEG,
// and lossy WebP, which is 4:2:0 YUV too), a resize, and nothing between the resize and the
// encode that works on RGB: no colour conversion, crop, padding, rotation
// other than quarter turns, filter, tone change or overlay, and a single
// frame. An EXIF orientation, quarter turns and flips are applied to the
// resized planes, composed into one orientation (planarOrientation); a
// cover crop with a fixed
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
	enc := codecOf(pl.OutFormat).Encoder
	return enc != nil && enc.Planes != nil && enc.Planes(o) && pl.resizeWidth > 0 && !pl.transcode &&
		!pl.colour.convert && o.Crop.Empty() && !cover &&
		pl.padWidth == 0 && isQuarterTurn(o.Rotate) && o.Blur == 0 && o.Sharpen == 0 &&
		!o.Grayscale && o.Brightness == 0 && o.Contrast == 0 && o.Gamma == 1 &&
		!pl.overlay.present() && pl.Frames <= 1
}

// orientMatrix gives each EXIF orientation as the matrix that takes a
// pixel's place in the stored image, relative to its centre, with y down,
// to its place once turned.
var orientMatrix = [9][4]int{
	1: {1, 0, 0, 1}, 2: {-1, 0, 0, 1}, 3: {-1, 0, 0, -1}, 4: {1, 0, 0, -1},
	5: {0, 1, 1, 0}, 6: {0, -1, 1, 0}, 7: {0, -1, -1, 0}, 8: {0, 1, -1, 0},
}

// planarOrientation is the one EXIF orientation that the planar path
// applies after its resize: the image's own (when auto-orient applies it),
// then the rotation (clockwise quarter turns), then the flip, as transform
// applies them one after the other to pixels.
func (pl *Plan) planarOrientation() int {
	m := orientMatrix[pl.orientation()]
	then := func(o int) {
		a := orientMatrix[o]
		m = [4]int{a[0]*m[0] + a[1]*m[2], a[0]*m[1] + a[1]*m[3], a[2]*m[0] + a[3]*m[2], a[2]*m[1] + a[3]*m[3]}
	}
	if o, ok := turnOrientation(pl.Options.Rotate); ok {
		then(o)
	}
	then(flipOrientation(pl.Options.Flip))
	for o := 1; o <= 8; o++ {
		if orientMatrix[o] == m {
			return o
		}
	}
	return 1 // not reached: the group is closed
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
	o := pl.planarOrientation()
	m, w, h := j.m, j.w, j.h
	sw, sh := m.Rect.Dx(), m.Rect.Dy()
	du, dv := float64(sw)/float64(j.rw), float64(sh)/float64(j.rh)
	var dst *image.YCbCr
	if o > 1 && j.rw == sw && j.rh == sh && w == sw && h == sh {
		// Only turned: the turn reads the luma as decoded, and the
		// planes here are its source, not the result.
		cw, ch := (w+1)/2, (h+1)/2
		c := make([]uint8, 2*cw*ch)
		dst = &image.YCbCr{Y: m.Y, YStride: m.YStride, Cb: c[:cw*ch], Cr: c[cw*ch:], CStride: cw,
			SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: image.Rect(0, 0, w, h)}
	} else {
		dst = image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
		resizePlane(dst.Y, dst.YStride, w, h, m.Y, m.YStride, sw, sh,
			du, dv, float64(j.x0)*du, float64(j.y0)*dv, procs)
	}
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
		dst = orientYCbCr(dst, o, procs)
	}
	return dst
}

// orientMirrors says which sides of the image as stored EXIF orientation o
// reverses: its columns (mx) and its rows (my).
func orientMirrors(o int) (mx, my bool) {
	if o < 1 || o > 8 {
		return false, false
	}
	// A stored axis is reversed when it ends up pointing left or up.
	m := orientMatrix[o]
	return m[0]+m[2] < 0, m[1]+m[3] < 0
}

// orientYCbCr applies an EXIF orientation to a 4:2:0 image at the origin,
// plane by plane, as orient does to pixels, on up to procs goroutines. When
// a mirrored side is odd, the half-covered last chroma column or row becomes
// the first: planarResize sites that chroma for it.
func orientYCbCr(m *image.YCbCr, o, procs int) *image.YCbCr {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	if o >= 5 {
		w, h = h, w
	}
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	orientPlane(dst.Y, dst.YStride, w, h, m.Y, m.YStride, o, procs)
	cw, ch := (w+1)/2, (h+1)/2
	orientPlane(dst.Cb, dst.CStride, cw, ch, m.Cb, m.CStride, o, procs)
	orientPlane(dst.Cr, dst.CStride, cw, ch, m.Cr, m.CStride, o, procs)
	return dst
}

// orientPlane writes the w×h plane dst from src turned by EXIF orientation
// o (src is h×w for orientations 5 to 8, else w×h), its rows split among up
// to procs goroutines. Sample (x, y) of dst is src[base + x·dx + y·dy].
// A turn (orientations 5 to 8) reads a column of src for each row of dst:
// it goes in 8×8 blocks (turnBlock) along strips of orientStrip columns of
// dst, so that the strip's source rows stay in cache from one row of
// blocks to the next.
func orientPlane(dst []uint8, dstStride, w, h int, src []uint8, srcStride, o, procs int) {
	sw, sh := w, h
	if o >= 5 {
		sw, sh = h, w
	}
	// The source sample of (x, y) is (ax·x + bx·y + cx, ay·x + by·y + cy):
	// the inverse of the orientation's matrix, which is its transpose,
	// moved back by a side the orientation reverses.
	if o < 1 || o > 8 {
		o = 1
	}
	m := orientMatrix[o]
	ax, bx, ay, by := m[0], m[2], m[1], m[3]
	var cx, cy int
	mx, my := orientMirrors(o)
	if mx {
		cx = sw - 1
	}
	if my {
		cy = sh - 1
	}
	dx, dy := ay*srcStride+ax, by*srcStride+bx
	base := cy*srcStride + cx
	// samples copies the samples of row y of dst from x0 to x1.
	samples := func(y, x0, x1 int) {
		d := dst[y*dstStride+x0 : y*dstStride+x1]
		i := base + x0*dx + y*dy
		switch dx {
		case 1:
			copy(d, src[i:i+len(d)])
			return
		case -1: // a mirrored row, eight samples to a word
			for len(d) >= 8 {
				binary.LittleEndian.PutUint64(d, bits.ReverseBytes64(binary.LittleEndian.Uint64(src[i-7:])))
				d, i = d[8:], i-8
			}
		}
		for x := range d {
			d[x] = src[i]
			i += dx
		}
	}
	bands(h, procs, func(y0, y1 int) {
		if o < 5 {
			for y := y0; y < y1; y++ {
				samples(y, 0, w)
			}
			return
		}
		for x0 := 0; x0 < w; x0 += orientStrip {
			x1 := min(x0+orientStrip, w)
			y := y0
			for ; y+8 <= y1; y += 8 {
				x := x0
				for ; x+8 <= x1; x += 8 {
					turnBlock(dst[y*dstStride+x:], dstStride, src, base+x*dx+y*dy, dx, dy)
				}
				for j := range 8 {
					samples(y+j, x, x1)
				}
			}
			for ; y < y1; y++ {
				samples(y, x0, x1)
			}
		}
	})
}

// orientStrip is how many columns of dst orientPlane turns at a time: as
// many source rows, one cache line of each, stay in use.
const orientStrip = 64

// turnBlock writes the 8×8 block of a turned plane whose top left sample is
// src[i], the block's row j going on by dy = ±1 and its column k by dx (a
// source row apart): it reads the 8 source rows of the block as words, the
// samples of row j in byte j, transposes them (byte c of word k goes to
// byte k of word c) and writes each word as a row of dst. The transpose
// swaps bytes, then pairs of bytes, then halves between words 1, 2 and 4
// apart, in registers.
func turnBlock(dst []uint8, dstStride int, src []uint8, i, dx, dy int) {
	load := func(p int) uint64 {
		if dy < 0 {
			return bits.ReverseBytes64(binary.LittleEndian.Uint64(src[p-7:]))
		}
		return binary.LittleEndian.Uint64(src[p:])
	}
	r0, r1, r2, r3 := load(i), load(i+dx), load(i+2*dx), load(i+3*dx)
	r4, r5, r6, r7 := load(i+4*dx), load(i+5*dx), load(i+6*dx), load(i+7*dx)
	const m8, m16, m32 = 0x00ff00ff00ff00ff, 0x0000ffff0000ffff, 0x00000000ffffffff
	r0, r1 = swapLanes(r0, r1, 8, m8)
	r2, r3 = swapLanes(r2, r3, 8, m8)
	r4, r5 = swapLanes(r4, r5, 8, m8)
	r6, r7 = swapLanes(r6, r7, 8, m8)
	r0, r2 = swapLanes(r0, r2, 16, m16)
	r1, r3 = swapLanes(r1, r3, 16, m16)
	r4, r6 = swapLanes(r4, r6, 16, m16)
	r5, r7 = swapLanes(r5, r7, 16, m16)
	r0, r4 = swapLanes(r0, r4, 32, m32)
	r1, r5 = swapLanes(r1, r5, 32, m32)
	r2, r6 = swapLanes(r2, r6, 32, m32)
	r3, r7 = swapLanes(r3, r7, 32, m32)
	for j, v := range [8]uint64{r0, r1, r2, r3, r4, r5, r6, r7} {
		binary.LittleEndian.PutUint64(dst[j*dstStride:], v)
	}
}

// swapLanes swaps the odd lanes of a (lanes of shift bits, mask selecting
// the even ones) with the even lanes of b.
func swapLanes(a, b uint64, shift uint, mask uint64) (uint64, uint64) {
	t := (a>>shift ^ b) & mask
	return a ^ t<<shift, b ^ t
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
		j.x0, j.y0 = gravityOffset(o.Gravity, j.rw, j.rh, j.w, j.h)
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
		(sw == j.rw && sh == j.rh && pl.planarOrientation() == 1) || sw/(2*j.rw) >= 2 || sh/(2*j.rh) >= 2 {
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
	var pw *pairWeights
	if w != sw || du != 1 || ou != 0 {
		fw = lanczosWeightsStep(w, sw, du, ou, lanczosBits)
		pw = newPairWeights(fw, w, sw)
	}
	row := func(y int, buf []uint8) []uint8 {
		s := src[y*srcStride : y*srcStride+sw]
		switch {
		case fw == nil:
			return s
		case pw != nil:
			lanczosRowPairs(buf, s, pw)
		default:
			lanczosRowPlane(buf, s, fw)
		}
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

// pairWeights holds one axis's weights for two neighbouring output samples
// at a time, packed into the two 32-bit lanes of a uint64 (the first
// sample's in the low lane) over the union of their windows, so that one
// multiplication of a source sample serves both outputs: pair p reads n
// source samples from start[p], weighted by coef[p*n : p*n+n]. The sums are
// exactly lanczosRowPlane's (see unpackLanes); for a reduction by r the
// union spans about 7r samples where two single windows span 12r.
type pairWeights struct {
	start []int
	coef  []uint64
	n     int
}

// newPairWeights packs fw's weights for w outputs over sw source samples,
// or returns nil when the union of a pair's windows is wider than the row.
func newPairWeights(fw *filterWeights, w, sw int) *pairWeights {
	pairs := (w + 1) / 2
	lo, hi := make([]int, pairs), make([]int, pairs)
	n := 0
	for p := range pairs {
		lo[p], hi[p] = sw, 0
		for x := 2 * p; x < min(2*p+2, w); x++ {
			st, c := fw.at(x)
			lo[p], hi[p] = min(lo[p], st), max(hi[p], st+len(c))
		}
		n = max(n, hi[p]-lo[p])
	}
	if n == 0 || n > sw {
		return nil
	}
	pw := &pairWeights{start: lo, coef: make([]uint64, pairs*n), n: n}
	for p := range pairs {
		// Every pair reads n samples; one near the right edge starts
		// earlier, with zero weights in front.
		pw.start[p] = min(lo[p], sw-n)
		packed := pw.coef[p*n : p*n+n]
		for lane, x := 0, 2*p; x < min(2*p+2, w); lane, x = lane+1, x+1 {
			st, c := fw.at(x)
			for i, v := range c {
				packed[st-pw.start[p]+i] += uint64(int64(v)) << (32 * lane)
			}
		}
	}
	return pw
}

// lanczosRowPairs filters a row of 8-bit samples horizontally, two
// outputs at a time (see pairWeights).
func lanczosRowPairs(dst, src []uint8, pw *pairWeights) {
	n := pw.n
	for p, st := range pw.start {
		c := pw.coef[p*n : p*n+n]
		s := src[st : st+n]
		s = s[:len(c)]
		var a uint64
		for i, k := range c {
			a += uint64(s[i]) * k
		}
		lo, hi := unpackLanes(a)
		dst[2*p] = lo
		if 2*p+1 < len(dst) {
			dst[2*p+1] = hi
		}
	}
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
