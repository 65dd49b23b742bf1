package imaging

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image/jpeg"
	"image/png"
	"io"
	"strings"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/imgsvc/imgsvc/imaging/internal/jpegscale"
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
	// ICCProfile describes the embedded ICC profile; nil when there is none.
	ICCProfile *ProfileInfo `json:"icc_profile,omitempty"`

	hdr header // what the decode will cost, for Plan
}

// Pixels is Width × Height.
func (i Info) Pixels() int64 { return int64(i.Width) * int64(i.Height) }

// Inspect reads the headers of the image in b, with the probe of its
// format's codec. It returns CodeUnsupportedImageFormat when b is not an
// image the service reads, and CodeCorruptImage when its header cannot be
// parsed. A file whose probe refuses a feature its decoder does not take
// (a 12-bit JPEG) is still described from its header where the dimensions
// can be read (see probeFallback); decoding it is what is refused, with
// CodeUnsupportedImageFeature.
func Inspect(b []byte) (Info, error) {
	info, err := inspect(b)
	if err == nil {
		info.ICCProfile = describeProfile(info.hdr)
	}
	return info, err
}

// inspect is Inspect without describing the ICC profile, which costs an
// inflate and a parse that only /v1/info needs: Plan uses it, and the
// colour stage reads the profile on the worker, inside the job's cost.
func inspect(b []byte) (Info, error) {
	c := sniff(b)
	if c == nil || !c.reads() {
		return Info{}, UnsupportedFormatError(b)
	}
	info, err := c.Probe(b)
	if err != nil {
		fb, ok := probeFallback(c.Format, b, err)
		if !ok {
			if (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)) && c.cutShort(b) {
				return Info{}, Errorf(CodeTruncatedImage, "the %s file ends inside its header, after %d bytes", c.Title, len(b)).
					WithHint("send the whole file (an upload that stops early, a proxy's size limit or an interrupted copy cut it)")
			}
			return Info{}, corrupt(c.Format, err)
		}
		info = fb
	}
	if info.Width <= 0 || info.Height <= 0 {
		return Info{}, Errorf(CodeCorruptImage, "the %s header gives dimensions %d×%d; an image needs at least one pixel", c.Title, info.Width, info.Height).
			WithHint("check that the file is a valid image: open it in an image viewer")
	}
	info.Format, info.ContentType, info.Bytes = c.Format, c.MediaTypes[0], len(b)
	info.Orientation = max(info.Orientation, 1)
	info.Frames = max(info.Frames, 1)
	info.Animated = info.Frames > 1
	info.DisplayWidth, info.DisplayHeight = info.Width, info.Height
	if info.Orientation >= 5 {
		info.DisplayWidth, info.DisplayHeight = info.Height, info.Width
	}
	return info, nil
}

// UnsupportedFormatError reports bytes that are not an image the service
// reads, saying what they look like (see Describe).
func UnsupportedFormatError(b []byte) *Error {
	return Errorf(CodeUnsupportedImageFormat, "the bytes are not a supported image: they look like %s", Describe(b)).
		WithHint("send %s bytes", decodableTitles())
}

// corrupt classifies an error a probe or a decoder returned: a valid file
// using a feature the service does not decode is CodeUnsupportedImageFeature,
// naming the feature and what to convert the file to; anything else is
// CodeCorruptImage. It is the one place decoder errors are classified.
func corrupt(f Format, err error) *Error {
	if fe := featureOf(f, err); fe != nil {
		return Errorf(CodeUnsupportedImageFeature, "%s, which imgsvc does not decode", fe.Feature).
			WithHint("convert it to %s", fe.Convert)
	}
	return Errorf(CodeCorruptImage, "the %s image is corrupt (%s)", strings.ToUpper(string(f)), sanitize(err)).
		WithHint("check that the whole file was sent, and that it opens in an image viewer")
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

// FeatureError is a valid image that uses a feature the service's decoders
// do not take. Decoders of this package return it where they know the
// feature; featureOf derives one from the errors of the libraries.
type FeatureError struct {
	// Feature says what the file uses, as the start of a sentence:
	// "the JPEG uses 12-bit samples".
	Feature string
	// Convert says what to convert the file to: "an 8-bit JPEG or PNG".
	Convert string
}

func (e *FeatureError) Error() string { return e.Feature + ", which imgsvc does not decode" }

func unsupportedFeature(convert, format string, args ...any) *FeatureError {
	return &FeatureError{Feature: fmt.Sprintf(format, args...), Convert: convert}
}

// What to convert files to, per format.
const (
	convertJPEG = "an 8-bit baseline or progressive JPEG, or to PNG"
	convertPNG  = "an 8- or 16-bit PNG written by a common tool"
	convertGIF  = "a standard GIF89a, or to PNG"
	convertTIFF = "an RGB or greyscale TIFF (uncompressed, LZW, Deflate or JPEG-compressed), or to PNG"
	convertBMP  = "a 24-bit BMP or a paletted BMP (uncompressed or RLE), or to PNG"
)

// featureOf reports whether err, from f's probe or decoder, is a valid file
// using a feature the service does not decode, and which; nil when it is
// not (the file is corrupt, truncated, or the error is the service's own).
func featureOf(f Format, err error) *FeatureError {
	var fe *FeatureError
	if errors.As(err, &fe) {
		return fe
	}
	if errors.Is(err, jpegscale.ErrUnsupported) {
		what := err.Error()
		if i := strings.LastIndex(what, jpegscale.ErrUnsupported.Error()+": "); i >= 0 {
			what = what[i+len(jpegscale.ErrUnsupported.Error())+2:]
		}
		switch {
		case strings.HasSuffix(what, "-bit precision"):
			return unsupportedFeature(convertJPEG, "the JPEG uses %s samples", strings.TrimSuffix(what, " precision"))
		case strings.Contains(what, "JPEG"):
			return unsupportedFeature(convertJPEG, "the JPEG is a %s", what)
		}
		return unsupportedFeature(convertJPEG, "the JPEG uses %s", what)
	}
	var je jpeg.UnsupportedError
	if errors.As(err, &je) {
		switch s := string(je); {
		case s == "precision":
			// image/jpeg takes 8-bit samples only; the other precision of
			// the DCT processes is 12 bits (SOF1, SOF2).
			return unsupportedFeature(convertJPEG, "the JPEG uses 12-bit samples")
		case s == "unknown marker":
			// A frame marker other than SOF0–SOF2: lossless (SOF3, SOF11)
			// or hierarchical (SOF5–7, SOF13–15); jpegscale decodes the
			// arithmetic-coded SOF9 and SOF10 before image/jpeg sees them.
			return unsupportedFeature(convertJPEG, "the JPEG is coded with a process imgsvc does not decode (lossless or hierarchical coding)")
		case s == "luma/chroma subsampling ratio":
			return unsupportedFeature("a JPEG with 4:2:0, 4:2:2 or 4:4:4 chroma subsampling, or to PNG", "the JPEG uses an unusual chroma subsampling layout")
		case s == "number of components":
			return unsupportedFeature(convertJPEG, "the JPEG has a number of colour components other than 1, 3 or 4")
		case strings.HasPrefix(s, "unknown color model"):
			return unsupportedFeature("an RGB JPEG, or a CMYK JPEG written by a common tool (with its Adobe segment)", "the JPEG has 4 colour components and no Adobe segment saying whether they are CMYK or YCCK")
		}
		return nil // excessive DC component, too many components: damage
	}
	var pe png.UnsupportedError
	if errors.As(err, &pe) {
		switch s := string(pe); {
		case s == "compression method", s == "filter method":
			return unsupportedFeature(convertPNG, "the PNG declares a %s other than 0, the only one the PNG standard defines", s)
		case strings.HasPrefix(s, "bit depth "):
			return unsupportedFeature(convertPNG, "the PNG uses %s", strings.Replace(s, "color type", "colour type", 1))
		}
		return nil // dimension and chunk length overflows: damage
	}
	var te tiff.UnsupportedError
	if errors.As(err, &te) {
		s := string(te)
		switch {
		case strings.HasPrefix(s, "compression value "):
			n := strings.TrimPrefix(s, "compression value ")
			return unsupportedFeature(convertTIFF, "the TIFF uses compression %s%s", n, tiffCompressionName(n))
		case s == "color model":
			return unsupportedFeature(convertTIFF, "the TIFF uses an unusual colour model (photometric interpretation)")
		case s == "sample format":
			return unsupportedFeature(convertTIFF, "the TIFF has floating-point or signed samples")
		case s == "extra samples":
			return unsupportedFeature(convertTIFF, "the TIFF has extra samples other than one alpha channel")
		case strings.HasPrefix(s, "BitsPerSample of "):
			return unsupportedFeature(convertTIFF, "the TIFF uses %s bits per sample", strings.TrimPrefix(s, "BitsPerSample of "))
		}
		return unsupportedFeature(convertTIFF, "the TIFF uses %s", s)
	}
	if errors.Is(err, bmp.ErrUnsupported) {
		return unsupportedFeature(convertBMP, "the BMP uses an unusual header, bit depth or compression")
	}
	if f == FormatGIF {
		s := err.Error()
		if i := strings.LastIndex(s, "gif: "); i >= 0 {
			s = s[i:]
		}
		switch {
		case strings.HasPrefix(s, "gif: unknown extension "):
			return unsupportedFeature(convertGIF, "the GIF has an extension block of label %s", strings.TrimPrefix(s, "gif: unknown extension "))
		case s == "gif: no color table":
			return unsupportedFeature(convertGIF, "the GIF has a frame with no colour table (neither global nor local)")
		}
	}
	return nil
}

// tiffCompressionName names a TIFF compression value, in parentheses.
func tiffCompressionName(n string) string {
	names := map[string]string{
		"2": "CCITT modified Huffman", "3": "CCITT Group 3 fax", "4": "CCITT Group 4 fax", "6": "old-style JPEG",
		"7": "JPEG", "34712": "JPEG 2000", "34713": "Nikon NEF", "34892": "lossy JPEG", "50000": "Zstandard",
		"34925": "LZMA", "50001": "WebP", "32809": "ThunderScan", "32771": "NeXT 2-bit RLE",
		"34676": "SGI LogLuv", "34677": "SGI LogLuv 24", "32895": "IT8 CT", "32947": "Kodak DCS",
	}
	if name, ok := names[n]; ok {
		return " (" + name + ")"
	}
	return ""
}

// probeFallback describes from its header a file whose probe refused it
// for a feature (err is one featureOf recognises): the library's header
// reader refuses what its decoder cannot decode, but /v1/info still answers
// with the dimensions. ok is false when err is damage, or when the
// dimensions cannot be read either. TIFF and BMP probes fall back on their
// own (see codec_tiff.go, codec_bmp.go).
func probeFallback(f Format, b []byte, err error) (Info, bool) {
	if featureOf(f, err) == nil {
		return Info{}, false
	}
	var w, h int
	info := Info{Orientation: 1, Frames: 1, hdr: header{bpp: 4, alpha: true}}
	switch f {
	case FormatJPEG:
		w, h = jpegFrameSize(b)
		info.Orientation = orientationOf(jpegEXIF(b))
		info.hdr.jpeg = jpegscale.Probe(b)
		info.hdr.alpha = false
	case FormatPNG:
		if len(b) >= 24 && string(b[12:16]) == "IHDR" {
			w, h = int(int32(binary.BigEndian.Uint32(b[16:]))), int(int32(binary.BigEndian.Uint32(b[20:])))
		}
	case FormatGIF:
		if len(b) >= 10 {
			w, h = int(binary.LittleEndian.Uint16(b[6:])), int(binary.LittleEndian.Uint16(b[8:]))
		}
	}
	if w <= 0 || h <= 0 {
		return Info{}, false
	}
	info.Width, info.Height = w, h
	return info, true
}

// jpegFrameSize reads the width and height of the first frame header
// (SOF0–SOF15, whatever the coding process); 0, 0 when there is none or its
// height is left to a DNL marker.
func jpegFrameSize(b []byte) (w, h int) {
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return 0, 0
		}
		m := b[i+1]
		switch {
		case m == 0xFF:
			i++
			continue
		case m == 0x01 || m >= 0xD0 && m <= 0xD7:
			i += 2
			continue
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			if i+9 > len(b) {
				return 0, 0
			}
			return int(binary.BigEndian.Uint16(b[i+7:])), int(binary.BigEndian.Uint16(b[i+5:]))
		case m == 0xDA || m == 0xD9:
			return 0, 0
		}
		i += 2 + int(binary.BigEndian.Uint16(b[i+2:]))
	}
	return 0, 0
}
