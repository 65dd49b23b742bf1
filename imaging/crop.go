package imaging

import (
	"image"
	"math"

	imgops "github.com/disintegration/imaging"
)

// crop applies the crop option to the decoded, oriented image. When the
// decoder shrank the image, the rectangle it takes (scaledCrop) may reach up
// to a decoded pixel beyond the asked region on each side; then crop also
// resizes, to the target enlarged by that excess, and trims the excess off,
// so that the asked region lands where it belongs to within half an output
// pixel. The resize step after it then has nothing left to do.
func (p *Pipeline) crop(img image.Image, pl Plan) image.Image {
	r := pl.scaledCrop(img.Bounds().Size())
	img = imgops.Crop(img, r.Add(img.Bounds().Min))
	if w, h, trim, ok := pl.cropTrim(r); ok {
		img = resize(img, w, h, p.procs)
		img = imgops.Crop(img, trim.Add(img.Bounds().Min))
	}
	return img
}

// scaledCrop is the crop rectangle in the decoded image, which is size (after
// orientation): the crop option as it is when the decoder did not shrink,
// else divided by the decoder's factors, outward (floor the minimum, ceil the
// maximum) so that the region is all there, and clamped to the image.
// Orientation turns the decoder's factors with the image.
func (pl *Plan) scaledCrop(size image.Point) image.Rectangle {
	r := pl.Options.Crop
	sx, sy := pl.cropScale()
	if sx == 1 && sy == 1 {
		return r
	}
	r = image.Rect(r.Min.X/sx, r.Min.Y/sy, ceilDiv(r.Max.X, sx), ceilDiv(r.Max.Y, sy))
	return r.Intersect(image.Rectangle{Max: size})
}

// cropScale is the decoder's shrink factors in the crop's coordinates.
func (pl *Plan) cropScale() (int, int) {
	sx, sy := max(pl.scale.X, 1), max(pl.scale.Y, 1)
	if pl.Options.AutoOrient && pl.Info.Orientation >= 5 {
		sx, sy = sy, sx
	}
	return sx, sy
}

// cropTrim is the size to resize the crop r (from scaledCrop) to, and the
// rectangle of the result that is the asked region at the resize target;
// ok is false when there is no resize, or r is the asked region exactly.
func (pl *Plan) cropTrim(r image.Rectangle) (w, h int, trim image.Rectangle, ok bool) {
	sx, sy := pl.cropScale()
	if pl.resizeWidth == 0 || sx == 1 && sy == 1 {
		return 0, 0, image.Rectangle{}, false
	}
	c := pl.Options.Crop
	// axis maps the asked [lo, hi) (in input pixels, s to a decoded pixel)
	// onto t output pixels, and returns the size [r0, r1) resizes to and
	// where the asked region starts in it.
	axis := func(lo, hi, r0, r1, s, t int) (n, off int) {
		e0, e1 := float64(lo)/float64(s), float64(hi)/float64(s)
		f := float64(t) / (e1 - e0)
		n = max(t, int(math.Round(float64(r1-r0)*f)))
		off = min(max(int(math.Round((e0-float64(r0))*f)), 0), n-t)
		return n, off
	}
	tw, th := pl.resizeWidth, pl.resizeHeight
	w, ox := axis(c.Min.X, c.Max.X, r.Min.X, r.Max.X, sx, tw)
	h, oy := axis(c.Min.Y, c.Max.Y, r.Min.Y, r.Max.Y, sy, th)
	return w, h, image.Rect(ox, oy, ox+tw, oy+th), w != tw || h != th
}
