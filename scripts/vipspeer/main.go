// Command vipspeer is the libvips peer of scripts/bench.sh: a small HTTP
// server that does what imaginary does (shrink-on-load thumbnail, then
// rotate, blur, re-encode, all in libvips through govips), taking the query
// names of imgsvc's /v1/process for the subset it supports, so the same
// query measures both. It is its own module so that imgsvc keeps no cgo.
//
//	vipspeer -addr 127.0.0.1:0 -concurrency 1
//	curl --data-binary @photo.jpg 'localhost:PORT/process?width=300&format=jpeg&quality=85'
//
// Options: width, height, fit (contain, cover, fill, inside), crop (x,y,w,h),
// rotate (multiples of 90), blur (sigma), format (jpeg, png, webp, avif) and
// quality. Any other name is a 400, as in imgsvc.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/davidbyttow/govips/v2/vips"
)

// maxBodyBytes is imgsvc's default body limit.
const maxBodyBytes = 32 << 20

// noLimit is libvips' largest coordinate: a thumbnail bound that never binds.
const noLimit = 10_000_000

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "vipspeer: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("vipspeer", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	concurrency := fs.Int("concurrency", 1, "libvips threads per image (0: one per core); 1 is imaginary's default")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Only libvips' critical errors reach stderr: nothing is logged per request.
	vips.LoggingSettings(func(domain string, _ vips.LogLevel, msg string) {
		fmt.Fprintf(os.Stderr, "vipspeer: %s: %s\n", domain, msg)
	}, vips.LogLevelCritical)
	// No operation cache: each request is computed, never served from an earlier one's work.
	vips.Startup(&vips.Config{ConcurrencyLevel: *concurrency})
	defer vips.Shutdown()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening on %s\n", ln.Addr())
	mux := http.NewServeMux()
	mux.HandleFunc("POST /process", handleProcess)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// codec is one output format: its libvips type, media type, default quality
// and encoder.
type codec struct {
	typ       vips.ImageType
	mediaType string
	quality   int
	encode    func(img *vips.ImageRef, quality int) ([]byte, *vips.ImageMetadata, error)
}

// codecs returns the output formats by their format option. Encoder settings
// are libvips' defaults (baseline JPEG, as imaginary sends), metadata stripped
// as imgsvc does.
func codecs() map[string]codec {
	return map[string]codec{
		"jpeg": {vips.ImageTypeJPEG, "image/jpeg", 85, func(img *vips.ImageRef, q int) ([]byte, *vips.ImageMetadata, error) {
			return img.ExportJpeg(&vips.JpegExportParams{Quality: q, StripMetadata: true})
		}},
		"png": {vips.ImageTypePNG, "image/png", 0, func(img *vips.ImageRef, _ int) ([]byte, *vips.ImageMetadata, error) {
			p := vips.NewPngExportParams()
			p.StripMetadata = true
			return img.ExportPng(p)
		}},
		"webp": {vips.ImageTypeWEBP, "image/webp", 80, func(img *vips.ImageRef, q int) ([]byte, *vips.ImageMetadata, error) {
			p := vips.NewWebpExportParams()
			p.Quality, p.StripMetadata = q, true
			return img.ExportWebp(p)
		}},
		"avif": {vips.ImageTypeAVIF, "image/avif", 60, func(img *vips.ImageRef, q int) ([]byte, *vips.ImageMetadata, error) {
			p := vips.NewAvifExportParams()
			p.Quality, p.StripMetadata = q, true
			return img.ExportAvif(p)
		}},
	}
}

// options are the parsed query. Zero values mean "not given".
type options struct {
	width, height int
	fit           string
	crop          []int // x, y, w, h
	rotate        int
	blur          float64
	format        string
	quality       int
}

func parseOptions(q url.Values) (options, error) {
	o := options{fit: "contain"}
	for name := range q {
		v := q.Get(name)
		var err error
		switch name {
		case "width":
			o.width, err = intIn(v, 1, 65535)
		case "height":
			o.height, err = intIn(v, 1, 65535)
		case "quality":
			o.quality, err = intIn(v, 1, 100)
		case "rotate":
			o.rotate, err = intIn(v, -360, 360)
			if err == nil && o.rotate%90 != 0 {
				err = errors.New("only multiples of 90 are supported")
			}
			o.rotate = (o.rotate%360 + 360) % 360
		case "blur":
			o.blur, err = strconv.ParseFloat(v, 64)
			if err == nil && (o.blur < 0 || o.blur > 100) {
				err = errors.New("must be 0-100")
			}
		case "fit":
			o.fit = v
			if v != "contain" && v != "cover" && v != "fill" && v != "inside" {
				err = errors.New("must be contain, cover, fill or inside")
			}
		case "format":
			o.format = v
			if _, ok := codecs()[v]; !ok {
				err = errors.New("must be jpeg, png, webp or avif")
			}
		case "crop":
			parts := strings.Split(v, ",")
			for i, p := range parts {
				n, perr := intIn(p, 0, 1<<30)
				if perr != nil || len(parts) != 4 || (i >= 2 && n == 0) {
					err = errors.New("must be x,y,w,h")
					break
				}
				o.crop = append(o.crop, n)
			}
		default:
			err = errors.New("unknown option")
		}
		if err != nil {
			return o, fmt.Errorf("%s=%q: %w", name, v, err)
		}
	}
	return o, nil
}

func intIn(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("must be an integer in %d-%d", lo, hi)
	}
	return n, nil
}

// handleProcess answers the posted image, transformed by the query.
func handleProcess(w http.ResponseWriter, r *http.Request) {
	o, err := parseOptions(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	src, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil || len(src) == 0 {
		http.Error(w, fmt.Sprintf("reading the body: %v (%d bytes)", err, len(src)), http.StatusBadRequest)
		return
	}
	out, mediaType, status, err := process(src, o)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.Write(out)
}

// process runs decode, crop, resize, rotate, blur and encode, in imgsvc's
// order. It returns the encoded image and its media type, or an HTTP status
// and an error.
func process(src []byte, o options) ([]byte, string, int, error) {
	w, h := o.width, o.height
	if w == 0 && h > 0 {
		w = noLimit
	} else if h == 0 && w > 0 {
		h = noLimit
	}
	crop, size := vips.InterestingNone, vips.SizeBoth
	switch o.fit {
	case "cover":
		crop = vips.InterestingCentre
	case "fill":
		if o.width > 0 && o.height > 0 {
			size = vips.SizeForce
		}
	}

	var img *vips.ImageRef
	var err error
	switch {
	case w > 0 && o.crop == nil && o.rotate == 0:
		// Shrink-on-load: libvips decodes a JPEG at 1/2, 1/4 or 1/8 scale and
		// a WebP no larger than it must, then reduces the rest, streaming.
		img, err = vips.NewThumbnailWithSizeFromBuffer(src, w, h, crop, size)
	case w > 0 && o.crop == nil:
		// A rotation reads the image out of order, which a streamed thumbnail
		// cannot: load with random access at the JPEG scale that still covers
		// the target, as imaginary does, then resize.
		img, err = loadShrunk(src, w, h, crop == vips.InterestingCentre || size == vips.SizeForce)
		if err == nil {
			err = img.ThumbnailWithSize(w, h, crop, size)
		}
	default:
		img, err = vips.NewImageFromBuffer(src)
		if err == nil {
			err = img.AutoRotate()
		}
	}
	if err != nil {
		if img != nil {
			img.Close()
		}
		return nil, "", http.StatusUnsupportedMediaType, fmt.Errorf("decode: %w", err)
	}
	defer img.Close()
	inType := img.Format()

	if o.crop != nil {
		x, y, cw, ch := o.crop[0], o.crop[1], o.crop[2], o.crop[3]
		if x+cw > img.Width() || y+ch > img.Height() {
			return nil, "", http.StatusBadRequest, fmt.Errorf("crop %d,%d,%d,%d is outside the %dx%d image", x, y, cw, ch, img.Width(), img.Height())
		}
		if err := img.ExtractArea(x, y, cw, ch); err != nil {
			return nil, "", http.StatusInternalServerError, err
		}
		if w > 0 {
			if err := img.ThumbnailWithSize(w, h, crop, size); err != nil {
				return nil, "", http.StatusInternalServerError, err
			}
		}
	}
	// contain with both sizes pads to the exact box, centred, in white.
	if o.fit == "contain" && o.width > 0 && o.height > 0 && (img.Width() != o.width || img.Height() != o.height) {
		white := &vips.ColorRGBA{R: 255, G: 255, B: 255, A: 255}
		if err := img.EmbedBackgroundRGBA((o.width-img.Width())/2, (o.height-img.Height())/2, o.width, o.height, white); err != nil {
			return nil, "", http.StatusInternalServerError, err
		}
	}
	if o.rotate != 0 {
		angle := map[int]vips.Angle{90: vips.Angle90, 180: vips.Angle180, 270: vips.Angle270}[o.rotate]
		if err := img.Rotate(angle); err != nil {
			return nil, "", http.StatusInternalServerError, err
		}
	}
	if o.blur > 0 {
		if err := img.GaussianBlur(o.blur); err != nil {
			return nil, "", http.StatusInternalServerError, err
		}
	}

	all := codecs()
	name := o.format
	if name == "" { // the input's format, as imgsvc does, else PNG
		name = "png"
		for n, c := range all {
			if c.typ == inType {
				name = n
			}
		}
	}
	c := all[name]
	q := o.quality
	if q == 0 {
		q = c.quality
	}
	out, _, err := c.encode(img, q)
	if err != nil {
		return nil, "", http.StatusInternalServerError, fmt.Errorf("encode %s: %w", name, err)
	}
	return out, c.mediaType, http.StatusOK, nil
}

// loadShrunk loads src with random access and upright, a JPEG at the largest
// DCT scale (1/2, 1/4, 1/8) that still covers the target: the w×h box fitted
// inside it, or covering it when fills is set (cover, fill).
func loadShrunk(src []byte, w, h int, fills bool) (*vips.ImageRef, error) {
	hdr, err := vips.NewImageFromBuffer(src) // reads the header only
	if err != nil {
		return nil, err
	}
	inW, inH := hdr.Width(), hdr.Height()
	if hdr.Orientation() >= 5 { // the EXIF orientations that swap the axes
		inW, inH = inH, inW
	}
	isJPEG := hdr.Format() == vips.ImageTypeJPEG
	hdr.Close()
	p := &vips.ImportParams{} // libvips defaults, as thumbnail_buffer uses
	if isJPEG {
		scale := min(float64(w)/float64(inW), float64(h)/float64(inH))
		if fills {
			scale = max(float64(w)/float64(inW), float64(h)/float64(inH))
		}
		shrink := 1
		for shrink < 8 && 1/float64(shrink*2) >= scale {
			shrink *= 2
		}
		p.JpegShrinkFactor.Set(shrink)
	}
	img, err := vips.LoadImageFromBuffer(src, p)
	if err == nil {
		err = img.AutoRotate()
	}
	return img, err
}
