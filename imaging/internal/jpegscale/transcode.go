package jpegscale

import (
	"io"

	"github.com/imgsvc/imgsvc/imaging/internal/jpegenc"
)

// TranscodeOptions control Transcode.
type TranscodeOptions struct {
	// Quality picks the tables to requantise to, as cjpeg -quality does.
	Quality int
	// Orientation, if 2–8, is the EXIF orientation to turn upright
	// losslessly (CoefFrame.Orient); Header.Orientable says whether it
	// can be.
	Orientation int
	// Segments are complete APPn or COM marker segments written after the
	// JFIF APP0 (jpegenc.Options.Segments).
	Segments [][]byte
	// Procs is how many goroutines may entropy-code the output
	// (jpegenc.Options.Procs): above 1 it has restart markers.
	Procs int
}

// Transcode re-encodes a JPEG at a quality without leaving the DCT domain:
// the quantised coefficients (Coefficients) are requantised to the tables
// libjpeg's jpeg_set_quality makes for the quality (force_baseline, as
// cjpeg -baseline and libvips), keeping the source's entries where they are
// coarser, optionally turned upright, and entropy-coded again as baseline
// with optimised Huffman tables. No inverse DCT, colour conversion or
// forward DCT runs, so the only loss is the requantisation's rounding: at
// the source's own quality or a finer one the coefficients come out
// unchanged. Then, for a baseline Huffman-coded source with one scan, the
// entropy-coded data is copied as it is, with the source's Huffman tables
// and restart interval (passThrough): only the headers are written anew.
//
// Transcode refuses what Coefficients refuses, and an orientation that
// cannot be applied losslessly; the caller then decodes pixels instead. On
// error nothing, or part of a file, may have been written: write into a
// buffer.
func Transcode(w io.Writer, data []byte, o TranscodeOptions) error {
	luma, chroma := jpegenc.QuantTable(o.Quality, false), jpegenc.QuantTable(o.Quality, true)
	if transpose, _, _ := orientOps(o.Orientation); transpose {
		// The tables turn with the coefficients: requantise to the
		// transposed tables, so that the output's are the quality's.
		luma, chroma = transposed(&luma), transposed(&chroma)
	}
	// Blocks stay in zig-zag order, which jpegenc codes without
	// reordering, unless Orient is to turn them.
	f, err := coefficients(data, func(i int) *[64]uint16 {
		if i == 0 {
			return &luma
		}
		return &chroma
	}, o.Orientation <= 1, o.Procs)
	if err != nil {
		return err
	}
	if o.Orientation > 1 {
		if err := f.Orient(o.Orientation); err != nil {
			return err
		}
	} else if ok, err := passThrough(w, data, f, o.Segments); ok || err != nil {
		return err
	}
	jf := &jpegenc.Frame{Width: f.Width, Height: f.Height, Components: make([]jpegenc.Component, len(f.Components)), ZigZag: f.ZigZag}
	for i, c := range f.Components {
		jf.Components[i] = jpegenc.Component(c)
	}
	return jpegenc.WriteCoefficients(w, jf, jpegenc.Options{OptimizeHuffman: true, Segments: o.Segments, Procs: o.Procs})
}

func transposed(q *[64]uint16) [64]uint16 {
	var t [64]uint16
	for v := 0; v < 8; v++ {
		for u := 0; u < 8; u++ {
			t[u*8+v] = q[v*8+u]
		}
	}
	return t
}
