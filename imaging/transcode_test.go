package imaging

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/imgsvc/imgsvc/imaging/internal/jpegscale"
)

// phaseLog records the phases a pipeline observes.
type phaseLog struct {
	mu     sync.Mutex
	phases []Phase
}

func (l *phaseLog) observe(p Phase, _ Format, _ time.Duration) {
	l.mu.Lock()
	l.phases = append(l.phases, p)
	l.mu.Unlock()
}

func (l *phaseLog) take() []Phase {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.phases
	l.phases = nil
	return p
}

func transcoded(phases []Phase) bool {
	for _, p := range phases {
		if p == PhaseTranscode {
			return true
		}
	}
	return false
}

// rgbPSNR compares the RGB samples of two images of the same size, in dB.
func rgbPSNR(a, b image.Image) float64 {
	r := a.Bounds()
	var se float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c1, c2 := nrgbaAt(a, x, y), nrgbaAt(b, x-r.Min.X+b.Bounds().Min.X, y-r.Min.Y+b.Bounds().Min.Y)
			for _, d := range []int{int(c1.R) - int(c2.R), int(c1.G) - int(c2.G), int(c1.B) - int(c2.B)} {
				se += float64(d * d)
			}
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*3*float64(r.Dx()*r.Dy())/se)
}

// TestTranscode_path checks which jobs take the DCT-domain path: a JPEG
// re-encoded as JPEG with no pixel operation does, anything that changes
// the pixels does not, and both give the right output.
func TestTranscode_path(t *testing.T) {
	var log phaseLog
	p := NewPipeline(Limits{}, inline{}, log.observe)
	src := encodeAs(t, newPhoto(203, 117), FormatJPEG)
	rotated := withEXIFOrientation(src, 6)
	srgb := func(t *testing.T) []byte {
		return withProfile(t, src, FormatJPEG, systemProfile(t, "ghostscript/srgb.icc"))
	}
	wide := func(*testing.T) []byte { return withProfile(t, src, FormatJPEG, wideProfile()) }
	for _, tt := range []struct {
		name string
		src  func(*testing.T) []byte
		opt  map[string][]string
		want bool
	}{
		{"jpeg q85", nil, map[string][]string{"format": {"jpeg"}, "quality": {"85"}}, true},
		{"defaults", nil, nil, true},
		{"width equal to the image's", nil, map[string][]string{"width": {"203"}}, true},
		{"width and height equal, cover", nil, map[string][]string{"width": {"203"}, "height": {"117"}, "fit": {"cover"}}, true},
		{"strip=false", nil, map[string][]string{"strip": {"false"}}, true},
		{"partial", nil, map[string][]string{"partial": {"true"}}, true},
		{"width", nil, map[string][]string{"width": {"100"}}, false},
		{"contain into a larger box", nil, map[string][]string{"width": {"203"}, "height": {"203"}}, false},
		{"crop", nil, map[string][]string{"crop": {"0,0,203,116"}}, false},
		{"rotate", nil, map[string][]string{"rotate": {"90"}}, false},
		{"flip", nil, map[string][]string{"flip": {"h"}}, false},
		{"blur", nil, map[string][]string{"blur": {"1"}}, false},
		{"sharpen", nil, map[string][]string{"sharpen": {"1"}}, false},
		{"grayscale", nil, map[string][]string{"grayscale": {"true"}}, false},
		{"brightness", nil, map[string][]string{"brightness": {"10"}}, false},
		{"contrast", nil, map[string][]string{"contrast": {"10"}}, false},
		{"gamma", nil, map[string][]string{"gamma": {"1.2"}}, false},
		{"png", nil, map[string][]string{"format": {"png"}}, false},
		{"orientation 6", func(*testing.T) []byte { return rotated }, nil, false},
		{"orientation 6, auto_orient=false", func(*testing.T) []byte { return rotated }, map[string][]string{"auto_orient": {"false"}}, true},
		{"wide-gamut profile", wide, nil, false},
		{"wide-gamut profile kept", wide, map[string][]string{"color_profile": {"keep"}}, true},
		{"sRGB profile", srgb, nil, true},
		{"png input", func(t *testing.T) []byte { return encodeAs(t, newPhoto(203, 117), FormatPNG) }, map[string][]string{"format": {"jpeg"}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := src
			if tt.src != nil {
				in = tt.src(t)
			}
			log.take()
			res := processQ(t, p, in, tt.opt)
			if got := transcoded(log.take()); got != tt.want {
				t.Errorf("transcoded = %v, want %v", got, tt.want)
			}
			if got := Sniff(res.Data); tt.want && got != FormatJPEG {
				t.Fatalf("the output sniffs as %q", got)
			}
			if tt.want {
				img := decodeResult(t, res)
				if b := img.Bounds(); b.Dx() != 203 || b.Dy() != 117 || res.Width != 203 || res.Height != 117 {
					t.Errorf("output %v, result says %dx%d; want 203x117", b, res.Width, res.Height)
				}
			}
		})
	}
}

// TestTranscode_metadata checks that the transcode keeps and drops Exif and
// ICC profiles as the pixel path does.
func TestTranscode_metadata(t *testing.T) {
	var log phaseLog
	p := NewPipeline(Limits{}, inline{}, log.observe)
	base := encodeAs(t, newPhoto(64, 48), FormatJPEG)
	src := withProfile(t, withEXIFOrientation(base, 1), FormatJPEG, wideProfile())
	for _, tt := range []struct {
		opt            map[string][]string
		exif, icc      bool
		wantTranscoded bool
	}{
		{map[string][]string{"color_profile": {"keep"}}, false, true, true},
		{map[string][]string{"color_profile": {"keep"}, "strip": {"false"}}, true, true, true},
	} {
		res := processQ(t, p, src, tt.opt)
		if got := transcoded(log.take()); got != tt.wantTranscoded {
			t.Fatalf("%v: transcoded = %v", tt.opt, got)
		}
		if got := jpegEXIF(res.Data) != nil; got != tt.exif {
			t.Errorf("%v: Exif kept = %v, want %v", tt.opt, got, tt.exif)
		}
		prof := jpegProfile(res.Data)
		if prof.present() != tt.icc {
			t.Errorf("%v: profile kept = %v, want %v", tt.opt, prof.present(), tt.icc)
		}
		if b, err := prof.bytes(); tt.icc && (err != nil || !bytes.Equal(b, wideProfile())) {
			t.Errorf("%v: the kept profile differs from the source's (%v)", tt.opt, err)
		}
		if _, err := jpeg.Decode(bytes.NewReader(res.Data)); err != nil {
			t.Errorf("%v: image/jpeg cannot decode the output: %v", tt.opt, err)
		}
	}
	// Exif orientation with auto_orient=false is carried as it is.
	res := processQ(t, p, withEXIFOrientation(base, 6), map[string][]string{"strip": {"false"}, "auto_orient": {"false"}})
	if !transcoded(log.take()) || Orientation(FormatJPEG, res.Data) != 6 {
		t.Errorf("auto_orient=false: orientation %d, want 6 (transcoded: %v)", Orientation(FormatJPEG, res.Data), transcoded(log.phases))
	}
}

// TestTranscode_quality checks that the transcode is about as close to the
// source as the pixel path at the same quality, and about as large, and that at
// the source's own quality it keeps the pixels exactly.
func TestTranscode_quality(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	img := newPhoto(320, 200)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
	src := buf.Bytes()
	srcImg, err := jpeg.Decode(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []int{50, 85, 92} {
		opt := DefaultOptions()
		opt.Quality = q
		pl, err := p.Plan(src, opt)
		if err != nil {
			t.Fatal(err)
		}
		if !pl.transcode {
			t.Fatalf("q%d: the plan does not transcode", q)
		}
		fast, err := p.Run(context.Background(), src, pl)
		if err != nil {
			t.Fatal(err)
		}
		pl.transcode = false
		slow, err := p.Run(context.Background(), src, pl)
		if err != nil {
			t.Fatal(err)
		}
		pf, ps := rgbPSNR(srcImg, decodeResult(t, fast)), rgbPSNR(srcImg, decodeResult(t, slow))
		t.Logf("q%d: transcode %d bytes, %.2f dB; pixel path %d bytes, %.2f dB", q, len(fast.Data), pf, len(slow.Data), ps)
		if pf < ps-0.5 {
			t.Errorf("q%d: transcode PSNR %.2f dB, pixel path %.2f dB", q, pf, ps)
		}
		// Requantising quantised values rounds some that a pixel
		// re-encode would zero: a few per cent more bytes at most.
		if len(fast.Data) > len(slow.Data)+len(slow.Data)/10 {
			t.Errorf("q%d: transcode %d bytes, pixel path %d", q, len(fast.Data), len(slow.Data))
		}
		if q == 92 {
			a, err1 := jpegscale.Decode(src, 1)
			b, err2 := jpegscale.Decode(fast.Data, 1)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if p := rgbPSNR(a, b); !math.IsInf(p, 1) {
				t.Errorf("q92 from a q92 source: the pixels changed (%.2f dB)", p)
			}
		}
	}
}

// TestTranscode_damaged checks that damage found while transcoding falls
// back to the pixel path, which reports it as it always does.
func TestTranscode_damaged(t *testing.T) {
	var log phaseLog
	p := NewPipeline(Limits{}, inline{}, log.observe)
	src := encodeAs(t, newPhoto(160, 120), FormatJPEG)
	sos := bytes.Index(src, []byte{0xFF, 0xDA})
	bad := bytes.Clone(src)
	for i := sos + 200; i < sos+260; i++ {
		if bad[i] != 0xFF && bad[i-1] != 0xFF {
			bad[i] ^= 0x5A
		}
	}
	ref, _, err := jpegscale.DecodeWith(bad, 1, jpegscale.Options{})
	if err != nil || ref == nil {
		t.Fatalf("the damaged file should decode with warnings: %v", err)
	}
	opt := DefaultOptions()
	pl, err := p.Plan(bad, opt)
	if err != nil || !pl.transcode {
		t.Fatalf("plan: %v, transcode %v", err, pl.transcode)
	}
	res, err := p.Run(context.Background(), bad, pl)
	if err != nil {
		t.Fatal(err)
	}
	if transcoded(log.take()) {
		t.Error("a damaged file was transcoded")
	}
	if len(res.Warnings) == 0 {
		t.Error("the pixel path reported no damage")
	}
	// Truncated: the pixel path's error.
	if _, err := p.Process(context.Background(), src[:len(src)/2], opt); err == nil || transcoded(log.take()) {
		t.Errorf("truncated: err %v", err)
	}
}

// TestTranscode_orientation checks that an EXIF orientation is applied in
// the DCT domain when the mirrored sides are whole MCUs, giving the pixel
// path's picture, and that the output says orientation 1.
func TestTranscode_orientation(t *testing.T) {
	var log phaseLog
	p := NewPipeline(Limits{}, inline{}, log.observe)
	base := encodeAs(t, newQuadrants(208, 112), FormatJPEG) // whole 16×16 MCUs
	for o := 2; o <= 8; o++ {
		src := withEXIFOrientation(base, uint16(o))
		opt := DefaultOptions()
		opt.Strip = false
		pl, err := p.Plan(src, opt)
		if err != nil {
			t.Fatal(err)
		}
		if !pl.transcode {
			t.Fatalf("orientation %d: the plan does not transcode", o)
		}
		log.take()
		fast, err := p.Run(context.Background(), src, pl)
		if err != nil || !transcoded(log.take()) {
			t.Fatalf("orientation %d: %v, or not transcoded", o, err)
		}
		pl.transcode = false
		slow, err := p.Run(context.Background(), src, pl)
		if err != nil {
			t.Fatal(err)
		}
		a, b := decodeResult(t, fast), decodeResult(t, slow)
		if a.Bounds() != b.Bounds() || fast.Width != slow.Width || fast.Height != slow.Height {
			t.Fatalf("orientation %d: %v (%dx%d), pixel path %v (%dx%d)", o, a.Bounds(), fast.Width, fast.Height, b.Bounds(), slow.Width, slow.Height)
		}
		if ps := rgbPSNR(a, b); ps < 30 {
			t.Errorf("orientation %d: PSNR %.1f dB against the pixel path", o, ps)
		}
		if got := Orientation(FormatJPEG, fast.Data); got != 1 {
			t.Errorf("orientation %d: the output's Exif says %d", o, got)
		}
	}
	// Not whole MCUs: the pixel path turns it.
	src := withEXIFOrientation(encodeAs(t, newQuadrants(203, 117), FormatJPEG), 6)
	res := processQ(t, p, src, nil)
	if transcoded(log.take()) || res.Width != 117 || res.Height != 203 {
		t.Errorf("203x117, orientation 6: %dx%d, transcoded %v", res.Width, res.Height, transcoded(log.phases))
	}
}

// TestTranscode_notWithOverlay: an overlay is a pixel operation, so a JPEG
// re-encode that carries one goes through the pixels.
func TestTranscode_notWithOverlay(t *testing.T) {
	var log phaseLog
	p := NewPipeline(Limits{}, inline{}, log.observe)
	src := encodeAs(t, newPhoto(203, 117), FormatJPEG)
	logo := encodeAs(t, solid(20, 10, color.NRGBA{255, 0, 0, 255}), FormatPNG)
	res, err := p.Process(context.Background(), src, overlayOpts(t, nil, logo))
	if err != nil {
		t.Fatal(err)
	}
	if transcoded(log.take()) {
		t.Fatal("a job with an overlay was transcoded, dropping the overlay")
	}
	if c := nrgbaAt(decodeResult(t, res), 203-16-5, 117-16-5); c.R < 180 || c.G > 90 {
		t.Errorf("pixel under the overlay = %v, want its red", c)
	}
}
