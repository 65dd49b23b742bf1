package imaging

import (
	"encoding/binary"
	"image"
	"image/draw"
	"slices"

	"github.com/imgsvc/imgsvc/imaging/internal/heif"
)

// FormatHEIC is the HEIC format.
const FormatHEIC Format = "heic"

// heicCodec reads HEIC/HEIF (what phones write) with the system's libheif,
// loaded through purego: the primary image, grids assembled, with its
// transformations (irot, imir, clap) applied as the format says, so the EXIF
// orientation is not applied again. The service does not write HEIC. Where
// libheif is missing, HEIC is recognised and refused.
func heicCodec() *Codec {
	return &Codec{
		Format: FormatHEIC, Title: "HEIC",
		MediaTypes: []string{"image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"},
		Extensions: []string{".heic", ".heif", ".hif"},
		Aliases:    []string{"heif"},
		Alpha:      true,
		Match: func(b []byte) bool {
			major, compat := ftypBrands(b)
			return heicBrand(major) || (major == "mif1" || major == "msf1") && !avifBrands(major, compat) || slices.ContainsFunc(compat, heicBrand)
		},
		Probe:   probeHEIF,
		Native:  heifLoaded,
		Decoder: heifDecoder("libheif with libde265 (the system's, through purego)"),
	}
}

func heifLoaded() error {
	_, err := heif.Load()
	return err
}

func heicBrand(b string) bool {
	switch b {
	case "heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs":
		return true
	}
	return false
}

// ftypBrands reads the major and compatible brands of an ISO media file's
// ftyp box, the first box of a HEIF or AVIF file.
func ftypBrands(b []byte) (major string, compat []string) {
	if len(b) < 16 || string(b[4:8]) != "ftyp" {
		return "", nil
	}
	n := int(binary.BigEndian.Uint32(b))
	if n < 16 || n > len(b) || n > 4096 {
		return "", nil
	}
	for i := 16; i+4 <= n; i += 4 {
		compat = append(compat, string(b[i:i+4]))
	}
	return string(b[8:12]), compat
}

// probeHEIF reads a HEIC or AVIF header with libheif. Width and Height are
// as shown: the decoder applies the format's own transformations, and the
// EXIF orientation is informative only.
func probeHEIF(b []byte) (Info, error) {
	lib, err := heif.Load()
	if err != nil {
		return Info{}, err
	}
	h, err := lib.Probe(b)
	if err != nil {
		return Info{}, err
	}
	return Info{Width: h.Width, Height: h.Height, Orientation: 1, Frames: 1,
		hdr: header{bpp: 4, alpha: h.Alpha, heif: h, codedPixels: int64(h.CodedPixels),
			icc: embeddedProfile{chunks: nonEmpty(h.ICC)}}}, nil
}

// heifDecoder decodes HEIC and AVIF with libheif, to NRGBA.
func heifDecoder(library string) *Decoder {
	return &Decoder{
		Library: library,
		Cost: func(in Info, _ Scale) DecodeCost {
			// libheif's native planes and RGBA, then the Go copy.
			w, h := int64(in.Width), int64(in.Height)
			return DecodeCost{Path: "libheif", Peak: heif.DecodeCost(in.hdr.heif, in.Bytes) + w*h*4 + decoderFixed,
				W: in.Width, H: in.Height, BPP: 4, Boxable: true}
		},
		Decode: func(b []byte, in Info, _ Scale, _ int) (image.Image, error) {
			lib, err := heif.Load()
			if err != nil {
				return nil, err
			}
			img, _, err := lib.Decode(b, int(max(in.Pixels(), in.hdr.codedPixels)))
			return img, err
		},
	}
}

// toNRGBA returns img as an *image.NRGBA, copying only when it is another type.
func toNRGBA(img image.Image) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok {
		return n
	}
	b := img.Bounds()
	n := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(n, n.Bounds(), img, b.Min, draw.Src)
	return n
}
