package imaging

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/png"
)

// FormatPNG is the PNG format.
const FormatPNG Format = "png"

// pngCodec reads every PNG with our own decoder (pngshrink.go), which
// reduces it to 8-bit NRGBA and box-averages rows as they inflate
// (shrink-on-load); it writes with our own encoder (pngencode.go), which
// compresses with klauspost/compress's zlib, image/png for the image types
// that encoder leaves to it.
func pngCodec() *Codec {
	return &Codec{
		Format: FormatPNG, Title: "PNG",
		MediaTypes: []string{"image/png", "image/x-png", "image/apng"},
		Extensions: []string{".png", ".apng"},
		Alpha:      true, Animation: true, Lossless: true,
		Match: func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) },
		Probe: probePNG,
		// An IEND chunk ends every PNG.
		CutShort: func(b []byte) bool { return !bytes.HasSuffix(b, []byte("IEND\xaeB`\x82")) },
		Decoder: &Decoder{
			Library: "our own (pure Go)",
			Shrink: func(in Info, tw, th int) Scale {
				// Rows can be box-averaged while they inflate, as resize
				// would do after a full decode.
				kx := min(in.Width/(2*tw), maxBoxFactor)
				ky := min(in.Height/(2*th), maxBoxFactor)
				if kx < 2 && ky < 2 {
					return Scale{1, 1}
				}
				return Scale{max(kx, 1), max(ky, 1)}
			},
			Cost: func(in Info, s Scale) DecodeCost {
				return DecodeCost{Path: "png",
					Peak: pngDecodeCost(in.Width, in.Height, s.X, s.Y, in.hdr.pngInterlaced, in.hdr.pngRowBytes),
					W:    ceilDiv(in.Width, s.X), H: ceilDiv(in.Height, s.Y), BPP: 4, Boxable: true}
			},
			Decode: func(b []byte, in Info, s Scale, procs int) (image.Image, error) {
				if in.Pixels() < pngPrefetchPixels {
					procs = 1 // not worth a goroutine
				}
				return decodePNG(b, s.X, s.Y, procs)
			},
		},
		Encoder: &Encoder{
			Library:  "our own (pure Go), with klauspost/compress's zlib",
			Lossless: true,
			// The compressed output, as large as the raw samples for noise,
			// doubled while it grows.
			Cost: func(w, h int, _ bool, _ Options) int64 { return int64(w)*int64(h)*8 + encoderFixed },
			Encode: func(w *bytes.Buffer, img image.Image, o Options) error {
				if err := encodePNG(w, img); err != nil {
					return err
				}
				return embedICC(w, o, embedPNGProfile)
			},
			ICC: true,
		},
	}
}

func probePNG(b []byte) (Info, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return Info{}, err
	}
	in := Info{Width: cfg.Width, Height: cfg.Height, Orientation: orientationOf(pngChunk(b, "eXIf")), Frames: 1,
		hdr: headerOf(cfg)}
	in.hdr.icc = pngProfile(b)
	if ac := pngChunk(b, "acTL"); len(ac) >= 4 {
		if n := int(binary.BigEndian.Uint32(ac)); n > 0 {
			in.Frames = n
		}
	}
	if len(b) >= 29 {
		depth, ctype := int(b[24]), b[25]
		channels := map[byte]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
		in.hdr.pngRowBytes = (cfg.Width*max(channels, 1)*depth + 7) / 8
		in.hdr.pngInterlaced = b[28] == 1
	}
	return in, nil
}
