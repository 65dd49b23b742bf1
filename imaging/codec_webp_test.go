package imaging

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gen2brain/webp"
)

// TestWebP_backend: CI installs libwebp, so the codec must run natively
// there, not on the WebAssembly fallback.
func TestWebP_backend(t *testing.T) {
	t.Logf("WebP backend: %s", webpCodec().Backend())
	if err := webp.Dynamic(); err != nil && os.Getenv("CI") != "" {
		t.Errorf("libwebp did not load (%v): CI must install libwebp-dev (it provides libwebp.so)", err)
	}
}

func TestPipeline_webpOut(t *testing.T) {
	src := costImage(320, 200, true)
	png := encodeAs(t, src, FormatPNG)
	p := NewPipeline(Limits{}, inline{}, nil)
	tests := []struct {
		name    string
		q       map[string][]string
		maxDiff int // per channel, where alpha > 0
	}{
		{"lossy default", map[string][]string{OptFormat: {"webp"}}, 40},
		{"lossy q95 effort 6", map[string][]string{OptFormat: {"webp"}, OptQuality: {"95"}, OptEffort: {"6"}}, 30},
		{"lossless", map[string][]string{OptFormat: {"webp"}, OptLossless: {"true"}}, 0},
	}
	sizes := map[string]int{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt, err := ParseOptions(tt.q, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Process(context.Background(), png, opt)
			if err != nil {
				t.Fatal(err)
			}
			sizes[tt.name] = len(res.Data)
			if res.Format != FormatWebP || Sniff(res.Data) != FormatWebP {
				t.Fatalf("format %s, sniffed %q; want webp", res.Format, Sniff(res.Data))
			}
			got, err := Inspect(res.Data)
			if err != nil || got.Width != 320 || got.Height != 200 {
				t.Fatalf("Inspect = %+v, %v; want 320×200", got, err)
			}
			img := decodeResult(t, res)
			worst := 0
			for y := range 200 {
				for x := range 320 {
					w, g := src.NRGBAAt(x, y), nrgbaAt(img, x, y)
					worst = max(worst, abs(int(w.A)-int(g.A)))
					if w.A > 16 { // colour under near-transparent pixels is free to change
						worst = max(worst, abs(int(w.R)-int(g.R)), abs(int(w.G)-int(g.G)), abs(int(w.B)-int(g.B)))
					}
				}
			}
			if worst > tt.maxDiff {
				t.Errorf("largest difference from the source %d, want at most %d (alpha kept, colours close)", worst, tt.maxDiff)
			}
		})
	}
	if sizes["lossy default"] >= sizes["lossless"] {
		t.Errorf("lossy %d bytes, lossless %d: lossy should be smaller", sizes["lossy default"], sizes["lossless"])
	}
}

func TestPlan_encoderOptions(t *testing.T) {
	jpg := encodeAs(t, newGradient(40, 30), FormatJPEG)
	p := NewPipeline(Limits{}, inline{}, nil)
	tests := []struct {
		q         map[string][]string
		wantField string // "" for no error
	}{
		{map[string][]string{OptFormat: {"jpeg"}, OptLossless: {"true"}}, OptLossless},
		{map[string][]string{OptFormat: {"png"}, OptEffort: {"3"}}, OptEffort},
		{map[string][]string{OptFormat: {"webp"}, OptEffort: {"6"}}, ""},
		{map[string][]string{OptFormat: {"webp"}, OptLossless: {"true"}}, ""},
		// Chosen for the client, not named by it: dropped, not refused.
		{map[string][]string{OptLossless: {"true"}, OptEffort: {"5"}}, ""},
		{map[string][]string{OptFormat: {"auto"}, OptLossless: {"true"}}, ""},
	}
	for _, tt := range tests {
		opt, err := ParseOptions(tt.q, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Plan(jpg, opt)
		var e *Error
		if tt.wantField == "" && err != nil || tt.wantField != "" && (!asError(err, &e) || e.Field != tt.wantField) {
			t.Errorf("Plan(%v) = %v, want an error on %q", tt.q, err, tt.wantField)
		}
	}
}

func asError(err error, e **Error) bool {
	x, ok := err.(*Error)
	*e = x
	return ok
}

func TestAutoFormat(t *testing.T) {
	opaque := encodeAs(t, newGradient(40, 30), FormatJPEG)
	alpha := encodeAs(t, costImage(40, 30, true), FormatPNG)
	p := NewPipeline(Limits{}, inline{}, nil)
	tests := []struct {
		src    []byte
		accept []Format
		want   Format
	}{
		{opaque, []Format{FormatWebP}, FormatWebP},
		{alpha, []Format{FormatWebP}, FormatWebP},
		{opaque, nil, FormatJPEG},
		{alpha, nil, FormatPNG},
	}
	for _, tt := range tests {
		opt := DefaultOptions()
		opt.Format, opt.Accept = FormatAuto, tt.accept
		pl, err := p.Plan(tt.src, opt)
		if err != nil || pl.OutFormat != tt.want {
			t.Errorf("auto with %v for %s: %s (%v), want %s", tt.accept, Sniff(tt.src), pl.OutFormat, err, tt.want)
		}
	}
}

// TestWebP_lossyColoursMatchLibwebp decodes lossy WebPs made by cwebp and
// compares them with dwebp's own decode: libwebp's YCbCr is limited range,
// and taking it as full range washed colours out (blacks at 22, whites at 229).
func TestWebP_lossyColoursMatchLibwebp(t *testing.T) {
	for _, tool := range []string{"cwebp", "dwebp"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found (Debian: webp); .ci/run installs it", tool)
		}
	}
	dir := t.TempDir()
	photo := costImage(480, 320, false)
	// Black and white bands, where a range error shows most.
	for y := range 40 {
		for x := range 480 {
			photo.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255})
			photo.SetNRGBA(x, 319-y, color.NRGBA{255, 255, 255, 255})
		}
	}
	inputs := []struct {
		name  string
		img   *image.NRGBA
		bands bool
	}{{"bands and gradients", photo, true}, {"gradients with alpha", costImage(480, 320, true), false}}
	// And real photos from the corpus, which CI has (compared in the run
	// without -race, which is too slow for them).
	photos := []string{"photo-storm-1920x1280.jpg", "photo-wood-2560x1920.jpg"}
	if raceEnabled || testing.Short() {
		photos = nil
	}
	for _, name := range photos {
		b, err := os.ReadFile(filepath.Join("..", "..", "shared", "corpus", name))
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("CI must provide the corpus: %v", err)
			}
			t.Logf("corpus photo %s not found; compared on generated images only", name)
			continue
		}
		info, err := Inspect(b)
		if err != nil {
			t.Fatal(err)
		}
		m, err := codecOf(info.Format).Decoder.Decode(b, info, Scale{1, 1}, 1)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, struct {
			name  string
			img   *image.NRGBA
			bands bool
		}{name, toNRGBA(m), false})
	}
	for _, input := range inputs {
		src := input.img
		w, h := src.Rect.Dx(), src.Rect.Dy()
		in := filepath.Join(dir, "in.png")
		os.WriteFile(in, encodeAs(t, src, FormatPNG), 0o644)
		wp, pam := filepath.Join(dir, "in.webp"), filepath.Join(dir, "ref.pam")
		if out, err := exec.Command("cwebp", "-quiet", "-q", "80", in, "-o", wp).CombinedOutput(); err != nil {
			t.Fatalf("cwebp: %v %s", err, out)
		}
		if out, err := exec.Command("dwebp", "-quiet", wp, "-pam", "-o", pam).CombinedOutput(); err != nil {
			t.Fatalf("dwebp: %v %s", err, out)
		}
		data, _ := os.ReadFile(wp)
		in2, err := Inspect(data)
		if err != nil {
			t.Fatal(err)
		}
		img, err := decodeWebP(data, in2, Scale{1, 1}, 1)
		if err != nil {
			t.Fatal(err)
		}
		ref := readPAM(t, pam)
		var sum, worst int
		for y := range h {
			for x := range w {
				g, w := nrgbaAt(img, x, y), ref.NRGBAAt(x, y)
				ds := []int{int(g.A) - int(w.A)}
				if w.A > 16 { // colour under (nearly) transparent pixels does not show
					ds = append(ds, int(g.R)-int(w.R), int(g.G)-int(w.G), int(g.B)-int(w.B))
				}
				for _, d := range ds {
					sum += abs(d)
					worst = max(worst, abs(d))
				}
			}
		}
		mean := float64(sum) / float64(w*h*4)
		t.Logf("%s: mean difference from dwebp %.2f, largest %d", input.name, mean, worst)
		// libwebp upsamples chroma with its "fancy" filter; image.YCbCr
		// replicates it, so edges differ by a few levels, never the range.
		if mean > 1.5 || worst > 48 {
			t.Errorf("%s: mean difference from dwebp %.2f (largest %d), want ≤ 1.5", input.name, mean, worst)
		}
		if input.bands {
			if c := nrgbaAt(img, 10, 10); c.R > 4 {
				t.Errorf("black decodes as %v, want about 0", c)
			}
			if c := nrgbaAt(img, 10, 310); c.R < 251 {
				t.Errorf("white decodes as %v, want about 255", c)
			}
		}
	}
}

// readPAM reads a PAM (P7) RGB_ALPHA image as dwebp writes it.
func readPAM(t *testing.T, path string) *image.NRGBA {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	end := bytes.Index(b, []byte("ENDHDR\n"))
	if !bytes.HasPrefix(b, []byte("P7\n")) || end < 0 {
		t.Fatalf("%s is not a PAM file", path)
	}
	var w, h int
	for _, line := range strings.Split(string(b[:end]), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "WIDTH" {
			w = atoi(f[1])
		}
		if len(f) == 2 && f[0] == "HEIGHT" {
			h = atoi(f[1])
		}
	}
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	copy(m.Pix, b[end+len("ENDHDR\n"):])
	return m
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
