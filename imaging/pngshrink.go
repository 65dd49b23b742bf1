package imaging

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/adler32"
	"hash/crc32"
	"image"
	"io"

	"github.com/klauspost/compress/flate"
)

// pngFormatError and pngUnsupportedError read as image/png's errors do.
type pngFormatError string

func (e pngFormatError) Error() string { return "png: invalid format: " + string(e) }

type pngUnsupportedError string

func (e pngUnsupportedError) Error() string { return "png: unsupported feature: " + string(e) }

// Chunk types, as big-endian numbers.
const (
	chunkIHDR = 'I'<<24 | 'H'<<16 | 'D'<<8 | 'R'
	chunkPLTE = 'P'<<24 | 'L'<<16 | 'T'<<8 | 'E'
	chunktRNS = 't'<<24 | 'R'<<16 | 'N'<<8 | 'S'
	chunkIDAT = 'I'<<24 | 'D'<<16 | 'A'<<8 | 'T'
	chunkIEND = 'I'<<24 | 'E'<<16 | 'N'<<8 | 'D'
)

// pngReadBuffer is the size of the buffer between the IDAT chunks and
// the inflater.
const pngReadBuffer = 8 << 10

// pngInflateCost bounds the live memory of the inflater and what goes with
// it: a 32 KiB window, 3 KiB of code-length arrays, two Huffman decoders of
// at most 77 KiB (a 1 KiB table, up to 512 overflow tables of up to 64
// uint16s and their 12 KiB of slice headers), the input buffer, and 4 KiB
// for the decoder's own small state. TestPNGDecodeCost measures about 45
// KiB for the inflater and buffer of a photo.
const pngInflateCost = 32<<10 + 3<<10 + 2*77<<10 + pngReadBuffer + 4<<10

// pngDecodeCost returns an upper bound of the live heap decodePNG needs
// for a w×h PNG shrunk by kx×ky: the output, two rows of rowBytes bytes
// of samples ((w·bits per pixel+7)/8; zero or less means the worst case,
// 8·w) plus their filter bytes, a row as NRGBA, the box sums (one row of
// them, or for an interlaced image shrunk, one per output pixel), the
// two batches of rows and the goroutine of a prefetch, and the inflater.
// The input bytes are not counted.
func pngDecodeCost(w, h, kx, ky int, interlaced bool, rowBytes int) int64 {
	if rowBytes <= 0 {
		rowBytes = 8 * w
	}
	ow, oh := int64(ceilDiv(w, kx)), int64(ceilDiv(h, ky))
	cost := ow*oh*4 + 2*int64(rowBytes+1) + int64(w)*4
	if kx > 1 || ky > 1 {
		cost += ow * 16
		if interlaced {
			cost += ow * oh * 16
		}
	}
	cost += 2*int64(max(rowBytes+1, pngBatchBytes)) + 8<<10
	// Allocations over 32 KiB are rounded up to 8 KiB pages; there are eight.
	return cost + 8*8<<10 + pngInflateCost
}

// decodePNG decodes any PNG into NRGBA, averaging kx×ky boxes of pixels
// as the rows are inflated, as boxShrink does (1×1 is a full-size decode).
// With procs above 1, a non-interlaced image is inflated on a second
// goroutine while the first unfilters (pngPrefetch).
// Besides the output it holds two rows and a row of box sums, or for an
// interlaced image shrunk, box sums for every output pixel: see
// pngDecodeCost. Callers bound w×h first, as the output is allocated from
// the header.
//
// Pixels come out as image/png's convert to NRGBA: 16-bit samples keep
// their high byte, 1-, 2- and 4-bit grey is scaled to 0–255, a tRNS colour
// key is compared on all 16 bits of 16-bit samples and on its low byte
// otherwise, and palette indices past the palette are opaque black (past
// PLTE but within tRNS, black with that alpha). An APNG gives its default
// image. Errors read as image/png's, and a file that ends early returns
// io.ErrUnexpectedEOF; chunk CRCs and the zlib Adler-32 are checked and the
// chunks walked to IEND, but unlike image/png, bytes left in the IDAT
// chunks after the zlib stream are ignored.
func decodePNG(b []byte, kx, ky, procs int) (*image.NRGBA, error) {
	if kx < 1 || ky < 1 || kx > maxBoxFactor || ky > maxBoxFactor {
		return nil, fmt.Errorf("png: box factor %d×%d out of range", kx, ky)
	}
	const sig = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(b, []byte(sig)) {
		if len(b) < len(sig) && bytes.HasPrefix([]byte(sig), b) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, pngFormatError("not a PNG file")
	}
	c := &pngChunks{b: b[len(sig):]}
	hd, err := readPNGHeader(c)
	if err != nil {
		return nil, err
	}
	w, h := hd.w, hd.h
	bits := int64(hd.depth) * int64(hd.channels())
	rb := (int64(w)*bits + 7) / 8
	if rb != int64(int(rb)) {
		return nil, pngUnsupportedError("dimension overflow")
	}
	rowBytes := int(rb)

	br := bufio.NewReaderSize(c, pngReadBuffer)
	var zh [2]byte
	if _, err := io.ReadFull(br, zh[:]); err != nil {
		return nil, c.inflateErr(err)
	}
	if zh[0]&0x0f != 8 || zh[0]>>4 > 7 || (uint16(zh[0])<<8|uint16(zh[1]))%31 != 0 {
		return nil, pngFormatError("zlib: invalid header")
	}
	if zh[1]&0x20 != 0 {
		return nil, pngFormatError("zlib: invalid dictionary")
	}
	// The stream is raw deflate after the zlib header; a *bufio.Reader
	// lets the inflater read its input fast and stop at the stream's end.
	zr := flate.NewReader(br)
	defer zr.Close()
	rows := &pngRows{c: c, br: br, zr: zr, adler: adler32.New(), bpp: max(1, int(bits/8)),
		cur: make([]byte, 1+rowBytes), prev: make([]byte, 1+rowBytes)}

	ow, oh := ceilDiv(w, kx), ceilDiv(h, ky)
	dst := image.NewNRGBA(image.Rect(0, 0, ow, oh))
	one := kx == 1 && ky == 1
	fastRGBA := hd.depth == 8 && hd.ctype == 6
	fastRGB := hd.depth == 8 && hd.ctype == 2 && !hd.hasKey
	var px []byte // a row as NRGBA, when it can't be written or summed straight
	if hd.interlaced || !(one || fastRGBA || fastRGB) {
		px = make([]byte, w*4)
	}
	if !hd.interlaced {
		var acc []uint32
		if !one {
			acc = make([]uint32, ow*4)
		}
		rows.start(rowBytes)
		if procs > 1 {
			rows.prefetch(h)
			defer rows.stopPrefetch()
		}
		for y := range h {
			row, err := rows.next()
			if err != nil {
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					return nil, err
				}
				if n := y % ky; !one && n > 0 { // the rows of the last box that arrived
					putPremultiplied(dst.Pix[y/ky*dst.Stride:], acc, ow, kx, w, n, 1)
				}
				return nil, &damagedImage{Image: dst, Truncated: true, Rest: "left transparent",
					Detail: fmt.Sprintf("the data ends in row %d of %d (%s arrived)", y+1, h, percentOf(y, h))}
			}
			switch {
			case one:
				hd.toNRGBA(dst.Pix[y*dst.Stride:y*dst.Stride+w*4], row)
				continue
			case fastRGBA:
				accumulateNRGBA(acc, row, kx)
			case fastRGB:
				accumulateRGB(acc, row, kx)
			default:
				hd.toNRGBA(px, row)
				accumulateNRGBA(acc, px, kx)
			}
			if (y+1)%ky == 0 || y == h-1 {
				oy := y / ky
				putPremultiplied(dst.Pix[oy*dst.Stride:], acc, ow, kx, w, y-oy*ky+1, 1)
				clear(acc)
			}
		}
	} else {
		var sums []uint32 // the box sums of every output pixel, as passes fill boxes out of order
		if !one {
			sums = make([]uint32, ow*oh*4)
		}
		// Adam7: each pass's first column and row, and its steps.
		passes := [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
		for pi, p := range passes {
			x0, y0, dx, dy := p[0], p[1], p[2], p[3]
			pw, ph := ceilDiv(max(w-x0, 0), dx), ceilDiv(max(h-y0, 0), dy)
			if pw == 0 || ph == 0 {
				continue // an empty pass has no rows, not even filter bytes
			}
			rows.start(int((int64(pw)*bits + 7) / 8))
			pass := px[:pw*4]
			for py := range ph {
				row, err := rows.next()
				if err != nil {
					if !errors.Is(err, io.ErrUnexpectedEOF) {
						return nil, err
					}
					d := &damagedImage{Truncated: true,
						Detail: fmt.Sprintf("the data ends in interlace pass %d of 7, row %d of %d", pi+1, py+1, ph)}
					if one {
						// Only a full-size decode shows the passes that arrived
						// as they are; the shrink's boxes would be half empty.
						d.Image, d.Rest = dst, "left transparent where no pass reached"
					}
					return nil, d
				}
				hd.toNRGBA(pass, row)
				y := y0 + py*dy
				if one {
					d := dst.Pix[y*dst.Stride+x0*4:]
					for i := range pw {
						*(*[4]byte)(d[i*dx*4:]) = *(*[4]byte)(pass[i*4:])
					}
				} else {
					oy := y / ky
					accumulateSpaced(sums[oy*ow*4:(oy+1)*ow*4], pass, x0, dx, kx)
				}
			}
		}
		if !one {
			for oy := range oh {
				putPremultiplied(dst.Pix[oy*dst.Stride:], sums[oy*ow*4:(oy+1)*ow*4], ow, kx, w, min((oy+1)*ky, h)-oy*ky, 1)
			}
		}
	}
	if err := rows.finish(); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &damagedImage{Image: dst, Detail: "the data ends after the last row, without the end of its zlib stream and the IEND chunk; every row arrived"}
		}
		return nil, err
	}
	if err := c.end(); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &damagedImage{Image: dst, Detail: "the file ends without its IEND chunk; every row arrived"}
		}
		return nil, err
	}
	return dst, nil
}

// pngHeader holds what the chunks before the image data say.
type pngHeader struct {
	w, h       int
	depth      int  // bits per sample
	ctype      byte // colour type
	interlaced bool
	// pal maps palette indices, and grey samples of up to 8 bits, to NRGBA.
	pal    [256][4]uint8
	hasKey bool
	key    [3]uint16 // the tRNS colour key: grey, or red, green and blue
}

func (hd *pngHeader) channels() int {
	switch hd.ctype {
	case 2:
		return 3
	case 4:
		return 2
	case 6:
		return 4
	}
	return 1
}

// readPNGHeader reads the chunks up to the first IDAT, which it leaves
// in c.pending, and checks their order as image/png does.
func readPNGHeader(c *pngChunks) (*pngHeader, error) {
	const (
		start = iota
		seenIHDR
		seenPLTE
		seentRNS
	)
	hd := &pngHeader{}
	for i := range hd.pal {
		hd.pal[i] = [4]uint8{0, 0, 0, 255} // indices past the palette are opaque black
	}
	stage := start
	for {
		typ, data, err := c.next()
		if err != nil {
			return nil, err
		}
		switch typ {
		case chunkIHDR:
			if stage != start {
				return nil, pngFormatError("chunk out of order")
			}
			stage = seenIHDR
			err = hd.parseIHDR(data)
		case chunkPLTE:
			if stage != seenIHDR {
				return nil, pngFormatError("chunk out of order")
			}
			stage = seenPLTE
			err = hd.parsePLTE(data)
		case chunktRNS:
			ok := stage == seenIHDR
			switch hd.ctype {
			case 3:
				ok = stage == seenPLTE
			case 2:
				ok = stage == seenIHDR || stage == seenPLTE
			}
			if !ok {
				return nil, pngFormatError("chunk out of order")
			}
			stage = seentRNS
			err = hd.parsetRNS(data)
		case chunkIDAT:
			switch {
			case stage == start:
				return nil, pngFormatError("chunk out of order")
			case hd.ctype == 3 && stage == seenIHDR:
				return nil, pngFormatError("missing PLTE chunk")
			}
			if hd.ctype == 0 && hd.depth <= 8 {
				hd.greyTable()
			}
			c.pending = data
			return hd, nil
		case chunkIEND:
			if stage == start {
				return nil, pngFormatError("chunk out of order")
			}
			return nil, pngFormatError("missing IDAT chunk")
		}
		if err != nil {
			return nil, err
		}
	}
}

func (hd *pngHeader) parseIHDR(d []byte) error {
	if len(d) != 13 {
		return pngFormatError("bad IHDR length")
	}
	if d[10] != 0 {
		return pngUnsupportedError("compression method")
	}
	if d[11] != 0 {
		return pngUnsupportedError("filter method")
	}
	if d[12] > 1 {
		return pngFormatError("invalid interlace method")
	}
	w, h := int32(binary.BigEndian.Uint32(d)), int32(binary.BigEndian.Uint32(d[4:]))
	if w <= 0 || h <= 0 {
		return pngFormatError("non-positive dimension")
	}
	depth, ctype := d[8], d[9]
	ok := false
	switch ctype {
	case 0:
		ok = depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16
	case 3:
		ok = depth == 1 || depth == 2 || depth == 4 || depth == 8
	case 2, 4, 6:
		ok = depth == 8 || depth == 16
	}
	if !ok {
		return pngFormatError(fmt.Sprintf("bit depth %d, color type %d", depth, ctype))
	}
	hd.w, hd.h, hd.depth, hd.ctype, hd.interlaced = int(w), int(h), int(depth), ctype, d[12] == 1
	return nil
}

func (hd *pngHeader) parsePLTE(d []byte) error {
	n := len(d) / 3
	if len(d)%3 != 0 || n == 0 || n > 256 || n > 1<<hd.depth {
		return pngFormatError("bad PLTE length")
	}
	switch hd.ctype {
	case 3:
		for i := range n {
			copy(hd.pal[i][:3], d[3*i:])
		}
	case 2, 6: // a suggested palette, of no use here
	default:
		return pngFormatError("PLTE, color type mismatch")
	}
	return nil
}

func (hd *pngHeader) parsetRNS(d []byte) error {
	switch hd.ctype {
	case 0, 2:
		if len(d) != 2*hd.channels() {
			return pngFormatError("bad tRNS length")
		}
		for i := range hd.channels() {
			hd.key[i] = binary.BigEndian.Uint16(d[2*i:])
		}
		hd.hasKey = true
	case 3:
		if len(d) > 256 {
			return pngFormatError("bad tRNS length")
		}
		for i, a := range d {
			hd.pal[i][3] = a
		}
	default:
		return pngFormatError("tRNS, color type mismatch")
	}
	return nil
}

// greyTable fills pal with the NRGBA of each grey sample of up to 8 bits,
// so that grey rows read as palette rows. The key is compared on its low
// byte, as image/png does.
func (hd *pngHeader) greyTable() {
	n := 1 << hd.depth
	for s := range n {
		v := uint8(s * 255 / (n - 1))
		hd.pal[s] = [4]uint8{v, v, v, 255}
		if hd.hasKey && s == int(hd.key[0]&0xff) {
			hd.pal[s][3] = 0
		}
	}
}

// toNRGBA converts a row of unfiltered samples to len(dst)/4 NRGBA pixels.
func (hd *pngHeader) toNRGBA(dst, row []byte) {
	n := len(dst) / 4
	if hd.ctype == 3 || (hd.ctype == 0 && hd.depth <= 8) {
		if hd.depth == 8 {
			for x, i := range row[:n] {
				*(*[4]byte)(dst[4*x:]) = hd.pal[i]
			}
			return
		}
		shift := uint(8 - hd.depth)
		for x := range n {
			bit := uint(x * hd.depth)
			*(*[4]byte)(dst[4*x:]) = hd.pal[row[bit>>3]<<(bit&7)>>shift]
		}
		return
	}
	k0, k1, k2 := hd.key[0], hd.key[1], hd.key[2]
	switch [2]int{int(hd.ctype), hd.depth} {
	case [2]int{6, 8}:
		copy(dst, row[:4*n])
	case [2]int{4, 8}:
		for x := range n {
			d := dst[4*x : 4*x+4 : 4*x+4]
			d[0], d[1], d[2], d[3] = row[2*x], row[2*x], row[2*x], row[2*x+1]
		}
	case [2]int{2, 8}:
		for x := range n {
			s, d := row[3*x:3*x+3:3*x+3], dst[4*x:4*x+4:4*x+4]
			d[0], d[1], d[2], d[3] = s[0], s[1], s[2], 255
		}
		if hd.hasKey {
			r, g, b := uint8(k0), uint8(k1), uint8(k2)
			for x := range n {
				if d := dst[4*x : 4*x+4 : 4*x+4]; d[0] == r && d[1] == g && d[2] == b {
					d[3] = 0
				}
			}
		}
	case [2]int{0, 16}:
		for x := range n {
			s, d := row[2*x:2*x+2:2*x+2], dst[4*x:4*x+4:4*x+4]
			d[0], d[1], d[2], d[3] = s[0], s[0], s[0], 255
			if hd.hasKey && binary.BigEndian.Uint16(s) == k0 {
				d[3] = 0
			}
		}
	case [2]int{4, 16}:
		for x := range n {
			s, d := row[4*x:4*x+4:4*x+4], dst[4*x:4*x+4:4*x+4]
			d[0], d[1], d[2], d[3] = s[0], s[0], s[0], s[2]
		}
	case [2]int{2, 16}:
		for x := range n {
			s, d := row[6*x:6*x+6:6*x+6], dst[4*x:4*x+4:4*x+4]
			d[0], d[1], d[2], d[3] = s[0], s[2], s[4], 255
			if hd.hasKey && binary.BigEndian.Uint16(s) == k0 && binary.BigEndian.Uint16(s[2:]) == k1 && binary.BigEndian.Uint16(s[4:]) == k2 {
				d[3] = 0
			}
		}
	case [2]int{6, 16}:
		for x := range n {
			s, d := row[8*x:8*x+8:8*x+8], dst[4*x:4*x+4:4*x+4]
			d[0], d[1], d[2], d[3] = s[0], s[2], s[4], s[6]
		}
	}
}

// pngRows reads the rows of the image data: inflated, summed into the
// zlib Adler-32 and unfiltered.
type pngRows struct {
	c         *pngChunks
	br        *bufio.Reader // the IDAT data, which zr inflates
	zr        io.Reader
	adler     hash.Hash32
	cur, prev []byte // a filter byte, then samples
	bpp       int    // bytes per pixel for the filters, at least 1
	pf        *pngPrefetch
}

// pngPrefetch inflates the rows of a non-interlaced image, and sums them
// into the Adler-32, on a goroutine of its own (fetch), a batch of
// pngBatchBytes or one row at a time, while the decoder unfilters and
// converts the batch before: inflating is about half of a large PNG's
// decode and cannot be split. Two batches go round, on free and full.
type pngPrefetch struct {
	full chan pngBatch
	free chan []byte
	stop chan struct{} // closed when the decoder is done with the rows
	done chan struct{} // closed when fetch has returned
	b    pngBatch      // the batch the decoder is on
	i    int           // its next row
}

// pngBatch is whole rows of filtered samples, and the error, if any, that
// reading the next row met.
type pngBatch struct {
	buf   []byte
	rows  int
	err   error
	panic any // what fetch panicked with, for the decoder to panic with
}

// pngPrefetchPixels is the smallest image the codec table's PNG decoder
// inflates on a goroutine of its own (pngPrefetch).
const pngPrefetchPixels = 1 << 20

// pngBatchBytes is the size of a prefetched batch of rows; pngDecodeCost
// counts two of them.
const pngBatchBytes = 256 << 10

// prefetch starts inflating the h rows of the pass begun with start ahead
// of next.
func (r *pngRows) prefetch(h int) {
	per := len(r.cur)
	n := max(1, pngBatchBytes/per) * per
	p := &pngPrefetch{full: make(chan pngBatch), free: make(chan []byte, 2),
		stop: make(chan struct{}), done: make(chan struct{})}
	p.free <- make([]byte, n)
	p.free <- make([]byte, n)
	clear(r.prev) // the row above the first
	r.pf = p
	go r.fetch(p, h, per)
}

// fetch reads h rows of per bytes into the batches, as next reads them
// one at a time.
func (r *pngRows) fetch(p *pngPrefetch, h, per int) {
	defer close(p.done)
	defer func() {
		if v := recover(); v != nil {
			select {
			case p.full <- pngBatch{panic: v}:
			case <-p.stop:
			}
		}
	}()
	for h > 0 {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-p.stop:
			return
		}
		buf = buf[:min(h, cap(buf)/per)*per]
		n, err := io.ReadFull(r.zr, buf)
		r.adler.Write(buf[:n])
		b := pngBatch{buf: buf, rows: n / per}
		if err != nil {
			// As ReadFull of one row would have said: the end of
			// the data reads the same before a row and inside one.
			b.err = r.c.inflateErr(err)
		}
		h -= b.rows
		select {
		case p.full <- b:
		case <-p.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// stopPrefetch ends fetch, if it is still running, and waits for it.
func (r *pngRows) stopPrefetch() {
	if p := r.pf; p != nil {
		close(p.stop)
		<-p.done
	}
}

// nextPrefetched is next with prefetch: the rows are unfiltered in their
// batch, the last of a batch copied to prev before it goes back to fetch.
func (r *pngRows) nextPrefetched() ([]byte, error) {
	p := r.pf
	per := len(r.cur)
	for p.i == p.b.rows {
		if p.b.err != nil {
			return nil, p.b.err
		}
		if p.i > 0 {
			copy(r.prev, p.b.buf[(p.i-1)*per:p.i*per])
			p.free <- p.b.buf
		}
		b, ok := <-p.full
		if !ok {
			return nil, io.ErrNoProgress // not reached: fetch sends every row it was asked for
		}
		if b.panic != nil {
			panic(b.panic)
		}
		p.b, p.i = b, 0
	}
	row, prev := p.b.buf[p.i*per:(p.i+1)*per], r.prev
	if p.i > 0 {
		prev = p.b.buf[(p.i-1)*per : p.i*per]
	}
	p.i++
	if !unfilter(row[0], row[1:], prev[1:], r.bpp) {
		return nil, pngFormatError("bad filter type")
	}
	return row[1:], nil
}

// start begins a pass of rows of n bytes of samples.
func (r *pngRows) start(n int) {
	r.cur, r.prev = r.cur[:1+n], r.prev[:1+n]
	clear(r.cur) // next swaps it in as the row above the first
}

// next returns the next row's samples, valid until the call after.
func (r *pngRows) next() ([]byte, error) {
	if r.pf != nil {
		return r.nextPrefetched()
	}
	r.cur, r.prev = r.prev, r.cur
	if _, err := io.ReadFull(r.zr, r.cur); err != nil {
		return nil, r.c.inflateErr(err)
	}
	r.adler.Write(r.cur)
	if !unfilter(r.cur[0], r.cur[1:], r.prev[1:], r.bpp) {
		return nil, pngFormatError("bad filter type")
	}
	return r.cur[1:], nil
}

// finish checks that the deflate stream ends after the last row and that
// the Adler-32 after it matches.
func (r *pngRows) finish() error {
	if r.pf != nil {
		<-r.pf.done // fetch has read every row and is done with zr
	}
	var b [4]byte
	for i := 0; ; i++ {
		n, err := r.zr.Read(b[:1])
		if n > 0 {
			return pngFormatError("too much pixel data")
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return r.c.inflateErr(err)
		}
		if i == 100 {
			return io.ErrNoProgress
		}
	}
	if _, err := io.ReadFull(r.br, b[:]); err != nil {
		return r.c.inflateErr(err)
	}
	if binary.BigEndian.Uint32(b[:]) != r.adler.Sum32() {
		return pngFormatError("zlib: invalid checksum")
	}
	return nil
}

// accumulateSpaced adds the NRGBA pixels of an interlace pass's row, which
// sit at columns x0, x0+dx, …, into the box sums of one output row, as
// accumulateNRGBA does.
func accumulateSpaced(acc []uint32, px []byte, x0, dx, kx int) {
	ox := x0 / kx
	end := (ox + 1) * kx // the first column of the next box
	x := x0
	for i := 0; i+3 < len(px); i += 4 {
		for x >= end {
			ox++
			end += kx
		}
		s, d := px[i:i+4:i+4], acc[ox*4:ox*4+4:ox*4+4]
		a := uint32(s[3])
		d[0] += uint32(s[0]) * a
		d[1] += uint32(s[1]) * a
		d[2] += uint32(s[2]) * a
		d[3] += a
		x += dx
	}
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
			cur[i] += paethPredict(cur[i-bpp], prev[i], prev[i-bpp])
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

// pngChunks walks the chunks of a PNG after its signature, checking their
// CRCs. As an io.Reader it reads the data of consecutive IDAT chunks as
// one stream, ending (io.EOF) before the next other chunk.
type pngChunks struct {
	b         []byte // the chunks not yet walked
	pending   []byte // unread data of the current IDAT chunk
	truncated bool   // b ended inside a chunk
}

func (c *pngChunks) next() (uint32, []byte, error) {
	if len(c.b) < 12 {
		c.truncated = true
		return 0, nil, io.ErrUnexpectedEOF
	}
	n := binary.BigEndian.Uint32(c.b)
	if uint64(n)+12 > uint64(len(c.b)) {
		c.truncated = true
		return 0, nil, io.ErrUnexpectedEOF
	}
	typ, data := binary.BigEndian.Uint32(c.b[4:]), c.b[8:8+n]
	if crc32.ChecksumIEEE(c.b[4:8+n]) != binary.BigEndian.Uint32(c.b[8+n:]) {
		return 0, nil, pngFormatError(fmt.Sprintf("invalid checksum in chunk %q", c.b[4:8]))
	}
	c.b = c.b[12+n:]
	return typ, data, nil
}

// Read reads IDAT data, moving on to the next chunk when one is used up.
func (c *pngChunks) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		if len(c.b) >= 8 && binary.BigEndian.Uint32(c.b[4:]) != chunkIDAT {
			return 0, io.EOF
		}
		_, data, err := c.next()
		if err != nil {
			return 0, err
		}
		c.pending = data
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// inflateErr words an error met while reading the image data.
func (c *pngChunks) inflateErr(err error) error {
	var fe pngFormatError
	switch {
	case errors.As(err, &fe):
		return err // a chunk's CRC
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		if c.truncated {
			return io.ErrUnexpectedEOF
		}
		return pngFormatError("not enough pixel data")
	}
	return fmt.Errorf("png: invalid format: %w", err)
}

// end walks the chunks after the image data up to IEND, as image/png does.
// Data left in the IDAT chunks after the zlib stream is ignored.
func (c *pngChunks) end() error {
	c.pending = nil
	for {
		typ, data, err := c.next()
		if err != nil {
			return err
		}
		switch typ {
		case chunkIEND:
			if len(data) != 0 {
				return pngFormatError("bad IEND length")
			}
			return nil
		case chunkIHDR, chunkPLTE, chunktRNS:
			return pngFormatError("chunk out of order")
		}
	}
}
