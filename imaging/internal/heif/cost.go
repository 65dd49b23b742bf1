package heif

// Native memory. libheif, its codecs and their threads allocate with
// malloc, which the Go heap and GOMEMLIMIT do not see, so the service
// charges these bounds to its memory budget. They were measured on
// Debian 12 (libheif 1.15.1, libde265 1.0.11, dav1d 1.0.0, libaom 3.6.0)
// by TestDecodeCost_bounds and TestEncodeCost_bounds: the growth of the
// process's peak RSS (VmHWM, reset through /proc/self/clear_refs) over its
// RSS before the call, with glibc set to map every block of 64 KiB or
// more on its own (mallopt M_MMAP_THRESHOLD), since the kernel misses a
// peak whose memory glibc hands back with madvise. Photos of 0.3 to 12
// megapixels gave, per pixel of the largest:
//
//	decode 8-bit 4:2:0 HEIC or AVIF        7.5–9 B/px
//	decode 8-bit 4:4:4 AVIF with alpha    14–17 B/px
//	decode 10-bit HEIC with alpha         16–20 B/px
//	decode 12-bit 4:4:4 AVIF with alpha   27–30 B/px
//	encode 4:2:0, speed 8–9               22–30 B/px
//	encode 4:2:0, speed 6–7               30–50 B/px
//	encode 4:4:4 with alpha, speed 6      47–82 B/px (the most at 0.3 MP)
//	encode 4:2:0, speed 0–5               75–190 B/px (the most at 0.3 MP)
//
// with a few MiB of codec state on top. The bounds below add a margin.

// DecodeCost is an upper bound of the native bytes Decode allocates for the
// image h describes, whose file has size bytes. The Go image Decode returns
// (4 bytes a pixel) is not included.
//
// It trusts the header's bit depth: a file whose coded stream is deeper than
// its header says costs up to 30 B/px however it is labelled, so callers
// should also cap the pixel count.
func DecodeCost(h Header, size int) int64 {
	px := max(int64(h.StoredWidth)*int64(h.StoredHeight), int64(h.Width)*int64(h.Height), int64(h.CodedPixels))
	perPx := int64(18)
	if h.BitDepth != 8 {
		// Planes of 16-bit samples, and a 16-bit RGBA before the 8-bit one.
		perPx = 32
	}
	// libheif copies the coded image out of the file, and the codec copies
	// it again.
	return perPx*px + 2*int64(size) + 4<<20
}

// EncodeCost is an upper bound of the native bytes EncodeAVIF allocates for a
// w×h image with options o.
func EncodeCost(w, h int, o EncodeOptions) int64 {
	px := int64(w) * int64(h)
	perPx := int64(32) // libaom's all-intra search at speed 8 and 9
	switch {
	case o.Speed <= 5:
		perPx = 96 // more candidate modes and partitions, each with buffers
	case o.Speed <= 7:
		perPx = 48
	}
	if o.Chroma444 {
		perPx = perPx * 3 / 2
	}
	// libheif's RGBA copy of the image and its alpha plane.
	perPx += 8
	return perPx*px + 32<<20
}
