package imaging

import (
	"bytes"
	"errors"
	"image/color"
	"os"
	"testing"
)

// fuzzDecodeOne runs the probe and the decoder of the codec b sniffs as:
// neither may panic; a refusal is unsupported_image_format, corrupt_image
// or unsupported_image_feature; a decoded image has the probe's size. Images
// over a quarter megapixel (or coding frames over a megapixel) are probed,
// not decoded: the fuzzer's throughput matters more than their size.
func fuzzDecodeOne(t *testing.T, b []byte) {
	info, err := Inspect(b)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("Inspect returned %T %v, want *Error", err, err)
		}
		switch e.Code {
		case CodeUnsupportedImageFormat, CodeCorruptImage, CodeUnsupportedImageFeature, CodeTruncatedImage:
		default:
			t.Fatalf("Inspect returned %v", err)
		}
		return
	}
	if info.Pixels() > 1<<18 || info.hdr.codedPixels > 1<<20 {
		return
	}
	c := codecOf(info.Format)
	if cost := c.Decoder.Cost(info, Scale{1, 1}); cost.Peak <= 0 {
		t.Fatalf("cost %+v", cost)
	}
	img, err := c.Decoder.Decode(b, info, Scale{1, 1}, 1)
	if err != nil {
		if _, _, derr := settleDamage(info.Format, b, err, true); derr != err {
			return // a truncated or damaged image, settled as the pipeline does
		}
		if e := corrupt(info.Format, err); e.Code != CodeCorruptImage && e.Code != CodeUnsupportedImageFeature {
			t.Fatalf("decode error classified %s: %v", e.Code, err)
		}
		return
	}
	if r := img.Bounds(); r.Dx() != info.Width || r.Dy() != info.Height {
		t.Fatalf("decoded %v, the probe said %d×%d", r, info.Width, info.Height)
	}
}

// FuzzBMPRLE fuzzes the BMP probe and the RLE8/RLE4 decoder, seeded with
// RLE files using every construct (runs, absolute runs, deltas, early ends
// of line and of bitmap, top-down) and ImageMagick's RLE8 fixture.
func FuzzBMPRLE(f *testing.F) {
	for i, c := range []struct {
		w, h, bits    int
		topDown, skip bool
	}{{9, 7, 8, false, true}, {9, 7, 4, true, true}, {16, 5, 8, true, false}, {5, 9, 4, false, false}} {
		idx, pal, _ := rleCase(c.w, c.h, c.bits, uint64(i), c.skip)
		f.Add(rleBMP(c.w, c.h, c.bits, idx, pal, c.topDown))
	}
	if b, err := os.ReadFile("testdata/rle8-imagemagick.bmp"); err == nil {
		f.Add(b)
	}
	pal := []color.RGBA{{1, 2, 3, 255}, {4, 5, 6, 255}}
	f.Add(rleBMP(3, 2, 8, []int{0, 1, 0, 1, 1, 1}, pal, false)[:60])
	f.Fuzz(func(t *testing.T, b []byte) {
		if !bytes.HasPrefix(b, []byte("BM")) {
			return
		}
		fuzzDecodeOne(t, b)
	})
}

// FuzzTIFFExtra fuzzes the TIFF probe and the reader of JPEG-compressed and
// CIELab TIFF, seeded with the fixtures and Lab files of every storage the
// reader takes.
func FuzzTIFFExtra(f *testing.F) {
	for _, name := range []string{"testdata/jpeg-tiles.tif", "testdata/lab-pillow.tif", "testdata/cmyk-lzw-imagemagick.tif"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	samples := make([]byte, 12*9*3)
	for i := range samples {
		samples[i] = byte(i * 7)
	}
	base := tiffSpec{w: 12, h: 9, spp: 3, bps: 8, photometric: photoCIELab, compression: tiffNone, samples: samples}
	for _, mod := range []func(*tiffSpec){
		func(s *tiffSpec) {},
		func(s *tiffSpec) { s.compression, s.predictor, s.rowsPerStrip = tiffDeflate, 2, 4 },
		func(s *tiffSpec) { s.compression = tiffPackBits },
		func(s *tiffSpec) { s.tileW, s.tileH, s.bigEndian = 16, 16, true },
		func(s *tiffSpec) { s.whitePoint = []uint32{3127, 10000, 3290, 10000} },
	} {
		s := base
		mod(&s)
		f.Add(s.encode(f))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !bytes.HasPrefix(b, []byte("II*\x00")) && !bytes.HasPrefix(b, []byte("MM\x00*")) {
			return
		}
		fuzzDecodeOne(t, b)
	})
}
