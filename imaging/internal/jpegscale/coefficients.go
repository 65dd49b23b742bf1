package jpegscale

import (
	"errors"
	"fmt"
	"sync"
)

// CoefComponent is one component of a JPEG as quantised DCT coefficients.
type CoefComponent struct {
	ID   uint8
	H, V int // sampling factors (1, 1 for a single component)
	// Quant is the quantisation table the coefficients are in, natural
	// order: the source's, or after requantisation the coarser of the
	// source's and the target's, entry by entry.
	Quant [64]uint16
	// BlocksW × BlocksH blocks, padded to whole MCUs.
	BlocksW, BlocksH int
	// Coeffs holds BlocksW*BlocksH blocks of 64 quantised coefficients,
	// row-major by block, natural order within a block. Blocks of the MCU
	// padding that the file does not code are zero.
	Coeffs []int16
}

// CoefFrame is a JPEG's frame as quantised DCT coefficients.
type CoefFrame struct {
	Width, Height int
	Components    []CoefComponent
	// ZigZag says the blocks are in zig-zag order rather than natural.
	ZigZag bool
}

// ErrDamaged is wrapped by the error Coefficients returns for a file the
// pixel decoder would decode only by working around damage (DecodeWith
// reports warnings for it): such a file is left to the pixel path, whose
// Report says what was worked around.
var ErrDamaged = errors.New("jpegscale: damaged JPEG")

// Coefficients entropy-decodes a JPEG into its quantised DCT coefficients,
// without the inverse DCT: baseline, extended sequential and progressive,
// Huffman- or arithmetic-coded, grey or YCbCr, with any sampling Decode
// takes. The result feeds a DCT-domain transcode.
//
// target, if not nil, gives for component i the table (natural order) the
// coefficients are to be requantised to: each coefficient becomes
// round(c·Qs/Qt) where the target entry Qt is coarser than the source's Qs;
// where it is finer the source entry is kept, since a finer step adds no
// information. target(i) returning nil keeps component i as it is.
//
// It refuses (errors wrapping ErrUnsupported) what Decode refuses, and also
// 4-component (CMYK, YCCK) files and tables with entries over 255 (not
// baseline). Truncated or damaged files yield an error
// too (a *TruncatedError, a *FormatError or one wrapping ErrDamaged): the
// caller falls back to decoding pixels, which handles damage.
func Coefficients(data []byte, target func(i int) *[64]uint16) (*CoefFrame, error) {
	return coefficients(data, target, false, 1)
}

// inOrder keeps coefficients in zig-zag order (decoder.coefPos).
var inOrder = func() (t [64 + 16]uint8) {
	for k := range t {
		t[k] = uint8(min(k, 63))
	}
	return t
}()

// coefficients is Coefficients, leaving each block in zig-zag order if
// zig is set (the order WriteCoefficients codes them in), requantising a
// progressive file's blocks on up to procs goroutines.
func coefficients(data []byte, target func(i int) *[64]uint16, zig bool, procs int) (*CoefFrame, error) {
	d := &decoder{data: data, denom: 1, bs: 8, coefOnly: true, coefTarget: target, coefPos: &zigzag, procs: procs}
	if zig {
		d.coefPos = &inOrder
	}
	if _, err := d.decode(); err != nil {
		return nil, err
	}
	if len(d.report.Warnings) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrDamaged, d.report.Warnings[0])
	}
	f := &CoefFrame{Width: d.width, Height: d.height, Components: make([]CoefComponent, d.nComp), ZigZag: zig}
	for i := 0; i < d.nComp; i++ {
		c := &d.comp[i]
		if !c.qsValid {
			// No scan coded this component (a sequential file missing
			// a scan is reported truncated, so this is progressive).
			return nil, fmt.Errorf("%w: component %d has no scan", ErrDamaged, i)
		}
		f.Components[i] = CoefComponent{ID: c.id, H: c.h, V: c.v, Quant: c.rq.q,
			BlocksW: c.bw, BlocksH: c.bh, Coeffs: c.coef}
		if d.progressive {
			// The scans kept zig-zag order, as they do for pixels.
			requantBlocks(&c.rq, c.coef, d.coefPos, procs)
		}
	}
	return f, nil
}

// checkCoefLayout refuses what Coefficients does not hand on: see there.
func (d *decoder) checkCoefLayout() error {
	if d.nComp == 4 {
		return unsupported("4-component JPEG")
	}
	return nil
}

// requant maps a component's coefficients from the source's table to the
// output's, max(source, target) entry by entry, natural order: x becomes
// round(x·qs/q), halves away from zero, which is x itself where q = qs:
// (2|x|·qs + q) / 2q. The division is a multiply by a 40-bit reciprocal and
// a shift, exact for numerators below 2^31 (|x| ≤ 2^15, qs ≤ 255).
type requant struct {
	q        [64]uint16 // the output table
	mul, add [64]int64
	recip    [64]uint64
}

// latchRequant sets component c's requantisation from its source table q
// (zig-zag order), latched at its first scan as libjpeg latches tables.
func (d *decoder) latchRequant(c *component, q *[64]int32) error {
	var target *[64]uint16
	if d.coefTarget != nil {
		for i := range d.nComp {
			if c == &d.comp[i] {
				target = d.coefTarget(i)
			}
		}
	}
	r := &c.rq
	for k := 0; k < 64; k++ {
		z := zigzag[k]
		qs := q[k]
		if qs < 1 || qs > 255 {
			return unsupported(fmt.Sprintf("quantisation table entry %d", qs))
		}
		qo := qs
		if target != nil {
			qo = max(qo, int32(target[z]))
		}
		r.q[z] = uint16(qo)
		r.mul[z], r.add[z], r.recip[z] = 2*int64(qs), int64(qo), 1<<40/uint64(2*qo)+1
	}
	return nil
}

// apply requantises x, at natural position z.
func (r *requant) apply(x int16, z uint8) int16 {
	z &= 63
	s := int64(x) >> 15 // -1 for negative x, else 0: no branch
	a := (int64(x) ^ s) - s
	q := int64(uint64(a*r.mul[z]+r.add[z]) * r.recip[z] >> 40)
	return int16((q ^ s) - s)
}

// requantBlocks is r.blocks over coef split into up to procs runs of
// whole blocks, each on its own goroutine.
func requantBlocks(r *requant, coef []int16, pos *[64 + 16]uint8, procs int) {
	n := len(coef) / 64
	procs = max(min(procs, n/1024), 1) // a goroutine is worth it for 1024 blocks and more
	var wg sync.WaitGroup
	for i := range procs {
		lo, hi := n*i/procs*64, n*(i+1)/procs*64
		wg.Go(func() { r.blocks(coef[lo:hi], pos) })
	}
	wg.Wait()
}

// blocks requantises blocks of zig-zag coefficients in place, the k-th
// to position pos[k].
func (r *requant) blocks(coef []int16, pos *[64 + 16]uint8) {
	for off := 0; off+64 <= len(coef); off += 64 {
		b := (*[64]int16)(coef[off : off+64])
		blk := *b
		for k, v := range blk {
			p := pos[k] & 63
			if v == 0 {
				b[p] = 0
				continue
			}
			b[p] = r.apply(v, zigzag[k])
		}
	}
}

// coefBlock decodes one sequential Huffman-coded block straight into
// component c's coefficient buffer, requantised and in natural order:
// baselineBlock (see there) without the dequantisation and the IDCT.
func (d *decoder) coefBlock(c *component, dct, act *huffTable, bx, by int) error {
	br := &d.br
	acc, n := br.acc, br.n
	if n < 32 {
		acc, n = br.refill(acc, n)
	}
	var t int
	if e := dct.lut[acc>>(64-lookBits)]; e != 0 {
		l := uint(e >> 8)
		acc <<= l
		n -= int(l)
		t = int(e & 0xFF)
	} else {
		var err error
		if t, acc, n, err = slowCode(dct, acc, n); err != nil {
			return err
		}
	}
	if t > 15 {
		return errBadDC
	}
	diff := extend(int32(acc>>(64-uint(t))&(1<<uint(t)-1)), t)
	acc <<= uint(t)
	n -= t
	c.pred += diff
	b := (*[64]int16)(c.coef[(by*c.bw+bx)*64:][:64])
	rq := &c.rq
	pos := d.coefPos
	if v := int16(c.pred); v != 0 {
		b[0] = rq.apply(v, 0)
	}
	for k := 1; k < 64; {
		if n < 32 {
			acc, n = br.refill(acc, n)
		}
		p := acc >> (64 - lookBits)
		if f := act.fastAC[p]; f != 0 {
			k += int(f>>8) & 15
			l := uint(f & 0xFF)
			acc <<= l
			n -= int(l)
			if k < 64 {
				b[pos[k]&63] = rq.apply(int16(f>>16), zigzag[k])
			}
			k++
			continue
		}
		var rs int
		if e := act.lut[p]; e != 0 {
			l := uint(e >> 8)
			acc <<= l
			n -= int(l)
			rs = int(e & 0xFF)
		} else {
			var err error
			if rs, acc, n, err = slowCode(act, acc, n); err != nil {
				br.acc, br.n = acc, n
				return err
			}
		}
		r, s := rs>>4, rs&15
		if s == 0 {
			if r != 15 {
				break
			}
			k += 16
			continue
		}
		k += r
		v := extend(int32(acc>>(64-uint(s))&(1<<uint(s)-1)), s)
		acc <<= uint(s)
		n -= s
		if k < 64 {
			b[pos[k]&63] = rq.apply(int16(v), zigzag[k])
		}
		k++
	}
	br.acc, br.n = acc, n
	return nil
}

// CoefCost is an upper bound of the bytes Coefficients allocates for an
// image with this header: an int16 for every sample of every component,
// MCU padding included, the decoder, and for a progressive file the
// copies of it its scans decode with in parallel.
func (h Header) CoefCost() int64 {
	const fixed = 64 << 10 // the decoder, its tables and the scan plan
	return h.Samples()*2 + fixed + h.scanJobsCost()
}
