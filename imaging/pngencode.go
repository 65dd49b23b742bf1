package imaging

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"

	"github.com/klauspost/compress/zlib"
)

// pngLevel is the zlib level of the PNG encoder. On the corpus' photos
// resized to 300 and 1280 px, klauspost/compress's level 5 writes files
// from 3 % smaller to 5 % larger than image/png's (compress/flate at its
// default, 6) in a fifth to a tenth of the time: compress/flate's long
// match searches are slow and fruitless on a photograph's noise.
const pngLevel = 5

// encodePNG writes an 8-bit PNG of an NRGBA, RGBA, Gray or YCbCr image: grey
// for Gray, RGB when every pixel is opaque, else RGBA (non-premultiplied).
// Each row gets the filter whose output has the smallest sum of absolute
// values, the heuristic of libpng and image/png, and the rows are
// compressed with klauspost/compress's zlib, whose match search is much
// faster than compress/flate's on photographs. Other images (paletted,
// 16-bit, CMYK) go to image/png.
func encodePNG(w *bytes.Buffer, img image.Image) error {
	b := img.Bounds()
	width, height := b.Dx(), b.Dy()
	var (
		ctype byte
		bpp   int
		row   func(y int, buf []byte) []byte
	)
	switch m := img.(type) {
	case *image.Gray:
		ctype, bpp = 0, 1
		row = func(y int, _ []byte) []byte { return m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:width] }
	case *image.NRGBA:
		if m.Opaque() {
			ctype, bpp = 2, 3
			row = func(y int, buf []byte) []byte {
				return rgbOf(buf, m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*width])
			}
		} else {
			ctype, bpp = 6, 4
			row = func(y int, _ []byte) []byte { return m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*width] }
		}
	case *image.RGBA:
		if !m.Opaque() {
			return encodePNGStd(w, img)
		}
		ctype, bpp = 2, 3
		row = func(y int, buf []byte) []byte {
			return rgbOf(buf, m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*width])
		}
	case *image.YCbCr:
		rows, ok := newNRGBARows(m)
		if !ok {
			return encodePNGStd(w, img)
		}
		ctype, bpp = 2, 3
		nrgba := make([]byte, 4*width)
		row = func(y int, buf []byte) []byte { return rgbOf(buf, rows.read(y, nrgba)) }
	default:
		return encodePNGStd(w, img)
	}
	if width == 0 || height == 0 {
		return encodePNGStd(w, img)
	}

	w.WriteString("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(height))
	ihdr[8], ihdr[9] = 8, ctype // bit depth, colour type; compression, filter and interlace 0
	writePNGChunk(w, "IHDR", ihdr[:])

	idat := &pngIDAT{w: w}
	zw, err := zlib.NewWriterLevel(idat, pngLevel)
	if err != nil {
		return err
	}
	n := bpp * width
	prev := make([]byte, n) // the row above the first is zeros
	buf := make([]byte, n)
	cand := make([]byte, 5*(n+1))
	for y := range height {
		cur := row(y, buf)
		if _, err := zw.Write(filterPNGRow(cand, cur, prev, bpp)); err != nil {
			return err
		}
		if &cur[0] == &buf[0] {
			// buf holds this row now: the next is read into the old prev.
			buf, prev = prev, buf
		} else {
			prev = cur
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	idat.flush()
	writePNGChunk(w, "IEND", nil)
	return nil
}

// encodePNGStd writes img with image/png.
func encodePNGStd(w *bytes.Buffer, img image.Image) error {
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	return enc.Encode(w, img)
}

// rgbOf packs an opaque row of 4-byte pixels into 3-byte ones in dst.
func rgbOf(dst, src []byte) []byte {
	dst = dst[:len(src)/4*3]
	for i, j := 0, 0; j+2 < len(dst); i, j = i+4, j+3 {
		s := src[i : i+3 : i+3]
		dst[j], dst[j+1], dst[j+2] = s[0], s[1], s[2]
	}
	return dst
}

// filterPNGRow filters cur (the row above being prev) with each of PNG's
// five filters into cand and returns the one, filter type byte first, whose
// bytes, read as signed, have the smallest sum of magnitudes.
func filterPNGRow(cand, cur, prev []byte, bpp int) []byte {
	n := len(cur)
	prev = prev[:n]
	var best []byte
	bestSum := -1
	for f := range 5 {
		out := cand[f*(n+1) : (f+1)*(n+1)]
		out[0] = byte(f)
		d := out[1:]
		d = d[:n]
		switch f {
		case 0:
			copy(d, cur)
		case 1: // Sub
			copy(d[:bpp], cur[:bpp])
			for i := bpp; i < n; i++ {
				d[i] = cur[i] - cur[i-bpp]
			}
		case 2: // Up
			for i := range d {
				d[i] = cur[i] - prev[i]
			}
		case 3: // Average
			for i := range bpp {
				d[i] = cur[i] - prev[i]/2
			}
			for i := bpp; i < n; i++ {
				d[i] = cur[i] - byte((int(cur[i-bpp])+int(prev[i]))/2)
			}
		case 4: // Paeth
			for i := range bpp {
				d[i] = cur[i] - prev[i]
			}
			for i := bpp; i < n; i++ {
				d[i] = cur[i] - paethPredict(cur[i-bpp], prev[i], prev[i-bpp])
			}
		}
		sum := 0
		for _, v := range d {
			sum += int(absSigned[v])
			if bestSum >= 0 && sum >= bestSum {
				break
			}
		}
		if bestSum < 0 || sum < bestSum {
			best, bestSum = out, sum
		}
	}
	return best
}

// absSigned is |int8(v)| for each byte v.
var absSigned = func() (t [256]uint8) {
	for v := range 256 {
		s := int(int8(v))
		if s < 0 {
			s = -s
		}
		t[v] = uint8(s)
	}
	return t
}()

// paethPredict is PNG's Paeth predictor of a pixel from the ones to its left
// (a), above (b) and above-left (c).
func paethPredict(a, b, c byte) byte {
	// The distances of p = a + b - c from a, b and c.
	pa, pb := int(b)-int(c), int(a)-int(c)
	pc := pa + pb
	if pa < 0 {
		pa = -pa
	}
	if pb < 0 {
		pb = -pb
	}
	if pc < 0 {
		pc = -pc
	}
	if pa <= pb && pa <= pc {
		return a
	}
	if pb <= pc {
		return b
	}
	return c
}

// writePNGChunk writes a chunk to w (see appendPNGChunk).
func writePNGChunk(w *bytes.Buffer, typ string, data []byte) {
	w.Grow(12 + len(data))
	w.Write(appendPNGChunk(w.AvailableBuffer(), typ, data))
}

// appendPNGChunk appends a chunk to dst: length, type, data, and the CRC of
// type and data.
func appendPNGChunk(dst []byte, typ string, data []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(data)))
	start := len(dst)
	dst = append(dst, typ...)
	dst = append(dst, data...)
	return binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
}

// pngIDAT collects the zlib stream and writes it as IDAT chunks of up to
// 256 KB.
type pngIDAT struct {
	w   *bytes.Buffer
	buf []byte
}

const pngIDATSize = 256 << 10

func (d *pngIDAT) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), pngIDATSize-len(d.buf))
		d.buf = append(d.buf, p[:k]...)
		p = p[k:]
		if len(d.buf) == pngIDATSize {
			d.flush()
		}
	}
	return n, nil
}

func (d *pngIDAT) flush() {
	if len(d.buf) > 0 {
		writePNGChunk(d.w, "IDAT", d.buf)
		d.buf = d.buf[:0]
	}
}
