package jpegscale

import (
	"fmt"
	"math/bits"
)

// Arithmetic-coded JPEG (SOF9 sequential, SOF10 progressive): the adaptive
// binary arithmetic decoder of ITU T.81 Annex D and the coefficient models of
// sections F.1.4 (sequential) and G.1.3 (progressive).
//
// The coefficients are the same as in a Huffman-coded file, so everything
// but the entropy decoding (scaling, dequantisation, reduced IDCTs, the
// progressive scan plan) is shared with the Huffman path. Unlike Huffman
// data, arithmetic-coded data cannot be skipped symbol by symbol: at 1/8 the
// AC coefficients of a sequential file are still decoded, only not stored.
//
// As in libjpeg, reaching a marker inside the entropy-coded data is not an
// error: the decoder then reads zero bytes until the scan is complete
// (section D.2.6). Codes that cannot come from an encoder (a magnitude
// category over 15 bits or a run past the end of the block) end the restart
// interval, as in the Huffman decoder (see decodeScan). Reaching the end of
// the data inside a scan means the file is truncated.

// qeTable is Table D.2, one entry per probability estimation state:
// Qe<<16 | Next_Index_MPS<<8 | Switch_MPS<<7 | Next_Index_LPS. The extra
// state 113 is the fixed estimate of 0.5 used for the sign of AC
// coefficients and for DC refinement bits (as libjpeg does, after ITU T.851).
var qeTable = [114]uint32{
	q(0x5a1d, 1, 1, 1), q(0x2586, 14, 2, 0), q(0x1114, 16, 3, 0), q(0x080b, 18, 4, 0),
	q(0x03d8, 20, 5, 0), q(0x01da, 23, 6, 0), q(0x00e5, 25, 7, 0), q(0x006f, 28, 8, 0),
	q(0x0036, 30, 9, 0), q(0x001a, 33, 10, 0), q(0x000d, 35, 11, 0), q(0x0006, 9, 12, 0),
	q(0x0003, 10, 13, 0), q(0x0001, 12, 13, 0), q(0x5a7f, 15, 15, 1), q(0x3f25, 36, 16, 0),
	q(0x2cf2, 38, 17, 0), q(0x207c, 39, 18, 0), q(0x17b9, 40, 19, 0), q(0x1182, 42, 20, 0),
	q(0x0cef, 43, 21, 0), q(0x09a1, 45, 22, 0), q(0x072f, 46, 23, 0), q(0x055c, 48, 24, 0),
	q(0x0406, 49, 25, 0), q(0x0303, 51, 26, 0), q(0x0240, 52, 27, 0), q(0x01b1, 54, 28, 0),
	q(0x0144, 56, 29, 0), q(0x00f5, 57, 30, 0), q(0x00b7, 59, 31, 0), q(0x008a, 60, 32, 0),
	q(0x0068, 62, 33, 0), q(0x004e, 63, 34, 0), q(0x003b, 32, 35, 0), q(0x002c, 33, 9, 0),
	q(0x5ae1, 37, 37, 1), q(0x484c, 64, 38, 0), q(0x3a0d, 65, 39, 0), q(0x2ef1, 67, 40, 0),
	q(0x261f, 68, 41, 0), q(0x1f33, 69, 42, 0), q(0x19a8, 70, 43, 0), q(0x1518, 72, 44, 0),
	q(0x1177, 73, 45, 0), q(0x0e74, 74, 46, 0), q(0x0bfb, 75, 47, 0), q(0x09f8, 77, 48, 0),
	q(0x0861, 78, 49, 0), q(0x0706, 79, 50, 0), q(0x05cd, 48, 51, 0), q(0x04de, 50, 52, 0),
	q(0x040f, 50, 53, 0), q(0x0363, 51, 54, 0), q(0x02d4, 52, 55, 0), q(0x025c, 53, 56, 0),
	q(0x01f8, 54, 57, 0), q(0x01a4, 55, 58, 0), q(0x0160, 56, 59, 0), q(0x0125, 57, 60, 0),
	q(0x00f6, 58, 61, 0), q(0x00cb, 59, 62, 0), q(0x00ab, 61, 63, 0), q(0x008f, 61, 32, 0),
	q(0x5b12, 65, 65, 1), q(0x4d04, 80, 66, 0), q(0x412c, 81, 67, 0), q(0x37d8, 82, 68, 0),
	q(0x2fe8, 83, 69, 0), q(0x293c, 84, 70, 0), q(0x2379, 86, 71, 0), q(0x1edf, 87, 72, 0),
	q(0x1aa9, 87, 73, 0), q(0x174e, 72, 74, 0), q(0x1424, 72, 75, 0), q(0x119c, 74, 76, 0),
	q(0x0f6b, 74, 77, 0), q(0x0d51, 75, 78, 0), q(0x0bb6, 77, 79, 0), q(0x0a40, 77, 48, 0),
	q(0x5832, 80, 81, 1), q(0x4d1c, 88, 82, 0), q(0x438e, 89, 83, 0), q(0x3bdd, 90, 84, 0),
	q(0x34ee, 91, 85, 0), q(0x2eae, 92, 86, 0), q(0x299a, 93, 87, 0), q(0x2516, 86, 71, 0),
	q(0x5570, 88, 89, 1), q(0x4ca9, 95, 90, 0), q(0x44d9, 96, 91, 0), q(0x3e22, 97, 92, 0),
	q(0x3824, 99, 93, 0), q(0x32b4, 99, 94, 0), q(0x2e17, 93, 86, 0), q(0x56a8, 95, 96, 1),
	q(0x4f46, 101, 97, 0), q(0x47e5, 102, 98, 0), q(0x41cf, 103, 99, 0), q(0x3c3d, 104, 100, 0),
	q(0x375e, 99, 93, 0), q(0x5231, 105, 102, 0), q(0x4c0f, 106, 103, 0), q(0x4639, 107, 104, 0),
	q(0x415e, 103, 99, 0), q(0x5627, 105, 106, 1), q(0x50e7, 108, 107, 0), q(0x4b85, 109, 103, 0),
	q(0x5597, 110, 109, 0), q(0x504f, 111, 107, 0), q(0x5a10, 110, 111, 1), q(0x5522, 112, 109, 0),
	q(0x59eb, 112, 111, 1),
	q(0x5a1d, 113, 113, 0), // fixed 0.5
}

// q packs a row of Table D.2: Qe, Next_Index_LPS, Next_Index_MPS, Switch_MPS.
func q(qe, nlps, nmps, sw uint32) uint32 { return qe<<16 | nmps<<8 | sw<<7 | nlps }

const (
	fixedState = 113 // qeTable index of the fixed 0.5 estimate
	dcStatBins = 64  // statistics bins of a DC conditioning table (Table F.4)
	acStatBins = 256 // of an AC table (Table F.5)
)

// maxArithScans bounds the scans of an arithmetic-coded progressive image.
// A scan that codes every block as "no change" costs a few bytes however
// large the image, so without a bound a small file could make Decode loop
// over millions of blocks thousands of times. Encoders write about ten
// scans; libjpeg-turbo suggests refusing over 500 from untrusted sources.
const maxArithScans = 500

// checkScans refuses an arithmetic-coded progressive image with more than
// maxArithScans scans.
func (d *decoder) checkScans(n int) error {
	if d.arith && n > maxArithScans {
		return unsupported(fmt.Sprintf("arithmetic-coded JPEG with %d scans (over %d)", n, maxArithScans))
	}
	return nil
}

// arithDecoder holds the state of the arithmetic decoder (section D.2) and
// of the coefficient models. A statistics bin is a byte: the index of its
// probability estimation state in the low 7 bits, the MPS in the top bit.
type arithDecoder struct {
	data   []byte
	pos    int    // next byte to read
	marker bool   // a marker (or the end of data) was reached: read zeros
	c      uint64 // code register: the interval's base and ct look-ahead bits below it
	a      uint32 // interval size, normalised to at least 0x8000
	ct     int    // look-ahead bits in c, 0 to 7 between decisions

	dc    [4][dcStatBins]byte
	ac    [4][acStatBins]byte
	fixed byte
	dcCtx [4]int // DC conditioning context (0, 4, 8, 12 or 16) per scan component

	// Conditioning tables from DAC (section F.1.4.4): the DC lower and
	// upper bounds L and U and the AC threshold Kx of each table.
	dcL, dcU, acK [4]byte
	condSet       bool // the defaults have been set
}

// initCond sets the default conditioning (L=0, U=1, Kx=5) once.
func (ad *arithDecoder) initCond() {
	if ad.condSet {
		return
	}
	ad.condSet = true
	for i := range 4 {
		ad.dcL[i], ad.dcU[i], ad.acK[i] = 0, 1, 5
	}
}

// processDAC reads arithmetic conditioning tables (section B.2.4.3).
func (d *decoder) processDAC(p []byte) error {
	if len(p)%2 != 0 {
		return d.fail("bad DAC length")
	}
	ad := &d.ar
	ad.initCond()
	for ; len(p) >= 2; p = p[2:] {
		tc, tb, v := p[0]>>4, p[0]&15, p[1]
		if tc > 1 {
			return d.fail("bad DAC class")
		}
		if tb > 3 {
			// libjpeg accepts up to 16 tables; scans can only select 0-3.
			continue
		}
		if tc == 0 {
			if v&15 > v>>4 {
				return d.fail("bad DAC value")
			}
			ad.dcL[tb], ad.dcU[tb] = v&15, v>>4
		} else {
			ad.acK[tb] = v
		}
	}
	return nil
}

// reset starts decoding the entropy-coded segment at data[pos:]: C is
// loaded with its first two bytes and A set to 0x10000 (section D.2.7; the
// same state libjpeg reaches in its first renormalisation).
func (ad *arithDecoder) reset(data []byte, pos int) {
	ad.data, ad.pos, ad.marker = data, pos, false
	ad.c = uint64(ad.readByte()) << 8
	ad.c |= uint64(ad.readByte())
	ad.a, ad.ct = 0x10000, 0
}

// readByte returns the next byte of entropy-coded data with byte stuffing
// removed, or zero once a marker or the end of data was reached. ad.pos is
// then left at the 0xFF of the marker.
func (ad *arithDecoder) readByte() uint64 {
	if ad.marker {
		return 0
	}
	data, p := ad.data, ad.pos
	if p >= len(data) {
		ad.marker = true
		return 0
	}
	b := data[p]
	if b != 0xFF {
		ad.pos = p + 1
		return uint64(b)
	}
	for p+1 < len(data) && data[p+1] == 0xFF { // fill bytes
		p++
	}
	if p+1 < len(data) && data[p+1] == 0 {
		ad.pos = p + 2
		return 0xFF
	}
	ad.pos = p
	ad.marker = true
	return 0
}

// decode decodes one binary decision with the statistics bin st (sections
// D.2.4 to D.2.5). As in libjpeg, the code register holds a floating number
// ct of look-ahead bits below the 16 bits compared with A, so that C needs
// no shift on renormalisation.
func (ad *arithDecoder) decode(st *byte) int {
	sv := *st
	e := qeTable[sv&0x7F]
	qe := e >> 16
	a := ad.a - qe
	if t := uint64(a) << uint(ad.ct); ad.c >= t {
		// The LPS sub-interval, unless a conditional exchange applies.
		ad.c -= t
		if a < qe {
			*st = sv&0x80 ^ byte(e>>8)
		} else {
			*st = sv&0x80 ^ byte(e)
			sv ^= 0x80
		}
		ad.a = qe
		ad.renorm()
	} else if ad.a = a; a < 0x8000 {
		if a < qe {
			*st = sv&0x80 ^ byte(e)
			sv ^= 0x80
		} else {
			*st = sv&0x80 ^ byte(e>>8)
		}
		ad.renorm()
	}
	return int(sv >> 7)
}

// renorm doubles A until it is at least 0x8000, reading bytes into C as
// the look-ahead bits run out (section D.2.6), all shifts at once.
func (ad *arithDecoder) renorm() {
	n := bits.LeadingZeros32(ad.a) - 16 // 1 to 15: A is at least 1
	for ad.ct < n {
		ad.c = ad.c<<8 | ad.readByte()
		ad.ct += 8
	}
	ad.ct -= n
	ad.a <<= uint(n)
}

// decodeDCDiff decodes a DC difference with the statistics of table tbl and
// the context of scan component i (sections F.1.4.1 and F.1.4.4.1).
func (ad *arithDecoder) decodeDCDiff(tbl, i int) (int32, error) {
	st := &ad.dc[tbl]
	s := ad.dcCtx[i]
	if ad.decode(&st[s]) == 0 {
		ad.dcCtx[i] = 0
		return 0, nil
	}
	sign := ad.decode(&st[s+1])
	s += 2 + sign
	m := ad.decode(&st[s])
	if m != 0 {
		s = 20 // X1
		for ad.decode(&st[s]) != 0 {
			if m <<= 1; m == 0x8000 {
				return 0, errBadMag
			}
			s++
		}
	}
	switch {
	case m < (1<<ad.dcL[tbl])>>1:
		ad.dcCtx[i] = 0
	case m > (1<<ad.dcU[tbl])>>1:
		ad.dcCtx[i] = 12 + 4*sign
	default:
		ad.dcCtx[i] = 4 + 4*sign
	}
	v := m
	s += 14
	for m >>= 1; m != 0; m >>= 1 {
		if ad.decode(&st[s]) != 0 {
			v |= m
		}
	}
	v++
	if sign != 0 {
		v = -v
	}
	return int32(v), nil
}

// decodeACValue decodes the sign and magnitude of a non-zero AC coefficient
// at zig-zag index k, s being the index of its SE bin in st (sections
// F.1.4.2 and F.1.4.3).
func (ad *arithDecoder) decodeACValue(st *[acStatBins]byte, s, k int, kx byte) (int32, error) {
	sign := ad.decode(&ad.fixed)
	s += 2
	m := ad.decode(&st[s])
	if m != 0 && ad.decode(&st[s]) != 0 {
		m <<= 1
		s = 217
		if k <= int(kx) {
			s = 189
		}
		for ad.decode(&st[s]) != 0 {
			if m <<= 1; m == 0x8000 {
				return 0, errBadMag
			}
			s++
		}
	}
	v := m
	s += 14
	for m >>= 1; m != 0; m >>= 1 {
		if ad.decode(&st[s]) != 0 {
			v |= m
		}
	}
	v++
	if sign != 0 {
		v = -v
	}
	return int32(v), nil
}

// arithScan decodes one arithmetic-coded scan; it is decodeScan's
// counterpart, storing the coefficients the same way.
func (d *decoder) arithScan(s *scanHeader) error {
	ad := &d.ar
	ad.initCond()
	ad.fixed = fixedState
	var mode scanMode
	switch {
	case !d.progressive:
		mode = modeBaseline
	case s.ss == 0 && s.ah == 0:
		mode = modeDCFirst
	case s.ss == 0:
		mode = modeDCRefine
	case s.ah == 0:
		mode = modeACFirst
	default:
		mode = modeACRefine
		if s.se >= d.comp[s.comps[0].ci].ncoef {
			return d.fail("unexpected refinement scan")
		}
	}
	resetStats := func() {
		for i := 0; i < s.n; i++ {
			sc := &s.comps[i]
			if mode == modeBaseline || mode == modeDCFirst {
				ad.dc[sc.td] = [dcStatBins]byte{}
				ad.dcCtx[i] = 0
				d.comp[sc.ci].pred = 0
			}
			if mode == modeBaseline || s.ss > 0 {
				ad.ac[sc.ta] = [acStatBins]byte{}
			}
		}
	}
	resetStats()
	ad.reset(d.data, d.pos)

	mcuW, mcuH := d.scanGeometry(s)
	keep := keepFor(d.denom)
	nextRST := 0
	mcu := 0
	total := mcuW * mcuH
	bad := false // the rest of the current restart interval is skipped
	for my := 0; my < mcuH; my++ {
		for mx := 0; mx < mcuW; mx++ {
			if !bad {
				if err := d.arithMCU(s, mode, keep, mx, my); err != nil {
					bad = true
					d.blk = [64]int32{} // a block left half-decoded
					if skipEntropyRST(d.data, ad.pos) >= len(d.data) {
						return d.scanTruncated(s, mcu, total)
					}
					d.warnInterval(err, s, mcu, total, ad.pos)
				}
				// Reaching a marker is no error (the encoder drops
				// trailing zero bytes), but reaching the end of the
				// data is: no EOI follows, so the file is cut off.
				// What the zeros after it decode to is not kept.
				if ad.marker && ad.pos >= len(d.data) {
					return d.scanTruncated(s, mcu, total)
				}
			}
			if bad {
				d.greyMCU(s, mx, my)
			}
			mcu++
			if d.ri > 0 && mcu%d.ri == 0 && mcu < total {
				// Consume the expected RSTn marker and reset the
				// statistics and predictions (section F.1.4.5).
				p, resume, eod := d.findRestart(ad.pos, 0, &nextRST, true)
				if eod {
					return d.scanTruncated(s, mcu, total)
				}
				bad = !resume
				resetStats()
				ad.reset(d.data, p)
				if !resume {
					ad.marker = true
				}
			}
		}
	}
	// The encoder's last bytes need not all be read: go to the marker.
	d.pos = skipEntropy(d.data, ad.pos)
	return nil
}

// arithMCU decodes the blocks of MCU (mx, my) of an arithmetic-coded scan.
func (d *decoder) arithMCU(s *scanHeader, mode scanMode, keep, mx, my int) error {
	ad := &d.ar
	for i := 0; i < s.n; i++ {
		sc := &s.comps[i]
		c := &d.comp[sc.ci]
		nh, nv := c.h, c.v
		if s.n == 1 {
			nh, nv = 1, 1
		}
		for y := 0; y < nv; y++ {
			by := my*nv + y
			for x := 0; x < nh; x++ {
				bx := mx*nh + x
				var err error
				switch mode {
				case modeBaseline:
					err = d.arithBlock(c, i, sc, keep, bx, by)
				case modeDCFirst:
					var diff int32
					if diff, err = ad.decodeDCDiff(sc.td, i); err == nil {
						c.pred = int32(int16(c.pred + diff))
						c.coef[(by*c.bw+bx)*c.ncoef] = int16(c.pred << uint(s.al))
					}
				case modeDCRefine:
					if ad.decode(&ad.fixed) != 0 {
						c.coef[(by*c.bw+bx)*c.ncoef] |= 1 << uint(s.al)
					}
				case modeACFirst:
					err = d.arithACFirst(sc.ta, s, c.coef[(by*c.bw+bx)*c.ncoef:][:c.ncoef])
				case modeACRefine:
					err = d.arithACRefine(sc.ta, s, c.coef[(by*c.bw+bx)*c.ncoef:][:c.ncoef])
				}
				if err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// arithBlock decodes one block of a sequential scan and writes its pixels,
// as baselineBlock does: only the first keep zig-zag coefficients are
// stored, and at 1/8 scale only the DC coefficient is used.
func (d *decoder) arithBlock(c *component, i int, sc *scanComp, keep, bx, by int) error {
	ad := &d.ar
	diff, err := ad.decodeDCDiff(sc.td, i)
	if err != nil {
		return err
	}
	c.pred = int32(int16(c.pred + diff))
	qs := &c.qs
	blk := &d.blk
	st := &ad.ac[sc.ta]
	kx := ad.acK[sc.ta]
	last := 0
	for k := 1; k <= 63; k++ {
		s := 3 * (k - 1)
		if ad.decode(&st[s]) != 0 {
			break // EOB
		}
		for ad.decode(&st[s+1]) == 0 {
			s += 3
			if k++; k > 63 {
				return errBadRun
			}
		}
		v, err := ad.decodeACValue(st, s, k, kx)
		if err != nil {
			return err
		}
		if k < keep {
			blk[zigzag[k]] = int32(int16(v)) * qs[k]
			last = k
		}
	}
	if keep == 1 {
		c.pix[by*c.stride+bx] = d.dcPixel(c.pred * qs[0])
		return nil
	}
	blk[0] = c.pred * qs[0]
	d.output(c, last, bx, by)
	return nil
}

// arithACFirst decodes the first scan of an AC band for one block (section
// G.1.3.2). Coefficients beyond len(b) are decoded but not stored.
func (d *decoder) arithACFirst(tbl int, s *scanHeader, b []int16) error {
	ad := &d.ar
	st := &ad.ac[tbl]
	kx := ad.acK[tbl]
	nb, al := len(b), uint(s.al)
	for k := s.ss; k <= s.se; k++ {
		i := 3 * (k - 1)
		if ad.decode(&st[i]) != 0 {
			break // EOB
		}
		for ad.decode(&st[i+1]) == 0 {
			i += 3
			if k++; k > s.se {
				return errBadRun
			}
		}
		v, err := ad.decodeACValue(st, i, k, kx)
		if err != nil {
			return err
		}
		if k < nb {
			b[k] = int16(v << al)
		}
	}
	return nil
}

// arithACRefine decodes an AC successive-approximation refinement scan for
// one block (section G.1.3.3); b covers the whole band.
func (d *decoder) arithACRefine(tbl int, s *scanHeader, b []int16) error {
	ad := &d.ar
	st := &ad.ac[tbl]
	p1 := int16(1) << uint(s.al)
	m1 := int16(-1) << uint(s.al)
	b = b[:s.se+1]
	// The end of block of the previous stages.
	kex := s.se
	for ; kex > 0; kex-- {
		if b[kex] != 0 {
			break
		}
	}
	for k := s.ss; k <= s.se; k++ {
		i := 3 * (k - 1)
		if k > kex && ad.decode(&st[i]) != 0 {
			break // EOB
		}
		for {
			if c := b[k]; c != 0 {
				// Previously non-zero: a correction bit.
				if ad.decode(&st[i+2]) != 0 {
					if c < 0 {
						b[k] = c + m1
					} else {
						b[k] = c + p1
					}
				}
				break
			}
			if ad.decode(&st[i+1]) != 0 {
				// Newly non-zero.
				if ad.decode(&ad.fixed) != 0 {
					b[k] = m1
				} else {
					b[k] = p1
				}
				break
			}
			i += 3
			if k++; k > s.se {
				return errBadRun
			}
		}
	}
	return nil
}
