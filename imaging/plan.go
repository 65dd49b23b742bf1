package imaging

import (
	"image"
	"math"
	"strings"
)

// Limits bound what one request may cost. Zero values mean the defaults.
type Limits struct {
	MaxInputPixels  int64 // width × height of the input, read from its header
	MaxOutputPixels int64 // width × height of the output, computed before any work
	// MaxFilterTaps bounds the work of blur and sharpen: output pixels ×
	// kernel taps × 2 passes. The filters cannot be interrupted, so this is
	// what keeps a job within its deadline.
	MaxFilterTaps int64
	// MaxFrames bounds the frames of an animation processed whole; the
	// pixel limits count all its frames.
	MaxFrames int
}

// Default limits.
const (
	DefaultMaxInputPixels  = 100_000_000 // 100 MP: a 400 MB NRGBA buffer at most
	DefaultMaxOutputPixels = 50_000_000
	// DefaultMaxFilterTaps is about 5 s of blur on one busy core (~1.5–3 ns a tap).
	DefaultMaxFilterTaps = 2_000_000_000
)

func (l Limits) withDefaults() Limits {
	if l.MaxInputPixels <= 0 {
		l.MaxInputPixels = DefaultMaxInputPixels
	}
	if l.MaxOutputPixels <= 0 {
		l.MaxOutputPixels = DefaultMaxOutputPixels
	}
	if l.MaxFilterTaps <= 0 {
		l.MaxFilterTaps = DefaultMaxFilterTaps
	}
	if l.MaxFrames <= 0 {
		l.MaxFrames = DefaultMaxFrames
	}
	return l
}

// Plan is what Pipeline.Plan learns from an image's header and the options,
// before any pixel is decoded.
type Plan struct {
	Info         Info
	Options      Options
	OutFormat    Format
	OutWidth     int
	OutHeight    int
	DecodeScale  int   // the largest shrink-on-load factor: 1, or the JPEG is decoded at 1/DecodeScale, …
	Cost         int64 // estimated peak bytes of the job, for admission
	Native       int64 // the part of Cost native codecs hold, out of the Go heap's sight
	Frames       int   // the output's frames: 1, or the input's when an animation stays animated
	scale        Scale // the shrink-on-load factors the decoder applies
	resizeWidth  int   // target of the resize step, 0 when there is none
	resizeHeight int
	padWidth     int // contain: the canvas the resized image is centred on
	padHeight    int
	colour       colourPlan
	overlay      overlayPlan
	transcode    bool // JPEG to JPEG with no pixel operation: re-encoded in the DCT domain (canTranscode)
	planar       bool // the resize works on YCbCr planes, which the encoder takes (canPlanar)
}

// Plan reads src's header and works out the output size, the decode scale
// and the job's cost, refusing images and outputs over the limits.
func (p *Pipeline) Plan(src []byte, opt Options) (Plan, error) {
	info, err := inspect(src)
	if err != nil {
		return Plan{}, err
	}
	if info.Pixels() > p.limits.MaxInputPixels {
		return Plan{}, Errorf(CodeImageTooLarge, "the image is %d×%d = %d pixels; the limit is %d pixels",
			info.Width, info.Height, info.Pixels(), p.limits.MaxInputPixels).
			WithHint("downscale the image before sending it").WithLimit(LimitInputPixels)
	}
	if info.hdr.codedPixels > p.limits.MaxInputPixels {
		// A HEIF item may code a larger frame than its header says.
		return Plan{}, Errorf(CodeImageTooLarge, "the image says %d×%d, but its coded data holds a frame of %d pixels; the limit is %d pixels",
			info.Width, info.Height, info.hdr.codedPixels, p.limits.MaxInputPixels).
			WithHint("re-encode the image; its coded frame does not match its header").WithLimit(LimitInputPixels)
	}
	pl := Plan{Info: info, Options: opt, OutFormat: opt.Format, DecodeScale: 1}
	pl.Options.procs = p.procs
	if pl.OutFormat == "" {
		pl.OutFormat = info.Format
	}
	switch {
	case pl.OutFormat == FormatAuto:
		pl.OutFormat = autoFormat(opt.Accept, info)
	case !pl.OutFormat.CanEncode():
		pl.OutFormat = autoFormat(nil, info)
	}
	if err := checkEncoderOptions(&pl.Options, pl.OutFormat, opt.Format != "" && opt.Format != FormatAuto); err != nil {
		return Plan{}, err
	}
	pl.colour = planColour(info, pl.Options, pl.OutFormat)
	w, h := info.Width, info.Height
	if opt.AutoOrient {
		w, h = info.DisplayWidth, info.DisplayHeight
	}
	if !opt.Crop.Empty() {
		if !opt.Crop.In(image.Rect(0, 0, w, h)) {
			r := opt.Crop
			return Plan{}, Errorf(CodeInvalidOption, "crop %d,%d,%d,%d reaches outside the %d×%d image",
				r.Min.X, r.Min.Y, r.Dx(), r.Dy(), w, h).WithField(OptCrop).
				WithHint("x+w must be at most %d and y+h at most %d (coordinates are after EXIF orientation unless auto_orient=false)", w, h)
		}
		w, h = opt.Crop.Dx(), opt.Crop.Dy()
	}
	w, h = pl.resize(w, h)
	w, h = rotatedBounds(w, h, opt.Rotate)
	pl.OutWidth, pl.OutHeight = w, h
	if int64(w)*int64(h) > p.limits.MaxOutputPixels || w > MaxDimension || h > MaxDimension {
		return Plan{}, Errorf(CodeOutputTooLarge, "the output would be %d×%d = %d pixels; the limit is %d pixels and %d per side",
			w, h, int64(w)*int64(h), p.limits.MaxOutputPixels, MaxDimension).
			WithHint("ask for a smaller width/height").WithLimit(LimitOutputPixels)
	}
	if err := p.checkFilterWork(w, h, opt); err != nil {
		return Plan{}, err
	}
	if err := p.planOverlay(&pl); err != nil {
		return Plan{}, err
	}
	pl.scale = Scale{1, 1}
	if dec := codecOf(info.Format).Decoder; dec.Shrink != nil && p.shrinkOnLoad && pl.resizeWidth > 0 {
		// The decoder shrinks the image as stored: turn the target with it.
		tw, th := pl.resizeWidth, pl.resizeHeight
		in := info
		if !opt.Crop.Empty() {
			// What must stay at least the target is the cropped region;
			// transform crops the scaled rectangle (see scaledCrop).
			in.Width, in.Height = opt.Crop.Dx(), opt.Crop.Dy()
		}
		if opt.AutoOrient && info.Orientation >= 5 {
			tw, th = th, tw
			if !opt.Crop.Empty() {
				in.Width, in.Height = in.Height, in.Width
			}
		}
		pl.scale = dec.Shrink(in, tw, th)
	}
	pl.DecodeScale = max(pl.scale.X, pl.scale.Y)
	pl.Cost = pl.estimateCost()
	if pl.transcode = pl.canTranscode(); pl.transcode {
		pl.Cost = pl.transcodeCost(pl.Cost)
	}
	pl.Native = pl.nativeCost()
	if err := p.planFrames(&pl); err != nil {
		return Plan{}, err
	}
	pl.planar = pl.canPlanar()
	return pl, nil
}

// resize works out the size after the resize step and records its target.
// checkEncoderOptions refuses lossless and effort for an output format whose
// encoder does not take them, when the client named that format; when the
// format was chosen for it (the input's, or format=auto) they are dropped
// instead, as are quality values the format ignores.
func checkEncoderOptions(o *Options, f Format, named bool) error {
	e := f.encoder()
	if o.Lossless && !e.Lossless {
		if named {
			return Errorf(CodeInvalidOption, "lossless=true does not apply to %s output", f).WithField(OptLossless).
				WithHint("drop lossless, or ask for %s", strings.Join(formatsWith(func(e *Encoder) bool { return e.Lossless }), " or "))
		}
		o.Lossless = false
	}
	if o.Effort >= 0 && (e.Effort == Range{} || o.Effort > e.Effort.Max || o.Effort < e.Effort.Min) {
		if !named {
			o.Effort = -1
			return nil
		}
		if e.Effort == (Range{}) {
			return Errorf(CodeInvalidOption, "effort does not apply to %s output", f).WithField(OptEffort).
				WithHint("drop effort, or ask for %s", strings.Join(formatsWith(func(e *Encoder) bool { return e.Effort != Range{} }), " or "))
		}
		return Errorf(CodeInvalidOption, "effort is %d; for %s it is from %d (fastest) to %d (smallest), default %d", o.Effort, f,
			e.Effort.Min, e.Effort.Max, e.Effort.Default).WithField(OptEffort).
			WithHint("give effort from %d to %d", e.Effort.Min, e.Effort.Max)
	}
	return nil
}

// formatsWith lists the formats whose encoder has a property, as format=NAME.
func formatsWith(has func(*Encoder) bool) []string {
	var out []string
	for _, c := range codecs() {
		if c.writes() && has(c.Encoder) {
			out = append(out, "format="+string(c.Format))
		}
	}
	return out
}

// autoFormat is the output format when the client asked for format=auto, or
// when the input's format cannot be written: the first format of accept the
// service writes (the client's best modern format), else JPEG for an opaque
// image and PNG for one with alpha.
func autoFormat(accept []Format, in Info) Format {
	for _, f := range accept {
		if f.CanEncode() {
			return f
		}
	}
	if in.hdr.alpha {
		return FormatPNG
	}
	return FormatJPEG
}

func (pl *Plan) resize(w, h int) (int, int) {
	o := pl.Options
	tw, th := o.Width, o.Height
	switch {
	case tw == 0 && th == 0:
		return w, h
	case th == 0:
		th = max(1, int(math.Round(float64(h)*float64(tw)/float64(w))))
	case tw == 0:
		tw = max(1, int(math.Round(float64(w)*float64(th)/float64(h))))
	default:
		switch o.Fit {
		case FitContain, FitInside:
			s := math.Min(float64(tw)/float64(w), float64(th)/float64(h))
			rw, rh := max(1, int(math.Round(float64(w)*s))), max(1, int(math.Round(float64(h)*s)))
			if o.Fit == FitContain && (rw != tw || rh != th) {
				pl.padWidth, pl.padHeight = tw, th
			}
			pl.resizeWidth, pl.resizeHeight = rw, rh
			if o.Fit == FitContain {
				return tw, th
			}
			return rw, rh
		case FitCover:
			s := math.Max(float64(tw)/float64(w), float64(th)/float64(h))
			pl.resizeWidth = max(tw, int(math.Round(float64(w)*s)))
			pl.resizeHeight = max(th, int(math.Round(float64(h)*s)))
			return tw, th
		}
	}
	pl.resizeWidth, pl.resizeHeight = tw, th
	return tw, th
}

// filterTaps is the work of a Gaussian filter of the given sigma on w×h
// pixels, as disintegration/imaging runs it: two passes of 2⌈3σ⌉+1 taps.
func filterTaps(w, h int, sigma float64) int64 {
	if sigma <= 0 {
		return 0
	}
	return int64(w) * int64(h) * (2*int64(math.Ceil(3*sigma)) + 1) * 2
}

// checkFilterWork refuses blur and sharpen whose work would outlast a job's
// deadline: once started they cannot be interrupted, and the worker would
// stay busy long after the client got its 503.
func (p *Pipeline) checkFilterWork(w, h int, o Options) error {
	taps := filterTaps(w, h, o.Blur) + filterTaps(w, h, o.Sharpen)
	if taps <= p.limits.MaxFilterTaps {
		return nil
	}
	field, sigma := OptBlur, o.Blur
	if o.Sharpen > o.Blur {
		field, sigma = OptSharpen, o.Sharpen
	}
	return Errorf(CodeInvalidOption, "%s sigma %g on a %d×%d output needs about %.1f billion filter taps; the limit is %.1f billion",
		field, sigma, w, h, float64(taps)/1e9, float64(p.limits.MaxFilterTaps)/1e9).WithField(field).
		WithHint("the cost grows with sigma × output pixels: use a smaller sigma or a smaller output (a blurred image loses nothing when downscaled first)").WithLimit(LimitFilterTaps)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func rotatedBounds(w, h int, deg float64) (int, int) {
	a := math.Mod(math.Abs(deg), 360)
	switch a {
	case 0, 180:
		return w, h
	case 90, 270:
		return h, w
	}
	sin, cos := math.Sincos(deg * math.Pi / 180)
	sin, cos = math.Abs(sin), math.Abs(cos)
	return int(math.Ceil(float64(w)*cos+float64(h)*sin)) + 1, int(math.Ceil(float64(w)*sin+float64(h)*cos)) + 1
}
