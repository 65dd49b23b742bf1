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
