package imaging

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	imgops "github.com/disintegration/imaging"
	"github.com/klauspost/compress/flate"
)

// testPNG describes a PNG for encode to write. Unlike image/png's encoder,
// it writes every colour type and bit depth, Adam7, colour keys, and each
// filter type in turn.
type testPNG struct {
	name          string
	w, h          int
	ctype         byte
	depth         int
	interlaced    bool
	plte, trns    []byte      // the chunks' data, written when not nil
	before, after []testChunk // more chunks, just before and after the IDATs
	idat          int         // bytes per IDAT chunk; 0 for a single chunk
	filters       []byte      // the filter types used in turn; nil for all five
	level         int         // the zlib level; 0 for the default
	sample        func(x, y, c int) int
}

type testChunk struct {
	typ  string
	data []byte
}

func (p testPNG) encode(t testing.TB) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, uint32(p.w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(p.h))
	ihdr[8], ihdr[9] = byte(p.depth), p.ctype
	if p.interlaced {
		ihdr[12] = 1
	}
	writeChunk(&out, "IHDR", ihdr)
	if p.plte != nil {
		writeChunk(&out, "PLTE", p.plte)
	}
	if p.trns != nil {
		writeChunk(&out, "tRNS", p.trns)
	}
	for _, c := range p.before {
		writeChunk(&out, c.typ, c.data)
	}
	var z bytes.Buffer
	level := p.level
	if level == 0 {
		level = zlib.DefaultCompression
	}
	zw, err := zlib.NewWriterLevel(&z, level)
	if err != nil {
		t.Fatal(err)
	}
	p.writeRows(zw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	data := z.Bytes()
	for n := cmpOr(p.idat, len(data)); len(data) > 0; data = data[min(n, len(data)):] {
		writeChunk(&out, "IDAT", data[:min(n, len(data))])
	}
	for _, c := range p.after {
		writeChunk(&out, c.typ, c.data)
	}
	writeChunk(&out, "IEND", nil)
	return out.Bytes()
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// writeRows writes the filtered rows of each pass.
func (p testPNG) writeRows(w io.Writer) {
	ch := [...]int{1, 0, 3, 1, 2, 0, 4}[p.ctype]
	bits := ch * p.depth
	bpp := max(1, bits/8)
	passes := [][4]int{{0, 0, 1, 1}}
	if p.interlaced {
		passes = [][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	}
	filters := cmpOrSlice(p.filters, []byte{0, 1, 2, 3, 4})
	row := 0
	for _, ps := range passes {
		pw, ph := ceilDiv(max(p.w-ps[0], 0), ps[2]), ceilDiv(max(p.h-ps[1], 0), ps[3])
		if pw == 0 || ph == 0 {
			continue
		}
		n := (pw*bits + 7) / 8
		prev, cur, out := make([]byte, n), make([]byte, n), make([]byte, 1+n)
		for py := range ph {
			clear(cur)
			for px := range pw {
				for c := range ch {
					v := p.sample(ps[0]+px*ps[2], ps[1]+py*ps[3], c)
					bit := (px*ch + c) * p.depth
					if p.depth == 16 {
						cur[bit/8], cur[bit/8+1] = byte(v>>8), byte(v)
					} else {
						cur[bit/8] |= byte(v) << (8 - p.depth - bit%8)
					}
				}
			}
			f := filters[row%len(filters)]
			row++
			out[0] = f
			for i := range cur {
				var a, b, c int
				if i >= bpp {
					a, c = int(cur[i-bpp]), int(prev[i-bpp])
				}
				b = int(prev[i])
				out[1+i] = cur[i] - byte(predict(f, a, b, c))
			}
			w.Write(out)
			prev, cur = cur, prev
		}
	}
}

func cmpOrSlice(a, b []byte) []byte {
	if a != nil {
		return a
	}
	return b
}

// predict is a PNG filter's predictor; unknown filter types predict 0.
func predict(f byte, a, b, c int) int {
	switch f {
	case 1:
		return a
	case 2:
		return b
	case 3:
		return (a + b) / 2
	case 4:
		p := a + b - c
		pa, pb, pc := abs(p-a), abs(p-b), abs(p-c)
		switch {
		case pa <= pb && pa <= pc:
			return a
		case pb <= pc:
			return b
		}
		return c
	}
	return 0
}

func writeChunk(w *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	w.Write(n[:])
	start := w.Len()
	w.WriteString(typ)
	w.Write(data)
	binary.BigEndian.PutUint32(n[:], crc32.ChecksumIEEE(w.Bytes()[start:]))
	w.Write(n[:])
}

// noise is a hash of its arguments.
func noise(x, y, c int) int {
	h := uint32(x)*0x9e3779b1 ^ uint32(y)*0x85ebca77 ^ uint32(c)*0xc2b2ae3d
	h ^= h >> 15
	h *= 0x2c1b3c6d
	return int(h ^ h>>13)
}

// testPNGKinds returns a w×h PNG of every colour type and bit depth, each
// plain and interlaced, and for grey, RGB and palette also with tRNS.
// Colour-keyed images hold the key and, at 16 bits, near misses that
// differ from it only in a low byte.
func testPNGKinds(w, h int) []testPNG {
	var out []testPNG
	kinds := []struct {
		ctype  byte
		depths []int
	}{{0, []int{1, 2, 4, 8, 16}}, {2, []int{8, 16}}, {3, []int{1, 2, 4, 8}}, {4, []int{8, 16}}, {6, []int{8, 16}}}
	for _, k := range kinds {
		for _, depth := range k.depths {
			for _, interlaced := range []bool{false, true} {
				for _, trns := range []bool{false, true} {
					if trns && (k.ctype == 4 || k.ctype == 6) {
						continue // tRNS is not allowed with an alpha channel
					}
					out = append(out, newTestPNG(w, h, k.ctype, depth, interlaced, trns))
				}
			}
		}
	}
	return out
}

func newTestPNG(w, h int, ctype byte, depth int, interlaced, trns bool) testPNG {
	mask := 1<<depth - 1
	p := testPNG{w: w, h: h, ctype: ctype, depth: depth, interlaced: interlaced, idat: 97}
	p.name = fmt.Sprintf("type %d depth %d", ctype, depth)
	if interlaced {
		p.name += " interlaced"
	}
	if trns {
		p.name += " tRNS"
	}
	key := []int{mask / 3, mask / 2, mask / 5}
	p.sample = func(x, y, c int) int {
		if ctype == 0 || ctype == 2 {
			switch (x + 2*y) % 5 {
			case 0:
				return key[c]
			case 1:
				if depth == 16 && c == int(ctype) { // grey, or blue
					return key[c] ^ 0x01 // a near miss: only the low byte differs
				}
				return key[c]
			}
		}
		return noise(x, y, c) & mask
	}
	switch ctype {
	case 3:
		n := min(256, 1<<depth) - 1 // leave an index out of the palette
		for i := range n {
			p.plte = append(p.plte, byte(noise(i, 1, 0)), byte(noise(i, 2, 0)), byte(noise(i, 3, 0)))
		}
		if trns {
			p.trns = make([]byte, min(n/2+2, 256)) // longer than a 1-entry palette, shorter than others
			for i := range p.trns {
				p.trns[i] = byte(i * 37)
			}
		}
	case 0:
		if trns {
			p.trns = binary.BigEndian.AppendUint16(nil, uint16(key[0]))
		}
	case 2:
		if trns {
			for _, v := range key {
				p.trns = binary.BigEndian.AppendUint16(p.trns, uint16(v))
			}
		}
	}
	return p
}

// pngReference decodes src with image/png and converts the result to
// NRGBA as decodePNG promises: 16-bit samples keep their high byte and
// palette entries are taken as they are.
func pngReference(t testing.TB, src []byte) *image.NRGBA {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(src))
	if err != nil {
		t.Fatalf("image/png: %v", err)
	}
	return toNRGBARaw(img)
}

func toNRGBARaw(img image.Image) *image.NRGBA {
	p, ok := img.(*image.Paletted)
	if !ok {
		return imgops.Clone(img) // the high byte of 16-bit samples, as image/png's results are not premultiplied
	}
	dst := image.NewNRGBA(p.Rect)
	for i, idx := range p.Pix {
		var c color.NRGBA
		switch e := p.Palette[idx].(type) {
		case color.NRGBA:
			c = e
		case color.RGBA: // opaque
			c = color.NRGBA{e.R, e.G, e.B, e.A}
		}
		dst.Pix[4*i], dst.Pix[4*i+1], dst.Pix[4*i+2], dst.Pix[4*i+3] = c.R, c.G, c.B, c.A
	}
	return dst
}

// diffNRGBA returns the first pixel that differs by more than tol in a
// channel, or "" when none does.
func diffNRGBA(got, want *image.NRGBA, tol int) string {
	if got.Bounds() != want.Bounds() {
		return fmt.Sprintf("bounds %v, want %v", got.Bounds(), want.Bounds())
	}
	for y := range want.Bounds().Dy() {
		for x := range want.Bounds().Dx() {
			if g, w := got.NRGBAAt(x, y), want.NRGBAAt(x, y); !near(g, w, tol) {
				return fmt.Sprintf("pixel (%d,%d) = %v, want %v", x, y, g, w)
			}
		}
	}
	return ""
}

// TestDecodePNG compares decodePNG with image/png, converted to NRGBA and
// box-shrunk, for every kind of PNG: exact at 1×1, within 1 when shrunk.
func TestDecodePNG(t *testing.T) {
	type input struct {
		name string
		src  []byte
	}
	var inputs []input
	for _, size := range [][2]int{{37, 23}, {3, 2}, {1, 9}} {
		for _, p := range testPNGKinds(size[0], size[1]) {
			inputs = append(inputs, input{fmt.Sprintf("%s %dx%d", p.name, size[0], size[1]), p.encode(t)})
		}
	}
	// image/png's encoder: its own filter choices and IDAT sizes, and palette depths by palette size.
	photo := newPhoto(97, 61)
	for y := range 30 {
		for x := range 30 {
			photo.SetNRGBA(x, y, color.NRGBA{200, 10, 10, uint8(x * 8)})
		}
	}
	rgba64 := image.NewNRGBA64(photo.Rect)
	gray16 := image.NewGray16(photo.Rect)
	small := image.NewPaletted(photo.Rect, color.Palette{color.NRGBA{0, 0, 0, 0}, color.NRGBA{255, 0, 0, 128}, color.Gray{90}})
	for y := range photo.Rect.Dy() {
		for x := range photo.Rect.Dx() {
			c := photo.NRGBAAt(x, y)
			rgba64.SetNRGBA64(x, y, color.NRGBA64{uint16(c.R) * 257, uint16(c.G)*257 + 3, uint16(c.B) << 8, uint16(c.A) * 257})
			gray16.SetGray16(x, y, color.Gray16{uint16(noise(x, y, 0))})
			small.SetColorIndex(x, y, uint8(x*y%3))
		}
	}
	for _, img := range []struct {
		name string
		img  image.Image
	}{{"image/png rgba", photo}, {"image/png rgb", newPhoto(97, 61)}, {"image/png rgba64", rgba64}, {"image/png gray16", gray16}, {"image/png 2-bit palette", small}} {
		inputs = append(inputs, input{img.name, encodeAs(t, img.img, FormatPNG)})
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			full := pngReference(t, in.src)
			for _, k := range [][2]int{{1, 1}, {2, 2}, {5, 3}, {1, 4}} {
				for procs := 1; procs <= 2; procs++ {
					got, err := decodePNG(in.src, k[0], k[1], procs)
					if err != nil {
						t.Fatalf("decodePNG(%v, %d goroutines) returned %v", k, procs, err)
					}
					want, tol := full, 0
					if k != [2]int{1, 1} {
						want, tol = boxShrink(full, k[0], k[1], 1), 1
					}
					if d := diffNRGBA(got, want, tol); d != "" {
						t.Fatalf("%v, %d goroutines: %s", k, procs, d)
					}
				}
			}
		})
	}
}

// TestDecodePNG_prefetch checks the rows inflated on a goroutine of their
// own across several batches: a tall photo, whole and cut at points inside
// its later batches, decodes as it does on one goroutine (checkDecodePNG).
func TestDecodePNG_prefetch(t *testing.T) {
	src := encodeAs(t, newPhoto(300, 1000), FormatPNG)
	if rows := pngBatchBytes / (300*3 + 1); rows*3 > 1000 {
		t.Fatalf("%d rows to a batch: the photo takes fewer than three", rows)
	}
	for _, n := range []int{len(src), len(src) / 2, len(src) * 3 / 4, len(src) - 20} {
		checkDecodePNG(t, src[:n])
	}
	b := bytes.Clone(src)
	b[len(b)*2/3] ^= 0x55 // a bad CRC or bad deflate data late in the stream
	checkDecodePNG(t, b)
	if fixCRCs(b) {
		checkDecodePNG(t, b)
	}
}

// TestDecodePNG_values checks a few pixels against the specification
// rather than against image/png.
func TestDecodePNG_values(t *testing.T) {
	tests := []struct {
		name string
		p    testPNG
		want []color.NRGBA // the first row
	}{
		{"2-bit grey scales to 0..255", testPNG{w: 4, h: 1, ctype: 0, depth: 2, sample: func(x, _, _ int) int { return x }},
			[]color.NRGBA{{0, 0, 0, 255}, {85, 85, 85, 255}, {170, 170, 170, 255}, {255, 255, 255, 255}}},
		{"16-bit key compares 16 bits", testPNG{w: 2, h: 1, ctype: 0, depth: 16, trns: []byte{0x12, 0x34},
			sample: func(x, _, _ int) int { return 0x1234 + x }},
			[]color.NRGBA{{0x12, 0x12, 0x12, 0}, {0x12, 0x12, 0x12, 255}}},
		{"index past the palette is opaque black", testPNG{w: 3, h: 1, ctype: 3, depth: 8, plte: []byte{9, 8, 7}, trns: []byte{100, 50},
			sample: func(x, _, _ int) int { return x }},
			[]color.NRGBA{{9, 8, 7, 100}, {0, 0, 0, 50}, {0, 0, 0, 255}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodePNG(tt.p.encode(t), 1, 1, 1)
			if err != nil {
				t.Fatal(err)
			}
			for x, w := range tt.want {
				if g := got.NRGBAAt(x, 0); g != w {
					t.Errorf("pixel %d = %v, want %v", x, g, w)
				}
			}
		})
	}
}

// TestDecodePNG_APNG checks that an animated PNG decodes to its default
// image, its other frames' chunks skipped.
func TestDecodePNG_APNG(t *testing.T) {
	p := newTestPNG(16, 8, 6, 8, false, false)
	p.before = []testChunk{{"acTL", []byte{0, 0, 0, 2, 0, 0, 0, 0}}, {"fcTL", make([]byte, 26)}}
	p.after = []testChunk{{"fcTL", make([]byte, 26)}, {"fdAT", []byte{0, 0, 0, 2, 0x78, 0x9c, 1, 2, 3}}}
	src := p.encode(t)
	got, err := decodePNG(src, 1, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffNRGBA(got, pngReference(t, src), 0); d != "" {
		t.Error(d)
	}
}

// splitChunks returns the chunks of a PNG; joinChunks puts them back
// together, with fresh CRCs.
func splitChunks(src []byte) []testChunk {
	var out []testChunk
	for b := src[8:]; len(b) >= 12; {
		n := int(binary.BigEndian.Uint32(b))
		out = append(out, testChunk{string(b[4:8]), bytes.Clone(b[8 : 8+n])})
		b = b[12+n:]
	}
	return out
}

func joinChunks(cs []testChunk) []byte {
	out := bytes.NewBufferString("\x89PNG\r\n\x1a\n")
	for _, c := range cs {
		writeChunk(out, c.typ, c.data)
	}
	return out.Bytes()
}

// rewriteChunk returns src with the data of its first chunk of type typ
// changed by fn.
func rewriteChunk(src []byte, typ string, fn func([]byte) []byte) []byte {
	cs := splitChunks(src)
	for i := range cs {
		if cs[i].typ == typ {
			cs[i].data = fn(cs[i].data)
			break
		}
	}
	return joinChunks(cs)
}

// insertChunk returns src with c inserted before its chunk i.
func insertChunk(src []byte, i int, c testChunk) []byte {
	cs := splitChunks(src)
	return joinChunks(append(cs[:i:i], append([]testChunk{c}, cs[i:]...)...))
}

// TestDecodePNG_errors checks that broken PNGs fail with image/png's kind
// of error, and that image/png rejects them too.
func TestDecodePNG_errors(t *testing.T) {
	base := newTestPNG(9, 7, 2, 8, false, false)
	base.idat = 0
	valid := base.encode(t)
	ihdr := func(fn func(d []byte)) []byte {
		return rewriteChunk(valid, "IHDR", func(d []byte) []byte { fn(d); return d })
	}
	idat := func(fn func(d []byte)) []byte {
		return rewriteChunk(valid, "IDAT", func(d []byte) []byte { fn(d); return d })
	}
	with := func(fn func(p *testPNG)) []byte {
		p := base
		fn(&p)
		return p.encode(t)
	}
	flipped := func(i int) []byte {
		b := bytes.Clone(valid)
		b[i] ^= 1
		return b
	}
	fdict := byte(0x20)
	for (0x7800+int(fdict))%31 != 0 {
		fdict++
	}
	tests := []struct {
		name string
		src  []byte
		want string // in the error's text
	}{
		{"not a PNG", []byte("GIF89a\x01\x00\x01\x00"), "png: invalid format: not a PNG file"},
		{"bad IHDR CRC", flipped(8 + 8 + 13), `png: invalid format: invalid checksum in chunk "IHDR"`},
		{"bad IDAT CRC", flipped(len(valid) - 13), `invalid checksum in chunk "IDAT"`},
		{"bad filter type", with(func(p *testPNG) { p.filters = []byte{0, 5} }), "png: invalid format: bad filter type"},
		{"bad zlib header", idat(func(d []byte) { d[0] = 0x79 }), "png: invalid format: zlib: invalid header"},
		{"zlib preset dictionary", idat(func(d []byte) { d[1] = fdict }), "zlib: invalid dictionary"},
		{"bad deflate block type", idat(func(d []byte) { d[2] = 0x07 }), "png: invalid format: flate: corrupt input"},
		{"bad Adler-32", idat(func(d []byte) { d[len(d)-1] ^= 1 }), "png: invalid format: zlib: invalid checksum"},
		{"not enough pixel data", ihdr(func(d []byte) { d[7]++ }), "png: invalid format: not enough pixel data"},
		{"too much pixel data", ihdr(func(d []byte) { d[7]-- }), "png: invalid format: too much pixel data"},
		{"IDAT run cut by another chunk", insertChunk(with(func(p *testPNG) { p.idat = 20 }), 2, testChunk{"tEXt", []byte("a\x00b")}),
			"png: invalid format: not enough pixel data"},
		{"zero width", ihdr(func(d []byte) { copy(d, []byte{0, 0, 0, 0}) }), "png: invalid format: non-positive dimension"},
		{"huge width", ihdr(func(d []byte) { copy(d, []byte{0x80, 0, 0, 0}) }), "non-positive dimension"},
		{"bit depth 3", ihdr(func(d []byte) { d[8] = 3 }), "png: invalid format: bit depth 3, color type 2"},
		{"16-bit palette", ihdr(func(d []byte) { d[8], d[9] = 16, 3 }), "bit depth 16, color type 3"},
		{"colour type 5", ihdr(func(d []byte) { d[9] = 5 }), "bit depth 8, color type 5"},
		{"interlace method 2", ihdr(func(d []byte) { d[12] = 2 }), "png: invalid format: invalid interlace method"},
		{"compression method 1", ihdr(func(d []byte) { d[10] = 1 }), "png: unsupported feature: compression method"},
		{"bad IHDR length", rewriteChunk(valid, "IHDR", func(d []byte) []byte { return append(d, 0) }), "png: invalid format: bad IHDR length"},
		{"missing IDAT", append(valid[:8+25:8+25], 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82), "png: invalid format: missing IDAT chunk"},
		{"missing PLTE", func() []byte { p := newTestPNG(9, 7, 3, 8, false, false); p.plte = nil; return p.encode(t) }(), "missing PLTE chunk"},
		{"tRNS on RGBA", func() []byte { p := newTestPNG(9, 7, 6, 8, false, false); p.trns = []byte{1, 2}; return p.encode(t) }(), "tRNS, color type mismatch"},
		{"PLTE on grey", func() []byte { p := newTestPNG(9, 7, 0, 8, false, false); p.plte = []byte{1, 2, 3}; return p.encode(t) }(), "PLTE, color type mismatch"},
		{"PLTE too long for the depth", func() []byte {
			p := newTestPNG(9, 7, 3, 1, false, false)
			p.plte = make([]byte, 9)
			return p.encode(t)
		}(), "bad PLTE length"},
		{"tRNS before PLTE", insertChunk(newTestPNG(9, 7, 3, 8, false, false).encode(t), 1, testChunk{"tRNS", []byte{0}}),
			"png: invalid format: chunk out of order"},
		{"missing IEND", valid[:len(valid)-12], "without its IEND chunk; every row arrived"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodePNG(tt.src, 1, 1, 1)
			if err == nil {
				t.Fatal("decodePNG returned no error")
			}
			var d *damagedImage
			if !strings.HasPrefix(err.Error(), "png: ") && err != io.ErrUnexpectedEOF && !errors.As(err, &d) {
				t.Errorf("error %q does not read as image/png's", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			if _, err := decodePNG(tt.src, 3, 2, 1); err == nil {
				t.Error("decodePNG at 3×2 returned no error")
			}
			if _, err := png.Decode(bytes.NewReader(tt.src)); err == nil {
				t.Error("image/png decodes it")
			}
		})
	}
}

// TestDecodePNG_truncated checks that every prefix of a PNG fails with
// io.ErrUnexpectedEOF.
func TestDecodePNG_truncated(t *testing.T) {
	for _, p := range []testPNG{newTestPNG(13, 11, 6, 16, true, false), newTestPNG(13, 11, 3, 4, false, true)} {
		p.idat = 50
		src := p.encode(t)
		for n := range len(src) {
			for _, k := range []int{1, 2} {
				for procs := 1; procs <= 2; procs++ {
					if _, err := decodePNG(src[:n], k, k, procs); !errors.Is(err, io.ErrUnexpectedEOF) {
						t.Fatalf("%s cut to %d of %d bytes, %d×%d, %d goroutines: error %v, want io.ErrUnexpectedEOF", p.name, n, len(src), k, k, procs, err)
					}
				}
			}
		}
	}
}

// fixCRCs rewrites the CRC of every whole chunk of a PNG, so that damage
// reaches past the CRC checks, and reports whether it changed any.
func fixCRCs(b []byte) bool {
	changed := false
	for i := 8; i+12 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[i:]))
		if n < 0 || n > len(b)-i-12 {
			break
		}
		crc := b[i+8+n : i+12+n]
		if sum := crc32.ChecksumIEEE(b[i+4 : i+8+n]); binary.BigEndian.Uint32(crc) != sum {
			binary.BigEndian.PutUint32(crc, sum)
			changed = true
		}
		i += 12 + n
	}
	return changed
}

// TestDecodePNG_damaged flips random bits of PNGs, fixes the CRCs, and
// runs checkDecodePNG: no panics, and agreement with image/png.
func TestDecodePNG_damaged(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, p := range []testPNG{newTestPNG(21, 13, 6, 8, false, false), newTestPNG(21, 13, 2, 16, true, true),
		newTestPNG(21, 13, 3, 2, true, true), newTestPNG(21, 13, 0, 1, false, true)} {
		src := p.encode(t)
		for range 300 {
			b := bytes.Clone(src)
			for range 1 + r.IntN(3) {
				b[8+r.IntN(len(b)-8)] ^= 1 << r.IntN(8)
			}
			fixCRCs(b)
			checkDecodePNG(t, b)
		}
	}
}

// pngTooLarge reports whether any IHDR-like bytes in b give more than a
// million pixels, which the fuzz targets don't decode.
func pngTooLarge(b []byte) bool {
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("IHDR"))
		if j < 0 {
			return false
		}
		i += j + 4
		if i+8 <= len(b) {
			w, h := int64(int32(binary.BigEndian.Uint32(b[i:]))), int64(int32(binary.BigEndian.Uint32(b[i+4:])))
			if w*h > 1e6 || w > 1e6 || h > 1e6 {
				return true
			}
		}
	}
}

// checkDecodePNG checks that decodePNG does not panic on b; that where
// image/png decodes b, decodePNG at 1×1 does too, to the same pixels; and
// that shrunk decodes fail or succeed with the 1×1 one and match
// boxShrink of it.
func checkDecodePNG(t *testing.T, b []byte) {
	t.Helper()
	if pngTooLarge(b) {
		return
	}
	got, err := decodePNG(b, 1, 1, 1)
	// With the rows inflated on a goroutine of their own: the same
	// pixels, or the same error and the same part of the image.
	for _, k := range [][2]int{{1, 1}, {3, 2}} {
		one, err1 := decodePNG(b, k[0], k[1], 1)
		two, err2 := decodePNG(b, k[0], k[1], 2)
		if fmt.Sprint(err1) != fmt.Sprint(err2) {
			t.Fatalf("%v: one goroutine returned %v, two %v", k, err1, err2)
		}
		var d1, d2 *damagedImage
		if errors.As(err1, &d1) && errors.As(err2, &d2) && d1.Image != nil {
			one, two = d1.Image.(*image.NRGBA), d2.Image.(*image.NRGBA)
		}
		if one != nil && !bytes.Equal(one.Pix, two.Pix) {
			t.Fatalf("%v: one goroutine and two decode different pixels", k)
		}
	}
	if img, werr := png.Decode(bytes.NewReader(b)); werr == nil {
		if err != nil {
			t.Fatalf("decodePNG returned %v; image/png decodes it", err)
		}
		if d := diffNRGBA(got, toNRGBARaw(img), 0); d != "" {
			t.Fatalf("1×1: %s", d)
		}
	}
	for _, k := range [][2]int{{3, 2}, {1, 5}} {
		s, serr := decodePNG(b, k[0], k[1], 1)
		if (err == nil) != (serr == nil) {
			t.Fatalf("decodePNG at 1×1 returned %v, at %v %v", err, k, serr)
		}
		if err == nil {
			if d := diffNRGBA(s, boxShrink(got, k[0], k[1], 1), 1); d != "" {
				t.Fatalf("%v: %s", k, d)
			}
		}
	}
}

// testPNGSeeds returns small PNGs of every kind, for the fuzz targets.
func testPNGSeeds(t testing.TB) [][]byte {
	var out [][]byte
	for _, p := range testPNGKinds(11, 7) {
		p.idat = 64
		out = append(out, p.encode(t))
	}
	return out
}

// TestDecodePNG_peakHeap decodes a 4000×3000 16-bit interlaced RGB PNG at
// 1/8 and checks the live heap stays within pngDecodeCost, far below the
// 96 MB image/png would allocate for it.
func TestDecodePNG_peakHeap(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("encodes a 12 MP PNG; skipped with -short and -race")
	}
	const w, h, k = 4000, 3000, 8
	p := testPNG{w: w, h: h, ctype: 2, depth: 16, interlaced: true, idat: 1 << 16, filters: []byte{1}, level: zlib.BestSpeed,
		sample: func(x, y, c int) int { return (x*16 + y*9 + c*5000) & 0xffff }}
	src := p.encode(t)
	var err error
	peak := peakHeap(func() { _, err = decodePNG(src, k, k, 1) })
	if err != nil {
		t.Fatal(err)
	}
	cost := pngDecodeCost(w, h, k, k, true, w*6)
	full := int64(w * h * 8) // image/png's RGBA64
	t.Logf("%d×%d 16-bit interlaced (%d KB) at 1/%d: peak live heap %.2f MB, pngDecodeCost %.2f MB, full-size RGBA64 %d MB",
		w, h, len(src)>>10, k, float64(peak)/(1<<20), float64(cost)/(1<<20), full>>20)
	if peak > cost {
		t.Errorf("peak live heap %d bytes, over pngDecodeCost %d", peak, cost)
	}
	if peak > full/20 {
		t.Errorf("peak live heap %d bytes, want under a twentieth of the full-size %d", peak, full)
	}
}

// TestPNGDecodeCost checks that pngDecodeCost bounds the bytes decodePNG
// allocates, for every kind of PNG and scale.
func TestPNGDecodeCost(t *testing.T) {
	allocated := func(fn func()) int64 {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		fn()
		runtime.ReadMemStats(&m1)
		return int64(m1.TotalAlloc - m0.TotalAlloc)
	}
	// The inflater, its input buffer and the Adler-32, on their own.
	z := encodeAs(t, newPhoto(300, 200), FormatPNG)
	infl := allocated(func() {
		zr := flate.NewReader(bufio.NewReaderSize(bytes.NewReader(z), pngReadBuffer))
		io.Copy(io.Discard, zr)
	})
	t.Logf("inflater and buffer: %d KiB; pngInflateCost %d KiB", infl>>10, pngInflateCost>>10)
	for _, size := range [][2]int{{37, 23}, {640, 480}} {
		for _, p := range testPNGKinds(size[0], size[1]) {
			src := p.encode(t)
			bits := p.depth * [...]int{1, 0, 3, 1, 2, 0, 4}[p.ctype]
			for _, k := range [][2]int{{1, 1}, {4, 4}, {1, 3}} {
				var err error
				for procs := 1; procs <= 2; procs++ {
					got := allocated(func() { _, err = decodePNG(src, k[0], k[1], procs) })
					if err != nil {
						t.Fatal(err)
					}
					if cost := pngDecodeCost(p.w, p.h, k[0], k[1], p.interlaced, (p.w*bits+7)/8); got > cost {
						t.Errorf("%s %dx%d at %v, %d goroutines: allocated %d bytes, pngDecodeCost %d", p.name, p.w, p.h, k, procs, got, cost)
					}
				}
			}
		}
	}
}

// BenchmarkDecodePNG compares decodePNG at full size and at 1/4 with
// image/png on 2000×1500 photo-like PNGs.
//
//	go test -run '^$' -bench DecodePNG -benchtime 20x ./imaging/
func BenchmarkDecodePNG(b *testing.B) {
	rgb := newPhoto(2000, 1500)
	rgba := newPhoto(2000, 1500)
	for i := 3; i < len(rgba.Pix); i += 4 {
		rgba.Pix[i] = uint8(128 + noise(i, 0, 0)%128)
	}
	for _, in := range []struct {
		name string
		img  image.Image
	}{{"rgb", rgb}, {"rgba", rgba}} {
		src := encodeAs(b, in.img, FormatPNG)
		b.Run(in.name+"/image-png", func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := png.Decode(bytes.NewReader(src)); err != nil {
					b.Fatal(err)
				}
			}
			reportMS(b, cpu0)
		})
		for _, k := range []int{1, 4} {
			b.Run(fmt.Sprintf("%s/decodePNG-%dx%d", in.name, k, k), func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					if _, err := decodePNG(src, k, k, 1); err != nil {
						b.Fatal(err)
					}
				}
				reportMS(b, cpu0)
			})
		}
	}
}
