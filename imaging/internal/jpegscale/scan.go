package jpegscale

import "fmt"

// parseSOS parses a scan header.
func (d *decoder) parseSOS(p []byte) (scanHeader, error) {
	var s scanHeader
	if len(p) < 1 {
		return s, d.fail("bad SOS length")
	}
	s.n = int(p[0])
	if s.n < 1 || s.n > d.nComp || len(p) != 4+2*s.n {
		return s, d.fail("bad SOS length")
	}
	totalHV := 0
	for i := 0; i < s.n; i++ {
		id := p[1+2*i]
		ci := -1
		for j := 0; j < d.nComp; j++ {
			if d.comp[j].id == id {
				ci = j
			}
		}
		if ci < 0 {
			return s, d.fail("unknown component selector")
		}
		for j := 0; j < i; j++ {
			if s.comps[j].ci == ci {
				return s, d.fail("repeated component selector")
			}
		}
		totalHV += d.comp[ci].h * d.comp[ci].v
		s.comps[i] = scanComp{ci: ci, td: int(p[2+2*i] >> 4), ta: int(p[2+2*i] & 15)}
		if s.comps[i].td > 3 || s.comps[i].ta > 3 {
			return s, d.fail("bad Huffman table selector")
		}
	}
	if s.n > 1 && totalHV > 10 {
		return s, d.fail("total sampling factors too large")
	}
	s.ss, s.se = int(p[1+2*s.n]), int(p[2+2*s.n])
	s.ah, s.al = int(p[3+2*s.n]>>4), int(p[3+2*s.n]&15)
	if d.progressive {
		if (s.ss == 0 && s.se != 0) || s.ss > s.se || s.se > 63 {
			return s, d.fail("bad spectral selection bounds")
		}
		if s.ss != 0 && s.n != 1 {
			return s, d.fail("progressive AC scan with several components")
		}
		if (s.ah != 0 && s.ah != s.al+1) || s.al > 13 {
			return s, d.fail("bad successive approximation values")
		}
	} else {
		s.ss, s.se, s.ah, s.al = 0, 63, 0, 0
	}
	return s, nil
}

// makePlan looks ahead at the headers of all remaining scans and decides
// which of them can affect the coefficients needed at the output scale. It
// works backwards: a scan is needed if it touches a needed coefficient of
// one of its components, and an AC refinement scan that is decoded needs the
// whole history (which coefficients are non-zero) of its band, so the band
// becomes needed for earlier scans of that component.
//
// It also sets each component's ncoef, the number of leading zig-zag
// coefficients stored per block.
func (d *decoder) makePlan() {
	d.planScans(d.scanHeaders())
}

// scanHeaders lists the headers of the scans from the current one on,
// walking past their entropy-coded data.
func (d *decoder) scanHeaders() []scanHeader {
	var scans []scanHeader
	d.walkScans(d.sosStart, func(s *scanHeader) { scans = append(scans, *s) })
	return scans
}

// countScans counts the scans from the first one on, and reports whether
// they cover every component.
func (d *decoder) countScans() (n int, covered bool) {
	var seen [4]bool
	d.walkScans(d.firstSOS, func(s *scanHeader) {
		n++
		for i := 0; i < s.n; i++ {
			seen[s.comps[i].ci] = true
		}
	})
	covered = true
	for i := 0; i < d.nComp; i++ {
		covered = covered && seen[i]
	}
	return n, covered
}

// walkScans calls f for each scan header from the marker at p on, walking
// past their entropy-coded data and the segments between them, until EOI,
// a broken segment or the end of the data. Stray bytes between segments
// are skipped as nextMarker does.
func (d *decoder) walkScans(p int, f func(*scanHeader)) {
	data := d.data
	for {
		// Find the next marker at or after p.
		for p < len(data) && data[p] != 0xFF {
			p++
		}
		for p+1 < len(data) && data[p+1] == 0xFF {
			p++
		}
		if p+1 >= len(data) {
			return
		}
		m := data[p+1]
		if m == 0 || (m >= rst0 && m <= rst7) {
			p += 2
			continue
		}
		if m == eoi || p+4 > len(data) {
			return
		}
		n := int(data[p+2])<<8 | int(data[p+3])
		if n < 2 || p+2+n > len(data) {
			return
		}
		if m == sos {
			s, err := d.parseSOS(data[p+4 : p+2+n])
			if err != nil {
				return
			}
			f(&s)
			p = skipEntropy(data, p+2+n)
			continue
		}
		p += 2 + n
	}
}

// planScans sets the plan and each component's ncoef for the scans, at the
// decoder's scale (see makePlan).
func (d *decoder) planScans(scans []scanHeader) {
	keep := keepFor(d.denom)
	var need [4]int
	for i := range need {
		need[i] = keep
	}
	d.plan = make([]bool, len(scans))
	for i := len(scans) - 1; i >= 0; i-- {
		s := &scans[i]
		for j := 0; j < s.n; j++ {
			if s.ss < need[s.comps[j].ci] {
				d.plan[i] = true
			}
		}
		if d.plan[i] && s.ah != 0 && s.ss > 0 {
			ci := s.comps[0].ci
			need[ci] = max(need[ci], s.se+1)
		}
	}
	for i := 0; i < d.nComp; i++ {
		d.comp[i].ncoef = need[i]
	}
}

// scaledQuant computes component c's dequantisation table for the output
// scale, folding in the reduced-IDCT weights (see idct.go).
func (d *decoder) scaledQuant(c *component) error {
	if !d.qDef[c.tq] {
		return d.fail("missing quantization table")
	}
	q := &d.quant[c.tq]
	if d.coefOnly {
		if err := d.latchRequant(c, q); err != nil {
			return err
		}
		for k := range c.qs {
			c.qs[k] = 1
		}
		c.qsValid = true
		return nil
	}
	w := weights[d.denom]
	for k := 0; k < 64; k++ {
		z := zigzag[k]
		c.qs[k] = int32(float64(q[k])*w[z>>3]*w[z&7]*float64(int(1)<<wbits[d.denom]) + 0.5)
	}
	c.qsValid = true
	return nil
}

func (d *decoder) processSOS(p []byte) error {
	if !d.sofSeen {
		return d.fail("missing SOF marker")
	}
	s, err := d.parseSOS(p)
	if err != nil {
		return err
	}
	if d.scanNo == 0 {
		d.firstSOS = d.sosStart
	}
	d.scanNo++
	if !d.setup {
		if err := d.setupImage(); err != nil {
			return err
		}
	}
	decodeIt := true
	if d.progressive {
		if d.scanIdx < len(d.plan) {
			decodeIt = d.plan[d.scanIdx]
		}
		d.scanIdx++
	}
	if !decodeIt {
		d.pos = skipEntropy(d.data, d.pos)
		if d.pos >= len(d.data) {
			// The scan may be cut off, but the image at this scale
			// is complete.
			d.warn("the data ends in scan %d, which is not needed at this scale", d.scanNo)
		}
		return nil
	}
	for i := 0; i < s.n; i++ {
		c := &d.comp[s.comps[i].ci]
		// Quantisation tables are latched at a component's first scan, as in libjpeg.
		if !c.qsValid {
			if err := d.scaledQuant(c); err != nil {
				return err
			}
		}
		c.scanned = true
		if d.arith {
			continue
		}
		if s.ss == 0 && s.ah == 0 && !d.dcTab[s.comps[i].td].defined {
			return d.fail("missing DC Huffman table")
		}
		if s.se > 0 && !d.acTab[s.comps[i].ta].defined {
			return d.fail("missing AC Huffman table")
		}
	}
	if d.scans == nil && d.procs > 1 && d.progressive && !d.arith && len(d.plan) <= maxParallelScans {
		d.scans = newScanPool(d.procs)
	}
	if d.scans != nil {
		d.scans.add(d, &s)
		return nil
	}
	return d.decodeScan(&s)
}

type scanMode int

const (
	modeBaseline scanMode = iota
	modeBaselineDC
	modeDCFirst
	modeDCRefine
	modeACFirst
	modeACRefine
	modeCoef // sequential, for Coefficients
)

// scanGeometry returns the scan's MCUs per row and rows of MCUs.
func (d *decoder) scanGeometry(s *scanHeader) (mcuW, mcuH int) {
	if s.n == 1 {
		c := &d.comp[s.comps[0].ci]
		return c.cbw, c.cbh
	}
	return d.mxx, d.myy
}

// decodeScan decodes one Huffman-coded scan.
//
// Damage is handled per restart interval (the whole scan when there are no
// restart markers), as libjpeg does: a bad code, or data that runs into a
// marker before the interval's last MCU, ends the interval; its remaining
// blocks are left mid grey (sequential) or as the earlier scans left them
// (progressive), and decoding resumes at the next restart marker. If no
// marker follows, the data is truncated: decodeScan returns a
// *TruncatedError, after filling the rest of the scan with grey.
func (d *decoder) decodeScan(s *scanHeader) error {
	if d.arith {
		return d.arithScan(s)
	}
	var mode scanMode
	switch {
	case !d.progressive && d.coefOnly:
		mode = modeCoef
	case !d.progressive && d.denom == 8:
		mode = modeBaselineDC
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
	for i := 0; i < s.n; i++ {
		d.comp[s.comps[i].ci].pred = 0
	}
	d.eobrun = 0
	d.br.reset(d.data, d.pos)

	mcuW, mcuH := d.scanGeometry(s)
	keep := keepFor(d.denom)
	nextRST := 0
	mcu := 0
	total := mcuW * mcuH
	bad := false // the rest of the current restart interval is skipped
	for my := 0; my < mcuH; my++ {
		for mx := 0; mx < mcuW; mx++ {
			if !bad {
				var err error
				if s.n == 1 && mode >= modeACFirst && mode <= modeACRefine {
					err = d.acBlock(s, mode, mx, my)
				} else if mode == modeDCFirst || mode == modeDCRefine {
					err = d.dcMCU(s, mode == modeDCRefine, mx, my)
				} else {
					err = d.huffMCU(s, mode, keep, mx, my)
				}
				if err == nil && d.br.overrun() {
					err = errOverrun
				}
				if err != nil {
					bad = true
					d.blk = [64]int32{} // a block left half-decoded
					if skipEntropyRST(d.data, d.br.pos) >= len(d.data) {
						return d.scanTruncated(s, mcu, total)
					}
					d.warnInterval(err, s, mcu, total, d.br.pos)
				}
			}
			if bad {
				d.greyMCU(s, mx, my)
			}
			mcu++
			if d.ri > 0 && mcu%d.ri == 0 && mcu < total {
				extra := 0
				if !bad {
					extra = (d.br.n - d.br.pad) / 8
				}
				p, resume, eod := d.findRestart(d.br.pos, extra, &nextRST, bad)
				if eod {
					return d.scanTruncated(s, mcu, total)
				}
				bad = !resume
				d.br.reset(d.data, p)
				if !resume {
					d.br.stopped = true
				}
				for i := 0; i < s.n; i++ {
					d.comp[s.comps[i].ci].pred = 0
				}
				d.eobrun = 0
			}
		}
	}
	if !bad {
		d.extra = (d.br.n - d.br.pad) / 8
	}
	d.pos = d.br.pos
	if bad {
		d.pos = skipEntropy(d.data, d.pos)
	}
	return nil
}

// huffMCU decodes the blocks of MCU (mx, my) of a Huffman-coded scan.
func (d *decoder) huffMCU(s *scanHeader, mode scanMode, keep, mx, my int) error {
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
					err = d.baselineBlock(c, &d.dcTab[sc.td], &d.acTab[sc.ta], keep, bx, by)
				case modeCoef:
					err = d.coefBlock(c, &d.dcTab[sc.td], &d.acTab[sc.ta], bx, by)
				case modeBaselineDC:
					err = d.baselineBlock(c, &d.dcTab[sc.td], &d.acTab[sc.ta], 1, bx, by)
				case modeDCFirst:
					err = d.dcFirst(c, &d.dcTab[sc.td], s.al, c.coef[(by*c.bw+bx)*c.ncoef:])
				case modeDCRefine:
					if d.br.bit() {
						c.coef[(by*c.bw+bx)*c.ncoef] |= 1 << uint(s.al)
					}
				case modeACFirst:
					err = d.acFirst(&d.acTab[sc.ta], s, c.coef[(by*c.bw+bx)*c.ncoef:][:c.ncoef])
				case modeACRefine:
					err = d.acRefine(&d.acTab[sc.ta], s, c.coef[(by*c.bw+bx)*c.ncoef:][:c.ncoef])
				}
				if err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// acBlock decodes block (bx, by) of a progressive AC scan, which has a
// single component and one block per MCU: huffMCU's loops left out.
func (d *decoder) acBlock(s *scanHeader, mode scanMode, bx, by int) error {
	sc := &s.comps[0]
	c := &d.comp[sc.ci]
	b := c.coef[(by*c.bw+bx)*c.ncoef:][:c.ncoef]
	if mode == modeACFirst {
		return d.acFirst(&d.acTab[sc.ta], s, b)
	}
	return d.acRefine(&d.acTab[sc.ta], s, b)
}

// dcMCU decodes MCU (mx, my) of a progressive DC scan, first or refining,
// with the bit buffer in local variables: dcFirst and the DC refinement
// of huffMCU, refilling once per block.
func (d *decoder) dcMCU(s *scanHeader, refine bool, mx, my int) error {
	br := &d.br
	acc, n := br.acc, br.n
	al := uint(s.al)
	for i := 0; i < s.n; i++ {
		sc := &s.comps[i]
		c := &d.comp[sc.ci]
		h := &d.dcTab[sc.td]
		nh, nv := c.h, c.v
		if s.n == 1 {
			nh, nv = 1, 1
		}
		for y := 0; y < nv; y++ {
			row := (my*nv + y) * c.bw
			for x := 0; x < nh; x++ {
				off := (row + mx*nh + x) * c.ncoef
				if n < 32 {
					acc, n = br.refill(acc, n)
				}
				if refine {
					c.coef[off] |= int16(acc>>63) << al
					acc <<= 1
					n--
					continue
				}
				var t int
				if e := h.lut[acc>>(64-lookBits)]; e != 0 {
					l := uint(e >> 8)
					acc <<= l
					n -= int(l)
					t = int(e & 0xFF)
				} else {
					var err error
					if t, acc, n, err = slowCode(h, acc, n); err != nil {
						br.acc, br.n = acc, n
						return err
					}
				}
				if t > 15 {
					br.acc, br.n = acc, n
					return errBadDC
				}
				c.pred += extend(int32(acc>>(64-uint(t))&(1<<uint(t)-1)), t)
				acc <<= uint(t)
				n -= t
				c.coef[off] = int16(c.pred << al)
			}
		}
	}
	br.acc, br.n = acc, n
	return nil
}

// greyMCU sets the blocks of MCU (mx, my) of a sequential scan to mid grey,
// as libjpeg leaves the blocks it could not decode (all coefficients zero).
// Progressive scans keep what the earlier scans decoded.
func (d *decoder) greyMCU(s *scanHeader, mx, my int) {
	if d.progressive || d.coefOnly {
		return
	}
	bs := d.bs
	for i := 0; i < s.n; i++ {
		c := &d.comp[s.comps[i].ci]
		nh, nv := c.h, c.v
		if s.n == 1 {
			nh, nv = 1, 1
		}
		for y := 0; y < nv; y++ {
			by := my*nv + y
			for x := 0; x < nh; x++ {
				bx := mx*nh + x
				if bx < c.bw && by < c.bh {
					fill(c.pix[by*bs*c.stride+bx*bs:], c.stride, bs, 128)
				}
			}
		}
	}
}

// scanTruncated reports that the data ends in the current scan, mcu MCUs
// of total decoded. With Options.Partial the rest of a sequential scan is
// filled with grey first.
func (d *decoder) scanTruncated(s *scanHeader, mcu, total int) error {
	if d.opts.Partial && !d.progressive {
		mcuW, _ := d.scanGeometry(s)
		for m := mcu; m < total; m++ {
			d.greyMCU(s, m%mcuW, m/mcuW)
		}
	}
	return &TruncatedError{Offset: len(d.data), Scan: d.scanNo, Rows: float64(mcu) / float64(total)}
}

// warnInterval records the damage err met in the MCU mcu of total of the
// current scan, near byte pos.
func (d *decoder) warnInterval(err error, s *scanHeader, mcu, total, pos int) {
	var where, left string
	if d.ri > 0 && d.ri < total {
		where = fmt.Sprintf("restart interval %d of %d of scan %d", mcu/d.ri+1, (total+d.ri-1)/d.ri, d.scanNo)
		left = "its remaining blocks were left grey"
		if d.progressive {
			left = "its remaining blocks kept what earlier scans decoded"
		}
	} else {
		where = fmt.Sprintf("scan %d (MCU %d of %d)", d.scanNo, mcu+1, total)
		left = "the rest of the scan was left grey"
		if d.progressive {
			left = "the rest of the scan kept what earlier scans decoded"
		}
	}
	d.warn("%s in %s, near byte %d; %s", err, where, pos, left)
}

// findRestart looks for the restart marker RSTn, n = *next, that should
// follow an interval's entropy-coded data, from pos on; extra is the
// number of unused whole bytes the entropy decoder had buffered. It returns
// the position to resume at and whether to decode the next interval (false:
// libjpeg's "process an empty segment", the next interval is left grey and
// the marker at p is looked at again after it), or eod if the data ends
// first. Markers out of sequence are handled as libjpeg's
// jpeg_resync_to_restart does. quiet suppresses the extraneous bytes
// warning, for an interval already reported damaged.
func (d *decoder) findRestart(pos, extra int, next *int, quiet bool) (p int, resume, eod bool) {
	want := *next
	*next = (*next + 1) & 7
	for {
		p = skipEntropyRST(d.data, pos)
		if p+1 >= len(d.data) {
			return len(d.data), false, true
		}
		if !quiet {
			junk := p
			for junk > pos && d.data[junk-1] == 0xFF {
				junk--
			}
			if n := extra + junk - pos; n > 0 {
				d.warn("%d extraneous bytes before marker 0x%02X", n, d.data[p+1])
			}
			quiet = true
		}
		m := int(d.data[p+1])
		if m == rst0+want {
			return p + 2, true, false
		}
		d.warn("found marker 0x%02X instead of RST%d", m, want)
		switch {
		case m < sof0:
			// Not a valid marker: look further.
			pos = p + 2
			continue
		case m < rst0 || m > rst7:
			// Another marker: the rest of the scan is missing.
			return p, false, false
		case m == rst0+(want+1)&7 || m == rst0+(want+2)&7:
			// One of the next two restarts: intervals are missing.
			return p, false, false
		case m == rst0+(want+7)&7 || m == rst0+(want+6)&7:
			// An earlier restart: skip it.
			pos = p + 2
			continue
		}
		// Too far away to tell: take it as the expected one.
		return p + 2, true, false
	}
}

// skipEntropyRST is like skipEntropy but also stops at restart markers.
func skipEntropyRST(data []byte, p int) int {
	for p+1 < len(data) {
		if data[p] == 0xFF && data[p+1] != 0 && data[p+1] != 0xFF {
			return p
		}
		p++
	}
	return len(data)
}

func (d *decoder) decodeDC(h *huffTable, c *component) (int32, error) {
	t, err := d.br.decode(h)
	if err != nil {
		return 0, err
	}
	if t > 15 {
		return 0, errBadDC
	}
	diff := extend(d.br.bits(t), t)
	c.pred += diff
	return c.pred, nil
}

// baselineBlock decodes one sequential block and writes its pixels. Only
// the first keep zig-zag coefficients are stored; at 1/8 scale (keep == 1)
// the AC codes are merely skipped. The bit buffer is kept in local
// variables; every symbol (code ≤ 16 bits plus ≤ 15 extra bits) is preceded
// by a refill to at least 32 bits.
func (d *decoder) baselineBlock(c *component, dct, act *huffTable, keep, bx, by int) error {
	br := &d.br
	acc, n := br.acc, br.n
	if n < 32 {
		acc, n = br.refill(acc, n)
	}
	// DC coefficient.
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
	qs := &c.qs
	blk := &d.blk
	last := 0

	if keep == 1 {
		// 1/8 scale: skip the AC coefficients.
		for k := 1; k < 64; {
			if n < 32 {
				acc, n = br.refill(acc, n)
			}
			p := acc >> (64 - lookBits)
			if f := act.fastAC[p]; f != 0 {
				k += int(f>>8)&15 + 1
				l := uint(f & 0xFF)
				acc <<= l
				n -= int(l)
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
			k += r + 1
			acc <<= uint(s)
			n -= s
		}
		br.acc, br.n = acc, n
		c.pix[by*c.stride+bx] = d.dcPixel(c.pred * qs[0])
		return nil
	}

	blk[0] = c.pred * qs[0]
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
			if k < keep {
				blk[zigzag[k]] = (f >> 16) * qs[k]
				last = k
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
		if k < keep {
			blk[zigzag[k]] = v * qs[k]
			last = k
		}
		k++
	}
	br.acc, br.n = acc, n
	d.output(c, last, bx, by)
	return nil
}

// dcFirst decodes the first DC scan of a progressive block.
func (d *decoder) dcFirst(c *component, h *huffTable, al int, b []int16) error {
	dc, err := d.decodeDC(h, c)
	if err != nil {
		return err
	}
	b[0] = int16(dc << uint(al))
	return nil
}

// acFirst decodes the first scan of an AC band (section G.1.2.2).
// Coefficients beyond len(b) are decoded but not stored, and so is one a
// damaged run places beyond the band (as image/jpeg drops it): a scan
// writes only its own band, which the scans decoded in parallel rely on.
func (d *decoder) acFirst(h *huffTable, s *scanHeader, b []int16) error {
	if d.eobrun > 0 {
		d.eobrun--
		return nil
	}
	br := &d.br
	acc, n := br.acc, br.n
	nb, al := min(len(b), s.se+1), uint(s.al)
	for k, se := s.ss, s.se; k <= se; {
		if n < 32 {
			acc, n = br.refill(acc, n)
		}
		p := acc >> (64 - lookBits)
		if f := h.fastAC[p]; f != 0 {
			k += int(f>>8) & 15
			l := uint(f & 0xFF)
			acc <<= l
			n -= int(l)
			if k < nb {
				b[k] = int16((f >> 16) << al)
			}
			k++
			continue
		}
		var rs int
		if e := h.lut[p]; e != 0 {
			l := uint(e >> 8)
			acc <<= l
			n -= int(l)
			rs = int(e & 0xFF)
		} else {
			var err error
			if rs, acc, n, err = slowCode(h, acc, n); err != nil {
				br.acc, br.n = acc, n
				return err
			}
		}
		r, sz := rs>>4, rs&15
		if sz == 0 {
			if r < 15 {
				d.eobrun = 1<<uint(r) - 1
				if r > 0 {
					d.eobrun += int(acc >> (64 - uint(r)))
					acc <<= uint(r)
					n -= r
				}
				break
			}
			k += 16
			continue
		}
		k += r
		v := extend(int32(acc>>(64-uint(sz))&(1<<uint(sz)-1)), sz)
		acc <<= uint(sz)
		n -= sz
		if k < nb {
			b[k] = int16(v << al)
		}
		k++
	}
	br.acc, br.n = acc, n
	return nil
}

// acRefine decodes an AC successive-approximation refinement scan for one
// block (section G.1.2.3); b covers the whole band.
//
// The correction bit of an already non-zero coefficient is applied without
// branching on it (refineBit): those bits are close to random, so a branch
// on them is mispredicted half the time.
func (d *decoder) acRefine(h *huffTable, s *scanHeader, b []int16) error {
	br := &d.br
	acc, n := br.acc, br.n
	al := uint(s.al)
	p1 := int16(1) << al
	k := s.ss
	b = b[:s.se+1]
	if d.eobrun == 0 {
		for ; k < len(b); k++ {
			if n < 32 {
				acc, n = br.refill(acc, n)
			}
			var rs int
			if e := h.lut[acc>>(64-lookBits)]; e != 0 {
				l := uint(e >> 8)
				acc <<= l
				n -= int(l)
				rs = int(e & 0xFF)
			} else {
				var err error
				if rs, acc, n, err = slowCode(h, acc, n); err != nil {
					br.acc, br.n = acc, n
					return err
				}
			}
			r, sz := rs>>4, rs&15
			var v int16
			if sz != 0 {
				if sz != 1 {
					br.acc, br.n = acc, n
					return errBadRefine
				}
				if int64(acc) < 0 {
					v = p1
				} else {
					v = -p1
				}
				acc <<= 1
				n--
			} else if r != 15 {
				d.eobrun = 1 << uint(r)
				if r > 0 {
					d.eobrun += int(acc >> (64 - uint(r)))
					acc <<= uint(r)
					n -= r
				}
				break
			}
			for ; k < len(b); k++ {
				if c := b[k]; c != 0 {
					if n == 0 {
						acc, n = br.refill(acc, n)
					}
					b[k] = refineBit(c, acc, al)
					acc <<= 1
					n--
				} else {
					if r == 0 {
						break
					}
					r--
				}
			}
			if v != 0 && k < len(b) {
				b[k] = v
			}
		}
	}
	if d.eobrun > 0 {
		// In an EOB run most of the band is zero: skip four zero
		// coefficients at a time.
		for ; k+4 <= len(b); k += 4 {
			q := (*[4]int16)(b[k:])
			if q[0]|q[1]|q[2]|q[3] == 0 {
				continue
			}
			for j, c := range q {
				if c != 0 {
					if n == 0 {
						acc, n = br.refill(acc, n)
					}
					q[j] = refineBit(c, acc, al)
					acc <<= 1
					n--
				}
			}
		}
		for ; k < len(b); k++ {
			if c := b[k]; c != 0 {
				if n == 0 {
					acc, n = br.refill(acc, n)
				}
				b[k] = refineBit(c, acc, al)
				acc <<= 1
				n--
			}
		}
		d.eobrun--
	}
	br.acc, br.n = acc, n
	return nil
}

// refineBit applies the correction bit at the top of acc to the non-zero
// coefficient c of a refinement scan at bit position al: if the bit is set
// and c does not have bit al yet, c moves one step of 1<<al away from zero.
func refineBit(c int16, acc uint64, al uint) int16 {
	sgn := c >> 15                         // 0 or -1
	add := int16(acc>>63) &^ (c >> al) & 1 // 1 to refine
	return c + (add<<al ^ sgn - sgn)       // ±add<<al
}
