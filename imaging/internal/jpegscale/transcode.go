package jpegscale

import (
	"io"

	"github.com/imgsvc/imgsvc/imaging/internal/jpegenc"
)

// Transcode re-encodes a JPEG at a quality without leaving the DCT domain:
// the quantised coefficients (Coefficients) are requantised to the tables
// libjpeg's jpeg_set_quality makes for quality (force_baseline, as cjpeg
// -baseline and libvips), keeping the source's entries where they are
// coarser, and entropy-coded again as baseline with optimised Huffman
// tables. No inverse DCT, colour conversion or forward DCT runs, so the
// only loss is the requantisation's rounding: at the source's own quality
// the coefficients come out unchanged.
//
// segments are complete APPn or COM marker segments written after the
// JFIF APP0 (jpegenc.Options.Segments). Transcode refuses what
// Coefficients refuses; the caller then decodes pixels instead. On error
// nothing may have been written, or part of a file: write into a buffer.
func Transcode(w io.Writer, data []byte, quality int, segments [][]byte) error {
	luma, chroma := jpegenc.QuantTable(quality, false), jpegenc.QuantTable(quality, true)
	f, err := Coefficients(data, func(i int) *[64]uint16 {
		if i == 0 {
			return &luma
		}
		return &chroma
	})
	if err != nil {
		return err
	}
	jf := &jpegenc.Frame{Width: f.Width, Height: f.Height, Components: make([]jpegenc.Component, len(f.Components))}
	for i, c := range f.Components {
		jf.Components[i] = jpegenc.Component(c)
	}
	return jpegenc.WriteCoefficients(w, jf, jpegenc.Options{OptimizeHuffman: true, Segments: segments})
}
