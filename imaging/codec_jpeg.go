package imaging

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"strings"

	"github.com/imgsvc/imgsvc/imaging/internal/jpegenc"
	"github.com/imgsvc/imgsvc/imaging/internal/jpegscale"
)

// FormatJPEG is the JPEG format.
const FormatJPEG Format = "jpeg"

// DefaultQuality is the JPEG quality used when none is asked for.
const DefaultQuality = 85

// jpegCodec reads JPEG with jpegscale, which decodes in the DCT domain at
// 1/1, 1/2, 1/4 or 1/8 (shrink-on-load), and with image/jpeg what jpegscale
// does not take (RGB-coded files, …); it writes with jpegenc.
func jpegCodec() *Codec {
	return &Codec{
		Format: FormatJPEG, Title: "JPEG",
		MediaTypes: []string{"image/jpeg", "image/jpg", "image/pjpeg"},
		Extensions: []string{".jpg", ".jpeg", ".jpe", ".jfif"},
		Aliases:    []string{"jpg"},
		Match: func(b []byte) bool {
			return len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF
		},
		Probe: probeJPEG,
		// An EOI marker ends every JPEG.
		CutShort: func(b []byte) bool { return !bytes.HasSuffix(b, []byte{0xFF, 0xD9}) },
		Decoder: &Decoder{
			Library: "jpegscale (pure Go), image/jpeg for the rest",
			Shrink: func(in Info, tw, th int) Scale {
				if in.hdr.jpeg.Err != nil {
					return Scale{1, 1}
				}
				s := shrinkOnLoad(in.Width, in.Height, tw, th)
				return Scale{s, s}
			},
			Cost:   jpegDecodeCost,
			Decode: decodeJPEG,
		},
		Encoder: &Encoder{
			Library: "our own (pure Go)",
			Quality: DefaultQuality,
			Planes:  func(Options) bool { return true },
			// The output buffer as it grows: at most about 1.5 bytes a
			// pixel at quality 100, doubled while it grows; and jpegenc's
			// MCU row of samples and coefficients.
			Cost: func(w, h int, _ bool, o Options) int64 {
				return int64(w)*int64(h)*3 + jpegenc.Cost(w, h, jpegOptions(o, nil)) + encoderFixed
			},
			Encode: func(w *bytes.Buffer, img image.Image, o Options) error {
				var segs [][]byte
				if len(o.icc) > 0 {
					var err error
					if segs, err = jpegICCSegments(o.icc); err != nil {
						return err
					}
				}
				return jpegenc.Encode(w, img, jpegOptions(o, segs))
			},
			ICC: true,
		},
	}
}

func probeJPEG(b []byte) (Info, error) {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return Info{}, err
	}
	in := Info{Width: cfg.Width, Height: cfg.Height, Orientation: orientationOf(jpegEXIF(b)),
		Progressive: jpegProgressive(b), hdr: headerOf(cfg)}
	in.hdr.jpeg, in.hdr.icc = jpegscale.Probe(b), jpegProfile(b)
	return in, nil
}

func jpegDecodeCost(in Info, s Scale) DecodeCost {
	hd := in.hdr.jpeg
	if hd.Err != nil {
		return DecodeCost{Path: "image/jpeg", Peak: stdJPEGCost(in), W: in.Width, H: in.Height, BPP: 4,
			Boxable: hd.Components != 4}
	}
	bpp := int64(3)
	switch hd.Components {
	case 1:
		bpp = 1
	case 4:
		bpp = 4
	}
	peak := hd.Cost(s.X)
	if s.X == 1 {
		// image/jpeg may retry what jpegscale finds damaged (see decodeJPEG).
		peak = max(peak, stdJPEGCost(in))
	}
	return DecodeCost{Path: "jpegscale", Peak: peak, W: ceilDiv(in.Width, s.X), H: ceilDiv(in.Height, s.X), BPP: bpp,
		Boxable: bpp != 4}
}

// stdJPEGCost is what image/jpeg allocates for a full decode: the component
// planes, the coefficients a progressive image keeps (an int32 for every
// sample), and the conversion of RGB- or CMYK-coded images to RGBA or CMYK.
func stdJPEGCost(in Info) int64 {
	hd := in.hdr.jpeg
	samples := hd.Samples()
	convert := hd.Components == 4 || hd.Components == 3 && hd.Err != nil
	if samples == 0 {
		// The header did not say: assume four MCU-padded components.
		pw, ph := int64(in.Width+31)/32*32, int64(in.Height+31)/32*32
		samples, convert = 4*pw*ph, true
	}
	n := samples
	if in.Progressive || hd.Progressive {
		n += samples * 4
	}
	if convert {
		n += int64(in.Width) * int64(in.Height) * 4
	}
	return n + decoderFixed
}

// decodeJPEG decodes with jpegscale where the header says it can, and with
// image/jpeg otherwise. At full size image/jpeg also retries a file
// jpegscale finds damaged: it shrugs off some damage, and its full-size
// decode was priced in.
func decodeJPEG(b []byte, in Info, s Scale, procs int) (image.Image, error) {
	if in.hdr.jpeg.Err == nil {
		// Always with Partial: whether the client wants the part of a
		// truncated file that arrived is settled above (settleDamage).
		img, rep, err := jpegscale.DecodeWith(b, s.X, jpegscale.Options{Partial: true, Procs: procs})
		var te *jpegscale.TruncatedError
		switch {
		case err == nil && rep.Truncated != nil:
			d := &damagedImage{Image: img, Truncated: true, Detail: jpegTruncation(rep.Truncated), Rest: "left grey"}
			if rep.Truncated.Progressive {
				d.Rest = "shown with the detail of the scans that arrived"
			}
			for _, w := range rep.Warnings {
				if !strings.Contains(w, "the data ends") {
					d.More = append(d.More, w)
				}
			}
			return nil, d
		case err == nil && len(rep.Warnings) > 0:
			return nil, &damagedImage{Image: img, Detail: rep.Warnings[0], More: rep.Warnings[1:]}
		case err == nil:
			return img, nil
		case errors.As(err, &te):
			return nil, &damagedImage{Truncated: true, Detail: jpegTruncation(te)}
		case !errors.Is(err, jpegscale.ErrUnsupported) || s.X != 1:
			// Damage jpegscale cannot work around is damage to image/jpeg too.
			return nil, err
		}
	}
	return jpeg.Decode(bytes.NewReader(b))
}

// jpegTruncation words how far a truncated JPEG got.
func jpegTruncation(te *jpegscale.TruncatedError) string {
	return strings.TrimPrefix(te.Error(), "jpegscale: ")
}

// shrinkOnLoad picks the largest JPEG DCT scale that still leaves at least
// the target size, so the final resize only ever shrinks.
func shrinkOnLoad(w, h, tw, th int) int {
	for _, s := range []int{8, 4, 2} {
		if ceilDiv(w, s) >= tw && ceilDiv(h, s) >= th {
			return s
		}
	}
	return 1
}

// jpegOptions are the jpegenc options: the quality asked
// for, 4:2:0, and Huffman tables made for the image, which make files 2-10%
// smaller than the standard ones. Their statistics come from a sample of
// the rows, so memory stays one MCU row high (keeping the whole image's
// coefficients would be faster still, but costs 3 bytes a pixel). With
// several procs the rows are encoded in parallel bands joined by restart
// markers (jpegenc.EncodeOptions.Procs).
func jpegOptions(o Options, segments [][]byte) jpegenc.EncodeOptions {
	return jpegenc.EncodeOptions{Quality: qualityOr(o.Quality, DefaultQuality), OptimizeHuffman: true,
		Statistics: jpegenc.StatsSampled, Segments: segments, Procs: o.procs}
}

// jpegProgressive reports whether the first frame header is progressive
// (SOF2, SOF6, SOF10, SOF14).
func jpegProgressive(b []byte) bool {
	progressive := false
	jpegSegments(b, func(m byte, _ int, _ []byte) bool {
		switch m {
		case 0xC2, 0xC6, 0xCA, 0xCE:
			progressive = true
			return false
		case 0xC0, 0xC1, 0xC3, 0xC5, 0xC7, 0xC9, 0xCB, 0xCD, 0xCF:
			return false
		}
		return true
	})
	return progressive
}

func qualityOr(q, def int) int {
	if q == 0 {
		return def
	}
	return q
}
