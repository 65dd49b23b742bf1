package imaging

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math"
	"strconv"
	"sync"

	"golang.org/x/image/tiff"
	"golang.org/x/image/tiff/lzw"
)

// The TIFF reader of this file takes the two kinds of valid TIFF that
// golang.org/x/image/tiff refuses and people still send: JPEG-compressed
// TIFF (Compression 7, strips or tiles, with or without JPEGTables; grey,
// RGB or YCbCr) and 8-bit CIELab (PhotometricInterpretation 8). It reads
// the first IFD itself, and leaves every other TIFF to the library.

// TIFF tags and values the reader uses.
const (
	tagImageWidth      = 256
	tagImageLength     = 257
	tagBitsPerSample   = 258
	tagCompression     = 259
	tagPhotometric     = 262
	tagStripOffsets    = 273
	tagSamplesPerPixel = 277
	tagRowsPerStrip    = 278
	tagStripByteCounts = 279
	tagPlanarConfig    = 284
	tagPredictor       = 317
	tagWhitePoint      = 318
	tagTileWidth       = 322
	tagTileLength      = 323
	tagTileOffsets     = 324
	tagTileByteCounts  = 325
	tagExtraSamples    = 338
	tagSampleFormat    = 339
	tagJPEGTables      = 347

	tiffNone     = 1
	tiffLZW      = 5
	tiffOldJPEG  = 6
	tiffJPEG     = 7
	tiffDeflate  = 8
	tiffPackBits = 32773
	tiffDeflate2 = 32946

	photoWhiteIsZero = 0
	photoBlackIsZero = 1
	photoRGB         = 2
	photoPalette     = 3
	photoCMYK        = 5
	photoYCbCr       = 6
	photoCIELab      = 8
)

// tiffEntry is an IFD entry whose values are read from the file when asked
// for, so that a file of a million strips costs no slice of a million.
type tiffEntry struct {
	typ   uint16
	count uint32
	data  []byte // the values, inside the file
}

// tiffIFD is the first IFD of a TIFF.
type tiffIFD struct {
	order       binary.ByteOrder
	width       int
	height      int
	bps         int // the first BitsPerSample
	bpsAll      []int
	spp         int
	compression int
	photometric int
	planar      int
	predictor   int
	sampleFmt   int
	extra       int // ExtraSamples count
	tiled       bool
	blockW      int // strip: the width; tile: TileWidth
	blockH      int // strip: RowsPerStrip (at most the height); tile: TileLength
	offsets     tiffEntry
	counts      tiffEntry
	jpegTables  []byte
	whitePoint  [2]float64 // x, y chromaticity; zero when the tag is absent
}

var tiffTypeSize = [...]int{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}

// value is the i-th value of an integer entry.
func (e tiffEntry) value(order binary.ByteOrder, i int) uint64 {
	if i < 0 || i >= int(e.count) {
		return 0
	}
	switch e.typ {
	case 1, 6, 7:
		return uint64(e.data[i])
	case 3, 8:
		return uint64(order.Uint16(e.data[2*i:]))
	case 4, 9:
		return uint64(order.Uint32(e.data[4*i:]))
	}
	return 0
}

// rational is the i-th value of a RATIONAL entry.
func (e tiffEntry) rational(order binary.ByteOrder, i int) float64 {
	if e.typ != 5 || i >= int(e.count) {
		return 0
	}
	n, d := order.Uint32(e.data[8*i:]), order.Uint32(e.data[8*i+4:])
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// parseTIFFIFD reads the first IFD of a classic TIFF. It allocates only
// what the tags it keeps need (BitsPerSample, a few values), never in
// proportion to the strip count.
func parseTIFFIFD(b []byte) (*tiffIFD, error) {
	if len(b) < 8 {
		return nil, errors.New("tiff: the header is cut short")
	}
	d := &tiffIFD{spp: 1, planar: 1, predictor: 1, sampleFmt: 1, compression: tiffNone}
	switch string(b[:4]) {
	case "II*\x00":
		d.order = binary.LittleEndian
	case "MM\x00*":
		d.order = binary.BigEndian
	default:
		return nil, errors.New("tiff: not a classic TIFF header")
	}
	off := int64(d.order.Uint32(b[4:]))
	if off < 8 || off+2 > int64(len(b)) {
		return nil, errors.New("tiff: the first IFD is past the end of the file")
	}
	n := int64(d.order.Uint16(b[off:]))
	if off+2+12*n > int64(len(b)) {
		return nil, errors.New("tiff: the first IFD is cut short")
	}
	entries := map[uint16]tiffEntry{}
	for i := range n {
		p := b[off+2+12*i:]
		tag, typ, count := d.order.Uint16(p), d.order.Uint16(p[2:]), d.order.Uint32(p[4:])
		if typ == 0 || int(typ) >= len(tiffTypeSize) {
			continue // a type of a later TIFF version: not a tag this reader needs
		}
		size := int64(tiffTypeSize[typ]) * int64(count)
		var data []byte
		if size <= 4 {
			data = p[8 : 8+size]
		} else {
			vo := int64(d.order.Uint32(p[8:]))
			if vo+size > int64(len(b)) {
				return nil, fmt.Errorf("tiff: the values of tag %d are past the end of the file", tag)
			}
			data = b[vo : vo+size]
		}
		entries[tag] = tiffEntry{typ: typ, count: count, data: data}
	}
	one := func(tag uint16, def int) int {
		e, ok := entries[tag]
		if !ok || e.count == 0 {
			return def
		}
		v := e.value(d.order, 0)
		if v > math.MaxInt32 {
			return math.MaxInt32
		}
		return int(v)
	}
	d.width, d.height = one(tagImageWidth, 0), one(tagImageLength, 0)
	d.compression, d.photometric = one(tagCompression, tiffNone), one(tagPhotometric, -1)
	d.spp, d.planar, d.predictor = one(tagSamplesPerPixel, 1), one(tagPlanarConfig, 1), one(tagPredictor, 1)
	d.sampleFmt = one(tagSampleFormat, 1)
	if e, ok := entries[tagBitsPerSample]; ok {
		for i := range min(int(e.count), 8) {
			d.bpsAll = append(d.bpsAll, int(e.value(d.order, i)))
		}
	}
	d.bps = 1
	if len(d.bpsAll) > 0 {
		d.bps = d.bpsAll[0]
	}
	if e, ok := entries[tagExtraSamples]; ok {
		d.extra = int(e.count)
	}
	if e, ok := entries[tagWhitePoint]; ok && e.count >= 2 {
		d.whitePoint = [2]float64{e.rational(d.order, 0), e.rational(d.order, 1)}
	}
	if e, ok := entries[tagJPEGTables]; ok {
		d.jpegTables = e.data
	}
	if d.width <= 0 || d.height <= 0 {
		return nil, fmt.Errorf("tiff: dimensions %d×%d", d.width, d.height)
	}
	if _, ok := entries[tagTileWidth]; ok {
		d.tiled = true
		d.blockW, d.blockH = one(tagTileWidth, 0), one(tagTileLength, 0)
		d.offsets, d.counts = entries[tagTileOffsets], entries[tagTileByteCounts]
	} else {
		d.blockW, d.blockH = d.width, min(one(tagRowsPerStrip, d.height), d.height)
		d.offsets, d.counts = entries[tagStripOffsets], entries[tagStripByteCounts]
	}
	return d, nil
}

// extraPath reports whether the file is one this reader decodes (and
// x/image/tiff refuses): JPEG-compressed grey, RGB or YCbCr, CIELab, or
// CMYK.
func (d *tiffIFD) extraPath() bool {
	if d.compression == tiffJPEG {
		return d.photometric == photoBlackIsZero || d.photometric == photoRGB || d.photometric == photoYCbCr
	}
	return d.photometric == photoCIELab || d.photometric == photoCMYK
}

// photometricNames names the values of PhotometricInterpretation.
var photometricNames = map[int]string{
	0: "WhiteIsZero", 1: "BlackIsZero", 2: "RGB", 3: "palette", 4: "transparency mask", 5: "CMYK",
	6: "YCbCr", 8: "CIELab", 9: "ICCLab", 10: "ITULab", 32803: "colour filter array", 32844: "LogL",
	32845: "LogLuv", 34892: "linear raw",
}

func photometricName(p int) string {
	if p < 0 {
		return "(none given)"
	}
	if s, ok := photometricNames[p]; ok {
		return fmt.Sprintf("%d (%s)", p, s)
	}
	return strconv.Itoa(p)
}

// feature says which feature of the file neither this reader nor
// x/image/tiff decodes; nil when it uses none that the IFD shows.
func (d *tiffIFD) feature() *FeatureError {
	if d.bps == 0 || d.spp == 0 {
		return nil // no TIFF has that: the file is corrupt
	}
	switch d.compression {
	case tiffNone, tiffLZW, tiffDeflate, tiffDeflate2, tiffPackBits:
	case tiffJPEG:
		if !d.extraPath() {
			return unsupportedFeature(convertTIFF, "the TIFF is JPEG-compressed with photometric interpretation %s", photometricName(d.photometric))
		}
		if want := map[int]int{photoBlackIsZero: 1, photoRGB: 3, photoYCbCr: 3}[d.photometric]; d.spp != want {
			return unsupportedFeature(convertTIFF, "the TIFF is JPEG-compressed with %d samples a pixel (photometric interpretation %s)",
				d.spp, photometricName(d.photometric))
		}
	default:
		n := strconv.Itoa(d.compression)
		return unsupportedFeature(convertTIFF, "the TIFF uses compression %s%s", n, tiffCompressionName(n))
	}
	switch {
	case d.sampleFmt == 3:
		return unsupportedFeature(convertTIFF, "the TIFF has floating-point samples")
	case d.sampleFmt == 2:
		return unsupportedFeature(convertTIFF, "the TIFF has signed integer samples")
	case d.planar == 2 && d.spp > 1:
		return unsupportedFeature(convertTIFF, "the TIFF stores each colour channel in its own plane (PlanarConfiguration 2)")
	case d.photometric == photoCIELab && d.spp != 3:
		return unsupportedFeature(convertTIFF, "the TIFF is CIELab with %d samples a pixel (imgsvc decodes L*a*b* without extra channels)", d.spp)
	case d.photometric == photoCIELab && d.bps != 8:
		return unsupportedFeature(convertTIFF, "the TIFF is %d-bit CIELab (imgsvc decodes 8-bit CIELab)", d.bps)
	case d.photometric == photoCMYK && (d.spp != 4 || d.extra > 0):
		return unsupportedFeature(convertTIFF, "the TIFF is CMYK with %d samples a pixel (imgsvc decodes four inks without extra channels)", d.spp)
	case d.photometric == photoCMYK && d.bps != 8:
		return unsupportedFeature(convertTIFF, "the TIFF is %d-bit CMYK (imgsvc decodes 8-bit CMYK)", d.bps)
	case d.photometric == photoYCbCr && d.compression != tiffJPEG:
		return unsupportedFeature(convertTIFF, "the TIFF stores YCbCr samples without JPEG compression")
	case d.photometric > photoYCbCr && d.photometric != photoCIELab || d.photometric == 4:
		return unsupportedFeature(convertTIFF, "the TIFF uses photometric interpretation %s", photometricName(d.photometric))
	case d.bps != 1 && d.bps != 2 && d.bps != 4 && d.bps != 8 && d.bps != 16:
		return unsupportedFeature(convertTIFF, "the TIFF has %d bits per sample", d.bps)
	case d.extra > 1:
		return unsupportedFeature(convertTIFF, "the TIFF has %d extra samples a pixel", d.extra)
	}
	return nil
}

// blocks is the number of strips or tiles the image needs.
func (d *tiffIFD) blocks() (across, down int, err error) {
	if d.blockW <= 0 || d.blockH <= 0 {
		return 0, 0, fmt.Errorf("tiff: strips or tiles of %d×%d", d.blockW, d.blockH)
	}
	across, down = (d.width+d.blockW-1)/d.blockW, (d.height+d.blockH-1)/d.blockH
	if int64(across)*int64(down) > int64(d.offsets.count) || int64(across)*int64(down) > int64(d.counts.count) {
		return 0, 0, fmt.Errorf("tiff: %d strips or tiles needed, the file lists %d", across*down, min(d.offsets.count, d.counts.count))
	}
	return across, down, nil
}

// block is the data of the i-th strip or tile; nil when it lies outside the
// file.
func (d *tiffIFD) block(b []byte, i int) []byte {
	off, n := d.offsets.value(d.order, i), d.counts.value(d.order, i)
	if off > uint64(len(b)) || n > uint64(len(b))-off {
		return nil
	}
	return b[off : off+n]
}

// tiffExtraInfo describes a file extraPath takes: its dimensions, and the
// largest strip or tile it decodes at once, in pixels (for JPEG, the
// largest frame its strips or tiles declare, padded to whole MCUs), which
// is what the decode allocates besides the image.
func tiffExtraInfo(b []byte, d *tiffIFD) (Info, error) {
	if fe := d.feature(); fe != nil {
		return Info{}, fe
	}
	across, down, err := d.blocks()
	if err != nil {
		return Info{}, err
	}
	largest := int64(d.blockW) * int64(d.blockH)
	if d.compression == tiffJPEG {
		largest = 1
		for i := range across * down {
			f, err := d.frame(d.block(b, i))
			if err != nil {
				return Info{}, fmt.Errorf("tiff: %s %d: %w", d.blockName(), i, err)
			}
			largest = max(largest, f.padded)
		}
	}
	return Info{Width: d.width, Height: d.height, Orientation: orientationOf(b), Frames: 1,
		hdr: header{bpp: 4, codedPixels: largest, cmyk: d.photometric == photoCMYK}}, nil
}

func (d *tiffIFD) blockName() string {
	if d.tiled {
		return "tile"
	}
	return "strip"
}

// jpegFrame is what the frame header of a strip's or tile's JPEG says.
type jpegFrame struct {
	w, h   int
	padded int64 // the pixels of the frame padded to whole MCUs
}

// frame reads the frame header of a strip's or tile's JPEG data. It refuses
// the coding processes image/jpeg does not decode, and progressive frames,
// which TIFF's JPEG compression does not use and which would cost the
// decoder five times the memory.
func (d *tiffIFD) frame(data []byte) (jpegFrame, error) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return jpegFrame{}, errors.New("the JPEG data does not start with SOI")
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return jpegFrame{}, errors.New("the JPEG data has no frame header")
		}
		m := data[i+1]
		if m == 0xFF {
			i++
			continue
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		switch {
		case m == 0xC0 || m == 0xC1:
			if n < 8 || i+2+n > len(data) {
				return jpegFrame{}, errors.New("the JPEG frame header is cut short")
			}
			p := data[i+4:]
			if p[0] != 8 {
				return jpegFrame{}, unsupportedFeature(convertTIFF, "the TIFF's JPEG data has %d-bit samples", p[0])
			}
			f := jpegFrame{h: int(binary.BigEndian.Uint16(p[1:])), w: int(binary.BigEndian.Uint16(p[3:]))}
			nc := int(p[5])
			if f.w == 0 || f.h == 0 || nc == 0 || n < 8+3*nc {
				return jpegFrame{}, fmt.Errorf("a JPEG frame of %d×%d with %d components", f.w, f.h, nc)
			}
			hmax, vmax := 1, 1
			for c := range nc {
				s := p[7+3*c]
				hmax, vmax = max(hmax, int(s>>4)), max(vmax, int(s&15))
			}
			mw, mh := 8*hmax, 8*vmax
			f.padded = int64((f.w+mw-1)/mw*mw) * int64((f.h+mh-1)/mh*mh)
			return f, nil
		case m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE:
			return jpegFrame{}, unsupportedFeature(convertTIFF, "the TIFF's JPEG data is progressive")
		case m >= 0xC3 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			return jpegFrame{}, unsupportedFeature(convertTIFF, "the TIFF's JPEG data is lossless, hierarchical or arithmetic-coded")
		case m == 0xDA || m == 0xD9:
			return jpegFrame{}, errors.New("the JPEG data has no frame header")
		}
		i += 2 + n
	}
	return jpegFrame{}, errors.New("the JPEG data has no frame header")
}

// tiffExtraCost is what decodeTIFFExtra allocates: the RGBA image, and the
// strip or tile it works on — a decoded JPEG frame (at most three bytes a
// padded pixel) or the raw Lab samples (three bytes a pixel) — twice over,
// for the frame before it that the collector may not have swept yet.
func tiffExtraCost(in Info) DecodeCost {
	w, h := int64(in.Width), int64(in.Height)
	return DecodeCost{Path: "tiffextra", Peak: w*h*4 + in.hdr.codedPixels*6 + decoderFixed, W: in.Width, H: in.Height, BPP: 4, Boxable: true}
}

// decodeTIFFExtra decodes a file extraPath takes into an RGBA image.
func decodeTIFFExtra(b []byte, d *tiffIFD, in Info) (image.Image, error) {
	if fe := d.feature(); fe != nil {
		return nil, fe
	}
	across, down, err := d.blocks()
	if err != nil {
		return nil, err
	}
	if int64(d.width)*int64(d.height) > maxOwnPixels || d.width > maxOwnSide || d.height > maxOwnSide {
		return nil, fmt.Errorf("tiff: %d×%d is over the decoder's limit", d.width, d.height)
	}
	budget := in.hdr.codedPixels
	if budget <= 0 {
		// Called without a probe's Info (tests): what the probe would say.
		pi, err := tiffExtraInfo(b, d)
		if err != nil {
			return nil, err
		}
		budget = pi.hdr.codedPixels
	}
	if d.photometric == photoCMYK {
		return decodeTIFFCMYK(b, d, across, down)
	}
	out := image.NewRGBA(image.Rect(0, 0, d.width, d.height))
	var lab *labDecoder
	if d.photometric == photoCIELab {
		lab = newLabDecoder(d)
	}
	for i := range across * down {
		x0, y0 := (i%across)*d.blockW, (i/across)*d.blockH
		data := d.block(b, i)
		if data == nil {
			return nil, fmt.Errorf("tiff: %s %d is past the end of the file", d.blockName(), i)
		}
		if lab != nil {
			err = lab.decode(out, data, x0, y0)
		} else {
			err = d.decodeJPEGBlock(out, data, x0, y0, budget)
		}
		if err != nil {
			var fe *FeatureError
			if errors.As(err, &fe) {
				return nil, err
			}
			return nil, fmt.Errorf("tiff: %s %d: %w", d.blockName(), i, err)
		}
	}
	return out, nil
}

// decodeJPEGBlock decodes one strip's or tile's JPEG, with the JPEGTables
// spliced before it, and pastes it at x0, y0.
func (d *tiffIFD) decodeJPEGBlock(out *image.RGBA, data []byte, x0, y0 int, budget int64) error {
	f, err := d.frame(data)
	if err != nil {
		return err
	}
	if f.padded > budget {
		return fmt.Errorf("a JPEG frame of %d×%d, larger than the probe allowed", f.w, f.h)
	}
	var r io.Reader = bytes.NewReader(data)
	if t := d.jpegTables; len(t) >= 4 && t[0] == 0xFF && t[1] == 0xD8 {
		// The tables stream is SOI, tables, EOI: it goes before the
		// strip's own stream, without its EOI and the strip's SOI.
		if t[len(t)-2] == 0xFF && t[len(t)-1] == 0xD9 {
			t = t[:len(t)-2]
		}
		r = io.MultiReader(bytes.NewReader(t), bytes.NewReader(data[2:]))
	}
	img, err := jpeg.Decode(r)
	if err != nil {
		return err
	}
	bw, bh := min(d.blockW, d.width-x0, img.Bounds().Dx()), min(d.blockH, d.height-y0, img.Bounds().Dy())
	switch m := img.(type) {
	case *image.YCbCr:
		raw := d.photometric == photoRGB // RGB samples image/jpeg took for YCbCr (no 'R','G','B' ids)
		if raw && m.SubsampleRatio != image.YCbCrSubsampleRatio444 {
			return unsupportedFeature(convertTIFF, "the TIFF's RGB JPEG data is chroma-subsampled")
		}
		for y := range bh {
			o := out.PixOffset(x0, y0+y)
			for x := range bw {
				yi, ci := m.YOffset(x, y), m.COffset(x, y)
				yy, cb, cr := m.Y[yi], m.Cb[ci], m.Cr[ci]
				if raw {
					out.Pix[o], out.Pix[o+1], out.Pix[o+2] = yy, cb, cr
				} else {
					out.Pix[o], out.Pix[o+1], out.Pix[o+2] = color.YCbCrToRGB(yy, cb, cr)
				}
				out.Pix[o+3] = 0xFF
				o += 4
			}
		}
	case *image.Gray:
		for y := range bh {
			o, s := out.PixOffset(x0, y0+y), m.PixOffset(0, y)
			for x := range bw {
				v := m.Pix[s+x]
				out.Pix[o], out.Pix[o+1], out.Pix[o+2], out.Pix[o+3] = v, v, v, 0xFF
				o += 4
			}
		}
	case *image.RGBA:
		for y := range bh {
			copy(out.Pix[out.PixOffset(x0, y0+y):][:4*bw], m.Pix[m.PixOffset(0, y):])
		}
	default:
		return unsupportedFeature(convertTIFF, "the TIFF's JPEG data has a colour model imgsvc does not paste (%T)", img)
	}
	return nil
}

// labDecoder turns 8-bit CIELab strips or tiles into sRGB: L* a* b*
// relative to the file's white point (WhitePoint, D50 when the tag is
// absent, as libtiff assumes) → XYZ → Bradford adaptation to D65 → linear
// sRGB → the sRGB transfer curve.
type labDecoder struct {
	d   *tiffIFD
	buf []byte     // one block of raw samples, reused
	m   [9]float64 // XYZ (relative to the white) → linear sRGB, adaptation included
	wx  float64    // the white's X and Z (Y = 1)
	wz  float64
}

func newLabDecoder(d *tiffIFD) *labDecoder {
	l := &labDecoder{d: d}
	wx, wy := 0.3457, 0.3585 // D50
	if p := d.whitePoint; p[0] > 0 && p[1] > 0 && p[0]+p[1] < 1 {
		wx, wy = p[0], p[1]
	}
	l.wx, l.wz = wx/wy, (1-wx-wy)/wy
	a := bradford(l.wx, l.wz, 0.95047, 1.08883)
	l.m = mul3(srgbFromXYZ, a)
	return l
}

// srgbFromXYZ is the XYZ (D65) → linear sRGB matrix of IEC 61966-2-1.
var srgbFromXYZ = [9]float64{
	3.2404542, -1.5371385, -0.4985314,
	-0.9692660, 1.8760108, 0.0415560,
	0.0556434, -0.2040259, 1.0572252,
}

// bradford is the Bradford chromatic adaptation from white (sx, 1, sz) to
// white (dx, 1, dz).
func bradford(sx, sz, dx, dz float64) [9]float64 {
	b := [9]float64{0.8951, 0.2664, -0.1614, -0.7502, 1.7135, 0.0367, 0.0389, -0.0685, 1.0296}
	bi := [9]float64{0.9869929, -0.1470543, 0.1599627, 0.4323053, 0.5183603, 0.0492912, -0.0085287, 0.0400428, 0.9684867}
	cone := func(x, z float64) [3]float64 {
		return [3]float64{b[0]*x + b[1] + b[2]*z, b[3]*x + b[4] + b[5]*z, b[6]*x + b[7] + b[8]*z}
	}
	s, d := cone(sx, sz), cone(dx, dz)
	diag := [9]float64{d[0] / s[0], 0, 0, 0, d[1] / s[1], 0, 0, 0, d[2] / s[2]}
	return mul3(bi, mul3(diag, b))
}

func mul3(a, b [9]float64) [9]float64 {
	var c [9]float64
	for i := range 3 {
		for j := range 3 {
			c[3*i+j] = a[3*i]*b[j] + a[3*i+1]*b[3+j] + a[3*i+2]*b[6+j]
		}
	}
	return c
}

// srgbEncode maps linear light (0–1, in 1/4095 steps) to 8-bit sRGB.
var srgbEncode = sync.OnceValue(func() *[4096]uint8 {
	var t [4096]uint8
	for i := range t {
		v := float64(i) / 4095
		if v <= 0.0031308 {
			v *= 12.92
		} else {
			v = 1.055*math.Pow(v, 1/2.4) - 0.055
		}
		t[i] = uint8(math.Round(v * 255))
	}
	return &t
})

// decode inflates one strip or tile of Lab samples and pastes it at x0, y0.
func (l *labDecoder) decode(out *image.RGBA, data []byte, x0, y0 int) error {
	d := l.d
	rowBytes := 3 * d.blockW
	bh := min(d.blockH, d.height-y0) // the rows pasted
	raw, err := d.samples(data, &l.buf, 3, y0)
	if err != nil {
		return err
	}
	enc := srgbEncode()
	bw := min(d.blockW, d.width-x0)
	for y := range bh {
		src := raw[y*rowBytes:]
		o := out.PixOffset(x0, y0+y)
		for x := range bw {
			r, g, b := l.toSRGB(src[3*x], int8(src[3*x+1]), int8(src[3*x+2]))
			out.Pix[o], out.Pix[o+1], out.Pix[o+2], out.Pix[o+3] = enc[r], enc[g], enc[b], 0xFF
			o += 4
		}
	}
	return nil
}

// samples inflates one strip or tile of 8-bit samples, n a pixel, whose
// top row is y0, undoing the horizontal predictor; buf is reused between
// blocks. It returns the block's rows, at least as many as the image has
// left.
func (d *tiffIFD) samples(data []byte, buf *[]byte, n, y0 int) ([]byte, error) {
	rowBytes := n * d.blockW
	rows := d.blockH // the rows the data holds: a tile is whole,
	if !d.tiled {
		rows = min(d.blockH, d.height-y0) // the last strip may be short
	}
	need := rowBytes * rows
	raw := data
	if d.compression != tiffNone || d.predictor == 2 {
		if cap(*buf) < rowBytes*d.blockH {
			*buf = make([]byte, rowBytes*d.blockH)
		}
		buf := (*buf)[:need]
		var err error
		switch d.compression {
		case tiffNone:
			if len(data) < need {
				return nil, errors.New("not enough pixel data")
			}
			copy(buf, data)
		case tiffLZW:
			err = readFull(lzw.NewReader(bytes.NewReader(data), lzw.MSB, 8), buf)
		case tiffDeflate, tiffDeflate2:
			var zr io.ReadCloser
			if zr, err = zlib.NewReader(bytes.NewReader(data)); err == nil {
				err = readFull(zr, buf)
			}
		case tiffPackBits:
			err = unpackBits(buf, data)
		}
		if err != nil {
			return nil, err
		}
		if d.predictor == 2 {
			for y := range rows {
				row := buf[y*rowBytes : (y+1)*rowBytes]
				for i := n; i < len(row); i++ {
					row[i] += row[i-n]
				}
			}
		}
		raw = buf
	}
	if len(raw) < need {
		return nil, errors.New("not enough pixel data")
	}
	return raw, nil
}

// decodeTIFFCMYK decodes 8-bit CMYK strips or tiles into an image.CMYK,
// which the colour stage turns into sRGB with the file's profile, or the
// generic press profile.
func decodeTIFFCMYK(b []byte, d *tiffIFD, across, down int) (image.Image, error) {
	out := image.NewCMYK(image.Rect(0, 0, d.width, d.height))
	var buf []byte
	for i := range across * down {
		x0, y0 := (i%across)*d.blockW, (i/across)*d.blockH
		data := d.block(b, i)
		if data == nil {
			return nil, fmt.Errorf("tiff: %s %d is past the end of the file", d.blockName(), i)
		}
		raw, err := d.samples(data, &buf, 4, y0)
		if err != nil {
			return nil, fmt.Errorf("tiff: %s %d: %w", d.blockName(), i, err)
		}
		bw, bh := min(d.blockW, d.width-x0), min(d.blockH, d.height-y0)
		for y := range bh {
			copy(out.Pix[out.PixOffset(x0, y0+y):][:4*bw], raw[y*4*d.blockW:])
		}
	}
	return out, nil
}

// toSRGB converts one 8-bit CIELab sample (L* scaled to 0–255, a* and b*
// signed) to indices of srgbEncode.
func (l *labDecoder) toSRGB(lv uint8, av, bv int8) (r, g, b int) {
	const eps, kappa = 216.0 / 24389, 24389.0 / 27
	L := float64(lv) * 100 / 255
	fy := (L + 16) / 116
	fx, fz := fy+float64(av)/500, fy-float64(bv)/200
	inv := func(t float64) float64 {
		if t3 := t * t * t; t3 > eps {
			return t3
		}
		return (116*t - 16) / kappa
	}
	Y := L / kappa
	if L > kappa*eps {
		Y = fy * fy * fy
	}
	X, Z := l.wx*inv(fx), l.wz*inv(fz)
	m := &l.m
	q := func(v float64) int { return int(math.Round(min(max(v, 0), 1) * 4095)) }
	return q(m[0]*X + m[1]*Y + m[2]*Z), q(m[3]*X + m[4]*Y + m[5]*Z), q(m[6]*X + m[7]*Y + m[8]*Z)
}

// readFull fills buf from r; a stream that ends early is an error.
func readFull(r io.Reader, buf []byte) error {
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return errors.New("not enough pixel data")
		}
		return err
	}
	return nil
}

// unpackBits decodes PackBits data into dst, which it must fill.
func unpackBits(dst, src []byte) error {
	o := 0
	for i := 0; o < len(dst); {
		if i >= len(src) {
			return errors.New("not enough pixel data")
		}
		n := int(int8(src[i]))
		i++
		switch {
		case n >= 0:
			n++
			if i+n > len(src) {
				return errors.New("not enough pixel data")
			}
			o += copy(dst[o:], src[i:i+n])
			i += n
		case n != -128:
			if i >= len(src) {
				return errors.New("not enough pixel data")
			}
			for range 1 - n {
				if o < len(dst) {
					dst[o] = src[i]
					o++
				}
			}
			i++
		}
	}
	return nil
}

// tiffConfig reads a TIFF's header for the probe: files this reader decodes
// from its own IFD parse, the rest with x/image/tiff. Where that package
// refuses a file for a feature, the IFD still gives its dimensions (for
// /v1/info); decodeTIFF then refuses it, naming the feature.
func tiffConfig(b []byte) (image.Config, header, error) {
	d, derr := parseTIFFIFD(b)
	if derr == nil && d.extraPath() {
		in, err := tiffExtraInfo(b, d)
		if err != nil {
			var fe *FeatureError
			if errors.As(err, &fe) {
				// The frames use a feature: the header is still readable.
				return image.Config{Width: d.width, Height: d.height}, header{bpp: 4}, nil
			}
			return image.Config{}, header{}, err
		}
		return image.Config{Width: in.Width, Height: in.Height, ColorModel: color.RGBAModel}, in.hdr, nil
	}
	cfg, err := tiff.DecodeConfig(bytes.NewReader(b))
	if err == nil {
		return cfg, headerOf(cfg), nil
	}
	var ue tiff.UnsupportedError
	if errors.As(err, &ue) && derr == nil {
		return image.Config{Width: d.width, Height: d.height}, header{bpp: 4}, nil
	}
	return image.Config{}, header{}, err
}

// decodeTIFF decodes with decodeTIFFExtra the files it takes, and the rest
// with x/image/tiff, naming the feature of a file that package refuses.
func decodeTIFF(b []byte, in Info, _ Scale, _ int) (image.Image, error) {
	d, derr := parseTIFFIFD(b)
	if derr == nil && d.extraPath() {
		return decodeTIFFExtra(b, d, in)
	}
	img, err := tiff.Decode(bytes.NewReader(b))
	var ue tiff.UnsupportedError
	if errors.As(err, &ue) && derr == nil {
		if fe := d.feature(); fe != nil {
			return nil, fe
		}
	}
	return img, err
}
