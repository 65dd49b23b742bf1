package jpegenc

import (
	"fmt"
	"image"
	"io"
)

// Subsampling is the chroma subsampling Encode uses for colour images.
type Subsampling int

const (
	// Subsample420 halves chroma both ways (the default).
	Subsample420 Subsampling = iota
	// Subsample444 keeps chroma at full resolution.
	Subsample444
)

// Statistics is how Encode gathers the symbol statistics of optimised
// Huffman tables.
type Statistics int

const (
	// StatsKeep makes optimal tables from all the coefficients, which it
	// keeps between its two passes: 2 bytes a sample (Cost counts them).
	StatsKeep Statistics = iota
	// StatsRecompute makes optimal tables from all the coefficients, and
	// computes them again in the second pass: memory stays one MCU row
	// high, but encoding takes about 1.6 times as long as with StatsKeep.
	StatsRecompute
	// StatsSampled makes tables from every fourth MCU row (all rows of
	// images under 16 MCU rows), with a code for every symbol, and
	// computes the coefficients of those rows again: memory stays one MCU
	// row high and encoding takes about a quarter longer than with
	// standard tables; files come out a fraction of a percent larger
	// than with optimal tables.
	StatsSampled
)

// DefaultQuality is the quality Encode uses when none is given.
const DefaultQuality = 75

// EncodeOptions control Encode.
type EncodeOptions struct {
	// Quality is 1 to 100 and means what it means to libjpeg's cjpeg:
	// the Annex K tables scaled by jpeg_set_quality. Zero means
	// DefaultQuality.
	Quality int
	// Subsampling of chroma; the zero value is 4:2:0.
	Subsampling Subsampling
	// OptimizeHuffman builds Huffman tables for the image, which makes
	// files some 2-10% smaller; Statistics says how.
	OptimizeHuffman bool
	// Statistics is how OptimizeHuffman gathers symbol statistics.
	Statistics Statistics
	// Segments are written after SOI, as in Options.
	Segments [][]byte
	// Procs is how many goroutines may encode the image, as in Options:
	// above 1 the MCU rows are transformed and coded in bands joined by
	// restart markers. StatsKeep encodes serially.
	Procs int
}

// encoder holds the state of one Encode call.
type encoder struct {
	w, h   int
	sub    int // luma samples per chroma sample each way: 2 or 1
	ncomp  int
	lay    layout
	ys, cs int // strip strides
	// Strips of one MCU row of samples: luma 8*sub rows, chroma 8 rows.
	y, cb, cr []uint8
	qz        [2]*quantizer
	comps     []Component // one MCU row of coefficients, in zigzag order
	masks     [][]uint64  // for each block, the bitmap of its non-zero coefficients
	// With OptimizeHuffman and StatsKeep, comps and masks are views
	// of one MCU row of these, the whole image's.
	all      []Component
	allMasks [][]uint64
	fill     func(row int) // fills the strips for MCU row
	minY     int
}

// Encode writes img as a baseline JPEG: 4:2:0 or 4:4:4 YCbCr, or one
// component for *image.Gray and *image.Gray16. Transparent pixels are
// composited onto black, as image/jpeg does.
func Encode(w io.Writer, img image.Image, o EncodeOptions) error {
	b := img.Bounds()
	if b.Dx() < 1 || b.Dy() < 1 || b.Dx() > 65535 || b.Dy() > 65535 {
		return fmt.Errorf("jpegenc: %dx%d is not a size JPEG can hold (1 to 65535 a side)", b.Dx(), b.Dy())
	}
	if o.Quality == 0 {
		o.Quality = DefaultQuality
	}
	e := newEncoder(b.Dx(), b.Dy(), isGrey(img), o)
	e.minY = b.Min.Y
	e.fill = e.filler(img)
	rows := e.lay.mcuRows(e.ncomp)
	if o.Procs > 1 && e.all == nil {
		perRow := e.lay.mcusX
		if e.ncomp == 1 {
			perRow = e.lay.blocksX
		}
		if p := planRestarts(rows, perRow, o.Procs); p.bands > 1 {
			return e.encodeBands(w, img, o, &p)
		}
	}
	var t tables
	bw := &bitWriter{w: w, buf: make([]byte, 0, flushAt+1024)}
	if o.OptimizeHuffman {
		// First pass: statistics.
		step := 1
		if o.Statistics == StatsSampled && rows >= 16 {
			step = 4
		}
		for r := 0; r < rows; r += step {
			e.transform(r)
			forEachBlock(e.comps, &e.lay, r, r+1, r, func(ci, bi int) {
				t.count(ci, block(&e.comps[ci], bi), e.masks[ci][bi])
			})
		}
		if step > 1 {
			t.everySymbol()
		}
		if t.outOfRange {
			return errRange
		}
		if err := t.useOptimal(e.ncomp); err != nil {
			return err
		}
	} else if err := t.useStandard(e.ncomp); err != nil {
		return err
	}
	f := &Frame{Width: e.w, Height: e.h, Components: e.comps}
	if err := writeHeaders(bw, f, &t, o.Segments, 0); err != nil {
		return err
	}
	ok := true
	if e.all != nil {
		e.comps, e.masks = e.all, e.allMasks
		for r := 0; r < rows && bw.err == nil; r++ {
			ok = e.encodeRow(bw, &t, r) && ok
		}
	} else {
		for r := 0; r < rows && bw.err == nil; r++ {
			e.transform(r)
			ok = e.encodeRow(bw, &t, 0) && ok
		}
	}
	if !ok {
		return errRange
	}
	return writeTrailer(bw)
}

// encodeBands is Encode on o.Procs goroutines, each with an encoder of
// its own (e is worker 0's): the statistics of each band's sampled rows
// are gathered in parallel and summed, then the bands are transformed and
// coded in parallel and joined with restart markers.
func (e *encoder) encodeBands(w io.Writer, img image.Image, o EncodeOptions, p *restarts) error {
	encs := []*encoder{e}
	for range min(o.Procs, p.bands) - 1 {
		ew := newEncoder(e.w, e.h, e.ncomp == 1, o)
		ew.minY = e.minY
		ew.fill = ew.filler(img)
		encs = append(encs, ew)
	}
	var t tables
	if o.OptimizeHuffman {
		step := 1
		if o.Statistics == StatsSampled && p.rows >= 16 {
			step = 4
		}
		part := make([]tables, p.bands)
		p.each(o.Procs, 0, nil, func(wk, b int) {
			ew, tb := encs[wk], &part[b]
			r0, r1 := p.span(b)
			for r := ceilDiv(r0, step) * step; r < r1; r += step {
				ew.transform(r)
				forEachBlock(ew.comps, &ew.lay, r, r+1, r, func(ci, bi int) {
					tb.count(ci, block(&ew.comps[ci], bi), ew.masks[ci][bi])
				})
			}
		})
		for b := range part {
			t.add(&part[b])
		}
		if step > 1 {
			t.everySymbol()
		}
		if t.outOfRange {
			return errRange
		}
		if err := t.useOptimal(e.ncomp); err != nil {
			return err
		}
	} else if err := t.useStandard(e.ncomp); err != nil {
		return err
	}
	bw := &bitWriter{w: w, buf: make([]byte, 0, flushAt+1024)}
	f := &Frame{Width: e.w, Height: e.h, Components: e.comps}
	if err := writeHeaders(bw, f, &t, o.Segments, p.interval); err != nil {
		return err
	}
	ok := p.code(bw, o.Procs, func(wk int, bw *bitWriter, r0, r1 int) bool {
		ew := encs[wk]
		tb := t // the tables are read only; the DC predictions are the band's
		tb.prevDC = [4]int32{}
		ok := true
		for r := r0; r < r1; r++ {
			ew.transform(r)
			ok = ew.encodeRow(bw, &tb, 0) && ok
		}
		return ok
	})
	if !ok {
		return errRange
	}
	return writeTrailer(bw)
}

// encodeRow codes the MCU row at row at of e.comps: the MCU layout of
// forEachBlock, spelled out for the layouts Encode makes.
func (e *encoder) encodeRow(bw *bitWriter, t *tables, at int) bool {
	ok := true
	y := &e.comps[0]
	if e.ncomp == 1 {
		base := at * y.BlocksW
		for bx := 0; bx < e.lay.blocksX; bx++ {
			bi := base + bx
			ok = encodeBlock(bw, block(y, bi), e.masks[0][bi], &t.prevDC[0], &t.dc[0], &t.ac[0]) && ok
		}
		return ok
	}
	cb, cr := &e.comps[1], &e.comps[2]
	yb, cbase := at*e.sub*y.BlocksW, at*cb.BlocksW
	for mx := 0; mx < e.lay.mcusX; mx++ {
		for v := 0; v < e.sub; v++ {
			for h := 0; h < e.sub; h++ {
				bi := yb + v*y.BlocksW + mx*e.sub + h
				ok = encodeBlock(bw, block(y, bi), e.masks[0][bi], &t.prevDC[0], &t.dc[0], &t.ac[0]) && ok
			}
		}
		bi := cbase + mx
		ok = encodeBlock(bw, block(cb, bi), e.masks[1][bi], &t.prevDC[1], &t.dc[1], &t.ac[1]) && ok
		ok = encodeBlock(bw, block(cr, bi), e.masks[2][bi], &t.prevDC[2], &t.dc[1], &t.ac[1]) && ok
	}
	return ok
}

func isGrey(img image.Image) bool {
	switch img.(type) {
	case *image.Gray, *image.Gray16:
		return true
	}
	return false
}

func newEncoder(w, h int, grey bool, o EncodeOptions) *encoder {
	e := &encoder{w: w, h: h, sub: 2, ncomp: 3}
	if grey {
		e.sub, e.ncomp = 1, 1
	} else if o.Subsampling == Subsample444 {
		e.sub = 1
	}
	e.lay = layout{hmax: e.sub, vmax: e.sub, mcusX: ceilDiv(w, 8*e.sub), mcusY: ceilDiv(h, 8*e.sub),
		blocksX: ceilDiv(w, 8), blocksY: ceilDiv(h, 8)}
	e.ys = e.lay.mcusX * 8 * e.sub
	e.y = make([]uint8, e.ys*8*e.sub)
	lq, cq := QuantTable(o.Quality, false), QuantTable(o.Quality, true)
	e.qz = [2]*quantizer{newQuantizer(&lq), newQuantizer(&cq)}
	e.comps = []Component{{ID: 1, H: e.sub, V: e.sub, Quant: lq, BlocksW: e.lay.mcusX * e.sub, BlocksH: e.sub}}
	if e.ncomp == 3 {
		e.cs = e.lay.mcusX * 8
		e.cb, e.cr = make([]uint8, e.cs*8), make([]uint8, e.cs*8)
		for i := uint8(2); i <= 3; i++ {
			e.comps = append(e.comps, Component{ID: i, H: 1, V: 1, Quant: cq, BlocksW: e.lay.mcusX, BlocksH: 1})
		}
	}
	keep := o.OptimizeHuffman && o.Statistics == StatsKeep
	rows := 1
	if keep {
		rows = e.lay.mcuRows(e.ncomp)
		e.all = make([]Component, len(e.comps))
		e.allMasks = make([][]uint64, len(e.comps))
	}
	for i := range e.comps {
		c := &e.comps[i]
		n := c.BlocksW * c.BlocksH
		coeffs, masks := make([]int16, n*64*rows), make([]uint64, n*rows)
		c.Coeffs = coeffs[:n*64]
		e.masks = append(e.masks, masks[:n])
		if keep {
			e.all[i] = *c
			e.all[i].Coeffs, e.all[i].BlocksH = coeffs, c.BlocksH*rows
			e.allMasks[i] = masks
		}
	}
	return e
}

// Cost is the most Encode allocates for a w×h image with these options,
// besides what it writes: one MCU row of samples, its coefficients and
// converted source rows, and the output buffer; with OptimizeHuffman but
// StatsKeep, the coefficients of the whole image.
func Cost(w, h int, o EncodeOptions) int64 {
	mw := int64(ceilDiv(max(w, 1), 16) * 16)
	// Samples in a row of pixels: luma and two chroma, halved both ways
	// with 4:2:0 (grey images are counted as colour ones).
	perRow := 3 * mw
	if o.Subsampling == Subsample420 {
		perRow = mw * 3 / 2
	}
	strips := perRow * 16
	// Coefficients, 2 bytes a sample, and a mask of 8 bytes a block of 64,
	// for one MCU row or the whole image.
	rows := int64(16)
	if o.OptimizeHuffman && o.Statistics == StatsKeep {
		rows = int64(ceilDiv(max(h, 1), 16) * 16)
	}
	coeffs := perRow * rows * (2*64 + 8) / 64
	// Source rows converted to RGBA (two) or chroma rows gathered (four).
	conv := 2*int64(w)*4 + 4*int64(w)
	n := strips + coeffs + conv + flushAt + 64<<10
	if o.Procs > 1 && !(o.OptimizeHuffman && o.Statistics == StatsKeep) {
		// An encoder a goroutine, and the bands coded ahead of their
		// turn: at most the file, some 1.5 bytes a pixel at quality
		// 100, and the slack of their growing buffers.
		n += int64(o.Procs-1)*(strips+coeffs+conv+flushAt) + int64(w)*int64(h)*2
	}
	return n
}

// transform computes MCU row r's coefficients into e.comps.
func (e *encoder) transform(r int) {
	if e.all != nil {
		for i := range e.comps {
			n := e.comps[i].BlocksW * e.comps[i].BlocksH
			e.comps[i].Coeffs = e.all[i].Coeffs[r*n*64 : (r+1)*n*64]
			e.masks[i] = e.allMasks[i][r*n : (r+1)*n]
		}
	}
	e.fill(r)
	c := &e.comps[0]
	fdctStrip(e.y, e.ys, c, e.sub, e.qz[0], e.masks[0])
	if e.sub == 2 {
		e.dummyBlocks(r)
	}
	if e.ncomp == 3 {
		fdctStrip(e.cb, e.cs, &e.comps[1], 1, e.qz[1], e.masks[1])
		fdctStrip(e.cr, e.cs, &e.comps[2], 1, e.qz[1], e.masks[2])
	}
}

// dummyBlocks replaces the luma blocks of MCU row r that lie wholly
// outside the image with flat ones that cost 6 bits each: no AC and the
// DC of the block coded before, as libjpeg does.
func (e *encoder) dummyBlocks(r int) {
	c := &e.comps[0]
	bottom := 2*r+1 >= e.lay.blocksY
	right := e.lay.blocksX%2 == 1
	if !bottom && !right {
		return
	}
	flat := func(bx, by int, dc int16) {
		b := blockAt(c, bx, by)
		*b = [64]int16{}
		b[0] = dc
		e.masks[0][by*c.BlocksW+bx] = 0
	}
	for mx := 0; mx < e.lay.mcusX; mx++ {
		if right && mx == e.lay.mcusX-1 {
			flat(2*mx+1, 0, blockAt(c, 2*mx, 0)[0])
			if !bottom {
				flat(2*mx+1, 1, blockAt(c, 2*mx, 1)[0])
			}
		}
		if bottom {
			dc := blockAt(c, 2*mx+1, 0)[0]
			flat(2*mx, 1, dc)
			flat(2*mx+1, 1, dc)
		}
	}
}

// fdctStrip transforms rows block rows of a strip into c's blocks (zigzag
// order) and their masks.
func fdctStrip(s []uint8, stride int, c *Component, rows int, qz *quantizer, masks []uint64) {
	for by := 0; by < rows; by++ {
		for bx := 0; bx < c.BlocksW; bx++ {
			var d [64]int32
			for y := 0; y < 8; y++ {
				p := (*[8]uint8)(s[(by*8+y)*stride+bx*8:])
				q := (*[8]int32)(d[y*8:])
				for x := 0; x < 8; x++ {
					q[x] = int32(p[x])
				}
			}
			fdct(&d)
			masks[by*c.BlocksW+bx] = qz.quantizeZigzag(&d, blockAt(c, bx, by))
		}
	}
}

// padRight copies the last of n samples to the end of the row.
func padRight(row []uint8, n int) {
	v := row[n-1]
	for i := n; i < len(row); i++ {
		row[i] = v
	}
}

// RGB to YCbCr as libjpeg's jccolor.c, in 16-bit fixed point.
const (
	fixR       = 19595 // 0.299
	fixG       = 38470 // 0.587
	fixB       = 7471  // 0.114
	fixCbR     = 11059 // 0.16874
	fixCbG     = 21709 // 0.33126
	fixCrG     = 27439 // 0.41869
	fixCrB     = 5329  // 0.08131
	half16     = 1 << 15
	cbcrOffset = 128 << 16
)

// filler picks how MCU rows are filled from img.
func (e *encoder) filler(img image.Image) func(int) {
	b := img.Bounds()
	switch m := img.(type) {
	case *image.Gray:
		return func(r int) {
			e.fillGrey(r, func(y int) []uint8 { return m.Pix[m.PixOffset(b.Min.X, y) : m.PixOffset(b.Min.X, y)+e.w] })
		}
	case *image.Gray16:
		row := make([]uint8, e.w)
		return func(r int) {
			e.fillGrey(r, func(y int) []uint8 {
				p := m.Pix[m.PixOffset(b.Min.X, y):]
				for x := range row {
					row[x] = p[2*x]
				}
				return row
			})
		}
	case *image.YCbCr:
		return e.ycbcrFiller(m)
	case *image.RGBA:
		return e.rgbaFiller(func(y int, _ []uint8) []uint8 {
			i := m.PixOffset(b.Min.X, y)
			return m.Pix[i : i+4*e.w]
		})
	case *image.NRGBA:
		return e.rgbaFiller(func(y int, row []uint8) []uint8 {
			i := m.PixOffset(b.Min.X, y)
			p := m.Pix[i : i+4*e.w]
			// Opaque rows are read as they are; others are composited
			// onto black (premultiplied), as image/jpeg does.
			j := 3
			for j < len(p) && p[j] == 255 {
				j += 4
			}
			if j >= len(p) {
				return p
			}
			for i := 0; i < len(p); i += 4 {
				a := uint32(p[i+3])
				row[i] = uint8((uint32(p[i])*a + 127) / 255)
				row[i+1] = uint8((uint32(p[i+1])*a + 127) / 255)
				row[i+2] = uint8((uint32(p[i+2])*a + 127) / 255)
			}
			return row
		})
	}
	if m, ok := img.(image.RGBA64Image); ok {
		// RGBA64At returns a value, not an interface: no allocation.
		return e.rgbaFiller(func(y int, row []uint8) []uint8 {
			for x := 0; x < e.w; x++ {
				c := m.RGBA64At(b.Min.X+x, y)
				row[4*x], row[4*x+1], row[4*x+2] = uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8)
			}
			return row
		})
	}
	return e.rgbaFiller(func(y int, row []uint8) []uint8 {
		for x := 0; x < e.w; x++ {
			r, g, bb, _ := img.At(b.Min.X+x, y).RGBA()
			row[4*x], row[4*x+1], row[4*x+2] = uint8(r>>8), uint8(g>>8), uint8(bb>>8)
		}
		return row
	})
}

// srcRow is the image row (in image coordinates) that strip row i of MCU
// row r shows: the last one repeats below the image.
func (e *encoder) srcRow(r, i, minY int) int {
	return minY + min(r*8*e.sub+i, e.h-1)
}

func (e *encoder) fillGrey(r int, row func(y int) []uint8) {
	for i := 0; i < 8; i++ {
		s := e.y[i*e.ys : (i+1)*e.ys]
		copy(s, row(e.srcRow(r, i, e.minY)))
		padRight(s, e.w)
	}
}

// rgbaFiller fills strips from RGBA rows: row returns image row y as 4
// bytes a pixel, using scratch (4 bytes a pixel) if it has to convert.
func (e *encoder) rgbaFiller(row func(y int, scratch []uint8) []uint8) func(int) {
	s0, s1 := make([]uint8, 4*e.w), make([]uint8, 4*e.w)
	cw := ceilDiv(e.w, e.sub)
	if e.sub == 1 {
		return func(r int) {
			for i := 0; i < 8; i++ {
				ys, cb, cr := e.y[i*e.ys:(i+1)*e.ys], e.cb[i*e.cs:(i+1)*e.cs], e.cr[i*e.cs:(i+1)*e.cs]
				rgbToYCC(row(e.srcRow(r, i, e.minY), s0), ys, cb, cr, e.w)
				padRight(ys, e.w)
				padRight(cb, e.w)
				padRight(cr, e.w)
			}
		}
	}
	return func(r int) {
		for k := 0; k < 8; k++ {
			y0, y1 := e.y[2*k*e.ys:(2*k+1)*e.ys], e.y[(2*k+1)*e.ys:(2*k+2)*e.ys]
			cb, cr := e.cb[k*e.cs:(k+1)*e.cs], e.cr[k*e.cs:(k+1)*e.cs]
			p0 := row(e.srcRow(r, 2*k, e.minY), s0)
			p1 := p0
			if 2*k+1 < e.h-r*16 {
				p1 = row(e.srcRow(r, 2*k+1, e.minY), s1)
			}
			rgbToYCC420(p0, p1, y0, y1, cb, cr, e.w)
			padRight(y0, e.w)
			padRight(y1, e.w)
			padRight(cb, cw)
			padRight(cr, cw)
		}
	}
}

// rgbToYCC converts w RGBA pixels.
func rgbToYCC(p []uint8, y, cb, cr []uint8, w int) {
	p, y, cb, cr = p[:4*w], y[:w], cb[:w], cr[:w]
	for x := range y {
		q := (*[4]uint8)(p[4*x:])
		r, g, b := int32(q[0]), int32(q[1]), int32(q[2])
		y[x] = uint8((fixR*r + fixG*g + fixB*b + half16) >> 16)
		cb[x] = uint8((-fixCbR*r - fixCbG*g + b<<15 + cbcrOffset + half16 - 1) >> 16)
		cr[x] = uint8((r<<15 - fixCrG*g - fixCrB*b + cbcrOffset + half16 - 1) >> 16)
	}
}

// rgbToYCC420 converts two rows of w RGBA pixels to two rows of luma and
// one of chroma, each chroma sample from the mean of a 2×2 square taken
// before rounding.
func rgbToYCC420(p0, p1 []uint8, y0, y1, cb, cr []uint8, w int) {
	n := w / 2
	p0, p1, y0, y1 = p0[:4*w], p1[:4*w], y0[:w], y1[:w]
	cb, cr = cb[:(w+1)/2], cr[:(w+1)/2]
	for i := 0; i < n; i++ {
		a := (*[8]uint8)(p0[8*i:])
		b := (*[8]uint8)(p1[8*i:])
		r0, g0, b0 := int32(a[0]), int32(a[1]), int32(a[2])
		r1, g1, b1 := int32(a[4]), int32(a[5]), int32(a[6])
		r2, g2, b2 := int32(b[0]), int32(b[1]), int32(b[2])
		r3, g3, b3 := int32(b[4]), int32(b[5]), int32(b[6])
		y0[2*i] = uint8((fixR*r0 + fixG*g0 + fixB*b0 + half16) >> 16)
		y0[2*i+1] = uint8((fixR*r1 + fixG*g1 + fixB*b1 + half16) >> 16)
		y1[2*i] = uint8((fixR*r2 + fixG*g2 + fixB*b2 + half16) >> 16)
		y1[2*i+1] = uint8((fixR*r3 + fixG*g3 + fixB*b3 + half16) >> 16)
		sr, sg, sb := r0+r1+r2+r3, g0+g1+g2+g3, b0+b1+b2+b3
		cb[i] = uint8((-fixCbR*sr - fixCbG*sg + sb<<15 + 4*cbcrOffset + 4*half16 - 1) >> 18)
		cr[i] = uint8((sr<<15 - fixCrG*sg - fixCrB*sb + 4*cbcrOffset + 4*half16 - 1) >> 18)
	}
	if w%2 == 1 {
		x := w - 1
		r0, g0, b0 := int32(p0[4*x]), int32(p0[4*x+1]), int32(p0[4*x+2])
		r2, g2, b2 := int32(p1[4*x]), int32(p1[4*x+1]), int32(p1[4*x+2])
		y0[x] = uint8((fixR*r0 + fixG*g0 + fixB*b0 + half16) >> 16)
		y1[x] = uint8((fixR*r2 + fixG*g2 + fixB*b2 + half16) >> 16)
		sr, sg, sb := 2*(r0+r2), 2*(g0+g2), 2*(b0+b2)
		cb[n] = uint8((-fixCbR*sr - fixCbG*sg + sb<<15 + 4*cbcrOffset + 4*half16 - 1) >> 18)
		cr[n] = uint8((sr<<15 - fixCrG*sg - fixCrB*sb + 4*cbcrOffset + 4*half16 - 1) >> 18)
	}
}

// ycbcrFiller fills strips from a YCbCr image without converting colour.
func (e *encoder) ycbcrFiller(m *image.YCbCr) func(int) {
	b := m.Bounds()
	cw := ceilDiv(e.w, e.sub)
	if e.sub == 2 && m.SubsampleRatio == image.YCbCrSubsampleRatio420 && b.Min.X%2 == 0 && b.Min.Y%2 == 0 {
		return func(r int) {
			for i := 0; i < 16; i++ {
				s := e.y[i*e.ys : (i+1)*e.ys]
				copy(s, m.Y[m.YOffset(b.Min.X, e.srcRow(r, i, b.Min.Y)):][:e.w])
				padRight(s, e.w)
			}
			for k := 0; k < 8; k++ {
				o := m.COffset(b.Min.X, e.srcRow(r, 2*k, b.Min.Y))
				cb, cr := e.cb[k*e.cs:(k+1)*e.cs], e.cr[k*e.cs:(k+1)*e.cs]
				copy(cb, m.Cb[o:o+cw])
				copy(cr, m.Cr[o:o+cw])
				padRight(cb, cw)
				padRight(cr, cw)
			}
		}
	}
	// Other layouts: gather full-resolution chroma rows, then copy or
	// average them.
	var scratch [4][]uint8
	for i := range scratch {
		scratch[i] = make([]uint8, e.w)
	}
	chroma := func(y int, cb, cr []uint8) ([]uint8, []uint8) {
		if m.SubsampleRatio == image.YCbCrSubsampleRatio444 {
			o := m.COffset(b.Min.X, y)
			return m.Cb[o : o+e.w], m.Cr[o : o+e.w]
		}
		for x := 0; x < e.w; x++ {
			o := m.COffset(b.Min.X+x, y)
			cb[x], cr[x] = m.Cb[o], m.Cr[o]
		}
		return cb, cr
	}
	luma := func(y int) []uint8 { return m.Y[m.YOffset(b.Min.X, y):][:e.w] }
	if e.sub == 1 {
		return func(r int) {
			for i := 0; i < 8; i++ {
				y := e.srcRow(r, i, b.Min.Y)
				ys, cb, cr := e.y[i*e.ys:(i+1)*e.ys], e.cb[i*e.cs:(i+1)*e.cs], e.cr[i*e.cs:(i+1)*e.cs]
				copy(ys, luma(y))
				c0, c1 := chroma(y, scratch[0], scratch[1])
				copy(cb, c0)
				copy(cr, c1)
				padRight(ys, e.w)
				padRight(cb, e.w)
				padRight(cr, e.w)
			}
		}
	}
	return func(r int) {
		for k := 0; k < 8; k++ {
			ya, yb := e.srcRow(r, 2*k, b.Min.Y), e.srcRow(r, 2*k+1, b.Min.Y)
			y0, y1 := e.y[2*k*e.ys:(2*k+1)*e.ys], e.y[(2*k+1)*e.ys:(2*k+2)*e.ys]
			copy(y0, luma(ya))
			copy(y1, luma(yb))
			padRight(y0, e.w)
			padRight(y1, e.w)
			cb0, cr0 := chroma(ya, scratch[0], scratch[1])
			cb1, cr1 := chroma(yb, scratch[2], scratch[3])
			average2x2(cb0, cb1, e.cb[k*e.cs:(k+1)*e.cs], e.w)
			average2x2(cr0, cr1, e.cr[k*e.cs:(k+1)*e.cs], e.w)
			padRight(e.cb[k*e.cs:(k+1)*e.cs], cw)
			padRight(e.cr[k*e.cs:(k+1)*e.cs], cw)
		}
	}
}

// average2x2 halves two rows of w samples both ways.
func average2x2(a, b, out []uint8, w int) {
	n := w / 2
	for i := 0; i < n; i++ {
		out[i] = uint8((uint32(a[2*i]) + uint32(a[2*i+1]) + uint32(b[2*i]) + uint32(b[2*i+1]) + 2) >> 2)
	}
	if w%2 == 1 {
		out[n] = uint8((uint32(a[w-1]) + uint32(b[w-1]) + 1) >> 1)
	}
}
