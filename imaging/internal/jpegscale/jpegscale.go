// Package jpegscale decodes JPEG images directly at 1/1, 1/2, 1/4 or 1/8
// scale, working in the DCT domain the way libjpeg's scale_denom does.
//
// At 1/8 only the DC coefficient of each block is used, so for progressive
// JPEGs the AC scans are skipped without being Huffman-decoded. At 1/4 and
// 1/2 only the top-left 2×2 or 4×4 coefficients feed a reduced inverse DCT,
// and progressive scans that cannot affect them are skipped as well.
//
// The reduced transforms are derived from the 8-point DCT basis so that the
// output approximates a box-filtered downsample of the full decode: averaging
// n adjacent samples of the 8-point IDCT multiplies frequency u by
// Π cos(2^k·u·π/16) and folds the result onto an (8/n)-point grid; the
// frequencies that fold onto others (aliasing) are dropped.
//
// Supported: 8-bit baseline, extended sequential (SOF1, including 16-bit
// quantisation tables) and progressive Huffman-coded JPEGs, and their
// arithmetic-coded counterparts (SOF9, SOF10; see arith.go); grayscale,
// YCbCr with 4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1 or 4:1:0 sampling, and
// 4-component Adobe CMYK/YCCK (as image/jpeg: 0x11 or 0x22 luma/black
// sampling); restart intervals, non-interleaved scans, spectral selection and
// successive approximation. The result types follow image/jpeg: *image.Gray,
// *image.YCbCr or *image.CMYK.
//
// Errors wrapping ErrUnsupported are returned for 12-bit, lossless and
// hierarchical JPEGs, DNL-defined heights, RGB-coded 3-component
// images, 2-component images, 4-component images without an Adobe segment and
// sampling layouts image/jpeg cannot represent.
package jpegscale

import (
	"bytes"
	"errors"
	"fmt"
	"image"
)

// ErrUnsupported is wrapped by errors returned for valid JPEGs that this
// package does not handle; callers should fall back to image/jpeg.
var ErrUnsupported = errors.New("jpegscale: unsupported JPEG")

func unsupported(what string) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, what)
}

// maxPixels bounds the image size accepted, whatever the caller checked.
const maxPixels = 1 << 28

const (
	sof0  = 0xC0 // baseline
	sof1  = 0xC1 // extended sequential, Huffman
	sof2  = 0xC2 // progressive, Huffman
	sof9  = 0xC9 // extended sequential, arithmetic
	sof10 = 0xCA // progressive, arithmetic
	dht   = 0xC4
	dac   = 0xCC
	rst0  = 0xD0
	rst7  = 0xD7
	soi   = 0xD8
	eoi   = 0xD9
	sos   = 0xDA
	dqt   = 0xDB
	dnl   = 0xDC
	dri   = 0xDD
	app0  = 0xE0
	app14 = 0xEE
	app15 = 0xEF
	com   = 0xFE
)

// zigzag[k] is the natural-order index of the k-th zig-zag coefficient.
var zigzag = [64 + 16]uint8{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
	// Extra entries so that corrupt runs past 63 stay in bounds.
	63, 63, 63, 63, 63, 63, 63, 63,
	63, 63, 63, 63, 63, 63, 63, 63,
}

// keepFor returns how many leading zig-zag coefficients are needed at 1/denom
// scale: the smallest prefix that covers the top-left (8/denom)² square.
func keepFor(denom int) int {
	switch denom {
	case 8:
		return 1
	case 4:
		return 5
	case 2:
		return 25
	}
	return 64
}

type component struct {
	id   byte
	h, v int
	tq   byte

	bw, bh int // blocks per row and rows of blocks, MCU-padded
	cbw    int // blocks per row actually covering the image
	cbh    int // rows of blocks actually covering the image

	pix    []byte // output plane (MCU-padded, at the output scale)
	stride int

	// Progressive state.
	coef    []int16 // bw*bh blocks of ncoef zig-zag coefficients
	ncoef   int
	qs      [64]int32 // scaled dequantisation table, zig-zag order
	qsValid bool
	pred    int32 // DC predictor
	scanned bool  // a sequential scan of the component began

	rq requant // Coefficients: the requantisation from the table latched at the first scan
}

type scanComp struct {
	ci     int
	td, ta int
}

type scanHeader struct {
	n              int
	comps          [4]scanComp
	ss, se, ah, al int
}

type decoder struct {
	data  []byte
	pos   int
	denom int
	bs    int // output block size: 8/denom

	width, height int
	nComp         int
	comp          [4]component
	hmax, vmax    int
	mxx, myy      int
	progressive   bool
	arith         bool // arithmetic-coded (SOF9, SOF10)
	sofSeen       bool
	setup         bool

	quant   [4][64]int32 // zig-zag order
	qDef    [4]bool
	dcTab   [4]huffTable
	acTab   [4]huffTable
	ri      int
	jfif    bool
	adobe   bool
	adobeTr byte
	eobrun  int

	// Progressive scan plan: plan[i] tells whether the i-th scan is decoded.
	plan     []bool
	scanIdx  int
	sosStart int  // offset of the current SOS marker
	probe    bool // stop at the first SOS: Probe reads the header only
	segStart int  // offset of the current marker, for FormatError
	scanNo   int  // scans begun (SOS headers read)
	firstSOS int  // offset of the first SOS marker
	extra    int  // bytes left unused at the end of the last scan's data

	opts         Options
	report       Report
	moreWarnings int

	// Coefficients: keep the quantised coefficients, no pixels, and
	// requantise them to these tables.
	coefOnly   bool
	coefTarget func(int) *[64]uint16
	// coefPos[k] is where the k-th zig-zag coefficient goes in a block
	// of Coefficients' output: zigzag (natural order) or inOrder.
	coefPos *[64 + 16]uint8

	br  bitReader
	ar  arithDecoder
	blk [64]int32
	ws  [64]int32

	// procs above 1 decodes a progressive file's scans in parallel
	// (parallel.go); scans holds them while they run.
	procs int
	scans *scanPool
}

// Decode decodes a JPEG at 1/denom scale; denom is 1, 2, 4 or 8. The result's
// bounds are ceil(w/denom) × ceil(h/denom). It returns an error wrapping
// ErrUnsupported for valid JPEGs it does not handle, so the caller can fall
// back to image/jpeg. Truncated data yields a *TruncatedError, other
// corrupt data that cannot be worked around a *FormatError. Decode is
// DecodeWith with zero Options, without the Report.
func Decode(data []byte, denom int) (image.Image, error) {
	img, _, err := DecodeWith(data, denom, Options{})
	return img, err
}

// Header is what a JPEG's markers say up to its first scan.
type Header struct {
	Width, Height int
	Components    int
	Progressive   bool
	// Err is nil when Decode handles the image. Otherwise it is the error
	// Decode would return: one wrapping ErrUnsupported for a valid JPEG this
	// package does not decode, a *FormatError for a broken header, a
	// *TruncatedError (Scan 0) when the data ends before the first scan.
	Err error

	blocks [4][2]int // per component: blocks per row and rows of blocks, MCU-padded
	mcuW   int       // the MCU's width and height in pixels (see Orientable)
	mcuH   int
	// ncoef[k][i] is how many coefficients a progressive decode at 1/2^k
	// keeps per block of component i (refinement scans may need more than
	// the scale shows).
	ncoef [4][4]int
}

// Probe reads a JPEG's markers up to its first scan, without decoding.
func Probe(data []byte) Header {
	d := &decoder{data: data, denom: 1, bs: 8, probe: true}
	_, err := d.decode()
	h := Header{Width: d.width, Height: d.height, Components: d.nComp, Progressive: d.progressive, Err: err}
	for i := range min(d.nComp, 4) {
		h.blocks[i] = [2]int{d.comp[i].bw, d.comp[i].bh}
	}
	h.mcuW, h.mcuH = 8*d.hmax, 8*d.vmax
	if err == nil && d.progressive {
		scans := d.scanHeaders() // one walk over the entropy-coded data for all four scales
		if h.Err = d.checkScans(len(scans)); h.Err != nil {
			return h
		}
		for k, denom := range []int{1, 2, 4, 8} {
			d.denom = denom
			d.planScans(scans)
			for i := range min(d.nComp, 4) {
				h.ncoef[k][i] = d.comp[i].ncoef
			}
		}
	}
	return h
}

// Cost is an upper bound of the bytes Decode(data, denom) allocates for an
// image with this header: the output planes at the scale, the coefficients a
// progressive image keeps across scans, and the CMYK conversion.
func (h Header) Cost(denom int) int64 {
	bs := int64(8 / denom)
	k := map[int]int{1: 0, 2: 1, 4: 2, 8: 3}[denom]
	var n int64
	for i, b := range h.blocks[:min(h.Components, 4)] {
		blocks := int64(b[0]) * int64(b[1])
		n += blocks * bs * bs
		if h.Progressive {
			n += blocks * int64(h.ncoef[k][i]) * 2
		}
	}
	if h.Components == 4 {
		w, hh := (int64(h.Width)+int64(denom)-1)/int64(denom), (int64(h.Height)+int64(denom)-1)/int64(denom)
		n += w * hh * 4
	}
	const fixed = 64 << 10 // the decoder, its tables and the scan plan
	return n + fixed + h.scanJobsCost()
}

// Samples is the number of samples of all components, MCU padding
// included: the bytes of the planes of a full-size 8-bit decode.
func (h Header) Samples() int64 {
	var n int64
	for _, b := range h.blocks[:min(h.Components, 4)] {
		n += int64(b[0]) * int64(b[1]) * 64
	}
	return n
}

// headerSize returns the dimensions from the frame header.
func headerSize(data []byte) (w, h int, ok bool) {
	d := &decoder{data: data, denom: 1, bs: 8}
	if len(data) < 2 || data[0] != 0xFF || data[1] != soi {
		return 0, 0, false
	}
	d.pos = 2
	for {
		m, err := d.nextMarker()
		if err != nil {
			return 0, 0, false
		}
		switch {
		case m >= 0xC0 && m <= 0xCF && m != dht && m != dac && m != 0xC8:
			if d.pos+7 > len(data) {
				return 0, 0, false
			}
			return int(data[d.pos+5])<<8 | int(data[d.pos+6]), int(data[d.pos+3])<<8 | int(data[d.pos+4]), true
		case m == sos || m == eoi:
			return 0, 0, false
		}
		n, err := d.segLen()
		if err != nil {
			return 0, 0, false
		}
		d.pos += n
	}
}

// nextMarker skips to the next marker and returns its code, with d.pos just
// past the marker. Stray bytes before a marker are skipped with a warning,
// as libjpeg does; 0xFF fill bytes and restart markers outside a scan are
// ignored. It returns errEOD if the data ends first.
func (d *decoder) nextMarker() (byte, error) {
	skipped := d.extra
	d.extra = 0
	for {
		if d.pos >= len(d.data) {
			return 0, errEOD
		}
		if d.data[d.pos] != 0xFF {
			i := bytes.IndexByte(d.data[d.pos:], 0xFF)
			if i < 0 {
				d.pos = len(d.data)
				return 0, errEOD
			}
			d.pos += i
			skipped += i
		}
		// Skip fill bytes.
		for d.pos+1 < len(d.data) && d.data[d.pos+1] == 0xFF {
			d.pos++
		}
		if d.pos+1 >= len(d.data) {
			return 0, errEOD
		}
		m := d.data[d.pos+1]
		d.pos += 2
		if m == 0 {
			// A stuffed byte outside a scan: junk.
			skipped += 2
			continue
		}
		if m >= rst0 && m <= rst7 {
			// A stray restart marker outside a scan: ignore.
			continue
		}
		if skipped > 0 {
			d.warn("%d extraneous bytes before marker 0x%02X", skipped, m)
		}
		return m, nil
	}
}

// segLen reads a segment length at d.pos and returns the payload length,
// advancing d.pos past the length field. A segment running past the end of
// the data yields errEOD.
func (d *decoder) segLen() (int, error) {
	if d.pos+2 > len(d.data) {
		return 0, errEOD
	}
	n := int(d.data[d.pos])<<8 | int(d.data[d.pos+1])
	if n < 2 {
		return 0, d.fail("bad segment length")
	}
	d.pos += 2
	n -= 2
	if d.pos+n > len(d.data) {
		return 0, errEOD
	}
	return n, nil
}

// skipEntropy returns the index of the 0xFF of the first marker at or after p
// that can end an entropy-coded segment (not a stuffed byte nor RSTn),
// without decoding anything. It returns len(data) if there is none.
func skipEntropy(data []byte, p int) int {
	for p < len(data) {
		i := bytes.IndexByte(data[p:], 0xFF)
		if i < 0 {
			return len(data)
		}
		p += i
		for p+1 < len(data) && data[p+1] == 0xFF {
			p++
		}
		if p+1 >= len(data) {
			return len(data)
		}
		m := data[p+1]
		if m == 0 || (m >= rst0 && m <= rst7) {
			p += 2
			continue
		}
		return p
	}
	return len(data)
}

func (d *decoder) decode() (image.Image, error) {
	img, err := d.decodeSegments()
	if d.scans != nil && !d.scans.wait() {
		// A scan decoded in parallel met damage or stray bytes: decode
		// again on one goroutine, which reports them in file order.
		*d = decoder{data: d.data, denom: d.denom, bs: d.bs, opts: d.opts,
			coefOnly: d.coefOnly, coefTarget: d.coefTarget, coefPos: d.coefPos}
		return d.decodeSegments()
	}
	return img, err
}

// settle waits for the scans decoded in parallel, if any, and reports
// whether they were all clean; if not, decode starts again and what the
// caller was about to do is moot.
func (d *decoder) settle() bool {
	return d.scans == nil || d.scans.wait()
}

// decodeSegments reads the file segment by segment, decoding the scans.
func (d *decoder) decodeSegments() (image.Image, error) {
	if len(d.data) < 2 || d.data[0] != 0xFF || d.data[1] != soi {
		if len(d.data) < 2 && (len(d.data) == 0 || d.data[0] == 0xFF) {
			return nil, &TruncatedError{Offset: len(d.data)}
		}
		return nil, d.fail("missing SOI marker")
	}
	d.pos = 2
	for {
		m, err := d.nextMarker()
		if err == errEOD {
			if d.scanNo == 0 || d.probe {
				return d.truncated(&TruncatedError{Offset: len(d.data)})
			}
			if !d.progressive {
				if _, covered := d.countScans(); !covered {
					return d.truncated(&TruncatedError{Offset: len(d.data), Scan: d.scanNo + 1})
				}
			}
			// The scans so far are complete: libjpeg accepts a
			// missing EOI with a warning.
			d.warn("no EOI marker at the end of the data")
			break
		}
		if err != nil {
			return nil, err
		}
		d.sosStart = d.pos - 2
		d.segStart = d.sosStart
		if m == eoi {
			break
		}
		n, err := d.segLen()
		if err == errEOD {
			if d.scanNo == 0 || d.probe {
				return d.truncated(&TruncatedError{Offset: len(d.data)})
			}
			return d.truncated(&TruncatedError{Offset: len(d.data), Scan: d.scanNo + 1})
		}
		if err != nil {
			return nil, err
		}
		seg := d.data[d.pos : d.pos+n]
		switch {
		case m == sof0 || m == sof1 || m == sof2 || m == sof9 || m == sof10:
			if d.sofSeen {
				return nil, d.fail("multiple SOF markers")
			}
			d.progressive = m == sof2 || m == sof10
			d.arith = m == sof9 || m == sof10
			if err := d.processSOF(seg); err != nil {
				return nil, err
			}
		case m == 0xC3 || (m >= 0xC5 && m <= 0xC7) || m == 0xCB || (m >= 0xCD && m <= 0xCF):
			return nil, unsupported("lossless, hierarchical or arithmetic-coded JPEG") // SOF11: lossless arithmetic
		case m == dac:
			if err := d.processDAC(seg); err != nil {
				return nil, err
			}
		case m == dht:
			if err := d.processDHT(seg); err != nil {
				return nil, err
			}
		case m == dqt:
			if err := d.processDQT(seg); err != nil {
				return nil, err
			}
		case m == dri:
			if n != 2 {
				return nil, d.fail("bad DRI length")
			}
			d.ri = int(seg[0])<<8 | int(seg[1])
		case m == dnl:
			return nil, unsupported("DNL marker")
		case m == app0:
			if n >= 5 && string(seg[:5]) == "JFIF\x00" {
				d.jfif = true
			}
		case m == app14:
			if n >= 12 && string(seg[:5]) == "Adobe" {
				d.adobe = true
				d.adobeTr = seg[11]
			}
		case m == sos && d.probe:
			if !d.sofSeen {
				return nil, d.fail("missing SOF marker")
			}
			return nil, d.checkLayout()
		case m == sos:
			d.pos += n
			if err := d.processSOS(seg); err != nil {
				var te *TruncatedError
				if errors.As(err, &te) {
					return d.truncated(te)
				}
				return nil, err
			}
			continue
		case (m >= app0 && m <= app15) || m == com:
			// Ignored.
		case m >= 0xF0 && m <= 0xFD, m == 0xDE, m == 0xDF:
			// JPG extensions, DHP and EXP (hierarchical).
			return nil, unsupported(fmt.Sprintf("marker 0x%02x", m))
		default:
			return nil, d.fail(fmt.Sprintf("unknown marker 0x%02x", m))
		}
		d.pos += n
	}
	if !d.settle() {
		return nil, nil
	}
	if !d.setup {
		d.segStart = min(d.pos, len(d.data))
		return nil, d.fail("no image data")
	}
	if d.coefOnly {
		return nil, nil
	}
	if d.progressive {
		d.reconstructProgressive()
	}
	return d.result(), nil
}

func (d *decoder) processSOF(p []byte) error {
	d.sofSeen = true
	if len(p) < 6 {
		return d.fail("bad SOF length")
	}
	if p[0] != 8 {
		return unsupported(fmt.Sprintf("%d-bit precision", p[0]))
	}
	d.height = int(p[1])<<8 | int(p[2])
	d.width = int(p[3])<<8 | int(p[4])
	d.nComp = int(p[5])
	if len(p) != 6+3*d.nComp {
		return d.fail("bad SOF length")
	}
	if d.height == 0 {
		return unsupported("DNL-defined height")
	}
	if d.width == 0 {
		return d.fail("zero width")
	}
	if d.width*d.height > maxPixels {
		return d.fail("image too large")
	}
	switch d.nComp {
	case 1, 3, 4:
	default:
		return unsupported(fmt.Sprintf("%d components", d.nComp))
	}
	for i := 0; i < d.nComp; i++ {
		c := &d.comp[i]
		c.id = p[6+3*i]
		for j := 0; j < i; j++ {
			if d.comp[j].id == c.id {
				return d.fail("repeated component identifier")
			}
		}
		hv := p[7+3*i]
		c.h, c.v = int(hv>>4), int(hv&15)
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return d.fail("bad sampling factors")
		}
		c.tq = p[8+3*i]
		if c.tq > 3 {
			return d.fail("bad Tq value")
		}
	}
	// Only the layouts image/jpeg can represent are handled.
	switch d.nComp {
	case 1:
		// A single component is non-interleaved; its sampling factors
		// do not matter (section A.2).
		d.comp[0].h, d.comp[0].v = 1, 1
	case 3:
		c0, c1, c2 := &d.comp[0], &d.comp[1], &d.comp[2]
		if c0.h == 3 || c0.v > 2 || c0.v == 3 || c1.h != c2.h || c1.v != c2.v ||
			c0.h%c1.h != 0 || c0.v%c1.v != 0 {
			return unsupported("chroma subsampling")
		}
		switch (c0.h/c1.h)<<4 | c0.v/c1.v {
		case 0x11, 0x12, 0x21, 0x22, 0x41, 0x42:
		default:
			return unsupported("chroma subsampling")
		}
	case 4:
		hv0 := d.comp[0].h<<4 | d.comp[0].v
		if (hv0 != 0x11 && hv0 != 0x22) ||
			d.comp[1].h != 1 || d.comp[1].v != 1 || d.comp[2].h != 1 || d.comp[2].v != 1 ||
			d.comp[3].h != d.comp[0].h || d.comp[3].v != d.comp[0].v {
			return unsupported("4-component sampling")
		}
	}
	d.hmax, d.vmax = 1, 1
	for i := 0; i < d.nComp; i++ {
		d.hmax = max(d.hmax, d.comp[i].h)
		d.vmax = max(d.vmax, d.comp[i].v)
	}
	d.mxx = (d.width + 8*d.hmax - 1) / (8 * d.hmax)
	d.myy = (d.height + 8*d.vmax - 1) / (8 * d.vmax)
	total := 0
	for i := 0; i < d.nComp; i++ {
		c := &d.comp[i]
		c.bw = d.mxx * c.h
		c.bh = d.myy * c.v
		cw := (d.width*c.h + d.hmax - 1) / d.hmax
		ch := (d.height*c.v + d.vmax - 1) / d.vmax
		c.cbw = (cw + 7) / 8
		c.cbh = (ch + 7) / 8
		total += c.cbw * c.cbh
	}
	// Every block costs at least one bit of Huffman-coded data, so an image
	// with more blocks than the input has bits is truncated or corrupt. This
	// bounds the work and memory spent on garbage. An arithmetic coder
	// spends as little as 1/32768 bit on a decision, so there is no such
	// bound for it: a large flat image can take a few bytes.
	if !d.arith && total > 8*len(d.data) {
		return d.fail("image dimensions exceed data size")
	}
	return nil
}

func (d *decoder) processDQT(p []byte) error {
	for len(p) > 0 {
		pq, tq := p[0]>>4, p[0]&15
		p = p[1:]
		if tq > 3 {
			return d.fail("bad Tq value")
		}
		switch pq {
		case 0:
			if len(p) < 64 {
				return d.fail("bad DQT length")
			}
			for i := range 64 {
				d.quant[tq][i] = int32(p[i])
			}
			p = p[64:]
		case 1:
			if len(p) < 128 {
				return d.fail("bad DQT length")
			}
			for i := range 64 {
				d.quant[tq][i] = int32(p[2*i])<<8 | int32(p[2*i+1])
			}
			p = p[128:]
		default:
			return d.fail("bad Pq value")
		}
		d.qDef[tq] = true
	}
	return nil
}

func (d *decoder) processDHT(p []byte) error {
	for len(p) > 0 {
		if len(p) < 17 {
			return d.fail("bad DHT length")
		}
		tc, th := p[0]>>4, p[0]&15
		if tc > 1 || th > 3 {
			return d.fail("bad DHT class or index")
		}
		var counts [16]byte
		copy(counts[:], p[1:17])
		total := 0
		for _, c := range counts {
			total += int(c)
		}
		if total == 0 || total > 256 {
			return d.fail("bad Huffman table size")
		}
		p = p[17:]
		if len(p) < total {
			return d.fail("bad DHT length")
		}
		t := &d.dcTab[th]
		if tc == 1 {
			t = &d.acTab[th]
		}
		if err := t.build(&counts, p[:total]); err != nil {
			return d.fail(err.Error())
		}
		p = p[total:]
	}
	return nil
}

// isRGB mirrors image/jpeg's detection of RGB-coded 3-component images.
func (d *decoder) isRGB() bool {
	if d.jfif {
		return false
	}
	if d.adobe && d.adobeTr == 0 {
		return true
	}
	return d.comp[0].id == 'R' && d.comp[1].id == 'G' && d.comp[2].id == 'B'
}

// checkLayout refuses colour models Decode does not produce.
func (d *decoder) checkLayout() error {
	if d.coefOnly {
		if err := d.checkCoefLayout(); err != nil {
			return err
		}
	}
	switch d.nComp {
	case 3:
		if d.isRGB() {
			return unsupported("RGB colour model")
		}
	case 4:
		if !d.adobe {
			return unsupported("4-component JPEG without Adobe marker")
		}
	}
	return nil
}

// setupImage allocates the output planes and, for progressive images, the
// coefficient buffers. It runs at the first SOS marker.
func (d *decoder) setupImage() error {
	if err := d.checkLayout(); err != nil {
		return err
	}
	bs := d.bs
	for i := 0; i < d.nComp && !d.coefOnly; i++ {
		c := &d.comp[i]
		c.stride = c.bw * bs
		c.pix = make([]byte, c.stride*c.bh*bs)
	}
	if d.coefOnly && !d.progressive {
		for i := 0; i < d.nComp; i++ {
			c := &d.comp[i]
			c.ncoef = 64
			c.coef = make([]int16, c.bw*c.bh*64)
		}
	}
	if d.progressive {
		d.makePlan()
		if err := d.checkScans(len(d.plan)); err != nil {
			return err
		}
		for i := 0; i < d.nComp; i++ {
			c := &d.comp[i]
			c.coef = make([]int16, c.bw*c.bh*c.ncoef)
		}
	}
	d.setup = true
	return nil
}

// result wraps the decoded planes in an image of the right type.
func (d *decoder) result() image.Image {
	w := (d.width + d.denom - 1) / d.denom
	h := (d.height + d.denom - 1) / d.denom
	r := image.Rect(0, 0, w, h)
	c0 := &d.comp[0]
	switch d.nComp {
	case 1:
		m := &image.Gray{Pix: c0.pix, Stride: c0.stride, Rect: image.Rect(0, 0, c0.stride, len(c0.pix)/c0.stride)}
		return m.SubImage(r)
	case 3:
		m := &image.YCbCr{
			Y: c0.pix, Cb: d.comp[1].pix, Cr: d.comp[2].pix,
			YStride: c0.stride, CStride: d.comp[1].stride,
			SubsampleRatio: d.ratio(),
			Rect:           image.Rect(0, 0, c0.stride, len(c0.pix)/c0.stride),
		}
		return m.SubImage(r)
	}
	return d.toCMYK(r)
}

func (d *decoder) ratio() image.YCbCrSubsampleRatio {
	c0, c1 := &d.comp[0], &d.comp[1]
	switch (c0.h/c1.h)<<4 | c0.v/c1.v {
	case 0x12:
		return image.YCbCrSubsampleRatio440
	case 0x21:
		return image.YCbCrSubsampleRatio422
	case 0x22:
		return image.YCbCrSubsampleRatio420
	case 0x41:
		return image.YCbCrSubsampleRatio411
	case 0x42:
		return image.YCbCrSubsampleRatio410
	}
	return image.YCbCrSubsampleRatio444
}
