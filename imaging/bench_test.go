package imaging

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "image/gif" // the stock pipeline decodes what image.Decode knows

	imgops "github.com/disintegration/imaging"
	_ "golang.org/x/image/webp"
)

// The benchmarks here run the whole pipeline (plan, decode, transform,
// encode) on generated inputs and, when the corpus is present, on its files,
// beside a BenchmarkStock twin: image.Decode + imgops.Resize(Lanczos) +
// jpeg.Encode, the pipeline this service replaced. Both make a JPEG q85
// BENCH_WIDTH pixels wide (300 by default; generated inputs also at 1000).
//
//	go test -run '^$' -bench 'Pipeline|Stock' -benchtime 5x ./imaging/
//
// The corpus is read from $IMGSVC_CORPUS, else ../shared/corpus beside the
// repository; without it only the generated inputs run.

type benchInput struct {
	name  string
	src   []byte
	width int // output width
}

// benchInputs returns the generated inputs, then the corpus files.
func benchInputs(b *testing.B) []benchInput {
	b.Helper()
	widths := []int{300, 1000}
	if s := os.Getenv("BENCH_WIDTH"); s != "" {
		w, err := strconv.Atoi(s)
		if err != nil || w <= 0 {
			b.Fatalf("BENCH_WIDTH=%q: want a positive integer", s)
		}
		widths = []int{w}
	}
	var in []benchInput
	gen := []struct {
		f    Format
		w, h int
	}{
		{FormatJPEG, 640, 480},
		{FormatJPEG, 1920, 1280},
		{FormatJPEG, 4000, 3000},
		{FormatPNG, 1920, 1280},
		{FormatPNG, 4000, 3000},
	}
	if os.Getenv("BENCH_CORPUS_ONLY") == "" {
		for _, g := range gen {
			src := encodeAs(b, newPhoto(g.w, g.h), g.f)
			for _, w := range widths {
				in = append(in, benchInput{fmt.Sprintf("gen-%s-%dx%d/w%d", g.f, g.w, g.h, w), src, w})
			}
		}
	}
	dir := corpusDir()
	if dir == "" {
		b.Log("corpus not found ($IMGSVC_CORPUS or ../shared/corpus beside the repository): generated inputs only")
		return in
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	sort.Strings(files)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Inspect(src); err != nil {
			continue
		}
		in = append(in, benchInput{"corpus-" + filepath.Base(f) + "/w" + strconv.Itoa(widths[0]), src, widths[0]})
	}
	return in
}

// corpusJPEGs returns the corpus's JPEG files, and skips b when there is no
// corpus.
func corpusJPEGs(b *testing.B) []string {
	dir := corpusDir()
	if dir == "" {
		b.Skip("corpus not found ($IMGSVC_CORPUS or ../shared/corpus beside the repository)")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
	return files
}

// corpusDir returns the benchmark corpus directory, or "" when there is none.
func corpusDir() string {
	if d := os.Getenv("IMGSVC_CORPUS"); d != "" {
		return d
	}
	// The tests run in imaging/; the corpus sits beside the repository root.
	d := filepath.Join("..", "..", "shared", "corpus")
	if fi, err := os.Stat(d); err == nil && fi.IsDir() {
		return d
	}
	return ""
}

// newPhoto returns a w×h opaque image with smooth gradients and fine noise,
// so that JPEG and PNG sizes are closer to a photograph's than a flat
// gradient's.
func newPhoto(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	seed := uint32(1)
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride:]
		for x := 0; x < w; x++ {
			seed = seed*1664525 + 1013904223
			n := int(seed>>28) - 8
			c := color.NRGBA{
				clamp8(x*255/w + n),
				clamp8(y*255/h + n),
				clamp8((x+y)*128/(w+h) + 64 + n),
				255,
			}
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = c.R, c.G, c.B, c.A
		}
	}
	return img
}

func clamp8(v int) uint8 { return uint8(min(max(v, 0), 255)) }

func benchOptions(b *testing.B, width int) Options {
	b.Helper()
	opt, err := ParseOptions(map[string][]string{
		OptWidth: {strconv.Itoa(width)}, OptFormat: {"jpeg"}, OptQuality: {"85"},
	}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return opt
}

// BenchmarkPipeline runs Pipeline.Process on each input. Besides ms/op and
// the allocations it reports cost-MB (Plan.Cost, the admission estimate) and
// peak-MB (the live heap a single job reached, sampled, plus its source,
// which Plan.Cost counts too).
func BenchmarkPipeline(b *testing.B) {
	p := NewPipeline(Limits{}, inline{}, nil)
	for _, in := range benchInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			opt := benchOptions(b, in.width)
			pl, err := p.Plan(in.src, opt)
			if err != nil {
				b.Fatal(err)
			}
			run := func() {
				if _, err := p.Process(context.Background(), in.src, opt); err != nil {
					b.Fatal(err)
				}
			}
			peak := peakHeap(run) + int64(len(in.src))
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				run()
			}
			reportMS(b, cpu0)
			b.ReportMetric(float64(pl.Cost)/(1<<20), "cost-MB")
			b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
		})
	}
}

// BenchmarkStock is BenchmarkPipeline's twin for the stock pipeline.
func BenchmarkStock(b *testing.B) {
	for _, in := range benchInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			peak := peakHeap(func() { stockProcess(b, in.src, in.width) })
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				stockProcess(b, in.src, in.width)
			}
			reportMS(b, cpu0)
			b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
		})
	}
}

// stockProcess is the pipeline the targets are measured against.
func stockProcess(b *testing.B, src []byte, width int) []byte {
	img, _, err := image.Decode(bytes.NewReader(src))
	if err != nil {
		b.Fatal(err)
	}
	img = imgops.Resize(img, width, 0, imgops.Lanczos)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// reportMS reports wall-clock ms/op; cpu-ms/op (the process's CPU time
// over the loop, GC included) is the steadier figure on a shared machine.
func reportMS(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
	if cpu0 > 0 {
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakHeap runs fn once with the collector running almost continuously and
// returns the most heap in use above what was live before, sampled every
// 50µs: an estimate of the job's peak live memory.
func peakHeap(fn func()) int64 {
	const name = "/memory/classes/heap/objects:bytes"
	s := []metrics.Sample{{Name: name}}
	read := func() int64 {
		metrics.Read(s)
		return int64(s[0].Value.Uint64())
	}
	runtime.GC()
	old := debug.SetGCPercent(1)
	defer debug.SetGCPercent(old)
	base := read()
	var peak atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(50 * time.Microsecond)
		defer t.Stop()
		for {
			if v := read() - base; v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(done)
	wg.Wait()
	return peak.Load()
}

// BenchmarkResize compares ways to resize a decoded 1920×1280 image to 300
// px wide: imgops.Resize on the decoder's type and on an NRGBA copy with
// each filter, and resize (box shrink, then Lanczos) single-threaded.
func BenchmarkResize(b *testing.B) {
	src := encodeAs(b, newPhoto(1920, 1280), FormatJPEG)
	ycc, err := jpeg.Decode(bytes.NewReader(src))
	if err != nil {
		b.Fatal(err)
	}
	nrgba := imgops.Clone(ycc)
	filters := []struct {
		name string
		f    imgops.ResampleFilter
	}{{"lanczos", imgops.Lanczos}, {"catmullrom", imgops.CatmullRom}, {"linear", imgops.Linear}, {"box", imgops.Box}}
	for _, f := range filters {
		b.Run("imaging-ycbcr-"+f.name, func(b *testing.B) {
			for b.Loop() {
				imgops.Resize(ycc, 300, 0, f.f)
			}
			reportMS(b, 0)
		})
		b.Run("imaging-nrgba-"+f.name, func(b *testing.B) {
			for b.Loop() {
				imgops.Resize(nrgba, 300, 0, f.f)
			}
			reportMS(b, 0)
		})
	}
	for _, in := range []struct {
		name string
		img  image.Image
	}{{"ycbcr", ycc}, {"nrgba", nrgba}} {
		b.Run("box+lanczos-"+in.name, func(b *testing.B) {
			for b.Loop() {
				resize(in.img, 300, 200, 1)
			}
			reportMS(b, 0)
		})
	}
	b.Run("clone-ycbcr-to-nrgba", func(b *testing.B) {
		for b.Loop() {
			imgops.Clone(ycc)
		}
		reportMS(b, 0)
	})
}

// BenchmarkEncode compares the JPEG encoder with image/jpeg, which the
// service used before, on the image types image/jpeg encodes fast or not.
func BenchmarkEncode(b *testing.B) {
	img := newPhoto(1000, 667)
	types := []struct {
		name string
		img  image.Image
	}{
		{"nrgba", img},
		{"rgba-relabelled", jpegFriendly(img)},
	}
	for _, tt := range types {
		b.Run(tt.name, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := jpeg.Encode(&buf, tt.img, &jpeg.Options{Quality: 85}); err != nil {
					b.Fatal(err)
				}
			}
			reportMS(b, 0)
		})
	}
	b.Run("jpegenc-nrgba", func(b *testing.B) {
		enc := codecOf(FormatJPEG).Encoder
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := enc.Encode(&buf, img, Options{Quality: 85}); err != nil {
				b.Fatal(err)
			}
		}
		reportMS(b, 0)
	})
}

// jpegFriendly returns an image type image/jpeg has a fast path for, as
// the service did before it had its own encoder: an opaque NRGBA has the
// same bytes as an RGBA, so it is re-labelled, not copied.
func jpegFriendly(img image.Image) image.Image {
	if n, ok := img.(*image.NRGBA); ok && n.Opaque() {
		return &image.RGBA{Pix: n.Pix, Stride: n.Stride, Rect: n.Rect}
	}
	return img
}

// BenchmarkConcurrent runs every input through a Pool of GOMAXPROCS
// workers from 4 client goroutines, as bench.sh's c=4 run does over HTTP,
// and reports req/s: once with the box shrink split across GOMAXPROCS
// goroutines per job, once single-threaded per job (no oversubscription).
func BenchmarkConcurrent(b *testing.B) {
	ins := benchInputs(b)
	for _, procs := range []int{runtime.GOMAXPROCS(0), 1} {
		b.Run(fmt.Sprintf("box-procs-%d", procs), func(b *testing.B) {
			pool := NewPool(PoolConfig{QueueSize: 64, MemoryBudget: 1 << 30})
			defer pool.Close()
			p := NewPipeline(Limits{}, pool, nil)
			p.procs = procs
			var next atomic.Int64
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for {
						i := int(next.Add(1)) - 1
						if i >= b.N*len(ins) {
							return
						}
						in := ins[i%len(ins)]
						if _, err := p.Process(context.Background(), in.src, benchOptions(b, in.width)); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N*len(ins))/time.Since(start).Seconds(), "req/s")
		})
	}
}

// TestPipeline_50MPNoFullBuffer checks that a 50-megapixel JPEG made into a
// 300 px thumbnail never holds a full-resolution image: the peak live heap
// of the job stays far below even the 75 MB of its YCbCr planes.
func TestPipeline_50MPNoFullBuffer(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("encodes a 50 MP JPEG; skipped with -short and -race")
	}
	m := image.NewYCbCr(image.Rect(0, 0, 8660, 5774), image.YCbCrSubsampleRatio420)
	for i := range m.Y {
		m.Y[i] = uint8(i*7 + i/8660)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	m = nil
	src := buf.Bytes()
	p := NewPipeline(Limits{}, inline{}, nil)
	opt, err := ParseOptions(map[string][]string{OptWidth: {"300"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	peak := peakHeap(func() { res, err = p.Process(context.Background(), src, opt) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Width != 300 {
		t.Errorf("width = %d, want 300", res.Width)
	}
	const limit = 20 << 20 // a full NRGBA buffer would be 200 MB, the YCbCr planes 75 MB
	if peak > limit {
		t.Errorf("peak live heap %d MB, want under %d MB", peak>>20, limit>>20)
	}
	t.Logf("50 MP JPEG (%d MB) -> 300 px: peak live heap %.1f MB", len(src)>>20, float64(peak)/(1<<20))
}
