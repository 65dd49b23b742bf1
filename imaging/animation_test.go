package imaging

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testAnimation is a 40×30 GIF of four frames that exercises compositing:
// a full first frame with a transparent hole, then frames smaller than the
// canvas at offsets with each disposal method (background, previous, none)
// and transparent pixels of their own.
func testAnimation(t testing.TB) []byte {
	t.Helper()
	pal := color.Palette{
		color.RGBA{220, 30, 30, 255}, color.RGBA{30, 40, 220, 255}, color.RGBA{20, 200, 60, 255},
		color.RGBA{250, 250, 250, 255}, color.RGBA{10, 10, 10, 255}, color.RGBA{},
	}
	const red, blue, green, white, black, clear = 0, 1, 2, 3, 4, 5
	frame := func(r image.Rectangle, fill func(x, y int) uint8) *image.Paletted {
		m := image.NewPaletted(r, pal)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				m.SetColorIndex(x, y, fill(x, y))
			}
		}
		return m
	}
	g := &gif.GIF{
		Image: []*image.Paletted{
			frame(image.Rect(0, 0, 40, 30), func(x, y int) uint8 {
				switch {
				case x >= 15 && x < 25 && y >= 10 && y < 20:
					return clear
				case x < 20:
					return red
				}
				return blue
			}),
			frame(image.Rect(5, 4, 15, 12), func(x, y int) uint8 {
				if x == y {
					return clear // the frame below shows through
				}
				return green
			}),
			frame(image.Rect(20, 10, 32, 16), func(x, y int) uint8 { return white }),
			frame(image.Rect(2, 2, 10, 10), func(x, y int) uint8 {
				if x%2 == 0 {
					return clear
				}
				return black
			}),
		},
		Delay:     []int{10, 20, 30, 40},
		Disposal:  []byte{gif.DisposalNone, gif.DisposalBackground, gif.DisposalPrevious, gif.DisposalNone},
		LoopCount: 3,
		Config:    image.Config{ColorModel: pal, Width: 40, Height: 30},
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// composite renders every frame of a GIF the simple way: the whole canvas
// is copied for each frame and for each "previous" disposal.
func composite(t testing.TB, b []byte) (*gif.GIF, []*image.NRGBA) {
	t.Helper()
	g, err := gif.DecodeAll(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	canvas := image.NewNRGBA(image.Rect(0, 0, g.Config.Width, g.Config.Height))
	var out []*image.NRGBA
	for i, f := range g.Image {
		before := image.NewNRGBA(canvas.Rect)
		copy(before.Pix, canvas.Pix)
		draw.Draw(canvas, f.Rect, f, f.Rect.Min, draw.Over)
		shown := image.NewNRGBA(canvas.Rect)
		copy(shown.Pix, canvas.Pix)
		out = append(out, shown)
		switch g.Disposal[i] {
		case gif.DisposalBackground:
			draw.Draw(canvas, f.Rect, image.Transparent, image.Point{}, draw.Src)
		case gif.DisposalPrevious:
			canvas = before
		}
	}
	return g, out
}

// diffFrames compares two composited frames: the share of pixels whose
// transparency differs, and the mean RGB difference of pixels both show.
func diffFrames(a, b *image.NRGBA) (alphaMismatch, meanRGB float64) {
	var mism, n, sum int
	for i := 0; i < len(a.Pix); i += 4 {
		oa, ob := a.Pix[i+3] >= 128, b.Pix[i+3] >= 128
		if oa != ob {
			mism++
			continue
		}
		if oa {
			for c := range 3 {
				sum += abs(int(a.Pix[i+c]) - int(b.Pix[i+c]))
			}
			n += 3
		}
	}
	if n > 0 {
		meanRGB = float64(sum) / float64(n)
	}
	return float64(mism) / float64(len(a.Pix)/4), meanRGB
}

func processGIF(t *testing.T, p *Pipeline, src []byte, q map[string][]string) Result {
	t.Helper()
	opt, err := ParseOptions(q, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Process(context.Background(), src, opt)
	if err != nil {
		t.Fatalf("Process(%v): %v", q, err)
	}
	return res
}

func TestAnimation_compositesAndKeepsTiming(t *testing.T) {
	src := testAnimation(t)
	in, want := composite(t, src)
	p := NewPipeline(Limits{}, inline{}, nil)
	tests := []struct {
		name     string
		q        map[string][]string
		w, h     int
		maxRGB   float64 // mean RGB difference allowed
		maxAlpha float64 // share of pixels whose transparency may differ
	}{
		{"unchanged size: exact", map[string][]string{}, 40, 30, 0, 0},
		{"downscaled", map[string][]string{OptWidth: {"20"}}, 20, 15, 3, 0.04},
		{"upscaled, flipped", map[string][]string{OptWidth: {"80"}, OptFlip: {"h"}}, 80, 60, 3, 0.02},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := processGIF(t, p, src, tt.q)
			if res.Format != FormatGIF || res.Width != tt.w || res.Height != tt.h {
				t.Fatalf("got %s %d×%d, want gif %d×%d", res.Format, res.Width, res.Height, tt.w, tt.h)
			}
			out, got := composite(t, res.Data)
			if len(got) != len(want) {
				t.Fatalf("got %d frames, want %d", len(got), len(want))
			}
			if fmt.Sprint(out.Delay) != fmt.Sprint(in.Delay) || out.LoopCount != in.LoopCount {
				t.Errorf("delays %v loop %d, want %v loop %d", out.Delay, out.LoopCount, in.Delay, in.LoopCount)
			}
			for i := range want {
				ref := want[i]
				if tt.w != 40 {
					ref = imageToNRGBA(resize(want[i], tt.w, tt.h, 1))
					if tt.q[OptFlip] != nil {
						ref = imageToNRGBA(p.transform(ref, Plan{Options: Options{Flip: "h", Gamma: 1}, OutFormat: FormatGIF}, nil))
					}
				}
				alpha, rgb := diffFrames(got[i], ref)
				if alpha > tt.maxAlpha || rgb > tt.maxRGB {
					t.Errorf("frame %d: %.1f%% of pixels differ in transparency, mean RGB difference %.2f; want at most %.1f%% and %.2f",
						i, 100*alpha, rgb, 100*tt.maxAlpha, tt.maxRGB)
				}
			}
		})
	}
}

func imageToNRGBA(img image.Image) *image.NRGBA {
	if m, ok := img.(*image.NRGBA); ok {
		return m
	}
	b := img.Bounds()
	m := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(m, m.Rect, img, b.Min, draw.Src)
	return m
}

func TestAnimation_firstFrameAndFlattening(t *testing.T) {
	src := testAnimation(t)
	p := NewPipeline(Limits{}, inline{}, nil)
	tests := []struct {
		name    string
		q       map[string][]string
		frames  int
		warning bool
	}{
		{"frames=first", map[string][]string{OptFrames: {"first"}}, 1, false},
		{"frames=all", map[string][]string{OptFrames: {"all"}, OptWidth: {"10"}}, 4, false},
		{"rotated 30°, cover", map[string][]string{OptRotate: {"30"}, OptWidth: {"30"}, OptHeight: {"30"}, OptFit: {"cover"}}, 4, false},
		{"png output is flattened, with a warning", map[string][]string{OptFormat: {"png"}}, 1, true},
		{"png output, frames=first: no warning", map[string][]string{OptFormat: {"png"}, OptFrames: {"first"}}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := processGIF(t, p, src, tt.q)
			frames := 1
			if res.Format == FormatGIF {
				g, err := gif.DecodeAll(bytes.NewReader(res.Data))
				if err != nil {
					t.Fatal(err)
				}
				frames = len(g.Image)
				for i, m := range g.Image {
					if m.Rect != image.Rect(0, 0, res.Width, res.Height) || g.Config.Width != res.Width || g.Config.Height != res.Height {
						t.Errorf("frame %d is %v on a %d×%d screen; the result says %d×%d", i, m.Rect, g.Config.Width, g.Config.Height, res.Width, res.Height)
					}
				}
			}
			if frames != tt.frames {
				t.Errorf("got %d frames, want %d", frames, tt.frames)
			}
			warned := len(res.Warnings) == 1 && res.Warnings[0].Code == WarnAnimationFlattened &&
				strings.Contains(res.Warnings[0].Detail, "format=gif")
			if warned != tt.warning || (!tt.warning && len(res.Warnings) > 0) {
				t.Errorf("warnings %v, want flattened warning: %v", res.Warnings, tt.warning)
			}
		})
	}
	if !IsWarningCode(WarnAnimationFlattened) {
		t.Error("IsWarningCode(animation_flattened) = false")
	}
	if _, err := ParseOptions(map[string][]string{OptFrames: {"some"}}, nil); err == nil || !strings.Contains(err.(*Error).Hint, "first") {
		t.Errorf("frames=some: err %v, want invalid_option with a hint", err)
	}
}

func TestAnimation_limits(t *testing.T) {
	src := testAnimation(t) // 4 frames of 40×30 = 1200 pixels
	tests := []struct {
		name  string
		l     Limits
		q     map[string][]string
		code  Code
		limit Limit
	}{
		{"frames", Limits{MaxFrames: 3}, nil, CodeImageTooLarge, LimitFrames},
		{"input pixels over all frames", Limits{MaxInputPixels: 4000}, nil, CodeImageTooLarge, LimitInputPixels},
		{"output pixels over all frames", Limits{MaxOutputPixels: 4000}, map[string][]string{OptWidth: {"40"}}, CodeOutputTooLarge, LimitOutputPixels},
		{"blur over all frames", Limits{MaxFilterTaps: 1200 * 13 * 2 * 3}, map[string][]string{OptBlur: {"2"}}, CodeInvalidOption, LimitFilterTaps},
		{"frames=first is not counted", Limits{MaxFrames: 3, MaxInputPixels: 1200}, map[string][]string{OptFrames: {"first"}}, "", ""},
		{"nor is output that cannot animate", Limits{MaxFrames: 3}, map[string][]string{OptFormat: {"png"}}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt, err := ParseOptions(tt.q, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := NewPipeline(tt.l, inline{}, nil)
			_, err = p.Plan(src, opt)
			var e *Error
			switch {
			case tt.code == "" && err != nil:
				t.Fatalf("Plan: %v, want no error", err)
			case tt.code == "":
			case !errors.As(err, &e) || e.Code != tt.code || e.Limit != tt.limit:
				t.Fatalf("Plan: %v, want %s naming %s", err, tt.code, tt.limit)
			case !strings.Contains(e.Detail, "frames") || !strings.Contains(e.Hint, "frames=first"):
				t.Errorf("detail %q, hint %q: want the frame count and frames=first", e.Detail, e.Hint)
			}
		})
	}
}

// countingCtx ends after a number of checks, so that a test can see the
// job checking its context between frames.
type countingCtx struct {
	context.Context
	left, checks atomic.Int64
}

func (c *countingCtx) Err() error {
	c.checks.Add(1)
	if c.left.Add(-1) < 0 {
		return context.DeadlineExceeded
	}
	return nil
}

func TestAnimation_deadlineBetweenFrames(t *testing.T) {
	const n = 1000
	pal := color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}}
	g := &gif.GIF{}
	for i := range n {
		m := image.NewPaletted(image.Rect(0, 0, 16, 16), pal)
		m.Pix[i%256] = 1
		g.Image, g.Delay = append(g.Image, m), append(g.Delay, 2)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	p := NewPipeline(Limits{MaxFrames: n}, inline{}, nil)
	opt := DefaultOptions()
	opt.Width = 8
	pl, err := p.Plan(b.Bytes(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if pl.Frames != n {
		t.Fatalf("plan has %d frames, want %d", pl.Frames, n)
	}
	ctx := &countingCtx{Context: context.Background()}
	ctx.left.Store(50)
	_, err = p.Run(ctx, b.Bytes(), pl)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeProcessingTimeout {
		t.Fatalf("Run: %v, want %s", err, CodeProcessingTimeout)
	}
	if c := ctx.checks.Load(); c != 51 {
		t.Errorf("the context was checked %d times before the job stopped, want 51 (once a frame)", c)
	}
}

// TestAnimation_identify has ImageMagick count the frames of the output.
func TestAnimation_identify(t *testing.T) {
	if _, err := exec.LookPath("identify"); err != nil {
		t.Skip("identify not found (Debian package imagemagick); .ci/run installs it")
	}
	res := processGIF(t, NewPipeline(Limits{}, inline{}, nil), testAnimation(t), map[string][]string{OptWidth: {"20"}})
	path := filepath.Join(t.TempDir(), "out.gif")
	if err := os.WriteFile(path, res.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("identify", "-format", "%w×%h %T\n", path).CombinedOutput()
	if err != nil {
		t.Fatalf("identify: %v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "20×15 10\n20×15 20\n20×15 30\n20×15 40"; got != want {
		t.Errorf("identify says\n%s\nwant\n%s", got, want)
	}
}

// noisyAnimation is an n-frame w×h GIF of random pixels, with frames that
// cover the canvas and frames smaller than it, so neither the exact palette
// nor the LZW encoder have it easy.
func noisyAnimation(t testing.TB, w, h, n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	pal := make(color.Palette, 256)
	for i := range pal {
		pal[i] = color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
	}
	pal[255] = color.RGBA{}
	g := &gif.GIF{Config: image.Config{ColorModel: pal, Width: w, Height: h}}
	for i := range n {
		rect := image.Rect(0, 0, w, h)
		if i%2 == 1 {
			rect = image.Rect(w/4, h/4, w*3/4, h*3/4)
		}
		m := image.NewPaletted(rect, pal)
		for k := range m.Pix {
			m.Pix[k] = uint8(r.IntN(256))
		}
		g.Image = append(g.Image, m)
		g.Delay = append(g.Delay, 5)
		g.Disposal = append(g.Disposal, []byte{gif.DisposalNone, gif.DisposalBackground, gif.DisposalPrevious}[i%3])
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestPlan_costBoundsPeakHeapAnimated is TestPlan_costBoundsPeakHeap for
// animations: the peak live heap of an animated job stays within the cost
// Plan admitted it at, and the cost is not grossly above it.
func TestPlan_costBoundsPeakHeapAnimated(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("measures the heap of a 19-megapixel animation with a tight GC; skipped with -short and -race")
	}
	gifSrc := noisyAnimation(t, 800, 600, 40)
	webpSrc := noisyWebP(t, 400, 300, 24)
	p := NewPipeline(Limits{}, inline{}, nil)
	for _, tt := range []struct {
		src    []byte
		frames int
		q      map[string][]string
	}{
		{gifSrc, 40, map[string][]string{}},
		{gifSrc, 40, map[string][]string{OptWidth: {"300"}}},
		{gifSrc, 40, map[string][]string{OptWidth: {"1200"}}},
		{gifSrc, 40, map[string][]string{OptWidth: {"500"}, OptRotate: {"30"}, OptBlur: {"1"}}},
		{gifSrc, 40, map[string][]string{OptWidth: {"400"}, OptHeight: {"400"}, OptFit: {"contain"}, OptGrayscale: {"true"}}},
		{webpSrc, 24, map[string][]string{OptFormat: {"gif"}}},
		{webpSrc, 24, map[string][]string{OptFormat: {"gif"}, OptWidth: {"200"}}},
	} {
		src, q := tt.src, tt.q
		opt, err := ParseOptions(q, nil)
		if err != nil {
			t.Fatal(err)
		}
		pl, err := p.Plan(src, opt)
		if err != nil {
			t.Fatalf("Plan(%v): %v", q, err)
		}
		if pl.Frames != tt.frames {
			t.Fatalf("%v: plan has %d frames, want %d", q, pl.Frames, tt.frames)
		}
		var res Result
		peak := peakHeap(func() { res, err = p.Run(context.Background(), src, pl) })
		if err != nil {
			t.Fatalf("Run(%v): %v", q, err)
		}
		t.Logf("%-4s %5.1f MB %-60v %5dx%-5d cost %6.1f MB, peak heap %6.1f MB (%3.0f%%), output %.1f MB", pl.Info.Format, float64(len(src))/1e6, fmt.Sprint(q), res.Width, res.Height,
			float64(pl.Cost)/1e6, float64(peak)/1e6, 100*float64(peak)/float64(pl.Cost), float64(len(res.Data))/1e6)
		if peak > pl.Cost {
			t.Errorf("%v: peak live heap %.1f MB is over the admitted cost %.1f MB", q, float64(peak)/1e6, float64(pl.Cost)/1e6)
		}
		if slack := pl.Cost - peak; slack > 4*peak+8<<20 {
			t.Errorf("%v: cost %.1f MB is far above the peak %.1f MB: the budget would be wasted", q, float64(pl.Cost)/1e6, float64(peak)/1e6)
		}
	}
}

// TestAnimation_deadlineStopsLongJob gives a job of 1000 frames, each a
// full 200×200 canvas upscaled to 600×600 (about a minute of work on a busy
// core), a deadline of 200 ms: it must stop soon after.
func TestAnimation_deadlineStopsLongJob(t *testing.T) {
	const n = 1000
	pal := color.Palette{color.RGBA{200, 0, 0, 255}, color.RGBA{0, 0, 200, 255}, color.RGBA{0, 160, 0, 255}}
	g := &gif.GIF{Config: image.Config{ColorModel: pal, Width: 200, Height: 200}}
	for i := range n {
		// Small frames keep the input small; every output frame is whole.
		m := image.NewPaletted(image.Rect(0, 0, 8, 8).Add(image.Pt(i%192, i*7%192)), pal)
		for k := range m.Pix {
			m.Pix[k] = uint8(1 + (i+k)%2)
		}
		g.Image, g.Delay = append(g.Image, m), append(g.Delay, 2)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	p := NewPipeline(Limits{MaxFrames: n, MaxOutputPixels: 1e9}, inline{}, nil)
	opt := DefaultOptions()
	opt.Width = 600
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.Process(ctx, b.Bytes(), opt)
	took := time.Since(start)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeProcessingTimeout {
		t.Fatalf("Process: %v, want %s", err, CodeProcessingTimeout)
	}
	if took > 3*time.Second {
		t.Errorf("the job stopped %v after it started, with a 200 ms deadline", took)
	}
	t.Logf("stopped after %v", took)
}

// TestAnimation_damaged answers an animation cut or broken after its first
// frame with that frame and an image_damaged warning, and one broken in its
// first frame with the still image's error.
func TestAnimation_damaged(t *testing.T) {
	src := testAnimation(t)
	g, err := gif.DecodeAll(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	if err := gif.Encode(&first, g.Image[0], nil); err != nil {
		t.Fatal(err)
	}
	p := NewPipeline(Limits{}, inline{}, nil)
	tests := []struct {
		name   string
		src    []byte
		frames int  // that the blocks hold
		broken bool // the first frame too: an error
	}{
		{"cut in the last frame", src[:len(src)-6], 4, false},
		{"cut in the second frame", src[:len(first.Bytes())+40], 2, false},
		{"cut in the first frame", src[:len(first.Bytes())-20], 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl, err := p.Plan(tt.src, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if pl.Frames != tt.frames {
				t.Fatalf("plan has %d frames, want %d", pl.Frames, tt.frames)
			}
			res, err := p.Run(t.Context(), tt.src, pl)
			if tt.broken {
				var e *Error
				if !errors.As(err, &e) || e.Code != CodeTruncatedImage && e.Code != CodeCorruptImage {
					t.Fatalf("Run: %v, want %s or %s", err, CodeTruncatedImage, CodeCorruptImage)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out, err := gif.DecodeAll(bytes.NewReader(res.Data))
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Image) != 1 || len(res.Warnings) != 1 || res.Warnings[0].Code != WarnImageDamaged {
				t.Errorf("got %d frames and warnings %v, want the first frame and an %s warning", len(out.Image), res.Warnings, WarnImageDamaged)
			}
		})
	}
}

// FuzzAnimation runs animated GIFs through the whole animated path: it
// must answer or refuse, never panic, and keep the frame count.
func FuzzAnimation(f *testing.F) {
	f.Add(testAnimation(f))
	f.Add(noisyAnimation(f, 16, 12, 3))
	p := NewPipeline(Limits{MaxInputPixels: 1 << 20, MaxOutputPixels: 1 << 20, MaxFrames: 64}, inline{}, nil)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, opt := range []Options{DefaultOptions(), {Width: 7, Fit: FitContain, Gamma: 1, Effort: -1, Rotate: 33, ColorProfile: ColorProfileSRGB}} {
			pl, err := p.Plan(b, opt)
			if err != nil {
				return
			}
			res, err := p.Run(context.Background(), b, pl)
			var e *Error
			switch {
			case errors.As(err, &e) && e.Code == CodeInternal:
				t.Fatalf("Run: %v (%v)", err, e.Err)
			case err != nil:
				return
			}
			if res.Format != FormatGIF || pl.Frames <= 1 {
				continue
			}
			g, err := gif.DecodeAll(bytes.NewReader(res.Data))
			if err != nil {
				t.Fatalf("the answer does not decode: %v", err)
			}
			if len(g.Image) != pl.Frames && !(len(g.Image) == 1 && len(res.Warnings) > 0) {
				t.Fatalf("%d frames in, %d out", pl.Frames, len(g.Image))
			}
		}
	})
}

// TestAnimation_firstFrameOnScreen: a first frame smaller than the GIF's
// screen is shown at its offset on the screen, not stretched over it.
func TestAnimation_firstFrameOnScreen(t *testing.T) {
	pal := color.Palette{color.RGBA{220, 30, 30, 255}, color.RGBA{30, 40, 220, 255}}
	m := image.NewPaletted(image.Rect(10, 5, 20, 15), pal)
	g := &gif.GIF{Image: []*image.Paletted{m, m}, Delay: []int{5, 5}, Config: image.Config{ColorModel: pal, Width: 40, Height: 30}}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	p := NewPipeline(Limits{}, inline{}, nil)
	for _, q := range []map[string][]string{{OptFrames: {"first"}, OptFormat: {"png"}}, {OptFormat: {"gif"}}} {
		res := processGIF(t, p, b.Bytes(), q)
		img, _, err := image.Decode(bytes.NewReader(res.Data))
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds() != image.Rect(0, 0, 40, 30) {
			t.Fatalf("%v: the answer is %v, want the 40×30 screen", q, img.Bounds())
		}
		if _, _, _, a := img.At(2, 2).RGBA(); a != 0 {
			t.Errorf("%v: pixel (2,2), outside the frame, has alpha %d, want transparent", q, a)
		}
		if c := color.NRGBAModel.Convert(img.At(15, 10)).(color.NRGBA); c != (color.NRGBA{220, 30, 30, 255}) {
			t.Errorf("%v: pixel (15,10), inside the frame, is %v, want the frame's red", q, c)
		}
	}
}
