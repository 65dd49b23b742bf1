package imaging

import (
	"encoding/binary"
	"image"
	"math"

	imgops "github.com/disintegration/imaging"
)

// lanczosBits is the fixed-point precision of the filter weights: a weight
// of 1 is 1<<lanczosBits.
// With 255·(1<<20) times the sum of the taps' magnitudes (under 2 for
// Lanczos-3), opaque sums fit in an int32.
const lanczosBits = 20

// filterWeights holds one axis's Lanczos weights in fixed point: output
// pixel i reads n[i] consecutive source pixels from start[i], weighted by
// coef[i*stride : i*stride+n[i]], which sum to 1<<lanczosBits.
type filterWeights struct {
	start  []int32
	n      []int32
	coef   []int32
	stride int
}

func (fw *filterWeights) at(i int) (int, []int32) {
	o := i * fw.stride
	return int(fw.start[i]), fw.coef[o : o+int(fw.n[i])]
}

// lanczosWeights computes the weights that imgops.Resize with
// imgops.Lanczos uses to map srcSize pixels onto dstSize: the kernel is
// widened by the reduction factor when shrinking, taps beyond the edges are
// dropped and the rest normalised to sum to one.
func lanczosWeights(dstSize, srcSize int) *filterWeights {
	return lanczosWeightsBits(dstSize, srcSize, lanczosBits)
}

// lanczosWeightsBits is lanczosWeights with weights of 1<<bits.
func lanczosWeightsBits(dstSize, srcSize, bits int) *filterWeights {
	return lanczosWeightsStep(dstSize, srcSize, float64(srcSize)/float64(dstSize), 0, bits)
}

// lanczosWeightsStep is lanczosWeightsBits with the step du, in source
// pixels, between output pixels: output pixel v is centred on source
// position (v+0.5)·du + off (see planar.go for chroma, whose step is not
// the ratio of the planes' sizes).
func lanczosWeightsStep(dstSize, srcSize int, du, off float64, bits int) *filterWeights {
	scale := max(du, 1)
	ru := math.Ceil(scale * imgops.Lanczos.Support)
	stride := 2*int(ru) + 1
	fw := &filterWeights{
		start:  make([]int32, dstSize),
		n:      make([]int32, dstSize),
		coef:   make([]int32, dstSize*stride),
		stride: stride,
	}
	ws := make([]float64, stride)
	for v := range dstSize {
		fu := (float64(v)+0.5)*du - 0.5 + off
		begin := max(int(math.Ceil(fu-ru)), 0)
		end := min(int(math.Floor(fu+ru)), srcSize-1)
		n := end - begin + 1
		var sum float64
		for u := begin; u <= end; u++ {
			w := imgops.Lanczos.Kernel((float64(u) - fu) / scale)
			ws[u-begin] = w
			sum += w
		}
		if sum == 0 {
			sum = 1
		}
		coef := fw.coef[v*stride : v*stride+n]
		var total int32
		big := 0
		for i := range coef {
			coef[i] = int32(math.Round(ws[i] / sum * float64(int(1)<<bits)))
			total += coef[i]
			if coef[i] > coef[big] {
				big = i
			}
		}
		// Rounding leaves the sum a little off one; the largest tap takes
		// the difference, so that flat areas stay exactly flat.
		coef[big] += 1<<bits - total
		fw.start[v] = int32(begin)
		fw.n[v] = int32(n)
	}
	return fw
}

// nrgbaRows reads an image a row at a time as NRGBA samples: read returns
// row y, either a slice of the image itself or the row converted into buf
// (4·w bytes). opaque says every pixel is opaque.
type nrgbaRows struct {
	w, h   int
	opaque bool
	read   func(y int, buf []uint8) []uint8
}

// newNRGBARows reads NRGBA, RGBA, Gray and YCbCr images the way imgops
// reads them (RGBA un-premultiplied, YCbCr converted as image/color does);
// ok is false for other types.
func newNRGBARows(img image.Image) (nrgbaRows, bool) {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	r := nrgbaRows{w: sw, h: sh}
	// Pix, Y, Cb and Cr start at Rect.Min, sub-images included.
	switch m := img.(type) {
	case *image.NRGBA:
		r.read = func(y int, _ []uint8) []uint8 {
			return m.Pix[y*m.Stride : y*m.Stride+sw*4]
		}
	case *image.RGBA:
		r.read = func(y int, buf []uint8) []uint8 {
			src := m.Pix[y*m.Stride : y*m.Stride+sw*4]
			dst := buf[:len(src)]
			for len(src) >= 4 && len(dst) >= 4 {
				switch a := src[3]; a {
				case 0:
					dst[0], dst[1], dst[2], dst[3] = 0, 0, 0, 0
				case 0xff:
					dst[0], dst[1], dst[2], dst[3] = src[0], src[1], src[2], a
				default:
					// Un-premultiplied as imgops does it.
					a16 := uint16(a)
					dst[0] = uint8(uint16(src[0]) * 0xff / a16)
					dst[1] = uint8(uint16(src[1]) * 0xff / a16)
					dst[2] = uint8(uint16(src[2]) * 0xff / a16)
					dst[3] = a
				}
				src, dst = src[4:], dst[4:]
			}
			return buf[:sw*4]
		}
	case *image.Gray:
		r.opaque = true
		r.read = func(y int, buf []uint8) []uint8 {
			src := m.Pix[y*m.Stride : y*m.Stride+sw]
			dst := buf[:len(src)*4]
			for _, v := range src {
				d := dst[:4:4]
				d[0], d[1], d[2], d[3] = v, v, v, 0xff
				dst = dst[4:]
			}
			return buf[:sw*4]
		}
	case *image.YCbCr:
		cx, ok := chromaColumns(m.SubsampleRatio, sw, m.Rect.Min.X)
		if !ok {
			return r, false
		}
		cx32 := make([]int32, len(cx))
		for i, c := range cx {
			cx32[i] = int32(c)
		}
		r.opaque = true
		r.read = func(y int, buf []uint8) []uint8 {
			cy := y
			switch m.SubsampleRatio {
			case image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio410:
				cy = (y+m.Rect.Min.Y)/2 - m.Rect.Min.Y/2
			}
			ys := m.Y[y*m.YStride : y*m.YStride+sw]
			cbs := m.Cb[cy*m.CStride:]
			crs := m.Cr[cy*m.CStride:]
			ycbcrRow(buf[:sw*4], ys, cbs, crs, cx32[:len(ys)])
			return buf[:sw*4]
		}
	default:
		return r, false
	}
	return r, true
}

// ycbcrRow converts a row of YCbCr samples to opaque RGBA exactly as
// color.YCbCrToRGB does; cx maps each column to its chroma column.
func ycbcrRow(dst, ys, cbs, crs []uint8, cx []int32) {
	for x, yv := range ys {
		c := cx[x]
		yy1 := int32(yv) * 0x10101
		cb1 := int32(cbs[c]) - 128
		cr1 := int32(crs[c]) - 128
		r := yy1 + 91881*cr1
		if uint32(r)&0xff000000 == 0 {
			r >>= 16
		} else {
			r = ^(r >> 31)
		}
		g := yy1 - 22554*cb1 - 46802*cr1
		if uint32(g)&0xff000000 == 0 {
			g >>= 16
		} else {
			g = ^(g >> 31)
		}
		b := yy1 + 116130*cb1
		if uint32(b)&0xff000000 == 0 {
			b >>= 16
		} else {
			b = ^(b >> 31)
		}
		d := dst[x*4 : x*4+4 : x*4+4]
		d[0], d[1], d[2], d[3] = uint8(r), uint8(g), uint8(b), 0xff
	}
}

// opaqueRow reports whether every pixel of an NRGBA row is opaque.
func opaqueRow(row []uint8) bool {
	for i := 3; i < len(row); i += 4 {
		if row[i] != 0xff {
			return false
		}
	}
	return true
}

// clampFixed rounds a fixed-point sample to 8 bits, halves up as imgops.
func clampFixed(v int32) uint8 {
	v = (v + 1<<(lanczosBits-1)) >> lanczosBits
	if uint32(v) > 255 {
		return uint8(^(v >> 31)) // 0 below, 255 above
	}
	return uint8(v)
}

// clampFloat rounds as imgops does.
func clampFloat(x float64) uint8 {
	v := int64(x + 0.5)
	if v > 255 {
		return 255
	}
	if v > 0 {
		return uint8(v)
	}
	return 0
}

// lanczosResize scales img to w×h with the separable Lanczos-3 filter of
// imgops.Resize(img, w, h, imgops.Lanczos), in fixed point and reading the
// decoder's image types directly. Each source row is filtered horizontally
// once into a ring of rows, which the vertical pass reads, so no
// intermediate image is kept; either pass is skipped when its axis keeps its
// size. As imgops, colours are weighted by alpha and each pass rounds to 8
// bits. Output rows are split among up to procs goroutines, each filtering
// the source rows its band reads. It returns nil for image types it does not
// read, and when neither axis changes.
func lanczosResize(img image.Image, w, h, procs int) *image.NRGBA {
	src, ok := newNRGBARows(img)
	sw, sh := src.w, src.h
	if !ok || w <= 0 || h <= 0 || sw <= 0 || sh <= 0 || (w == sw && h == sh) {
		return nil
	}
	var fw *filterWeights
	if w != sw {
		fw = lanczosWeights(w, sw)
	}
	// row reads source row y, filtered horizontally into buf (w×4 bytes)
	// when the width changes; sc holds a band's scratch rows.
	type scratchRows struct {
		pix    []uint8 // converted pixels, sw×4
		rb     []uint64
		g      []int32
		ra, ga []uint64 // premultiplied, for rows that are not opaque
	}
	// Rows with alpha are filtered with weights of fewer bits, so that
	// sums of colour·alpha·weight fit in 32-bit lanes too.
	var fwAlpha *filterWeights
	if fw != nil && !src.opaque {
		fwAlpha = lanczosWeightsBits(w, sw, alphaBits)
	}
	newScratch := func() *scratchRows {
		if fw == nil {
			return nil
		}
		sc := &scratchRows{pix: make([]uint8, sw*4), rb: make([]uint64, sw), g: make([]int32, sw)}
		if fwAlpha != nil {
			sc.ra, sc.ga = make([]uint64, sw), make([]uint64, sw)
		}
		return sc
	}
	row := func(y int, buf []uint8, sc *scratchRows) ([]uint8, bool) {
		if fw == nil {
			// The row itself when the source is NRGBA, else converted
			// straight into buf.
			r := src.read(y, buf)
			return r, src.opaque || opaqueRow(r)
		}
		r := src.read(y, sc.pix)
		opaque := src.opaque || opaqueRow(r)
		if opaque {
			spreadRow(sc.rb, sc.g, r)
			lanczosRowOpaque(buf, sc.rb, sc.g, fw)
		} else {
			spreadRowAlpha(sc.ra, sc.ga, r)
			lanczosRowAlpha(buf, sc.ra, sc.ga, fwAlpha)
		}
		return buf, opaque
	}
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	if h == sh {
		bands(h, procs, func(y0, y1 int) {
			sc := newScratch()
			for y := y0; y < y1; y++ {
				row(y, dst.Pix[y*dst.Stride:y*dst.Stride+w*4], sc)
			}
		})
		return dst
	}
	fh := lanczosWeights(h, sh)
	// A window of taps spans at most n rows. Each band's ring holds n
	// rows, so that together they stay within what a whole intermediate
	// image of w×sh would take.
	n := min(fh.stride, sh)
	procs = min(procs, max(1, sh/n))
	bands(h, procs, func(y0, y1 int) {
		// A ring of n rows holds the filtered source rows that the taps of
		// the current output row read: rows start..start+n-1 land in
		// distinct slots.
		ring := make([][]uint8, n)
		ringY := make([]int, n)
		ringOpaque := make([]bool, n)
		for i := range ringY {
			ringY[i] = -1
		}
		bufs := make([]uint8, n*w*4)
		sc := newScratch()
		rows := make([][]uint8, n)
		var acc64 []int64
		for y := y0; y < y1; y++ {
			start, coef := fh.at(y)
			allOpaque := true
			for k := range coef {
				sy := start + k
				s := sy % n
				if ringY[s] != sy {
					ring[s], ringOpaque[s] = row(sy, bufs[s*w*4:(s+1)*w*4], sc)
					ringY[s] = sy
				}
				rows[k] = ring[s]
				allOpaque = allOpaque && ringOpaque[s]
			}
			out := dst.Pix[y*dst.Stride : y*dst.Stride+w*4]
			if allOpaque {
				lanczosColumnsOpaque(out, rows[:len(coef)], coef)
			} else {
				if acc64 == nil {
					acc64 = make([]int64, w*4)
				}
				lanczosColumnsAlpha(out, rows[:len(coef)], coef, acc64)
			}
		}
	})
	return dst
}

// Opaque rows are filtered two samples to a uint64: each lane holds a
// signed 32-bit sum (255·(1<<lanczosBits) times the taps' magnitudes fits),
// the low lane's borrow into the high one undone by unpackLanes.
const laneMask = 0x000000ff000000ff

// unpackLanes splits a uint64 of two 32-bit lane sums, the low one signed,
// into the two rounded 8-bit samples.
func unpackLanes(v uint64) (lo, hi uint8) {
	l := int32(uint32(v))
	h := int32(uint32((v - uint64(int64(l))) >> 32))
	return clampFixed(l), clampFixed(h)
}

// spreadRow splits an opaque NRGBA row into red and blue, one pixel to a
// uint64 (red in the low lane, blue in the high one), and green.
func spreadRow(rb []uint64, g []int32, src []uint8) {
	rb = rb[:len(src)/4]
	g = g[:len(rb)]
	for x := range rb {
		p := binary.LittleEndian.Uint32(src[x*4:])
		rb[x] = uint64(p&0xff) | uint64(p&0xff0000)<<16
		g[x] = int32(p >> 8 & 0xff)
	}
}

// dotSpread sums the taps of one output pixel. It is a function of its own
// so that its sums stay in registers.
//
//go:noinline
func dotSpread(rb []uint64, g, coef []int32) (rbSum uint64, gSum int32) {
	rb = rb[:len(coef)]
	g = g[:len(coef)]
	for i, c := range coef {
		rbSum += rb[i] * uint64(int64(c))
		gSum += g[i] * c
	}
	return rbSum, gSum
}

// lanczosRowOpaque filters an opaque row, spread by spreadRow,
// horizontally into NRGBA.
func lanczosRowOpaque(dst []uint8, rb []uint64, g []int32, fw *filterWeights) {
	for x := range len(dst) / 4 {
		o, n, start := x*fw.stride, int(fw.n[x]), int(fw.start[x])
		rbSum, gSum := dotSpread(rb[start:start+n], g[start:start+n], fw.coef[o:o+n])
		r, b := unpackLanes(rbSum)
		binary.LittleEndian.PutUint32(dst[x*4:], uint32(r)|uint32(clampFixed(gSum))<<8|uint32(b)<<16|0xff000000)
	}
}

// alphaBits is the precision of the weights for rows with alpha:
// 255·255·(1<<alphaBits) times the taps' magnitudes fits in an int32.
const alphaBits = 12

// spreadRowAlpha splits an NRGBA row into premultiplied red and blue, one
// pixel to a uint64, and premultiplied green and alpha.
func spreadRowAlpha(ra, ga []uint64, src []uint8) {
	ra = ra[:len(src)/4]
	ga = ga[:len(ra)]
	for x := range ra {
		p := binary.LittleEndian.Uint32(src[x*4:])
		a := uint64(p >> 24)
		ra[x] = uint64(p&0xff)*a | uint64(p>>16&0xff)*a<<32
		ga[x] = uint64(p>>8&0xff)*a | a<<32
	}
}

// dotAlpha sums the taps of one output pixel of a row with alpha.
//
//go:noinline
func dotAlpha(ra, ga []uint64, coef []int32) (raSum, gaSum uint64) {
	ra = ra[:len(coef)]
	ga = ga[:len(coef)]
	for i, c := range coef {
		cc := uint64(int64(c))
		raSum += ra[i] * cc
		gaSum += ga[i] * cc
	}
	return raSum, gaSum
}

// splitLanes splits a uint64 of two 32-bit lane sums into the sums.
func splitLanes(v uint64) (lo, hi int64) {
	l := int32(uint32(v))
	return int64(l), int64(int32(uint32((v - uint64(int64(l))) >> 32)))
}

// lanczosRowAlpha filters a row spread by spreadRowAlpha horizontally,
// weighting colours by alpha as imgops does, into NRGBA.
func lanczosRowAlpha(dst []uint8, ra, ga []uint64, fw *filterWeights) {
	for x := range len(dst) / 4 {
		o, n, start := x*fw.stride, int(fw.n[x]), int(fw.start[x])
		raSum, gaSum := dotAlpha(ra[start:start+n], ga[start:start+n], fw.coef[o:o+n])
		r, b := splitLanes(raSum)
		g, a := splitLanes(gaSum)
		putAlphaWeighted(dst[x*4:x*4+4:x*4+4], r, g, b, a, alphaBits)
	}
}

// putAlphaWeighted writes a pixel from sums of c·a·w and a·w, leaving it
// transparent black when the alpha sum is zero, as imgops does.
func putAlphaWeighted(d []uint8, r, g, b, a int64, bits int) {
	if a == 0 {
		d[0], d[1], d[2], d[3] = 0, 0, 0, 0
		return
	}
	inv := 1 / float64(a)
	d[0] = clampFloat(float64(r) * inv)
	d[1] = clampFloat(float64(g) * inv)
	d[2] = clampFloat(float64(b) * inv)
	d[3] = clampFloat(float64(a) / float64(int64(1)<<bits))
}

// lanczosColumnsOpaque filters opaque NRGBA rows vertically into dst,
// eight samples at a time.
func lanczosColumnsOpaque(dst []uint8, rows [][]uint8, coef []int32) {
	rows = rows[:len(coef)]
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		var a0, a1, a2, a3 uint64
		for k, c := range coef {
			v := binary.LittleEndian.Uint64(rows[k][i:])
			cc := uint64(int64(c))
			a0 += (v & laneMask) * cc
			a1 += (v >> 8 & laneMask) * cc
			a2 += (v >> 16 & laneMask) * cc
			a3 += (v >> 24 & laneMask) * cc
		}
		d := dst[i : i+8 : i+8]
		d[0], d[4] = unpackLanes(a0)
		d[1], d[5] = unpackLanes(a1)
		d[2], d[6] = unpackLanes(a2)
		d[3], d[7] = unpackLanes(a3)
	}
	for ; i < len(dst); i++ {
		var a int32
		for k, c := range coef {
			a += int32(rows[k][i]) * c
		}
		dst[i] = clampFixed(a)
	}
}

// lanczosColumnsAlpha filters NRGBA rows vertically into dst, weighting
// colours by alpha.
func lanczosColumnsAlpha(dst []uint8, rows [][]uint8, coef []int32, acc []int64) {
	acc = acc[:len(dst)]
	clear(acc)
	for k, c := range coef {
		row := rows[k][:len(acc)]
		a := acc
		for len(row) >= 4 && len(a) >= 4 {
			aw := int64(row[3]) * int64(c)
			a[0] += int64(row[0]) * aw
			a[1] += int64(row[1]) * aw
			a[2] += int64(row[2]) * aw
			a[3] += aw
			row, a = row[4:], a[4:]
		}
	}
	for i := 0; i+3 < len(acc); i += 4 {
		putAlphaWeighted(dst[i:i+4:i+4], acc[i], acc[i+1], acc[i+2], acc[i+3], lanczosBits)
	}
}
