package imaging

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"testing"

	imgops "github.com/disintegration/imaging"
)

func TestPlanar_eligibility(t *testing.T) {
	jpg := encodeAs(t, texture(320, 240), FormatJPEG)
	rotated := withEXIFOrientation(jpg, 6)
	wide := withProfile(t, jpg, FormatJPEG, wideProfile())
	p := NewPipeline(Limits{}, inline{}, nil)
	tests := []struct {
		name string
		src  []byte
		q    map[string][]string
		want bool
	}{
		{"resize", jpg, map[string][]string{"width": {"200"}}, true},
		{"enlarge", jpg, map[string][]string{"width": {"501"}}, true},
		{"fit inside", jpg, map[string][]string{"width": {"200"}, "height": {"100"}, "fit": {"inside"}}, true},
		{"cover exact", jpg, map[string][]string{"width": {"160"}, "height": {"120"}, "fit": {"cover"}}, true},
		{"orientation 6 not applied", rotated, map[string][]string{"width": {"200"}, "auto_orient": {"false"}}, true},
		{"no resize", jpg, map[string][]string{"quality": {"80"}}, false},
		{"png output", jpg, map[string][]string{"width": {"200"}, "format": {"png"}}, false},
		{"orientation 6", rotated, map[string][]string{"width": {"200"}}, true},
		{"colour conversion", wide, map[string][]string{"width": {"200"}}, false},
		{"crop", jpg, map[string][]string{"width": {"100"}, "crop": {"10,10,200,200"}}, false},
		{"cover crop", jpg, map[string][]string{"width": {"200"}, "height": {"200"}, "fit": {"cover"}}, true},
		{"cover crop east", jpg, map[string][]string{"width": {"200"}, "height": {"200"}, "fit": {"cover"}, "gravity": {"east"}}, true},
		{"cover crop smart", jpg, map[string][]string{"width": {"200"}, "height": {"200"}, "fit": {"cover"}, "gravity": {"smart"}}, false},
		{"cover crop orientation 6", rotated, map[string][]string{"width": {"200"}, "height": {"200"}, "fit": {"cover"}}, false},
		{"padding", jpg, map[string][]string{"width": {"200"}, "height": {"200"}, "fit": {"contain"}}, false},
		{"rotate 90", jpg, map[string][]string{"width": {"200"}, "rotate": {"90"}}, false},
		{"flip", jpg, map[string][]string{"width": {"200"}, "flip": {"h"}}, false},
		{"blur", jpg, map[string][]string{"width": {"200"}, "blur": {"1"}}, false},
		{"sharpen", jpg, map[string][]string{"width": {"200"}, "sharpen": {"1"}}, false},
		{"grayscale", jpg, map[string][]string{"width": {"200"}, "grayscale": {"true"}}, false},
		{"brightness", jpg, map[string][]string{"width": {"200"}, "brightness": {"10"}}, false},
		{"contrast", jpg, map[string][]string{"width": {"200"}, "contrast": {"10"}}, false},
		{"gamma", jpg, map[string][]string{"width": {"200"}, "gamma": {"1.5"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opt, err := ParseOptions(tc.q, nil)
			if err != nil {
				t.Fatal(err)
			}
			pl, err := p.Plan(tc.src, opt)
			if err != nil {
				t.Fatal(err)
			}
			if pl.planar != tc.want {
				t.Errorf("planar = %v, want %v", pl.planar, tc.want)
			}
		})
	}
}

// ycbcrOf converts an NRGBA image to YCbCr of the given chroma ratio, each
// chroma sample the mean of the pixels it covers.
func ycbcrOf(src *image.NRGBA, r image.YCbCrSubsampleRatio) *image.YCbCr {
	b := src.Bounds()
	m := image.NewYCbCr(b, r)
	fx, fy := 1, 1
	switch r {
	case image.YCbCrSubsampleRatio422:
		fx = 2
	case image.YCbCrSubsampleRatio420:
		fx, fy = 2, 2
	}
	for y := range b.Dy() {
		for x := range b.Dx() {
			c := src.NRGBAAt(x, y)
			yy, _, _ := color.RGBToYCbCr(c.R, c.G, c.B)
			m.Y[m.YOffset(x, y)] = yy
		}
	}
	for cy := 0; cy*fy < b.Dy(); cy++ {
		for cx := 0; cx*fx < b.Dx(); cx++ {
			var cb, cr, n int
			for y := cy * fy; y < min((cy+1)*fy, b.Dy()); y++ {
				for x := cx * fx; x < min((cx+1)*fx, b.Dx()); x++ {
					c := src.NRGBAAt(x, y)
					_, u, v := color.RGBToYCbCr(c.R, c.G, c.B)
					cb, cr, n = cb+int(u), cr+int(v), n+1
				}
			}
			o := m.COffset(cx*fx, cy*fy)
			m.Cb[o], m.Cr[o] = uint8((cb+n/2)/n), uint8((cr+n/2)/n)
		}
	}
	return m
}

// TestPlanar_matchesRGB resizes YCbCr images of each chroma ratio and odd
// sizes plane-wise and on RGB: the two agree, and against a float Lanczos
// of the full-colour original the planar result is about as close as the
// RGB path's.
func TestPlanar_matchesRGB(t *testing.T) {
	sizes := []struct{ sw, sh, w, h int }{
		{641, 479, 333, 251},
		{640, 480, 320, 240},
		{301, 203, 200, 101},
		{211, 157, 423, 315}, // enlarged
		{500, 375, 499, 375}, // one axis only
	}
	ratios := []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio444}
	for _, s := range sizes {
		orig := texture(s.sw, s.sh)
		ref := imgops.Resize(orig, s.w, s.h, imgops.Lanczos)
		for _, r := range ratios {
			t.Run(fmt.Sprintf("%dx%d-to-%dx%d/%v", s.sw, s.sh, s.w, s.h, r), func(t *testing.T) {
				src := ycbcrOf(orig, r)
				pl := Plan{planar: true, resizeWidth: s.w, resizeHeight: s.h}
				got := planarResize(src, pl, 2)
				if got == nil {
					t.Fatal("planarResize returned nil")
				}
				if got.SubsampleRatio != image.YCbCrSubsampleRatio420 || got.Rect != image.Rect(0, 0, s.w, s.h) {
					t.Fatalf("got %v %v, want 4:2:0 %dx%d", got.SubsampleRatio, got.Rect, s.w, s.h)
				}
				rgb := resize(src, s.w, s.h, 2)
				if d := psnr(t, got, rgb); d < 40 {
					t.Errorf("planar vs RGB path: PSNR %.1f dB, want ≥ 40", d)
				}
				// The RGB path's output is 4:4:4; as the encoder would
				// store it, in 4:2:0.
				rgb420 := ycbcrOf(imgops.Clone(rgb), image.YCbCrSubsampleRatio420)
				dp, dr := psnr(t, got, ref), psnr(t, rgb420, ref)
				t.Logf("vs float reference: planar %.2f dB, RGB path in 4:2:0 %.2f dB", dp, dr)
				if dp < dr-0.5 {
					t.Errorf("planar is %.2f dB from the float reference, the RGB path %.2f dB", dp, dr)
				}
			})
		}
	}
	// Types and layouts it does not read go the RGB way.
	pl := Plan{planar: true, resizeWidth: 50, resizeHeight: 40}
	for name, img := range map[string]image.Image{
		"gray":   image.NewGray(image.Rect(0, 0, 100, 80)),
		"nrgba":  image.NewNRGBA(image.Rect(0, 0, 100, 80)),
		"4:1:1":  image.NewYCbCr(image.Rect(0, 0, 100, 80), image.YCbCrSubsampleRatio411),
		"offset": image.NewYCbCr(image.Rect(2, 2, 100, 80), image.YCbCrSubsampleRatio420),
		"box":    image.NewYCbCr(image.Rect(0, 0, 400, 80), image.YCbCrSubsampleRatio420),
	} {
		if planarResize(img, pl, 1) != nil {
			t.Errorf("%s: planarResize did not return nil", name)
		}
	}
	if planarResize(ycbcrOf(texture(100, 80), image.YCbCrSubsampleRatio420), Plan{resizeWidth: 50, resizeHeight: 40}, 1) != nil {
		t.Error("planarResize ran for a plan that is not planar")
	}
}

// TestPlanar_pipeline runs JPEG resizes through Run both ways: the outputs,
// decoded, agree, and are about as close to a float Lanczos of the
// original. (At quality 95: at lower qualities the two encodes' own losses
// outweigh the difference of the paths.)
func TestPlanar_pipeline(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	orig := texture(1001, 751)
	jpg := encodeAs(t, orig, FormatJPEG)
	for _, q := range []map[string][]string{
		{"width": {"333"}},
		{"width": {"1280"}},
		{"width": {"200"}, "height": {"200"}, "fit": {"inside"}},
		{"width": {"120"}}, // shrink-on-load at 1/8, then 126 to 120
		{"width": {"301"}, "height": {"301"}, "fit": {"cover"}},
		{"width": {"301"}, "height": {"151"}, "fit": {"cover"}, "gravity": {"north"}},
		{"width": {"151"}, "height": {"301"}, "fit": {"cover"}, "gravity": {"southeast"}},
		{"width": {"151"}, "height": {"301"}, "fit": {"cover"}, "gravity": {"west"}},
	} {
		q["quality"] = []string{"95"}
		if q["fit"] != nil && q["fit"][0] == "cover" {
			planarRun(t, p, jpg, orig, q, 1)
			continue
		}
		for o := range 8 {
			src := jpg
			if o > 0 {
				src = withEXIFOrientation(jpg, uint16(o+1))
			}
			planarRun(t, p, src, orig, q, o+1)
		}
	}
}

// planarRun runs a job both ways and compares the outputs.
func planarRun(t *testing.T, p *Pipeline, jpg []byte, orig image.Image, q map[string][]string, orientation int) {
	{
		t.Run(fmt.Sprint(q, "/orientation", orientation), func(t *testing.T) {
			opt, err := ParseOptions(q, nil)
			if err != nil {
				t.Fatal(err)
			}
			pl, err := p.Plan(jpg, opt)
			if err != nil {
				t.Fatal(err)
			}
			if !pl.planar {
				t.Fatal("the plan is not planar")
			}
			planar, err := p.Run(context.Background(), jpg, pl)
			if err != nil {
				t.Fatal(err)
			}
			pl.planar = false
			rgb, err := p.Run(context.Background(), jpg, pl)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(planar.Data, rgb.Data) {
				t.Fatal("the outputs are the same: the planar path did not run")
			}
			a, b := decodeAny(t, planar.Data), decodeAny(t, rgb.Data)
			if a.Bounds() != b.Bounds() || planar.Width != rgb.Width || planar.Height != rgb.Height {
				t.Fatalf("planar %v, RGB %v", a.Bounds(), b.Bounds())
			}
			if d := psnr(t, a, b); d < 40 {
				t.Errorf("PSNR %.1f dB between the planar and RGB outputs, want ≥ 40", d)
			}
			var ref image.Image
			if q["fit"] != nil {
				// As transform does it, in float.
				ref = cropCover(imgops.Resize(orig, pl.resizeWidth, pl.resizeHeight, imgops.Lanczos), opt.Width, opt.Height, opt.Gravity)
			} else {
				ref = imgops.Resize(orient(orig, orientation), a.Bounds().Dx(), a.Bounds().Dy(), imgops.Lanczos)
			}
			if dp, dr := psnr(t, a, ref), psnr(t, b, ref); dp < dr-0.3 {
				t.Errorf("vs a float Lanczos of the original: planar %.2f dB, RGB path %.2f dB", dp, dr)
			}
		})
	}
}
