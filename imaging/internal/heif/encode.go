package heif

import (
	"fmt"
	"image"
	"runtime"
	"unsafe"
)

// MaxSpeed is the fastest EncodeOptions.Speed: libaom 3's all-intra mode,
// which libheif uses for still images, takes cpu-used 0 to 9.
const MaxSpeed = 9

// EncodeOptions are the settings of EncodeAVIF.
type EncodeOptions struct {
	// Quality is libheif's lossy quality, 1 (smallest) to 100 (best).
	Quality int
	// Speed is libaom's cpu-used, 0 (slowest, smallest) to MaxSpeed
	// (fastest), set through libheif's "speed" parameter.
	Speed int
	// Chroma444 keeps full-resolution chroma; the zero value subsamples it
	// to 4:2:0.
	Chroma444 bool
	// ICC is embedded as the image's colour profile when non-nil.
	ICC []byte
	// Threads is libaom's number of threads; zero means 1, as the service
	// runs one job per core.
	Threads int
}

// EncodeAVIF encodes img as a single-image AVIF with libaom. An image whose
// alpha is 255 everywhere is written without an alpha plane.
func (l *Lib) EncodeAVIF(img *image.NRGBA, o EncodeOptions) ([]byte, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w <= 0 || h <= 0 {
		return nil, &Error{Op: "heif_image_create", Code: codeUsageError, Message: fmt.Sprintf("empty image %dx%d", w, h)}
	}
	if o.Quality < 1 || o.Quality > 100 {
		return nil, &Error{Op: "heif_encoder_set_lossy_quality", Code: codeUsageError, Message: fmt.Sprintf("quality %d is not in 1..100", o.Quality)}
	}
	if o.Speed < 0 || o.Speed > MaxSpeed {
		// libheif passes any value on, and libaom ignores one out of range.
		return nil, &Error{Op: "heif_encoder_set_parameter_integer", Code: codeUsageError, Message: fmt.Sprintf("speed %d is not in 0..%d", o.Speed, MaxSpeed)}
	}
	ctx := l.contextAlloc()
	if ctx == 0 {
		return nil, &Error{Op: "heif_context_alloc", Code: codeMemoryAllocation, Message: "out of memory"}
	}
	defer l.contextFree(ctx)

	var enc uintptr
	if e := l.encoderForFmt(ctx, compressionAV1, &enc); e.code != codeOK {
		return nil, l.newError("heif_context_get_encoder_for_format", e)
	}
	defer l.encoderRelease(enc)
	threads := o.Threads
	if threads <= 0 {
		threads = 1
	}
	chroma := "420"
	if o.Chroma444 {
		chroma = "444"
	}
	for _, set := range []struct {
		op string
		fn func() heifError
	}{
		{"quality", func() heifError { return l.encoderQuality(enc, int32(o.Quality)) }},
		{"speed", func() heifError { return l.encoderSetInt(enc, "speed", int32(o.Speed)) }},
		{"threads", func() heifError { return l.encoderSetInt(enc, "threads", int32(threads)) }},
		{"chroma", func() heifError { return l.encoderSetStr(enc, "chroma", chroma) }},
	} {
		if e := set.fn(); e.code != codeOK {
			return nil, l.newError("heif_encoder_set_parameter "+set.op, e)
		}
	}

	hi, err := l.newImage(img)
	if err != nil {
		return nil, err
	}
	defer l.imageRelease(hi)
	if len(o.ICC) > 0 {
		if e := l.imageSetICC(hi, "prof", &o.ICC[0], uintptr(len(o.ICC))); e.code != codeOK {
			return nil, l.newError("heif_image_set_raw_color_profile", e)
		}
	}

	opts := l.encodeOptsAlloc()
	if opts == nil {
		return nil, &Error{Op: "heif_encoding_options_alloc", Code: codeMemoryAllocation, Message: "out of memory"}
	}
	defer l.encodeOptsFree(opts)
	if e := l.encodeImage(ctx, hi, enc, opts, 0); e.code != codeOK {
		return nil, l.newError("heif_context_encode_image", e)
	}
	var out outBuf
	e := l.contextWrite(ctx, l.writer, unsafe.Pointer(&out))
	runtime.KeepAlive(&out)
	if e.code != codeOK {
		return nil, l.newError("heif_context_write", e)
	}
	return out.b, nil
}

// newImage copies img into a new interleaved RGB(A) heif_image, dropping
// alpha when it is opaque.
func (l *Lib) newImage(img *image.NRGBA) (uintptr, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	alpha := !opaque(img)
	chroma, bpp := int32(chromaInterleavedRGB), 3
	if alpha {
		chroma, bpp = chromaInterleavedRGBA, 4
	}
	var hi uintptr
	if e := l.imageCreate(int32(w), int32(h), colorspaceRGB, chroma, &hi); e.code != codeOK {
		return 0, l.newError("heif_image_create", e)
	}
	if e := l.imageAddPlane(hi, channelInterleaved, int32(w), int32(h), 8); e.code != codeOK {
		l.imageRelease(hi)
		return 0, l.newError("heif_image_add_plane", e)
	}
	var stride int32
	p := l.imagePlane(hi, channelInterleaved, &stride)
	if p == nil || int(stride) < w*bpp {
		l.imageRelease(hi)
		return 0, &Error{Op: "heif_image_get_plane", Code: codeMemoryAllocation, Message: "no plane"}
	}
	dst := unsafe.Slice(p, (h-1)*int(stride)+w*bpp)
	for y := range h {
		src := img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y):]
		row := dst[y*int(stride) : y*int(stride)+w*bpp]
		if alpha {
			copy(row, src[:w*4])
			continue
		}
		for x := range w {
			row[x*3], row[x*3+1], row[x*3+2] = src[x*4], src[x*4+1], src[x*4+2]
		}
	}
	return hi, nil
}

// opaque reports whether every pixel of img has alpha 255.
func opaque(img *image.NRGBA) bool {
	w := img.Rect.Dx()
	for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
		row := img.Pix[img.PixOffset(img.Rect.Min.X, y):][:w*4]
		for i := 3; i < len(row); i += 4 {
			if row[i] != 255 {
				return false
			}
		}
	}
	return true
}
