package imaging

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/buckket/go-blurhash"
)

// costRunner runs jobs inline and records the cost they were charged.
type costRunner struct{ cost int64 }

func (r *costRunner) Do(ctx context.Context, cost int64, job func(context.Context)) error {
	r.cost = cost
	job(ctx)
	return nil
}

// noisy returns a w×h image of c with ±jitter per channel.
func noisy(w, h int, c color.NRGBA, jitter int, rng *rand.Rand) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	j := func(v uint8) uint8 { return uint8(min(255, max(0, int(v)+rng.IntN(2*jitter+1)-jitter))) }
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{j(c.R), j(c.G), j(c.B), c.A})
		}
	}
	return img
}

func TestDominantColor(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	red, blue := color.NRGBA{200, 30, 40, 255}, color.NRGBA{40, 60, 190, 255}
	paint := func(dst, src *image.NRGBA, r image.Rectangle) *image.NRGBA {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				dst.SetNRGBA(x, y, src.NRGBAAt(x, y))
			}
		}
		return dst
	}
	// A colour on the edge of two boxes (R 127/128) covering 45% must beat
	// a colour inside one box covering 35%.
	split := noisy(100, 100, color.NRGBA{20, 180, 80, 255}, 2, rng)
	paint(split, noisy(100, 100, color.NRGBA{127, 127, 127, 255}, 1, rng), image.Rect(0, 0, 45, 100))
	paint(split, noisy(100, 100, color.NRGBA{230, 230, 30, 255}, 2, rng), image.Rect(45, 0, 65, 100))
	transparent := noisy(100, 100, color.NRGBA{250, 250, 250, 0}, 3, rng)
	paint(transparent, noisy(100, 100, red, 10, rng), image.Rect(40, 40, 60, 60))
	tests := []struct {
		name string
		img  *image.NRGBA
		want color.NRGBA
		tol  int
	}{
		{"mostly red", paint(noisy(80, 60, red, 20, rng), noisy(80, 60, blue, 20, rng), image.Rect(0, 0, 30, 60)), red, 16},
		{"mostly blue", paint(noisy(80, 60, blue, 20, rng), noisy(80, 60, red, 20, rng), image.Rect(0, 0, 30, 60)), blue, 16},
		{"colour split over two boxes", split, color.NRGBA{127, 127, 127, 255}, 3},
		{"transparent pixels ignored", transparent, red, 16},
		{"nothing opaque", noisy(10, 10, color.NRGBA{250, 0, 0, 0}, 0, rng), color.NRGBA{0, 0, 0, 255}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dominantColor(tt.img); !near(got, tt.want, tt.tol) {
				t.Errorf("dominantColor = %v, want %v ±%d", got, tt.want, tt.tol)
			}
		})
	}
}

// TestPipeline_Placeholder: the BlurHash is 28 characters and decodes to
// the image's layout (red left, blue right); the dominant colour is the
// larger part's; and the job is charged for a shrunk decode, not a full one.
func TestPipeline_Placeholder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	red, blue := color.NRGBA{210, 20, 30, 255}, color.NRGBA{30, 50, 200, 255}
	img := noisy(2400, 1600, blue, 6, rng)
	for y := range 1600 {
		for x := range 1400 {
			img.SetNRGBA(x, y, red)
		}
	}
	hexRe := regexp.MustCompile(`^#[0-9a-f]{6}$`)
	for _, f := range []Format{FormatJPEG, FormatPNG} {
		t.Run(string(f), func(t *testing.T) {
			src := encodeAs(t, img, f)
			r := &costRunner{}
			p := NewPipeline(Limits{}, r, nil)
			ph, err := p.Placeholder(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if len(ph.BlurHash) != 4+2*BlurHashX*BlurHashY {
				t.Errorf("BlurHash %q has %d characters, want %d", ph.BlurHash, len(ph.BlurHash), 4+2*BlurHashX*BlurHashY)
			}
			if !hexRe.MatchString(ph.DominantColor) {
				t.Errorf("DominantColor = %q, want #rrggbb", ph.DominantColor)
			}
			var c color.NRGBA
			c.A = 255
			if _, err := fmt.Sscanf(ph.DominantColor, "#%02x%02x%02x", &c.R, &c.G, &c.B); err != nil || !near(c, red, 12) {
				t.Errorf("DominantColor = %q, want about %v (the larger, red part)", ph.DominantColor, red)
			}
			dec, err := blurhash.Decode(ph.BlurHash, 30, 20, 1)
			if err != nil {
				t.Fatalf("decode BlurHash %q: %v", ph.BlurHash, err)
			}
			l := color.NRGBAModel.Convert(dec.At(3, 10)).(color.NRGBA)
			rt := color.NRGBAModel.Convert(dec.At(28, 10)).(color.NRGBA)
			if l.R < l.B+60 || rt.B < rt.R+60 {
				t.Errorf("BlurHash %q decodes to %v on the left and %v on the right, want red and blue", ph.BlurHash, l, rt)
			}
			full, err := p.Plan(src, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if r.cost <= 0 || r.cost > full.Cost/4 {
				t.Errorf("placeholder charged %d bytes; a full decode costs %d: want a small fraction", r.cost, full.Cost)
			}
		})
	}
}

func TestPipeline_Placeholder_errors(t *testing.T) {
	big := encodeAs(t, newGradient(300, 200), FormatPNG)
	tests := []struct {
		name   string
		limits Limits
		src    []byte
		want   Code
	}{
		{"over the input limit", Limits{MaxInputPixels: 10_000}, big, CodeImageTooLarge},
		{"truncated", Limits{}, big[:len(big)/2], CodeTruncatedImage},
		{"not an image", Limits{}, []byte("GIF89a but not really a gif at all"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPipeline(tt.limits, inline{}, nil).Placeholder(context.Background(), tt.src)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if tt.want != "" && e.Code != tt.want {
				t.Errorf("code = %s, want %s (%v)", e.Code, tt.want, err)
			}
			if e.Code == CodeInternal {
				t.Errorf("code = internal for bad input: %v", err)
			}
		})
	}
}

func TestParsePlaceholder(t *testing.T) {
	tests := []struct {
		vs      []string
		want    bool
		wantErr bool
	}{
		{[]string{"true"}, true, false},
		{[]string{""}, true, false}, // ?placeholder
		{nil, true, false},
		{[]string{"0"}, false, false},
		{[]string{"false"}, false, false},
		{[]string{"true", "true"}, true, false},
		{[]string{"maybe"}, false, true},
		{[]string{"true", "false"}, false, true},
	}
	for _, tt := range tests {
		got, err := ParsePlaceholder(tt.vs, "placeholder")
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParsePlaceholder(%q) = %v, %v; want %v, error %v", tt.vs, got, err, tt.want, tt.wantErr)
		}
		var e *Error
		if err != nil && (!errors.As(err, &e) || e.Code != CodeInvalidOption || e.Field != "placeholder") {
			t.Errorf("ParsePlaceholder(%q) error %#v, want invalid_option on field placeholder", tt.vs, err)
		}
	}
}
