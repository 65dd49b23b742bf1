package jpegscale

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Tolerances asserted against image/jpeg.
//
// At 1/1 every sample of every plane (Y, Cb, Cr at their own resolution, or
// Gray, or the four CMYK channels) must be within exact1 of image/jpeg's.
//
// At 1/2, 1/4 and 1/8 each plane is compared with a box-filtered downsample
// of image/jpeg's full-size plane (including its MCU padding, so edge blocks
// average the same samples). At 1/8 the result is the block mean, so the
// difference is only rounding and clamping: max ≤ dcMax, mean < dcMean.
// At 1/2 and 1/4 the DCT-domain reduction drops the frequencies that a box
// filter would alias back (and does not clamp intermediate values), so
// detailed content differs more: max ≤ redMax, mean < redMean. For
// band-limited content (TestSmooth) all scales must be within smoothMax,
// mean < smoothMean. Means are asserted only for planes with at least
// minSamples output samples (tiny planes are dominated by single edges or
// rounding of a single value).
const (
	exact1     = 1
	dcMax      = 4
	dcMean     = 0.5
	redMax     = 64
	redMean    = 3.0
	minSamples = 256
	smoothMax  = 2
	smoothMean = 0.5
	ycckSlack  = 2
)

// plane is one channel of an image, at its own resolution.
type plane struct {
	name   string
	w, h   int
	pw, ph int // extent of readable samples, including MCU padding
	at     func(x, y int) int
	// sub is the subsampling factor of a channel that was decoded at
	// lower resolution and upsampled by pixel replication (CMYK only).
	sub int
}

func chromaSize(w, h int, r image.YCbCrSubsampleRatio) (int, int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return (w + 1) / 2, h
	case image.YCbCrSubsampleRatio420:
		return (w + 1) / 2, (h + 1) / 2
	case image.YCbCrSubsampleRatio440:
		return w, (h + 1) / 2
	case image.YCbCrSubsampleRatio411:
		return (w + 3) / 4, h
	case image.YCbCrSubsampleRatio410:
		return (w + 3) / 4, (h + 1) / 2
	}
	return w, h
}

func planes(t testing.TB, m image.Image) []plane {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	// Both decoders return sub-images of MCU-padded buffers; the padding
	// is read (raw offsets) so that box averages of edge blocks cover the
	// same samples as the DCT-domain reduction.
	switch m := m.(type) {
	case *image.Gray:
		o := m.PixOffset(b.Min.X, b.Min.Y)
		return []plane{{"gray", w, h, m.Stride, (len(m.Pix) - o) / m.Stride,
			func(x, y int) int { return int(m.Pix[o+y*m.Stride+x]) }, 1}}
	case *image.YCbCr:
		cw, ch := chromaSize(w, h, m.SubsampleRatio)
		y0 := m.YOffset(b.Min.X, b.Min.Y)
		c0 := m.COffset(b.Min.X, b.Min.Y)
		cph := (len(m.Cb) - c0) / m.CStride
		return []plane{
			{"Y", w, h, m.YStride, (len(m.Y) - y0) / m.YStride, func(x, y int) int { return int(m.Y[y0+y*m.YStride+x]) }, 1},
			{"Cb", cw, ch, m.CStride, cph, func(x, y int) int { return int(m.Cb[c0+y*m.CStride+x]) }, 1},
			{"Cr", cw, ch, m.CStride, cph, func(x, y int) int { return int(m.Cr[c0+y*m.CStride+x]) }, 1},
		}
	case *image.CMYK:
		var ps []plane
		for i, n := range []string{"C", "M", "Y", "K"} {
			ps = append(ps, plane{n, w, h, w, h, func(x, y int) int { return int(m.Pix[m.PixOffset(b.Min.X+x, b.Min.Y+y)+i]) }, 1})
		}
		return ps
	}
	t.Fatalf("unexpected image type %T", m)
	return nil
}

type stats struct {
	max   int
	mean  float64
	exact float64 // fraction of identical samples
}

// compare compares plane got (at 1/denom scale) with ref (full size),
// box-averaging ref over denom×denom windows clipped to its readable extent.
//
// For a replicated channel (sub > 1), output pixel x shows the scaled chroma
// sample x/sub, which covers full-size pixels [x/sub·sub·denom, +sub·denom).
func compare(got, ref plane, denom int) stats {
	var sum, same, n int
	var st stats
	sub := max(got.sub, 1)
	if denom == 1 {
		sub = 1
	}
	st.mean = math.NaN()
	for y := 0; y < got.h; y++ {
		for x := 0; x < got.w; x++ {
			var acc, cnt int
			x0, y0 := x/sub*sub*denom, y/sub*sub*denom
			if denom > 1 && (x0+sub*denom > ref.pw || y0+sub*denom > ref.ph) {
				// The window reaches into MCU padding that ref does
				// not expose (image.CMYK); skip it.
				continue
			}
			for yy := y0; yy < min(y0+sub*denom, ref.ph); yy++ {
				for xx := x0; xx < min(x0+sub*denom, ref.pw); xx++ {
					acc += ref.at(xx, yy)
					cnt++
				}
			}
			want := (acc + cnt/2) / cnt
			d := got.at(x, y) - want
			if d < 0 {
				d = -d
			}
			if d == 0 {
				same++
			}
			sum += d
			n++
			st.max = max(st.max, d)
		}
	}
	if n > 0 {
		st.mean = float64(sum) / float64(n)
		st.exact = float64(same) / float64(n)
	}
	return st
}

// checkAgainstStd decodes data at every scale and compares the result with
// image/jpeg's decode, asserting the tolerances above.
func checkAgainstStd(t *testing.T, name string, data []byte) {
	t.Helper()
	checkStd(t, name, data, false)
}

// checkStd is checkAgainstStd; smooth selects the tight tolerances for
// band-limited content.
func checkStd(t *testing.T, name string, data []byte, smooth bool) {
	t.Helper()
	ref, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: image/jpeg: %v", name, err)
	}
	rb := ref.Bounds()
	for _, denom := range []int{1, 2, 4, 8} {
		m, err := Decode(data, denom)
		if err != nil {
			t.Errorf("%s 1/%d: %v", name, denom, err)
			continue
		}
		want := image.Rect(0, 0, (rb.Dx()+denom-1)/denom, (rb.Dy()+denom-1)/denom)
		if m.Bounds() != want {
			t.Errorf("%s 1/%d: bounds %v, want %v", name, denom, m.Bounds(), want)
			continue
		}
		if fmt.Sprintf("%T", m) != fmt.Sprintf("%T", ref) {
			t.Errorf("%s 1/%d: type %T, image/jpeg gives %T", name, denom, m, ref)
			continue
		}
		if a, ok := m.(*image.YCbCr); ok && a.SubsampleRatio != ref.(*image.YCbCr).SubsampleRatio {
			t.Errorf("%s 1/%d: ratio %v, want %v", name, denom, a.SubsampleRatio, ref.(*image.YCbCr).SubsampleRatio)
			continue
		}
		gp, rp := planes(t, m), planes(t, ref)
		if _, ok := m.(*image.CMYK); ok && sofSampling(data) == 0x22 {
			// Channels 1 and 2 are upsampled from half resolution.
			gp[1].sub, gp[2].sub = 2, 2
			if isYCCK(data) && denom > 1 {
				// C, M and Y mix full and half resolution data; the
				// same planes are checked through the CMYK twin file.
				gp, rp = gp[3:], rp[3:]
			}
		}
		for i := range gp {
			st := compare(gp[i], rp[i], denom)
			var okMax int
			okMean := math.Inf(1)
			switch {
			case smooth:
				okMax, okMean = smoothMax, smoothMean
			case denom == 1:
				okMax = exact1
			case denom == 8:
				okMax, okMean = dcMax, dcMean
			default:
				okMax, okMean = redMax, redMean
			}
			if _, ok := m.(*image.CMYK); ok && isYCCK(data) {
				okMax += ycckSlack
			}
			if gp[i].w*gp[i].h < minSamples {
				okMean = math.Inf(1)
			}
			if st.max > okMax || st.mean >= okMean {
				t.Errorf("%s 1/%d %s: mean %.3f max %d; want mean < %.1f, max <= %d",
					name, denom, gp[i].name, st.mean, st.max, okMean, okMax)
			}
			if testing.Verbose() {
				t.Logf("%s 1/%d %-4s mean %.4f max %2d exact %.4f", name, denom, gp[i].name, st.mean, st.max, st.exact)
			}
		}
	}
}

// genRGBA draws a photo-like test image: smooth gradients, mild noise, a
// gentle texture and a few hard-edged shapes.
func genRGBA(w, h int, seed uint64) *image.RGBA {
	r := rand.New(rand.NewPCG(seed, 1))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)/float64(max(w, 1)), float64(y)/float64(max(h, 1))
			rr := 40 + 180*fx
			gg := 200 - 150*fy
			bb := 128 + 40*math.Sin(float64(x+2*y)/11)
			if dx, dy := x-w/3, y-h/3; dx*dx+dy*dy < (w*w+h*h)/36 { // disc
				rr, gg = 250, 30
			}
			if x > w/2 && y > h/2 { // dark rectangle
				bb, gg = 10, gg/3
			}
			n := r.Float64()*12 - 6
			m.SetRGBA(x, y, color.RGBA{clampF(rr + n), clampF(gg - n), clampF(bb + n/2), 255})
		}
	}
	return m
}

func clampF(v float64) uint8 {
	return uint8(math.Max(0, math.Min(255, math.Round(v))))
}

var genSizes = [][2]int{{1, 1}, {8, 8}, {17, 9}, {37, 23}, {16, 16}, {64, 48}, {3, 50}, {129, 67}}

func TestGeneratedBaseline(t *testing.T) {
	for i, sz := range genSizes {
		img := genRGBA(sz[0], sz[1], uint64(i))
		for _, q := range []int{30, 75, 95, 100} {
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
				t.Fatal(err)
			}
			checkAgainstStd(t, fmt.Sprintf("rgb%dx%d-q%d", sz[0], sz[1], q), buf.Bytes())

			gray := image.NewGray(img.Bounds())
			for j := range gray.Pix {
				gray.Pix[j] = img.Pix[4*j+1]
			}
			buf.Reset()
			if err := jpeg.Encode(&buf, gray, &jpeg.Options{Quality: q}); err != nil {
				t.Fatal(err)
			}
			checkAgainstStd(t, fmt.Sprintf("gray%dx%d-q%d", sz[0], sz[1], q), buf.Bytes())
		}
	}
}

// TestSmooth checks the reduced transforms on band-limited images, where the
// DCT-domain reduction and a box filter agree up to rounding.
func TestSmooth(t *testing.T) {
	for i, sz := range genSizes {
		w, h := sz[0], sz[1]
		rgb := image.NewRGBA(image.Rect(0, 0, w, h))
		gray := image.NewGray(rgb.Rect)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := 128 + 60*math.Sin(float64(x)/9+float64(i))*math.Cos(float64(y)/7)
				rgb.SetRGBA(x, y, color.RGBA{clampF(v), clampF(255 - v), clampF(v/2 + float64(x)), 255})
				gray.Pix[y*gray.Stride+x] = clampF(v)
			}
		}
		for _, m := range []image.Image{rgb, gray} {
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 100}); err != nil {
				t.Fatal(err)
			}
			checkStd(t, fmt.Sprintf("smooth-%T-%dx%d", m, w, h), buf.Bytes(), true)
		}
	}
}

// TestFixtures compares every committed fixture (see testdata/gen.sh) with
// image/jpeg.
func TestFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.jpg")
	if len(files) == 0 {
		t.Skip("no fixtures")
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		if strings.HasPrefix(name, "unsupported-") {
			if _, err := Decode(data, 1); !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s: got %v, want ErrUnsupported", name, err)
			}
			continue
		}
		t.Run(name, func(t *testing.T) {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				// image/jpeg miscounts restart intervals in non-interleaved
				// scans of subsampled components; such files are checked
				// by TestTranscodes instead.
				if !strings.Contains(name, ".jt-") {
					t.Fatalf("image/jpeg: %v", err)
				}
				t.Logf("image/jpeg cannot decode %s (%v); see TestTranscodes", name, err)
				return
			}
			checkAgainstStd(t, name, data)
		})
	}
}

// isYCCK reports whether data has an Adobe segment with a non-zero transform.
func isYCCK(data []byte) bool {
	i := bytes.Index(data, []byte("Adobe"))
	return i >= 0 && i+11 < len(data) && data[i+11] != 0
}

// sofSampling returns the sampling factors byte of the first component.
func sofSampling(data []byte) byte {
	for i := 2; i+11 < len(data); i++ {
		if data[i] == 0xFF && data[i+1] >= 0xC0 && data[i+1] <= 0xC2 {
			return data[i+11]
		}
	}
	return 0
}

// TestTranscodes checks that NAME.jt-*.jpg, a lossless jpegtran transcode
// (progressive, restart intervals, scan scripts) of NAME.jpg, decodes exactly
// like NAME.jpg at every scale.
func TestTranscodes(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.jt-*.jpg")
	if len(files) == 0 {
		t.Skip("no fixtures")
	}
	for _, f := range files {
		src := f[:strings.Index(f, ".jt-")] + ".jpg"
		a, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, denom := range []int{1, 2, 4, 8} {
			ma, err := Decode(a, denom)
			if err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			mb, err := Decode(b, denom)
			if err != nil {
				t.Errorf("%s 1/%d: %v", f, denom, err)
				continue
			}
			pa, pb := planes(t, ma), planes(t, mb)
			for i := range pa {
				if st := compare(pb[i], pa[i], 1); st.max != 0 {
					t.Errorf("%s 1/%d %s: differs from %s (max %d)", f, denom, pa[i].name, src, st.max)
				}
			}
		}
	}
}

// corpusDir returns the directory of large sample photos, or "".
func corpusDir() string {
	dir := os.Getenv("IMGSVC_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "..", "shared", "corpus")
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return ""
	}
	return dir
}

func corpusFiles(tb testing.TB) []string {
	// CI must compare against the corpus: there a missing corpus fails.
	skip := tb.Skip
	if os.Getenv("CI") != "" {
		skip = tb.Fatal
	}
	dir := corpusDir()
	if dir == "" {
		skip("corpus not found: set IMGSVC_CORPUS or provide ../shared/corpus next to the repository")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if len(files) == 0 {
		skip("corpus has no .jpg files")
	}
	sort.Strings(files)
	return files
}

func TestCorpus(t *testing.T) {
	files := corpusFiles(t)
	if testing.Short() || raceEnabled {
		t.Skip("the corpus comparison is slow under -short and -race; scripts/check.sh runs it in a plain go test")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) { checkAgainstStd(t, name, data) })
	}
}
