package heif

import (
	"fmt"
	"image"
	"runtime"
	"unsafe"
)

// Header is what Probe reads about the primary image without decoding it.
type Header struct {
	// Format is "heic" (HEVC), "avif" (AV1) or "heif" (another codec), as
	// libheif's heif_get_file_mime_type tells from the brands.
	Format string
	// Brand is the major brand of the ftyp box, such as "heic", "mif1" or
	// "avif".
	Brand string
	// StoredWidth and StoredHeight are the coded size (the ispe property).
	StoredWidth, StoredHeight int
	// Width and Height are the size shown, after the clean aperture (clap)
	// crop and a rotation (irot) of 90 or 270 degrees.
	Width, Height int
	// Alpha tells whether the image has an alpha plane; Premultiplied,
	// whether its colours are premultiplied by it (Decode undoes that).
	Alpha, Premultiplied bool
	// BitDepth is the luma bit depth, such as 8, 10 or 12; 0 if unknown.
	BitDepth int
	// Images is the number of top-level images (not counting thumbnails,
	// grid tiles or alpha planes); Decode decodes the primary one.
	Images int
	// ICC is the primary image's ICC profile, nil if it has none.
	ICC []byte
	// CodedPixels is the largest frame or canvas that a coded item of the
	// file declares (in an HEVC SPS, an AV1 sequence header, a grid or an
	// overlay): what the decoders allocate, whatever ispe says. It counts
	// every item, not only the primary image's; 0 if there is none.
	CodedPixels int
}

// Probe reads the header of the primary image without decoding pixels.
func (l *Lib) Probe(data []byte) (Header, error) {
	ctx, h, err := l.read(data)
	if err != nil {
		return Header{}, err
	}
	defer runtime.KeepAlive(data)
	defer l.release(ctx, h)
	hd := Header{
		Format:        l.format(data),
		Brand:         l.brand(data),
		StoredWidth:   int(l.handleISPEW(h)),
		StoredHeight:  int(l.handleISPEH(h)),
		Width:         int(l.handleWidth(h)),
		Height:        int(l.handleHeight(h)),
		Alpha:         l.handleAlpha(h) != 0,
		Premultiplied: l.handlePremul(h) != 0,
		BitDepth:      max(0, int(l.handleLumaBits(h))),
		Images:        int(l.numTopLevel(ctx)),
	}
	if hd.ICC, err = l.icc(h); err != nil {
		return Header{}, err
	}
	if hd.CodedPixels, err = codedPixels(data); err != nil {
		return Header{}, codedError(err)
	}
	return hd, nil
}

// Decode decodes the primary image with its transformations (clap, irot,
// imir) applied, to 8-bit non-premultiplied RGBA, and returns it with its ICC
// profile (nil if none). Images of 10 or 12 bits are reduced to 8. An image
// over maxPixels, by its ispe, shown or coded size (Header.CodedPixels), is
// refused with ErrTooLarge before any pixel is decoded; a maxPixels of zero
// leaves only libheif's own limits.
// It also fails with ErrInvalid when the decoded image is not the size the
// header gave, which libheif 1.15 does not check.
func (l *Lib) Decode(data []byte, maxPixels int) (*image.NRGBA, []byte, error) {
	d, err := l.decode(data, maxPixels)
	if err != nil {
		return nil, nil, err
	}
	defer runtime.KeepAlive(data) // libheif reads it in place until freed
	defer d.free()
	out := image.NewNRGBA(image.Rect(0, 0, d.w, d.h))
	for y := range d.h {
		copy(out.Pix[y*out.Stride:y*out.Stride+d.w*4], d.pix[y*d.stride:])
	}
	if d.premultiplied {
		unpremultiply(out.Pix)
	}
	return out, d.icc, nil
}

// decoded is a decoded image still in libheif's memory.
type decoded struct {
	l             *Lib
	ctx, handle   uintptr
	img           uintptr
	w, h, stride  int
	pix           []byte // the interleaved RGBA plane, in native memory
	premultiplied bool
	icc           []byte
}

func (d *decoded) free() {
	d.l.imageRelease(d.img)
	d.l.release(d.ctx, d.handle)
}

// decode decodes the primary image of data to libheif's RGBA; the caller
// must keep data alive and free the result.
func (l *Lib) decode(data []byte, maxPixels int) (_ *decoded, err error) {
	ctx, h, err := l.read(data)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			l.release(ctx, h)
		}
	}()

	w, hh := int(l.handleWidth(h)), int(l.handleHeight(h))
	sw, sh := int(l.handleISPEW(h)), int(l.handleISPEH(h))
	if w <= 0 || hh <= 0 {
		return nil, &Error{Op: "heif_image_handle_get_width", Code: codeInvalidInput,
			Message: fmt.Sprintf("invalid image size %dx%d", w, hh)}
	}
	if maxPixels > 0 {
		coded, err := codedPixels(data)
		if err != nil {
			return nil, codedError(err)
		}
		if px := max(w*hh, sw*sh, coded); px > maxPixels {
			return nil, tooLarge(px, maxPixels)
		}
	}
	icc, err := l.icc(h)
	if err != nil {
		return nil, err
	}

	opts := l.decodeOptsAlloc()
	if opts == nil {
		return nil, &Error{Op: "heif_decoding_options_alloc", Code: codeMemoryAllocation, Message: "out of memory"}
	}
	defer l.decodeOptsFree(opts)
	if *opts >= 2 {
		// convert_hdr_to_8bit (struct version 2, at offset 40 on 64-bit).
		*(*uint8)(unsafe.Add(unsafe.Pointer(opts), 40)) = 1
	}
	var img uintptr
	if e := l.decodeImage(h, &img, colorspaceRGB, chromaInterleavedRGBA, opts); e.code != codeOK {
		if img != 0 {
			l.imageRelease(img)
		}
		return nil, l.newError("heif_decode_image", e)
	}
	defer func() {
		if err != nil {
			l.imageRelease(img)
		}
	}()

	ow, oh := int(l.imageWidth(img, channelInterleaved)), int(l.imageHeight(img, channelInterleaved))
	var stride int32
	plane := l.imagePlaneRO(img, channelInterleaved, &stride)
	if plane == nil || ow <= 0 || oh <= 0 || int(stride) < ow*4 {
		return nil, &Error{Op: "heif_image_get_plane_readonly", Code: codeDecoderPlugin,
			Message: fmt.Sprintf("no RGBA plane (%dx%d, stride %d)", ow, oh, stride)}
	}
	if ow != w || oh != hh {
		// libheif 1.15 does not check the coded size against ispe, so a
		// file can decode to another size than its header (and Probe) says.
		return nil, &Error{Op: "heif_decode_image", Code: codeInvalidInput,
			Message: fmt.Sprintf("decoded image is %dx%d, its header says %dx%d", ow, oh, w, hh)}
	}
	return &decoded{
		l: l, ctx: ctx, handle: h, img: img,
		w: ow, h: oh, stride: int(stride),
		pix:           unsafe.Slice(plane, (oh-1)*int(stride)+ow*4),
		premultiplied: l.imagePremul(img) != 0,
		icc:           icc,
	}, nil
}

func codedError(err error) *Error {
	return &Error{Op: "coded size", Code: codeInvalidInput, Message: err.Error()}
}

func tooLarge(pixels, limit int) *Error {
	return &Error{Op: "limit", Code: codeMemoryAllocation, Subcode: subSecurityLimit,
		Message: fmt.Sprintf("%d pixels is over the limit of %d", pixels, limit)}
}

// read makes a context holding data (not copied: data must stay alive until
// release) and returns it with its primary image handle.
func (l *Lib) read(data []byte) (ctx, h uintptr, err error) {
	if len(data) == 0 {
		return 0, 0, &Error{Op: "heif_context_read_from_memory", Code: codeInvalidInput, Message: "empty input"}
	}
	ctx = l.contextAlloc()
	if ctx == 0 {
		return 0, 0, &Error{Op: "heif_context_alloc", Code: codeMemoryAllocation, Message: "out of memory"}
	}
	// Tiles of a grid are decoded on the calling thread (1 would start one
	// extra thread; the default starts one per core).
	l.setMaxThreads(ctx, 0)
	if e := l.readFromMemory(ctx, &data[0], uintptr(len(data)), 0); e.code != codeOK {
		err = l.newError("heif_context_read_from_memory", e)
		l.contextFree(ctx)
		return 0, 0, err
	}
	if e := l.primaryHandle(ctx, &h); e.code != codeOK {
		err = l.newError("heif_context_get_primary_image_handle", e)
		l.release(ctx, h)
		return 0, 0, err
	}
	return ctx, h, nil
}

func (l *Lib) release(ctx, h uintptr) {
	if h != 0 {
		l.handleRelease(h)
	}
	l.contextFree(ctx)
}

// icc returns the handle's ICC profile, nil if it has none (or only nclx).
func (l *Lib) icc(h uintptr) ([]byte, error) {
	n := l.handleICCSize(h)
	if n == 0 {
		return nil, nil
	}
	b := make([]byte, n)
	if e := l.handleICC(h, &b[0]); e.code != codeOK {
		if e.code == codeColorProfileNone {
			return nil, nil
		}
		return nil, l.newError("heif_image_handle_get_raw_color_profile", e)
	}
	return b, nil
}

// format names the codec family from libheif's MIME type of data.
func (l *Lib) format(data []byte) string {
	switch l.mimeType(&data[0], int32(min(len(data), 1<<16))) {
	case "image/avif", "image/avif-sequence":
		return "avif"
	case "image/heic", "image/heic-sequence":
		return "heic"
	}
	return "heif"
}

// brand returns the major brand as four characters.
func (l *Lib) brand(data []byte) string {
	if len(data) < 12 {
		return ""
	}
	b := l.mainBrand(&data[0], int32(min(len(data), 1<<16)))
	if b == 0 {
		return ""
	}
	return string([]byte{byte(b >> 24), byte(b >> 16), byte(b >> 8), byte(b)})
}

// unpremultiply turns premultiplied RGBA into straight RGBA in place.
func unpremultiply(pix []byte) {
	for i := 0; i+3 < len(pix); i += 4 {
		a := uint32(pix[i+3])
		if a == 0 || a == 255 {
			continue
		}
		for c := range 3 {
			pix[i+c] = uint8(min(255, (uint32(pix[i+c])*255+a/2)/a))
		}
	}
}
