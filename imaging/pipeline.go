package imaging

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"runtime"
	"strings"
	"time"

	"github.com/disintegration/imaging"
)

// Limits bound what one request may cost. Zero values mean the defaults.
type Limits struct {
	MaxInputPixels  int64 // width × height of the input, read from its header
	MaxOutputPixels int64 // width × height of the output, computed before any work
	// MaxFilterTaps bounds the work of blur and sharpen: output pixels ×
	// kernel taps × 2 passes. The filters cannot be interrupted, so this is
	// what keeps a job within its deadline.
	MaxFilterTaps int64
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
	return l
}

// Phase names the steps of a job, for timing.
type Phase string

// The phases of a job.
const (
	PhaseDecode    Phase = "decode"
	PhaseTransform Phase = "transform"
	PhaseEncode    Phase = "encode"
)

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
	scale        Scale // the shrink-on-load factors the decoder applies
	resizeWidth  int   // target of the resize step, 0 when there is none
	resizeHeight int
	padWidth     int // contain: the canvas the resized image is centred on
	padHeight    int
}

// Result is a processed, encoded image.
type Result struct {
	Data   []byte
	Format Format
	Width  int
	Height int
	Input  Info
}

// Runner runs jobs; *Pool is the implementation.
type Runner interface {
	Do(ctx context.Context, cost int64, job func(ctx context.Context)) error
}

// PhaseFunc observes how long a phase of a job took, by input or output format.
type PhaseFunc func(phase Phase, format Format, d time.Duration)

// Pipeline plans and runs image jobs on a Runner.
type Pipeline struct {
	limits  Limits
	runner  Runner
	observe PhaseFunc
	// shrinkOnLoad lets decoders shrink while they decode; tests turn it
	// off to compare with a full-size decode.
	shrinkOnLoad bool
	// procs is how many goroutines a job's box shrink may use.
	procs int
}

// NewPipeline returns a Pipeline that runs its jobs on r. observe may be nil.
func NewPipeline(l Limits, r Runner, observe PhaseFunc) *Pipeline {
	if observe == nil {
		observe = func(Phase, Format, time.Duration) {}
	}
	return &Pipeline{limits: l.withDefaults(), runner: r, observe: observe, shrinkOnLoad: true,
		procs: runtime.GOMAXPROCS(0)}
}

// Limits returns the limits in force.
func (p *Pipeline) Limits() Limits { return p.limits }

// Process decodes src, applies opt and encodes the result. It checks the
// input and output sizes from the header first, then runs the work on the
// Runner. The operations apply in this order: decode, auto-orient, crop,
// resize (fit, gravity), rotate, flip, blur, sharpen, grayscale, brightness,
// contrast, gamma, flatten onto the background (formats without alpha), encode.
func (p *Pipeline) Process(ctx context.Context, src []byte, opt Options) (Result, error) {
	plan, err := p.Plan(src, opt)
	if err != nil {
		return Result{}, err
	}
	var res Result
	var jobErr error
	if err := p.runner.Do(ctx, plan.Cost, func(ctx context.Context) {
		res, jobErr = p.Run(ctx, src, plan)
	}); err != nil {
		return Result{}, err
	}
	return res, jobErr
}

// Plan reads src's header and works out the output size, the decode scale
// and the job's cost, refusing images and outputs over the limits.
func (p *Pipeline) Plan(src []byte, opt Options) (Plan, error) {
	info, err := Inspect(src)
	if err != nil {
		return Plan{}, err
	}
	if info.Pixels() > p.limits.MaxInputPixels {
		return Plan{}, Errorf(CodeImageTooLarge, "the image is %d×%d = %d pixels; the limit is %d pixels",
			info.Width, info.Height, info.Pixels(), p.limits.MaxInputPixels).
			WithHint("downscale the image before sending it, or ask the operator to raise -max-input-pixels")
	}
	pl := Plan{Info: info, Options: opt, OutFormat: opt.Format, DecodeScale: 1}
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
			WithHint("ask for a smaller width/height, or ask the operator to raise -max-output-pixels")
	}
	if err := p.checkFilterWork(w, h, opt); err != nil {
		return Plan{}, err
	}
	pl.scale = Scale{1, 1}
	if dec := codecOf(info.Format).Decoder; dec.Shrink != nil && p.shrinkOnLoad && opt.Crop.Empty() && pl.resizeWidth > 0 {
		// The decoder shrinks the image as stored: turn the target with it.
		tw, th := pl.resizeWidth, pl.resizeHeight
		if opt.AutoOrient && info.Orientation >= 5 {
			tw, th = th, tw
		}
		pl.scale = dec.Shrink(info, tw, th)
	}
	pl.DecodeScale = max(pl.scale.X, pl.scale.Y)
	pl.Cost = pl.estimateCost()
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
		if c.Encoder != nil && has(c.Encoder) {
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
		WithHint("the cost grows with sigma × output pixels: use a smaller sigma or a smaller output (a blurred image loses nothing when downscaled first)")
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

// Run executes a plan made by Plan. It checks ctx between phases; a job
// whose context ends returns CodeProcessingTimeout.
func (p *Pipeline) Run(ctx context.Context, src []byte, pl Plan) (res Result, err error) {
	defer func() {
		// A decoder or transform bug must cost one request, not the process.
		if r := recover(); r != nil {
			err = (&Error{Code: CodeInternal, Detail: "image processing failed"}).Wrap(fmt.Errorf("panic: %v", r))
		}
	}()
	o := pl.Options
	t := time.Now()
	img, err := p.decode(src, pl)
	if err != nil {
		return Result{}, err
	}
	p.observe(PhaseDecode, pl.Info.Format, time.Since(t))
	if err := checkCtx(ctx); err != nil {
		return Result{}, err
	}

	t = time.Now()
	img = p.transform(img, pl)
	p.observe(PhaseTransform, pl.Info.Format, time.Since(t))
	if err := checkCtx(ctx); err != nil {
		return Result{}, err
	}

	t = time.Now()
	var buf bytes.Buffer
	buf.Grow(pl.OutWidth * pl.OutHeight / 4)
	if err := encode(&buf, img, pl.OutFormat, o); err != nil {
		return Result{}, (&Error{Code: CodeInternal, Detail: "encoding failed"}).Wrap(err)
	}
	data := buf.Bytes()
	if !o.Strip && pl.OutFormat == FormatJPEG && pl.Info.Format == FormatJPEG {
		data = keepEXIF(data, src, o.AutoOrient)
	}
	p.observe(PhaseEncode, pl.OutFormat, time.Since(t))
	b := img.Bounds()
	return Result{Data: data, Format: pl.OutFormat, Width: b.Dx(), Height: b.Dy(), Input: pl.Info}, nil
}

func checkCtx(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return Errorf(CodeProcessingTimeout, "the job was stopped before it finished (%v)", err).Wrap(err).
			WithHint("ask for a smaller output or a simpler set of operations, or retry later")
	}
	return nil
}

// decode runs the decoder the header chose, at the plan's scale.
func (p *Pipeline) decode(b []byte, pl Plan) (image.Image, error) {
	c := codecOf(pl.Info.Format)
	if c == nil || c.Decoder == nil {
		return nil, UnsupportedFormatError(b)
	}
	img, err := c.Decoder.Decode(b, pl.Info, pl.scale)
	if err != nil {
		return nil, corrupt(pl.Info.Format, err)
	}
	return img, nil
}

func (p *Pipeline) transform(img image.Image, pl Plan) image.Image {
	o := pl.Options
	if o.AutoOrient {
		img = orient(img, pl.Info.Orientation)
	}
	if !o.Crop.Empty() {
		r := o.Crop.Add(img.Bounds().Min)
		img = imaging.Crop(img, r)
	}
	if pl.resizeWidth > 0 {
		b := img.Bounds()
		if b.Dx() != pl.resizeWidth || b.Dy() != pl.resizeHeight {
			img = resize(img, pl.resizeWidth, pl.resizeHeight, p.procs)
		}
		if o.Fit == FitCover && pl.resizeWidth > 0 && (pl.resizeWidth != o.Width || pl.resizeHeight != o.Height) && o.Width > 0 && o.Height > 0 {
			img = imaging.CropAnchor(img, o.Width, o.Height, anchor(o.Gravity))
		}
		if pl.padWidth > 0 {
			canvas := imaging.New(pl.padWidth, pl.padHeight, padColor(o, pl.OutFormat))
			img = imaging.PasteCenter(canvas, img)
		}
	}
	if o.Rotate != 0 {
		img = rotate(img, o.Rotate, padColor(o, pl.OutFormat))
	}
	switch o.Flip {
	case "h":
		img = imaging.FlipH(img)
	case "v":
		img = imaging.FlipV(img)
	}
	if o.Blur > 0 {
		img = imaging.Blur(img, o.Blur)
	}
	if o.Sharpen > 0 {
		img = imaging.Sharpen(img, o.Sharpen)
	}
	if o.Grayscale {
		img = imaging.Grayscale(img)
	}
	if o.Brightness != 0 {
		img = imaging.AdjustBrightness(img, o.Brightness)
	}
	if o.Contrast != 0 {
		img = imaging.AdjustContrast(img, o.Contrast)
	}
	if o.Gamma != 1 && o.Gamma > 0 {
		img = imaging.AdjustGamma(img, o.Gamma)
	}
	if !pl.OutFormat.HasAlpha() && !isOpaque(img) {
		img = flatten(img, o)
	}
	return img
}

// padColor is the colour of padding and of corners uncovered by rotation:
// the background option, else transparent where the output format has alpha
// and white where it has not.
func padColor(o Options, f Format) color.Color {
	if o.HasBackground {
		return o.Background
	}
	if f.HasAlpha() {
		return color.NRGBA{}
	}
	return color.White
}

func anchor(g Gravity) imaging.Anchor {
	switch g {
	case GravityNorth:
		return imaging.Top
	case GravitySouth:
		return imaging.Bottom
	case GravityEast:
		return imaging.Right
	case GravityWest:
		return imaging.Left
	case GravityNorthEast:
		return imaging.TopRight
	case GravityNorthWest:
		return imaging.TopLeft
	case GravitySouthEast:
		return imaging.BottomRight
	case GravitySouthWest:
		return imaging.BottomLeft
	}
	return imaging.Center
}

// orient applies an EXIF orientation so the image displays upright.
func orient(img image.Image, o int) image.Image {
	switch o {
	case 2:
		return imaging.FlipH(img)
	case 3:
		return imaging.Rotate180(img)
	case 4:
		return imaging.FlipV(img)
	case 5:
		return imaging.Transpose(img)
	case 6:
		return imaging.Rotate270(img)
	case 7:
		return imaging.Transverse(img)
	case 8:
		return imaging.Rotate90(img)
	}
	return img
}

// rotate turns img clockwise by deg degrees; imaging rotates counter-clockwise.
func rotate(img image.Image, deg float64, bg color.Color) image.Image {
	switch math.Mod(deg+720, 360) {
	case 0:
		return img
	case 90:
		return imaging.Rotate270(img)
	case 180:
		return imaging.Rotate180(img)
	case 270:
		return imaging.Rotate90(img)
	}
	return imaging.Rotate(img, -deg, bg)
}

func isOpaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}

// flatten composes img over the background colour (white by default), for
// output formats without alpha.
func flatten(img image.Image, o Options) image.Image {
	bg := color.NRGBA{255, 255, 255, 255}
	if o.HasBackground {
		bg = o.Background
		bg.A = 255
	}
	b := img.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), &image.Uniform{bg}, image.Point{}, draw.Src)
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Over)
	return dst
}

func encode(w *bytes.Buffer, img image.Image, f Format, o Options) error {
	e := f.encoder()
	if e == nil {
		return fmt.Errorf("no encoder for %q", f)
	}
	return e.Encode(w, img, o)
}

// keepEXIF copies the source's Exif APP1 segment into a JPEG output, with
// the orientation reset to 1 when the pixels were already turned upright.
func keepEXIF(out, src []byte, oriented bool) []byte {
	start, end := jpegEXIFSegment(src)
	if start < 0 || len(out) < 2 {
		return out
	}
	seg := bytes.Clone(src[start:end])
	if oriented {
		setTIFFOrientation(seg[10:], 1) // after FF E1, length, "Exif\0\0"
	}
	res := make([]byte, 0, len(out)+len(seg))
	res = append(res, out[:2]...)
	res = append(res, seg...)
	return append(res, out[2:]...)
}

func setTIFFOrientation(t []byte, v uint16) {
	if len(t) < 8 {
		return
	}
	le := string(t[:2]) == "II"
	u16 := func(b []byte) int {
		if le {
			return int(b[0]) | int(b[1])<<8
		}
		return int(b[0])<<8 | int(b[1])
	}
	u32 := func(b []byte) int64 {
		if le {
			return int64(b[0]) | int64(b[1])<<8 | int64(b[2])<<16 | int64(b[3])<<24
		}
		return int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3])
	}
	off := u32(t[4:])
	if off < 8 || off+2 > int64(len(t)) {
		return
	}
	n := int64(u16(t[off:]))
	for k := int64(0); k < n; k++ {
		e := off + 2 + 12*k
		if e+12 > int64(len(t)) {
			return
		}
		if u16(t[e:]) == 0x0112 {
			if le {
				t[e+8], t[e+9] = byte(v), byte(v>>8)
			} else {
				t[e+8], t[e+9] = byte(v>>8), byte(v)
			}
			return
		}
	}
}
