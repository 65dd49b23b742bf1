package imaging

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"

	imgops "github.com/disintegration/imaging"

	"github.com/imgsvc/imgsvc/imaging/internal/icc"
)

// transform applies a plan's pixel operations, in the order Process
// documents: orient, crop, resize (fit, gravity), colour, padding, rotate,
// flip, blur, sharpen, grayscale, brightness, contrast, gamma, and
// flattening onto the background for formats without alpha. The colour
// transform ct (nil for none) runs after the resize, on the fewest pixels,
// as libvips does; CMYK pixels turn into sRGB first, as nothing else reads
// them.
func (p *Pipeline) transform(img image.Image, pl Plan, ct *icc.Transform) image.Image {
	o := pl.Options
	if _, ok := img.(*image.CMYK); ok && ct != nil {
		img, ct = toSRGB(img, ct), nil
	}
	_, planar := planarSource(img, pl) // oriented and cover-cropped by the resize
	if o.AutoOrient && !planar {
		img = orient(img, pl.Info.Orientation)
	}
	if !o.Crop.Empty() {
		img = p.crop(img, pl)
	}
	if pl.resizeWidth > 0 {
		b := img.Bounds()
		if planar {
			img = planarResize(img, pl, p.procs)
		} else if b.Dx() != pl.resizeWidth || b.Dy() != pl.resizeHeight {
			img = resize(img, pl.resizeWidth, pl.resizeHeight, p.procs)
		}
		if o.Fit == FitCover && !planar && pl.resizeWidth > 0 && (pl.resizeWidth != o.Width || pl.resizeHeight != o.Height) && o.Width > 0 && o.Height > 0 {
			img = cropCover(img, o.Width, o.Height, o.Gravity)
		}
	}
	img = toSRGB(img, ct)
	if pl.resizeWidth > 0 {
		if pl.padWidth > 0 {
			canvas := imgops.New(pl.padWidth, pl.padHeight, padColor(o, pl.OutFormat))
			img = imgops.PasteCenter(canvas, img)
		}
	}
	if !planar { // else turned and flipped with the planes
		if o.Rotate != 0 {
			img = rotate(img, o.Rotate, padColor(o, pl.OutFormat))
		}
		img = orient(img, flipOrientation(o.Flip))
	}
	if o.Blur > 0 {
		img = blur(img, o.Blur, p.procs)
	}
	if o.Sharpen > 0 {
		img = sharpen(img, o.Sharpen, p.procs)
	}
	if o.Grayscale {
		img = imgops.Grayscale(img)
	}
	if o.Brightness != 0 {
		img = imgops.AdjustBrightness(img, o.Brightness)
	}
	if o.Contrast != 0 {
		img = imgops.AdjustContrast(img, o.Contrast)
	}
	if o.Gamma != 1 && o.Gamma > 0 {
		img = imgops.AdjustGamma(img, o.Gamma)
	}
	if !pl.OutFormat.HasAlpha() && !isOpaque(img) {
		img = flatten(img, o)
	}
	return img
}

// padColor is the colour of padding and of corners uncovered by rotation:
// the background option, else transparent where the output format has alpha
// and white where it has not.
func padColor(o Options, f Format) color.Color {
	if o.HasBackground {
		return o.Background
	}
	if f.HasAlpha() {
		return color.NRGBA{}
	}
	return color.White
}

func anchor(g Gravity) imgops.Anchor {
	switch g {
	case GravityNorth:
		return imgops.Top
	case GravitySouth:
		return imgops.Bottom
	case GravityEast:
		return imgops.Right
	case GravityWest:
		return imgops.Left
	case GravityNorthEast:
		return imgops.TopRight
	case GravityNorthWest:
		return imgops.TopLeft
	case GravitySouthEast:
		return imgops.BottomRight
	case GravitySouthWest:
		return imgops.BottomLeft
	}
	return imgops.Center
}

// orient applies an EXIF orientation so the image displays upright.
func orient(img image.Image, o int) image.Image {
	switch o {
	case 2:
		return imgops.FlipH(img)
	case 3:
		return imgops.Rotate180(img)
	case 4:
		return imgops.FlipV(img)
	case 5:
		return imgops.Transpose(img)
	case 6:
		return imgops.Rotate270(img)
	case 7:
		return imgops.Transverse(img)
	case 8:
		return imgops.Rotate90(img)
	}
	return img
}

// rotate turns img clockwise by deg degrees; imaging rotates counter-clockwise.
func rotate(img image.Image, deg float64, bg color.Color) image.Image {
	if o, ok := turnOrientation(deg); ok {
		return orient(img, o)
	}
	return imgops.Rotate(img, -deg, bg)
}

// turnOrientation gives a clockwise rotation by a multiple of 90 degrees as
// the EXIF orientation that makes it (1 for none); ok is false for other
// angles.
func turnOrientation(deg float64) (o int, ok bool) {
	switch math.Mod(deg+720, 360) {
	case 0:
		return 1, true
	case 90:
		return 6, true
	case 180:
		return 3, true
	case 270:
		return 8, true
	}
	return 0, false
}

// isQuarterTurn says whether deg is a multiple of 90 degrees.
func isQuarterTurn(deg float64) bool {
	_, ok := turnOrientation(deg)
	return ok
}

// flipOrientation gives the flip option ("", "h" or "v") as the EXIF
// orientation that makes it.
func flipOrientation(flip string) int {
	switch flip {
	case "h":
		return 2
	case "v":
		return 4
	}
	return 1
}

// gravityOffset places a w×h rectangle inside a W×H one by gravity g: at
// the sides g names, centred (rounded down, as imgops.CropAnchor does)
// along an axis it names no side of.
func gravityOffset(g Gravity, W, H, w, h int) (x, y int) {
	x, y = (W-w)/2, (H-h)/2
	switch s := string(g); {
	case strings.HasSuffix(s, "west"):
		x = 0
	case strings.HasSuffix(s, "east"):
		x = W - w
	}
	switch s := string(g); {
	case strings.HasPrefix(s, "north"):
		y = 0
	case strings.HasPrefix(s, "south"):
		y = H - h
	}
	return x, y
}

func isOpaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}

// flatten composes img over the background colour (white by default), for
// output formats without alpha.
func flatten(img image.Image, o Options) image.Image {
	bg := color.NRGBA{255, 255, 255, 255}
	if o.HasBackground {
		bg = o.Background
		bg.A = 255
	}
	b := img.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), &image.Uniform{bg}, image.Point{}, draw.Src)
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Over)
	return dst
}
