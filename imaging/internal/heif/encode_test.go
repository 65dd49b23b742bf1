package heif

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/draw"
)

// Corpus photos: a smooth one (a blurred storm) and a detailed one (wood).
const (
	photo       = "../../../../shared/corpus/photo-storm-1920x1280.jpg"
	photoDetail = "../../../../shared/corpus/photo-wood-2560x1920.jpg"
)

func TestLib_EncodeAVIF(t *testing.T) {
	l := testLib(t)
	needTool(t, "avifdec", pkgAvifTool)
	needTool(t, "heif-convert", pkgHeifTool)
	icc, err := os.ReadFile(iccFile)
	if err != nil {
		t.Skipf("no ICC profile (apt-get install %s): %v", pkgICC, err)
	}
	tests := []struct {
		name    string
		img     *image.NRGBA
		opt     EncodeOptions
		alpha   bool
		yuv     string // avifdec --info's Format
		minPSNR float64
	}{
		{"alpha+icc", pattern(96, 64, true), EncodeOptions{Quality: 90, Speed: 8, ICC: icc}, true, "YUV420", 34},
		{"opaque", pattern(96, 64, false), EncodeOptions{Quality: 90, Speed: 8}, false, "YUV420", 34},
		{"444", pattern(96, 64, false), EncodeOptions{Quality: 90, Speed: 8, Chroma444: true}, false, "YUV444", 38},
		{"odd size", pattern(37, 23, true), EncodeOptions{Quality: 80, Speed: 9}, true, "YUV420", 30},
		{"1x1", flat(1, 1, pattern(2, 2, false).NRGBAAt(1, 1)), EncodeOptions{Quality: 50, Speed: 9}, false, "YUV420", 30},
		{"sub-image", pattern(96, 64, true).SubImage(image.Rect(10, 5, 60, 45)).(*image.NRGBA), EncodeOptions{Quality: 90, Speed: 8}, true, "YUV420", 34},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src := toNRGBA(tt.img) // at the origin, for comparisons
			data, err := l.EncodeAVIF(tt.img, tt.opt)
			if err != nil {
				t.Fatalf("EncodeAVIF: %v", err)
			}
			hd, err := l.Probe(data)
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			if hd.Format != "avif" || hd.Width != src.Rect.Dx() || hd.Height != src.Rect.Dy() || hd.Alpha != tt.alpha || hd.BitDepth != 8 || !bytes.Equal(hd.ICC, tt.opt.ICC) {
				t.Errorf("Probe = %+v, want avif %v alpha %v depth 8 icc %d bytes", brief(hd), src.Rect.Size(), tt.alpha, len(tt.opt.ICC))
			}
			got, gotICC, err := l.Decode(data, 0)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !bytes.Equal(gotICC, tt.opt.ICC) {
				t.Errorf("Decode ICC %d bytes, want %d", len(gotICC), len(tt.opt.ICC))
			}
			avif := filepath.Join(dir, "out.avif")
			if err := os.WriteFile(avif, data, 0o644); err != nil {
				t.Fatal(err)
			}
			info, err := exec.Command("avifdec", "--info", avif).CombinedOutput()
			if err != nil {
				t.Fatalf("avifdec --info: %v\n%s", err, info)
			}
			if !strings.Contains(string(info), "Format         : "+tt.yuv) {
				t.Errorf("avifdec --info does not say %s:\n%s", tt.yuv, info)
			}
			run(t, "avifdec", avif, filepath.Join(dir, "avifdec.png"))
			run(t, "heif-convert", avif, filepath.Join(dir, "heif-convert.png"))
			for name, img := range map[string]*image.NRGBA{
				"Decode":       got,
				"avifdec":      readPNG(t, filepath.Join(dir, "avifdec.png")),
				"heif-convert": readPNG(t, filepath.Join(dir, "heif-convert.png")),
			} {
				if img.Rect.Size() != src.Rect.Size() {
					t.Errorf("%s: size %v, want %v", name, img.Rect.Size(), src.Rect.Size())
					continue
				}
				want := src
				if !tt.alpha {
					want = opaqueCopy(src)
				}
				p := psnr(premultiplied(img), premultiplied(want))
				_, alpha := diff(t, img, want)
				t.Logf("%s: %d bytes, PSNR %.1f dB, alpha mean difference %.2f", name, len(data), p, alpha)
				if p < tt.minPSNR || alpha > 3 {
					t.Errorf("%s: PSNR %.1f dB (want >= %.0f), alpha difference %.2f (want <= 3)", name, p, tt.minPSNR, alpha)
				}
			}
		})
	}
}

// premultiplied is img composed over black, which is what a viewer shows;
// it ignores the colours under transparent pixels that a codec may drop.
func premultiplied(img *image.NRGBA) *image.NRGBA {
	out := image.NewNRGBA(img.Rect)
	for i := 0; i < len(img.Pix); i += 4 {
		a := uint32(img.Pix[i+3])
		for c := range 3 {
			out.Pix[i+c] = uint8((uint32(img.Pix[i+c])*a + 127) / 255)
		}
		out.Pix[i+3] = 255
	}
	return out
}

func TestLib_EncodeAVIF_errors(t *testing.T) {
	l := testLib(t)
	img := pattern(16, 16, false)
	tests := []struct {
		name string
		img  *image.NRGBA
		opt  EncodeOptions
	}{
		{"quality 0", img, EncodeOptions{Quality: 0, Speed: 8}},
		{"quality 101", img, EncodeOptions{Quality: 101, Speed: 8}},
		{"speed 10", img, EncodeOptions{Quality: 50, Speed: 10}},
		{"empty", image.NewNRGBA(image.Rect(0, 0, 0, 0)), EncodeOptions{Quality: 50, Speed: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := l.EncodeAVIF(tt.img, tt.opt)
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("EncodeAVIF error %v, want an *Error", err)
			}
			t.Log(err)
		})
	}
}

// loadPhoto returns the corpus storm photo resized to 1280×853.
func loadPhoto(t testing.TB) *image.NRGBA { return loadScaled(t, photo, 1280, 853) }

// loadScaled returns a corpus photo resized to w×h.
func loadScaled(t testing.TB, path string, w, h int) *image.NRGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("corpus photo missing: %v", err)
	}
	defer f.Close()
	src, err := jpeg.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Rect, src, src.Bounds(), draw.Src, nil)
	return dst
}

// TestLib_EncodeAVIF_photo logs size, time (the best of three) and PSNR of
// a smooth and a detailed photo at 1280 px and quality 60 for each speed,
// beside avifenc with the same settings. It only measures, so it runs only
// when HEIF_MEASURE is set.
func TestLib_EncodeAVIF_photo(t *testing.T) {
	if os.Getenv("HEIF_MEASURE") == "" {
		t.Skip("a measurement: set HEIF_MEASURE=1 to run it")
	}
	l := testLib(t)
	for _, img := range []*image.NRGBA{loadPhoto(t), loadScaled(t, photoDetail, 1280, 960)} {
		encodePhoto(t, l, img)
	}
}

func encodePhoto(t *testing.T, l *Lib, img *image.NRGBA) {
	dir := t.TempDir()
	png := writePNG(t, dir, "photo.png", img, nil, false)
	_, avifenc := exec.LookPath("avifenc")
	t.Logf("%dx%d:", img.Rect.Dx(), img.Rect.Dy())
	for _, speed := range []int{4, 6, 7, 8, 9} {
		var data []byte
		d := time.Duration(1 << 62)
		for range 3 {
			start := time.Now()
			var err error
			data, err = l.EncodeAVIF(img, EncodeOptions{Quality: 60, Speed: speed})
			d = min(d, time.Since(start))
			if err != nil {
				t.Fatalf("speed %d: %v", speed, err)
			}
		}
		got, _, err := l.Decode(data, 0)
		if err != nil {
			t.Fatal(err)
		}
		line := fmt.Sprintf("speed %d: EncodeAVIF %7d bytes %5.2fs PSNR %.2f dB", speed, len(data), d.Seconds(), psnr(got, img))
		if avifenc == nil {
			// libheif's quality 60 is cq-level (100-60)*63/100 = 25 in
			// end-usage q, tune ssim, 4:2:0, one thread.
			out := filepath.Join(dir, fmt.Sprintf("s%d.avif", speed))
			d := time.Duration(1 << 62)
			for range 3 {
				start := time.Now()
				run(t, "avifenc", "-j", "1", "-s", fmt.Sprint(speed), "-y", "420", "--min", "0", "--max", "63",
					"-a", "end-usage=q", "-a", "cq-level=25", "-a", "tune=ssim", png, out)
				d = min(d, time.Since(start))
			}
			ref := readFile(t, out)
			got, _, err := l.Decode(ref, 0)
			if err != nil {
				t.Fatal(err)
			}
			line += fmt.Sprintf(" | avifenc (with PNG read) %7d bytes %5.2fs PSNR %.2f dB", len(ref), d.Seconds(), psnr(got, img))
		}
		t.Log(line)
	}
}
