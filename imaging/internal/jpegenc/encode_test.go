package jpegenc

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"io"
	"runtime"
	"testing"
)

// asType converts src to the given image type.
func asType(src *image.NRGBA, kind string) image.Image {
	b := src.Bounds()
	var dst draw.Image
	switch kind {
	case "NRGBA":
		return src
	case "NRGBA-alpha":
		m := image.NewNRGBA(b)
		copy(m.Pix, src.Pix)
		for i := 3; i < len(m.Pix); i += 4 {
			m.Pix[i] = uint8(i * 7)
		}
		return m
	case "RGBA":
		dst = image.NewRGBA(b)
	case "RGBA64":
		dst = image.NewRGBA64(b)
	case "Gray":
		dst = image.NewGray(b)
	case "Gray16":
		dst = image.NewGray16(b)
	case "CMYK":
		dst = image.NewCMYK(b)
	case "Paletted":
		dst = image.NewPaletted(b, color.Palette{color.Black, color.White, color.RGBA{200, 30, 30, 255}, color.RGBA{20, 90, 200, 255}})
	default: // YCbCr ratios
		ratio := map[string]image.YCbCrSubsampleRatio{
			"YCbCr420": image.YCbCrSubsampleRatio420, "YCbCr444": image.YCbCrSubsampleRatio444,
			"YCbCr422": image.YCbCrSubsampleRatio422, "YCbCr440": image.YCbCrSubsampleRatio440,
			"YCbCr411": image.YCbCrSubsampleRatio411, "YCbCr410": image.YCbCrSubsampleRatio410,
		}[kind]
		m := image.NewYCbCr(b, ratio)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := src.NRGBAAt(x, y)
				yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
				m.Y[m.YOffset(x, y)] = yy
				m.Cb[m.COffset(x, y)], m.Cr[m.COffset(x, y)] = cb, cr
			}
		}
		return m
	}
	draw.Draw(dst, b, src, b.Min, draw.Src)
	return dst
}

var kinds = []string{"NRGBA", "NRGBA-alpha", "RGBA", "RGBA64", "Gray", "Gray16", "CMYK", "Paletted",
	"YCbCr420", "YCbCr444", "YCbCr422", "YCbCr440", "YCbCr411", "YCbCr410"}

func TestEncode(t *testing.T) {
	sizes := []image.Point{{1, 1}, {7, 9}, {17, 3}, {33, 31}, {130, 67}}
	for _, kind := range kinds {
		for _, sz := range sizes {
			for _, sub := range []Subsampling{Subsample420, Subsample444} {
				src := asType(testPhoto(sz.X, sz.Y, 3), kind)
				for _, opt := range []bool{false, true} {
					var buf bytes.Buffer
					if err := Encode(&buf, src, EncodeOptions{Quality: 90, Subsampling: sub, OptimizeHuffman: opt}); err != nil {
						t.Fatalf("%s %v: %v", kind, sz, err)
					}
					got, err := jpeg.Decode(&buf)
					if err != nil {
						t.Fatalf("%s %v sub %d optimize %v: decode: %v", kind, sz, sub, opt, err)
					}
					if got.Bounds().Size() != sz {
						t.Fatalf("%s: decoded %v, want %v", kind, got.Bounds().Size(), sz)
					}
					// The yardstick: image/jpeg's encoder at the same quality
					// (which always subsamples 4:2:0).
					var ref bytes.Buffer
					jpeg.Encode(&ref, src, &jpeg.Options{Quality: 90})
					want, _ := jpeg.Decode(&ref)
					// Tiny images are a few samples: rounding decides more.
					tol := 0.5
					if sz.X*sz.Y < 100 {
						tol = 1
					}
					if p, pr := psnr(src, got), psnr(src, want); p < pr-tol && p < 45 {
						t.Errorf("%s %v sub %d: PSNR %.2f dB, image/jpeg %.2f", kind, sz, sub, p, pr)
					}
				}
			}
		}
	}
}

// TestEncode_subImage checks images whose bounds do not start at 0,0.
func TestEncode_subImage(t *testing.T) {
	for _, kind := range kinds {
		full := asType(testPhoto(64, 48, 5), kind)
		sub := full.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(image.Rect(5, 3, 50, 40))
		var buf bytes.Buffer
		if err := Encode(&buf, sub, EncodeOptions{Quality: 95}); err != nil {
			t.Fatal(err)
		}
		got, err := jpeg.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		var ref bytes.Buffer
		jpeg.Encode(&ref, sub, &jpeg.Options{Quality: 95})
		want, _ := jpeg.Decode(&ref)
		if p, pr := psnr(sub, got), psnr(sub, want); p < pr-0.5 {
			t.Errorf("%s: PSNR %.2f dB against the sub-image; image/jpeg %.2f", kind, p, pr)
		}
	}
}

// TestEncode_optimizedSmaller checks that optimised tables pay off and
// decode to the same pixels, and that quality orders sizes.
func TestEncode_optimizedSmaller(t *testing.T) {
	src := testPhoto(300, 200, 9)
	enc := func(o EncodeOptions) []byte {
		var buf bytes.Buffer
		if err := Encode(&buf, src, o); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	std, opt := enc(EncodeOptions{Quality: 85}), enc(EncodeOptions{Quality: 85, OptimizeHuffman: true})
	if len(opt) >= len(std) {
		t.Errorf("optimised %d bytes, standard %d", len(opt), len(std))
	}
	a, _ := jpeg.Decode(bytes.NewReader(std))
	b, _ := jpeg.Decode(bytes.NewReader(opt))
	if d := maxDiff(a, b); d != 0 {
		t.Errorf("optimised tables decode differently: max difference %d", d)
	}
	if lo, hi := enc(EncodeOptions{Quality: 50}), enc(EncodeOptions{Quality: 95}); len(lo) >= len(std) || len(std) >= len(hi) {
		t.Errorf("sizes at quality 50, 85, 95: %d, %d, %d", len(lo), len(std), len(hi))
	}
	var ref bytes.Buffer
	jpeg.Encode(&ref, src, &jpeg.Options{Quality: 85})
	if len(std) > ref.Len()*101/100 || len(opt) > ref.Len() {
		t.Errorf("standard tables %d bytes, optimised %d, image/jpeg %d", len(std), len(opt), ref.Len())
	}
	c := djpeg(t, opt)
	if p := psnr(a, c); p < 38 {
		t.Errorf("djpeg and image/jpeg decodes differ: PSNR %.2f dB", p)
	}
}

func TestEncode_errors(t *testing.T) {
	if err := Encode(&bytes.Buffer{}, image.NewRGBA(image.Rect(0, 0, 0, 5)), EncodeOptions{}); err == nil {
		t.Error("empty image: no error")
	}
	if err := Encode(&bytes.Buffer{}, image.NewGray(image.Rect(0, 0, 70000, 1)), EncodeOptions{}); err == nil {
		t.Error("70000 wide: no error")
	}
}

func TestZigzagTables(t *testing.T) {
	for i, n := range unzig {
		if zigzagOf[n] != uint8(i) {
			t.Errorf("zigzagOf[%d] = %d, want %d", n, zigzagOf[n], i)
		}
	}
	// quantizeZigzag agrees with quantize followed by zigzag.
	q := QuantTable(50, false)
	qz := newQuantizer(&q)
	var d [64]int32
	for i := range d {
		d[i] = int32(i*i*37%2000) - 1000
	}
	var nat, z1, z2 [64]int16
	qz.quantize(&d, &nat)
	m1 := zigzag(&nat, &z1)
	m2 := qz.quantizeZigzag(&d, &z2)
	if z1 != z2 || m1 != m2&^1 {
		t.Errorf("quantizeZigzag %v %x, want %v %x", z2, m2, z1, m1)
	}
}

// TestCost checks Cost against what Encode allocates.
func TestCost(t *testing.T) {
	for _, sz := range []image.Point{{1, 1}, {333, 17}, {640, 480}, {97, 1001}} {
		for _, o := range []EncodeOptions{{}, {Subsampling: Subsample444}, {OptimizeHuffman: true},
			{OptimizeHuffman: true, Subsampling: Subsample444}, {OptimizeHuffman: true, Statistics: StatsRecompute},
			{OptimizeHuffman: true, Statistics: StatsSampled}} {
			for _, kind := range []string{"NRGBA-alpha", "RGBA64", "YCbCr422", "Gray"} {
				src := asType(testPhoto(sz.X, sz.Y, 2), kind)
				var m0, m1 runtime.MemStats
				runtime.ReadMemStats(&m0)
				if err := Encode(io.Discard, src, o); err != nil {
					t.Fatal(err)
				}
				runtime.ReadMemStats(&m1)
				got, want := int64(m1.TotalAlloc-m0.TotalAlloc), Cost(sz.X, sz.Y, o)
				if got > want {
					t.Errorf("%v %s %+v: allocated %d bytes, Cost says %d", sz, kind, o, got, want)
				}
			}
		}
	}
}

// TestEncode_statistics checks the ways of gathering statistics: the two
// exact ones give the same file, the sampled one decodes the same and is
// close in size.
func TestEncode_statistics(t *testing.T) {
	src := testPhoto(300, 420, 4) // 27 MCU rows: the sampled pass skips some
	enc := func(o EncodeOptions) []byte {
		var buf bytes.Buffer
		if err := Encode(&buf, src, o); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	std := enc(EncodeOptions{Quality: 80})
	keep := enc(EncodeOptions{Quality: 80, OptimizeHuffman: true})
	again := enc(EncodeOptions{Quality: 80, OptimizeHuffman: true, Statistics: StatsRecompute})
	sampled := enc(EncodeOptions{Quality: 80, OptimizeHuffman: true, Statistics: StatsSampled})
	if !bytes.Equal(keep, again) {
		t.Errorf("StatsKeep and StatsRecompute differ: %d and %d bytes", len(keep), len(again))
	}
	if len(sampled) < len(keep) || len(sampled) > len(keep)*102/100 || len(sampled) >= len(std) {
		t.Errorf("sampled %d bytes; optimal %d, standard %d", len(sampled), len(keep), len(std))
	}
	a, _ := jpeg.Decode(bytes.NewReader(std))
	for name, data := range map[string][]byte{"keep": keep, "sampled": sampled} {
		b, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := maxDiff(a, b); d != 0 {
			t.Errorf("%s decodes differently from standard tables: max difference %d", name, d)
		}
	}
	if p := psnr(a, djpeg(t, sampled)); p < 38 {
		t.Errorf("djpeg and image/jpeg decodes of the sampled file differ: PSNR %.2f dB", p)
	}
}

// FuzzEncode encodes images of any size and type and checks image/jpeg
// reads them back at that size.
func FuzzEncode(f *testing.F) {
	f.Add(uint16(1), uint16(1), uint8(0), uint8(85), false, false)
	f.Add(uint16(7), uint16(9), uint8(3), uint8(1), true, true)
	f.Add(uint16(17), uint16(3), uint8(8), uint8(100), false, true)
	f.Add(uint16(300), uint16(290), uint8(12), uint8(50), true, true)
	f.Fuzz(func(t *testing.T, w, h uint16, kind, quality uint8, sub444, optimize bool) {
		w, h = w%400+1, h%400+1
		src := asType(testPhoto(int(w), int(h), uint64(kind)), kinds[int(kind)%len(kinds)])
		o := EncodeOptions{Quality: int(quality) % 101, OptimizeHuffman: optimize, Statistics: Statistics(kind % 3)}
		if sub444 {
			o.Subsampling = Subsample444
		}
		var buf bytes.Buffer
		if err := Encode(&buf, src, o); err != nil {
			t.Fatal(err)
		}
		got, err := jpeg.Decode(&buf)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if got.Bounds().Size() != src.Bounds().Size() {
			t.Fatalf("decoded %v, want %v", got.Bounds().Size(), src.Bounds().Size())
		}
	})
}
