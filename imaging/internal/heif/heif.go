// Package heif is a thin binding to the system's libheif (HEIC/HEIF and AVIF
// in, AVIF out), loaded at run time with purego so that the service still
// builds with CGO_ENABLED=0.
//
// Every call makes its own libheif context and frees every native object it
// made (context, image handle, image, encoder, options) before it returns, so
// a Lib is safe for concurrent use. Native memory is invisible to the Go heap:
// DecodeCost and EncodeCost give what a call may allocate there.
//
// Threads, with libheif 1.15: grid tiles are decoded on the calling thread
// (heif_context_set_max_decoding_threads 0); libde265 gets the one worker
// thread libheif always starts for it; dav1d starts as many threads as the
// process may run on CPUs (sched_getaffinity), which libheif 1.15 cannot
// change short of picking libaom's single-threaded AV1 decoder, which took
// 1.7 times the CPU for the same image, so dav1d stays; libaom encodes with
// EncodeOptions.Threads, 1 by default.
package heif

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// MinVersion is the oldest libheif whose ABI this binding follows: the
// decoding options up to version 4 and the encoding options up to version 5
// have the layout of libheif 1.15.
const MinVersion = 0x010F0000

// load opens libheif the first time Load is called. The library, its codecs
// and the writer callback are process-wide (dlopen and purego callbacks
// cannot be undone), so there is one Lib per process.
var load = sync.OnceValues(open)

// Load returns libheif, opened from the system the first time it is called.
// Its error names every file it tried; callers then refuse HEIF and AVIF or
// fall back to another codec.
func Load() (*Lib, error) { return load() }

// Lib is libheif loaded from the system.
type Lib struct {
	version string

	// writer is a struct heif_writer whose write function appends to the
	// *outBuf passed as userdata.
	writer *heifWriter
	ok     *byte // "Success", the message of the writer's heif_error

	getVersion      func() string
	init            func(params uintptr) heifError
	contextAlloc    func() uintptr
	contextFree     func(ctx uintptr)
	readFromMemory  func(ctx uintptr, data *byte, size uintptr, opts uintptr) heifError
	setMaxThreads   func(ctx uintptr, n int32)
	numTopLevel     func(ctx uintptr) int32
	primaryHandle   func(ctx uintptr, out *uintptr) heifError
	handleRelease   func(h uintptr)
	handleWidth     func(h uintptr) int32
	handleHeight    func(h uintptr) int32
	handleISPEW     func(h uintptr) int32
	handleISPEH     func(h uintptr) int32
	handleAlpha     func(h uintptr) int32
	handlePremul    func(h uintptr) int32
	handleLumaBits  func(h uintptr) int32
	handleICCSize   func(h uintptr) uintptr
	handleICC       func(h uintptr, out *byte) heifError
	mimeType        func(data *byte, n int32) string
	mainBrand       func(data *byte, n int32) uint32
	decodeOptsAlloc func() *byte
	decodeOptsFree  func(opts *byte)
	decodeImage     func(h uintptr, out *uintptr, colorspace, chroma int32, opts *byte) heifError
	imageRelease    func(img uintptr)
	imageWidth      func(img uintptr, channel int32) int32
	imageHeight     func(img uintptr, channel int32) int32
	imagePlaneRO    func(img uintptr, channel int32, stride *int32) *byte
	imagePlane      func(img uintptr, channel int32, stride *int32) *byte
	imagePremul     func(img uintptr) int32
	imageCreate     func(w, h, colorspace, chroma int32, out *uintptr) heifError
	imageAddPlane   func(img uintptr, channel, w, h, depth int32) heifError
	imageSetICC     func(img uintptr, fourcc string, data *byte, size uintptr) heifError
	encoderForFmt   func(ctx uintptr, format int32, out *uintptr) heifError
	encoderRelease  func(enc uintptr)
	encoderQuality  func(enc uintptr, q int32) heifError
	encoderSetInt   func(enc uintptr, name string, v int32) heifError
	encoderSetStr   func(enc uintptr, name, v string) heifError
	encodeOptsAlloc func() *byte
	encodeOptsFree  func(opts *byte)
	encodeImage     func(ctx uintptr, img uintptr, enc uintptr, opts *byte, out uintptr) heifError
	contextWrite    func(ctx uintptr, w *heifWriter, userdata unsafe.Pointer) heifError
}

// heifError is struct heif_error, which libheif returns by value (two
// registers on amd64 and arm64; purego supports it there).
type heifError struct {
	code    int32
	subcode int32
	message *byte // static, or owned by the context that returned it
}

// heifWriter is struct heif_writer.
type heifWriter struct {
	apiVersion int32
	write      uintptr
}

// outBuf receives what heif_context_write writes.
type outBuf struct{ b []byte }

// enum values of heif.h used here.
const (
	colorspaceRGB          = 1
	chromaInterleavedRGB   = 10
	chromaInterleavedRGBA  = 11
	channelInterleaved     = 10
	compressionAV1         = 4
	codeOK                 = 0
	codeInvalidInput       = 2
	codeUnsupportedFiletyp = 3
	codeUnsupportedFeature = 4
	codeUsageError         = 5
	codeMemoryAllocation   = 6
	codeDecoderPlugin      = 7
	codeEncoderPlugin      = 8
	codeColorProfileNone   = 10
	subSecurityLimit       = 1000
	subUnsupportedCodec    = 3000
	subUnsupportedBitDepth = 4000
)

func open() (*Lib, error) {
	var handle uintptr
	var tried []string
	// The runtime package's soname (Debian's libheif1), then the
	// development symlink.
	for _, name := range []string{"libheif.so.1", "libheif.so"} {
		h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL)
		if err == nil {
			handle = h
			break
		}
		tried = append(tried, fmt.Sprintf("%s (%v)", name, err))
	}
	if handle == 0 {
		return nil, fmt.Errorf("heif: libheif not found: tried %s", strings.Join(tried, ", "))
	}
	l := &Lib{}
	syms := []struct {
		fn   any
		name string
	}{
		{&l.getVersion, "heif_get_version"},
		{&l.init, "heif_init"},
		{&l.contextAlloc, "heif_context_alloc"},
		{&l.contextFree, "heif_context_free"},
		{&l.readFromMemory, "heif_context_read_from_memory_without_copy"},
		{&l.setMaxThreads, "heif_context_set_max_decoding_threads"},
		{&l.numTopLevel, "heif_context_get_number_of_top_level_images"},
		{&l.primaryHandle, "heif_context_get_primary_image_handle"},
		{&l.handleRelease, "heif_image_handle_release"},
		{&l.handleWidth, "heif_image_handle_get_width"},
		{&l.handleHeight, "heif_image_handle_get_height"},
		{&l.handleISPEW, "heif_image_handle_get_ispe_width"},
		{&l.handleISPEH, "heif_image_handle_get_ispe_height"},
		{&l.handleAlpha, "heif_image_handle_has_alpha_channel"},
		{&l.handlePremul, "heif_image_handle_is_premultiplied_alpha"},
		{&l.handleLumaBits, "heif_image_handle_get_luma_bits_per_pixel"},
		{&l.handleICCSize, "heif_image_handle_get_raw_color_profile_size"},
		{&l.handleICC, "heif_image_handle_get_raw_color_profile"},
		{&l.mimeType, "heif_get_file_mime_type"},
		{&l.mainBrand, "heif_read_main_brand"},
		{&l.decodeOptsAlloc, "heif_decoding_options_alloc"},
		{&l.decodeOptsFree, "heif_decoding_options_free"},
		{&l.decodeImage, "heif_decode_image"},
		{&l.imageRelease, "heif_image_release"},
		{&l.imageWidth, "heif_image_get_width"},
		{&l.imageHeight, "heif_image_get_height"},
		{&l.imagePlaneRO, "heif_image_get_plane_readonly"},
		{&l.imagePlane, "heif_image_get_plane"},
		{&l.imagePremul, "heif_image_is_premultiplied_alpha"},
		{&l.imageCreate, "heif_image_create"},
		{&l.imageAddPlane, "heif_image_add_plane"},
		{&l.imageSetICC, "heif_image_set_raw_color_profile"},
		{&l.encoderForFmt, "heif_context_get_encoder_for_format"},
		{&l.encoderRelease, "heif_encoder_release"},
		{&l.encoderQuality, "heif_encoder_set_lossy_quality"},
		{&l.encoderSetInt, "heif_encoder_set_parameter_integer"},
		{&l.encoderSetStr, "heif_encoder_set_parameter_string"},
		{&l.encodeOptsAlloc, "heif_encoding_options_alloc"},
		{&l.encodeOptsFree, "heif_encoding_options_free"},
		{&l.encodeImage, "heif_context_encode_image"},
		{&l.contextWrite, "heif_context_write"},
	}
	var versionNumber func() uint32
	if err := bind(handle, &versionNumber, "heif_get_version_number"); err != nil {
		return nil, err
	}
	if v := versionNumber(); v < MinVersion {
		return nil, fmt.Errorf("heif: libheif %d.%d.%d is older than 1.15", v>>24, v>>16&0xFF, v>>8&0xFF)
	}
	for _, s := range syms {
		if err := bind(handle, s.fn, s.name); err != nil {
			return nil, err
		}
	}
	l.version = l.getVersion()
	// heif_init registers the built-in codecs; it is reference counted and
	// never undone here, as the library stays loaded.
	if e := l.init(0); e.code != codeOK {
		return nil, l.newError("heif_init", e)
	}
	ok := []byte("Success\x00")
	l.ok = &ok[0]
	l.writer = &heifWriter{apiVersion: 1, write: purego.NewCallback(l.write)}
	return l, nil
}

// bind points fn at the symbol name, or reports it missing (RegisterLibFunc
// would panic).
func bind(handle uintptr, fn any, name string) error {
	sym, err := purego.Dlsym(handle, name)
	if err != nil {
		return fmt.Errorf("heif: libheif lacks %s: %w", name, err)
	}
	purego.RegisterFunc(fn, sym)
	return nil
}

// write is the heif_writer callback: it appends size bytes at data to the
// outBuf at userdata.
func (l *Lib) write(ctx uintptr, data *byte, size uintptr, userdata unsafe.Pointer) heifError {
	out := (*outBuf)(userdata)
	out.b = append(out.b, unsafe.Slice(data, size)...)
	return heifError{message: l.ok}
}

// Version returns libheif's version, such as "1.15.1".
func (l *Lib) Version() string { return l.version }

// Sentinel errors that an *Error matches with errors.Is.
var (
	// ErrUnsupported: the file needs something this libheif cannot do, such
	// as a codec that was not compiled in or an unknown image type.
	ErrUnsupported = errors.New("heif: unsupported")
	// ErrInvalid: the data is not a valid HEIF or AVIF file, or its coded
	// image is corrupt.
	ErrInvalid = errors.New("heif: invalid data")
	// ErrTooLarge: the image is over the caller's pixel limit or one of
	// libheif's security limits.
	ErrTooLarge = errors.New("heif: image too large")
)

// Error is an error reported by libheif, with its codes and message.
type Error struct {
	Op      string // the libheif function, such as "heif_decode_image"
	Code    int    // enum heif_error_code
	Subcode int    // enum heif_suberror_code
	Message string // libheif's message
}

func (e *Error) Error() string {
	return fmt.Sprintf("heif: %s: %s (%d.%d)", e.Op, e.Message, e.Code, e.Subcode)
}

// Is reports whether e belongs to ErrUnsupported, ErrInvalid or ErrTooLarge.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnsupported:
		return e.Code == codeUnsupportedFeature ||
			e.Subcode == subUnsupportedCodec || e.Subcode == subUnsupportedBitDepth
	case ErrInvalid:
		return e.Code == codeInvalidInput || e.Code == codeUnsupportedFiletyp ||
			e.Code == codeDecoderPlugin && e.Subcode != subUnsupportedCodec
	case ErrTooLarge:
		return e.Subcode == subSecurityLimit
	}
	return false
}

// newError copies e's message, which may belong to a context about to be
// freed.
func (l *Lib) newError(op string, e heifError) *Error {
	return &Error{Op: op, Code: int(e.code), Subcode: int(e.subcode), Message: strings.TrimSpace(goString(e.message))}
}

// goString copies the NUL-terminated C string at p.
func goString(p *byte) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}
