package imaging

import (
	"bytes"
	"context"
	"image/color"
	"image/gif"
	"testing"
)

// TestAnimation_overlayOnEveryFrame checks that an animation kept animated
// carries the overlay on each frame, and that drawing it does not leak into
// the canvas the next frames are composited on (at full size the frame is
// the canvas).
func TestAnimation_overlayOnEveryFrame(t *testing.T) {
	p := NewPipeline(Limits{}, inline{}, nil)
	src := testAnimation(t)
	g, err := gif.DecodeAll(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	logo := encodeAs(t, solid(4, 4, color.NRGBA{255, 255, 0, 255}), FormatPNG)
	_, want := composite(t, src)
	o := overlayOpts(t, map[string][]string{OptOverlayGravity: {"northwest"}, OptOverlayMargin: {"0"}, OptOverlayOpacity: {"0.5"}}, logo)
	res, err := p.Process(context.Background(), src, o)
	if err != nil {
		t.Fatal(err)
	}
	out, err := gif.DecodeAll(bytes.NewReader(res.Data))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Image) != len(g.Image) {
		t.Fatalf("%d frames, want %d", len(out.Image), len(g.Image))
	}
	_, got := composite(t, res.Data)
	for i, f := range got {
		// Half the overlay's yellow over what the frame shows there.
		for _, pt := range [][2]int{{0, 0}, {1, 1}, {3, 3}} {
			w := want[i].NRGBAAt(pt[0], pt[1])
			if w.A < 255 {
				continue
			}
			blend := color.NRGBA{uint8((255 + int(w.R)) / 2), uint8((255 + int(w.G)) / 2), uint8(int(w.B) / 2), 255}
			if c := f.NRGBAAt(pt[0], pt[1]); !near(c, blend, 24) {
				t.Errorf("frame %d: pixel %v = %v, want %v, half the overlay's yellow over %v", i, pt, c, blend, w)
			}
		}
		// Outside the overlay every frame is what it was without it.
		b := f.Bounds()
		for _, pt := range [][2]int{{b.Dx() - 1, b.Dy() - 1}, {b.Dx() / 2, b.Dy() / 2}, {5, b.Dy() - 1}} {
			c, w := f.NRGBAAt(pt[0], pt[1]), want[i].NRGBAAt(pt[0], pt[1])
			if !near(c, w, 24) {
				t.Errorf("frame %d: pixel %v = %v, want %v as without the overlay", i, pt, c, w)
			}
		}
	}
}
