package imaging

import (
	"context"
	"fmt"
	"image"
	"math"
	"strings"

	imgops "github.com/disintegration/imaging"
)

// OverlayOptions say which image is composited onto the output (a
// watermark or logo) and where. They are part of Options.
type OverlayOptions struct {
	// Overlay is the encoded overlay image; nil for none. It obeys the
	// limits of the main image (formats, input pixels).
	Overlay []byte
	// OverlayField is the name the client sent the overlay under
	// ("overlay", "overlay_b64"), for errors; empty means "overlay".
	OverlayField string
	// OverlayGravity is where the overlay goes: a corner, an edge's middle
	// or the center. Default southeast.
	OverlayGravity Gravity
	// OverlayMargin is the distance in pixels from the output's edges.
	// Default 16.
	OverlayMargin int
	// OverlayOpacity scales the overlay's alpha, 0–1. Default 1.
	OverlayOpacity float64
	// OverlayWidth is the overlay's width on the output; its height follows
	// the aspect ratio. 0 means its own width. Either way it is shrunk to
	// fit inside the output less its margins.
	OverlayWidth int
	// given is the field of the first overlay option the client set, for
	// the error when there is no overlay to place.
	given string
}

// Defaults of the overlay options.
const (
	DefaultOverlayGravity = GravitySouthEast
	DefaultOverlayMargin  = 16
)

func defaultOverlayOptions() OverlayOptions {
	return OverlayOptions{OverlayGravity: DefaultOverlayGravity, OverlayMargin: DefaultOverlayMargin, OverlayOpacity: 1}
}

// OverlayOption returns the field of an overlay option the client set
// (overlay_gravity, options.overlay_width, …), "" when none was: a request
// that sets one must carry an overlay image.
func (o OverlayOptions) OverlayOption() string { return o.given }

func (o OverlayOptions) overlayField() string {
	if o.OverlayField == "" {
		return "overlay"
	}
	return o.OverlayField
}

// setOverlay parses the overlay options; names that are none of them are
// left alone (ParseOptions has refused unknown names already).
func (o *Options) setOverlay(name, v, field string) error {
	var err error
	switch name {
	case OptOverlayGravity:
		var s string
		s, err = parseEnum(strings.NewReplacer("_", "", "-", "").Replace(v), field, []string{
			string(GravityCenter), string(GravityNorth), string(GravitySouth), string(GravityEast), string(GravityWest),
			string(GravityNorthEast), string(GravityNorthWest), string(GravitySouthEast), string(GravitySouthWest)})
		if err != nil {
			err.(*Error).Detail = fmt.Sprintf("invalid %s %q", field, truncate(v, 64))
		}
		o.OverlayGravity = Gravity(s)
	case OptOverlayMargin:
		o.OverlayMargin, err = parseInt(v, field, 0, MaxDimension, "pixels")
	case OptOverlayOpacity:
		o.OverlayOpacity, err = parseFloat(v, field, 0, 1, "")
		if f, perr := parseFloat(v, field, 2, 100, ""); err != nil && perr == nil {
			err.(*Error).Hint = fmt.Sprintf("overlay_opacity is a fraction from 0 (invisible) to 1 (opaque): for %s%% give %s",
				strings.TrimSpace(v), fmt.Sprint(f/100))
		}
	case OptOverlayWidth:
		o.OverlayWidth, err = parseInt(v, field, 1, MaxDimension, "pixels")
	default:
		return nil
	}
	if o.given == "" {
		o.given = field
	}
	return err
}

// overlayNamed completes the unknown_option error of a name that means the
// overlay image itself: it is sent beside the image, not as an option.
func overlayNamed(name string, e *Error) bool {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "overlay", "overlay_b64", "overlay_image", "overlay_file", "overlay_url", "watermark", "watermark_b64",
		"watermark_image", "watermark_url", "logo", "logo_b64":
	default:
		return false
	}
	e.Detail += "; the overlay image is not an option"
	e.Hint = "send the overlay image's bytes as the multipart part overlay, or as base64 in the JSON field overlay_b64 (beside image_b64, not inside options); " +
		"place it with overlay_gravity, overlay_margin, overlay_opacity and overlay_width"
	return true
}

// overlayPlan is what Plan decided for the overlay: its header, where it
// goes, and the plan that decodes, orients, resizes and colour-manages it.
type overlayPlan struct {
	sub        *Plan // nil when there is no overlay
	x, y, w, h int   // where it lands on the output
	opacity    uint32
	peak       int64 // what decoding and resizing it allocates at the peak
}

func (ov overlayPlan) present() bool { return ov.sub != nil }

// overlayError turns an error about the overlay's bytes into one that
// names the overlay's field.
func overlayError(err error, field string) error {
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	c := *e
	c.Field = field
	c.Detail = "the overlay image (" + field + "): " + c.Detail
	return &c
}

// planOverlay reads the overlay's header, refuses it when it breaks the
// limits of the main image, and works out its size and place on the
// pl.OutWidth × pl.OutHeight output, its decode scale and its cost.
func (p *Pipeline) planOverlay(pl *Plan) error {
	o := pl.Options.OverlayOptions
	field := o.overlayField()
	if len(o.Overlay) == 0 {
		if o.given != "" {
			return Errorf(CodeInvalidOption, "%s is set, but the request has no overlay image", o.given).WithField(o.given).
				WithHint("send the overlay image (the multipart part overlay, or the JSON field overlay_b64), or drop the overlay options")
		}
		return nil
	}
	info, err := inspect(o.Overlay)
	if err != nil {
		return overlayError(err, field)
	}
	if info.Pixels() > p.limits.MaxInputPixels || info.hdr.codedPixels > p.limits.MaxInputPixels {
		return Errorf(CodeImageTooLarge, "the overlay image is %d×%d = %d pixels; the limit is %d pixels, as for the image",
			info.Width, info.Height, max(info.Pixels(), info.hdr.codedPixels), p.limits.MaxInputPixels).WithField(field).
			WithHint("downscale the overlay before sending it: it is never drawn larger than the output").WithLimit(LimitInputPixels)
	}
	m := o.OverlayMargin
	boxW, boxH := pl.OutWidth-2*m, pl.OutHeight-2*m
	if boxW < 1 || boxH < 1 {
		return Errorf(CodeInvalidOption, "overlay_margin %d leaves no room for the overlay on the %d×%d output", m, pl.OutWidth, pl.OutHeight).
			WithField(OptOverlayMargin).WithHint("give overlay_margin below %d (half the output's shorter side)", (min(pl.OutWidth, pl.OutHeight)+1)/2)
	}
	// The overlay keeps its aspect ratio, and fits inside the output less
	// its margins whatever overlay_width asks.
	iw, ih := info.DisplayWidth, info.DisplayHeight
	w := o.OverlayWidth
	if w == 0 {
		w = iw
	}
	h := max(1, int(math.Round(float64(ih)*float64(w)/float64(iw))))
	switch {
	case w <= boxW && h <= boxH:
	case int64(w)*int64(boxH) > int64(h)*int64(boxW): // the width limits it
		h = max(1, min(boxH, int(math.Round(float64(h)*float64(boxW)/float64(w)))))
		w = boxW
	default:
		w = max(1, min(boxW, int(math.Round(float64(w)*float64(boxH)/float64(h)))))
		h = boxH
	}
	ov := overlayPlan{w: w, h: h, opacity: uint32(math.Round(o.OverlayOpacity * 255))}
	ov.x, ov.y = gravityOffset(o.OverlayGravity, boxW, boxH, w, h)
	ov.x, ov.y = ov.x+m, ov.y+m

	// The overlay's own plan: decode (shrunk on load where it is much
	// larger than needed), orient, resize to w×h, convert to sRGB.
	so := DefaultOptions()
	so.Width, so.Height, so.Fit = w, h, FitFill
	sub := &Plan{Info: info, Options: so, OutFormat: FormatPNG, OutWidth: w, OutHeight: h, DecodeScale: 1,
		resizeWidth: w, resizeHeight: h, scale: Scale{1, 1}}
	sub.colour = planColour(info, so, sub.OutFormat)
	if dec := codecOf(info.Format).Decoder; dec.Shrink != nil && p.shrinkOnLoad {
		tw, th := w, h
		if info.Orientation >= 5 {
			tw, th = th, tw
		}
		sub.scale = dec.Shrink(info, tw, th)
	}
	sub.DecodeScale = max(sub.scale.X, sub.scale.Y)
	ov.sub = sub
	ov.peak = sub.overlayPeak()
	pl.overlay = ov
	return nil
}

// overlayPeak is the peak of decoding and transforming an overlay plan, as
// estimateCost reckons a job's, without the encode.
func (pl *Plan) overlayPeak() int64 {
	d := pl.decodeCost()
	chain := pl.transformChain(d)
	prev := max(d.Peak-chain[0], 0)
	peak := d.Peak
	for i := 1; i < len(chain); i++ {
		peak = max(peak, prev+chain[i-1]+chain[i])
		prev = chain[i-1]
	}
	if pl.colour.convert {
		peak += pl.Info.hdr.icc.size() + colourCost
	}
	// The NRGBA copy compositing reads, when the chain ends in another type.
	clone := int64(pl.OutWidth) * int64(pl.OutHeight) * 4
	return max(peak, prev+chain[len(chain)-1]+clone)
}

// overlayCost is the peak of the overlay step of a job, with last the bytes
// of the output image and prev the garbage of the step before, and the
// garbage it leaves to the encode. The overlay is decoded and resized beside
// the output; compositing may copy the output into NRGBA.
func (pl *Plan) overlayCost(prev, last int64) (peak, garbage int64) {
	ov := pl.overlay
	out := int64(pl.OutWidth) * int64(pl.OutHeight) * 4
	return last + ov.peak + max(prev, out), ov.peak + last
}

// overlayNative is what a native decoder holds while it decodes the overlay.
func (pl *Plan) overlayNative() int64 {
	if !pl.overlay.present() {
		return 0
	}
	if c := codecOf(pl.overlay.sub.Info.Format); c != nil && c.Native != nil {
		return pl.overlay.sub.decodeCost().Peak
	}
	return 0
}

// applyOverlay composites the plan's overlay, if any, onto img (see
// decodeOverlay and drawOverlay).
func (p *Pipeline) applyOverlay(ctx context.Context, img image.Image, pl Plan) (image.Image, []Warning, error) {
	top, ws, err := p.decodeOverlay(ctx, pl)
	if err != nil || top == nil {
		return img, ws, err
	}
	return drawOverlay(img, top, pl), ws, nil
}

// decodeOverlay decodes the plan's overlay and brings it to its size on the
// output: orientation, sRGB, resize. It returns nil when there is none. An
// animation decodes it once and draws it on every frame.
func (p *Pipeline) decodeOverlay(ctx context.Context, pl Plan) (*image.NRGBA, []Warning, error) {
	ov := pl.overlay
	if !ov.present() {
		return nil, nil, nil
	}
	field := pl.Options.overlayField()
	sub := *ov.sub
	src := pl.Options.Overlay
	oimg, damage, err := p.decode(src, sub)
	if err != nil {
		return nil, nil, overlayError(err, field)
	}
	var cs colourStep
	if sub.colour.convert {
		cmyk, ch := false, 3
		if _, ok := oimg.(*image.CMYK); ok {
			cmyk, ch = true, 4
		} else if sub.Info.hdr.gray {
			ch = 1
		}
		cs = p.colourStep(sub, cmyk, ch)
	}
	oimg = p.transform(oimg, sub, cs.t)
	if err := checkCtx(ctx); err != nil {
		return nil, nil, err
	}
	top, ok := oimg.(*image.NRGBA)
	if !ok {
		top = imgops.Clone(oimg)
	}
	var ws []Warning
	for _, w := range append(damage, cs.warnings...) {
		ws = append(ws, Warning{w.Code, "overlay: " + w.Detail})
	}
	return top, ws, nil
}

// drawOverlay composites top over img at the plan's place and opacity.
func drawOverlay(img image.Image, top *image.NRGBA, pl Plan) image.Image {
	dst, ok := img.(*image.NRGBA)
	if !ok {
		dst = imgops.Clone(img)
	}
	compositeOver(dst, top, image.Pt(pl.overlay.x, pl.overlay.y), pl.overlay.opacity)
	return dst
}

func compositeOver(dst, top *image.NRGBA, at image.Point, opacity uint32) {
	if opacity == 0 {
		return
	}
	const one = 255 * 255
	tb := top.Rect
	r := image.Rectangle{Min: at, Max: at.Add(tb.Size())}.Intersect(image.Rect(0, 0, dst.Rect.Dx(), dst.Rect.Dy()))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		d := dst.Pix[dst.PixOffset(dst.Rect.Min.X+r.Min.X, dst.Rect.Min.Y+y):][:4*r.Dx()]
		s := top.Pix[top.PixOffset(tb.Min.X+r.Min.X-at.X, tb.Min.Y+y-at.Y):][:4*r.Dx()]
		for i := 0; i < len(d); i += 4 {
			dp, sp := d[i:i+4:i+4], s[i:i+4:i+4]
			sa := uint64(sp[3]) * uint64(opacity) // 0..one
			switch {
			case sa == 0:
				continue
			case sa == one:
				copy(dp, sp)
				continue
			}
			da := uint64(dp[3]) * 255 * (one - sa) / one // the destination's share
			a := sa + da
			dp[0] = uint8((uint64(sp[0])*sa + uint64(dp[0])*da + a/2) / a)
			dp[1] = uint8((uint64(sp[1])*sa + uint64(dp[1])*da + a/2) / a)
			dp[2] = uint8((uint64(sp[2])*sa + uint64(dp[2])*da + a/2) / a)
			dp[3] = uint8((a + 127) / 255)
		}
	}
}
