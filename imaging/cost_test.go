package imaging

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/tiff"
)

// costImage is a w×h photo-like image: smooth gradients with a little noise,
// so that encoders neither collapse it nor see pure noise.
func costImage(w, h int, alpha bool) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(3, 4))
	for y := range h {
		for x := range w {
			n := uint8(r.IntN(24))
			a := uint8(255)
			if alpha {
				a = uint8(x * 255 / w)
			}
			i := m.PixOffset(x, y)
			m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = uint8(x*200/w)+n, uint8(y*200/h)+n, uint8((x+y)*100/(w+h))+n, a
		}
	}
	return m
}

// tool runs a command-line encoder on in (written to a file with the given
// extension) and returns what it wrote to out, skipping when it is missing.
func tool(t *testing.T, name, inExt string, in []byte, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		pkg := map[string]string{"cwebp": "webp", "cjpeg": "libjpeg-turbo-progs", "jpegtran": "libjpeg-turbo-progs",
			"convert": "imagemagick", "tiffcp": "libtiff-tools"}[name]
		t.Skipf("%s not found (Debian package %s); .ci/run installs it", name, pkg)
	}
	dir := t.TempDir()
	inPath, outPath := filepath.Join(dir, "in"+inExt), filepath.Join(dir, "out")
	if err := os.WriteFile(inPath, in, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, a := range args {
		args[i] = strings.NewReplacer("IN", inPath, "OUT", outPath).Replace(a)
	}
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	b, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ppm is img as a binary PPM, for cjpeg.
func ppm(img *image.NRGBA) []byte {
	b := img.Bounds()
	var out bytes.Buffer
	fmt.Fprintf(&out, "P6\n%d %d\n255\n", b.Dx(), b.Dy())
	for i := 0; i < len(img.Pix); i += 4 {
		out.Write(img.Pix[i : i+3])
	}
	return out.Bytes()
}

// withAdobeRGB marks a JPEG as RGB-coded (an Adobe segment with transform
// 0), which the shrink-on-load decoder leaves to image/jpeg.
func withAdobeRGB(jpg []byte) []byte {
	seg := []byte{0xFF, 0xEE, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0}
	return append(append(append([]byte{}, jpg[:2]...), seg...), jpg[2:]...)
}

// TestPlan_costBoundsPeakHeap runs every decoder path — and the transforms
// and encoders after it — on a 4-megapixel image and checks that the peak
// live heap of the job stays within the cost Plan admitted it at, decided
// from the header alone. It also checks that the cost is not grossly above
// the peak, which would waste the memory budget.
func TestPlan_costBoundsPeakHeap(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("decodes 4 MP images with a tight GC; skipped with -short and -race (CI runs it without -race)")
	}
	const w, h = 2400, 1600
	opaque, translucent := costImage(w, h, false), costImage(w, h, true)
	gray := image.NewGray(opaque.Bounds())
	for i := range gray.Pix {
		gray.Pix[i] = opaque.Pix[i*4+1]
	}
	deep := image.NewNRGBA64(opaque.Bounds())
	for i := range deep.Pix {
		deep.Pix[i] = translucent.Pix[i/2]
	}
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, opaque, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	var tif16 bytes.Buffer
	if err := tiff.Encode(&tif16, deep, &tiff.Options{Compression: tiff.Deflate}); err != nil {
		t.Fatal(err)
	}
	pngOf := func(ctype byte, depth int, interlaced bool) func(*testing.T) []byte {
		return func(t *testing.T) []byte { return newTestPNG(w, h, ctype, depth, interlaced, false).encode(t) }
	}
	inputs := []struct {
		name string
		path string // the decoder path the header must choose
		src  func(t *testing.T) []byte
	}{
		{"jpeg baseline 4:2:0", "jpegscale", func(*testing.T) []byte { return jpg.Bytes() }},
		{"jpeg grey", "jpegscale", func(t *testing.T) []byte { return encodeAs(t, gray, FormatJPEG) }},
		{"jpeg 4:2:0 with Exif, transcoded", "jpegscale", func(*testing.T) []byte { return withEXIFOrientation(jpg.Bytes(), 1) }},
		{"jpeg 4:2:0 orientation 6, transcoded", "jpegscale", func(*testing.T) []byte { return withEXIFOrientation(jpg.Bytes(), 6) }},
		{"jpeg progressive 4:4:4", "jpegscale", func(t *testing.T) []byte {
			return tool(t, "cjpeg", ".ppm", ppm(opaque), "-progressive", "-sample", "1x1", "-outfile", "OUT", "IN")
		}},
		{"jpeg RGB-coded", "image/jpeg", func(*testing.T) []byte { return withAdobeRGB(jpg.Bytes()) }},
		{"jpeg RGB-coded progressive", "image/jpeg", func(t *testing.T) []byte {
			return tool(t, "cjpeg", ".ppm", ppm(opaque), "-rgb", "-progressive", "-outfile", "OUT", "IN")
		}},
		{"jpeg CMYK, generic press profile", "jpegscale", func(t *testing.T) []byte {
			return tool(t, "convert", ".png", encodeAs(t, opaque, FormatPNG), "IN", "-colorspace", "CMYK", "-quality", "90", "jpg:OUT")
		}},
		{"tiff CMYK LZW, generic press profile", "tiffextra", func(t *testing.T) []byte {
			return tool(t, "convert", ".png", encodeAs(t, opaque, FormatPNG), "IN", "-colorspace", "CMYK", "-compress", "lzw", "tif:OUT")
		}},
		{"png rgb 8-bit, wide-gamut ICC", "png", func(t *testing.T) []byte {
			return withProfile(t, pngOf(2, 8, false)(t), FormatPNG, wideProfile())
		}},
		{"png rgba 8-bit", "png", pngOf(6, 8, false)},
		{"png rgb 16-bit", "png", pngOf(2, 16, false)},
		{"png rgba 16-bit interlaced", "png", pngOf(6, 16, true)},
		{"png palette 4-bit", "png", pngOf(3, 4, false)},
		{"gif", "image/gif", func(t *testing.T) []byte { return encodeAs(t, opaque, FormatGIF) }},
		{"bmp 24-bit", "x/image/bmp", func(t *testing.T) []byte { return encodeAs(t, opaque, FormatBMP) }},
		{"bmp rle8", "bmp rle", func(*testing.T) []byte { return rleFromImage(opaque, 8) }},
		{"bmp rle4", "bmp rle", func(*testing.T) []byte { return rleFromImage(opaque, 4) }},
		{"tiff rgba 8-bit", "x/image/tiff", func(t *testing.T) []byte { return encodeAs(t, translucent, FormatTIFF) }},
		{"tiff rgba 16-bit deflate", "x/image/tiff", func(*testing.T) []byte { return tif16.Bytes() }},
		{"tiff lab 8-bit deflate", "tiffextra", func(t *testing.T) []byte { return labTIFFOf(t, opaque, 64) }},
		{"tiff lab 8-bit one strip", "tiffextra", func(t *testing.T) []byte { return labTIFFOf(t, opaque, 0) }},
		{"tiff jpeg strips", "tiffextra", func(t *testing.T) []byte { return jpegTIFFOf(t, opaque, "-r", "16") }},
		{"tiff jpeg one strip", "tiffextra", func(t *testing.T) []byte { return jpegTIFFOf(t, opaque, "-r", "1600") }},
		{"tiff jpeg tiles", "tiffextra", func(t *testing.T) []byte { return jpegTIFFOf(t, opaque, "-t", "-w", "256", "-l", "256") }},
		{"webp lossy", "libwebp lossy", func(t *testing.T) []byte {
			return tool(t, "cwebp", ".png", encodeAs(t, opaque, FormatPNG), "-quiet", "-q", "80", "IN", "-o", "OUT")
		}},
		{"webp lossy alpha", "libwebp lossy", func(t *testing.T) []byte {
			return tool(t, "cwebp", ".png", encodeAs(t, translucent, FormatPNG), "-quiet", "-q", "80", "IN", "-o", "OUT")
		}},
		{"heic", "libheif", func(t *testing.T) []byte {
			needHeif(t, "heif-enc")
			return heifFile(t, "heif-enc", encodeAs(t, opaque, FormatPNG), "-q", "70")
		}},
		{"avif with alpha", "libheif", func(t *testing.T) []byte {
			needHeif(t, "avifenc")
			return heifFile(t, "avifenc", encodeAs(t, translucent, FormatPNG), "-s", "9")
		}},
		{"webp lossless", "x/image/webp lossless", func(t *testing.T) []byte {
			return tool(t, "cwebp", ".png", encodeAs(t, translucent, FormatPNG), "-quiet", "-lossless", "-z", "1", "IN", "-o", "OUT")
		}},
	}
	common := []map[string][]string{
		{OptWidth: {"300"}},
		{OptWidth: {"1500"}, OptFormat: {"png"}},
		{},
	}
	every := append(common,
		map[string][]string{OptCrop: {"100,50,1600,1200"}, OptWidth: {"400"}},
		map[string][]string{OptWidth: {"800"}, OptHeight: {"800"}, OptFit: {"contain"}, OptRotate: {"90"}, OptFlip: {"h"}},
		map[string][]string{OptWidth: {"900"}, OptHeight: {"300"}, OptFit: {"cover"}, OptBlur: {"2"}, OptGrayscale: {"true"}},
		map[string][]string{OptWidth: {"1200"}, OptSharpen: {"1"}, OptFormat: {"gif"}},
		map[string][]string{OptRotate: {"30"}, OptWidth: {"1000"}, OptFormat: {"tiff"}},
	)
	p := NewPipeline(Limits{}, inline{}, nil)
	for i, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			src := in.src(t)
			sets := common
			if i == 0 || in.name == "png rgba 8-bit" || strings.Contains(in.name, "ICC") || strings.Contains(in.name, "CMYK") {
				sets = every
			}
			for _, q := range sets {
				opt, err := ParseOptions(q, nil)
				if err != nil {
					t.Fatal(err)
				}
				pl, err := p.Plan(src, opt)
				if err != nil {
					t.Fatalf("Plan(%v): %v", q, err)
				}
				if got := pl.decodeCost().Path; got != in.path {
					t.Errorf("%v: decoder path %q, want %q", q, got, in.path)
				}
				if strings.Contains(in.name, "transcoded") && len(q) == 0 && !pl.transcode {
					t.Errorf("%v: the plan does not transcode", q)
				}
				var res Result
				peak := peakHeap(func() { res, err = p.Run(context.Background(), src, pl) })
				if err != nil {
					t.Fatalf("Run(%v): %v", q, err)
				}
				t.Logf("%-75v %5dx%-5d cost %6.1f MB, peak heap %6.1f MB (%3.0f%%)", fmt.Sprint(q), res.Width, res.Height,
					float64(pl.Cost)/1e6, float64(peak)/1e6, 100*float64(peak)/float64(pl.Cost))
				if peak > pl.Cost {
					t.Errorf("%v: peak live heap %.1f MB is over the admitted cost %.1f MB", q, float64(peak)/1e6, float64(pl.Cost)/1e6)
				}
				// libwebp's buffers are native: the Go heap does not see them,
				// so the cost is rightly above the Go peak there.
				native := pl.decodeCost().Path == "libwebp lossy" || pl.decodeCost().Path == "libheif" ||
					pl.OutFormat == FormatWebP || pl.OutFormat == FormatAVIF
				if slack := pl.Cost - peak; slack > 4*peak+8<<20 && !native {
					t.Errorf("%v: cost %.1f MB is far above the peak %.1f MB: the budget would be wasted", q, float64(pl.Cost)/1e6, float64(peak)/1e6)
				}
			}
		})
	}
}
