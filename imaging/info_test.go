package imaging

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"reflect"
	"testing"
)

func TestInspect(t *testing.T) {
	img := newGradient(40, 30)
	jpg := encodeAs(t, img, FormatJPEG)
	tests := []struct {
		name string
		b    []byte
		want Info
	}{
		{"jpeg", jpg, Info{Format: FormatJPEG, Width: 40, Height: 30, Orientation: 1, DisplayWidth: 40, DisplayHeight: 30, Frames: 1}},
		{"jpeg exif 6", withEXIFOrientation(jpg, 6), Info{Format: FormatJPEG, Width: 40, Height: 30, Orientation: 6, DisplayWidth: 30, DisplayHeight: 40, Frames: 1}},
		{"jpeg exif 3", withEXIFOrientation(jpg, 3), Info{Format: FormatJPEG, Width: 40, Height: 30, Orientation: 3, DisplayWidth: 40, DisplayHeight: 30, Frames: 1}},
		{"jpeg exif out of range", withEXIFOrientation(jpg, 9), Info{Format: FormatJPEG, Width: 40, Height: 30, Orientation: 1, DisplayWidth: 40, DisplayHeight: 30, Frames: 1}},
		{"png", encodeAs(t, img, FormatPNG), Info{Format: FormatPNG, Width: 40, Height: 30, Orientation: 1, DisplayWidth: 40, DisplayHeight: 30, Frames: 1}},
		{"gif animated", animatedGIF(t, 3), Info{Format: FormatGIF, Width: 4, Height: 4, Orientation: 1, DisplayWidth: 4, DisplayHeight: 4, Frames: 3, Animated: true}},
		{"bmp", encodeAs(t, img, FormatBMP), Info{Format: FormatBMP, Width: 40, Height: 30, Orientation: 1, DisplayWidth: 40, DisplayHeight: 30, Frames: 1}},
		{"tiff", encodeAs(t, img, FormatTIFF), Info{Format: FormatTIFF, Width: 40, Height: 30, Orientation: 1, DisplayWidth: 40, DisplayHeight: 30, Frames: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Inspect(tt.b)
			if err != nil {
				t.Fatalf("Inspect returned %v", err)
			}
			tt.want.ContentType = tt.want.Format.MediaType()
			tt.want.Bytes = len(tt.b)
			got.hdr = header{} // the decode's cost facts: TestPlan_costBoundsPeakHeap checks them
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Inspect = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestInspect_errors(t *testing.T) {
	jpg := encodeAs(t, newGradient(40, 30), FormatJPEG)
	png := encodeAs(t, newGradient(40, 30), FormatPNG)
	tests := []struct {
		name string
		b    []byte
		want Code
	}{
		{"html", []byte("<html><body>nope</body></html>"), CodeUnsupportedImageFormat},
		{"truncated jpeg header", jpg[:20], CodeTruncatedImage},
		{"truncated png header", png[:20], CodeTruncatedImage},
		{"png with zero width", zeroWidthPNG(png), CodeCorruptImage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Inspect(tt.b)
			var e *Error
			if !errors.As(err, &e) || e.Code != tt.want {
				t.Fatalf("Inspect error = %v, want code %s", err, tt.want)
			}
			if e.Hint == "" {
				t.Error("no hint")
			}
		})
	}
}

func animatedGIF(t testing.TB, frames int) []byte {
	t.Helper()
	g := &gif.GIF{}
	for i := 0; i < frames; i++ {
		p := image.NewPaletted(image.Rect(0, 0, 4, 4), palette.Plan9)
		p.Set(i%4, 0, color.White)
		g.Image = append(g.Image, p)
		g.Delay = append(g.Delay, 10)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// zeroWidthPNG rewrites the IHDR width to 0 (the CRC is left stale, which
// DecodeConfig reports too; either way the header is not an image).
func zeroWidthPNG(p []byte) []byte {
	b := bytes.Clone(p)
	copy(b[16:20], []byte{0, 0, 0, 0})
	return b
}
