package imaging

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"testing"
)

// texture is a w×h photo-like image: smooth colour waves of several
// wavelengths, so that a misplaced crop shows in the PSNR.
func texture(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			fx, fy := float64(x), float64(y)
			v := func(a, b, c float64) uint8 {
				return uint8(128 + 60*math.Sin(fx/a+fy/b) + 60*math.Cos(fx/c-fy/(a+b)))
			}
			m.SetNRGBA(x, y, color.NRGBA{v(37, 91, 53), v(71, 29, 113), v(19, 151, 41), 255})
		}
	}
	return m
}

// psnr is the peak signal-to-noise ratio of b against a over RGB, in dB.
func psnr(t *testing.T, a, b image.Image) float64 {
	t.Helper()
	if a.Bounds().Size() != b.Bounds().Size() {
		t.Fatalf("sizes %v and %v differ", a.Bounds().Size(), b.Bounds().Size())
	}
	var se float64
	n := 0
	for y := range a.Bounds().Dy() {
		for x := range a.Bounds().Dx() {
			ca, cb := nrgbaAt(a, x, y), nrgbaAt(b, x, y)
			for _, d := range []int{int(ca.R) - int(cb.R), int(ca.G) - int(cb.G), int(ca.B) - int(cb.B)} {
				se += float64(d * d)
			}
			n += 3
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(n)))
}

func TestPlan_shrinkOnLoadWithCrop(t *testing.T) {
	src := encodeAs(t, newGradient(4000, 3000), FormatJPEG)
	p := NewPipeline(Limits{}, inline{}, nil)
	tests := []struct {
		name  string
		q     map[string][]string
		scale int
	}{
		{"cover 400x400", map[string][]string{"width": {"400"}, "height": {"400"}, "fit": {"cover"}}, 4},
		{"crop 2000x1500 to 300", map[string][]string{"crop": {"1000,700,2000,1500"}, "width": {"300"}}, 4},
		{"crop 1000x1000 to 300", map[string][]string{"crop": {"10,10,1000,1000"}, "width": {"300"}}, 2},
		{"crop 2000x1500 to 1500", map[string][]string{"crop": {"1000,700,2000,1500"}, "width": {"1500"}}, 1},
		{"crop, no resize", map[string][]string{"crop": {"1000,700,2000,1500"}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt, err := ParseOptions(tt.q, nil)
			if err != nil {
				t.Fatal(err)
			}
			pl, err := p.Plan(src, opt)
			if err != nil {
				t.Fatal(err)
			}
			if pl.DecodeScale != tt.scale {
				t.Errorf("DecodeScale = %d, want %d", pl.DecodeScale, tt.scale)
			}
		})
	}
}

// TestPipeline_cropShrinkOnLoad checks that a crop and resize decoded with
// shrink-on-load gives the picture of a full-size decode: the same region,
// in the right place, with the same orientation.
func TestPipeline_cropShrinkOnLoad(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	full := NewPipeline(Limits{}, inline{}, nil)
	full.shrinkOnLoad = false
	tex := texture(1600, 1200)
	texJPEG := encodeAs(t, tex, FormatJPEG)
	texPNG := encodeAs(t, tex, FormatPNG)
	tests := []struct {
		name  string
		src   []byte
		q     map[string][]string
		scale int
		psnr  float64 // at least, in dB: an unaligned crop is placed to within half an output pixel
	}{
		{"jpeg", texJPEG, map[string][]string{"crop": {"203,101,901,707"}, "width": {"200"}, "format": {"png"}}, 4, 38},
		{"jpeg aligned", texJPEG, map[string][]string{"crop": {"200,104,904,704"}, "width": {"200"}, "format": {"png"}}, 4, 40},
		{"jpeg 1/2", texJPEG, map[string][]string{"crop": {"3,5,1001,799"}, "width": {"400"}, "format": {"png"}}, 2, 40},
		{"jpeg cover", texJPEG, map[string][]string{"crop": {"111,77,1301,1011"}, "width": {"150"}, "height": {"150"}, "fit": {"cover"}, "format": {"png"}}, 4, 35},
		{"jpeg orientation 6", withEXIFOrientation(texJPEG, 6), map[string][]string{"crop": {"131,217,901,1107"}, "width": {"200"}, "format": {"png"}}, 4, 38},
		// The box the PNG decoder averages starts at the image's corner, not the crop's.
		{"png", texPNG, map[string][]string{"crop": {"203,101,901,707"}, "width": {"150"}, "format": {"png"}}, 3, 35},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt, err := ParseOptions(tt.q, nil)
			if err != nil {
				t.Fatal(err)
			}
			pl, err := p.Plan(tt.src, opt)
			if err != nil {
				t.Fatal(err)
			}
			if pl.DecodeScale != tt.scale {
				t.Errorf("DecodeScale = %d, want %d", pl.DecodeScale, tt.scale)
			}
			a, err := p.Process(context.Background(), tt.src, opt)
			if err != nil {
				t.Fatal(err)
			}
			b, err := full.Process(context.Background(), tt.src, opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := psnr(t, decodeResult(t, a), decodeResult(t, b)); got < tt.psnr {
				t.Errorf("shrink-on-load against full decode: PSNR %.1f dB, want at least %g", got, tt.psnr)
			} else {
				t.Logf("PSNR %.1f dB", got)
			}
		})
	}
}

// TestPipeline_cropQuadrants checks that a crop decoded with shrink-on-load
// lands where the crop asked: the quadrants' corners show in the output at
// the place the crop puts them, with and without an EXIF orientation.
func TestPipeline_cropQuadrants(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	// 1600×1200: the quadrants meet at (800, 600). The crop from (600, 500),
	// 800×400 wide, puts the meeting point at (200, 100) of 800×400, which
	// becomes (50, 25) at 200 px wide.
	red, green, blue, white := color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 255, 0, 255}, color.NRGBA{0, 0, 255, 255}, color.NRGBA{255, 255, 255, 255}
	quads := encodeAs(t, newQuadrants(1600, 1200), FormatJPEG)
	// Stored transposed (orientation 5 transposes back), the same picture displays.
	transposed := encodeAs(t, transposeNRGBA(newQuadrants(1600, 1200)), FormatJPEG)
	tests := []struct {
		name string
		src  []byte
	}{
		{"upright", quads},
		{"orientation 5", withEXIFOrientation(transposed, 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt, err := ParseOptions(map[string][]string{"crop": {"600,500,800,400"}, "width": {"200"}, "format": {"png"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			pl, err := p.Plan(tt.src, opt)
			if err != nil || pl.DecodeScale != 4 {
				t.Fatalf("DecodeScale = %d (%v), want 4", pl.DecodeScale, err)
			}
			res, err := p.Process(context.Background(), tt.src, opt)
			if err != nil {
				t.Fatal(err)
			}
			img := decodeResult(t, res)
			if got := img.Bounds().Size(); got != image.Pt(200, 100) {
				t.Fatalf("output is %v, want 200×100", got)
			}
			for _, c := range []struct {
				x, y int
				want color.NRGBA
			}{
				{47, 22, red}, {53, 22, green}, {47, 28, blue}, {53, 28, white},
				{0, 0, red}, {199, 0, green}, {0, 99, blue}, {199, 99, white},
			} {
				if got := nrgbaAt(img, c.x, c.y); !near(got, c.want, 40) {
					t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, got, c.want)
				}
			}
		})
	}
}

func transposeNRGBA(m *image.NRGBA) *image.NRGBA {
	b := m.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			out.SetNRGBA(y, x, m.NRGBAAt(x, y))
		}
	}
	return out
}

func TestPlan_scaledCrop(t *testing.T) {
	tests := []struct {
		crop        image.Rectangle
		scale       Scale
		orientation int
		size        image.Point
		want        image.Rectangle
	}{
		{image.Rect(8, 8, 24, 16), Scale{1, 1}, 1, image.Pt(100, 100), image.Rect(8, 8, 24, 16)},
		{image.Rect(8, 8, 24, 16), Scale{4, 4}, 1, image.Pt(25, 25), image.Rect(2, 2, 6, 4)},
		{image.Rect(9, 7, 23, 17), Scale{4, 4}, 1, image.Pt(25, 25), image.Rect(2, 1, 6, 5)},
		{image.Rect(9, 7, 99, 97), Scale{8, 8}, 1, image.Pt(13, 13), image.Rect(1, 0, 13, 13)},
		{image.Rect(9, 7, 23, 17), Scale{2, 4}, 1, image.Pt(50, 25), image.Rect(4, 1, 12, 5)},
		{image.Rect(9, 7, 23, 17), Scale{2, 4}, 6, image.Pt(25, 50), image.Rect(2, 3, 6, 9)},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.crop, tt.scale, tt.orientation), func(t *testing.T) {
			pl := Plan{Options: Options{Crop: tt.crop, AutoOrient: true}, Info: Info{Orientation: tt.orientation}, scale: tt.scale}
			if got := pl.scaledCrop(tt.size); got != tt.want {
				t.Errorf("scaledCrop = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPlan_cropTrim(t *testing.T) {
	tests := []struct {
		name         string
		crop         image.Rectangle
		scale        Scale
		orientation  int
		rw, rh       int
		w, h         int
		trim         image.Rectangle
		ok           bool
		scaledCropIs image.Rectangle
	}{
		// 203/4 = 50.75: the decoded crop starts 0.75 px early, 0.67 px at 200/225.25.
		{"unaligned", image.Rect(203, 101, 1104, 808), Scale{4, 4}, 1, 200, 157, 201, 157, image.Rect(1, 0, 201, 157), true, image.Rect(50, 25, 276, 202)},
		{"aligned", image.Rect(200, 104, 1104, 808), Scale{4, 4}, 1, 200, 156, 0, 0, image.Rectangle{}, false, image.Rect(50, 26, 276, 202)},
		{"full size", image.Rect(203, 101, 1104, 808), Scale{1, 1}, 1, 200, 157, 0, 0, image.Rectangle{}, false, image.Rect(203, 101, 1104, 808)},
		{"no resize", image.Rect(203, 101, 1104, 808), Scale{4, 4}, 1, 0, 0, 0, 0, image.Rectangle{}, false, image.Rect(50, 25, 276, 202)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl := Plan{Options: Options{Crop: tt.crop, AutoOrient: true}, Info: Info{Orientation: tt.orientation}, scale: tt.scale,
				resizeWidth: tt.rw, resizeHeight: tt.rh}
			r := pl.scaledCrop(image.Pt(400, 300))
			if r != tt.scaledCropIs {
				t.Fatalf("scaledCrop = %v, want %v", r, tt.scaledCropIs)
			}
			w, h, trim, ok := pl.cropTrim(r)
			if ok != tt.ok || ok && (w != tt.w || h != tt.h || trim != tt.trim) {
				t.Errorf("cropTrim = %d×%d %v %t, want %d×%d %v %t", w, h, trim, ok, tt.w, tt.h, tt.trim, tt.ok)
			}
		})
	}
}
