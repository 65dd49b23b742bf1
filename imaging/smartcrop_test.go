package imaging

import (
	"context"
	"image"
	"image/color"
	"math/rand/v2"
	"runtime"
	"testing"

	imgops "github.com/disintegration/imaging"
)

// subjectScene returns a w×h smooth gradient (pale sky to sand, hardly any
// detail or saturation) with a detailed, saturated subject filling r: a
// red/yellow/green checkerboard with a face-coloured disc in the middle.
func subjectScene(w, h int, r image.Rectangle) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			t := float64(x+y) / float64(w+h)
			img.SetNRGBA(x, y, color.NRGBA{uint8(170 + 40*t), uint8(185 + 20*t), uint8(200 - 30*t), 255})
		}
	}
	cx, cy, rad := (r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2, min(r.Dx(), r.Dy())/4
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := []color.NRGBA{{220, 20, 30, 255}, {250, 210, 0, 255}, {20, 160, 40, 255}}[(x/4+y/4)%3]
			if dx, dy := x-cx, y-cy; dx*dx+dy*dy < rad*rad {
				c = color.NRGBA{224, 172, 140, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// TestSmartCrop_keepsOffCentreSubject: a subject near one edge of a soft
// background is kept whole by the smart window, where the centre crop cuts
// it off.
func TestSmartCrop_keepsOffCentreSubject(t *testing.T) {
	tests := []struct {
		name    string
		w, h    int // the image
		subject image.Rectangle
		cw, ch  int // the window
	}{
		{"left of a wide image", 1280, 640, image.Rect(40, 200, 240, 420), 640, 640},
		{"right of a wide image", 1280, 640, image.Rect(1000, 60, 1240, 300), 640, 640},
		{"top of a tall image", 500, 1500, image.Rect(150, 30, 350, 230), 500, 500},
		{"bottom of a tall image", 500, 1500, image.Rect(20, 1250, 220, 1480), 500, 600},
		{"small image, no downsampling", 240, 120, image.Rect(180, 30, 230, 90), 100, 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := subjectScene(tt.w, tt.h, tt.subject)
			got := smartCrop(img, tt.cw, tt.ch)
			if got.Dx() != tt.cw || got.Dy() != tt.ch || !got.In(img.Bounds()) {
				t.Fatalf("window %v: want %d×%d inside %v", got, tt.cw, tt.ch, img.Bounds())
			}
			if !tt.subject.In(got) {
				t.Errorf("smart window %v does not hold the subject %v", got, tt.subject)
			}
			centre := imgops.CropAnchor(img, tt.cw, tt.ch, imgops.Center).Bounds().Add(image.Pt((tt.w-tt.cw)/2, (tt.h-tt.ch)/2))
			if tt.subject.In(centre) {
				t.Fatalf("bad test: the centre window %v holds the subject %v too", centre, tt.subject)
			}
		})
	}
}

// TestSmartCrop_centresSubject: of the windows that hold the whole subject,
// the one with the subject nearest its middle wins.
func TestSmartCrop_centresSubject(t *testing.T) {
	subject := image.Rect(300, 100, 400, 200) // centre x 350
	img := subjectScene(1200, 300, subject)
	got := smartCrop(img, 300, 300) // windows from x=0 to 900 all could hold it
	if mid := (got.Min.X + got.Max.X) / 2; abs(mid-350) > 20 {
		t.Errorf("window %v is centred on x=%d, want about 350 (the subject's centre)", got, mid)
	}
}

// TestSmartCrop_plainImageCentres: with nothing to choose between, the
// window is the centre one, like gravity=center.
func TestSmartCrop_plainImageCentres(t *testing.T) {
	tests := []struct {
		name string
		img  image.Image
	}{
		{"uniform", imgops.New(900, 300, color.NRGBA{90, 120, 200, 255})},
		{"gradient", subjectScene(900, 300, image.Rectangle{})},
		{"transparent", image.NewNRGBA(image.Rect(0, 0, 900, 300))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := smartCrop(tt.img, 300, 300)
			if want := image.Rect(300, 0, 600, 300); abs(got.Min.X-want.Min.X) > 6 || got.Min.Y != 0 {
				t.Errorf("window %v, want about %v", got, want)
			}
		})
	}
}

// TestSmartCrop_imageTypes: every image type a decoder returns is read, and
// the window lies in the image's own coordinates.
func TestSmartCrop_imageTypes(t *testing.T) {
	subject := image.Rect(500, 20, 580, 100)
	src := subjectScene(600, 120, subject)
	ycc := image.NewYCbCr(image.Rect(0, 0, 600, 120), image.YCbCrSubsampleRatio420)
	for y := range 120 {
		for x := range 600 {
			c := src.NRGBAAt(x, y)
			yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
			ycc.Y[ycc.YOffset(x, y)], ycc.Cb[ycc.COffset(x, y)], ycc.Cr[ycc.COffset(x, y)] = yy, cb, cr
		}
	}
	rgba64 := image.NewRGBA64(src.Bounds())
	for y := range 120 {
		for x := range 600 {
			rgba64.Set(x, y, src.At(x, y))
		}
	}
	sub := src.SubImage(image.Rect(100, 0, 600, 120)) // Min.X = 100
	tests := []struct {
		name    string
		img     image.Image
		subject image.Rectangle
	}{
		{"NRGBA", src, subject},
		{"YCbCr", ycc, subject},
		{"RGBA64 (read through At)", rgba64, subject},
		{"sub-image", sub, subject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := smartCrop(tt.img, 120, 120)
			if !got.In(tt.img.Bounds()) || got.Dx() != 120 || got.Dy() != 120 {
				t.Fatalf("window %v is not 120×120 inside %v", got, tt.img.Bounds())
			}
			if !tt.subject.In(got) {
				t.Errorf("window %v does not hold the subject %v", got, tt.subject)
			}
		})
	}
}

// TestPipeline_gravitySmart runs gravity=smart through Process: the subject
// survives a cover crop that gravity=center cuts it out of; on a fit that
// does not crop, smart changes nothing, as the other gravities.
func TestPipeline_gravitySmart(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	src := encodeAs(t, subjectScene(1600, 800, image.Rect(1300, 300, 1550, 550)), FormatPNG)
	isRed := func(c color.NRGBA) bool { return c.R > 180 && c.G < 90 && c.B < 90 }
	redPixels := func(gravity, fit string) (int, Result) {
		opt, err := ParseOptions(map[string][]string{"width": {"200"}, "height": {"200"}, "fit": {fit}, "gravity": {gravity}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := p.Process(context.Background(), src, opt)
		if err != nil {
			t.Fatal(err)
		}
		img := decodeResult(t, res)
		n := 0
		for y := range img.Bounds().Dy() {
			for x := range img.Bounds().Dx() {
				if isRed(nrgbaAt(img, x, y)) {
					n++
				}
			}
		}
		return n, res
	}
	smart, res := redPixels("smart", "cover")
	if res.Width != 200 || res.Height != 200 {
		t.Fatalf("smart cover gave %d×%d, want 200×200", res.Width, res.Height)
	}
	centre, _ := redPixels("center", "cover")
	if centre != 0 || smart < 200 {
		t.Errorf("red subject pixels: smart %d, center %d; want many with smart and none with center", smart, centre)
	}
	for _, fit := range []string{"contain", "inside", "fill"} {
		_, a := redPixels("smart", fit)
		_, b := redPixels("center", fit)
		if string(a.Data) != string(b.Data) {
			t.Errorf("fit=%s: gravity=smart changed the output", fit)
		}
	}
}

// TestSmartCrop_bounded: a smart crop's work stays on an analysis copy of at
// most smartAnalysisSide pixels a side, and its allocations within
// smartCropCost, however large the image.
func TestSmartCrop_bounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	img := image.NewNRGBA(image.Rect(0, 0, 4000, 1000))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	allocs := testing.AllocsPerRun(3, func() { smartCrop(img, 1000, 1000) })
	if allocs > 20 {
		t.Errorf("smartCrop made %.0f allocations, want a handful", allocs)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	smartCrop(img, 1000, 1000)
	runtime.ReadMemStats(&after)
	if got := int64(after.TotalAlloc - before.TotalAlloc); got > smartCropCost {
		t.Errorf("smartCrop allocated %d bytes, more than smartCropCost %d", got, smartCropCost)
	}
}

func BenchmarkSmartCrop(b *testing.B) {
	img := subjectScene(1280, 853, image.Rect(900, 200, 1200, 500))
	b.ReportAllocs()
	for range b.N {
		smartCrop(img, 853, 853)
	}
}

// TestPlan_smartCropCost: a smart cover crop is charged for its analysis,
// and only where it runs.
func TestPlan_smartCropCost(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	src := encodeAs(t, newGradient(800, 400), FormatPNG)
	cost := func(fit, gravity string) int64 {
		opt, err := ParseOptions(map[string][]string{"width": {"200"}, "height": {"200"}, "fit": {fit}, "gravity": {gravity}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		pl, err := p.Plan(src, opt)
		if err != nil {
			t.Fatal(err)
		}
		return pl.Cost
	}
	if smart, centre := cost("cover", "smart"), cost("cover", "center"); smart < centre+smartCropCost {
		t.Errorf("cover: smart costs %d, center %d; want at least %d more", smart, centre, smartCropCost)
	}
	if smart, centre := cost("contain", "smart"), cost("contain", "center"); smart != centre {
		t.Errorf("contain: smart costs %d, center %d; want the same (nothing is cropped)", smart, centre)
	}
}
