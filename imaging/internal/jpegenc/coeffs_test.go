package jpegenc

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// testPhoto is a smooth picture with edges and some noise, so every kind
// of coefficient shows up.
func testPhoto(w, h int, seed uint64) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			r := 128 + 100*math.Sin(fx*9+fy*3)
			g := 255 * fy
			b := 60.0
			if (x/13+y/17)%2 == 0 {
				b = 200
			}
			n := rng.Float64()*24 - 12
			img.SetNRGBA(x, y, color.NRGBA{clamp8(r + n), clamp8(g + n), clamp8(b + n), 255})
		}
	}
	return img
}

func clamp8(v float64) uint8 { return uint8(max(0, min(255, math.Round(v)))) }

// frameOf computes a 4:2:0 (or grey) frame the straightforward way: float
// colour conversion to whole planes, then fdct and quantize block by block.
func frameOf(img image.Image, quality int, grey bool) *Frame {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	ncomp, hs := 3, 2
	if grey {
		ncomp, hs = 1, 1
	}
	mw, mh := ceilDiv(w, 8*hs)*8*hs, ceilDiv(h, 8*hs)*8*hs
	planes := make([][]float64, 3)
	for i := range planes {
		planes[i] = make([]float64, mw*mh)
	}
	for y := 0; y < mh; y++ {
		for x := 0; x < mw; x++ {
			r, g, bb, _ := img.At(b.Min.X+min(x, w-1), b.Min.Y+min(y, h-1)).RGBA()
			R, G, B := float64(r>>8), float64(g>>8), float64(bb>>8)
			planes[0][y*mw+x] = 0.299*R + 0.587*G + 0.114*B
			planes[1][y*mw+x] = -0.168736*R - 0.331264*G + 0.5*B + 128
			planes[2][y*mw+x] = 0.5*R - 0.418688*G - 0.081312*B + 128
		}
	}
	f := &Frame{Width: w, Height: h}
	for ci := 0; ci < ncomp; ci++ {
		sub := 1
		if ci > 0 {
			sub = 2
		}
		cw, ch := mw/sub, mh/sub
		c := Component{ID: uint8(ci + 1), H: hs, V: hs, Quant: QuantTable(quality, ci > 0), BlocksW: cw / 8, BlocksH: ch / 8}
		if ci > 0 {
			c.H, c.V = 1, 1
		}
		c.Coeffs = make([]int16, c.BlocksW*c.BlocksH*64)
		qz := newQuantizer(&c.Quant)
		for by := 0; by < c.BlocksH; by++ {
			for bx := 0; bx < c.BlocksW; bx++ {
				var d [64]int32
				for y := 0; y < 8; y++ {
					for x := 0; x < 8; x++ {
						var s float64
						for dy := 0; dy < sub; dy++ {
							for dx := 0; dx < sub; dx++ {
								s += planes[ci][((by*8+y)*sub+dy)*mw+(bx*8+x)*sub+dx]
							}
						}
						d[y*8+x] = int32(math.Round(s / float64(sub*sub)))
					}
				}
				fdct(&d)
				qz.quantize(&d, blockAt(&c, bx, by))
			}
		}
		f.Components = append(f.Components, c)
	}
	return f
}

// psnr compares two images over the bounds of a.
func psnr(a, b image.Image) float64 {
	var se float64
	n := 0
	ab, bb := a.Bounds(), b.Bounds()
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			r1, g1, b1, _ := a.At(ab.Min.X+x, ab.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			for _, d := range []float64{float64(r1>>8) - float64(r2>>8), float64(g1>>8) - float64(g2>>8), float64(b1>>8) - float64(b2>>8)} {
				se += d * d
			}
			n += 3
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(n)))
}

// maxDiff is the largest difference of any channel of two images.
func maxDiff(a, b image.Image) int {
	m := 0
	ab, bb := a.Bounds(), b.Bounds()
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			r1, g1, b1, _ := a.At(ab.Min.X+x, ab.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			for _, d := range []int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8)} {
				m = max(m, d, -d)
			}
		}
	}
	return m
}

// djpeg decodes with libjpeg-turbo's djpeg, or skips.
func djpeg(t *testing.T, data []byte) image.Image {
	t.Helper()
	bin, err := exec.LookPath("djpeg")
	if err != nil {
		t.Skip("djpeg not found (Debian package libjpeg-turbo-progs)")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jpg")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-nosmooth", "-pnm", in).Output()
	if err != nil {
		t.Fatalf("djpeg: %v", err)
	}
	img, err := readPNM(out)
	if err != nil {
		t.Fatalf("djpeg output: %v", err)
	}
	return img
}

// readPNM reads the binary PGM or PPM djpeg writes.
func readPNM(b []byte) (image.Image, error) {
	var magic string
	var w, h, maxv int
	r := bytes.NewReader(b)
	if _, err := fmt.Fscan(r, &magic, &w, &h, &maxv); err != nil {
		return nil, err
	}
	pix := b[len(b)-r.Len()+1:]
	if magic == "P5" {
		g := image.NewGray(image.Rect(0, 0, w, h))
		copy(g.Pix, pix)
		return g, nil
	}
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ {
		m.Pix[4*i], m.Pix[4*i+1], m.Pix[4*i+2], m.Pix[4*i+3] = pix[3*i], pix[3*i+1], pix[3*i+2], 255
	}
	return m, nil
}

func TestWriteCoefficients(t *testing.T) {
	tests := []struct {
		name string
		w, h int
		grey bool
	}{
		{"colour", 203, 150, false},
		{"grey", 97, 61, true},
		{"tiny", 1, 1, false},
		{"odd", 17, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := testPhoto(tt.w, tt.h, 7)
			f := frameOf(src, 85, tt.grey)
			var std, opt bytes.Buffer
			if err := WriteCoefficients(&std, f, Options{}); err != nil {
				t.Fatal(err)
			}
			if err := WriteCoefficients(&opt, f, Options{OptimizeHuffman: true}); err != nil {
				t.Fatal(err)
			}
			a, err := jpeg.Decode(bytes.NewReader(std.Bytes()))
			if err != nil {
				t.Fatalf("image/jpeg, standard tables: %v", err)
			}
			b, err := jpeg.Decode(bytes.NewReader(opt.Bytes()))
			if err != nil {
				t.Fatalf("image/jpeg, optimised tables: %v", err)
			}
			if got := a.Bounds().Size(); got != image.Pt(tt.w, tt.h) {
				t.Fatalf("decoded size %v, want %dx%d", got, tt.w, tt.h)
			}
			if d := maxDiff(a, b); d != 0 {
				t.Errorf("optimised tables decode differently: max difference %d", d)
			}
			if tt.w*tt.h > 1000 && opt.Len() >= std.Len() {
				t.Errorf("optimised tables: %d bytes, standard %d; want smaller", opt.Len(), std.Len())
			}
			var want image.Image = src
			if tt.grey {
				g := image.NewGray(src.Bounds())
				for y := 0; y < tt.h; y++ {
					for x := 0; x < tt.w; x++ {
						g.Set(x, y, src.At(x, y))
					}
				}
				want = g
			}
			// image/jpeg's own encoder at the same quality is the yardstick.
			var ref bytes.Buffer
			if err := jpeg.Encode(&ref, want, &jpeg.Options{Quality: 85}); err != nil {
				t.Fatal(err)
			}
			r, _ := jpeg.Decode(&ref)
			if p, pr := psnr(want, a), psnr(want, r); p < pr-0.3 {
				t.Errorf("PSNR against the source %.2f dB; image/jpeg's encoder gets %.2f", p, pr)
			}
			for _, data := range [][]byte{std.Bytes(), opt.Bytes()} {
				c := djpeg(t, data)
				if c.Bounds() != a.Bounds() {
					t.Fatalf("djpeg size %v, image/jpeg %v", c.Bounds(), a.Bounds())
				}
				// The two decoders' IDCTs differ a little.
				if p := psnr(a, c); p < 38 {
					t.Errorf("djpeg and image/jpeg decodes differ: PSNR %.2f dB", p)
				}
			}
		})
	}
}

func TestWriteCoefficients_errors(t *testing.T) {
	good := func() *Frame { return frameOf(testPhoto(16, 16, 1), 85, false) }
	tests := []struct {
		name string
		edit func(f *Frame, o *Options)
	}{
		{"progressive", func(f *Frame, o *Options) { o.Progressive = true }},
		{"no size", func(f *Frame, o *Options) { f.Width = 0 }},
		{"two components", func(f *Frame, o *Options) { f.Components = f.Components[:2] }},
		{"short coefficients", func(f *Frame, o *Options) { f.Components[1].Coeffs = f.Components[1].Coeffs[:10] }},
		{"too few blocks", func(f *Frame, o *Options) { f.Components[0].BlocksW = 1 }},
		{"zero quant", func(f *Frame, o *Options) { f.Components[0].Quant[5] = 0 }},
		{"same ID", func(f *Frame, o *Options) { f.Components[2].ID = f.Components[1].ID }},
		{"bad segment", func(f *Frame, o *Options) { o.Segments = [][]byte{{0xFF, 0xE1, 0, 9}} }},
		{"AC out of range", func(f *Frame, o *Options) { f.Components[0].Coeffs[5] = 2000 }},
		{"DC out of range", func(f *Frame, o *Options) { f.Components[0].Coeffs[0] = 3000 }},
	}
	for _, tt := range tests {
		for _, optimize := range []bool{false, true} {
			f, o := good(), Options{OptimizeHuffman: optimize}
			tt.edit(f, &o)
			if err := WriteCoefficients(&bytes.Buffer{}, f, o); err == nil {
				t.Errorf("%s (optimize %v): no error", tt.name, optimize)
			}
		}
	}
}

func TestWriteCoefficients_segments(t *testing.T) {
	f := frameOf(testPhoto(16, 16, 1), 85, false)
	exif := append([]byte{0xFF, 0xE1, 0, 10}, "Exif\x00\x00ab"...)
	var buf bytes.Buffer
	if err := WriteCoefficients(&buf, f, Options{Segments: [][]byte{exif}}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if !bytes.HasPrefix(b[2:], []byte{0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F'}) {
		t.Errorf("no JFIF APP0 after SOI: % x", b[:12])
	}
	if !bytes.HasPrefix(b[20:], exif) {
		t.Errorf("Exif segment not after JFIF: % x", b[20:34])
	}
	app0 := append([]byte{0xFF, 0xE0, 0, 7}, "JFXX\x00"...)
	buf.Reset()
	if err := WriteCoefficients(&buf, f, Options{Segments: [][]byte{app0}}); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes()[2:], app0) {
		t.Errorf("an APP0 segment given should replace the JFIF one: % x", buf.Bytes()[:12])
	}
	if _, err := jpeg.Decode(&buf); err != nil {
		t.Error(err)
	}
}

// TestWriteCoefficients_wideQuant checks a quantisation table with entries
// over 255: 16-bit DQT and an extended sequential (SOF1) frame.
func TestWriteCoefficients_wideQuant(t *testing.T) {
	f := frameOf(testPhoto(64, 48, 2), 85, false)
	y := &f.Components[0]
	for b := 0; b < len(y.Coeffs); b += 64 {
		for i := 0; i < 64; i++ {
			c := &y.Coeffs[b+i]
			*c = int16(math.Round(float64(*c) * float64(y.Quant[i]) / 300))
		}
	}
	for i := range y.Quant {
		y.Quant[i] = 300
	}
	var buf bytes.Buffer
	if err := WriteCoefficients(&buf, f, Options{OptimizeHuffman: true}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte{0xFF, 0xC1}) {
		t.Error("no SOF1 marker")
	}
	a, err := jpeg.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if p := psnr(a, djpeg(t, buf.Bytes())); p < 38 {
		t.Errorf("djpeg and image/jpeg decodes differ: PSNR %.2f dB", p)
	}
}
