package imaging

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// The fuzz targets of the domain: sniffing and path detection, header
// inspection, the PNG decoder, option parsing, and the whole pipeline.
// Each is seeded from the small images in ../testdata/hostile/seeds and the
// JPEG decoder's own test files; crashers found are kept in
// testdata/fuzz/<target>/.
// scripts/fuzz.sh runs each one for a while.

// fuzzSeeds returns the seed images, at most max bytes each.
func fuzzSeeds(f *testing.F) [][]byte {
	f.Helper()
	var out [][]byte
	for _, pat := range []string{"testdata/*.*", "../testdata/hostile/seeds/*", "internal/jpegscale/testdata/*-37x23.jpg"} {
		names, err := filepath.Glob(pat)
		if err != nil {
			f.Fatal(err)
		}
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				f.Fatal(err)
			}
			if len(b) <= 8<<10 {
				out = append(out, b)
			}
		}
	}
	if len(out) < 10 {
		f.Fatalf("found %d seed images; want the seeds of ../testdata/hostile/seeds", len(out))
	}
	return append(out, profileSeeds(f)...)
}

// profileSeeds are small images carrying ICC profiles: a JPEG with its
// profile in one APP2 segment and one with it split over two, and a PNG.
func profileSeeds(f *testing.F) [][]byte {
	img := newPhoto(16, 12)
	prof := wideProfile()
	jpg := encodeAs(f, img, FormatJPEG)
	one, err := embedJPEGProfile(jpg, prof)
	if err != nil {
		f.Fatal(err)
	}
	// Two APP2 segments, numbered 1 and 2 of 2.
	two := append([]byte(nil), jpg[:2]...)
	for i, part := range [][]byte{prof[:300], prof[300:]} {
		seg := append([]byte("ICC_PROFILE\x00"), byte(i+1), 2)
		seg = append(seg, part...)
		two = append(two, 0xFF, 0xE2, byte((len(seg)+2)>>8), byte(len(seg)+2))
		two = append(two, seg...)
	}
	two = append(two, jpg[2:]...)
	png, err := embedPNGProfile(encodeAs(f, img, FormatPNG), prof)
	if err != nil {
		f.Fatal(err)
	}
	return [][]byte{one, two, png}
}

// textSeeds are bodies clients send instead of images.
func textSeeds() []string {
	return []string{
		"photo.jpg", "/home/me/photo.jpg", "C:\\Users\\me\\photo.jpg", "@photo.jpg", "\"img.png\"\n",
		"https://example.com/a.png", "file:///tmp/x.png", "my photo.jpeg", "<!DOCTYPE html><html>",
		"%PDF-1.4\n", "\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "{\"image\": 1}", "data:image/png;base64,iVBOR",
		"iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB", "\xef\xbb\xbf<svg>", "RIFF\x00\x00\x00\x00WEBPVP8 ", "BM", "II*\x00",
		"\xff\xd8\xff", "GIF89a", "\x89PNG\r\n\x1a\n", "~/a.tif", "..\\a.bmp", "",
	}
}

// FuzzSniff checks that Sniff, DetectPath and Describe never panic and
// agree with each other.
func FuzzSniff(f *testing.F) {
	for _, b := range fuzzSeeds(f) {
		f.Add(b[:min(len(b), 64)])
	}
	for _, s := range textSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		format := Sniff(b)
		if format != "" && !format.CanDecode() {
			t.Fatalf("Sniff returned %q, which the service does not decode", format)
		}
		if format != "" && Sniff(append(b[:len(b):len(b)], 0, 1, 2)) != format {
			t.Fatalf("Sniff changed its answer when bytes were appended")
		}
		kind, text := DetectPath(b)
		switch kind {
		case NotAPath:
			if text != "" {
				t.Fatalf("DetectPath: NotAPath with text %q", text)
			}
		case IsPath, IsURL:
			if text == "" || !utf8.ValidString(text) || strings.ContainsAny(text, "\n\r\x00") {
				t.Fatalf("DetectPath: kind %d with bad text %q", kind, text)
			}
			if len(text) > len(b) {
				t.Fatalf("DetectPath: text %q is longer than the body", text)
			}
		default:
			t.Fatalf("DetectPath returned kind %d", kind)
		}
		d := Describe(b)
		if d == "" || len(d) > 200 {
			t.Fatalf("Describe returned %q", d)
		}
		if format == "" {
			e := UnsupportedFormatError(b)
			if e.Code != CodeUnsupportedImageFormat || e.Hint == "" {
				t.Fatalf("UnsupportedFormatError = %+v", e)
			}
		}
	})
}

// FuzzInspect checks that header inspection never panics, reports only
// unsupported_image_format or corrupt_image, and on success describes an
// image of at least one pixel.
func FuzzInspect(f *testing.F) {
	for _, b := range fuzzSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, format := range []Format{FormatJPEG, FormatPNG, FormatTIFF, FormatWebP, FormatGIF} {
			if o := Orientation(format, b); o < 1 || o > 8 {
				t.Fatalf("Orientation(%s) = %d, want 1..8", format, o)
			}
		}
		info, err := Inspect(b)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Inspect returned %T %v, want *Error", err, err)
			}
			if e.Code != CodeUnsupportedImageFormat && e.Code != CodeCorruptImage && e.Code != CodeUnsupportedImageFeature && e.Code != CodeTruncatedImage {
				t.Fatalf("Inspect returned code %s (%v)", e.Code, err)
			}
			return
		}
		switch {
		case info.Width <= 0 || info.Height <= 0:
			t.Fatalf("Inspect succeeded with %d×%d", info.Width, info.Height)
		case info.Format != Sniff(b):
			t.Fatalf("Inspect format %s, Sniff %s", info.Format, Sniff(b))
		case info.Orientation < 1 || info.Orientation > 8:
			t.Fatalf("orientation %d", info.Orientation)
		case info.Frames < 1 || info.Animated != (info.Frames > 1):
			t.Fatalf("frames %d, animated %v", info.Frames, info.Animated)
		case info.Bytes != len(b):
			t.Fatalf("bytes %d, want %d", info.Bytes, len(b))
		case info.DisplayWidth*info.DisplayHeight != info.Width*info.Height:
			t.Fatalf("display %d×%d of a %d×%d image", info.DisplayWidth, info.DisplayHeight, info.Width, info.Height)
		}
	})
}

// FuzzDecodePNG checks that the PNG decoder never panics, decodes every
// PNG image/png decodes to the same pixels, and shrinks consistently; see
// checkDecodePNG. Each input is also tried with its chunk CRCs fixed, so
// that mutations reach the image data. Like image/png's FuzzDecode it
// skips images over a million pixels.
func FuzzDecodePNG(f *testing.F) {
	for _, b := range fuzzSeeds(f) {
		if Sniff(b) == FormatPNG {
			f.Add(b)
		}
	}
	for _, b := range testPNGSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecodePNG(t, b)
		if fixed := bytes.Clone(b); fixCRCs(fixed) {
			checkDecodePNG(t, fixed)
		}
	})
}

// FuzzParseOptions checks that option parsing never panics, that every
// failure is an unknown_option or invalid_option naming its field, and that
// every success holds values inside the documented ranges.
func FuzzParseOptions(f *testing.F) {
	seeds := [][4]string{
		{"width", "300", "height", "200"}, {"fit", "cover", "gravity", "north_east"}, {"crop", "1,2,3,4", "rotate", "-45.5"},
		{"blur", "1e2", "sharpen", "0.5"}, {"quality", "100", "format", "jpg"}, {"background", "#ff000080", "grayscale", ""},
		{"gamma", "0.01", "brightness", "-100"}, {"contrast", "NaN", "width", "Inf"}, {"widht", "3", "q", "9"},
		{"auto_orient", "off", "strip", "YES"}, {"flip", "H", "format", "webp"}, {"width", "0x10", "height", "1_000"},
		{"crop", "0,0,262140,1", "rotate", "360"}, {"width", "65535.0", "gamma", "-0"}, {"background", "fff", "gravity", "centre"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		values := map[string][]string{k1: {v1}}
		values[k2] = append(values[k2], v2)
		o, err := ParseOptions(values, func(n string) string { return "options." + n })
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseOptions returned %T %v, want *Error", err, err)
			}
			if e.Code != CodeInvalidOption && e.Code != CodeUnknownOption {
				t.Fatalf("ParseOptions returned code %s", e.Code)
			}
			if !strings.HasPrefix(e.Field, "options.") {
				t.Fatalf("error field %q does not name the option", e.Field)
			}
			return
		}
		checkOptionRanges(t, o)
	})
}

func checkOptionRanges(t *testing.T, o Options) {
	t.Helper()
	finite := func(name string, v, lo, hi float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi {
			t.Fatalf("%s = %v, want %v..%v", name, v, lo, hi)
		}
	}
	inRange := func(name string, v, lo, hi int) {
		if v != 0 && (v < lo || v > hi) {
			t.Fatalf("%s = %d, want 0 or %d..%d", name, v, lo, hi)
		}
	}
	inRange("width", o.Width, 1, MaxDimension)
	inRange("height", o.Height, 1, MaxDimension)
	inRange("quality", o.Quality, 1, 100)
	finite("rotate", o.Rotate, -360, 360)
	finite("blur", o.Blur, 0, MaxSigma)
	finite("sharpen", o.Sharpen, 0, MaxSigma)
	finite("brightness", o.Brightness, -100, 100)
	finite("contrast", o.Contrast, -100, 100)
	finite("gamma", o.Gamma, 0.01, 10)
	switch o.Fit {
	case FitContain, FitCover, FitFill, FitInside:
	default:
		t.Fatalf("fit %q", o.Fit)
	}
	switch o.Gravity {
	case GravityCenter, GravityNorth, GravitySouth, GravityEast, GravityWest,
		GravityNorthEast, GravityNorthWest, GravitySouthEast, GravitySouthWest, GravitySmart:
	default:
		t.Fatalf("gravity %q", o.Gravity)
	}
	if o.Flip != "" && o.Flip != "h" && o.Flip != "v" {
		t.Fatalf("flip %q", o.Flip)
	}
	if o.Format != "" && !o.Format.CanEncode() {
		t.Fatalf("format %q cannot be encoded", o.Format)
	}
	if c := o.Crop; !c.Empty() && (c.Min.X < 0 || c.Min.Y < 0 || c.Dx() <= 0 || c.Dy() <= 0 || c.Dx() > 4*MaxDimension || c.Dy() > 4*MaxDimension) {
		t.Fatalf("crop %v", c)
	}
}

// fuzzOptionSets are the option sets FuzzTransform runs an input through:
// together they reach every decoder, the JPEG shrink-on-load and PNG
// shrink-while-inflating paths, every operation and every encoder.
func fuzzOptionSets() []map[string][]string {
	return []map[string][]string{
		{},
		{"width": {"8"}},
		{"width": {"7"}, "height": {"5"}, "fit": {"cover"}, "gravity": {"southwest"}, "rotate": {"30"}, "format": {"png"}},
		{"crop": {"1,1,3,2"}, "blur": {"0.8"}, "grayscale": {"true"}, "format": {"jpeg"}, "quality": {"30"}},
		{"format": {"gif"}, "flip": {"h"}, "sharpen": {"0.7"}, "strip": {"false"}, "auto_orient": {"false"}},
		{"width": {"3"}, "height": {"9"}, "fit": {"contain"}, "background": {"f00a"}, "format": {"bmp"}, "gamma": {"2.2"}},
		{"height": {"4"}, "fit": {"inside"}, "format": {"tiff"}, "rotate": {"270"}, "brightness": {"20"}, "contrast": {"-30"}},
		{"width": {"2"}, "height": {"2"}, "fit": {"fill"}, "strip": {"false"}, "flip": {"v"}},
		{"width": {"2"}, "format": {"png"}}, // PNG box-shrink while inflating, JPEG 1/8 decode
		{"width": {"5"}, "format": {"jpeg"}, "color_profile": {"keep"}},
		{"width": {"6"}, "format": {"png"}, "partial": {"true"}},
		{"width": {"9"}, "rotate": {"90"}, "flip": {"h"}, "format": {"jpeg"}}, // the planar path, turned
		{"width": {"7"}, "rotate": {"-90"}, "format": {"webp"}},               // lossy WebP from the planes
	}
}

// FuzzTransform runs the real Pipeline.Process on fuzzed bytes with small
// limits and each option set. It must never panic, and fail only with the
// codes a bad input may cause: never internal, which would hide a
// recovered decoder panic or an encoder failure.
func FuzzTransform(f *testing.F) {
	for _, b := range fuzzSeeds(f) {
		for i := range fuzzOptionSets() {
			f.Add(b, uint8(i))
		}
	}
	sets := fuzzOptionSets()
	opts := make([]Options, len(sets))
	for i, s := range sets {
		o, err := ParseOptions(s, nil)
		if err != nil {
			f.Fatalf("option set %d: %v", i, err)
		}
		opts[i] = o
	}
	p := NewPipeline(Limits{MaxInputPixels: 1_000_000, MaxOutputPixels: 1_000_000}, inline{}, nil)
	f.Fuzz(func(t *testing.T, b []byte, set uint8) {
		o := opts[int(set)%len(opts)]
		res, err := p.Process(context.Background(), b, o)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Process returned %T %v, want *Error", err, err)
			}
			switch e.Code {
			case CodeUnsupportedImageFormat, CodeUnsupportedImageFeature, CodeCorruptImage, CodeTruncatedImage, CodeImageTooLarge, CodeOutputTooLarge, CodeInvalidOption:
			default:
				t.Fatalf("Process with option set %d returned %v", int(set)%len(opts), err)
			}
			return
		}
		if len(res.Data) == 0 || res.Width <= 0 || res.Height <= 0 {
			t.Fatalf("Process succeeded with %d bytes, %d×%d", len(res.Data), res.Width, res.Height)
		}
		if got := Sniff(res.Data); got != res.Format {
			t.Fatalf("output is %q, result says %q", got, res.Format)
		}
		if int64(res.Width)*int64(res.Height) > p.Limits().MaxOutputPixels {
			t.Fatalf("output %d×%d is over the output limit", res.Width, res.Height)
		}
	})
}
