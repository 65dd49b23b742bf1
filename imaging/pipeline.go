package imaging

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"runtime"
	"time"
)

// Phase names the steps of a job, for timing.
type Phase string

// The phases of a job.
const (
	PhaseDecode    Phase = "decode"
	PhaseTransform Phase = "transform"
	PhaseEncode    Phase = "encode"
)

// Result is a processed, encoded image.
type Result struct {
	Data   []byte
	Format Format
	Width  int
	Height int
	Input  Info
	// Warnings lists what was worked around: a broken ICC profile ignored,
	// color_profile=keep not honoured, …
	Warnings []Warning
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
	// native lowers the Go memory limit while native codecs run.
	native *nativeMemory
	// colours holds the colour transforms built so far, by profile.
	colours *colourCache
}

// NewPipeline returns a Pipeline that runs its jobs on r. observe may be nil.
func NewPipeline(l Limits, r Runner, observe PhaseFunc) *Pipeline {
	if observe == nil {
		observe = func(Phase, Format, time.Duration) {}
	}
	return &Pipeline{limits: l.withDefaults(), runner: r, observe: observe, shrinkOnLoad: true,
		procs: runtime.GOMAXPROCS(0), native: newNativeMemory(), colours: newColourCache(defaultColourCacheBytes)}
}

// Limits returns the limits in force.
func (p *Pipeline) Limits() Limits { return p.limits }

// Process decodes src, applies opt and encodes the result. It checks the
// input and output sizes from the header first, then runs the work on the
// Runner. The operations apply in this order: decode, auto-orient, crop,
// resize (fit, gravity), rotate, flip, blur, sharpen, grayscale, brightness,
// contrast, gamma, overlay, flatten onto the background (formats without
// alpha), encode. An animation kept animated (see Plan.Frames) goes through
// them frame by frame.
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

// Run executes a plan made by Plan. It checks ctx between phases; a job
// whose context ends returns CodeProcessingTimeout.
func (p *Pipeline) Run(ctx context.Context, src []byte, pl Plan) (res Result, err error) {
	defer func() {
		// A decoder or transform bug must cost one request, not the process.
		if r := recover(); r != nil {
			err = (&Error{Code: CodeInternal, Detail: "image processing failed"}).Wrap(fmt.Errorf("panic: %v", r))
		}
	}()
	defer p.native.hold(pl.Native)()
	if pl.Frames > 1 {
		return p.runAnimation(ctx, src, pl)
	}
	if pl.transcode {
		if res, ok := p.transcode(src, pl); ok {
			if err := checkCtx(ctx); err != nil {
				return Result{}, err
			}
			return res, nil
		}
	}
	o := pl.Options
	t := time.Now()
	img, damage, err := p.decode(src, pl)
	if err != nil {
		return Result{}, err
	}
	p.observe(PhaseDecode, pl.Info.Format, time.Since(t))
	if err := checkCtx(ctx); err != nil {
		return Result{}, err
	}

	t = time.Now()
	var cs colourStep
	if pl.colour.convert || pl.colour.keep {
		cmyk := false
		ch := 3
		switch img.(type) {
		case *image.CMYK:
			cmyk, ch = true, 4
		default:
			if pl.Info.hdr.gray {
				ch = 1
			}
		}
		cs = p.colourStep(pl, cmyk, ch)
	}
	img = p.transform(img, pl, cs.t)
	if err := checkCtx(ctx); err != nil {
		return Result{}, err
	}
	img, ovWarnings, err := p.applyOverlay(ctx, img, pl)
	if err != nil {
		return Result{}, err
	}
	cs.warnings = append(cs.warnings, ovWarnings...)
	p.observe(PhaseTransform, pl.Info.Format, time.Since(t))
	if err := checkCtx(ctx); err != nil {
		return Result{}, err
	}

	t = time.Now()
	if pl.colour.keep && cs.t == nil && len(cs.warnings) == 0 {
		if o.icc, err = pl.Info.hdr.icc.bytes(); err != nil {
			cs.warnings = append(cs.warnings, Warning{WarnProfileNotKept, "color_profile=keep was not honoured: the profile could not be read (" + err.Error() + "), so the output carries none"})
		}
	}
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
	return Result{Data: data, Format: pl.OutFormat, Width: b.Dx(), Height: b.Dy(), Input: pl.Info, Warnings: append(append(damage, cs.warnings...), pl.flattenWarning()...)}, nil
}

func checkCtx(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return Errorf(CodeProcessingTimeout, "the job was stopped before it finished (%v)", err).Wrap(err).
			WithHint("ask for a smaller output or a simpler set of operations, or retry later")
	}
	return nil
}

// decode runs the decoder the header chose, at the plan's scale. An image
// made from damaged data comes with warnings (see settleDamage).
func (p *Pipeline) decode(b []byte, pl Plan) (image.Image, []Warning, error) {
	c := codecOf(pl.Info.Format)
	if c == nil || !c.reads() {
		return nil, nil, UnsupportedFormatError(b)
	}
	img, err := c.Decoder.Decode(b, pl.Info, pl.scale, p.procs)
	if err != nil {
		img, ws, derr := settleDamage(pl.Info.Format, b, err, pl.Options.Partial)
		if derr == err {
			return nil, nil, corrupt(pl.Info.Format, err)
		}
		return img, ws, derr
	}
	return img, nil, nil
}

func encode(w *bytes.Buffer, img image.Image, f Format, o Options) error {
	e := f.encoder()
	if e == nil {
		return fmt.Errorf("no encoder for %q", f)
	}
	return e.Encode(w, img, o)
}
