// Command benchcmp measures the quality of scripts/bench.sh's outputs: the
// PSNR of each output against a high-quality reference made by the same
// operation from the full-size decode (EXIF orientation applied): a Lanczos
// resize of the full image (cover: Lanczos to cover, then centre crop), a
// true Gaussian blur (radius 3σ, in float), rotations by multiples of 90°.
// The reference is made at each output's own size, so outputs that round a
// side differently are each compared fairly. Pixels are compared in RGB
// over white.
//
//	benchcmp MANIFEST
//
// MANIFEST has one line per output: INPUT<TAB>QUERY<TAB>OUTPUT, where QUERY
// is the /v1/process query that made OUTPUT from INPUT (width, height, fit,
// rotate, blur; format and quality are read off the output). It prints
// OUTPUT<TAB>PSNR (dB, 99 for identical, n/a when the output does not
// decode) for each line, decoding each input once.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"math"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	imgops "github.com/disintegration/imaging"
	_ "golang.org/x/image/webp"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: benchcmp MANIFEST")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "benchcmp: %v\n", err)
		os.Exit(1)
	}
}

type entry struct{ input, query, output string }

func run(manifest string, w io.Writer) error {
	f, err := os.Open(manifest)
	if err != nil {
		return err
	}
	defer f.Close()
	var entries []entry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 3 {
			continue
		}
		entries = append(entries, entry{p[0], p[1], p[2]})
	}
	if err := sc.Err(); err != nil {
		return err
	}
	// One input at a time: decode it once, make each reference once.
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].input < entries[j].input })
	var (
		input string
		full  *image.NRGBA
		refs  map[string]*image.NRGBA
	)
	for _, e := range entries {
		if e.input != input {
			input, refs = e.input, map[string]*image.NRGBA{}
			src, err := imgops.Open(e.input, imgops.AutoOrientation(true))
			if err != nil {
				return fmt.Errorf("%s: %w", e.input, err)
			}
			full = flatten(src)
		}
		out, err := openFlat(e.output)
		if err != nil {
			fmt.Fprintf(w, "%s\tn/a\n", e.output)
			continue
		}
		q, err := url.ParseQuery(e.query)
		if err != nil {
			return fmt.Errorf("%s: %w", e.query, err)
		}
		ref, err := reference(full, q, out.Bounds().Size(), refs)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", e.input, e.query, err)
		}
		fmt.Fprintf(w, "%s\t%.2f\n", e.output, psnr(ref, out))
	}
	return nil
}

// reference applies the query's operation to full in high quality, ending
// at size. resized caches the resizes of full, which several workloads
// share (the same width in JPEG, WebP, rotated, blurred).
func reference(full *image.NRGBA, q url.Values, size image.Point, resized map[string]*image.NRGBA) (*image.NRGBA, error) {
	num := func(name string) (float64, error) {
		if v := q.Get(name); v != "" {
			return strconv.ParseFloat(v, 64)
		}
		return 0, nil
	}
	width, err1 := num("width")
	height, err2 := num("height")
	rotate, err3 := num("rotate")
	sigma, err4 := num("blur")
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return nil, err
	}
	quarter := int(math.Mod(rotate+360, 360)) / 90
	if math.Mod(rotate, 90) != 0 {
		return nil, fmt.Errorf("rotate=%g: only multiples of 90 are compared", rotate)
	}
	tw, th := size.X, size.Y
	if quarter%2 == 1 {
		tw, th = th, tw
	}
	cover := q.Get("fit") == "cover" && width > 0 && height > 0
	key := fmt.Sprintf("%t %dx%d", cover, tw, th)
	img, ok := resized[key]
	if !ok {
		switch {
		case cover:
			img = imgops.Fill(full, tw, th, imgops.Center, imgops.Lanczos)
		case full.Bounds().Size() != image.Pt(tw, th):
			img = imgops.Resize(full, tw, th, imgops.Lanczos)
		default:
			img = full
		}
		resized[key] = img
	}
	if sigma > 0 {
		img = imgops.Blur(img, sigma)
	}
	switch quarter {
	case 1:
		img = imgops.Rotate270(img) // clockwise, as the query means it
	case 2:
		img = imgops.Rotate180(img)
	case 3:
		img = imgops.Rotate90(img)
	}
	return img, nil
}

func openFlat(path string) (*image.NRGBA, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, err
	}
	return flatten(img), nil
}

// flatten is img over white, as NRGBA from (0,0).
func flatten(img image.Image) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), &image.Uniform{color.White}, image.Point{}, draw.Src)
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Over)
	return out
}

// psnr is the peak signal-to-noise ratio of b against a over RGB, in dB;
// 99 for identical images.
func psnr(a, b *image.NRGBA) float64 {
	var se float64
	n := 0
	for i := 0; i+3 < len(a.Pix) && i+3 < len(b.Pix); i += 4 {
		for c := range 3 {
			d := float64(a.Pix[i+c]) - float64(b.Pix[i+c])
			se += d * d
		}
		n += 3
	}
	if se == 0 || n == 0 {
		return 99
	}
	return min(99, 10*math.Log10(255*255/(se/float64(n))))
}
