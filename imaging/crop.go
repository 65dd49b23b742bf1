package imaging

import "image"

// scaledCrop is the crop rectangle in the decoded image, which is size (after
// orientation): the crop option as it is when the decoder did not shrink,
// else divided by the decoder's factors, outward (floor the minimum, ceil the
// maximum) so that the region is all there, and clamped to the image.
// Orientation turns the decoder's factors with the image.
func (pl *Plan) scaledCrop(size image.Point) image.Rectangle {
	r := pl.Options.Crop
	sx, sy := max(pl.scale.X, 1), max(pl.scale.Y, 1)
	if sx == 1 && sy == 1 {
		return r
	}
	if pl.Options.AutoOrient && pl.Info.Orientation >= 5 {
		sx, sy = sy, sx
	}
	r = image.Rect(r.Min.X/sx, r.Min.Y/sy, ceilDiv(r.Max.X, sx), ceilDiv(r.Max.Y, sy))
	return r.Intersect(image.Rectangle{Max: size})
}
