package imaging

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
)

// BMP compression values (biCompression).
const (
	bmpRGB       = 0
	bmpRLE8      = 1
	bmpRLE4      = 2
	bmpBitfields = 3
	bmpJPEG      = 4
	bmpPNG       = 5
	bmpAlphaBF   = 6
)

// bmpHeader is what the file and info headers of a BMP say, read without
// golang.org/x/image/bmp: that package refuses RLE, and its refusals do not
// say why, so the probe reads the header itself.
type bmpHeader struct {
	offset        uint32 // bfOffBits: where the pixel data starts
	infoLen       uint32 // the size of the info header: 12, 40, 52, 56, 64, 108, 124
	width, height int
	topDown       bool
	planes        int
	bitCount      int
	compression   uint32
	clrUsed       uint32
	masks         [4]uint32 // R, G, B, A bit fields, where the header has them
}

// rle reports whether the pixels are RLE8 or RLE4 coded, with the bit
// count each requires.
func (h bmpHeader) rle() bool {
	return h.compression == bmpRLE8 && h.bitCount == 8 || h.compression == bmpRLE4 && h.bitCount == 4
}

// parseBMPHeader reads the file header and the info header. It refuses
// what no valid BMP has (a short file, no width or height); dimensions
// over maxPixels are left to Plan's pixel limit.
func parseBMPHeader(b []byte) (bmpHeader, error) {
	var h bmpHeader
	if len(b) < 18 || string(b[:2]) != "BM" {
		return h, errors.New("bmp: the file header is cut short")
	}
	h.offset = binary.LittleEndian.Uint32(b[10:])
	h.infoLen = binary.LittleEndian.Uint32(b[14:])
	if h.infoLen == 12 {
		// BITMAPCOREHEADER (OS/2 1.x, Windows 2): 16-bit dimensions.
		if len(b) < 26 {
			return h, errors.New("bmp: the info header is cut short")
		}
		h.width, h.height = int(binary.LittleEndian.Uint16(b[18:])), int(binary.LittleEndian.Uint16(b[20:]))
		h.planes, h.bitCount = int(binary.LittleEndian.Uint16(b[22:])), int(binary.LittleEndian.Uint16(b[24:]))
		return h, nil
	}
	if h.infoLen < 40 || h.infoLen > 1<<16 {
		return h, fmt.Errorf("bmp: info header of %d bytes", h.infoLen)
	}
	if len(b) < 54 {
		return h, errors.New("bmp: the info header is cut short")
	}
	w, ht := int32(binary.LittleEndian.Uint32(b[18:])), int32(binary.LittleEndian.Uint32(b[22:]))
	if ht < 0 {
		h.topDown = true
		ht = -ht // -2^31 stays negative and is refused below
	}
	if w <= 0 || ht <= 0 {
		return h, fmt.Errorf("bmp: dimensions %d×%d", w, ht)
	}
	h.width, h.height = int(w), int(ht)
	h.planes, h.bitCount = int(binary.LittleEndian.Uint16(b[26:])), int(binary.LittleEndian.Uint16(b[28:]))
	h.compression = binary.LittleEndian.Uint32(b[30:])
	h.clrUsed = binary.LittleEndian.Uint32(b[46:])
	n := 0
	switch {
	case h.infoLen >= 56:
		n = 4
	case h.infoLen >= 52:
		n = 3
	case h.compression == bmpBitfields || h.compression == bmpAlphaBF:
		// BITMAPINFOHEADER: the masks follow the header.
		n = 3
		if h.compression == bmpAlphaBF {
			n = 4
		}
	}
	for i := range n {
		if o := 54 + 4*i; o+4 <= len(b) {
			h.masks[i] = binary.LittleEndian.Uint32(b[o:])
		}
	}
	return h, nil
}

// feature says which feature of a BMP that golang.org/x/image/bmp refuses
// the file uses; nil when the refusal is not for a feature (the header
// contradicts itself: the file is corrupt).
func (h bmpHeader) feature() *FeatureError {
	switch {
	case h.infoLen == 12:
		return unsupportedFeature(convertBMP, "the BMP has an OS/2 1.x header (BITMAPCOREHEADER)")
	case h.infoLen == 64:
		return unsupportedFeature(convertBMP, "the BMP has an OS/2 2.x header")
	case h.infoLen == 52 || h.infoLen == 56:
		return unsupportedFeature(convertBMP, "the BMP has a BITMAPV%dINFOHEADER", h.infoLen/4-11)
	case h.infoLen != 40 && h.infoLen != 108 && h.infoLen != 124:
		return nil
	case h.planes != 1:
		return nil
	case h.compression == bmpJPEG:
		return unsupportedFeature(convertBMP, "the BMP embeds JPEG data (BI_JPEG)")
	case h.compression == bmpPNG:
		return unsupportedFeature(convertBMP, "the BMP embeds PNG data (BI_PNG)")
	case h.compression == bmpRLE8 || h.compression == bmpRLE4:
		// RLE with the other bit count: the header contradicts itself.
		return nil
	case h.compression == bmpBitfields || h.compression == bmpAlphaBF:
		return unsupportedFeature(convertBMP, "the BMP uses %d-bit pixels with bit-field masks (R %#x, G %#x, B %#x, A %#x)",
			h.bitCount, h.masks[0], h.masks[1], h.masks[2], h.masks[3])
	case h.compression != bmpRGB:
		return unsupportedFeature(convertBMP, "the BMP uses compression %d", h.compression)
	case h.bitCount == 16 || h.bitCount == 2 || h.bitCount == 64:
		return unsupportedFeature(convertBMP, "the BMP uses %d-bit pixels", h.bitCount)
	case h.bitCount <= 8 && h.clrUsed <= 1<<h.bitCount && h.offset > 14+h.infoLen+4*h.colours():
		return unsupportedFeature(convertBMP, "the BMP has a gap of %d bytes between its palette and its pixels",
			h.offset-(14+h.infoLen+4*h.colours()))
	case h.bitCount > 8 && h.offset > 14+h.infoLen:
		return unsupportedFeature(convertBMP, "the BMP has a gap of %d bytes between its header and its pixels", h.offset-(14+h.infoLen))
	}
	return nil
}

// refusal is why golang.org/x/image/bmp refused a file whose header
// parsed with error herr: herr itself, or the feature the file uses (nil
// when it has dimensions /v1/info can give), or the contradiction in its
// header that makes it corrupt.
func (h bmpHeader) refusal(herr error) error {
	if herr != nil {
		return herr
	}
	if fe := h.feature(); fe != nil {
		if h.width <= 0 || h.height <= 0 {
			return fe
		}
		return nil
	}
	return fmt.Errorf("bmp: the header contradicts itself (%d bits a pixel, compression %d, %d planes, %d colours, pixels at byte %d)",
		h.bitCount, h.compression, h.planes, h.clrUsed, h.offset)
}

// colours is the number of palette entries the header declares.
func (h bmpHeader) colours() uint32 {
	if h.clrUsed == 0 && h.bitCount <= 8 {
		return 1 << h.bitCount
	}
	return h.clrUsed
}

// bmpRLEInfo is what the probe says of an RLE BMP: an NRGBA image (pixels a
// delta or an early end of line skips are transparent).
func bmpRLEInfo(h bmpHeader) Info {
	return Info{Width: h.width, Height: h.height, Orientation: 1, Frames: 1, hdr: header{bpp: 4, alpha: true}}
}

// decodeBMPRLE decodes an RLE8 or RLE4 BMP into an NRGBA image.
//
// The pixel data is a sequence of byte pairs: a count and a colour (a run
// of count pixels; in RLE4 the two nibbles of the colour alternate), or an
// escape: 0,0 ends the line, 0,1 ends the bitmap, 0,2,dx,dy moves right
// dx pixels and up (down, for a top-down file) dy lines, and 0,n with n ≥ 3
// is an absolute run of n pixels, its bytes padded to a 16-bit word.
//
// Pixels the data never sets — skipped by a delta, or by an end of line or
// of bitmap before the row or the image is complete — are transparent
// (0,0,0,0): Windows draws such a bitmap leaving them untouched, so the
// background shows through, as browsers do. Runs past the right edge are
// cut at it; a palette index beyond the palette is black; data that ends
// with rows still to come is an error (a truncated file).
func decodeBMPRLE(b []byte, h bmpHeader) (image.Image, error) {
	if !h.rle() {
		return nil, fmt.Errorf("bmp: compression %d with %d bits a pixel", h.compression, h.bitCount)
	}
	if h.width > maxOwnSide || h.height > maxOwnSide || int64(h.width)*int64(h.height) > maxOwnPixels {
		return nil, fmt.Errorf("bmp: %d×%d is over the decoder's limit", h.width, h.height)
	}
	palStart := int64(14) + int64(h.infoLen)
	if h.infoLen == 40 && h.compression == bmpBitfields {
		palStart += 12
	}
	n := int64(h.colours())
	if n > 1<<h.bitCount {
		return nil, fmt.Errorf("bmp: %d palette entries for %d-bit pixels", n, h.bitCount)
	}
	if palStart+4*n > int64(h.offset) {
		// Some writers leave clrUsed 0 and write fewer entries: take
		// those that fit before the pixels.
		n = max(int64(h.offset)-palStart, 0) / 4
	}
	if int64(h.offset) > int64(len(b)) || palStart+4*n > int64(len(b)) {
		return nil, errors.New("bmp: the palette or the pixel data is past the end of the file")
	}
	var pal [256]color.NRGBA // indices beyond the palette stay opaque black
	for i := range pal {
		pal[i].A = 0xFF
	}
	for i := range n {
		p := b[palStart+4*i:]
		pal[i] = color.NRGBA{R: p[2], G: p[1], B: p[0], A: 0xFF}
	}
	data := b[h.offset:]

	w, ht := h.width, h.height
	img := image.NewNRGBA(image.Rect(0, 0, w, ht))
	x, y := 0, 0 // y counts rows in file order: from the bottom unless top-down
	put := func(idx byte) {
		if x < w {
			row := ht - 1 - y
			if h.topDown {
				row = y
			}
			c := pal[idx]
			o := row*img.Stride + 4*x
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = c.R, c.G, c.B, c.A
		}
		x++
	}
	rle4 := h.compression == bmpRLE4
	i := 0
	for y < ht {
		if i+2 > len(data) {
			return nil, fmt.Errorf("bmp: the RLE data ends at row %d of %d", y, ht)
		}
		count, val := int(data[i]), data[i+1]
		i += 2
		if count > 0 {
			// An encoded run; nothing past the right edge is drawn.
			count = min(count, max(w-x, 0))
			for k := range count {
				if rle4 {
					put(val >> (4 * (1 - k&1)) & 0xF)
				} else {
					put(val)
				}
			}
			continue
		}
		switch val {
		case 0: // end of line
			x, y = 0, y+1
		case 1: // end of bitmap
			return img, nil
		case 2: // delta
			if i+2 > len(data) {
				return nil, fmt.Errorf("bmp: the RLE data ends in a delta at row %d of %d", y, ht)
			}
			x, y = x+int(data[i]), y+int(data[i+1])
			i += 2
		default: // absolute run of val pixels, padded to a 16-bit word
			nb := int(val)
			if rle4 {
				nb = (nb + 1) / 2
			}
			if i+nb > len(data) {
				return nil, fmt.Errorf("bmp: the RLE data ends in an absolute run at row %d of %d", y, ht)
			}
			for k := range int(val) {
				if x >= w {
					break
				}
				if rle4 {
					put(data[i+k/2] >> (4 * (1 - k&1)) & 0xF)
				} else {
					put(data[i+k])
				}
			}
			i += nb + nb&1
		}
	}
	return img, nil // every row is done: a missing end of bitmap is no loss
}

// The bound of the package's own decoders (RLE BMP, tiffextra.go), whatever
// their caller checked: BMP's int32 dimensions could otherwise ask for an
// exabyte.
const (
	maxOwnSide   = 1 << 20
	maxOwnPixels = 1 << 30
)
