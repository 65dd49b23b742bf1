package imaging

import (
	"bytes"
	"image"

	"golang.org/x/image/tiff"
)

// FormatTIFF is the TIFF format.
const FormatTIFF Format = "tiff"

// tiffCodec reads and writes TIFF with golang.org/x/image/tiff (writing
// Deflate with a predictor), and reads JPEG-compressed and CIELab TIFF,
// which that package refuses, with tiffextra.go's reader.
func tiffCodec() *Codec {
	return &Codec{
		Format: FormatTIFF, Title: "TIFF",
		MediaTypes: []string{"image/tiff", "image/tif", "image/x-tiff"},
		Extensions: []string{".tif", ".tiff"},
		Aliases:    []string{"tif"},
		Alpha:      true, Lossless: true,
		Match: func(b []byte) bool {
			return bytes.HasPrefix(b, []byte("II*\x00")) || bytes.HasPrefix(b, []byte("MM\x00*"))
		},
		Probe: func(b []byte) (Info, error) {
			cfg, hdr, err := tiffConfig(b)
			if err != nil {
				return Info{}, err
			}
			in := Info{Width: cfg.Width, Height: cfg.Height, Orientation: orientationOf(b), Frames: 1,
				hdr: hdr}
			if d, err := parseTIFFIFD(b); err != nil || d.photometric != photoCIELab {
				// A CIELab TIFF is decoded to sRGB already: its profile, if
				// any, describes Lab.
				in.hdr.icc = tiffProfile(b)
			}
			return in, nil
		},
		Decoder: &Decoder{
			Library: "golang.org/x/image/tiff (pure Go)",
			Cost: func(in Info, _ Scale) DecodeCost {
				if in.hdr.codedPixels > 0 {
					return tiffExtraCost(in) // only tiffConfig's own IFD parse sets it
				}
				// The image, and one strip or tile of raw samples read whole
				// (at most the image at the same bytes per pixel), which grows
				// by copying while a compressed strip inflates.
				w, h, bpp := int64(in.Width), int64(in.Height), in.hdr.bpp
				return DecodeCost{Path: "x/image/tiff", Peak: w*h*bpp*7/2 + decoderFixed, W: in.Width, H: in.Height, BPP: bpp,
					Boxable: bpp == 4}
			},
			Decode: decodeTIFF,
		},
		Encoder: &Encoder{
			Library:  "golang.org/x/image/tiff (pure Go)",
			Lossless: true,
			Cost:     func(w, h int, _ bool, _ Options) int64 { return int64(w)*int64(h)*8 + encoderFixed },
			Encode: func(w *bytes.Buffer, img image.Image, _ Options) error {
				return tiff.Encode(w, img, &tiff.Options{Compression: tiff.Deflate, Predictor: true})
			},
		},
	}
}
