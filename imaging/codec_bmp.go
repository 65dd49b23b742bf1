package imaging

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"

	"golang.org/x/image/bmp"
)

// FormatBMP is the BMP format.
const FormatBMP Format = "bmp"

// bmpCodec reads and writes BMP with golang.org/x/image/bmp, and reads RLE8
// and RLE4 BMP, which that package refuses, with decodeBMPRLE.
func bmpCodec() *Codec {
	return &Codec{
		Format: FormatBMP, Title: "BMP",
		MediaTypes: []string{"image/bmp", "image/x-bmp", "image/x-ms-bmp"},
		Extensions: []string{".bmp"},
		Lossless:   true,
		Match:      func(b []byte) bool { return bytes.HasPrefix(b, []byte("BM")) && len(b) >= 26 },
		Probe:      probeBMP,
		// The file header gives the file's size.
		CutShort: func(b []byte) bool { return len(b) >= 6 && int64(binary.LittleEndian.Uint32(b[2:])) > int64(len(b)) },
		Decoder: &Decoder{
			Library: "golang.org/x/image/bmp (pure Go)",
			Cost: func(in Info, _ Scale) DecodeCost {
				w, h, bpp := int64(in.Width), int64(in.Height), in.hdr.bpp
				if in.hdr.alpha {
					// Only the RLE probe says alpha (bmpRLEInfo): x/image/bmp's
					// palettes are opaque and its RGB model has none. The RLE
					// decoder allocates the NRGBA image and nothing else.
					return DecodeCost{Path: "bmp rle", Peak: w*h*4 + decoderFixed, W: in.Width, H: in.Height, BPP: 4, Boxable: true}
				}
				return DecodeCost{Path: "x/image/bmp", Peak: w*h*bpp + w*4 + decoderFixed, W: in.Width, H: in.Height, BPP: bpp,
					Boxable: bpp == 4}
			},
			Decode: decodeBMP,
		},
		Encoder: &Encoder{
			Library:  "golang.org/x/image/bmp (pure Go)",
			Lossless: true,
			Cost:     func(w, h int, _ bool, _ Options) int64 { return int64(w)*int64(h)*8 + encoderFixed },
			Encode:   func(w *bytes.Buffer, img image.Image, _ Options) error { return bmp.Encode(w, img) },
		},
	}
}

// probeBMP reads the header: RLE files are described from it, the rest by
// golang.org/x/image/bmp. Where that package refuses a valid file for a
// feature, the probe still gives the dimensions (for /v1/info); decodeBMP
// then refuses it, naming the feature.
func probeBMP(b []byte) (Info, error) {
	h, herr := parseBMPHeader(b)
	if herr == nil && h.rle() {
		return bmpRLEInfo(h), nil
	}
	cfg, err := bmp.DecodeConfig(bytes.NewReader(b))
	if err == nil {
		return Info{Width: cfg.Width, Height: cfg.Height, Orientation: 1, Frames: 1, hdr: headerOf(cfg)}, nil
	}
	if errors.Is(err, bmp.ErrUnsupported) {
		if err := h.refusal(herr); err != nil {
			return Info{}, err
		}
		// A feature decodeBMP refuses: the header is all /v1/info needs.
		return Info{Width: h.width, Height: h.height, Orientation: 1, Frames: 1, hdr: header{bpp: 4}}, nil
	}
	return Info{}, err
}

// decodeBMP decodes RLE files with decodeBMPRLE and the rest with
// golang.org/x/image/bmp, naming the feature of a file that package refuses.
func decodeBMP(b []byte, _ Info, _ Scale, _ int) (image.Image, error) {
	h, herr := parseBMPHeader(b)
	if herr == nil && h.rle() {
		return decodeBMPRLE(b, h)
	}
	img, err := bmp.Decode(bytes.NewReader(b))
	if errors.Is(err, bmp.ErrUnsupported) {
		if err := h.refusal(herr); err != nil {
			return nil, err
		}
		return nil, h.feature()
	}
	return img, err
}
