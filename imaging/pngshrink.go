package imaging

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"io"

	"github.com/klauspost/compress/flate"
)

// errPNGKind is returned by decodePNGShrunk for PNGs it leaves to image/png.
var errPNGKind = errors.New("png: kind not handled by the shrinking decoder")

// decodePNGShrunk decodes a non-interlaced 8-bit PNG (grey, grey+alpha,
// RGB, RGBA or palette) and averages kx×ky boxes of pixels as the rows are
// inflated, as boxShrink does, so the full-size image is never held: the
// working set is two rows and a row of sums. Chunk CRCs are checked; the
// zlib Adler-32 is not (image/png checks it; inflate errors still surface).
// It returns errPNGKind for other PNGs and on any error, for the caller to
// fall back to image/png.
func decodePNGShrunk(b []byte, kx, ky int) (*image.NRGBA, error) {
	const sig = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(b, []byte(sig)) {
		return nil, errPNGKind
	}
	c := pngChunks{b: b[len(sig):]}
	typ, ihdr, err := c.next()
	if err != nil || typ != "IHDR" || len(ihdr) != 13 {
		return nil, errPNGKind
	}
	w, h := int(binary.BigEndian.Uint32(ihdr)), int(binary.BigEndian.Uint32(ihdr[4:]))
	depth, ctype, interlace := ihdr[8], ihdr[9], ihdr[12]
	var bpp int
	switch ctype {
	case 0, 3:
		bpp = 1
	case 4:
		bpp = 2
	case 2:
		bpp = 3
	case 6:
		bpp = 4
	}
	if depth != 8 || bpp == 0 || interlace != 0 || w <= 0 || h <= 0 || int64(w)*int64(h) > 1<<30 {
		return nil, errPNGKind
	}
	// Walk to the first IDAT, reading the palette and transparency on the way.
	var pal [256][4]uint8 // NRGBA; indices past the palette are opaque black
	for i := range pal {
		pal[i][3] = 255
	}
	for {
		typ, data, err := c.next()
		if err != nil {
			return nil, errPNGKind
		}
		switch typ {
		case "PLTE":
			for i := 0; i+2 < len(data) && i/3 < 256; i += 3 {
				copy(pal[i/3][:3], data[i:i+3])
			}
		case "tRNS":
			if ctype != 3 {
				return nil, errPNGKind // a colour key: left to image/png
			}
			for i, a := range data[:min(len(data), 256)] {
				pal[i][3] = a
			}
		case "IDAT":
			c.pending = data
		}
		if typ == "IDAT" {
			break
		}
	}
	if len(c.pending) < 2 || (c.pending[0]&0x0f) != 8 || (uint16(c.pending[0])<<8|uint16(c.pending[1]))%31 != 0 || c.pending[1]&0x20 != 0 {
		return nil, errPNGKind
	}
	c.pending = c.pending[2:] // the zlib header; the stream is raw deflate after it
	zr := flate.NewReader(&c)
	defer zr.Close()

	ow, oh := ceilDiv(w, kx), ceilDiv(h, ky)
	dst := image.NewNRGBA(image.Rect(0, 0, ow, oh))
	stride := w * bpp
	cur, prev := make([]byte, 1+stride), make([]byte, 1+stride)
	rgba := make([]byte, w*4) // the row as NRGBA, for the non-RGBA types
	acc := make([]uint32, ow*4)
	for y := range h {
		if _, err := io.ReadFull(zr, cur); err != nil {
			return nil, errPNGKind
		}
		if !unfilter(cur[0], cur[1:], prev[1:], bpp) {
			return nil, errPNGKind
		}
		row := cur[1:]
		switch ctype {
		case 6:
			accumulateNRGBA(acc, row, kx)
		case 2:
			accumulateRGB(acc, row, kx)
		default:
			for x := range w {
				d := rgba[x*4 : x*4+4 : x*4+4]
				switch ctype {
				case 0:
					d[0], d[1], d[2], d[3] = row[x], row[x], row[x], 255
				case 4:
					d[0], d[1], d[2], d[3] = row[2*x], row[2*x], row[2*x], row[2*x+1]
				case 3:
					p := pal[row[x]]
					d[0], d[1], d[2], d[3] = p[0], p[1], p[2], p[3]
				}
			}
			accumulateNRGBA(acc, rgba, kx)
		}
		if (y+1)%ky == 0 || y == h-1 {
			oy := y / ky
			putPremultiplied(dst.Pix[oy*dst.Stride:], acc, ow, kx, w, y-oy*ky+1, 1)
			clear(acc)
		}
		cur, prev = prev, cur
	}
	return dst, nil
}

// accumulateNRGBA adds a row of NRGBA pixels, weighted by alpha, into the
// box sums of its kx-wide columns.
func accumulateNRGBA(acc []uint32, row []byte, kx int) {
	for ox := 0; ox*kx*4 < len(row); ox++ {
		s := row[ox*kx*4 : min((ox+1)*kx*4, len(row))]
		var r, g, b, a uint32
		for i := 0; i+3 < len(s); i += 4 {
			pa := uint32(s[i+3])
			r += uint32(s[i]) * pa
			g += uint32(s[i+1]) * pa
			b += uint32(s[i+2]) * pa
			a += pa
		}
		d := acc[ox*4 : ox*4+4 : ox*4+4]
		d[0] += r
		d[1] += g
		d[2] += b
		d[3] += a
	}
}

// accumulateRGB adds a row of opaque RGB pixels into the box sums, in the
// same units as accumulateNRGBA.
func accumulateRGB(acc []uint32, row []byte, kx int) {
	for ox := 0; ox*kx*3 < len(row); ox++ {
		s := row[ox*kx*3 : min((ox+1)*kx*3, len(row))]
		var r, g, b uint32
		for i := 0; i+2 < len(s); i += 3 {
			r += uint32(s[i])
			g += uint32(s[i+1])
			b += uint32(s[i+2])
		}
		d := acc[ox*4 : ox*4+4 : ox*4+4]
		d[0] += r * 255
		d[1] += g * 255
		d[2] += b * 255
		d[3] += uint32(len(s)/3) * 255
	}
}

// unfilter reverses a PNG row filter in place; prev is the previous row
// after unfiltering (zeros before the first).
func unfilter(f byte, cur, prev []byte, bpp int) bool {
	switch f {
	case 0:
	case 1:
		for i := bpp; i < len(cur); i++ {
			cur[i] += cur[i-bpp]
		}
	case 2:
		for i, p := range prev[:len(cur)] {
			cur[i] += p
		}
	case 3:
		for i := range bpp {
			cur[i] += prev[i] / 2
		}
		for i := bpp; i < len(cur); i++ {
			cur[i] += uint8((int(cur[i-bpp]) + int(prev[i])) / 2)
		}
	case 4:
		for i := range bpp {
			cur[i] += prev[i] // paeth(0, up, 0) is up
		}
		for i := bpp; i < len(cur); i++ {
			a, b, c := int(cur[i-bpp]), int(prev[i]), int(prev[i-bpp])
			p := a + b - c
			pa, pb, pc := absInt(p-a), absInt(p-b), absInt(p-c)
			switch {
			case pa <= pb && pa <= pc:
				cur[i] += uint8(a)
			case pb <= pc:
				cur[i] += uint8(b)
			default:
				cur[i] += uint8(c)
			}
		}
	default:
		return false
	}
	return true
}

func absInt(x int) int {
	m := x >> 63
	return (x ^ m) - m
}

// pngChunks walks the chunks of a PNG after its signature, and reads the
// data of consecutive IDAT chunks as one stream.
type pngChunks struct {
	b       []byte
	pending []byte // unread IDAT data
}

func (c *pngChunks) next() (string, []byte, error) {
	if len(c.b) < 12 {
		return "", nil, io.ErrUnexpectedEOF
	}
	n := binary.BigEndian.Uint32(c.b)
	if uint64(n)+12 > uint64(len(c.b)) {
		return "", nil, io.ErrUnexpectedEOF
	}
	typ, data := string(c.b[4:8]), c.b[8:8+n]
	if crc32.ChecksumIEEE(c.b[4:8+n]) != binary.BigEndian.Uint32(c.b[8+n:]) {
		return "", nil, fmt.Errorf("png: bad CRC in %s", typ)
	}
	c.b = c.b[12+n:]
	return typ, data, nil
}

// Read reads IDAT data, moving on to the next chunk when one is used up.
func (c *pngChunks) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		typ, data, err := c.next()
		if err != nil {
			return 0, err
		}
		if typ != "IDAT" {
			return 0, io.EOF
		}
		c.pending = data
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}
