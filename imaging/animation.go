package imaging

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"strings"
	"time"

	imgops "github.com/disintegration/imaging"
)

// The values of the frames option.
const (
	FramesAll   = "all"   // an animation stays animated where the output format can animate (the default)
	FramesFirst = "first" // only the first frame is processed
)

// DefaultMaxFrames is the most frames an animation processed whole may have.
const DefaultMaxFrames = 500

// LimitFrames is the limit on an animation's frames (Limits.MaxFrames).
const LimitFrames Limit = "max_frames"

// WarnAnimationFlattened says an animation was answered with its first
// frame only, though the client did not ask for frames=first.
const WarnAnimationFlattened = "animation_flattened"

// frameSource yields the frames of an animation, each composited onto the
// full canvas, one at a time.
type frameSource interface {
	// Len is the number of frames.
	Len() int
	// Loop is the loop count as image/gif keeps it: 0 loops forever, -1
	// shows the frames once, n > 0 loops n times (shows them n+1 times).
	Loop() int
	// Next composites the next frame and returns the canvas, valid until
	// the next call, and the frame's delay in hundredths of a second.
	Next() (image.Image, int, error)
}

// frameSink takes an animation's output frames one at a time and writes
// the animation.
type frameSink interface {
	Add(img image.Image, delay int) error
	Encode(w *bytes.Buffer, loop int) error
}

func parseFrames(v, field string) (bool, error) {
	s, err := parseEnum(v, field, []string{FramesAll, FramesFirst})
	if err != nil {
		err.(*Error).Hint = "give all (keep an animation animated where the output format can animate, the default) or first (the first frame only)"
	}
	return s == FramesFirst, err
}

// animates reports whether the plan's input is an animation that its
// decoder reads whole and its output format can write.
func (pl *Plan) animates() bool {
	dec, enc := codecOf(pl.Info.Format).Decoder, pl.OutFormat.encoder()
	return pl.Info.Frames > 1 && !pl.Options.FirstFrame && dec != nil && dec.Frames != nil && enc != nil && enc.Frames != nil
}

// planFrames decides whether the job keeps the input's animation, refuses
// animations over the limits, counted over all their frames, and charges
// the animation's memory. It runs once the still plan is made.
func (p *Pipeline) planFrames(pl *Plan) error {
	pl.Frames = 1
	if !pl.animates() {
		return nil
	}
	in, l, n := pl.Info, p.limits, int64(pl.Info.Frames)
	keepFirst := "or ask for frames=first to process the first frame only"
	if n > int64(l.MaxFrames) {
		return Errorf(CodeImageTooLarge, "the animation has %d frames; the limit is %d frames", n, l.MaxFrames).
			WithHint("send an animation with fewer frames, %s", keepFirst).WithLimit(LimitFrames)
	}
	if px := n * in.Pixels(); px > l.MaxInputPixels {
		return Errorf(CodeImageTooLarge, "the animation has %d frames of %d×%d: %d × %d = %d pixels in all; the limit is %d pixels",
			n, in.Width, in.Height, n, in.Pixels(), px, l.MaxInputPixels).
			WithHint("send fewer or smaller frames, %s", keepFirst).WithLimit(LimitInputPixels)
	}
	if px := n * int64(pl.OutWidth) * int64(pl.OutHeight); px > l.MaxOutputPixels {
		return Errorf(CodeOutputTooLarge, "the output animation would have %d frames of %d×%d: %d × %d = %d pixels in all; the limit is %d pixels",
			n, pl.OutWidth, pl.OutHeight, n, int64(pl.OutWidth)*int64(pl.OutHeight), px, l.MaxOutputPixels).
			WithHint("ask for a smaller width/height, %s", keepFirst).WithLimit(LimitOutputPixels)
	}
	o := pl.Options
	if taps := n * (filterTaps(pl.OutWidth, pl.OutHeight, o.Blur) + filterTaps(pl.OutWidth, pl.OutHeight, o.Sharpen)); taps > l.MaxFilterTaps {
		field, sigma := OptBlur, o.Blur
		if o.Sharpen > o.Blur {
			field, sigma = OptSharpen, o.Sharpen
		}
		return Errorf(CodeInvalidOption, "%s sigma %g on %d frames of %d×%d needs about %.1f billion filter taps; the limit is %.1f billion",
			field, sigma, n, pl.OutWidth, pl.OutHeight, float64(taps)/1e9, float64(l.MaxFilterTaps)/1e9).WithField(field).
			WithHint("use a smaller sigma or a smaller output, %s", keepFirst).WithLimit(LimitFilterTaps)
	}
	pl.Frames = pl.Info.Frames
	pl.Cost = pl.animationCost()
	return nil
}

// animationCost is the peak memory of an animated job: what the decoder
// holds (its frames and canvases) and what the encoder holds (the output
// frames and bytes) for the whole job, plus one composited frame going
// through the transforms, charged as a still image decoded to the canvas.
func (pl *Plan) animationCost() int64 {
	w, h := pl.Info.Width, pl.Info.Height
	canvas := int64(w) * int64(h) * 4
	frame := pl.costFrom(DecodeCost{Path: "frames", Peak: canvas, W: w, H: h, BPP: 4, Boxable: true})
	held := codecOf(pl.Info.Format).Decoder.FramesCost(pl.Info) +
		pl.OutFormat.encoder().FramesCost(pl.OutWidth, pl.OutHeight, pl.Frames)
	return frame + held + held/8
}

// flattenWarning says why an animation came back as its first frame, when
// the client did not ask for that with frames=first.
func (pl *Plan) flattenWarning() []Warning {
	if pl.Info.Frames <= 1 || pl.Options.FirstFrame || pl.Frames > 1 {
		return nil
	}
	why := fmt.Sprintf("%s output cannot animate; ask for format=gif to keep the animation", strings.ToUpper(string(pl.OutFormat)))
	if dec := codecOf(pl.Info.Format).Decoder; dec == nil || dec.Frames == nil {
		why = fmt.Sprintf("the frames of a %s animation are not decoded", strings.ToUpper(string(pl.Info.Format)))
	}
	return []Warning{{WarnAnimationFlattened, fmt.Sprintf("the animation's %d frames were flattened to the first: %s (frames=first asks for the first frame without this warning)",
		pl.Info.Frames, why)}}
}

// runAnimation runs an animated plan: each frame is composited onto the
// canvas, goes through the same transforms as a still image and is handed
// to the encoder, which keeps it at the output size. The context is
// checked between frames.
func (p *Pipeline) runAnimation(ctx context.Context, src []byte, pl Plan) (Result, error) {
	f := pl.Info.Format
	t := time.Now()
	frames, err := codecOf(f).Decoder.Frames(src, pl.Info)
	if err != nil {
		// A damaged or cut animation: browsers play the frames before the
		// damage, but the decoders give none of them back. The first frame
		// is answered, as a still image is, with a warning; if it is
		// damaged too, the still path says how.
		still := pl
		still.Frames, still.Native, still.Options.FirstFrame = 1, 0, true
		res, serr := p.Run(ctx, src, still)
		if serr != nil {
			return res, serr
		}
		res.Warnings = append(res.Warnings, Warning{WarnImageDamaged,
			fmt.Sprintf("the animation could not be decoded whole (%s), so only its first frame was rendered", sanitize(err))})
		return res, nil
	}
	if frames.Len() != pl.Frames {
		return Result{}, Errorf(CodeCorruptImage, "the %s animation decodes to %d frames, but its blocks hold %d", strings.ToUpper(string(f)), frames.Len(), pl.Frames).
			WithHint("re-encode the animation")
	}
	p.observe(PhaseDecode, f, time.Since(t))
	var cs colourStep
	if pl.colour.convert || pl.colour.keep {
		cs = p.colourStep(pl, false, 3)
	}
	top, ovWarnings, err := p.decodeOverlay(ctx, pl)
	if err != nil {
		return Result{}, err
	}
	cs.warnings = append(cs.warnings, ovWarnings...)
	sink := pl.OutFormat.encoder().Frames(pl.OutWidth, pl.OutHeight, pl.Frames, pl.Options)
	var dt, te time.Duration
	var size image.Rectangle
	for range pl.Frames {
		if err := checkCtx(ctx); err != nil {
			return Result{}, err
		}
		t = time.Now()
		img, delay, err := frames.Next()
		if err != nil {
			return Result{}, corrupt(f, err)
		}
		img = p.transform(img, pl, cs.t)
		if top != nil {
			// A copy: without a resize the frame is the canvas the next
			// frames are composited on.
			img = drawOverlay(imgops.Clone(img), top, pl)
		}
		size = img.Bounds()
		t2 := time.Now()
		dt += t2.Sub(t)
		if err := sink.Add(img, delay); err != nil {
			return Result{}, (&Error{Code: CodeInternal, Detail: "encoding failed"}).Wrap(err)
		}
		te += time.Since(t2)
	}
	p.observe(PhaseTransform, f, dt)
	if err := checkCtx(ctx); err != nil {
		return Result{}, err
	}
	t = time.Now()
	var buf bytes.Buffer
	if err := sink.Encode(&buf, frames.Loop()); err != nil {
		return Result{}, (&Error{Code: CodeInternal, Detail: "encoding failed"}).Wrap(err)
	}
	p.observe(PhaseEncode, pl.OutFormat, te+time.Since(t))
	return Result{Data: buf.Bytes(), Format: pl.OutFormat, Width: size.Dx(), Height: size.Dy(), Input: pl.Info, Warnings: cs.warnings}, nil
}

// decodeGIF decodes a GIF's first frame and puts it on the GIF's logical
// screen, as browsers show it: image/gif returns the frame alone, and a
// frame smaller than the screen would otherwise be stretched to the size
// the plan was made for. The rest of the screen is transparent (the
// palette's transparent entry, one added where there is room), else the
// GIF's background colour.
func decodeGIF(b []byte, in Info, _ Scale, _ int) (image.Image, error) {
	img, err := gif.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	m, ok := img.(*image.Paletted)
	screen := image.Rect(0, 0, in.Width, in.Height)
	if !ok || m.Rect == screen || len(b) < 12 {
		return img, nil
	}
	pal, fill := m.Palette, -1
	for i, c := range pal {
		if _, _, _, a := c.RGBA(); a == 0 {
			fill = i
			break
		}
	}
	if fill < 0 && len(pal) < 256 {
		pal = append(pal[:len(pal):len(pal)], color.RGBA{})
		fill = len(pal) - 1
	}
	if fill < 0 {
		fill = int(b[11]) // the background colour index
	}
	c := image.NewPaletted(screen, pal)
	for i := range c.Pix {
		c.Pix[i] = uint8(fill)
	}
	r := m.Rect.Intersect(screen)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(c.Pix[c.PixOffset(r.Min.X, y):][:r.Dx()], m.Pix[m.PixOffset(r.Min.X, y):][:r.Dx()])
	}
	return c, nil
}

// gifFramesCost is what decoding a GIF animation holds: every frame,
// paletted (at most the canvas each: image/gif refuses larger frames), the
// canvas and the copy a "previous" disposal restores.
func gifFramesCost(in Info) int64 {
	px := in.Pixels()
	return int64(max(in.Frames, 1))*px + 2*4*px + decoderFixed
}

// decodeGIFFrames decodes a GIF animation with image/gif, which holds the
// frames paletted; they are composited one at a time.
func decodeGIFFrames(b []byte, _ Info) (frameSource, error) {
	g, err := gif.DecodeAll(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return &gifSource{g: g, canvas: image.NewNRGBA(image.Rect(0, 0, g.Config.Width, g.Config.Height))}, nil
}

// gifSource composites a GIF's frames as browsers do: the canvas starts
// transparent, a frame's transparent pixels leave the canvas as it is, and
// each frame's disposal (none, background: cleared to transparent,
// previous: restored) applies before the next frame is drawn.
type gifSource struct {
	g      *gif.GIF
	canvas *image.NRGBA
	saved  *image.NRGBA // the canvas under a frame whose disposal is "previous"
	next   int
	last   image.Rectangle // the last frame drawn, and its disposal
	lastD  byte
	pal    [256]color.NRGBA
}

func (s *gifSource) Len() int  { return len(s.g.Image) }
func (s *gifSource) Loop() int { return s.g.LoopCount }

func (s *gifSource) Next() (image.Image, int, error) {
	i := s.next
	if i >= len(s.g.Image) {
		return nil, 0, fmt.Errorf("no frame %d", i)
	}
	c := s.canvas
	switch s.lastD {
	case gif.DisposalBackground:
		clearRect(c, s.last)
	case gif.DisposalPrevious:
		draw.Draw(c, s.last, s.saved, s.last.Min, draw.Src)
	}
	f := s.g.Image[i]
	r := f.Rect.Intersect(c.Rect)
	s.last, s.lastD = r, 0
	if i < len(s.g.Disposal) {
		s.lastD = s.g.Disposal[i]
	}
	if s.lastD == gif.DisposalPrevious {
		if s.saved == nil {
			s.saved = image.NewNRGBA(c.Rect)
		}
		draw.Draw(s.saved, r, c, r.Min, draw.Src)
	}
	s.pal = [256]color.NRGBA{} // indices past the palette are transparent
	for k, pc := range f.Palette {
		if k < len(s.pal) {
			s.pal[k] = color.NRGBAModel.Convert(pc).(color.NRGBA)
		}
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		src := f.Pix[f.PixOffset(r.Min.X, y):][:r.Dx()]
		dst := c.Pix[c.PixOffset(r.Min.X, y):][: 4*r.Dx() : 4*r.Dx()]
		for x, idx := range src {
			// GIF pixels are opaque or transparent, which shows the canvas.
			if p := s.pal[idx]; p.A != 0 {
				d := dst[4*x : 4*x+4 : 4*x+4]
				d[0], d[1], d[2], d[3] = p.R, p.G, p.B, 255
			}
		}
	}
	s.g.Image[i] = nil // drawn: its pixels may go
	s.next++
	delay := 0
	if i < len(s.g.Delay) {
		delay = s.g.Delay[i]
	}
	return c, delay, nil
}

// clearRect makes the pixels of m in r transparent.
func clearRect(m *image.NRGBA, r image.Rectangle) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		clear(m.Pix[m.PixOffset(r.Min.X, y):][:4*r.Dx()])
	}
}

// gifSinkCost is what writing a GIF animation holds: the output frames,
// paletted, and the encoded bytes as their buffer grows (LZW codes of
// noisy frames take more than a byte a pixel; the buffer doubles).
func gifSinkCost(w, h, n int) int64 {
	px := int64(w) * int64(h)
	return int64(n)*px*(1+3) + px*4 + encoderFixed
}

// newGIFSink writes an animation of n w×h frames with image/gif. Each frame
// is quantised as it comes: to its own colours when it has at most 255 (the
// frames of a GIF that is not resized keep their pixels), else to a fixed
// 6×7×6 colour cube with Floyd–Steinberg dithering. Pixels less than half
// opaque become the transparent index.
func newGIFSink(w, h, n int, _ Options) frameSink {
	return &gifSink{g: gif.GIF{Image: make([]*image.Paletted, 0, n), Delay: make([]int, 0, n),
		Disposal: make([]byte, 0, n), Config: image.Config{Width: w, Height: h}}}
}

type gifSink struct {
	g gif.GIF
}

func (s *gifSink) Add(img image.Image, delay int) error {
	m, ok := img.(*image.NRGBA)
	if !ok {
		b := img.Bounds()
		m = image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(m, m.Rect, img, b.Min, draw.Src)
	}
	pm, transparent := quantize(m)
	if len(s.g.Image) == 0 {
		s.g.Config.Width, s.g.Config.Height = pm.Rect.Dx(), pm.Rect.Dy()
	}
	if k := len(s.g.Image); k > 0 && transparent {
		// Frames cover the whole canvas: the one before must be cleared
		// for this one's transparent pixels to show through.
		s.g.Disposal[k-1] = gif.DisposalBackground
	}
	s.g.Image = append(s.g.Image, pm)
	s.g.Delay = append(s.g.Delay, delay)
	s.g.Disposal = append(s.g.Disposal, gif.DisposalNone)
	return nil
}

func (s *gifSink) Encode(w *bytes.Buffer, loop int) error {
	s.g.LoopCount = loop
	return gif.EncodeAll(w, &s.g)
}

// cube levels of the dithering palette: 6 reds, 7 greens, 6 blues.
const cubeR, cubeG, cubeB = 6, 7, 6

// quantize turns m into a paletted image and reports whether it has
// transparent pixels (alpha below 128), which take the palette's
// transparent entry.
func quantize(m *image.NRGBA) (*image.Paletted, bool) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	if pm, transparent, ok := quantizeExact(m); ok {
		return pm, transparent
	}
	pal := make(color.Palette, 0, cubeR*cubeG*cubeB+1)
	for r := range cubeR {
		for g := range cubeG {
			for b := range cubeB {
				pal = append(pal, color.RGBA{uint8(r * 255 / (cubeR - 1)), uint8(g * 255 / (cubeG - 1)), uint8(b * 255 / (cubeB - 1)), 255})
			}
		}
	}
	clearIdx := uint8(len(pal))
	pal = append(pal, color.RGBA{})
	pm := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	// Floyd–Steinberg: errors in sixteenths, for this row and the next,
	// with a pixel of margin on each side.
	cur, nxt := make([]int32, 3*(w+2)), make([]int32, 3*(w+2))
	level := func(v int32, n int32) (int32, int32) {
		v = min(max(v, 0), 255)
		l := (v*(n-1) + 127) / 255
		return l, v - l*255/(n-1)
	}
	transparent := false
	for y := range h {
		src := m.Pix[y*m.Stride:][: 4*w : 4*w]
		dst := pm.Pix[y*pm.Stride:][:w:w]
		for x := range w {
			p := src[4*x : 4*x+4 : 4*x+4]
			e := cur[3*(x+1) : 3*(x+1)+3 : 3*(x+1)+3]
			if p[3] < 128 {
				dst[x], transparent = clearIdx, true
				continue
			}
			lr, er := level(int32(p[0])+e[0]/16, cubeR)
			lg, eg := level(int32(p[1])+e[1]/16, cubeG)
			lb, eb := level(int32(p[2])+e[2]/16, cubeB)
			dst[x] = uint8((lr*cubeG+lg)*cubeB + lb)
			for c, ec := range [3]int32{er, eg, eb} {
				i := 3*(x+1) + c
				cur[i+3] += 7 * ec
				nxt[i-3] += 3 * ec
				nxt[i] += 5 * ec
				nxt[i+3] += ec
			}
		}
		cur, nxt = nxt, cur
		clear(nxt)
	}
	return pm, transparent
}

// quantizeExact palettes m with its own colours, when it has at most 255
// opaque ones (256 when no pixel is transparent); ok is false otherwise.
func quantizeExact(m *image.NRGBA) (pm *image.Paletted, transparent, ok bool) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	index := make(map[uint32]uint8, 256)
	pal := make(color.Palette, 0, 256)
	pm = image.NewPaletted(image.Rect(0, 0, w, h), nil)
	const clearKey = 1 << 24
	lastKey, lastIdx := uint32(1<<32-1), uint8(0)
	for y := range h {
		src := m.Pix[y*m.Stride:][: 4*w : 4*w]
		dst := pm.Pix[y*pm.Stride:][:w:w]
		for x := range w {
			p := src[4*x : 4*x+4 : 4*x+4]
			key := uint32(clearKey)
			if p[3] >= 128 {
				key = uint32(p[0])<<16 | uint32(p[1])<<8 | uint32(p[2])
			}
			if key == lastKey {
				dst[x] = lastIdx
				continue
			}
			i, seen := index[key]
			if !seen {
				if len(pal) == 256 {
					return nil, false, false
				}
				i = uint8(len(pal))
				index[key] = i
				if key == clearKey {
					pal, transparent = append(pal, color.RGBA{}), true
				} else {
					pal = append(pal, color.RGBA{p[0], p[1], p[2], 255})
				}
			}
			dst[x], lastKey, lastIdx = i, key, i
		}
	}
	if len(pal) == 0 {
		pal = append(pal, color.RGBA{})
	}
	pm.Palette = pal
	return pm, transparent, true
}
