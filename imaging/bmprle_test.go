package imaging

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// rleSkip marks a pixel rleBMP leaves to a delta or an early end of line.
const rleSkip = -1

// rleBMP writes a w×h RLE8 (bits 8) or RLE4 (bits 4) BMP of palette
// indices idx (row-major, the top row first; rleSkip for pixels the data
// skips). It uses every construct of the format: encoded runs, absolute
// runs of odd and even lengths (word padding), deltas right and up, ends
// of line before the row is complete, and an end of bitmap before the
// last rows. Neither ImageMagick nor libtiff-era tools write RLE4 or
// deltas, so the tests make their own.
func rleBMP(w, h, bits int, idx []int, pal []color.RGBA, topDown bool) []byte {
	var d []byte
	at := func(x, y int) int { // y in file order
		if !topDown {
			y = h - 1 - y
		}
		return idx[y*w+x]
	}
	restSkipped := func(x, y int) bool {
		for ; x < w; x++ {
			if at(x, y) != rleSkip {
				return false
			}
		}
		return true
	}
	pack := func(vals []int) []byte { // absolute-run bytes, word padded
		var out []byte
		if bits == 8 {
			for _, v := range vals {
				out = append(out, byte(v))
			}
		} else {
			for i := 0; i < len(vals); i += 2 {
				b := byte(vals[i]) << 4
				if i+1 < len(vals) {
					b |= byte(vals[i+1])
				}
				out = append(out, b)
			}
		}
		if len(out)%2 == 1 {
			out = append(out, 0)
		}
		return out
	}
	lastRow := h - 1
	for lastRow >= 0 && restSkipped(0, lastRow) {
		lastRow--
	}
	for y := 0; y <= lastRow; y++ {
		if restSkipped(0, y) {
			d = append(d, 0, 2, 0, 1) // delta: one row up, at x = 0
			continue
		}
		for x := 0; x < w; {
			v := at(x, y)
			if v == rleSkip {
				if restSkipped(x, y) {
					break // the end of line skips the rest
				}
				n := 0
				for x+n < w && at(x+n, y) == rleSkip && n < 255 {
					n++
				}
				d = append(d, 0, 2, byte(n), 0)
				x += n
				continue
			}
			n := 1
			for x+n < w && at(x+n, y) == v && n < 255 {
				n++
			}
			if n >= 3 {
				b := byte(v)
				if bits == 4 {
					b = byte(v<<4 | v)
				}
				d = append(d, byte(n), b)
				x += n
				continue
			}
			// Literal pixels up to the next run of 3, skip or the edge.
			var lit []int
			for x < w && len(lit) < 255 && at(x, y) != rleSkip {
				if x+2 < w && at(x, y) == at(x+1, y) && at(x, y) == at(x+2, y) {
					break
				}
				lit = append(lit, at(x, y))
				x++
			}
			switch {
			case len(lit) >= 3:
				d = append(d, 0, byte(len(lit)))
				d = append(d, pack(lit)...)
			default:
				for _, v := range lit {
					b := byte(v)
					if bits == 4 {
						b = byte(v << 4)
					}
					d = append(d, 1, b)
				}
			}
		}
		if y < lastRow {
			d = append(d, 0, 0)
		}
	}
	d = append(d, 0, 1)

	const infoLen = 40
	offset := 14 + infoLen + 4*len(pal)
	out := make([]byte, offset, offset+len(d))
	copy(out, "BM")
	le := binary.LittleEndian
	le.PutUint32(out[2:], uint32(offset+len(d)))
	le.PutUint32(out[10:], uint32(offset))
	le.PutUint32(out[14:], infoLen)
	le.PutUint32(out[18:], uint32(w))
	ht := int32(h)
	if topDown {
		ht = -ht
	}
	le.PutUint32(out[22:], uint32(ht))
	le.PutUint16(out[26:], 1)
	le.PutUint16(out[28:], uint16(bits))
	comp := uint32(bmpRLE8)
	if bits == 4 {
		comp = bmpRLE4
	}
	le.PutUint32(out[30:], comp)
	le.PutUint32(out[34:], uint32(len(d)))
	le.PutUint32(out[46:], uint32(len(pal)))
	for i, c := range pal {
		copy(out[54+4*i:], []byte{c.B, c.G, c.R, 0})
	}
	return append(out, d...)
}

// rleCase is a w×h image of palette indices with runs, noise and skipped
// areas, and the image the decoder must give for it.
func rleCase(w, h, bits int, seed uint64, skips bool) ([]int, []color.RGBA, *image.NRGBA) {
	r := rand.New(rand.NewPCG(seed, 7))
	ncol := 1 << bits
	if bits == 8 {
		ncol = 200 // a palette shorter than 256
	}
	pal := make([]color.RGBA, ncol)
	for i := range pal {
		pal[i] = color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
	}
	idx := make([]int, w*h)
	want := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := (x/7 + y/5) % ncol // runs
			if r.IntN(4) == 0 {
				v = r.IntN(ncol) // and literals
			}
			if skips && (x > w/3 && x < w/3+9 && y%4 != 0 || y == h/2 || y == h/2+1 || x > w-5 && y%3 == 0 || y < 2) {
				v = rleSkip
			}
			idx[y*w+x] = v
			if v != rleSkip {
				c := pal[v]
				want.SetNRGBA(x, y, color.NRGBA{c.R, c.G, c.B, 255})
			}
		}
	}
	return idx, pal, want
}

func TestDecodeBMPRLE(t *testing.T) {
	for _, tt := range []struct {
		name          string
		w, h, bits    int
		topDown, skip bool
	}{
		{"rle8", 61, 37, 8, false, false},
		{"rle8 deltas", 61, 37, 8, false, true},
		{"rle8 top-down deltas", 300, 20, 8, true, true},
		{"rle4", 33, 21, 4, false, false},
		{"rle4 deltas", 33, 21, 4, false, true},
		{"rle4 top-down deltas", 34, 22, 4, true, true},
		{"rle4 1×1", 1, 1, 4, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			idx, pal, want := rleCase(tt.w, tt.h, tt.bits, uint64(tt.w), tt.skip)
			b := rleBMP(tt.w, tt.h, tt.bits, idx, pal, tt.topDown)
			info, err := Inspect(b)
			if err != nil || info.Width != tt.w || info.Height != tt.h || info.Format != FormatBMP {
				t.Fatalf("Inspect = %+v, %v", info, err)
			}
			img, err := decodeBMP(b, info, Scale{1, 1}, 1)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := img.(*image.NRGBA)
			if !ok || got.Bounds() != want.Bounds() {
				t.Fatalf("decoded %T %v, want *image.NRGBA %v", img, img.Bounds(), want.Bounds())
			}
			if !bytes.Equal(got.Pix, want.Pix) {
				for y := range tt.h {
					for x := range tt.w {
						if got.NRGBAAt(x, y) != want.NRGBAAt(x, y) {
							t.Fatalf("pixel %d,%d = %v, want %v (index %d)", x, y, got.NRGBAAt(x, y), want.NRGBAAt(x, y), idx[y*tt.w+x])
						}
					}
				}
			}
			if tt.name == "rle8" {
				// Pillow 9.4 (Debian 12) misreads deltas (it reads four
				// bytes after the escape) and odd RLE4 absolute runs, so
				// it is the oracle for RLE8 without deltas only.
				pillowCheck(t, b, want)
			}
		})
	}
}

// pillowCheck decodes b with Pillow, the oracle, and compares it with want.
func pillowCheck(t *testing.T, b []byte, want *image.NRGBA) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil || exec.Command(py, "-c", "import PIL").Run() != nil {
		t.Log("python3 with PIL not found (Debian: python3-pil): the Pillow cross-check is skipped")
		return
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.bmp")
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", "import sys; from PIL import Image; sys.stdout.buffer.write(Image.open(sys.argv[1]).convert('RGB').tobytes())", in).Output()
	if err != nil {
		t.Fatalf("Pillow: %v", err)
	}
	if len(out) != len(want.Pix)/4*3 {
		t.Fatalf("Pillow gave %d bytes", len(out))
	}
	for i := 0; i < len(want.Pix)/4; i++ {
		if !bytes.Equal(out[3*i:3*i+3], want.Pix[4*i:4*i+3]) {
			t.Fatalf("pixel %d: Pillow %v, imgsvc %v", i, out[3*i:3*i+3], want.Pix[4*i:4*i+3])
		}
	}
}

// The RLE8 file ImageMagick writes (convert in.png -type Palette -compress
// RLE BMP3:rle8.bmp) decodes to the PNG Pillow decodes it to.
func TestDecodeBMPRLE_imageMagickFixture(t *testing.T) {
	b, err := os.ReadFile("testdata/rle8-imagemagick.bmp")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := os.ReadFile("testdata/rle8-imagemagick.pillow.png")
	if err != nil {
		t.Fatal(err)
	}
	res := processTo(t, b, FormatPNG)
	if d := maxDiff(t, res, ref); d != 0 {
		t.Errorf("the decoded RLE8 BMP differs from Pillow's decode by up to %d", d)
	}
}

func TestDecodeBMPRLE_damage(t *testing.T) {
	idx, pal, _ := rleCase(40, 30, 8, 1, true)
	good := rleBMP(40, 30, 8, idx, pal, false)
	for _, tt := range []struct {
		name string
		b    []byte
		want string
	}{
		{"cut in the data", good[:len(good)-40], "RLE data ends"},
		{"palette past the end", good[:200], "past the end"},
		{"RLE4 with 8 bits", func() []byte { b := bytes.Clone(good); b[30] = bmpRLE4; return b }(), "contradicts"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeBMP(tt.b, Info{}, Scale{1, 1}, 1)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
			if e := corrupt(FormatBMP, err); e.Code != CodeCorruptImage {
				t.Errorf("classified %s, want corrupt_image", e.Code)
			}
		})
	}
	// Runs past the right edge and deltas past the bottom are cut, not errors.
	wide := rleBMP(4, 2, 8, []int{1, 1, 1, 1, 2, 2, 2, 2}, pal, false)
	wide = append(wide[:len(wide)-2], 0, 2, 200, 200, 0, 1) // a delta far away, then the end
	if _, err := decodeBMP(wide, Info{}, Scale{1, 1}, 1); err != nil {
		t.Errorf("a delta out of the image: %v", err)
	}
}

// BMP features golang.org/x/image/bmp refuses are named, and /v1/info
// still reads their dimensions.
func TestBMP_unsupportedFeatures(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 9, 7))
	b24 := encodeAs(t, src, FormatBMP)
	set := func(b []byte, off int, v uint32, size int) []byte {
		b = bytes.Clone(b)
		if size == 2 {
			binary.LittleEndian.PutUint16(b[off:], uint16(v))
		} else {
			binary.LittleEndian.PutUint32(b[off:], v)
		}
		return b
	}
	p := NewPipeline(Limits{}, inline{}, nil)
	for _, tt := range []struct {
		name, feature string
		b             []byte
	}{
		{"16-bit", "16-bit pixels", set(b24, 28, 16, 2)},
		{"bit fields", "bit-field masks", set(set(b24, 30, bmpBitfields, 4), 28, 16, 2)},
		{"embedded PNG", "embeds PNG data", set(b24, 30, bmpPNG, 4)},
		{"gap before the pixels", "gap of 4 bytes", set(b24, 10, 54+4, 4)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			info, err := Inspect(tt.b)
			if err != nil || info.Width != 9 || info.Height != 7 {
				t.Fatalf("Inspect = %+v, %v; want 9×7", info, err)
			}
			opt, _ := ParseOptions(map[string][]string{OptFormat: {"png"}}, nil)
			_, err = p.Process(t.Context(), tt.b, opt)
			if e, ok := err.(*Error); !ok || e.Code != CodeUnsupportedImageFeature || !strings.Contains(e.Detail, tt.feature) {
				t.Fatalf("Process: %v, want unsupported_image_feature naming %q", err, tt.feature)
			}
		})
	}
}

// rleFromImage is img as an RLE8 BMP of a 216-colour palette, or an RLE4
// BMP of 8 colours.
func rleFromImage(img *image.NRGBA, bits int) []byte {
	b := img.Bounds()
	var pal []color.RGBA
	if bits == 8 {
		for i := range 216 {
			pal = append(pal, color.RGBA{uint8(i / 36 * 51), uint8(i / 6 % 6 * 51), uint8(i % 6 * 51), 255})
		}
	} else {
		for i := range 8 {
			pal = append(pal, color.RGBA{uint8(i >> 2 * 255), uint8(i >> 1 & 1 * 255), uint8(i & 1 * 255), 255})
		}
	}
	idx := make([]int, 0, b.Dx()*b.Dy())
	for i := 0; i < len(img.Pix); i += 4 {
		r, g, bl := int(img.Pix[i]), int(img.Pix[i+1]), int(img.Pix[i+2])
		if bits == 8 {
			idx = append(idx, (r+25)/51*36+(g+25)/51*6+(bl+25)/51)
		} else {
			idx = append(idx, r>>7<<2|g>>7<<1|bl>>7)
		}
	}
	return rleBMP(b.Dx(), b.Dy(), bits, idx, pal, false)
}
