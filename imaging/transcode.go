package imaging

import (
	"bytes"
	"encoding/binary"
	"errors"
	"time"

	"github.com/imgsvc/imgsvc/imaging/internal/jpegscale"
)

// PhaseTranscode is a JPEG re-encoded in the DCT domain: its decode and
// encode in one step (see Plan.transcode).
const PhaseTranscode Phase = "transcode"

// canTranscode says whether the job is a JPEG re-encoded as JPEG with no
// pixel operation, which Run does in the DCT domain (jpegscale.Transcode):
// the quantised coefficients are requantised to the quality's tables and
// entropy-coded again, with no IDCT, colour conversion or FDCT. The pixels
// must come out as they are stored: no resize (a width or height equal to
// the image's is none), crop, rotation, flip, filter or tone change; an EXIF
// orientation the DCT domain can apply losslessly, as jpegtran -perfect
// does (1, auto_orient=false, or a mirrored side that is whole MCUs:
// jpegscale.Header.Orientable); no colour conversion (no profile, a profile
// Run finds to be sRGB, or color_profile=keep). The decoder must be
// jpegscale's, for a grey or YCbCr file.
func (pl *Plan) canTranscode() bool {
	o, in := pl.Options, pl.Info
	hd := in.hdr.jpeg
	w, h := in.Width, in.Height
	if o.AutoOrient {
		w, h = in.DisplayWidth, in.DisplayHeight
	}
	return in.Format == FormatJPEG && pl.OutFormat == FormatJPEG &&
		hd.Err == nil && (hd.Components == 1 || hd.Components == 3) && !in.hdr.cmyk &&
		(pl.orientation() == 1 || hd.Orientable(pl.orientation())) &&
		o.Crop.Empty() && o.Rotate == 0 && o.Flip == "" && o.Blur == 0 && o.Sharpen == 0 &&
		!o.Grayscale && o.Brightness == 0 && o.Contrast == 0 && o.Gamma == 1 && !pl.overlay.present() &&
		pl.OutWidth == w && pl.OutHeight == h && pl.padWidth == 0 &&
		(pl.resizeWidth == 0 || pl.resizeWidth == w && pl.resizeHeight == h)
}

// orientation is the EXIF orientation the job turns upright: 1 (none) with
// auto_orient=false.
func (pl *Plan) orientation() int {
	if !pl.Options.AutoOrient || pl.Info.Orientation < 1 {
		return 1
	}
	return pl.Info.Orientation
}

// transcodeOut bounds the transcoded file: the source's entropy-coded data
// requantised to coarser or equal steps and coded with optimised tables
// rarely grows, but a progressive or arithmetic-coded source may be a
// little smaller than its baseline form, and a baseline block costs at
// least two bits however flat the image. A file that would be larger is
// not transcoded (Run falls back to the pixel path), so this is a hard
// bound.
func (pl *Plan) transcodeOut() int64 {
	blocks := pl.Info.hdr.jpeg.Samples() / 64
	return int64(pl.Info.Bytes) + int64(pl.Info.Bytes)/4 + blocks/2 + 16<<10
}

// transcodeCost is the cost of a transcode job, given the pixel path's: its
// own peak holds the coefficients, the output buffer and the metadata
// segments carried over (Exif at most a segment, the profile about the
// source's size). When the transcode fails (damage found part-way, an
// output over budget) the pixel path runs, and its decode may start before
// the coefficients are swept: charged as estimateCost charges the garbage
// of the step before.
func (pl *Plan) transcodeCost(pixel int64) int64 {
	coef := pl.Info.hdr.jpeg.CoefCost()
	segs := int64(64 << 10)
	if pl.colour.keep {
		segs += pl.Info.hdr.icc.size() + pl.Info.hdr.icc.size()/64 // the profile and its APP2 headers
	}
	own := coef + pl.transcodeOut() + segs
	if pl.orientation() >= 5 {
		own += coef // a transpose copies the coefficients
	}
	// Coded on several goroutines, all bands but the first are held
	// until their turn: at most the output again.
	own += pl.transcodeOut()
	fallback := coef + pl.decodeCost().Peak
	return max(pixel, own+own/8+1<<20, fallback+fallback/8+1<<20)
}

// errTranscodeTooBig stops a transcode whose output would exceed the
// buffer priced in.
var errTranscodeTooBig = errors.New("the transcoded file would be larger than its budget")

// capWriter appends to a buffer of fixed capacity, refusing to grow it.
type capWriter struct{ b []byte }

func (w *capWriter) Write(p []byte) (int, error) {
	if len(w.b)+len(p) > cap(w.b) {
		return 0, errTranscodeTooBig
	}
	w.b = append(w.b, p...)
	return len(p), nil
}

// transcode runs a plan with pl.transcode set. It returns false, having
// written nothing, when the job needs the pixel path after all: the
// profile is not sRGB, the file is damaged or not one jpegscale transcodes,
// or the output would exceed its budget. Damage is then reported by the
// pixel path's decoder.
func (p *Pipeline) transcode(src []byte, pl Plan) (Result, bool) {
	o := pl.Options
	t := time.Now()
	if pl.colour.convert {
		// A profile the colour stage would apply; only an sRGB one
		// (no transform, no warning) leaves the pixels as they are.
		ch := 3
		if pl.Info.hdr.gray {
			ch = 1
		}
		if cs := p.colourStep(pl, false, ch); cs.t != nil || len(cs.warnings) > 0 {
			return Result{}, false
		}
	}
	var segs [][]byte
	if !o.Strip {
		// As keepEXIF does for the pixel path.
		if start, end := jpegEXIFSegment(src); start >= 0 {
			seg := bytes.Clone(src[start:end])
			if o.AutoOrient {
				setTIFFOrientation(seg[10:], 1)
			}
			segs = append(segs, seg)
		}
	}
	if pl.colour.keep {
		prof, err := pl.Info.hdr.icc.bytes()
		if err != nil {
			return Result{}, false // the pixel path says why it was not kept
		}
		icc, ok := jpegProfileSegments(prof)
		if !ok {
			return Result{}, false
		}
		segs = append(segs, icc...)
	}
	n := pl.transcodeOut()
	for _, s := range segs {
		n += int64(len(s))
	}
	w := &capWriter{b: make([]byte, 0, n)}
	to := jpegscale.TranscodeOptions{Quality: qualityOr(o.Quality, DefaultQuality), Orientation: pl.orientation(), Segments: segs,
		Procs: p.procs}
	if err := jpegscale.Transcode(w, src, to); err != nil {
		return Result{}, false
	}
	p.observe(PhaseTranscode, FormatJPEG, time.Since(t))
	return Result{Data: w.b, Format: FormatJPEG, Width: pl.OutWidth, Height: pl.OutHeight, Input: pl.Info}, true
}

// jpegProfileSegments splits an ICC profile into APP2 ICC_PROFILE segments,
// as embedJPEGProfile writes them; false when it does not fit.
func jpegProfileSegments(profile []byte) ([][]byte, bool) {
	const sig = "ICC_PROFILE\x00"
	const room = 65535 - 2 - len(sig) - 2
	count := (len(profile) + room - 1) / room
	if count > 255 || count == 0 {
		return nil, false
	}
	segs := make([][]byte, count)
	for i := range segs {
		part := profile[i*room : min((i+1)*room, len(profile))]
		s := make([]byte, 0, 4+len(sig)+2+len(part))
		s = append(s, 0xFF, 0xE2)
		s = binary.BigEndian.AppendUint16(s, uint16(2+len(sig)+2+len(part)))
		s = append(s, sig...)
		s = append(s, byte(i+1), byte(count))
		segs[i] = append(s, part...)
	}
	return segs, true
}
