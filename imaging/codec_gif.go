package imaging

import (
	"bytes"
	"image"
	"image/gif"
)

// FormatGIF is the GIF format.
const FormatGIF Format = "gif"

// gifCodec reads and writes GIF, still or animated, with image/gif; the
// animation's compositing and quantising are in animation.go.
func gifCodec() *Codec {
	return &Codec{
		Format: FormatGIF, Title: "GIF",
		MediaTypes: []string{"image/gif"},
		Extensions: []string{".gif"},
		Alpha:      true, Animation: true, Lossless: true,
		Match: func(b []byte) bool {
			return bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a"))
		},
		// A trailer byte (0x3B) ends every GIF.
		CutShort: func(b []byte) bool { return len(b) == 0 || b[len(b)-1] != 0x3B },
		Probe: func(b []byte) (Info, error) {
			cfg, err := gif.DecodeConfig(bytes.NewReader(b))
			if err != nil {
				return Info{}, err
			}
			return Info{Width: cfg.Width, Height: cfg.Height, Orientation: 1, Frames: gifFrames(b), hdr: header{bpp: 1}}, nil
		},
		Decoder: &Decoder{
			Library: "image/gif (pure Go)",
			Cost: func(in Info, _ Scale) DecodeCost {
				// The first frame, paletted, the screen it is put on when it
				// is smaller, and the LZW decoder's buffers.
				return DecodeCost{Path: "image/gif", Peak: 2*int64(in.Width)*int64(in.Height) + decoderFixed,
					W: in.Width, H: in.Height, BPP: 1}
			},
			Decode:     decodeGIF,
			Frames:     decodeGIFFrames,
			FramesCost: gifFramesCost,
		},
		Encoder: &Encoder{
			Library: "image/gif (pure Go)",
			// The paletted image the quantiser makes, and the output.
			Cost: func(w, h int, _ bool, _ Options) int64 { return int64(w)*int64(h)*3 + encoderFixed },
			Encode: func(w *bytes.Buffer, img image.Image, _ Options) error {
				return gif.Encode(w, img, &gif.Options{NumColors: 256})
			},
			Frames:     newGIFSink,
			FramesCost: gifSinkCost,
		},
	}
}

// gifFrames counts the image descriptors of a GIF by walking its blocks.
func gifFrames(b []byte) int {
	if len(b) < 13 {
		return 1
	}
	i := 13
	if b[10]&0x80 != 0 { // global colour table
		i += 3 << (uint(b[10]&7) + 1)
	}
	frames := 0
	skipSub := func(i int) int {
		for i < len(b) {
			n := int(b[i])
			i++
			if n == 0 {
				return i
			}
			i += n
		}
		return len(b)
	}
	for i < len(b) {
		switch b[i] {
		case 0x21: // extension
			if i+2 > len(b) {
				return max(frames, 1)
			}
			i = skipSub(i + 2)
		case 0x2C: // image descriptor
			frames++
			if i+10 > len(b) {
				return max(frames, 1)
			}
			flags := b[i+9]
			i += 10
			if flags&0x80 != 0 {
				i += 3 << (uint(flags&7) + 1)
			}
			i = skipSub(i + 1) // LZW minimum code size, then data
		default: // trailer or garbage
			return max(frames, 1)
		}
	}
	return max(frames, 1)
}
