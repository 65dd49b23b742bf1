package imaging

import (
	"context"
	"errors"
	"image"
	"image/color"
	"strings"
	"testing"
)

func TestPipeline_Plan(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	src := encodeAs(t, newGradient(400, 200), FormatPNG)
	tests := []struct {
		name         string
		opt          map[string][]string
		wantW, wantH int
	}{
		{"no resize", nil, 400, 200},
		{"width only", map[string][]string{"width": {"100"}}, 100, 50},
		{"height only", map[string][]string{"height": {"50"}}, 100, 50},
		{"contain pads to the box", map[string][]string{"width": {"100"}, "height": {"100"}}, 100, 100},
		{"inside fits without padding", map[string][]string{"width": {"100"}, "height": {"100"}, "fit": {"inside"}}, 100, 50},
		{"cover", map[string][]string{"width": {"100"}, "height": {"100"}, "fit": {"cover"}}, 100, 100},
		{"fill", map[string][]string{"width": {"100"}, "height": {"30"}, "fit": {"fill"}}, 100, 30},
		{"upscale", map[string][]string{"width": {"800"}}, 800, 400},
		{"crop then resize", map[string][]string{"crop": {"0,0,100,100"}, "width": {"50"}}, 50, 50},
		{"rotate 90 swaps", map[string][]string{"rotate": {"90"}}, 200, 400},
		{"rotate -90 swaps", map[string][]string{"rotate": {"-90"}}, 200, 400},
		{"rotate 45 grows", map[string][]string{"rotate": {"45"}, "width": {"100"}}, 108, 108},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt, err := ParseOptions(tt.opt, nil)
			if err != nil {
				t.Fatal(err)
			}
			pl, err := p.Plan(src, opt)
			if err != nil {
				t.Fatalf("Plan returned %v", err)
			}
			if pl.OutWidth != tt.wantW || pl.OutHeight != tt.wantH {
				t.Errorf("Plan size = %d×%d, want %d×%d", pl.OutWidth, pl.OutHeight, tt.wantW, tt.wantH)
			}
			res, err := p.Process(context.Background(), src, opt)
			if err != nil {
				t.Fatalf("Process returned %v", err)
			}
			// Arbitrary rotations may differ from the estimate by a pixel.
			if abs(res.Width-tt.wantW) > 2 || abs(res.Height-tt.wantH) > 2 {
				t.Errorf("result size = %d×%d, want %d×%d", res.Width, res.Height, tt.wantW, tt.wantH)
			}
			img := decodeResult(t, res)
			if b := img.Bounds(); b.Dx() != res.Width || b.Dy() != res.Height {
				t.Errorf("decoded size %v does not match Result %d×%d", b, res.Width, res.Height)
			}
		})
	}
}

func TestPipeline_limits(t *testing.T) {
	p := NewPipeline(Limits{MaxInputPixels: 100 * 100, MaxOutputPixels: 200 * 200}, inline{}, nil)
	tests := []struct {
		name string
		src  []byte
		opt  map[string][]string
		want Code
	}{
		{"input over the pixel limit", encodeAs(t, newGradient(101, 100), FormatPNG), nil, CodeImageTooLarge},
		{"output over the pixel limit", encodeAs(t, newGradient(100, 100), FormatPNG), map[string][]string{"width": {"201"}}, CodeOutputTooLarge},
		{"output side over the maximum", encodeAs(t, newGradient(100, 1), FormatPNG), map[string][]string{"width": {"65535"}, "height": {"2"}, "fit": {"fill"}}, CodeOutputTooLarge},
		{"crop outside", encodeAs(t, newGradient(50, 50), FormatPNG), map[string][]string{"crop": {"40,40,20,20"}}, CodeInvalidOption},
		{"truncated gif header", []byte("GIF89a\x01"), nil, CodeCorruptImage},
		{"gif header claims a pixel flood", []byte("GIF89a but not really"), nil, CodeImageTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt, err := ParseOptions(tt.opt, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Process(context.Background(), tt.src, opt)
			if got := ErrorCode(err); got != tt.want {
				t.Fatalf("Process error = %v (code %s), want code %s", err, got, tt.want)
			}
		})
	}
}

func TestPipeline_transforms(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	red, green, blue, white := color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 255, 0, 255}, color.NRGBA{0, 0, 255, 255}, color.NRGBA{255, 255, 255, 255}
	src := encodeAs(t, newQuadrants(40, 20), FormatPNG)
	// corners: top-left, top-right, bottom-left, bottom-right of the output
	tests := []struct {
		name    string
		opt     map[string][]string
		corners [4]color.NRGBA
	}{
		{"identity", nil, [4]color.NRGBA{red, green, blue, white}},
		{"flip h", map[string][]string{"flip": {"h"}}, [4]color.NRGBA{green, red, white, blue}},
		{"flip v", map[string][]string{"flip": {"v"}}, [4]color.NRGBA{blue, white, red, green}},
		{"rotate 90 clockwise", map[string][]string{"rotate": {"90"}}, [4]color.NRGBA{blue, red, white, green}},
		{"rotate 180", map[string][]string{"rotate": {"180"}}, [4]color.NRGBA{white, blue, green, red}},
		{"rotate 270", map[string][]string{"rotate": {"270"}}, [4]color.NRGBA{green, white, red, blue}},
		{"crop the top right", map[string][]string{"crop": {"20,0,20,10"}}, [4]color.NRGBA{green, green, green, green}},
		{"cover west keeps the left", map[string][]string{"width": {"10"}, "height": {"20"}, "fit": {"cover"}, "gravity": {"west"}}, [4]color.NRGBA{red, red, blue, blue}},
		{"cover east keeps the right", map[string][]string{"width": {"10"}, "height": {"20"}, "fit": {"cover"}, "gravity": {"east"}}, [4]color.NRGBA{green, green, white, white}},
		{"grayscale", map[string][]string{"grayscale": {"1"}, "crop": {"30,10,10,10"}}, [4]color.NRGBA{white, white, white, white}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt, err := ParseOptions(tt.opt, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Process(context.Background(), src, opt)
			if err != nil {
				t.Fatal(err)
			}
			img := decodeResult(t, res)
			w, h := img.Bounds().Dx(), img.Bounds().Dy()
			pts := [4]image.Point{{1, 1}, {w - 2, 1}, {1, h - 2}, {w - 2, h - 2}}
			for i, pt := range pts {
				if got := nrgbaAt(img, pt.X, pt.Y); !near(got, tt.corners[i], 8) {
					t.Errorf("pixel at %v = %v, want %v", pt, got, tt.corners[i])
				}
			}
		})
	}
}

func TestPipeline_grayscalePixels(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	opt, _ := ParseOptions(map[string][]string{"grayscale": {"true"}}, nil)
	res, err := p.Process(context.Background(), encodeAs(t, newGradient(16, 16), FormatPNG), opt)
	if err != nil {
		t.Fatal(err)
	}
	img := decodeResult(t, res)
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			c := nrgbaAt(img, x, y)
			if c.R != c.G || c.G != c.B {
				t.Fatalf("pixel (%d,%d) = %v is not gray", x, y, c)
			}
		}
	}
}

func TestPipeline_containPadsWithBackground(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	opt, _ := ParseOptions(map[string][]string{"width": {"100"}, "height": {"100"}, "background": {"ff0000"}}, nil)
	res, err := p.Process(context.Background(), encodeAs(t, newQuadrants(100, 50), FormatPNG), opt)
	if err != nil {
		t.Fatal(err)
	}
	img := decodeResult(t, res)
	if got := nrgbaAt(img, 50, 2); got != (color.NRGBA{255, 0, 0, 255}) {
		t.Errorf("padding pixel = %v, want the red background", got)
	}
	if got := nrgbaAt(img, 75, 70); !near(got, color.NRGBA{255, 255, 255, 255}, 4) {
		t.Errorf("image pixel = %v, want white (bottom-right quadrant)", got)
	}
}

func TestPipeline_autoOrient(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	// Stored 40×20, quadrants red|green over blue|white. Orientation 6 means
	// "rotate 90° clockwise to display": displayed 20×40 with blue top-left.
	src := withEXIFOrientation(encodeAs(t, newQuadrants(40, 20), FormatJPEG), 6)
	for _, tt := range []struct {
		auto         string
		wantW, wantH int
		topLeft      color.NRGBA
	}{
		{"true", 20, 40, color.NRGBA{0, 0, 255, 255}},
		{"false", 40, 20, color.NRGBA{255, 0, 0, 255}},
	} {
		opt, _ := ParseOptions(map[string][]string{"auto_orient": {tt.auto}, "format": {"png"}}, nil)
		res, err := p.Process(context.Background(), src, opt)
		if err != nil {
			t.Fatal(err)
		}
		img := decodeResult(t, res)
		if res.Width != tt.wantW || res.Height != tt.wantH {
			t.Errorf("auto_orient=%s: size %d×%d, want %d×%d", tt.auto, res.Width, res.Height, tt.wantW, tt.wantH)
		}
		if got := nrgbaAt(img, 2, 2); !near(got, tt.topLeft, 40) {
			t.Errorf("auto_orient=%s: top-left = %v, want %v", tt.auto, got, tt.topLeft)
		}
	}
}

func TestPipeline_strip(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	src := withEXIFOrientation(encodeAs(t, newGradient(32, 16), FormatJPEG), 6)
	for _, tt := range []struct {
		opt      map[string][]string
		wantEXIF bool
		wantO    int
	}{
		{nil, false, 1},
		{map[string][]string{"strip": {"false"}}, true, 1},
		{map[string][]string{"strip": {"false"}, "auto_orient": {"false"}}, true, 6},
	} {
		opt, _ := ParseOptions(tt.opt, nil)
		res, err := p.Process(context.Background(), src, opt)
		if err != nil {
			t.Fatal(err)
		}
		if got := jpegEXIF(res.Data) != nil; got != tt.wantEXIF {
			t.Errorf("%v: output has EXIF = %v, want %v", tt.opt, got, tt.wantEXIF)
		}
		if got := Orientation(FormatJPEG, res.Data); got != tt.wantO {
			t.Errorf("%v: output orientation = %d, want %d", tt.opt, got, tt.wantO)
		}
	}
}

func TestPipeline_formats(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	src := encodeAs(t, newGradient(30, 20), FormatPNG)
	for _, f := range EncodableFormatNames() {
		opt, _ := ParseOptions(map[string][]string{"format": {f}, "width": {"15"}}, nil)
		res, err := p.Process(context.Background(), src, opt)
		if err != nil {
			t.Fatalf("format %s: %v", f, err)
		}
		if got := Sniff(res.Data); string(got) != f {
			t.Errorf("format %s: output sniffs as %q", f, got)
		}
		if res.Width != 15 || res.Height != 10 {
			t.Errorf("format %s: size %d×%d, want 15×10", f, res.Width, res.Height)
		}
	}
}

func TestPipeline_jpegFlattensAlphaOntoWhite(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	img := image.NewNRGBA(image.Rect(0, 0, 16, 16)) // fully transparent
	opt, _ := ParseOptions(map[string][]string{"format": {"jpeg"}}, nil)
	res, err := p.Process(context.Background(), encodeAs(t, img, FormatPNG), opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := nrgbaAt(decodeResult(t, res), 8, 8); !near(got, color.NRGBA{255, 255, 255, 255}, 2) {
		t.Errorf("transparent pixel became %v in JPEG, want white", got)
	}
}

func TestPipeline_shrinkOnLoad(t *testing.T) {
	tests := []struct{ w, h, tw, th, want int }{
		{5120, 2880, 300, 169, 8},
		{5120, 2880, 700, 394, 4},
		{5120, 2880, 2000, 1125, 2},
		{5120, 2880, 4000, 2250, 1},
		{100, 100, 14, 14, 4},
		{100, 100, 13, 13, 8},
	}
	for _, tt := range tests {
		if got := shrinkOnLoad(tt.w, tt.h, tt.tw, tt.th); got != tt.want {
			t.Errorf("shrinkOnLoad(%d×%d → %d×%d) = %d, want %d", tt.w, tt.h, tt.tw, tt.th, got, tt.want)
		}
	}
	// The scaled decode must give the same picture as the full one, within JPEG noise.
	p := NewPipeline(Limits{}, inline{}, nil)
	full := NewPipeline(Limits{}, inline{}, nil)
	full.shrinkOnLoad = false
	src := encodeAs(t, newGradient(800, 600), FormatJPEG)
	opt, _ := ParseOptions(map[string][]string{"width": {"100"}, "format": {"png"}}, nil)
	pl, err := p.Plan(src, opt)
	if err != nil || pl.DecodeScale != 8 {
		t.Fatalf("Plan decode scale = %d (%v), want 8", pl.DecodeScale, err)
	}
	a, err := p.Process(context.Background(), src, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := full.Process(context.Background(), src, opt)
	if err != nil {
		t.Fatal(err)
	}
	ia, ib := decodeResult(t, a), decodeResult(t, b)
	if ia.Bounds() != ib.Bounds() {
		t.Fatalf("bounds %v vs %v", ia.Bounds(), ib.Bounds())
	}
	for y := 0; y < ia.Bounds().Dy(); y += 7 {
		for x := 0; x < ia.Bounds().Dx(); x += 7 {
			if ca, cb := nrgbaAt(ia, x, y), nrgbaAt(ib, x, y); !near(ca, cb, 10) {
				t.Fatalf("pixel (%d,%d): scaled decode %v, full decode %v", x, y, ca, cb)
			}
		}
	}
}

func TestPipeline_cancelled(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Process(ctx, encodeAs(t, newGradient(8, 8), FormatPNG), DefaultOptions())
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeProcessingTimeout {
		t.Fatalf("error = %v, want processing_timeout", err)
	}
}

func TestPipeline_corruptBody(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	src := encodeAs(t, newGradient(64, 64), FormatPNG)
	_, err := p.Process(context.Background(), src[:len(src)/2], DefaultOptions())
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeTruncatedImage {
		t.Fatalf("half a PNG: error = %v, want truncated_image", err)
	}
	bad := append([]byte(nil), src...)
	bad[len(bad)-20] ^= 0xff // inside the last IDAT chunk: its CRC no longer matches
	_, err = p.Process(context.Background(), bad, DefaultOptions())
	if !errors.As(err, &e) || e.Code != CodeCorruptImage {
		t.Fatalf("a damaged PNG: error = %v, want corrupt_image", err)
	}
	if !strings.Contains(e.Detail, "PNG") {
		t.Errorf("detail %q does not name the format", e.Detail)
	}
}

func TestPipeline_filterWork(t *testing.T) {
	p := NewPipeline(Limits{MaxFilterTaps: 1_000_000}, inline{}, nil)
	src := encodeAs(t, newGradient(100, 100), FormatPNG)
	tests := []struct {
		opt  map[string][]string
		want Code // "" means accepted
	}{
		{map[string][]string{"blur": {"1"}}, ""},                                  // 10k px × 7 taps × 2
		{map[string][]string{"blur": {"10"}}, CodeInvalidOption},                  // 10k × 61 × 2 = 1.22 M
		{map[string][]string{"sharpen": {"10"}}, CodeInvalidOption},               // the same for sharpen
		{map[string][]string{"blur": {"10"}, "width": {"50"}}, ""},                // 2.5k × 61 × 2 = 305 k
		{map[string][]string{"blur": {"5"}, "sharpen": {"5"}}, CodeInvalidOption}, // 2 × 620 k
	}
	for _, tt := range tests {
		opt, err := ParseOptions(tt.opt, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Plan(src, opt)
		got := Code("")
		if err != nil {
			got = ErrorCode(err)
		}
		if got != tt.want {
			t.Errorf("%v: Plan error %v, want code %q", tt.opt, err, tt.want)
		}
	}
}
