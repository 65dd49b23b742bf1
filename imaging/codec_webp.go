package imaging

import (
	"bytes"
	"encoding/binary"
	"image"

	"github.com/gen2brain/webp"
	xwebp "golang.org/x/image/webp"
)

// FormatWebP is the WebP format.
const FormatWebP Format = "webp"

// Default WebP settings.
const (
	DefaultWebPQuality = 80
)

// webpCodec reads lossy WebP with libwebp (github.com/gen2brain/webp: the
// system's libwebp through purego, or libwebp compiled to WebAssembly where
// the system has none) and lossless WebP with golang.org/x/image/webp, which
// decodes it exactly; it writes WebP, lossy or lossless, with libwebp.
func webpCodec() *Codec {
	return &Codec{
		Format: FormatWebP, Title: "WebP",
		MediaTypes: []string{"image/webp", "image/x-webp"},
		Extensions: []string{".webp"},
		Alpha:      true, Animation: true, Lossless: true,
		AutoRank: 2, // after AVIF
		Match: func(b []byte) bool {
			return len(b) >= 12 && bytes.Equal(b[:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WEBP"))
		},
		Probe: probeWebP,
		// The RIFF header gives the file's size.
		CutShort: func(b []byte) bool { return len(b) >= 8 && int64(binary.LittleEndian.Uint32(b[4:]))+8 > int64(len(b)) },
		Native:   webp.Dynamic, Fallback: true,
		Decoder: &Decoder{
			Library: "libwebp for lossy, golang.org/x/image/webp for lossless",
			Cost: func(in Info, _ Scale) DecodeCost {
				w, h := int64(in.Width), int64(in.Height)
				if in.hdr.webpLossless {
					// x/image/webp: ARGB words while decoding, then the NRGBA result.
					return DecodeCost{Path: "x/image/webp lossless", Peak: w*h*9 + decoderFixed, W: in.Width, H: in.Height, BPP: 4, Boxable: true}
				}
				// libwebp's YUVA output (native) and its copy in a Go
				// NYCbCrA, 2.5 bytes a pixel each, the decoder's rows, and the
				// copy of the input the binding makes: the process's peak RSS
				// grew by 5.9–7.1 bytes a pixel decoding 4 MP.
				return DecodeCost{Path: "libwebp lossy", Peak: w*h*8 + int64(in.Bytes) + decoderFixed, W: in.Width, H: in.Height, BPP: 3}
			},
			Decode:     decodeWebP,
			Frames:     decodeWebPFrames,
			FramesCost: webpFramesCost,
		},
		Encoder: &Encoder{
			Library:  "libwebp (the system's through purego, else its WebAssembly build)",
			Quality:  DefaultWebPQuality,
			Lossless: true,
			Effort:   Range{Min: 0, Max: 6, Default: 4}, // libwebp's method
			Cost:     webpEncodeCost,
			// Lossy WebP is 4:2:0 YUV: JPEG's planes need only their range
			// narrowed (webpPlanes).
			Planes: func(o Options) bool { return !o.Lossless },
			Encode: func(w *bytes.Buffer, img image.Image, o Options) error {
				if m, ok := img.(*image.YCbCr); ok && !o.Lossless && m.SubsampleRatio == image.YCbCrSubsampleRatio420 {
					img = webpPlanes(m)
				}
				if err := webp.Encode(w, img, webp.Options{
					Quality: qualityOr(o.Quality, DefaultWebPQuality), Lossless: o.Lossless,
					Method: effortOr(o.Effort, 4),
				}); err != nil {
					return err
				}
				return embedICC(w, o, embedWebPProfile)
			},
			ICC: true,
		},
	}
}

// webpEncodeCost is the peak of a libwebp encode, native memory included,
// measured as the growth of the process's peak RSS on 2 MP images (smooth
// and noise): lossy opaque 7–21 bytes a pixel (noise fills the token
// buffers), lossless 22–37, and an alpha plane, which libwebp compresses
// losslessly, 29–55. The worst of each is charged.
func webpEncodeCost(w, h int, alpha bool, o Options) int64 {
	px := int64(w) * int64(h)
	switch {
	case alpha:
		return px*56 + encoderFixed
	case o.Lossless:
		return px*40 + encoderFixed
	}
	return px*24 + encoderFixed
}

func probeWebP(b []byte) (Info, error) {
	cfg, err := xwebp.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return Info{}, err
	}
	in := Info{Width: cfg.Width, Height: cfg.Height, Frames: 1,
		Orientation: orientationOf(bytes.TrimPrefix(riffChunk(b, "EXIF"), []byte("Exif\x00\x00"))),
		hdr:         headerOf(cfg),
	}
	in.hdr.webpLossless = riffChunk(b, "VP8L") != nil
	in.hdr.icc = webpProfile(b)
	n := 0
	for _, c := range riffChunks(b) {
		if c.id == "ANMF" {
			n++
		}
	}
	in.Frames = max(n, 1)
	return in, nil
}

// decodeWebP decodes lossless WebP exactly with x/image/webp, and lossy WebP
// with libwebp, whose YCbCr is limited range (video levels: luma 16–235);
// the planes are expanded to the full range image.YCbCr means.
func decodeWebP(b []byte, in Info, _ Scale, _ int) (image.Image, error) {
	if in.hdr.webpLossless {
		return xwebp.Decode(bytes.NewReader(b))
	}
	img, err := webp.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	switch m := img.(type) {
	case *image.NYCbCrA:
		expandVideoRange(m.Y, m.Cb, m.Cr)
		if opaque(m.A) {
			return &m.YCbCr, nil
		}
	case *image.YCbCr:
		expandVideoRange(m.Y, m.Cb, m.Cr)
	}
	return img, nil
}

// expandVideoRange maps limited-range (BT.601 video levels) luma 16–235 and
// chroma 16–240 onto the full 0–255 range in place, so that image.YCbCr's
// JFIF conversion gives the colours a video-range decoder would.
func expandVideoRange(y, cb, cr []byte) {
	var ly, lc [256]byte
	for i := range 256 {
		ly[i] = clampByte((float64(i) - 16) * 255 / 219)
		lc[i] = clampByte((float64(i)-128)*255/224 + 128)
	}
	for i, v := range y {
		y[i] = ly[v]
	}
	for i, v := range cb {
		cb[i] = lc[v]
	}
	for i, v := range cr {
		cr[i] = lc[v]
	}
}

func clampByte(v float64) byte {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return byte(v + 0.5)
}

func opaque(a []byte) bool {
	for _, v := range a {
		if v != 255 {
			return false
		}
	}
	return true
}

func effortOr(e, def int) int {
	if e < 0 {
		return def
	}
	return e
}

// webpPlanes gives libwebp a JPEG's 4:2:0 YCbCr samples as they are, with
// no round trip through RGB: JPEG's YCbCr is BT.601 at full range, VP8's
// the same matrix at video range (Y 16–235, Cb and Cr 16–240, what
// libwebp's own RGB import makes), so each sample is only rescaled. The
// alpha plane is opaque, which libwebp sees and writes no alpha for.
func webpPlanes(m *image.YCbCr) *image.NYCbCrA {
	var ly, lc [256]uint8
	for v := range 256 {
		ly[v] = uint8(16 + (v*219+127)/255)
		lc[v] = uint8(((v-128)*224 + 128*255 + 127) / 255)
	}
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewNYCbCrA(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		src := m.Y[m.YOffset(b.Min.X, b.Min.Y+y):][:w]
		dst := out.Y[y*out.YStride:][:w]
		for x, v := range src {
			dst[x] = ly[v]
		}
	}
	cw, ch := (w+1)/2, (h+1)/2
	for y := range ch {
		o := m.COffset(b.Min.X, b.Min.Y+2*y)
		cb, cr := m.Cb[o:][:cw], m.Cr[o:][:cw]
		db, dr := out.Cb[y*out.CStride:][:cw], out.Cr[y*out.CStride:][:cw]
		for x := range cw {
			db[x], dr[x] = lc[cb[x]], lc[cr[x]]
		}
	}
	for i := range out.A {
		out.A[i] = 0xff
	}
	return out
}
