package heif

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The Debian packages the tests need; CI installs them so that nothing
// skips there.
const (
	pkgLib      = "libheif1"
	pkgHeifTool = "libheif-examples" // heif-enc, heif-convert
	pkgAvifTool = "libavif-bin"      // avifenc, avifdec
	pkgICC      = "icc-profiles-free"
	iccFile     = "/usr/share/color/icc/compatibleWithAdobeRGB1998.icc"
)

// testLib loads libheif or skips the test.
func testLib(t testing.TB) *Lib {
	t.Helper()
	l, err := Load()
	if err != nil {
		t.Skipf("libheif is not installed (apt-get install %s): %v", pkgLib, err)
	}
	return l
}

// needTool skips the test unless name is on PATH.
func needTool(t testing.TB, name, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not found (apt-get install %s)", name, pkg)
	}
}

// run runs a command, failing the test with its output if it fails.
func run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// pattern is a w×h test image: red grows to the right, green downwards,
// and blue differs per quadrant, so that any rotation or mirroring shows.
// With alpha, opacity falls from 255 at the top to 64 at the bottom.
func pattern(w, h int, alpha bool) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			b := uint8(40)
			if x >= w/2 {
				b += 60
			}
			if y >= h/2 {
				b += 120
			}
			a := uint8(255)
			if alpha {
				a = uint8(255 - 191*y/max(1, h-1))
			}
			img.SetNRGBA(x, y, color.NRGBA{uint8(255 * x / max(1, w-1)), uint8(255 * y / max(1, h-1)), b, a})
		}
	}
	return img
}

// flat is a w×h image of one colour.
func flat(w, h int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

// writePNG writes img to dir/name and returns the path. A non-nil icc goes
// into an iCCP chunk; deep writes 16 bits per channel.
func writePNG(t testing.TB, dir, name string, img *image.NRGBA, icc []byte, deep bool) string {
	t.Helper()
	var buf bytes.Buffer
	var src image.Image = img
	if deep {
		d := image.NewNRGBA64(img.Rect)
		for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
			for x := img.Rect.Min.X; x < img.Rect.Max.X; x++ {
				c := img.NRGBAAt(x, y)
				// Spread into the low bits so that the 10-bit path has
				// something to keep.
				d.SetNRGBA64(x, y, color.NRGBA64{uint16(c.R)<<8 | uint16(x&0xFF), uint16(c.G)<<8 | uint16(y&0xFF), uint16(c.B) << 8, uint16(c.A)<<8 | uint16(c.A)})
			}
		}
		src = d
	}
	if err := png.Encode(&buf, src); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if icc != nil {
		data = withICCP(data, icc)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// withICCP inserts an iCCP chunk after the IHDR chunk of a PNG.
func withICCP(pngData, icc []byte) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(icc)
	zw.Close()
	body := append([]byte("icc\x00\x00"), z.Bytes()...)
	var chunk bytes.Buffer
	binary.Write(&chunk, binary.BigEndian, uint32(len(body)))
	chunk.WriteString("iCCP")
	chunk.Write(body)
	crc := crc32.ChecksumIEEE(append([]byte("iCCP"), body...))
	binary.Write(&chunk, binary.BigEndian, crc)
	const ihdrEnd = 8 + 4 + 4 + 13 + 4
	out := append([]byte(nil), pngData[:ihdrEnd]...)
	out = append(out, chunk.Bytes()...)
	return append(out, pngData[ihdrEnd:]...)
}

// readPNG decodes a PNG file to NRGBA (8 bits).
func readPNG(t testing.TB, path string) *image.NRGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return toNRGBA(img)
}

func toNRGBA(img image.Image) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) {
		return n
	}
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.Set(x-b.Min.X, y-b.Min.Y, img.At(x, y))
		}
	}
	return out
}

// diff returns the mean absolute difference of the colour channels and of
// alpha, over the pixels whose alpha is over 32 in want (colours under
// near-transparent pixels are not kept by a lossy codec). The images must
// have the same size.
func diff(t testing.TB, got, want *image.NRGBA) (rgb, alpha float64) {
	t.Helper()
	if got.Rect.Size() != want.Rect.Size() {
		t.Fatalf("size %v, want %v", got.Rect.Size(), want.Rect.Size())
	}
	var sum, asum float64
	var n, an int
	w, h := want.Rect.Dx(), want.Rect.Dy()
	for y := range h {
		for x := range w {
			g, e := got.NRGBAAt(got.Rect.Min.X+x, got.Rect.Min.Y+y), want.NRGBAAt(want.Rect.Min.X+x, want.Rect.Min.Y+y)
			asum += math.Abs(float64(g.A) - float64(e.A))
			an++
			if e.A <= 32 {
				continue
			}
			sum += math.Abs(float64(g.R)-float64(e.R)) + math.Abs(float64(g.G)-float64(e.G)) + math.Abs(float64(g.B)-float64(e.B))
			n += 3
		}
	}
	return sum / float64(max(n, 1)), asum / float64(max(an, 1))
}

// psnr is the PSNR in dB of the colour channels of got against want.
func psnr(got, want *image.NRGBA) float64 {
	var se float64
	var n int
	for y := range want.Rect.Dy() {
		for x := range want.Rect.Dx() {
			g, e := got.NRGBAAt(x, y), want.NRGBAAt(x, y)
			for _, d := range []float64{float64(g.R) - float64(e.R), float64(g.G) - float64(e.G), float64(g.B) - float64(e.B)} {
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

// rotateCCW turns img 90 degrees anti-clockwise, as irot 1 does.
func rotateCCW(img *image.NRGBA) *image.NRGBA {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, h, w))
	for y := range h {
		for x := range w {
			out.SetNRGBA(y, w-1-x, img.NRGBAAt(x, y))
		}
	}
	return out
}

// mirror flips img top to bottom (imir 0) or left to right (imir 1), as
// libheif 1.15 and libavif 0.11 read the imir property.
func mirror(img *image.NRGBA, mode int) *image.NRGBA {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			if mode == 0 {
				out.SetNRGBA(x, h-1-y, img.NRGBAAt(x, y))
			} else {
				out.SetNRGBA(w-1-x, y, img.NRGBAAt(x, y))
			}
		}
	}
	return out
}

// crop returns the part r of img, moved to the origin.
func crop(img *image.NRGBA, r image.Rectangle) *image.NRGBA {
	return toNRGBA(img.SubImage(r))
}

// readFile reads a file or fails the test.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
