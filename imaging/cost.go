package imaging

import (
	"image"
	"image/color"
	"math"

	"github.com/imgsvc/imgsvc/imaging/internal/heif"
	"github.com/imgsvc/imgsvc/imaging/internal/jpegscale"
)

// header is what an image's header says about the memory its decode takes,
// read by Inspect. Every cost is decided from it before admission.
type header struct {
	// bpp is the bytes per pixel of the image the format's full-size
	// decoder returns (image.Config's colour model).
	bpp int64
	// jpeg is the frame header as the shrink-on-load decoder reads it; its
	// Err says whether that decoder takes the file.
	jpeg jpegscale.Header
	// pngInterlaced and pngRowBytes shape the PNG decoder's buffers.
	pngInterlaced bool
	pngRowBytes   int
	// webpLossless is a VP8L image.
	webpLossless bool
	// alpha says the image may have transparent pixels.
	alpha bool
	// heif is what libheif read of a HEIC or AVIF file.
	heif heif.Header
	// cmyk says the decoder returns CMYK pixels (JPEG and TIFF), which the
	// colour stage turns into sRGB before anything else.
	cmyk bool
	// gray says the image's colour is one channel, as grey ICC profiles need.
	gray bool
	// icc is where the image keeps its ICC profile, if it has one.
	icc embeddedProfile
	// codedPixels is the largest frame the file's coded data declares, where
	// that can exceed its header's size (HEIF items); 0 when it cannot.
	codedPixels int64
}

// headerOf is what an image.Config says of the decode: the bytes per pixel
// and whether the colour model has alpha.
func headerOf(cfg image.Config) header {
	h := header{bpp: bytesPerPixel(cfg.ColorModel), cmyk: cfg.ColorModel == color.CMYKModel,
		gray: cfg.ColorModel == color.GrayModel || cfg.ColorModel == color.Gray16Model}
	switch m := cfg.ColorModel.(type) {
	case color.Palette:
		for _, c := range m {
			if _, _, _, a := c.RGBA(); a != 0xffff {
				h.alpha = true
			}
		}
	default:
		switch m {
		case color.NRGBAModel, color.NRGBA64Model, color.NYCbCrAModel, color.AlphaModel, color.Alpha16Model:
			h.alpha = true
		}
	}
	return h
}

// orientationOf reads the EXIF orientation of a TIFF structure (a TIFF
// file, or the Exif block of another format): 1–8, or 1 when there is none.
func orientationOf(tiff []byte) int {
	if o := tiffOrientation(tiff); o >= 1 && o <= 8 {
		return o
	}
	return 1
}

// bytesPerPixel is the size of a pixel of an image of colour model m, at
// its worst (4:4:4 for YCbCr).
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel, color.NYCbCrAModel:
		return 4
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8 // RGBA64, NRGBA64 and anything unknown
}

// Fixed costs of a job: the decoders' tables and windows, encoder state.
const (
	decoderFixed = 256 << 10
	encoderFixed = 512 << 10
)

// decodeCost is what the decoder the header chose allocates at the plan's
// scale, decided before admission.
func (pl *Plan) decodeCost() DecodeCost {
	c := codecOf(pl.Info.Format)
	if c == nil || c.Decoder == nil {
		return DecodeCost{Path: "none", Peak: decoderFixed, W: pl.Info.Width, H: pl.Info.Height, BPP: 4}
	}
	return c.Decoder.Cost(pl.Info, pl.scale)
}

// estimateCost is the peak memory a job allocates: the decode, then the
// chain of images the transform makes, then the encode. Each step holds its
// input and its output, and the garbage of the step before it may not be
// swept yet (the collector runs beside the job), so a step is charged with
// three images of the chain. The source bytes are not counted: they are
// charged to the request's body memory. TestPlan_costBoundsPeakHeap checks
// the estimate against the measured peak heap on every decoder path.
func (pl *Plan) estimateCost() int64 { return pl.costFrom(pl.decodeCost()) }

// costFrom is estimateCost for the image decode d returns.
func (pl *Plan) costFrom(d DecodeCost) int64 {
	chain := pl.transformChain(d)
	prev := max(d.Peak-chain[0], 0) // the decoder's scratch, garbage once it returns
	peak := d.Peak
	for i := 1; i < len(chain); i++ {
		peak = max(peak, prev+chain[i-1]+chain[i])
		prev = chain[i-1]
	}
	if pl.Options.Sharpen > 0 {
		// Sharpen holds its input, the blurred copy and its output.
		out := int64(pl.OutWidth) * int64(pl.OutHeight) * 4
		peak = max(peak, 4*out)
	}
	if o := pl.Options; o.Gravity == GravitySmart && o.Fit == FitCover && o.Width > 0 && o.Height > 0 {
		peak += smartCropCost
	}
	last := chain[len(chain)-1]
	if pl.overlay.present() {
		var step int64
		step, prev = pl.overlayCost(prev, last)
		peak = max(peak, step)
	}
	peak = max(peak, prev+last+pl.encodeCost())
	if pl.colour.convert || pl.colour.keep {
		// The profile, assembled or inflated, and the transform built from it.
		peak += pl.Info.hdr.icc.size() + colourCost
	}
	// Goroutines, row buffers, and garbage the collector lags behind on
	// when many small steps follow each other.
	return peak + peak/8 + 1<<20
}

// transformChain lists the bytes of the images the transform makes, in
// order, starting with the decoded one (see Pipeline.transform).
func (pl *Plan) transformChain(d DecodeCost) []int64 {
	o := pl.Options
	nrgba := func(w, h int) int64 { return int64(w) * int64(h) * 4 }
	chain := []int64{int64(d.W) * int64(d.H) * d.BPP}
	w, h := d.W, d.H
	boxable := d.Boxable
	if pl.colour.convert && pl.Info.hdr.cmyk {
		// CMYK turns into sRGB first, at the decoded size.
		chain = append(chain, nrgba(w, h))
		boxable = true
	}
	if o.AutoOrient && pl.Info.Orientation > 1 {
		chain = append(chain, nrgba(w, h))
		boxable = true
		if pl.Info.Orientation >= 5 {
			w, h = h, w
		}
	}
	trim := false // a crop from a shrunk decode resizes a little larger, then trims (see Pipeline.crop)
	tw, th := pl.resizeWidth, pl.resizeHeight
	if !o.Crop.Empty() {
		r := pl.scaledCrop(image.Pt(w, h))
		w, h = r.Dx(), r.Dy()
		chain = append(chain, nrgba(w, h))
		boxable = true
		tw, th, _, trim = pl.cropTrim(r)
		if !trim {
			tw, th = pl.resizeWidth, pl.resizeHeight
		}
	}
	if pl.resizeWidth > 0 {
		rw, rh := tw, th
		if kx, ky := min(w/(2*rw), maxBoxFactor), min(h/(2*rh), maxBoxFactor); boxable && (kx >= 2 || ky >= 2) {
			w, h = ceilDiv(w, max(kx, 1)), ceilDiv(h, max(ky, 1))
			chain = append(chain, nrgba(w, h))
		}
		if w != rw && h != rh {
			chain = append(chain, nrgba(rw, h)) // the horizontal pass
		}
		chain = append(chain, nrgba(rw, rh))
		if trim {
			rw, rh = pl.resizeWidth, pl.resizeHeight
			chain = append(chain, nrgba(rw, rh))
		}
		if o.Fit == FitCover && o.Width > 0 && o.Height > 0 {
			chain = append(chain, nrgba(o.Width, o.Height))
			w, h = o.Width, o.Height
		} else {
			w, h = rw, rh
		}
	}
	if pl.colour.convert && !pl.Info.hdr.cmyk {
		// In place on the resized image; a copy when nothing was resized.
		chain = append(chain, nrgba(w, h))
	}
	if pl.resizeWidth > 0 {
		if pl.padWidth > 0 {
			// The canvas, and the copy PasteCenter pastes into.
			chain = append(chain, 2*nrgba(pl.padWidth, pl.padHeight))
		}
	}
	out := nrgba(pl.OutWidth, pl.OutHeight)
	if o.Rotate != 0 {
		chain = append(chain, out)
	}
	if o.Flip != "" {
		chain = append(chain, out)
	}
	if o.Blur > 0 {
		chain = append(chain, out) // blurred in place on one copy
	}
	if o.Sharpen > 0 {
		chain = append(chain, out, out)
	}
	// Flattening onto the background copies an image that has transparent
	// pixels, which only inputs of formats with alpha can bring.
	flatten := !pl.OutFormat.HasAlpha() && pl.Info.Format.HasAlpha()
	for _, on := range []bool{o.Grayscale, o.Brightness != 0, o.Contrast != 0, o.Gamma != 1 && o.Gamma > 0, flatten} {
		if on {
			chain = append(chain, out)
		}
	}
	return chain
}

// nativeCost is the part of the job's cost that native codecs allocate: the
// larger of the decoder's and the encoder's, which do not run at once.
func (pl *Plan) nativeCost() int64 {
	var n int64
	if c := codecOf(pl.Info.Format); c != nil && c.Native != nil && c.Decoder != nil {
		n = pl.decodeCost().Peak
	}
	if c := codecOf(pl.OutFormat); c != nil && c.Native != nil && c.Encoder != nil {
		n = max(n, pl.encodeCost())
	}
	return max(n, pl.overlayNative())
}

// outAlpha says the output may have transparent pixels: the input has
// alpha, or padding or a rotation adds transparent pixels, in a format that
// keeps them.
func (pl *Plan) outAlpha() bool {
	if !pl.OutFormat.HasAlpha() {
		return false
	}
	o := pl.Options
	added := !o.HasBackground && (pl.padWidth > 0 || math.Mod(o.Rotate, 90) != 0)
	return pl.Info.hdr.alpha || added || o.HasBackground && o.Background.A < 255
}

// encodeCost is what the output format's encoder allocates besides the
// image it encodes, and the copy keepEXIF makes.
func (pl *Plan) encodeCost() int64 {
	if e := pl.OutFormat.encoder(); e != nil {
		return e.Cost(pl.OutWidth, pl.OutHeight, pl.outAlpha(), pl.Options) + int64(pl.OutWidth)*int64(pl.OutHeight)/4
	}
	return encoderFixed
}
