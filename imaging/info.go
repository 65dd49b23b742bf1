package imaging

import (
	"strings"
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

// Inspect reads the headers of the image in b, with the probe of its
// format's codec. It returns CodeUnsupportedImageFormat when b is not an
// image the service reads, and CodeCorruptImage when its header cannot be
// parsed.
func Inspect(b []byte) (Info, error) {
	c := sniff(b)
	if c == nil || !c.reads() {
		return Info{}, UnsupportedFormatError(b)
	}
	info, err := c.Probe(b)
	if err != nil {
		return Info{}, corrupt(c.Format, err)
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

func corrupt(f Format, err error) *Error {
	return Errorf(CodeCorruptImage, "the %s image is truncated or corrupt (%s)", strings.ToUpper(string(f)), sanitize(err)).
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
