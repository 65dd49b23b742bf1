package imaging

import (
	"image"
	"image/color"

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
	// webpLossless is a VP8L image; webpAlpha a lossy one with an alpha plane.
	webpLossless, webpAlpha bool
}

// readHeader fills in the header facts of an image whose format and
// image.Config are known.
func readHeader(f Format, b []byte, cfg image.Config) header {
	h := header{bpp: bytesPerPixel(cfg.ColorModel)}
	switch f {
	case FormatJPEG:
		h.jpeg = jpegscale.Probe(b)
	case FormatPNG:
		if len(b) >= 29 {
			depth, ctype := int(b[24]), b[25]
			channels := map[byte]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
			h.pngRowBytes = (cfg.Width*max(channels, 1)*depth + 7) / 8
			h.pngInterlaced = b[28] == 1
		}
	case FormatWebP:
		h.webpLossless = riffChunk(b, "VP8L") != nil
		h.webpAlpha = cfg.ColorModel == color.NYCbCrAModel
	}
	return h
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

// decodePath says which decoder runs and what it costs: the peak bytes it
// allocates, and the size and bytes per pixel of the image it returns.
type decodePath struct {
	name string // for tests and logs: "jpegscale", "png", "image/jpeg", …
	peak int64
	w, h int
	bpp  int64
	// boxable is an image type boxShrink reads (NRGBA, RGBA, Gray, YCbCr);
	// others go to the Lanczos resize whole.
	boxable bool
}

// decodePath is decided from the header alone, before admission.
func (pl *Plan) decodePath() decodePath {
	in := pl.Info
	w, h := int64(in.Width), int64(in.Height)
	hd := in.hdr
	switch in.Format {
	case FormatJPEG:
		if hd.jpeg.Err == nil {
			s := int64(pl.DecodeScale)
			bpp := int64(3)
			switch hd.jpeg.Components {
			case 1:
				bpp = 1
			case 4:
				bpp = 4
			}
			return decodePath{name: "jpegscale", peak: hd.jpeg.Cost(pl.DecodeScale),
				w: int((w + s - 1) / s), h: int((h + s - 1) / s), bpp: bpp, boxable: bpp != 4}
		}
		return decodePath{name: "image/jpeg", peak: stdJPEGCost(in), w: in.Width, h: in.Height, bpp: 4, boxable: hd.jpeg.Components != 4}
	case FormatPNG:
		kx, ky := max(pl.boxX, 1), max(pl.boxY, 1)
		return decodePath{name: "png", peak: pngDecodeCost(in.Width, in.Height, kx, ky, hd.pngInterlaced, hd.pngRowBytes),
			w: ceilDiv(in.Width, kx), h: ceilDiv(in.Height, ky), bpp: 4, boxable: true}
	case FormatGIF:
		// The first frame, paletted, and the LZW decoder's buffers.
		return decodePath{name: "image/gif", peak: w*h + decoderFixed, w: in.Width, h: in.Height, bpp: 1}
	case FormatBMP:
		return decodePath{name: "x/image/bmp", peak: w*h*hd.bpp + w*4 + decoderFixed, w: in.Width, h: in.Height, bpp: hd.bpp, boxable: hd.bpp == 4}
	case FormatTIFF:
		// The image, and one strip or tile of raw samples read whole
		// (at most the image at the same bytes per pixel), which grows by
		// copying while a compressed strip inflates.
		return decodePath{name: "x/image/tiff", peak: w*h*hd.bpp*7/2 + decoderFixed, w: in.Width, h: in.Height, bpp: hd.bpp,
			boxable: hd.bpp == 4 && in.hdr.bpp != 0}
	case FormatWebP:
		switch {
		case hd.webpLossless:
			// ARGB words while decoding, then the NRGBA result.
			return decodePath{name: "x/image/webp lossless", peak: w*h*9 + decoderFixed, w: in.Width, h: in.Height, bpp: 4, boxable: true}
		case hd.webpAlpha:
			// YCbCr 4:2:0 and the alpha plane, which is decoded as a
			// lossless image first.
			return decodePath{name: "x/image/webp lossy+alpha", peak: w*h*11 + decoderFixed, w: in.Width, h: in.Height, bpp: 3}
		}
		return decodePath{name: "x/image/webp lossy", peak: w*h*2 + decoderFixed, w: in.Width, h: in.Height, bpp: 2, boxable: true}
	}
	return decodePath{name: "none", peak: decoderFixed, w: in.Width, h: in.Height, bpp: 4}
}

// stdJPEGCost is what image/jpeg allocates for a full decode: the component
// planes (MCU-padded), the coefficients a progressive image keeps (an int32
// for every sample), and the conversion of RGB- or CMYK-coded images.
func stdJPEGCost(in Info) int64 {
	comps := int64(in.hdr.jpeg.Components)
	if comps == 0 {
		comps = 4 // the header did not say: assume the largest
	}
	pw, ph := int64(in.Width+31)/32*32, int64(in.Height+31)/32*32
	n := comps * pw * ph
	if in.Progressive || in.hdr.jpeg.Progressive {
		n += comps * pw * ph * 4
	}
	if comps >= 3 {
		n += pw * ph * 4
	}
	return n + decoderFixed
}

// estimateCost is the peak memory a job allocates: the decode, then the
// chain of images the transform makes, then the encode. Each step holds its
// input and its output, and the garbage of the step before it may not be
// swept yet (the collector runs beside the job), so a step is charged with
// three images of the chain. The source bytes are not counted: they are
// charged to the request's body memory. TestPlan_costBoundsPeakHeap checks
// the estimate against the measured peak heap on every decoder path.
func (pl *Plan) estimateCost() int64 {
	d := pl.decodePath()
	chain := pl.transformChain(d)
	prev := max(d.peak-chain[0], 0) // the decoder's scratch, garbage once it returns
	peak := d.peak
	for i := 1; i < len(chain); i++ {
		peak = max(peak, prev+chain[i-1]+chain[i])
		prev = chain[i-1]
	}
	if pl.Options.Sharpen > 0 {
		// Sharpen holds its input, the blurred copy and its output.
		out := int64(pl.OutWidth) * int64(pl.OutHeight) * 4
		peak = max(peak, 4*out)
	}
	last := chain[len(chain)-1]
	peak = max(peak, prev+last+pl.encodeCost())
	// Goroutines, row buffers, and garbage the collector lags behind on
	// when many small steps follow each other.
	return peak + peak/8 + 1<<20
}

// transformChain lists the bytes of the images the transform makes, in
// order, starting with the decoded one (see Pipeline.transform).
func (pl *Plan) transformChain(d decodePath) []int64 {
	o := pl.Options
	nrgba := func(w, h int) int64 { return int64(w) * int64(h) * 4 }
	chain := []int64{int64(d.w) * int64(d.h) * d.bpp}
	w, h := d.w, d.h
	boxable := d.boxable
	if o.AutoOrient && pl.Info.Orientation > 1 {
		chain = append(chain, nrgba(w, h))
		boxable = true
		if pl.Info.Orientation >= 5 {
			w, h = h, w
		}
	}
	if !o.Crop.Empty() {
		w, h = o.Crop.Dx(), o.Crop.Dy()
		chain = append(chain, nrgba(w, h))
		boxable = true
	}
	if pl.resizeWidth > 0 {
		rw, rh := pl.resizeWidth, pl.resizeHeight
		if kx, ky := min(w/(2*rw), maxBoxFactor), min(h/(2*rh), maxBoxFactor); boxable && (kx >= 2 || ky >= 2) {
			w, h = ceilDiv(w, max(kx, 1)), ceilDiv(h, max(ky, 1))
			chain = append(chain, nrgba(w, h))
		}
		if w != rw && h != rh {
			chain = append(chain, nrgba(rw, h)) // the horizontal pass
		}
		chain = append(chain, nrgba(rw, rh))
		if o.Fit == FitCover && o.Width > 0 && o.Height > 0 {
			chain = append(chain, nrgba(o.Width, o.Height))
		}
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
		chain = append(chain, out, out)
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

// encodeCost is what an encoder allocates besides the image it encodes: the
// output buffer as it grows (incompressible pixels give an output as large
// as the raw samples), the palette image of a GIF, and the copy keepEXIF
// makes.
func (pl *Plan) encodeCost() int64 {
	px := int64(pl.OutWidth) * int64(pl.OutHeight)
	switch pl.OutFormat {
	case FormatJPEG:
		return px*3 + encoderFixed
	case FormatGIF:
		return px*3 + encoderFixed
	}
	return px*4*2 + encoderFixed
}
