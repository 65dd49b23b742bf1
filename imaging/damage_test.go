package imaging

import (
	"context"
	"errors"
	"image/color"
	"strings"
	"testing"
)

// TestTruncated_PNG checks what a client gets for a PNG cut short: 400
// truncated_image saying how far it got, or with partial=true the rows
// that arrived and a warning; a PNG missing only its end gets its image.
func TestTruncated_PNG(t *testing.T) {
	p := newTestPNG(64, 48, 2, 8, false, false) // opaque RGB
	p.idat = 200
	full := p.encode(t)
	pl := NewPipeline(Limits{}, inline{}, nil)
	cut := full[:len(full)/2]

	opt, _ := ParseOptions(map[string][]string{OptFormat: {"png"}}, nil)
	_, err := pl.Process(context.Background(), cut, opt)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeTruncatedImage {
		t.Fatalf("Process of half a PNG: %v, want truncated_image", err)
	}
	if !strings.Contains(e.Detail, "the data ends in row ") || !strings.Contains(e.Detail, "% of the rows") || !strings.Contains(e.Hint, "partial=true") {
		t.Errorf("detail %q, hint %q: want how far the data got and partial=true", e.Detail, e.Hint)
	}

	for _, width := range []string{"", "16"} {
		q := map[string][]string{OptFormat: {"png"}, OptPartial: {"true"}}
		if width != "" {
			q[OptWidth] = []string{width}
		}
		res := processQ(t, pl, cut, q)
		if len(res.Warnings) != 1 || res.Warnings[0].Code != WarnImageTruncated {
			t.Fatalf("%v: warnings %v, want one %s", q, res.Warnings, WarnImageTruncated)
		}
		out := decodeAny(t, res.Data)
		b := out.Bounds()
		top := color.NRGBAModel.Convert(out.At(b.Dx()/2, 0)).(color.NRGBA)
		bottom := color.NRGBAModel.Convert(out.At(b.Dx()/2, b.Dy()-1)).(color.NRGBA)
		if top.A != 255 || bottom.A != 0 {
			t.Errorf("%v: top pixel %v, bottom %v: want the rows that arrived opaque and the rest transparent", q, top, bottom)
		}
	}

	noEnd := full[:len(full)-12] // without IEND
	res := processQ(t, pl, noEnd, map[string][]string{OptFormat: {"png"}})
	if len(res.Warnings) != 1 || res.Warnings[0].Code != WarnImageDamaged || !strings.Contains(res.Warnings[0].Detail, "IEND") {
		t.Errorf("PNG without IEND: warnings %v, want one %s naming IEND", res.Warnings, WarnImageDamaged)
	}
	whole := processQ(t, pl, full, map[string][]string{OptFormat: {"png"}})
	if string(whole.Data) != string(res.Data) {
		t.Error("PNG without IEND: the image differs from the whole file's")
	}
}

// TestTruncated_JPEG checks the JPEG answers: a cut file is truncated_image
// with the scan and rows it got to, partial=true renders it with the rest
// grey, and damage libjpeg only warns about is decoded with a warning.
func TestTruncated_JPEG(t *testing.T) {
	full := encodeAs(t, newPhoto(256, 192), FormatJPEG)
	pl := NewPipeline(Limits{}, inline{}, nil)
	cut := full[:len(full)*6/10]
	for _, width := range []string{"", "64"} {
		q := map[string][]string{OptFormat: {"png"}}
		if width != "" {
			q[OptWidth] = []string{width}
		}
		opt, _ := ParseOptions(q, nil)
		_, err := pl.Process(context.Background(), cut, opt)
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeTruncatedImage || !strings.Contains(e.Detail, "scan 1 of 1 (sequential)") || !strings.Contains(e.Detail, "% of its rows") {
			t.Fatalf("%v: %v, want truncated_image naming the scan and the rows", q, err)
		}
		q[OptPartial] = []string{"true"}
		res := processQ(t, pl, cut, q)
		if len(res.Warnings) != 1 || res.Warnings[0].Code != WarnImageTruncated || !strings.Contains(res.Warnings[0].Detail, "rest left grey") {
			t.Fatalf("%v: warnings %v", q, res.Warnings)
		}
		out := decodeAny(t, res.Data)
		b := out.Bounds()
		if c := color.NRGBAModel.Convert(out.At(b.Dx()/2, b.Dy()-1)).(color.NRGBA); c.R < 120 || c.R > 136 || c.G < 120 || c.G > 136 || c.B < 120 || c.B > 136 {
			t.Errorf("%v: the bottom row is %v, want mid grey", q, c)
		}
	}
	junk := append(append(append([]byte(nil), full[:len(full)-2]...), 1, 2, 3), 0xFF, 0xD9)
	res := processQ(t, pl, junk, map[string][]string{OptFormat: {"png"}})
	if len(res.Warnings) != 1 || res.Warnings[0].Code != WarnImageDamaged || !strings.Contains(res.Warnings[0].Detail, "3 extraneous bytes before marker 0xD9") {
		t.Errorf("junk before EOI: warnings %v", res.Warnings)
	}
}
