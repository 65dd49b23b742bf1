package imaging

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
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
		{"rotate 90", jpg, map[string][]string{"width": {"200"}, "rotate": {"90"}}, true},
		{"rotate -90, orientation 6", rotated, map[string][]string{"width": {"200"}, "rotate": {"-90"}}, true},
		{"rotate 45", jpg, map[string][]string{"width": {"200"}, "rotate": {"45"}}, false},
		{"flip", jpg, map[string][]string{"width": {"200"}, "flip": {"h"}}, true},
		{"webp output", jpg, map[string][]string{"width": {"200"}, "format": {"webp"}}, true},
		{"lossless webp output", jpg, map[string][]string{"width": {"200"}, "format": {"webp"}, "lossless": {"true"}}, false},
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
	p, orig, jpg := planarFixture(t)
	for _, q := range []map[string][]string{
		{"width": {"333"}},
		{"width": {"1280"}},
		{"width": {"200"}, "height": {"200"}, "fit": {"inside"}},
		{"width": {"120"}}, // shrink-on-load at 1/8, then 126 to 120
		{"width": {"301"}, "height": {"301"}, "fit": {"cover"}},
		{"width": {"301"}, "height": {"151"}, "fit": {"cover"}, "gravity": {"north"}},
		{"width": {"151"}, "height": {"301"}, "fit": {"cover"}, "gravity": {"southeast"}},
		{"width": {"151"}, "height": {"301"}, "fit": {"cover"}, "gravity": {"west"}},
		{"width": {"333"}, "rotate": {"90"}},
		{"width": {"201"}, "rotate": {"270"}, "flip": {"h"}},
		{"width": {"201"}, "rotate": {"180"}},
		{"width": {"201"}, "flip": {"v"}},
		{"width": {"301"}, "height": {"151"}, "fit": {"cover"}, "rotate": {"90"}, "flip": {"v"}},
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

// TestPlanar_webp runs JPEG to lossy WebP resizes through Run both ways:
// libwebp takes the planes, range-narrowed (webpPlanes), and the output is
// as close to the original as libwebp's own import of RGB makes it.
// Lossless WebP is not planar: it stores RGB.
func TestPlanar_webp(t *testing.T) {
	if !codecOf(FormatWebP).writes() {
		t.Skip("no libwebp to write WebP with")
	}
	p, orig, jpg := planarFixture(t)
	for _, q := range []map[string][]string{
		{"width": {"333"}},
		{"width": {"1280"}},
		{"width": {"301"}, "height": {"301"}, "fit": {"cover"}},
	} {
		q["format"], q["quality"] = []string{"webp"}, []string{"95"}
		planarRun(t, p, jpg, orig, q, 1)
	}
	planarRun(t, p, withEXIFOrientation(jpg, 6), orig, map[string][]string{"width": {"333"}, "format": {"webp"}, "quality": {"95"}}, 6)
	opt, err := ParseOptions(map[string][]string{"width": {"333"}, "format": {"webp"}, "lossless": {"true"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pl, err := p.Plan(jpg, opt); err != nil || pl.planar {
		t.Errorf("lossless WebP: planar %v, err %v; want an RGB plan", pl.planar, err)
	}
}

// TestWebPPlanes checks the range narrowing against libwebp's RGB import:
// flat patches of colours spread over the gamut, given to libwebp as
// JPEG's full-range YCbCr planes, decode to what the same colours given as
// RGB decode to, within libwebp's rounding.
func TestWebPPlanes(t *testing.T) {
	if !codecOf(FormatWebP).writes() {
		t.Skip("no libwebp to write WebP with")
	}
	colours := []color.NRGBA{{0, 0, 0, 255}, {255, 255, 255, 255}, {255, 0, 0, 255}, {0, 255, 0, 255},
		{0, 0, 255, 255}, {200, 120, 40, 255}, {30, 160, 220, 255}, {128, 128, 128, 255}}
	rgb := image.NewNRGBA(image.Rect(0, 0, 16*len(colours), 16))
	for i, c := range colours {
		for y := range 16 {
			for x := range 16 {
				rgb.SetNRGBA(16*i+x, y, c)
			}
		}
	}
	enc := codecOf(FormatWebP).Encoder
	var viaPlanes, viaRGB bytes.Buffer
	o := Options{Quality: 100}
	if err := enc.Encode(&viaPlanes, ycbcrOf(rgb, image.YCbCrSubsampleRatio420), o); err != nil {
		t.Fatal(err)
	}
	if err := enc.Encode(&viaRGB, rgb, o); err != nil {
		t.Fatal(err)
	}
	a, b := decodeOurs(t, viaPlanes.Bytes()), decodeOurs(t, viaRGB.Bytes())
	for i, c := range colours {
		// The patch's centre, away from chroma bleeding at its edges.
		pa, pb := color.NRGBAModel.Convert(a.At(16*i+8, 8)).(color.NRGBA), color.NRGBAModel.Convert(b.At(16*i+8, 8)).(color.NRGBA)
		for k, d := range [3]int{int(pa.R) - int(pb.R), int(pa.G) - int(pb.G), int(pa.B) - int(pb.B)} {
			if d < -4 || d > 4 {
				t.Errorf("%v: channel %d is %v through the planes, %v through RGB", c, k, pa, pb)
				break
			}
		}
		if d := int(pa.R) - int(c.R); d < -6 || d > 6 {
			t.Errorf("%v came back as %v", c, pa)
		}
	}
}

// decodeOurs decodes b at full size with the codec table's decoder for its
// format (image.Decode would take gen2brain/webp's, which leaves lossy
// WebP's samples at video range).
func decodeOurs(t *testing.T, b []byte) image.Image {
	t.Helper()
	c := sniff(b)
	if c == nil || c.Decoder == nil {
		t.Fatal("not an image the codec table reads")
	}
	in, err := c.Probe(b)
	if err != nil {
		t.Fatal(err)
	}
	img, err := c.Decoder.Decode(b, in, Scale{1, 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// planarFixture is the pipeline, original and JPEG the planar tests run.
func planarFixture(t *testing.T) (*Pipeline, image.Image, []byte) {
	orig := texture(1001, 751)
	return NewPipeline(Limits{}, inline{}, nil), orig, encodeAs(t, orig, FormatJPEG)
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
			a, b := decodeOurs(t, planar.Data), decodeOurs(t, rgb.Data)
			if a.Bounds() != b.Bounds() || planar.Width != rgb.Width || planar.Height != rgb.Height {
				t.Fatalf("planar %v, RGB %v", a.Bounds(), b.Bounds())
			}
			if d := psnr(t, a, b); d < 40 {
				t.Errorf("PSNR %.1f dB between the planar and RGB outputs, want ≥ 40", d)
			}
			// As transform does it, in float.
			var ref image.Image = imgops.Resize(orient(orig, orientation), pl.resizeWidth, pl.resizeHeight, imgops.Lanczos)
			if q["fit"] != nil {
				ref = cropCover(ref, opt.Width, opt.Height, opt.Gravity)
			}
			ref = turnThenFlip(ref, opt.Rotate, opt.Flip)
			if dp, dr := psnr(t, a, ref), psnr(t, b, ref); dp < dr-0.3 {
				t.Errorf("vs a float Lanczos of the original: planar %.2f dB, RGB path %.2f dB", dp, dr)
			}
		})
	}
}

// TestLanczosRowPairs checks that filtering two outputs per multiplication
// gives exactly the samples of one output at a time, for reductions,
// enlargements, chroma steps and offsets, odd widths and rows of extremes
// (where the negative lobes push the sums furthest).
func TestLanczosRowPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		w, sw  int
		du, ou float64
	}{
		{1280, 1920, 0, 0}, {853, 1280, 0, 0}, {300, 4000, 0, 0}, {7, 8, 0, 0}, {1, 5, 0, 0},
		{2, 3, 0, 0}, {640, 960, 1.5, 0.25}, {427, 640, 1.5, -0.25}, {321, 961, 0, 0}, {1000, 600, 0, 0}, {5, 2, 0, 0},
	}
	for _, c := range cases {
		du := c.du
		if du == 0 {
			du = float64(c.sw) / float64(c.w)
		}
		fw := lanczosWeightsStep(c.w, c.sw, du, c.ou, lanczosBits)
		pw := newPairWeights(fw, c.w, c.sw)
		if pw == nil {
			if c.sw >= 8 {
				t.Errorf("%d→%d: no pair weights", c.sw, c.w)
			}
			continue
		}
		src := make([]uint8, c.sw)
		for trial := range 20 {
			for i := range src {
				switch trial % 3 {
				case 0:
					src[i] = uint8(rng.IntN(256))
				case 1:
					src[i] = uint8(255 * (i / 2 % 2)) // stripes of 0 and 255
				default:
					src[i] = uint8(255 * rng.IntN(2))
				}
			}
			want, got := make([]uint8, c.w), make([]uint8, c.w)
			lanczosRowPlane(want, src, fw)
			lanczosRowPairs(got, src, pw)
			if !bytes.Equal(got, want) {
				t.Fatalf("%d→%d (du %g, off %g): pairs %v\nwant %v", c.sw, c.w, du, c.ou, got, want)
			}
		}
	}
}

// turnThenFlip turns img clockwise by deg degrees, then flips it, step by
// step with imgops, as the tests' reference for the planar turns.
func turnThenFlip(img image.Image, deg float64, flip string) image.Image {
	img = imgops.Rotate(img, -deg, color.White) // imgops turns counter-clockwise
	switch flip {
	case "h":
		img = imgops.FlipH(img)
	case "v":
		img = imgops.FlipV(img)
	}
	return img
}

// TestPlanarOrientation checks the one orientation the planar path turns by
// against turning pixels step by step as transform does: the EXIF
// orientation, then the rotation, then the flip, every combination.
func TestPlanarOrientation(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	for exif := 1; exif <= 8; exif++ {
		for _, deg := range []float64{0, 90, 180, 270, -90, -180, 360} {
			for _, flip := range []string{"", "h", "v"} {
				pl := Plan{Info: Info{Orientation: exif}}
				pl.Options.AutoOrient, pl.Options.Rotate, pl.Options.Flip = true, deg, flip
				want := turnThenFlip(orient(img, exif), deg, flip)
				o := pl.planarOrientation()
				got := imgops.Clone(orient(img, o))
				if !bytes.Equal(got.Pix, imgops.Clone(want).Pix) || got.Rect != want.Bounds() {
					t.Errorf("orientation %d, rotate %g, flip %q: planarOrientation %d turns differently", exif, deg, flip, o)
				}
			}
		}
	}
}

// TestOrientPlane checks orientPlane sample for sample against orient, on
// sides that are and are not multiples of the 8×8 blocks and of the
// strips, with padded strides, on one to three goroutines.
func TestOrientPlane(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []image.Point{{1, 1}, {1, 9}, {7, 3}, {8, 8}, {9, 16}, {17, 23}, {64, 64}, {65, 130}, {200, 71}} {
		src := image.NewGray(image.Rect(0, 0, size.X+5, size.Y)).SubImage(image.Rect(0, 0, size.X, size.Y)).(*image.Gray)
		for i := range src.Pix {
			src.Pix[i] = uint8(rng.Uint32())
		}
		for o := 1; o <= 8; o++ {
			want := imgops.Clone(orient(src, o))
			w, h := want.Rect.Dx(), want.Rect.Dy()
			for procs := 1; procs <= 3; procs++ {
				stride := w + 3
				dst := make([]uint8, stride*h)
				orientPlane(dst, stride, w, h, src.Pix, src.Stride, o, procs)
				for y := range h {
					for x := range w {
						if got, want := dst[y*stride+x], want.Pix[want.PixOffset(x, y)]; got != want {
							t.Fatalf("%v, orientation %d, %d goroutines: sample (%d, %d) is %d, want %d", size, o, procs, x, y, got, want)
						}
					}
				}
			}
		}
	}
}

func BenchmarkOrientPlane(b *testing.B) {
	const w, h = 1280, 960
	src := make([]uint8, w*h)
	dst := make([]uint8, w*h)
	for _, o := range []int{3, 6} {
		b.Run(fmt.Sprint("orientation", o), func(b *testing.B) {
			b.SetBytes(w * h)
			ow, oh := w, h // a turn makes it h×w
			if o >= 5 {
				ow, oh = h, w
			}
			for b.Loop() {
				orientPlane(dst, ow, ow, oh, src, w, o, 1)
			}
		})
	}
}
