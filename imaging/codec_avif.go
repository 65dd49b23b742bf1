package imaging

import (
	"bytes"
	"image"
	"slices"

	"github.com/imgsvc/imgsvc/imaging/internal/heif"
)

// FormatAVIF is the AVIF format.
const FormatAVIF Format = "avif"

// Default AVIF settings.
const (
	DefaultAVIFQuality = 60
	// DefaultAVIFEffort is libaom's speed 7: a 1280 px photo in 0.19–0.29 s
	// on one core, within 1% of avifenc's bytes at the same settings.
	DefaultAVIFEffort = heif.MaxSpeed - 7
)

// avifCodec reads and writes AVIF with the system's libheif (dav1d to
// decode, libaom to encode), loaded through purego.
func avifCodec() *Codec {
	return &Codec{
		Format: FormatAVIF, Title: "AVIF",
		MediaTypes: []string{"image/avif", "image/avif-sequence"},
		Extensions: []string{".avif"},
		Alpha:      true,
		AutoRank:   1, // the smallest files: first when the client accepts it
		Match: func(b []byte) bool {
			major, compat := ftypBrands(b)
			return avifBrands(major, compat)
		},
		Probe:   probeHEIF,
		Native:  heifLoaded,
		Decoder: heifDecoder("libheif with dav1d (the system's, through purego)"),
		Encoder: &Encoder{
			Library: "libheif with libaom (the system's, through purego)",
			Quality: DefaultAVIFQuality,
			ICC:     true,
			// Higher effort is slower and smaller: libaom's speed runs the other way.
			Effort: Range{Min: 0, Max: heif.MaxSpeed, Default: DefaultAVIFEffort},
			Cost: func(w, h int, _ bool, o Options) int64 {
				// An NRGBA copy when the image is of another type, and
				// libaom's native buffers.
				return int64(w)*int64(h)*4 + heif.EncodeCost(w, h, avifOptions(o)) + encoderFixed
			},
			Encode: func(w *bytes.Buffer, img image.Image, o Options) error {
				lib, err := heif.Load()
				if err != nil {
					return err
				}
				b, err := lib.EncodeAVIF(toNRGBA(img), avifOptions(o))
				if err != nil {
					return err
				}
				_, err = w.Write(b)
				return err
			},
		},
	}
}

func avifOptions(o Options) heif.EncodeOptions {
	return heif.EncodeOptions{
		ICC:     o.icc,
		Quality: qualityOr(o.Quality, DefaultAVIFQuality),
		Speed:   heif.MaxSpeed - effortOr(o.Effort, DefaultAVIFEffort),
	}
}

func avifBrands(major string, compat []string) bool {
	return major == "avif" || major == "avis" || slices.Contains(compat, "avif") || slices.Contains(compat, "avis")
}
