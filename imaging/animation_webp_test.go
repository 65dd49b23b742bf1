package imaging

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/draw"
	"math/rand/v2"
	"testing"

	"github.com/gen2brain/webp"
)

// webpFrame is one frame of a test animation: its pixels, where it goes,
// for how long, and how it blends and is disposed of.
type webpFrame struct {
	img         *image.NRGBA
	at          image.Point // even coordinates: WebP stores them halved
	ms          int
	noBlend     bool
	disposeToBG bool
}

// animatedWebP assembles an animated WebP from frames encoded losslessly by
// libwebp: a VP8X header, an ANIM chunk and an ANMF chunk per frame.
func animatedWebP(t *testing.T, w, h, loop int, frames []webpFrame) []byte {
	t.Helper()
	u24 := func(b []byte, v int) []byte { return append(b, byte(v), byte(v>>8), byte(v>>16)) }
	chunk := func(id string, data []byte) []byte {
		c := binary.LittleEndian.AppendUint32([]byte(id), uint32(len(data)))
		c = append(c, data...)
		if len(data)%2 == 1 {
			c = append(c, 0)
		}
		return c
	}
	vp8x := u24(u24([]byte{0x02 | 0x10, 0, 0, 0}, w-1), h-1)
	body := append([]byte("WEBP"), chunk("VP8X", vp8x)...)
	body = append(body, chunk("ANIM", binary.LittleEndian.AppendUint16([]byte{0, 0, 0, 0}, uint16(loop)))...)
	for _, f := range frames {
		var enc bytes.Buffer
		if err := webp.Encode(&enc, f.img, webp.Options{Lossless: true, Exact: true}); err != nil {
			t.Fatal(err)
		}
		vp8l := riffChunk(enc.Bytes(), "VP8L")
		if vp8l == nil {
			t.Fatalf("libwebp's lossless output has no VP8L chunk: % x", enc.Bytes()[:min(40, enc.Len())])
		}
		b := f.img.Bounds()
		var flags byte
		if f.noBlend {
			flags |= 2
		}
		if f.disposeToBG {
			flags |= 1
		}
		anmf := u24(u24(u24(u24(u24(nil, f.at.X/2), f.at.Y/2), b.Dx()-1), b.Dy()-1), f.ms)
		anmf = append(append(anmf, flags), chunk("VP8L", vp8l)...)
		body = append(body, chunk("ANMF", anmf)...)
	}
	return append(binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(len(body))), body...)
}

func filled(w, h int, c color.NRGBA, hole image.Rectangle) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(m, m.Rect, &image.Uniform{c}, image.Point{}, draw.Src)
	draw.Draw(m, hole, image.Transparent, image.Point{}, draw.Src)
	return m
}

// TestAnimation_webpToGIF turns an animated WebP into an animated GIF: the
// frames composited as the WebP specification says, delays in hundredths,
// the loop count kept.
func TestAnimation_webpToGIF(t *testing.T) {
	red, green, white := color.NRGBA{220, 30, 30, 255}, color.NRGBA{20, 200, 60, 255}, color.NRGBA{250, 250, 250, 255}
	frames := []webpFrame{
		{img: filled(40, 30, red, image.Rect(30, 0, 40, 30)), ms: 60},
		{img: filled(10, 10, green, image.Rect(0, 0, 4, 4)), at: image.Pt(10, 10), ms: 120, disposeToBG: true},
		{img: filled(10, 8, white, image.Rectangle{}), at: image.Pt(20, 6), ms: 200},
	}
	src := animatedWebP(t, 40, 30, 2, frames)
	// The composite, drawn here: alpha-blended frames, the second cleared
	// to transparent once shown.
	canvas := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	var want []*image.NRGBA
	for i, f := range frames {
		r := f.img.Rect.Add(f.at)
		draw.Draw(canvas, r, f.img, image.Point{}, draw.Over)
		shown := image.NewNRGBA(canvas.Rect)
		copy(shown.Pix, canvas.Pix)
		want = append(want, shown)
		if frames[i].disposeToBG {
			draw.Draw(canvas, r, image.Transparent, image.Point{}, draw.Src)
		}
	}
	p := NewPipeline(Limits{}, inline{}, nil)
	pl, err := p.Plan(src, Options{Format: FormatGIF, Fit: FitContain, Gamma: 1, Effort: -1, ColorProfile: ColorProfileSRGB})
	if err != nil {
		t.Fatal(err)
	}
	if pl.Info.Frames != 3 || pl.Frames != 3 {
		t.Fatalf("the WebP has %d frames and the plan %d, want 3", pl.Info.Frames, pl.Frames)
	}
	res, err := p.Run(t.Context(), src, pl)
	if err != nil {
		t.Fatal(err)
	}
	g, got := composite(t, res.Data)
	if len(got) != 3 {
		t.Fatalf("got %d frames, want 3", len(got))
	}
	if g.LoopCount != 1 || g.Delay[0] != 6 || g.Delay[1] != 12 || g.Delay[2] != 20 {
		t.Errorf("loop count %d (want 1: played twice), delays %v (want [6 12 20])", g.LoopCount, g.Delay)
	}
	for i := range want {
		if alpha, rgb := diffFrames(got[i], want[i]); alpha != 0 || rgb != 0 {
			t.Errorf("frame %d: %.1f%% of pixels differ in transparency, mean RGB difference %.2f; want none", i, 100*alpha, rgb)
		}
	}
}

// noisyWebP is an n-frame w×h animated WebP of random pixels, every other
// frame a smaller one at an offset.
func noisyWebP(t *testing.T, w, h, n int) []byte {
	r := rand.New(rand.NewPCG(5, 6))
	var frames []webpFrame
	for i := range n {
		fw, fh, at := w, h, image.Point{}
		if i%2 == 1 {
			fw, fh, at = w/2, h/2, image.Pt(w/4&^1, h/4&^1)
		}
		m := image.NewNRGBA(image.Rect(0, 0, fw, fh))
		for k := range m.Pix {
			m.Pix[k] = uint8(r.IntN(256))
		}
		frames = append(frames, webpFrame{img: m, at: at, ms: 50, disposeToBG: i%3 == 1})
	}
	return animatedWebP(t, w, h, 0, frames)
}
