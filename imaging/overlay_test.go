package imaging

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"strings"
	"testing"
)

// solid is a w×h image of one colour.
func solid(w, h int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

var (
	ovRed   = color.NRGBA{255, 0, 0, 255}
	ovGreen = color.NRGBA{0, 255, 0, 255}
	ovBlue  = color.NRGBA{0, 0, 255, 255}
)

func TestParseOptions_overlay(t *testing.T) {
	o, err := ParseOptions(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.OverlayGravity != GravitySouthEast || o.OverlayMargin != 16 || o.OverlayOpacity != 1 || o.OverlayWidth != 0 || o.OverlayOption() != "" {
		t.Errorf("defaults = %+v, want southeast, 16, 1, 0 and no option given", o.OverlayOptions)
	}
	o, err = ParseOptions(map[string][]string{OptOverlayGravity: {"North-West"}, OptOverlayMargin: {"0"},
		OptOverlayOpacity: {"0.25"}, OptOverlayWidth: {"120"}}, func(n string) string { return "options." + n })
	if err != nil {
		t.Fatal(err)
	}
	if o.OverlayGravity != GravityNorthWest || o.OverlayMargin != 0 || o.OverlayOpacity != 0.25 || o.OverlayWidth != 120 {
		t.Errorf("parsed %+v", o.OverlayOptions)
	}
	if got := o.OverlayOption(); got != "options.overlay_gravity" {
		t.Errorf("OverlayOption() = %q, want the first by name, options.overlay_gravity", got)
	}
	tests := []struct {
		name, value string
		code        Code
		field       string
		detail      string // substring
		hint        string // substring
	}{
		{OptOverlayGravity, "top", CodeInvalidOption, OptOverlayGravity, `invalid overlay_gravity "top"`, "southeast"},
		{OptOverlayMargin, "-1", CodeInvalidOption, OptOverlayMargin, "out of range", "from 0 to 65535 pixels"},
		{OptOverlayMargin, "2.5", CodeInvalidOption, OptOverlayMargin, "whole number", "integer"},
		{OptOverlayOpacity, "1.5", CodeInvalidOption, OptOverlayOpacity, "out of range", "from 0 to 1"},
		{OptOverlayOpacity, "50", CodeInvalidOption, OptOverlayOpacity, "out of range", "for 50% give 0.5"},
		{OptOverlayOpacity, "half", CodeInvalidOption, OptOverlayOpacity, "must be a number", "from 0 to 1"},
		{OptOverlayWidth, "0", CodeInvalidOption, OptOverlayWidth, "out of range", "from 1 to 65535"},
		{"watermark_opacity", "0.5", CodeUnknownOption, "watermark_opacity", `did you mean "overlay_opacity"`, "overlay_opacity"},
		{"overlay_gravty", "north", CodeUnknownOption, "overlay_gravty", `did you mean "overlay_gravity"`, "overlay_gravity"},
		{"watermark", "logo.png", CodeUnknownOption, "watermark", "the overlay image is not an option", "multipart part overlay"},
		{"overlay", "iVBORw0KGgo", CodeUnknownOption, "overlay", "the overlay image is not an option", "overlay_b64"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := ParseOptions(map[string][]string{tt.name: {tt.value}}, nil)
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("ParseOptions = %v, want an *Error", err)
			}
			if e.Code != tt.code || e.Field != tt.field || !strings.Contains(e.Detail, tt.detail) || !strings.Contains(e.Hint, tt.hint) {
				t.Errorf("got %s field %q hint %q; want %s field %q, detail with %q, hint with %q",
					e, e.Field, e.Hint, tt.code, tt.field, tt.detail, tt.hint)
			}
		})
	}
}

// overlayOpts parses q and attaches the overlay.
func overlayOpts(t *testing.T, q map[string][]string, overlay []byte) Options {
	t.Helper()
	o, err := ParseOptions(q, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.Overlay = overlay
	return o
}

func TestPipeline_overlayPixels(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	base := encodeAs(t, solid(200, 100, ovBlue), FormatPNG)
	logo := encodeAs(t, solid(40, 20, ovRed), FormatPNG)
	tests := []struct {
		name string
		q    map[string][]string
		src  []byte
		in   []image.Point // pixels that must be the overlay's
		out  []image.Point // pixels that must be the image's
	}{
		{"default southeast, margin 16", nil, base,
			[]image.Point{{200 - 16 - 1, 100 - 16 - 1}, {200 - 16 - 40, 100 - 16 - 20}},
			[]image.Point{{100, 50}, {200 - 16, 100 - 16}, {200 - 16 - 41, 100 - 17}, {199, 99}}},
		{"northwest, margin 0", map[string][]string{OptOverlayGravity: {"northwest"}, OptOverlayMargin: {"0"}}, base,
			[]image.Point{{0, 0}, {39, 19}}, []image.Point{{40, 0}, {0, 20}, {100, 50}}},
		{"center, scaled to width 100", map[string][]string{OptOverlayGravity: {"center"}, OptOverlayWidth: {"100"}}, base,
			[]image.Point{{100, 50}, {51, 26}, {148, 73}}, []image.Point{{49, 50}, {151, 50}, {100, 24}, {100, 76}}},
		{"south after a flip: the overlay stays upright", map[string][]string{OptOverlayGravity: {"south"}, OptOverlayMargin: {"0"}, OptFlip: {"v"}},
			encodeAs(t, newQuadrants(200, 100), FormatPNG),
			[]image.Point{{100, 99}, {80, 80}}, []image.Point{{79, 99}, {100, 79}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := p.Process(context.Background(), tt.src, overlayOpts(t, tt.q, logo))
			if err != nil {
				t.Fatal(err)
			}
			img := decodeResult(t, res)
			for _, pt := range tt.in {
				if c := nrgbaAt(img, pt.X, pt.Y); !near(c, ovRed, 2) {
					t.Errorf("pixel %v = %v, want the overlay's red", pt, c)
				}
			}
			plain := decodeResult(t, mustProcess(t, p, tt.src, withoutOverlay(tt.q)))
			for _, pt := range tt.out {
				if c, w := nrgbaAt(img, pt.X, pt.Y), nrgbaAt(plain, pt.X, pt.Y); !near(c, w, 2) {
					t.Errorf("pixel %v = %v, want the image's %v", pt, c, w)
				}
			}
		})
	}
}

// withoutOverlay is q less its overlay options.
func withoutOverlay(q map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range q {
		if !strings.HasPrefix(k, "overlay_") {
			out[k] = v
		}
	}
	return out
}

func mustProcess(t *testing.T, p *Pipeline, src []byte, q map[string][]string) Result {
	t.Helper()
	o, err := ParseOptions(q, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Process(context.Background(), src, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestPipeline_overlayBlend checks opacity and the overlay's own alpha,
// onto opaque output (JPEG, flattened) and transparent output (PNG).
func TestPipeline_overlayBlend(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	logo := solid(40, 40, ovRed)
	for y := 20; y < 40; y++ { // the bottom half is transparent
		for x := range 40 {
			logo.SetNRGBA(x, y, color.NRGBA{})
		}
	}
	logoPNG := encodeAs(t, logo, FormatPNG)
	centre := map[string][]string{OptOverlayGravity: {"center"}, OptOverlayMargin: {"0"}}
	with := func(q map[string][]string, kv ...string) map[string][]string {
		out := map[string][]string{}
		for k, v := range q {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = []string{kv[i+1]}
		}
		return out
	}
	// 100×100 blue; the overlay covers 30..69, red on 30..49, clear on 50..69.
	tests := []struct {
		name       string
		base       []byte
		q          map[string][]string
		top, below color.NRGBA // at (50, 40) and (50, 60)
		tol        int
	}{
		{"opaque png", encodeAs(t, solid(100, 100, ovBlue), FormatPNG), centre, ovRed, ovBlue, 0},
		{"half opacity", encodeAs(t, solid(100, 100, ovBlue), FormatPNG), with(centre, OptOverlayOpacity, "0.5"),
			color.NRGBA{128, 0, 127, 255}, ovBlue, 1},
		{"zero opacity", encodeAs(t, solid(100, 100, ovBlue), FormatPNG), with(centre, OptOverlayOpacity, "0"), ovBlue, ovBlue, 0},
		{"transparent base keeps alpha", encodeAs(t, solid(100, 100, color.NRGBA{}), FormatPNG), with(centre, OptOverlayOpacity, "0.5"),
			color.NRGBA{255, 0, 0, 128}, color.NRGBA{}, 1},
		{"transparent base to jpeg is flattened", encodeAs(t, solid(100, 100, color.NRGBA{}), FormatPNG),
			with(centre, OptFormat, "jpeg", OptBackground, "00ff00"), ovRed, ovGreen, 8},
		{"jpeg base", encodeAs(t, solid(100, 100, ovBlue), FormatJPEG), centre, ovRed, ovBlue, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := p.Process(context.Background(), tt.base, overlayOpts(t, tt.q, logoPNG))
			if err != nil {
				t.Fatal(err)
			}
			img := decodeResult(t, res)
			if c := nrgbaAt(img, 50, 40); !near(c, tt.top, tt.tol) {
				t.Errorf("under the overlay's opaque half: %v, want %v", c, tt.top)
			}
			if c := nrgbaAt(img, 50, 60); !near(c, tt.below, tt.tol) {
				t.Errorf("under the overlay's transparent half: %v, want %v", c, tt.below)
			}
		})
	}
}

func TestCompositeOver(t *testing.T) {
	tests := []struct {
		dst, src, want color.NRGBA
		opacity        uint32
	}{
		{color.NRGBA{0, 0, 255, 255}, color.NRGBA{255, 0, 0, 255}, color.NRGBA{255, 0, 0, 255}, 255},
		{color.NRGBA{0, 0, 255, 255}, color.NRGBA{255, 0, 0, 128}, color.NRGBA{128, 0, 127, 255}, 255},
		{color.NRGBA{0, 0, 255, 255}, color.NRGBA{255, 0, 0, 255}, color.NRGBA{64, 0, 191, 255}, 64},
		{color.NRGBA{0, 0, 0, 0}, color.NRGBA{255, 0, 0, 128}, color.NRGBA{255, 0, 0, 128}, 255},
		{color.NRGBA{0, 0, 255, 128}, color.NRGBA{255, 0, 0, 128}, color.NRGBA{170, 0, 85, 192}, 255},
		{color.NRGBA{1, 2, 3, 4}, color.NRGBA{255, 0, 0, 0}, color.NRGBA{1, 2, 3, 4}, 255},
	}
	for _, tt := range tests {
		dst, src := solid(3, 3, tt.dst), solid(1, 1, tt.src)
		compositeOver(dst, src, image.Pt(1, 1), tt.opacity)
		if got := dst.NRGBAAt(1, 1); !near(got, tt.want, 1) {
			t.Errorf("%v over %v at %d/255 = %v, want %v", tt.src, tt.dst, tt.opacity, got, tt.want)
		}
		if got := dst.NRGBAAt(0, 0); got != tt.dst {
			t.Errorf("a pixel outside the overlay changed: %v, want %v", got, tt.dst)
		}
	}
	// Parts of the overlay outside the image are clipped.
	dst := solid(4, 4, ovBlue)
	compositeOver(dst, solid(4, 4, ovRed), image.Pt(2, -2), 255)
	if dst.NRGBAAt(3, 1) != ovRed || dst.NRGBAAt(1, 1) != ovBlue || dst.NRGBAAt(3, 2) != ovBlue {
		t.Errorf("clipped composite wrong: %v %v %v", dst.NRGBAAt(3, 1), dst.NRGBAAt(1, 1), dst.NRGBAAt(3, 2))
	}
}

// TestPlan_overlayGeometry checks the overlay's size and place: scaled
// keeping its aspect ratio, never larger than the output less its margins.
func TestPlan_overlayGeometry(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	base := encodeAs(t, solid(200, 100, ovBlue), FormatPNG)
	logo := encodeAs(t, solid(40, 20, ovRed), FormatPNG)
	tests := []struct {
		q          map[string][]string
		x, y, w, h int
	}{
		{nil, 144, 64, 40, 20},
		{map[string][]string{OptOverlayWidth: {"80"}}, 104, 44, 80, 40},
		{map[string][]string{OptOverlayWidth: {"5000"}}, 48, 16, 136, 68}, // clamped by the height: 68/20 × 40
		{map[string][]string{OptOverlayWidth: {"5000"}, OptOverlayMargin: {"0"}}, 0, 0, 200, 100},
		{map[string][]string{OptOverlayGravity: {"west"}, OptOverlayMargin: {"10"}}, 10, 40, 40, 20},
		{map[string][]string{OptOverlayGravity: {"northeast"}}, 144, 16, 40, 20},
		{map[string][]string{OptOverlayGravity: {"south"}, OptWidth: {"100"}}, 32, 16, 36, 18},      // a 100×50 output: 68×18 inside the margins
		{map[string][]string{OptRotate: {"90"}, OptOverlayGravity: {"southwest"}}, 16, 164, 40, 20}, // a 100×200 output
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.q), func(t *testing.T) {
			pl, err := p.Plan(base, overlayOpts(t, tt.q, logo))
			if err != nil {
				t.Fatal(err)
			}
			ov := pl.overlay
			if ov.x != tt.x || ov.y != tt.y || ov.w != tt.w || ov.h != tt.h {
				t.Errorf("overlay at %d,%d size %d×%d; want %d,%d size %d×%d", ov.x, ov.y, ov.w, ov.h, tt.x, tt.y, tt.w, tt.h)
			}
			if ov.x < 0 || ov.y < 0 || ov.x+ov.w > pl.OutWidth || ov.y+ov.h > pl.OutHeight {
				t.Errorf("overlay %d,%d %d×%d reaches outside the %d×%d output", ov.x, ov.y, ov.w, ov.h, pl.OutWidth, pl.OutHeight)
			}
		})
	}
}

// TestPlan_overlayRefusals checks that Plan refuses a bad overlay from its
// header, before any job runs, naming the overlay's field.
func TestPlan_overlayRefusals(t *testing.T) {
	p := NewPipeline(Limits{MaxInputPixels: 100_000}, inline{}, nil)
	base := encodeAs(t, solid(200, 100, ovBlue), FormatPNG)
	logo := encodeAs(t, solid(40, 20, ovRed), FormatPNG)
	truncated := encodeAs(t, newGradient(64, 64), FormatPNG)
	tests := []struct {
		name    string
		q       map[string][]string
		overlay []byte
		field   string // the overlay's name as the client sent it
		code    Code
		want    string // Error.Field
		detail  string
	}{
		{"options without an overlay", map[string][]string{OptOverlayOpacity: {"0.5"}}, nil, "", CodeInvalidOption, OptOverlayOpacity, "no overlay image"},
		{"not an image", nil, []byte("<!DOCTYPE html><html>logo</html>"), "overlay", CodeUnsupportedImageFormat, "overlay", "HTML"},
		{"not an image, json", nil, []byte("%PDF-1.7"), "overlay_b64", CodeUnsupportedImageFormat, "overlay_b64", "the overlay image (overlay_b64)"},
		{"header cut short", nil, truncated[:30], "overlay", CodeTruncatedImage, "overlay", "ends inside its header"},
		{"too many pixels", nil, encodeAs(t, solid(400, 300, ovRed), FormatPNG), "overlay", CodeImageTooLarge, "overlay", "limit is 100000 pixels"},
		{"margins leave no room", map[string][]string{OptOverlayMargin: {"50"}}, logo, "", CodeInvalidOption, OptOverlayMargin, "leaves no room"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := overlayOpts(t, tt.q, tt.overlay)
			o.OverlayField = tt.field
			_, err := p.Plan(base, o)
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("Plan = %v, want an *Error", err)
			}
			if e.Code != tt.code || e.Field != tt.want || !strings.Contains(e.Detail, tt.detail) || e.Hint == "" {
				t.Errorf("got %v (field %q, hint %q); want %s, field %q, detail with %q and a hint", e, e.Field, e.Hint, tt.code, tt.want, tt.detail)
			}
		})
	}
}

// TestPipeline_overlayCorrupt: damage past the header is found when the
// overlay is decoded, and named as the overlay's.
func TestPipeline_overlayCorrupt(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	base := encodeAs(t, solid(200, 100, ovBlue), FormatPNG)
	logo := encodeAs(t, newGradient(64, 64), FormatPNG)
	cut := logo[:len(logo)-40]
	_, err := p.Process(context.Background(), base, overlayOpts(t, nil, cut))
	if e, ok := err.(*Error); !ok || e.Code != CodeTruncatedImage || e.Field != "overlay" || !strings.HasPrefix(e.Detail, "the overlay image") {
		t.Errorf("truncated overlay: %v, want truncated_image naming the overlay", err)
	}
}

// TestPipeline_overlayOrientation: the overlay follows its own EXIF
// orientation.
func TestPipeline_overlayOrientation(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	base := encodeAs(t, solid(200, 200, ovBlue), FormatPNG)
	// Stored 80×40, left half red, right half green; orientation 6 turns it
	// a quarter clockwise: 40×80, red on top.
	stored := solid(80, 40, ovRed)
	for y := range 40 {
		for x := 40; x < 80; x++ {
			stored.SetNRGBA(x, y, ovGreen)
		}
	}
	logo := withEXIFOrientation(encodeAs(t, stored, FormatJPEG), 6)
	q := map[string][]string{OptOverlayGravity: {"center"}, OptFormat: {"png"}}
	pl, err := p.Plan(base, overlayOpts(t, q, logo))
	if err != nil {
		t.Fatal(err)
	}
	if pl.overlay.w != 40 || pl.overlay.h != 80 {
		t.Fatalf("overlay %d×%d, want 40×80 (upright)", pl.overlay.w, pl.overlay.h)
	}
	res, err := p.Run(context.Background(), base, pl)
	if err != nil {
		t.Fatal(err)
	}
	img := decodeResult(t, res)
	if c := nrgbaAt(img, 100, 70); !near(c, ovRed, 12) {
		t.Errorf("top half of the overlay = %v, want red", c)
	}
	if c := nrgbaAt(img, 100, 130); !near(c, ovGreen, 12) {
		t.Errorf("bottom half of the overlay = %v, want green", c)
	}
}

// TestPlan_overlayShrinkOnLoad: an overlay much larger than it is drawn is
// decoded shrunk, and its cost is that of the shrunk decode.
func TestPlan_overlayShrinkOnLoad(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	base := encodeAs(t, solid(400, 300, ovBlue), FormatJPEG)
	big := costImage(2400, 1600, false)
	for _, f := range []Format{FormatJPEG, FormatPNG} {
		t.Run(string(f), func(t *testing.T) {
			logo := encodeAs(t, big, f)
			pl, err := p.Plan(base, overlayOpts(t, map[string][]string{OptOverlayWidth: {"120"}}, logo))
			if err != nil {
				t.Fatal(err)
			}
			if s := pl.overlay.sub.DecodeScale; s < 4 {
				t.Errorf("overlay decode scale = %d, want at least 4 for 2400 → 120", s)
			}
			full := int64(2400 * 1600 * 3)
			if pl.overlay.peak >= full {
				t.Errorf("overlay peak %d is not below a full-size decode's %d", pl.overlay.peak, full)
			}
			res, err := p.Run(context.Background(), base, pl)
			if err != nil {
				t.Fatal(err)
			}
			if res.Width != 400 || res.Height != 300 {
				t.Errorf("output %d×%d, want 400×300", res.Width, res.Height)
			}
		})
	}
}

// TestPipeline_overlayColour: an overlay with an ICC profile is converted
// to sRGB like the main image.
func TestPipeline_overlayColour(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	base := encodeAs(t, solid(100, 100, ovBlue), FormatPNG)
	green := color.NRGBA{40, 200, 60, 255}
	logo := withProfile(t, encodeAs(t, solid(40, 40, green), FormatPNG), FormatPNG, wideProfile())
	res, err := p.Process(context.Background(), base, overlayOpts(t, map[string][]string{OptOverlayGravity: {"center"}}, logo))
	if err != nil {
		t.Fatal(err)
	}
	c := nrgbaAt(decodeResult(t, res), 50, 50)
	// Adobe RGB's green is more saturated than sRGB's: converted, the red
	// channel of a green drops to (about) nothing and green rises.
	if near(c, green, 4) || c.G < green.G {
		t.Errorf("overlay pixel = %v: not converted from its wide-gamut profile (was %v)", c, green)
	}
}

// TestPlan_overlayCostBoundsPeakHeap is TestPlan_costBoundsPeakHeap for a
// large overlay: its decode and resize, beside the output, stay within the
// cost the job is admitted at.
func TestPlan_overlayCostBoundsPeakHeap(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("decodes 4 MP images with a tight GC; skipped with -short and -race (CI runs it without -race)")
	}
	p := NewPipeline(Limits{}, inline{}, nil)
	const w, h = 2400, 1600
	opaque, translucent := costImage(w, h, false), costImage(w, h, true)
	base := encodeAs(t, opaque, FormatJPEG)
	overlays := map[string][]byte{
		"jpeg":                 encodeAs(t, opaque, FormatJPEG),
		"png rgba":             encodeAs(t, translucent, FormatPNG),
		"tiff rgba":            encodeAs(t, translucent, FormatTIFF),
		"png, wide-gamut ICC":  withProfile(t, encodeAs(t, opaque, FormatPNG), FormatPNG, wideProfile()),
		"jpeg, orientation 6":  withEXIFOrientation(encodeAs(t, opaque, FormatJPEG), 6),
		"gif (full-size only)": encodeAs(t, opaque, FormatGIF),
	}
	sets := []map[string][]string{
		{},                         // full-size output, overlay fills it
		{OptOverlayWidth: {"300"}}, // a small logo from a big file: shrink-on-load
		{OptWidth: {"1200"}, OptFormat: {"png"}, OptOverlayOpacity: {"0.5"}},
		{OptWidth: {"800"}, OptRotate: {"90"}, OptOverlayGravity: {"center"}},
	}
	for name, ov := range overlays {
		t.Run(name, func(t *testing.T) {
			for _, q := range sets {
				opt := overlayOpts(t, q, ov)
				pl, err := p.Plan(base, opt)
				if err != nil {
					t.Fatalf("Plan(%v): %v", q, err)
				}
				var res Result
				peak := peakHeap(func() { res, err = p.Run(context.Background(), base, pl) })
				if err != nil {
					t.Fatalf("Run(%v): %v", q, err)
				}
				t.Logf("%-60v %5dx%-5d overlay %dx%d /%d, cost %6.1f MB, peak heap %6.1f MB (%3.0f%%)", fmt.Sprint(q), res.Width, res.Height,
					pl.overlay.w, pl.overlay.h, pl.overlay.sub.DecodeScale, float64(pl.Cost)/1e6, float64(peak)/1e6, 100*float64(peak)/float64(pl.Cost))
				if peak > pl.Cost {
					t.Errorf("%v: peak live heap %.1f MB is over the admitted cost %.1f MB", q, float64(peak)/1e6, float64(pl.Cost)/1e6)
				}
				if slack := pl.Cost - peak; slack > 4*peak+8<<20 {
					t.Errorf("%v: cost %.1f MB is far above the peak %.1f MB", q, float64(pl.Cost)/1e6, float64(peak)/1e6)
				}
			}
		})
	}
}
