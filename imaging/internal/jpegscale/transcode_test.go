package jpegscale

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/imgsvc/imgsvc/imaging/internal/jpegenc"
)

// psnr compares two images' RGB samples, in dB (+Inf when identical).
func psnr(a, b image.Image) float64 {
	r := a.Bounds()
	var se float64
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x-r.Min.X+b.Bounds().Min.X, y-r.Min.Y+b.Bounds().Min.Y).RGBA()
			for _, d := range []float64{float64(r1>>8) - float64(r2>>8), float64(g1>>8) - float64(g2>>8), float64(b1>>8) - float64(b2>>8)} {
				se += d * d
			}
			n += 3
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(n)))
}

// srcDecode decodes a source with this package (image/jpeg does not read
// arithmetic coding).
func srcDecode(t *testing.T, name string, data []byte) image.Image {
	t.Helper()
	m, err := Decode(data, 1)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func stdDecode(t *testing.T, name string, data []byte) image.Image {
	t.Helper()
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: image/jpeg cannot decode: %v", name, err)
	}
	return m
}

type transcodeCase struct {
	name string
	data []byte
	// subsampled: the source is 4:2:0 or grey, as image/jpeg writes, so
	// its re-encode is a fair size comparison.
	subsampled bool
}

// transcodeCases are the layouts the transcode must handle: image/jpeg's
// 4:2:0 and grey at sizes that are and are not whole MCUs, and, with
// libjpeg-turbo's tools, 4:4:4, 4:2:2, progressive, restart intervals and
// arithmetic coding.
func transcodeCases(t *testing.T) []transcodeCase {
	var cases []transcodeCase
	for _, sz := range [][2]int{{1, 1}, {37, 23}, {64, 48}, {130, 67}} {
		m := genRGBA(sz[0], sz[1], 5)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 95}); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, transcodeCase{fmt.Sprintf("image/jpeg 4:2:0 %dx%d", sz[0], sz[1]), bytes.Clone(buf.Bytes()), true})
		g := image.NewGray(m.Bounds())
		for i := range g.Pix {
			g.Pix[i] = m.Pix[4*i+1]
		}
		buf.Reset()
		if err := jpeg.Encode(&buf, g, &jpeg.Options{Quality: 95}); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, transcodeCase{fmt.Sprintf("image/jpeg grey %dx%d", sz[0], sz[1]), buf.Bytes(), true})
	}
	if _, err := exec.LookPath("cjpeg"); err != nil {
		t.Logf("cjpeg not found (Debian package %s): only image/jpeg's layouts are transcoded", jpegToolsPkg)
		return cases
	}
	p := ppm(101, 75, 9)
	for _, o := range []struct {
		name string
		args []string
	}{
		{"4:4:4", []string{"-sample", "1x1"}},
		{"4:2:2", []string{"-sample", "2x1"}},
		{"4:4:0", []string{"-sample", "1x2"}},
		{"progressive 4:2:0", []string{"-progressive"}},
		{"progressive 4:4:4", []string{"-progressive", "-sample", "1x1"}},
		{"restart 4:2:0", []string{"-restart", "1B"}},
		{"progressive restart grey", []string{"-progressive", "-restart", "2B", "-grayscale"}},
		{"arithmetic 4:2:0", []string{"-arithmetic"}},
		{"arithmetic progressive 4:2:2", []string{"-arithmetic", "-progressive", "-sample", "2x1"}},
	} {
		args := append([]string{"-quality", "95"}, o.args...)
		cases = append(cases, transcodeCase{"cjpeg " + o.name + " 101x75", runTool(t, p, "cjpeg", args...), false})
	}
	return cases
}

// TestTranscode checks that the transcoded file decodes (image/jpeg, this
// package and djpeg) to pixels about as close to the source's as a pixel
// decode and re-encode at the same quality gets, and is not larger than
// image/jpeg's re-encode where the layouts match.
func TestTranscode(t *testing.T) {
	_, djpegErr := exec.LookPath("djpeg")
	for _, c := range transcodeCases(t) {
		var out bytes.Buffer
		if err := Transcode(&out, c.data, TranscodeOptions{Quality: 85}); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		src := srcDecode(t, c.name, c.data)
		got := stdDecode(t, c.name+" transcoded", out.Bytes())
		if got.Bounds() != src.Bounds() {
			t.Fatalf("%s: transcoded to %v, source is %v", c.name, got.Bounds(), src.Bounds())
		}
		if _, err := Decode(out.Bytes(), 1); err != nil {
			t.Errorf("%s: jpegscale cannot decode the transcoded file: %v", c.name, err)
		}
		if djpegErr == nil {
			cmd := exec.Command("djpeg", "-pnm")
			cmd.Stdin = bytes.NewReader(out.Bytes())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil || stderr.Len() > 0 {
				t.Errorf("%s: djpeg: %v %s", c.name, err, stderr.String())
			}
		}
		var ref bytes.Buffer
		if err := jpeg.Encode(&ref, src, &jpeg.Options{Quality: 85}); err != nil {
			t.Fatal(err)
		}
		pOurs, pRef := psnr(src, got), psnr(src, stdDecode(t, c.name+" re-encoded", ref.Bytes()))
		t.Logf("%-38s %6d bytes, PSNR %5.2f dB; decode+encode %6d bytes, %5.2f dB", c.name, out.Len(), pOurs, ref.Len(), pRef)
		if pOurs < pRef-1 {
			t.Errorf("%s: PSNR %.2f dB against the source, decode+encode gets %.2f", c.name, pOurs, pRef)
		}
		if c.subsampled && out.Len() > ref.Len()+ref.Len()/20 {
			t.Errorf("%s: %d bytes, image/jpeg's re-encode is %d", c.name, out.Len(), ref.Len())
		}
	}
	if djpegErr != nil {
		t.Logf("djpeg not found (Debian package %s): only image/jpeg and jpegscale decoded the output", jpegToolsPkg)
	}
}

// TestTranscodeSameQuality checks that transcoding at the source's own
// quality (or a finer one) is lossless: the same coefficients, in the same
// tables, so the same pixels.
func TestTranscodeSameQuality(t *testing.T) {
	for _, c := range transcodeCases(t) {
		for _, q := range []int{95, 98} {
			var out bytes.Buffer
			if err := Transcode(&out, c.data, TranscodeOptions{Quality: q}); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			a, err := Coefficients(c.data, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Coefficients(out.Bytes(), nil)
			if err != nil {
				t.Fatalf("%s: the output: %v", c.name, err)
			}
			for i := range a.Components {
				ca, cb := a.Components[i], b.Components[i]
				if ca.Quant != cb.Quant {
					t.Errorf("%s q%d component %d: table %v, source %v", c.name, q, i, cb.Quant, ca.Quant)
				}
				if !equalInt16(ca.Coeffs, cb.Coeffs) {
					t.Errorf("%s q%d component %d: coefficients changed", c.name, q, i)
				}
			}
			if p := psnr(srcDecode(t, c.name, c.data), srcDecode(t, c.name+" transcoded", out.Bytes())); !math.IsInf(p, 1) {
				t.Errorf("%s q%d: the pixels changed (PSNR %.2f dB)", c.name, q, p)
			}
		}
	}
}

// TestTranscodeSegments checks that the segments asked for are carried.
func TestTranscodeSegments(t *testing.T) {
	data := fixture(t, "seq-2x2-37x23.jpg")
	exif := append([]byte{0xFF, 0xE1, 0, 14}, "Exif\x00\x00II*\x00\x08\x00"...)
	var out bytes.Buffer
	if err := Transcode(&out, data, TranscodeOptions{Quality: 80, Segments: [][]byte{exif}}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out.Bytes()[:64], exif) {
		t.Errorf("the Exif segment is not in the output's header: % x", out.Bytes()[:64])
	}
}

// FuzzTranscode transcodes arbitrary data: it must never panic, and what it
// writes must decode.
func FuzzTranscode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.jpg")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 8<<10 {
			f.Add(b, 85, 1)
			f.Add(b, 50, 6)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, q, o int) {
		if h := Probe(data); h.Err != nil || h.Width*h.Height > 1<<20 {
			return
		}
		var out bytes.Buffer
		if err := Transcode(&out, data, TranscodeOptions{Quality: q, Orientation: o}); err != nil {
			return
		}
		if _, err := Decode(out.Bytes(), 1); err != nil {
			t.Fatalf("the transcoded file does not decode: %v", err)
		}
		if _, err := jpeg.Decode(bytes.NewReader(out.Bytes())); err != nil {
			t.Fatalf("image/jpeg cannot decode the transcoded file: %v", err)
		}
	})
}

// orientImage turns img upright for EXIF orientation o, pixel by pixel.
func orientImage(img image.Image, o int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 1:
				dx, dy = x, y
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			out.Set(dx, dy, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out
}

// TestTranscodeOrient checks the lossless orientations against turning the
// source's pixels: the same image but for the IDCT's rounding, at the
// source's quality (no requantisation) and at a lower one (the tables are
// the quality's whichever way the image turned).
func TestTranscodeOrient(t *testing.T) {
	type src struct {
		name string
		data []byte
	}
	m := genRGBA(64, 48, 11)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	srcs := []src{{"image/jpeg 4:2:0 64x48", bytes.Clone(buf.Bytes())}}
	g := image.NewGray(image.Rect(0, 0, 40, 24))
	for i := range g.Pix {
		g.Pix[i] = m.Pix[4*i]
	}
	buf.Reset()
	if err := jpeg.Encode(&buf, g, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	srcs = append(srcs, src{"image/jpeg grey 40x24", buf.Bytes()})
	if _, err := exec.LookPath("cjpeg"); err == nil {
		srcs = append(srcs, src{"cjpeg 4:2:2 progressive 48x32", runTool(t, ppm(48, 32, 4), "cjpeg", "-quality", "90", "-sample", "2x1", "-progressive")})
	}
	for _, s := range srcs {
		h := Probe(s.data)
		ref := srcDecode(t, s.name, s.data)
		upright := map[int]float64{}
		for o := 1; o <= 8; o++ {
			if !h.Orientable(o) {
				t.Fatalf("%s: orientation %d: not orientable", s.name, o)
			}
			for _, q := range []int{90, 60} {
				var out bytes.Buffer
				if err := Transcode(&out, s.data, TranscodeOptions{Quality: q, Orientation: o}); err != nil {
					t.Fatalf("%s orientation %d: %v", s.name, o, err)
				}
				got := stdDecode(t, s.name, out.Bytes())
				want := orientImage(ref, o)
				if got.Bounds() != want.Bounds() {
					t.Fatalf("%s orientation %d: %v, want %v", s.name, o, got.Bounds(), want.Bounds())
				}
				p := psnr(want, got)
				if o == 1 {
					upright[q] = p
				}
				// At the source's quality a mirror differs only by
				// the IDCT's rounding, a transpose also by the
				// requantisation to the quality's (asymmetric) tables;
				// at a lower quality the loss is the upright image's,
				// give or take the transposed tables.
				if q == 90 && p < 40 || q == 60 && p < upright[q]-1 {
					t.Errorf("%s orientation %d q%d: PSNR %.1f dB against the turned source (upright: %.1f)", s.name, o, q, p, upright[q])
				}
				if o == 6 && q == 60 {
					if tabs := dqtTables(t, out.Bytes()); tabs[0] != jpegenc.QuantTable(60, false) {
						t.Errorf("%s: the luma table is not quality 60's: %v", s.name, tabs[0])
					}
				}
			}
		}
	}
	// 37×23 is not whole MCUs: mirrors are refused, a transpose is not.
	data := fixture(t, "seq-2x2-37x23.jpg")
	for o, ok := range map[int]bool{1: true, 2: false, 4: false, 5: true, 6: false} {
		if got := Probe(data).Orientable(o); got != ok {
			t.Errorf("37x23 orientation %d: Orientable %v, want %v", o, got, ok)
		}
		var out bytes.Buffer
		if err := Transcode(&out, data, TranscodeOptions{Quality: 80, Orientation: o}); (err == nil) != ok {
			t.Errorf("37x23 orientation %d: Transcode error %v", o, err)
		}
	}
}
