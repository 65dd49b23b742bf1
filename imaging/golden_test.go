package imaging

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestPipeline_golden runs the pipeline on the small inputs in testdata and
// compares the decoded output with testdata/golden: exactly for lossless
// outputs, within a tolerance for JPEG. `go test -run Golden -update`
// rewrites the golden files after an intended change; look at them first.
func TestPipeline_golden(t *testing.T) {
	tests := []struct {
		name, input, query string
		lossy              bool
	}{
		{"resize-inside", "quadrants-96x64.png", "width=48&height=48&fit=inside", false},
		{"cover-north-east", "quadrants-96x64.png", "width=40&height=40&fit=cover&gravity=northeast", false},
		{"contain-padded", "quadrants-96x64.png", "width=64&height=64&background=ff00ff", false},
		{"crop-rotate-flip", "gradient-80x60.png", "crop=10,5,50,40&rotate=90&flip=h", false},
		{"rotate-30", "gradient-80x60.png", "rotate=30&background=000000", false},
		{"adjust", "gradient-80x60.png", "brightness=10&contrast=20&gamma=1.4&grayscale=1", false},
		{"blur-sharpen", "quadrants-96x64.png", "blur=1.5&sharpen=1", false},
		{"jpeg-shrink-on-load", "gradient-640x480.jpg", "width=80&format=png", true},
		{"jpeg-exif6", "quadrants-96x64-exif6.jpg", "format=png", true},
		{"png-to-jpeg", "gradient-80x60.png", "format=jpeg&quality=90", true},
	}
	p := NewPipeline(Limits{}, inline{}, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", tt.input))
			if err != nil {
				t.Fatal(err)
			}
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			opt, err := ParseOptions(q, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Process(context.Background(), src, opt)
			if err != nil {
				t.Fatalf("Process(%s?%s): %v", tt.input, tt.query, err)
			}
			got := decodeResult(t, res)
			golden := filepath.Join("testdata", "golden", tt.name+".png")
			if *update {
				var b bytes.Buffer
				if err := png.Encode(&b, got); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			f, err := os.Open(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run Golden -update to create it)", err)
			}
			defer f.Close()
			want, err := png.Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			tol := 0
			if tt.lossy {
				tol = 3 // JPEG: allow encoder and IDCT rounding
			}
			comparePixels(t, got, want, tol)
		})
	}
}

func comparePixels(t *testing.T, got, want image.Image, tol int) {
	t.Helper()
	if got.Bounds().Size() != want.Bounds().Size() {
		t.Fatalf("size %v, want %v", got.Bounds().Size(), want.Bounds().Size())
	}
	bad := 0
	for y := 0; y < want.Bounds().Dy(); y++ {
		for x := 0; x < want.Bounds().Dx(); x++ {
			g, w := nrgbaAt(got, x, y), nrgbaAt(want, x, y)
			if !near(g, w, tol) {
				if bad < 3 {
					t.Errorf("pixel (%d,%d) = %v, want %v (tolerance %d)", x, y, g, w, tol)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d pixels differ", bad)
	}
}

// TestGoldenInputs rebuilds the small inputs of the golden tests with
// -update; without it, it checks that they still decode to what the
// generators make, so the inputs cannot drift unnoticed.
func TestGoldenInputs(t *testing.T) {
	inputs := map[string][]byte{
		"quadrants-96x64.png":       encodeAs(t, newQuadrants(96, 64), FormatPNG),
		"gradient-80x60.png":        encodeAs(t, newGradient(80, 60), FormatPNG),
		"gradient-640x480.jpg":      encodeAs(t, newGradient(640, 480), FormatJPEG),
		"quadrants-96x64-exif6.jpg": withEXIFOrientation(encodeAs(t, newQuadrants(96, 64), FormatJPEG), 6),
	}
	for name, b := range inputs {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.MkdirAll(filepath.Join("testdata", "golden"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		have, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run Golden -update to create it)", err)
		}
		gi, _, err1 := image.Decode(bytes.NewReader(have))
		wi, _, err2 := image.Decode(bytes.NewReader(b))
		if err1 != nil || err2 != nil {
			t.Fatalf("decode %s: %v %v", name, err1, err2)
		}
		comparePixels(t, gi, wi, 3)
	}
}
