package imaging

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"io"
	"testing"

	"github.com/klauspost/compress/zlib"
)

// TestEncodePNG writes images of every type encodePNG handles itself, and
// some it leaves to image/png, and checks that image/png reads back exactly
// the pixels each image has, with the colour type expected: grey, RGB for
// opaque images, RGBA otherwise.
func TestEncodePNG(t *testing.T) {
	photo := newPhoto(97, 61)
	alpha := texture(64, 33)
	for i := 3; i < len(alpha.Pix); i += 4 {
		alpha.Pix[i] = uint8(i * 7)
	}
	rgba := image.NewRGBA(photo.Rect)
	copy(rgba.Pix, photo.Pix)
	gray := image.NewGray(image.Rect(0, 0, 50, 41))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i*i/7 + i%5)
	}
	halfAlpha := image.NewRGBA(image.Rect(0, 0, 9, 9))
	for i := range halfAlpha.Pix {
		halfAlpha.Pix[i] = 0x40
	}
	pal := image.NewPaletted(image.Rect(0, 0, 12, 7), color.Palette{color.Black, color.White, color.NRGBA{200, 10, 10, 255}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 3)
	}
	cases := []struct {
		name  string
		img   image.Image
		ctype byte // 0 when image/png writes it
	}{
		{"nrgba opaque", photo, 2},
		{"nrgba alpha", alpha, 6},
		{"nrgba sub-image", photo.SubImage(image.Rect(13, 7, 80, 50)), 2},
		{"rgba opaque", rgba, 2},
		{"gray", gray, 0},
		{"gray sub-image", gray.SubImage(image.Rect(3, 5, 40, 30)), 0},
		{"ycbcr 4:2:0", ycbcrOf(photo, image.YCbCrSubsampleRatio420), 2},
		{"ycbcr 4:4:4 sub-image", ycbcrOf(photo, image.YCbCrSubsampleRatio444).SubImage(image.Rect(1, 1, 60, 40)), 2},
		{"1x1", texture(1, 1), 2},
		{"one column", texture(1, 30), 2},
		{"one row", texture(40, 1), 2},
		{"rgba translucent (image/png)", halfAlpha, 6},
		{"paletted (image/png)", pal, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := encodePNG(&buf, c.img); err != nil {
				t.Fatal(err)
			}
			got, err := png.Decode(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatalf("image/png cannot read it: %v", err)
			}
			if ct := buf.Bytes()[25]; ct != c.ctype {
				t.Errorf("colour type %d, want %d", ct, c.ctype)
			}
			b := c.img.Bounds()
			if got.Bounds().Size() != b.Size() {
				t.Fatalf("size %v, want %v", got.Bounds().Size(), b.Size())
			}
			for y := range b.Dy() {
				for x := range b.Dx() {
					want := color.NRGBAModel.Convert(c.img.At(b.Min.X+x, b.Min.Y+y))
					if g := color.NRGBAModel.Convert(got.At(x, y)); g != want {
						t.Fatalf("pixel (%d,%d) is %v, want %v", x, y, g, want)
					}
				}
			}
		})
	}
}

// TestEncodePNG_filters checks that the rows of a varied image use all five
// of PNG's filters (so that each is exercised by the round trips of
// TestEncodePNG), and that a flat image stays small.
func TestEncodePNG_filters(t *testing.T) {
	// Bands of sparse noise (None), gradients (Sub), noise, a smooth texture
	// (Paeth or Average), diagonals (Up).
	m := image.NewNRGBA(image.Rect(0, 0, 120, 80))
	seed := uint32(7)
	for y := range 80 {
		for x := range 120 {
			var v uint8
			switch y / 16 {
			case 0: // sparse spikes on black: None (and Up is None here)
				seed = seed*1664525 + 1013904223
				if seed>>28 == 0 {
					v = 40
				}
			case 1:
				v = uint8(x*3 + 16*y)
			case 2:
				seed = seed*1664525 + 1013904223
				v = uint8(seed >> 24)
			case 3:
				v = uint8((x*x + y*y) / 40)
			default:
				v = uint8((x + y) / 2)
			}
			m.SetNRGBA(x, y, color.NRGBA{v, v / 2, 255 - v, 255})
		}
	}
	var buf bytes.Buffer
	if err := encodePNG(&buf, m); err != nil {
		t.Fatal(err)
	}
	used := map[byte]int{}
	for _, f := range pngRowFilters(t, buf.Bytes(), 3*120) {
		used[f]++
	}
	for f := range byte(5) {
		if used[f] == 0 {
			t.Errorf("filter %d is never used: %v", f, used)
		}
	}
	flat := image.NewNRGBA(image.Rect(0, 0, 1000, 1000))
	for i := range flat.Pix {
		flat.Pix[i] = 0x80
	}
	buf.Reset()
	if err := encodePNG(&buf, flat); err != nil {
		t.Fatal(err)
	}
	// 4 MB of samples; image/png takes 6 KB, klauspost/compress at level 5
	// 23 KB (it does not find matches across the rows' filter bytes).
	if buf.Len() > 40000 {
		t.Errorf("a flat 1000×1000 image took %d bytes", buf.Len())
	}
}

// pngRowFilters returns the filter type of each row of an encoded PNG whose
// rows are rowBytes long.
func pngRowFilters(t *testing.T, b []byte, rowBytes int) []byte {
	t.Helper()
	var z []byte
	for p := 8; p+8 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[p:]))
		if string(b[p+4:p+8]) == "IDAT" {
			z = append(z, b[p+8:p+8+n]...)
		}
		p += 12 + n
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var f []byte
	for i := 0; i < len(raw); i += rowBytes + 1 {
		f = append(f, raw[i])
	}
	return f
}

// FuzzEncodePNG writes images of fuzzed size, type, sub-rectangle and
// pixels, and checks image/png reads back exactly their pixels.
func FuzzEncodePNG(f *testing.F) {
	f.Add(uint8(3), uint8(2), uint8(0), uint8(0), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add(uint8(17), uint8(9), uint8(1), uint8(3), []byte{255, 0, 128})
	f.Add(uint8(1), uint8(1), uint8(2), uint8(0), []byte{0})
	f.Add(uint8(40), uint8(5), uint8(3), uint8(1), []byte{9, 200, 31, 77, 0, 255})
	f.Fuzz(func(t *testing.T, w, h, kind, off uint8, pix []byte) {
		W, H := int(w%64)+1, int(h%64)+1
		r := image.Rect(0, 0, W, H)
		fill := func(p []byte) {
			for i := range p {
				if len(pix) > 0 {
					p[i] = pix[i%len(pix)] + uint8(i/len(pix))
				}
			}
		}
		var img image.Image
		switch kind % 5 {
		case 0:
			m := image.NewNRGBA(r)
			fill(m.Pix)
			img = m
		case 1: // opaque NRGBA
			m := image.NewNRGBA(r)
			fill(m.Pix)
			for i := 3; i < len(m.Pix); i += 4 {
				m.Pix[i] = 255
			}
			img = m
		case 2:
			m := image.NewGray(r)
			fill(m.Pix)
			img = m
		case 3:
			m := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
			fill(m.Y)
			fill(m.Cb)
			fill(m.Cr)
			img = m
		default: // RGBA: premultiplied, so colour no more than alpha
			m := image.NewRGBA(r)
			fill(m.Pix)
			for i := 0; i < len(m.Pix); i += 4 {
				for k := range 3 {
					m.Pix[i+k] = min(m.Pix[i+k], m.Pix[i+3])
				}
			}
			img = m
		}
		if o := int(off % 4); o > 0 && W > o && H > o {
			img = img.(interface {
				SubImage(image.Rectangle) image.Image
			}).SubImage(image.Rect(o, o, W, H))
		}
		var buf bytes.Buffer
		if err := encodePNG(&buf, img); err != nil {
			t.Fatal(err)
		}
		got, err := png.Decode(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("image/png cannot read it: %v", err)
		}
		b := img.Bounds()
		if got.Bounds().Size() != b.Size() {
			t.Fatalf("size %v, want %v", got.Bounds().Size(), b.Size())
		}
		for y := range b.Dy() {
			for x := range b.Dx() {
				want := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y))
				if g := color.NRGBAModel.Convert(got.At(x, y)); g != want {
					t.Fatalf("%T: pixel (%d,%d) is %v, want %v", img, x, y, g, want)
				}
			}
		}
	})
}
