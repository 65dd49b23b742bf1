package imaging

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// Info describes an encoded image as its headers tell it, without decoding
// the pixels.
type Info struct {
	Format      Format `json:"format"`
	ContentType string `json:"content_type"`
	Width       int    `json:"width"`  // as stored
	Height      int    `json:"height"` // as stored
	Orientation int    `json:"orientation"`
	// DisplayWidth and DisplayHeight are the dimensions once the EXIF
	// orientation is applied (swapped for orientations 5–8).
	DisplayWidth  int  `json:"display_width"`
	DisplayHeight int  `json:"display_height"`
	Bytes         int  `json:"bytes"`
	Frames        int  `json:"frames"`
	Animated      bool `json:"animated"`
	Progressive   bool `json:"progressive,omitempty"`

	hdr header // what the decode will cost, for Plan
}

// Pixels is Width × Height.
func (i Info) Pixels() int64 { return int64(i.Width) * int64(i.Height) }

// Inspect reads the headers of the image in b. It returns CodeUnsupportedImageFormat
// when b is not an image the service reads, and CodeCorruptImage when its
// header cannot be parsed.
func Inspect(b []byte) (Info, error) {
	f := Sniff(b)
	if f == "" {
		return Info{}, UnsupportedFormatError(b)
	}
	cfg, err := decodeConfig(f, b)
	if err != nil {
		return Info{}, corrupt(f, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Info{}, Errorf(CodeCorruptImage, "the %s header gives dimensions %d×%d; an image needs at least one pixel", strings.ToUpper(string(f)), cfg.Width, cfg.Height).
			WithHint("check that the file is a valid image: open it in an image viewer")
	}
	info := Info{
		Format: f, ContentType: f.MediaType(), Width: cfg.Width, Height: cfg.Height,
		Orientation: Orientation(f, b), Bytes: len(b), Frames: 1,
		hdr: readHeader(f, b, cfg),
	}
	info.DisplayWidth, info.DisplayHeight = info.Width, info.Height
	if info.Orientation >= 5 {
		info.DisplayWidth, info.DisplayHeight = info.Height, info.Width
	}
	switch f {
	case FormatGIF:
		info.Frames = gifFrames(b)
	case FormatPNG:
		if ac := pngChunk(b, "acTL"); len(ac) >= 4 {
			if n := int(binary.BigEndian.Uint32(ac)); n > 0 {
				info.Frames = n
			}
		}
	case FormatWebP:
		n := 0
		for _, c := range riffChunks(b) {
			if c.id == "ANMF" {
				n++
			}
		}
		if n > 0 {
			info.Frames = n
		}
	case FormatJPEG:
		info.Progressive = jpegProgressive(b)
	}
	info.Animated = info.Frames > 1
	return info, nil
}

func decodeConfig(f Format, b []byte) (image.Config, error) {
	r := bytes.NewReader(b)
	switch f {
	case FormatJPEG:
		return jpeg.DecodeConfig(r)
	case FormatPNG:
		return png.DecodeConfig(r)
	case FormatGIF:
		return gif.DecodeConfig(r)
	case FormatBMP:
		return bmp.DecodeConfig(r)
	case FormatTIFF:
		return tiff.DecodeConfig(r)
	case FormatWebP:
		return webp.DecodeConfig(r)
	}
	return image.Config{}, image.ErrFormat
}

// UnsupportedFormatError reports bytes that are not an image the service
// reads, saying what they look like.
func UnsupportedFormatError(b []byte) *Error {
	what := Describe(b)
	e := Errorf(CodeUnsupportedImageFormat, "the bytes are not a supported image: they look like %s", what).
		WithHint("send JPEG, PNG, GIF, WebP, BMP or TIFF bytes")
	switch {
	case strings.HasPrefix(what, "a HEIC"):
		e.Hint = "HEIC is not supported: convert it first (e.g. on an iPhone set Camera > Formats > Most Compatible, or `heif-convert in.heic out.jpg`), then send the JPEG"
	case strings.HasPrefix(what, "base64"), strings.HasPrefix(what, "a data: URI"):
		e.Hint = `send the decoded bytes, or send JSON {"image_b64": "..."} with Content-Type: application/json`
	case strings.HasPrefix(what, "an HTML"):
		e.Hint = "you probably saved an error page or a web page instead of the image; download the image itself and send its bytes"
	case what == "JSON text":
		e.Hint = `to send JSON, set Content-Type: application/json and put the image in "image_b64"`
	}
	return e
}

func corrupt(f Format, err error) *Error {
	return Errorf(CodeCorruptImage, "the %s image is truncated or corrupt (%s)", strings.ToUpper(string(f)), sanitize(err)).
		WithHint("check that the whole file was sent: with curl use --data-binary @file (not -d), in Python open the file with open(path, \"rb\")")
}

// sanitize returns the text of a decoder error without the package prefix.
func sanitize(err error) string {
	s := err.Error()
	for _, p := range []string{"image: ", "jpeg: ", "png: ", "gif: ", "bmp: ", "tiff: ", "webp: ", "vp8: ", "vp8l: "} {
		s = strings.TrimPrefix(s, p)
	}
	if s == "unexpected EOF" || s == "EOF" {
		s = "the data ends early"
	}
	return truncate(s, 200)
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

// jpegProgressive reports whether the first frame header is SOF2.
func jpegProgressive(b []byte) bool {
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return false
		}
		m := b[i+1]
		if m == 0xFF {
			i++
			continue
		}
		switch m {
		case 0xC2, 0xC6, 0xCA, 0xCE:
			return true
		case 0xC0, 0xC1, 0xC3, 0xC5, 0xC7, 0xC9, 0xCB, 0xCD, 0xCF, 0xDA:
			return false
		}
		i += 2 + int(binary.BigEndian.Uint16(b[i+2:]))
	}
	return false
}
