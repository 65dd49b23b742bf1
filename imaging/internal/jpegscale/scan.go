package jpegscale

// parseSOS parses a scan header.
func (d *decoder) parseSOS(p []byte) (scanHeader, error) {
	var s scanHeader
	if len(p) < 1 {
		return s, FormatError("bad SOS length")
	}
	s.n = int(p[0])
	if s.n < 1 || s.n > d.nComp || len(p) != 4+2*s.n {
		return s, FormatError("bad SOS length")
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
			return s, FormatError("unknown component selector")
		}
		for j := 0; j < i; j++ {
			if s.comps[j].ci == ci {
				return s, FormatError("repeated component selector")
			}
		}
		totalHV += d.comp[ci].h * d.comp[ci].v
		s.comps[i] = scanComp{ci: ci, td: int(p[2+2*i] >> 4), ta: int(p[2+2*i] & 15)}
		if s.comps[i].td > 3 || s.comps[i].ta > 3 {
			return s, FormatError("bad Huffman table selector")
		}
	}
	if s.n > 1 && totalHV > 10 {
		return s, FormatError("total sampling factors too large")
	}
	s.ss, s.se = int(p[1+2*s.n]), int(p[2+2*s.n])
	s.ah, s.al = int(p[3+2*s.n]>>4), int(p[3+2*s.n]&15)
	if d.progressive {
		if (s.ss == 0 && s.se != 0) || s.ss > s.se || s.se > 63 {
			return s, FormatError("bad spectral selection bounds")
		}
		if s.ss != 0 && s.n != 1 {
			return s, FormatError("progressive AC scan with several components")
		}
		if (s.ah != 0 && s.ah != s.al+1) || s.al > 13 {
			return s, FormatError("bad successive approximation values")
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
	p := d.sosStart // the current scan is the first in the list
	for p+4 <= len(d.data) && d.data[p] == 0xFF {
		m := d.data[p+1]
		n := int(d.data[p+2])<<8 | int(d.data[p+3])
		if n < 2 || p+2+n > len(d.data) {
			break
		}
		if m == eoi {
			break
		}
		if m == sos {
			s, err := d.parseSOS(d.data[p+4 : p+2+n])
			if err != nil {
				break
			}
			scans = append(scans, s)
			p = skipEntropy(d.data, p+2+n)
			continue
		}
		p += 2 + n
		for p+1 < len(d.data) && d.data[p] == 0xFF && d.data[p+1] == 0xFF {
			p++
		}
	}
	return scans
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
		return FormatError("missing quantization table")
	}
	q := &d.quant[c.tq]
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
		return FormatError("missing SOF marker")
	}
	s, err := d.parseSOS(p)
	if err != nil {
		return err
	}
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
		if d.arith {
			continue
		}
		if s.ss == 0 && s.ah == 0 && !d.dcTab[s.comps[i].td].defined {
			return FormatError("missing DC Huffman table")
		}
		if s.se > 0 && !d.acTab[s.comps[i].ta].defined {
			return FormatError("missing AC Huffman table")
		}
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
)

func (d *decoder) decodeScan(s *scanHeader) error {
	if d.arith {
		return d.arithScan(s)
	}
	var mode scanMode
	switch {
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
			return FormatError("unexpected refinement scan")
		}
	}
	for i := 0; i < s.n; i++ {
		d.comp[s.comps[i].ci].pred = 0
	}
	d.eobrun = 0
	d.br.reset(d.data, d.pos)

	var mcuW, mcuH int
	if s.n == 1 {
		c := &d.comp[s.comps[0].ci]
		mcuW, mcuH = c.cbw, c.cbh
	} else {
		mcuW, mcuH = d.mxx, d.myy
	}
	keep := keepFor(d.denom)
	nextRST := 0
	mcu := 0
	total := mcuW * mcuH
	for my := 0; my < mcuH; my++ {
		for mx := 0; mx < mcuW; mx++ {
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
			mcu++
			if d.ri > 0 && mcu%d.ri == 0 && mcu < total {
				if err := d.restart(&nextRST, s); err != nil {
					return err
				}
			}
		}
		if d.br.overrun() {
			return FormatError("truncated or corrupt scan data")
		}
	}
	d.pos = d.br.pos
	return nil
}

// restart consumes the expected RSTn marker and resets the decoder state.
func (d *decoder) restart(next *int, s *scanHeader) error {
	if d.br.overrun() {
		return FormatError("truncated or corrupt scan data")
	}
	p := skipEntropyRST(d.data, d.br.pos)
	if p+1 >= len(d.data) || d.data[p+1] != byte(rst0+*next) {
		return FormatError("bad RST marker")
	}
	*next = (*next + 1) & 7
	d.br.reset(d.data, p+2)
	for i := 0; i < s.n; i++ {
		d.comp[s.comps[i].ci].pred = 0
	}
	d.eobrun = 0
	return nil
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
		return 0, FormatError("bad DC coefficient size")
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
		return FormatError("bad DC coefficient size")
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
// Coefficients beyond len(b) are decoded but not stored.
func (d *decoder) acFirst(h *huffTable, s *scanHeader, b []int16) error {
	if d.eobrun > 0 {
		d.eobrun--
		return nil
	}
	br := &d.br
	acc, n := br.acc, br.n
	nb, al := len(b), uint(s.al)
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
func (d *decoder) acRefine(h *huffTable, s *scanHeader, b []int16) error {
	br := &d.br
	acc, n := br.acc, br.n
	p1 := int16(1) << uint(s.al)
	m1 := int16(-1) << uint(s.al)
	k, se := s.ss, s.se
	b = b[:se+1]
	if d.eobrun == 0 {
		for ; k <= se; k++ {
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
					return FormatError("bad refinement coefficient size")
				}
				if int64(acc) < 0 {
					v = p1
				} else {
					v = m1
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
			for ; k <= se; k++ {
				if c := b[k]; c != 0 {
					if n == 0 {
						acc, n = br.refill(acc, n)
					}
					if int64(acc) < 0 && c&p1 == 0 {
						if c >= 0 {
							b[k] = c + p1
						} else {
							b[k] = c + m1
						}
					}
					acc <<= 1
					n--
				} else {
					if r == 0 {
						break
					}
					r--
				}
			}
			if v != 0 && k <= se {
				b[k] = v
			}
		}
	}
	if d.eobrun > 0 {
		for ; k <= se; k++ {
			if c := b[k]; c != 0 {
				if n == 0 {
					acc, n = br.refill(acc, n)
				}
				if int64(acc) < 0 && c&p1 == 0 {
					if c >= 0 {
						b[k] = c + p1
					} else {
						b[k] = c + m1
					}
				}
				acc <<= 1
				n--
			}
		}
		d.eobrun--
	}
	br.acc, br.n = acc, n
	return nil
}
