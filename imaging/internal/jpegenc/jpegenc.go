// Package jpegenc writes baseline JPEG (JFIF) files: from quantised DCT
// coefficients (WriteCoefficients, for transcoding in the DCT domain) and
// from pixels (Encode), with standard or optimised Huffman tables.
package jpegenc

import (
	"errors"
	"fmt"
	"io"
)

// Component is one colour component's quantised DCT coefficients.
type Component struct {
	ID   uint8
	H, V int // sampling factors (1 or 2 in practice)
	// Quant is the quantisation table in natural (row-major) order.
	Quant [64]uint16
	// BlocksW and BlocksH are the blocks per row and per column, padded
	// to whole MCUs.
	BlocksW, BlocksH int
	// Coeffs holds BlocksW*BlocksH blocks of 64, row-major by block, each
	// block in natural order (zig-zag if Frame.ZigZag), already quantised.
	Coeffs []int16
}

// Frame is a whole image as quantised coefficients.
type Frame struct {
	Width, Height int
	Components    []Component // 1 (grey) or 3 (YCbCr)
	// ZigZag says each block of Coeffs is in zig-zag order, the order
	// they are coded in, rather than natural order; Quant stays natural.
	ZigZag bool
}

// Options control how WriteCoefficients writes a file.
type Options struct {
	// OptimizeHuffman makes two passes: the first gathers symbol
	// statistics, from which optimal length-limited tables are built
	// (JPEG Annex K.2). The zero value uses the Annex K.3 tables.
	OptimizeHuffman bool
	// Progressive is not implemented: asking for it is an error.
	Progressive bool
	// Segments are complete marker segments (APPn or COM, with their
	// marker bytes and length) written right after SOI. A JFIF APP0 is
	// written first unless one of them is an APP0 or an Adobe APP14.
	Segments [][]byte
	// Procs is how many goroutines may code the image: above 1 the scan
	// is cut into that many bands of MCU rows, joined by restart markers
	// (a few bytes each), whose statistics and code are made in
	// parallel. 0 or 1 codes it serially with no restart markers.
	Procs int
}

// ErrProgressive is returned when Options ask for progressive output.
var ErrProgressive = errors.New("jpegenc: progressive output is not implemented")

// layout is how a frame's blocks make up MCUs.
type layout struct {
	mcusX, mcusY int
	hmax, vmax   int
	// For a single component the scan is non-interleaved: one block an
	// MCU, blocksX by blocksY of them.
	blocksX, blocksY int
}

func (f *Frame) layout() (layout, error) {
	var l layout
	if f.Width < 1 || f.Height < 1 || f.Width > 65535 || f.Height > 65535 {
		return l, fmt.Errorf("jpegenc: %dx%d is not a size JPEG can hold (1 to 65535 a side)", f.Width, f.Height)
	}
	if n := len(f.Components); n != 1 && n != 3 {
		return l, fmt.Errorf("jpegenc: %d components; want 1 or 3", n)
	}
	blocks := 0
	for i, c := range f.Components {
		if c.H < 1 || c.H > 4 || c.V < 1 || c.V > 4 {
			return l, fmt.Errorf("jpegenc: component %d has sampling factors %dx%d; want 1 to 4", i, c.H, c.V)
		}
		for j := 0; j < i; j++ {
			if f.Components[j].ID == c.ID {
				return l, fmt.Errorf("jpegenc: components %d and %d share ID %d", j, i, c.ID)
			}
		}
		for _, q := range c.Quant {
			if q == 0 {
				return l, fmt.Errorf("jpegenc: component %d has a zero in its quantisation table", i)
			}
		}
		l.hmax, l.vmax = max(l.hmax, c.H), max(l.vmax, c.V)
		blocks += c.H * c.V
	}
	if blocks > 10 {
		return l, fmt.Errorf("jpegenc: %d blocks an MCU; JPEG allows at most 10", blocks)
	}
	l.mcusX = ceilDiv(f.Width, 8*l.hmax)
	l.mcusY = ceilDiv(f.Height, 8*l.vmax)
	l.blocksX, l.blocksY = ceilDiv(f.Width, 8), ceilDiv(f.Height, 8)
	for i, c := range f.Components {
		needW, needH := l.mcusX*c.H, l.mcusY*c.V
		if len(f.Components) == 1 {
			needW, needH = l.blocksX, l.blocksY
		}
		if c.BlocksW < needW || c.BlocksH < needH {
			return l, fmt.Errorf("jpegenc: component %d has %dx%d blocks; a %dx%d frame needs %dx%d",
				i, c.BlocksW, c.BlocksH, f.Width, f.Height, needW, needH)
		}
		if len(c.Coeffs) < c.BlocksW*c.BlocksH*64 {
			return l, fmt.Errorf("jpegenc: component %d has %d coefficients; %dx%d blocks need %d",
				i, len(c.Coeffs), c.BlocksW, c.BlocksH, c.BlocksW*c.BlocksH*64)
		}
	}
	return l, nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// blockAt returns block (bx, by) of c.
func blockAt(c *Component, bx, by int) *[64]int16 {
	i := (by*c.BlocksW + bx) * 64
	return (*[64]int16)(c.Coeffs[i : i+64])
}

// block returns c's block number bi.
func block(c *Component, bi int) *[64]int16 {
	return (*[64]int16)(c.Coeffs[bi*64 : bi*64+64])
}

// forEachBlock visits the blocks of MCU rows [r0, r1) in scan order,
// passing the component and the block's index in it; row r of c lies at
// block row (r-base)*V, so a buffer holding only some MCU rows can be
// visited too.
func forEachBlock(comps []Component, l *layout, r0, r1, base int, visit func(ci, bi int)) {
	if len(comps) == 1 {
		c := &comps[0]
		for by := r0; by < r1; by++ {
			for bx := 0; bx < l.blocksX; bx++ {
				visit(0, (by-base)*c.BlocksW+bx)
			}
		}
		return
	}
	for my := r0; my < r1; my++ {
		for mx := 0; mx < l.mcusX; mx++ {
			for ci := range comps {
				c := &comps[ci]
				for v := 0; v < c.V; v++ {
					for h := 0; h < c.H; h++ {
						visit(ci, ((my-base)*c.V+v)*c.BlocksW+mx*c.H+h)
					}
				}
			}
		}
	}
}

// mcuRows is how many MCU rows a frame of this layout has in its scan.
func (l *layout) mcuRows(ncomp int) int {
	if ncomp == 1 {
		return l.blocksY
	}
	return l.mcusY
}

// tables are a frame's Huffman tables: [0] luma, [1] chroma.
type tables struct {
	dc, ac     [2]huffEnc
	dcS, acS   [2]huffSpec
	n          int // 1 for grey, 2 otherwise
	dcF, acF   [2][257]int64
	prevDC     [4]int32
	outOfRange bool
}

func tableOf(ci int) int { return min(ci, 1) }

func (t *tables) useStandard(ncomp int) error {
	t.n = min(ncomp, 2)
	for i := 0; i < t.n; i++ {
		t.dcS[i], t.acS[i] = stdHuffman[2*i], stdHuffman[2*i+1]
		if err := t.dc[i].build(&t.dcS[i]); err != nil {
			return err
		}
		if err := t.ac[i].build(&t.acS[i]); err != nil {
			return err
		}
	}
	return nil
}

// count gathers the statistics of one block in zigzag order.
func (t *tables) count(ci int, z *[64]int16, mask uint64) {
	k := tableOf(ci)
	if !countBlock(z, mask, &t.prevDC[ci], &t.dcF[k], &t.acF[k]) {
		t.outOfRange = true
	}
}

// everySymbol gives every symbol 8-bit baseline coding can use a count,
// so that tables built from a sample of the blocks code them all.
func (t *tables) everySymbol() {
	for k := range t.dcF {
		for s := 0; s <= 11; s++ {
			t.dcF[k][s] = max(t.dcF[k][s], 1)
		}
		t.acF[k][0x00] = max(t.acF[k][0x00], 1)
		t.acF[k][0xF0] = max(t.acF[k][0xF0], 1)
		for r := 0; r < 16; r++ {
			for s := 1; s <= 10; s++ {
				t.acF[k][r<<4|s] = max(t.acF[k][r<<4|s], 1)
			}
		}
	}
}

// add adds the statistics of u to t's.
func (t *tables) add(u *tables) {
	for k := range t.dcF {
		for s := range t.dcF[k] {
			t.dcF[k][s] += u.dcF[k][s]
			t.acF[k][s] += u.acF[k][s]
		}
	}
	t.outOfRange = t.outOfRange || u.outOfRange
}

// useOptimal builds tables from the gathered statistics.
func (t *tables) useOptimal(ncomp int) error {
	t.n = min(ncomp, 2)
	for i := 0; i < t.n; i++ {
		t.dcS[i], t.acS[i] = optimalHuffman(&t.dcF[i]), optimalHuffman(&t.acF[i])
		if err := t.dc[i].build(&t.dcS[i]); err != nil {
			return err
		}
		if err := t.ac[i].build(&t.acS[i]); err != nil {
			return err
		}
	}
	t.prevDC = [4]int32{}
	return nil
}

// WriteCoefficients writes f as a baseline JFIF file (extended sequential
// if a quantisation table has entries over 255).
func WriteCoefficients(w io.Writer, f *Frame, o Options) error {
	if o.Progressive {
		return ErrProgressive
	}
	l, err := f.layout()
	if err != nil {
		return err
	}
	var t tables
	rows := l.mcuRows(len(f.Components))
	perRow := l.mcusX
	if len(f.Components) == 1 {
		perRow = l.blocksX
	}
	p := planRestarts(rows, perRow, o.Procs)
	// zblock returns a block in zigzag order, using z if it has to
	// reorder it, and its mask.
	zblock := func(ci, bi int, z *[64]int16) (*[64]int16, uint64) {
		b := block(&f.Components[ci], bi)
		if f.ZigZag {
			return b, acMask(b)
		}
		return z, zigzag(b, z)
	}
	if o.OptimizeHuffman {
		// Each band's statistics, with the DC predictions its restart
		// resets, summed.
		part := make([]tables, p.bands)
		p.each(o.Procs, 0, nil, func(_, b int) {
			var z [64]int16
			r0, r1 := p.span(b)
			tb := &part[b]
			forEachBlock(f.Components, &l, r0, r1, 0, func(ci, bi int) {
				zb, mask := zblock(ci, bi, &z)
				tb.count(ci, zb, mask)
			})
		})
		for b := range part {
			t.add(&part[b])
		}
		if t.outOfRange {
			return errRange
		}
		err = t.useOptimal(len(f.Components))
	} else {
		err = t.useStandard(len(f.Components))
	}
	if err != nil {
		return err
	}
	bw := &bitWriter{w: w, buf: make([]byte, 0, flushAt+1024)}
	if err := writeHeaders(bw, f, &t, o.Segments, p.interval); err != nil {
		return err
	}
	ok := p.code(bw, o.Procs, func(_ int, bw *bitWriter, r0, r1 int) bool {
		var prev [4]int32
		var z [64]int16
		ok := true
		forEachBlock(f.Components, &l, r0, r1, 0, func(ci, bi int) {
			k := tableOf(ci)
			zb, mask := zblock(ci, bi, &z)
			ok = encodeBlock(bw, zb, mask, &prev[ci], &t.dc[k], &t.ac[k]) && ok
		})
		return ok
	})
	if !ok {
		return errRange
	}
	return writeTrailer(bw)
}

func writeTrailer(bw *bitWriter) error {
	bw.finish()
	bw.buf = append(bw.buf, 0xFF, 0xD9)
	bw.drain()
	return bw.err
}

// AppendStart appends to b the start of a file as WriteCoefficients and
// Encode write it: SOI, a JFIF APP0 unless one of the segments is an APP0
// or an Adobe APP14, and the segments (see Options.Segments).
func AppendStart(b []byte, segments [][]byte) ([]byte, error) {
	b = append(b, 0xFF, 0xD8)
	jfif := true
	for i, s := range segments {
		if len(s) < 4 || s[0] != 0xFF || !(s[1] >= 0xE0 && s[1] <= 0xEF || s[1] == 0xFE) ||
			int(s[2])<<8|int(s[3]) != len(s)-2 {
			return b, fmt.Errorf("jpegenc: segment %d is not a whole APPn or COM marker segment", i)
		}
		if s[1] == 0xE0 || s[1] == 0xEE {
			jfif = false
		}
	}
	if jfif {
		b = append(b, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0)
	}
	for _, s := range segments {
		b = append(b, s...)
	}
	return b, nil
}

// writeHeaders appends SOI, the segments, DQT, SOF, DHT, DRI if restart
// (the interval in MCUs) is not zero, and SOS.
func writeHeaders(bw *bitWriter, f *Frame, t *tables, segments [][]byte, restart int) error {
	b, err := AppendStart(bw.buf, segments)
	if err != nil {
		return err
	}
	// Quantisation tables, shared between components that have equal ones.
	var qs [][64]uint16
	qi := make([]int, len(f.Components))
	wide := false
	for i, c := range f.Components {
		qi[i] = -1
		for j, q := range qs {
			if q == c.Quant {
				qi[i] = j
			}
		}
		if qi[i] < 0 {
			qi[i] = len(qs)
			qs = append(qs, c.Quant)
		}
	}
	for j, q := range qs {
		p := 0
		for _, v := range q {
			if v > 255 {
				p, wide = 1, true
			}
		}
		n := 2 + 1 + 64*(1+p)
		b = append(b, 0xFF, 0xDB, byte(n>>8), byte(n), byte(p<<4|j))
		for _, z := range unzig {
			if p == 1 {
				b = append(b, byte(q[z]>>8))
			}
			b = append(b, byte(q[z]))
		}
	}
	// Frame header.
	sof := byte(0xC0)
	if wide {
		sof = 0xC1
	}
	nc := len(f.Components)
	n := 8 + 3*nc
	b = append(b, 0xFF, sof, byte(n>>8), byte(n), 8,
		byte(f.Height>>8), byte(f.Height), byte(f.Width>>8), byte(f.Width), byte(nc))
	for i, c := range f.Components {
		hv := byte(c.H<<4 | c.V)
		if nc == 1 {
			hv = 0x11
		}
		b = append(b, c.ID, hv, byte(qi[i]))
	}
	// Huffman tables.
	for i := 0; i < t.n; i++ {
		for k, s := range []*huffSpec{&t.dcS[i], &t.acS[i]} {
			n := 2 + 1 + 16 + len(s.vals)
			b = append(b, 0xFF, 0xC4, byte(n>>8), byte(n), byte(k<<4|i))
			b = append(b, s.counts[:]...)
			b = append(b, s.vals...)
		}
	}
	if restart > 0 {
		b = append(b, 0xFF, 0xDD, 0, 4, byte(restart>>8), byte(restart))
	}
	// Scan header.
	n = 6 + 2*nc
	b = append(b, 0xFF, 0xDA, byte(n>>8), byte(n), byte(nc))
	for i, c := range f.Components {
		k := tableOf(i)
		b = append(b, c.ID, byte(k<<4|k))
	}
	bw.buf = append(b, 0, 63, 0)
	return nil
}
