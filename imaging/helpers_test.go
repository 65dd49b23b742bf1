package imaging

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// newGradient returns a w×h image whose colour varies with position, so
// that flips, rotations and crops are visible in the pixels.
func newGradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / max(w-1, 1)), uint8(y * 255 / max(h-1, 1)), 128, 255})
		}
	}
	return img
}

// newQuadrants returns a w×h image with four solid quadrants: red top-left,
// green top-right, blue bottom-left, white bottom-right.
func newQuadrants(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var c color.NRGBA
			switch {
			case x < w/2 && y < h/2:
				c = color.NRGBA{255, 0, 0, 255}
			case y < h/2:
				c = color.NRGBA{0, 255, 0, 255}
			case x < w/2:
				c = color.NRGBA{0, 0, 255, 255}
			default:
				c = color.NRGBA{255, 255, 255, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func encodeAs(t testing.TB, img image.Image, f Format) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch f {
	case FormatJPEG:
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 95})
	case FormatPNG:
		err = png.Encode(&b, img)
	case FormatGIF:
		err = gif.Encode(&b, img, nil)
	case FormatBMP:
		err = bmp.Encode(&b, img)
	case FormatTIFF:
		err = tiff.Encode(&b, img, nil)
	default:
		t.Fatalf("no test encoder for %s", f)
	}
	if err != nil {
		t.Fatalf("encode %s: %v", f, err)
	}
	return b.Bytes()
}

// withEXIFOrientation inserts an Exif APP1 segment with the given
// orientation right after a JPEG's SOI marker.
func withEXIFOrientation(jpg []byte, o uint16) []byte {
	var t bytes.Buffer
	t.WriteString("MM\x00*")
	binary.Write(&t, binary.BigEndian, uint32(8)) // IFD0 offset
	binary.Write(&t, binary.BigEndian, uint16(1)) // one entry
	binary.Write(&t, binary.BigEndian, uint16(0x0112))
	binary.Write(&t, binary.BigEndian, uint16(3)) // SHORT
	binary.Write(&t, binary.BigEndian, uint32(1))
	binary.Write(&t, binary.BigEndian, o)
	binary.Write(&t, binary.BigEndian, uint16(0))
	binary.Write(&t, binary.BigEndian, uint32(0)) // no next IFD
	payload := append([]byte("Exif\x00\x00"), t.Bytes()...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// inline runs jobs on the caller's goroutine: a Runner for tests that are
// about the pipeline, not the pool.
type inline struct{}

func (inline) Do(ctx context.Context, _ int64, job func(context.Context)) error {
	job(ctx)
	return nil
}

func decodeResult(t testing.TB, r Result) image.Image {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(r.Data))
	if err != nil {
		t.Fatalf("decode result (%s): %v", r.Format, err)
	}
	return img
}

func nrgbaAt(img image.Image, x, y int) color.NRGBA {
	return color.NRGBAModel.Convert(img.At(img.Bounds().Min.X+x, img.Bounds().Min.Y+y)).(color.NRGBA)
}

// near reports whether two colours differ by at most tol per channel.
func near(a, b color.NRGBA, tol int) bool {
	d := func(x, y uint8) bool { return abs(int(x)-int(y)) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
