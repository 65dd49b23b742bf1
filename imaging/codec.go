package imaging

import (
	"bytes"
	"image"
	"slices"
	"strings"
	"sync"
)

// Codec is everything the service knows of one image format, declared once,
// in the format's own file (codec_jpeg.go, codec_png.go, …). Sniffing,
// /v1/info, planning and its memory cost, decoding, encoding, option
// validation, content negotiation, the OpenAPI enum and the README's format
// table all read the table of codecs; no other code switches on a format.
type Codec struct {
	Format Format
	Title  string // as people write it: "JPEG", "WebP"
	// MediaTypes are the media types that name the format; the first is the
	// canonical one, the rest are aliases clients send.
	MediaTypes []string
	Extensions []string // file name endings, the first the usual one
	Aliases    []string // other names the format option takes: "jpg"
	// What the format can carry.
	Alpha, Animation, Lossless bool
	// AutoRank puts the format in format=auto's choice when the client's
	// Accept names it: the lowest rank accepted wins. Zero: never chosen
	// from Accept (JPEG and PNG are the fallbacks).
	AutoRank int

	// Match reports whether b starts as a file of this format does.
	Match func(b []byte) bool
	// Probe reads the header: dimensions, orientation, frames, and what a
	// decode will cost. It decodes no pixels.
	Probe func(b []byte) (Info, error)
	// CutShort reports whether b evidently ends early: it lacks the
	// trailer its format ends with, or is shorter than its header says.
	// A decoder that runs out of data in a file that is not cut short met
	// a corrupt length, not a truncation. Nil for formats that cannot
	// tell, whose early ends are then called corrupt.
	CutShort func(b []byte) bool
	// Native, for a codec that runs a system library, says whether that
	// library loaded: nil when it did, the loader's error otherwise. Nil for
	// pure-Go codecs.
	Native func() error
	// Fallback says the codec still works without its system library (on
	// a WebAssembly build of it); without one, the format is recognised but
	// refused where the library is missing.
	Fallback bool
	// Decoder reads the format; nil when the service cannot.
	Decoder *Decoder
	// Encoder writes the format; nil when the service cannot.
	Encoder *Encoder
}

// Decoder turns the bytes of a format into pixels.
type Decoder struct {
	// Library names the implementation, for docs and logs.
	Library string
	// Shrink picks the factors to shrink by while decoding (shrink-on-load)
	// so that the image is still at least tw×th; nil when the decoder
	// always decodes at full size.
	Shrink func(in Info, tw, th int) Scale
	// Cost is what decoding at a scale allocates, decided from the header.
	Cost func(in Info, s Scale) DecodeCost
	// Decode decodes at a scale that Shrink returned (or 1×1), on up to
	// procs goroutines.
	Decode func(b []byte, in Info, s Scale, procs int) (image.Image, error)
	// Frames decodes every frame of an animation, composited onto the
	// full canvas one at a time; nil when the decoder reads the first only.
	Frames func(b []byte, in Info) (frameSource, error)
	// FramesCost is what Frames allocates at its peak, canvases included.
	FramesCost func(in Info) int64
}

// Scale is a shrink-on-load factor per axis; 1×1 is full size.
type Scale struct{ X, Y int }

// DecodeCost is what a decode allocates at its peak, and the image it
// returns: its size, bytes per pixel and whether boxShrink reads its type.
type DecodeCost struct {
	Path    string // the decoder path, for tests and logs: "jpegscale", "image/jpeg", …
	Peak    int64
	W, H    int
	BPP     int64
	Boxable bool
}

// Encoder turns pixels into the bytes of a format.
type Encoder struct {
	Library string
	// Quality is the default quality; 0 when the format takes none.
	Quality int
	// Lossless says the format takes lossless=true.
	Lossless bool
	// Effort bounds the effort option (speed against size); zero when the
	// format takes none.
	Effort Range
	// Cost is what encoding a w×h image allocates besides the image: the
	// output buffer as it grows, palettes, native buffers. alpha says the
	// image may have transparent pixels.
	Cost func(w, h int, alpha bool, o Options) int64
	// Encode writes img.
	Encode func(w *bytes.Buffer, img image.Image, o Options) error
	// Frames starts an animation of n frames of w×h, which it takes one at
	// a time; nil when the format's encoder writes a single frame.
	Frames func(w, h, n int, o Options) frameSink
	// FramesCost is what an animation of n w×h frames holds at its peak
	// (the frames it keeps and the output), besides the frame being added.
	FramesCost func(w, h, n int) int64
	// ICC says Encode embeds the ICC profile Options carry (for
	// color_profile=keep); false when the format carries none.
	ICC bool
	// Planes says whether, for these options, Encode takes a 4:2:0
	// *image.YCbCr (JPEG's full-range samples) as planes, with no
	// conversion to RGB, so that a JPEG's resize may work on its planes
	// (Plan.canPlanar); nil when it never does.
	Planes func(o Options) bool
}

// Backend says what the codec runs on now: "go" (pure Go), "native" (the
// system library), "wasm" (the WebAssembly build of the library, its
// fallback where the system has none) or "unavailable" (no library, no
// fallback: the format is recognised and refused).
func (c *Codec) Backend() string {
	switch {
	case c.Native == nil:
		return "go"
	case c.Native() == nil:
		return "native"
	case c.Fallback:
		return "wasm"
	}
	return "unavailable"
}

// usable reports whether the codec can run on this machine.
func (c *Codec) usable() bool { return c.Native == nil || c.Fallback || c.Native() == nil }

// reads and writes report what the codec can do on this machine.
func (c *Codec) reads() bool  { return c.Decoder != nil && c.usable() }
func (c *Codec) writes() bool { return c.Encoder != nil && c.usable() }

// Range is an inclusive range of integers with a default.
type Range struct{ Min, Max, Default int }

// codecs is the table: one entry per format, in the order documentation
// lists them. Sniffing tries them in this order. It is built once, on first
// use, and never changed after: every format lookup of every request reads
// it (building it anew cost 9 µs and 129 allocations a lookup).
var codecs = sync.OnceValue(func() []*Codec {
	return []*Codec{jpegCodec(), pngCodec(), webpCodec(), avifCodec(), heicCodec(), gifCodec(), bmpCodec(), tiffCodec()}
})

// Codecs returns the table of codecs, for documentation and tests.
func Codecs() []*Codec { return slices.Clone(codecs()) }

// codecOf returns the codec of a format, nil when the service knows none.
func codecOf(f Format) *Codec {
	for _, c := range codecs() {
		if c.Format == f {
			return c
		}
	}
	return nil
}

// sniff returns the codec whose magic b starts with, nil for none.
func sniff(b []byte) *Codec {
	for _, c := range codecs() {
		if c.Match(b) {
			return c
		}
	}
	return nil
}

// Sniff returns the format of the image in b from its magic bytes, or ""
// when b is not an image the service reads.
func Sniff(b []byte) Format {
	if c := sniff(b); c != nil && c.reads() {
		return c.Format
	}
	return ""
}

// CanDecode reports whether the service reads f.
func (f Format) CanDecode() bool {
	c := codecOf(f)
	return c != nil && c.reads()
}

// CanEncode reports whether the service writes f.
func (f Format) CanEncode() bool {
	c := codecOf(f)
	return c != nil && c.writes()
}

// MediaType is f's canonical media type.
func (f Format) MediaType() string {
	if c := codecOf(f); c != nil {
		return c.MediaTypes[0]
	}
	if f == "" {
		return ""
	}
	return "image/" + string(f)
}

// HasAlpha reports whether f can carry transparency.
func (f Format) HasAlpha() bool {
	c := codecOf(f)
	return c != nil && c.Alpha
}

// encoder returns f's encoder, nil when the service does not write f.
func (f Format) encoder() *Encoder {
	if c := codecOf(f); c != nil && c.writes() {
		return c.Encoder
	}
	return nil
}

// AutoFormats lists the formats format=auto picks when the client's Accept
// names them, best first.
func AutoFormats() []Format {
	var cs []*Codec
	for _, c := range codecs() {
		if c.AutoRank > 0 && c.writes() {
			cs = append(cs, c)
		}
	}
	slices.SortFunc(cs, func(a, b *Codec) int { return a.AutoRank - b.AutoRank })
	out := make([]Format, len(cs))
	for i, c := range cs {
		out[i] = c.Format
	}
	return out
}

// EncodableFormatNames lists the formats the service writes, in table order.
func EncodableFormatNames() []string {
	var out []string
	for _, c := range codecs() {
		if c.writes() {
			out = append(out, string(c.Format))
		}
	}
	return out
}

// FormatNames lists every value the format option takes: each format the
// service writes, then its other names (from its file name endings), then
// "auto".
func FormatNames() []string {
	var out []string
	for _, c := range codecs() {
		if !c.writes() {
			continue
		}
		out = append(out, string(c.Format))
		out = append(out, c.Aliases...)
	}
	return append(out, string(FormatAuto))
}

// DecodableFormatNames lists the formats the service reads, in table order.
func DecodableFormatNames() []string {
	var out []string
	for _, c := range codecs() {
		if c.reads() {
			out = append(out, string(c.Format))
		}
	}
	return out
}

// FormatFromMediaType maps an image media type (already lower case, without
// parameters) to a Format; ok is false for types the service does not read.
func FormatFromMediaType(mt string) (Format, bool) {
	for _, c := range codecs() {
		if c.reads() && slices.Contains(c.MediaTypes, mt) {
			return c.Format, true
		}
	}
	return "", false
}

// formatNamed maps a format name as clients write it ("jpg", "TIF",
// "image/webp") to a Format of the table, "" when none.
func formatNamed(s string) Format {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, c := range codecs() {
		if string(c.Format) == s || slices.Contains(c.Aliases, s) || slices.Contains(c.MediaTypes, s) {
			return c.Format
		}
	}
	return ""
}

// decodableTitles lists the titles of the formats the service reads, for
// hints: "JPEG, PNG, WebP, GIF, BMP or TIFF".
func decodableTitles() string {
	var t []string
	for _, c := range codecs() {
		if c.reads() {
			t = append(t, c.Title)
		}
	}
	return orList(t)
}

func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
