package jpegenc

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	_ "image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/disintegration/imaging"
)

// The corpus benchmarks encode each photo of the corpus, decoded once to
// NRGBA, at full size and 1280 pixels wide, at quality 85, with this
// package (standard and optimised tables), image/jpeg, and libjpeg-turbo's
// cjpeg (run as a process on a PPM file, so its figures include start-up
// and reading the PPM). Each reports the output size (B/out) and its PSNR
// against the source (dB):
//
//	go test -run '^$' -bench Corpus -benchtime 5x ./imaging/internal/jpegenc/
//
// The corpus is read from $IMGSVC_CORPUS, else ../shared/corpus beside the
// repository; without it the benchmarks skip.

func corpusDir() string {
	if d := os.Getenv("IMGSVC_CORPUS"); d != "" {
		return d
	}
	d := filepath.Join("..", "..", "..", "..", "shared", "corpus")
	if fi, err := os.Stat(d); err == nil && fi.IsDir() {
		return d
	}
	return ""
}

func corpusFiles(tb testing.TB) []string {
	dir := corpusDir()
	if dir == "" {
		tb.Skip("corpus not found ($IMGSVC_CORPUS or ../shared/corpus beside the repository)")
	}
	var files []string
	for _, pat := range []string{"*.jpg", "*.png"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		files = append(files, m...)
	}
	if len(files) == 0 {
		tb.Skip("corpus is empty")
	}
	return files
}

func loadNRGBA(tb testing.TB, path string) *image.NRGBA {
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		tb.Fatal(err)
	}
	n := image.NewNRGBA(image.Rect(0, 0, img.Bounds().Dx(), img.Bounds().Dy()))
	draw.Draw(n, n.Bounds(), img, img.Bounds().Min, draw.Src)
	return n
}

// psnrNRGBA compares the RGB of an opaque NRGBA with a decoded image.
func psnrNRGBA(a *image.NRGBA, dec image.Image) float64 {
	b := image.NewNRGBA(a.Bounds())
	draw.Draw(b, b.Bounds(), dec, dec.Bounds().Min, draw.Src)
	var se float64
	for i := 0; i < len(a.Pix); i += 4 {
		for c := 0; c < 3; c++ {
			d := float64(a.Pix[i+c]) - float64(b.Pix[i+c])
			se += d * d
		}
	}
	return 10 * math.Log10(255*255/(se/float64(len(a.Pix)/4*3)))
}

func writePPM(tb testing.TB, img *image.NRGBA, path string) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "P6\n%d %d\n255\n", img.Rect.Dx(), img.Rect.Dy())
	for i := 0; i < len(img.Pix); i += 4 {
		buf.Write(img.Pix[i : i+3])
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
}

type corpusEncoder struct {
	name   string
	encode func(tb testing.TB, img *image.NRGBA, ppm string) []byte
}

// cjpegCPU adds up the CPU time of the cjpeg processes run.
var cjpegCPU time.Duration

func corpusEncoders(quality int) []corpusEncoder {
	ours := func(opt bool, stats Statistics, procs ...int) func(testing.TB, *image.NRGBA, string) []byte {
		return func(tb testing.TB, img *image.NRGBA, _ string) []byte {
			var buf bytes.Buffer
			o := EncodeOptions{Quality: quality, OptimizeHuffman: opt, Statistics: stats}
			if len(procs) > 0 {
				o.Procs = procs[0]
			}
			if err := Encode(&buf, img, o); err != nil {
				tb.Fatal(err)
			}
			return buf.Bytes()
		}
	}
	cjpeg := func(args ...string) func(testing.TB, *image.NRGBA, string) []byte {
		return func(tb testing.TB, _ *image.NRGBA, ppm string) []byte {
			cmd := exec.Command("cjpeg", append(append([]string{"-quality", fmt.Sprint(quality)}, args...), ppm)...)
			out, err := cmd.Output()
			if err != nil {
				tb.Fatalf("cjpeg: %v", err)
			}
			cjpegCPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			return out
		}
	}
	return []corpusEncoder{
		{"jpegenc", ours(false, 0)},
		{"jpegenc-optimize", ours(true, StatsKeep)},
		{"image-jpeg", func(tb testing.TB, img *image.NRGBA, _ string) []byte {
			var buf bytes.Buffer
			// As imgsvc called it: an opaque NRGBA re-labelled as RGBA,
			// which image/jpeg has a fast path for.
			rgba := &image.RGBA{Pix: img.Pix, Stride: img.Stride, Rect: img.Rect}
			if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: quality}); err != nil {
				tb.Fatal(err)
			}
			return buf.Bytes()
		}},
		{"cjpeg", cjpeg()},
		{"cjpeg-optimize", cjpeg("-optimize")},
		{"jpegenc-optimize-recompute", ours(true, StatsRecompute)},
		{"jpegenc-optimize-sampled", ours(true, StatsSampled)},
		// On two goroutines, in bands joined by restart markers: its
		// cpu-ms/op is the process's (GC included), ns/op the wall time.
		{"jpegenc-optimize-sampled-procs2", ours(true, StatsSampled, 2)},
	}
}

// corpusImages yields each corpus photo at full size and 1280 wide.
func corpusImages(tb testing.TB, run func(name string, img *image.NRGBA)) {
	for _, f := range corpusFiles(tb) {
		full := loadNRGBA(tb, f)
		base := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		run(base+"/full", full)
		if full.Rect.Dx() > 1280 {
			run(base+"/w1280", imaging.Resize(full, 1280, 0, imaging.Lanczos))
		}
	}
}

func BenchmarkCorpus(b *testing.B) {
	_, cjpegErr := exec.LookPath("cjpeg")
	corpusImages(b, func(name string, img *image.NRGBA) {
		ppm := filepath.Join(b.TempDir(), "src.ppm")
		writePPM(b, img, ppm)
		for _, e := range corpusEncoders(85) {
			b.Run(name+"/"+e.name, func(b *testing.B) {
				if strings.HasPrefix(e.name, "cjpeg") && cjpegErr != nil {
					b.Skip("cjpeg not found (Debian package libjpeg-turbo-progs)")
				}
				run := runCPU
				if strings.Contains(e.name, "procs") {
					run = runProcessCPU
				}
				out := run(b, func() []byte { return e.encode(b, img, ppm) })
				dec, err := jpeg.Decode(bytes.NewReader(out))
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(out)), "B/out")
				b.ReportMetric(psnrNRGBA(img, dec), "dB")
			})
		}
	})
}

// runCPU runs f b.N times and reports the CPU time it took a run
// (cpu-ms/op: the encoding thread's, or the cjpeg process's), which a
// busy machine disturbs less than the wall time ns/op.
func runCPU(b *testing.B, f func() []byte) []byte {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cjpegCPU = 0
	var out []byte
	t0 := threadCPU()
	for i := 0; i < b.N; i++ {
		out = f()
	}
	cpu := threadCPU() - t0 + cjpegCPU
	b.StopTimer()
	b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/op")
	return out
}

// runProcessCPU is runCPU reporting the whole process's CPU time, for an
// encoder that uses several threads.
func runProcessCPU(b *testing.B, f func() []byte) []byte {
	var out []byte
	t0 := processCPU()
	for i := 0; i < b.N; i++ {
		out = f()
	}
	cpu := processCPU() - t0
	b.StopTimer()
	b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/op")
	return out
}

// BenchmarkEncode runs on a generated photo, so it runs everywhere.
func BenchmarkEncode(b *testing.B) {
	src := testPhoto(1280, 853, 1)
	for _, e := range corpusEncoders(85)[:3] {
		b.Run(e.name, func(b *testing.B) {
			b.ReportAllocs()
			runCPU(b, func() []byte { return e.encode(b, src, "") })
		})
	}
}

// TestCorpus_againstCjpeg checks, on the corpus, that quality q means what
// it means to cjpeg (PSNR within 0.1 dB) and that the files are no larger
// than image/jpeg's.
func TestCorpus_againstCjpeg(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	if _, err := exec.LookPath("cjpeg"); err != nil {
		t.Skip("cjpeg not found (Debian package libjpeg-turbo-progs)")
	}
	corpusImages(t, func(name string, img *image.NRGBA) {
		if !strings.HasSuffix(name, "w1280") {
			return // full size takes long; the encoders do not care about size
		}
		ppm := filepath.Join(t.TempDir(), "src.ppm")
		writePPM(t, img, ppm)
		got := map[string][2]float64{}
		for _, e := range corpusEncoders(85) {
			out := e.encode(t, img, ppm)
			dec, err := jpeg.Decode(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("%s %s: %v", name, e.name, err)
			}
			got[e.name] = [2]float64{float64(len(out)), psnrNRGBA(img, dec)}
		}
		t.Logf("%s: %v", name, got)
		if d := got["jpegenc"][1] - got["cjpeg"][1]; d < -0.1 {
			t.Errorf("%s: PSNR %.3f dB, cjpeg %.3f", name, got["jpegenc"][1], got["cjpeg"][1])
		}
		if got["jpegenc-optimize"][0] > got["image-jpeg"][0] {
			t.Errorf("%s: %v bytes, image/jpeg %v", name, got["jpegenc-optimize"][0], got["image-jpeg"][0])
		}
	})
}
