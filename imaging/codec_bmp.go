package imaging

import (
	"bytes"
	"image"

	"golang.org/x/image/bmp"
)

// FormatBMP is the BMP format.
const FormatBMP Format = "bmp"

// bmpCodec reads and writes BMP with golang.org/x/image/bmp.
func bmpCodec() *Codec {
	return &Codec{
		Format: FormatBMP, Title: "BMP",
		MediaTypes: []string{"image/bmp", "image/x-bmp", "image/x-ms-bmp"},
		Extensions: []string{".bmp"},
		Lossless:   true,
		Match:      func(b []byte) bool { return bytes.HasPrefix(b, []byte("BM")) && len(b) >= 26 },
		Probe: func(b []byte) (Info, error) {
			cfg, err := bmp.DecodeConfig(bytes.NewReader(b))
			if err != nil {
				return Info{}, err
			}
			return Info{Width: cfg.Width, Height: cfg.Height, Orientation: 1, Frames: 1, hdr: headerOf(cfg)}, nil
		},
		Decoder: &Decoder{
			Library: "golang.org/x/image/bmp (pure Go)",
			Cost: func(in Info, _ Scale) DecodeCost {
				w, h, bpp := int64(in.Width), int64(in.Height), in.hdr.bpp
				return DecodeCost{Path: "x/image/bmp", Peak: w*h*bpp + w*4 + decoderFixed, W: in.Width, H: in.Height, BPP: bpp,
					Boxable: bpp == 4}
			},
			Decode: func(b []byte, _ Info, _ Scale) (image.Image, error) { return bmp.Decode(bytes.NewReader(b)) },
		},
		Encoder: &Encoder{
			Library:  "golang.org/x/image/bmp (pure Go)",
			Lossless: true,
			Cost:     func(w, h int, _ bool, _ Options) int64 { return int64(w)*int64(h)*8 + encoderFixed },
			Encode:   func(w *bytes.Buffer, img image.Image, _ Options) error { return bmp.Encode(w, img) },
		},
	}
}
