package imaging

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/imgsvc/imgsvc/imaging/internal/jpegscale"
)

// TestCorrupt_classifiesFeatures checks the one place decoder errors are
// classified: the libraries' "unsupported" errors for valid files become
// unsupported_image_feature naming the feature; damage stays corrupt_image.
func TestCorrupt_classifiesFeatures(t *testing.T) {
	for _, tt := range []struct {
		f      Format
		err    error
		code   Code
		detail string
	}{
		{FormatJPEG, jpeg.UnsupportedError("precision"), CodeUnsupportedImageFeature, "the JPEG uses 12-bit samples, which imgsvc does not decode"},
		{FormatJPEG, jpeg.UnsupportedError("unknown marker"), CodeUnsupportedImageFeature, "lossless or hierarchical coding"},
		{FormatJPEG, jpeg.UnsupportedError("luma/chroma subsampling ratio"), CodeUnsupportedImageFeature, "chroma subsampling"},
		{FormatJPEG, jpeg.UnsupportedError("excessive DC component"), CodeCorruptImage, "is corrupt ("},
		{FormatJPEG, jpeg.FormatError("missing SOI marker"), CodeCorruptImage, "is corrupt ("},
		{FormatJPEG, fmt.Errorf("%w: 12-bit precision", jpegscale.ErrUnsupported), CodeUnsupportedImageFeature, "the JPEG uses 12-bit samples"},
		{FormatJPEG, fmt.Errorf("%w: arithmetic coding", jpegscale.ErrUnsupported), CodeUnsupportedImageFeature, "the JPEG uses arithmetic coding"},
		{FormatPNG, png.UnsupportedError("bit depth 3, color type 2"), CodeUnsupportedImageFeature, "the PNG uses bit depth 3, colour type 2"},
		{FormatPNG, png.UnsupportedError("IDAT chunk length overflow"), CodeCorruptImage, "is corrupt ("},
		{FormatTIFF, tiff.UnsupportedError("compression value 4"), CodeUnsupportedImageFeature, "the TIFF uses compression 4 (CCITT Group 4 fax)"},
		{FormatTIFF, tiff.UnsupportedError("sample format"), CodeUnsupportedImageFeature, "floating-point"},
		{FormatTIFF, tiff.FormatError("not enough pixel data"), CodeCorruptImage, "is corrupt ("},
		{FormatBMP, bmp.ErrUnsupported, CodeUnsupportedImageFeature, "the BMP uses"},
		{FormatGIF, errors.New("gif: unknown extension 0x22"), CodeUnsupportedImageFeature, "extension block of label 0x22"},
		{FormatGIF, errors.New("gif: not enough image data"), CodeCorruptImage, "is corrupt ("},
		{FormatTIFF, &FeatureError{Feature: "the TIFF is 16-bit CIELab", Convert: "PNG"}, CodeUnsupportedImageFeature, "the TIFF is 16-bit CIELab, which imgsvc does not decode"},
	} {
		e := corrupt(tt.f, fmt.Errorf("wrapped: %w", tt.err))
		if e.Code != tt.code || !strings.Contains(e.Detail, tt.detail) {
			t.Errorf("corrupt(%s, %v) = %s %q, want %s containing %q", tt.f, tt.err, e.Code, e.Detail, tt.code, tt.detail)
		}
		if e.Code == CodeUnsupportedImageFeature && !strings.HasPrefix(e.Hint, "convert it to ") {
			t.Errorf("corrupt(%s, %v): hint %q does not say what to convert to", tt.f, tt.err, e.Hint)
		}
	}
}

// patchSOF rewrites the first SOF0 of a JPEG: its marker to m and its
// sample precision to prec. Debian's cjpeg (libjpeg-turbo 2.1) cannot write
// 12-bit files; the refusal happens from the header, so a patched header is
// what a 12-bit (SOF1), lossless (SOF3) or hierarchical (SOF5) file starts as.
func patchSOF(t *testing.T, jpg []byte, m, prec byte) []byte {
	t.Helper()
	out := bytes.Clone(jpg)
	for i := 2; i+4 < len(out); i += 2 + int(out[i+2])<<8 + int(out[i+3]) {
		if out[i+1] == 0xC0 {
			out[i+1], out[i+4] = m, prec
			return out
		}
	}
	t.Fatal("no SOF0")
	return nil
}

// TestInspect_unsupportedFeatureFromHeader: /v1/info answers from the header
// of a file whose pixels use a feature the decoders refuse, and the
// pipeline refuses it with unsupported_image_feature.
func TestInspect_unsupportedFeatureFromHeader(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 37, 23))
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, src, nil); err != nil {
		t.Fatal(err)
	}
	p := NewPipeline(Limits{}, inline{}, nil)
	for _, tt := range []struct {
		name    string
		b       []byte
		feature string
	}{
		{"jpeg 12-bit", patchSOF(t, jb.Bytes(), 0xC1, 12), "12-bit samples"},
		{"jpeg lossless", patchSOF(t, jb.Bytes(), 0xC3, 8), "lossless"},
		{"jpeg hierarchical", patchSOF(t, jb.Bytes(), 0xC5, 8), "hierarchical"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			info, err := Inspect(tt.b)
			if err != nil || info.Width != 37 || info.Height != 23 {
				t.Fatalf("Inspect = %+v, %v; want 37×23", info, err)
			}
			for _, w := range []string{"", "8", "20"} {
				q := map[string][]string{OptFormat: {"png"}}
				if w != "" {
					q[OptWidth] = []string{w}
				}
				opt, err := ParseOptions(q, nil)
				if err != nil {
					t.Fatal(err)
				}
				_, err = p.Process(t.Context(), tt.b, opt)
				var e *Error
				if !errors.As(err, &e) || e.Code != CodeUnsupportedImageFeature || !strings.Contains(e.Detail, tt.feature) {
					t.Errorf("width=%s: Process error %v, want unsupported_image_feature naming %q", w, err, tt.feature)
				}
			}
		})
	}
}

// processTo runs the pipeline on b with format=f and returns the output.
func processTo(t *testing.T, b []byte, f Format) []byte {
	t.Helper()
	opt, err := ParseOptions(map[string][]string{OptFormat: {string(f)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := NewPipeline(Limits{}, inline{}, nil).Process(t.Context(), b, opt)
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	return res.Data
}

// maxDiff decodes two images and returns the largest difference of a
// channel (R, G, B, A, non-premultiplied) between them; they must have the
// same size.
func maxDiff(t *testing.T, a, b []byte) int {
	t.Helper()
	ia, _, err := image.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	ib, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if ia.Bounds().Size() != ib.Bounds().Size() {
		t.Fatalf("sizes %v and %v", ia.Bounds().Size(), ib.Bounds().Size())
	}
	d := 0
	for y := range ia.Bounds().Dy() {
		for x := range ia.Bounds().Dx() {
			ca, cb := nrgbaAt(ia, x+ia.Bounds().Min.X, y+ia.Bounds().Min.Y), nrgbaAt(ib, x+ib.Bounds().Min.X, y+ib.Bounds().Min.Y)
			if ca.A == 0 && cb.A == 0 {
				continue
			}
			d = max(d, abs(int(ca.R)-int(cb.R)), abs(int(ca.G)-int(cb.G)), abs(int(ca.B)-int(cb.B)), abs(int(ca.A)-int(cb.A)))
		}
	}
	return d
}
