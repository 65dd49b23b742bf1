package imaging

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"time"

	"github.com/buckket/go-blurhash"
	imgops "github.com/disintegration/imaging"
)

// OptPlaceholder asks /v1/info for a Placeholder. It is not an option of
// Process.
const OptPlaceholder = "placeholder"

// The BlurHash components of a Placeholder, and the long side of the copy
// it is computed from: BlurHash keeps 4×3 cosines, which 64 pixels hold
// many times over.
const (
	BlurHashX       = 4
	BlurHashY       = 3
	placeholderSide = 64
)

// Placeholder is what a page shows while the image loads.
type Placeholder struct {
	// BlurHash is the image's BlurHash (blurha.sh) with BlurHashX×BlurHashY
	// components: 4+2×12 = 28 characters.
	BlurHash string `json:"blurhash"`
	// DominantColor is the colour most of the image has, as #rrggbb.
	DominantColor string `json:"dominant_color"`
}

// ParsePlaceholder parses the placeholder option's values (as
// ParseOptions does a boolean option); field is how the option is named in
// an Error. Returns CodeInvalidOption for a value that is not a boolean, or
// for differing values.
func ParsePlaceholder(vs []string, field string) (bool, error) {
	for _, v := range vs[min(1, len(vs)):] {
		if v != vs[0] {
			return false, Errorf(CodeInvalidOption, "option %q is given more than once, with different values %q and %q", OptPlaceholder, truncate(vs[0], 64), truncate(v, 64)).
				WithField(field).WithHint("give %s once, either as a query parameter or as a form field / JSON option", OptPlaceholder)
		}
	}
	v := ""
	if len(vs) > 0 {
		v = vs[0]
	}
	return parseBool(v, field)
}

// Placeholder computes src's Placeholder from a copy of at most
// placeholderSide pixels a side, decoded with shrink-on-load where the
// format has it, oriented and converted to sRGB. The BlurHash sees
// transparent pixels flattened onto white; the dominant colour ignores
// them. It is planned, limited and charged on the Runner as
// a Process job making that copy would be, and returns the errors Process
// returns.
func (p *Pipeline) Placeholder(ctx context.Context, src []byte) (Placeholder, error) {
	opt := DefaultOptions()
	opt.Width, opt.Height, opt.Fit = placeholderSide, placeholderSide, FitInside
	opt.Format = FormatPNG // keeps alpha, so the dominant colour can skip transparent pixels
	pl, err := p.Plan(src, opt)
	if err != nil {
		return Placeholder{}, err
	}
	var ph Placeholder
	var jobErr error
	if err := p.runner.Do(ctx, pl.Cost, func(ctx context.Context) {
		ph, jobErr = p.placeholder(ctx, src, pl)
	}); err != nil {
		return Placeholder{}, err
	}
	return ph, jobErr
}

func (p *Pipeline) placeholder(ctx context.Context, src []byte, pl Plan) (ph Placeholder, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = (&Error{Code: CodeInternal, Detail: "image processing failed"}).Wrap(fmt.Errorf("panic: %v", r))
		}
	}()
	defer p.native.hold(pl.Native)()
	t := time.Now()
	img, _, err := p.decode(src, pl)
	if err != nil {
		return Placeholder{}, err
	}
	p.observe(PhaseDecode, pl.Info.Format, time.Since(t))
	if err := checkCtx(ctx); err != nil {
		return Placeholder{}, err
	}
	t = time.Now()
	var ct colourStep
	if pl.colour.convert {
		cmyk, ch := false, 3
		if _, ok := img.(*image.CMYK); ok {
			cmyk, ch = true, 4
		} else if pl.Info.hdr.gray {
			ch = 1
		}
		ct = p.colourStep(pl, cmyk, ch)
	}
	small := imgops.Clone(p.transform(img, pl, ct.t)) // an NRGBA at the origin, as blurhash reads it
	ph.BlurHash, err = blurhash.Encode(BlurHashX, BlurHashY, flatten(small, pl.Options))
	if err != nil {
		return Placeholder{}, (&Error{Code: CodeInternal, Detail: "the BlurHash could not be computed"}).Wrap(err)
	}
	c := dominantColor(small)
	ph.DominantColor = fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B)
	p.observe(PhaseTransform, pl.Info.Format, time.Since(t))
	return ph, nil
}

// dominantColor is the colour most of img's pixels are near: the pixels
// fall into 8×8×8 boxes of RGB; the box that, with its 26 neighbours, holds
// the most pixels wins (so a colour on a box edge is not split in two), and
// the answer is the mean of those pixels. Transparent pixels count for
// nothing.
func dominantColor(img *image.NRGBA) color.NRGBA {
	const levels = 8
	type bin struct{ n, r, g, b int }
	var bins [levels * levels * levels]bin
	idx := func(r, g, b int) int { return (r*levels+g)*levels + b }
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := img.Pix[img.PixOffset(b.Min.X, y):img.PixOffset(b.Max.X, y)]
		for i := 0; i < len(row); i += 4 {
			r, g, bl, a := int(row[i]), int(row[i+1]), int(row[i+2]), int(row[i+3])
			if a < 128 {
				continue
			}
			k := &bins[idx(r*levels/256, g*levels/256, bl*levels/256)]
			k.n, k.r, k.g, k.b = k.n+1, k.r+r, k.g+g, k.b+bl
		}
	}
	var best bin
	for r := range levels {
		for g := range levels {
			for bl := range levels {
				if bins[idx(r, g, bl)].n == 0 {
					continue
				}
				var s bin
				for nr := max(r-1, 0); nr <= min(r+1, levels-1); nr++ {
					for ng := max(g-1, 0); ng <= min(g+1, levels-1); ng++ {
						for nb := max(bl-1, 0); nb <= min(bl+1, levels-1); nb++ {
							k := bins[idx(nr, ng, nb)]
							s.n, s.r, s.g, s.b = s.n+k.n, s.r+k.r, s.g+k.g, s.b+k.b
						}
					}
				}
				if s.n > best.n {
					best = s
				}
			}
		}
	}
	if best.n == 0 {
		return color.NRGBA{A: 255} // nothing opaque
	}
	n := best.n
	return color.NRGBA{uint8((best.r + n/2) / n), uint8((best.g + n/2) / n), uint8((best.b + n/2) / n), 255}
}
