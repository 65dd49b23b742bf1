package imaging

import (
	"image"
	"image/color"
	"math"

	imgops "github.com/disintegration/imaging"
)

// GravitySmart keeps the most interesting part of the image when cropping
// to cover: the window with the most detail, saturated colour and skin tone.
const GravitySmart Gravity = "smart"

// smartAnalysisSide is the longest side of the copy smart crop scores; the
// work and memory of a smart crop are bounded by it, whatever the image.
const smartAnalysisSide = 256

// smartCropCost is the memory a smart crop allocates besides the image it
// crops: the analysis copy, the lightness and score maps, and three
// summed-area tables.
const smartCropCost = smartAnalysisSide*smartAnalysisSide*(4+4+4) + 3*(smartAnalysisSide+1)*(smartAnalysisSide+1)*8

// cropCover crops img to w×h (a cover resize overflows the box on one side)
// at gravity g.
func cropCover(img image.Image, w, h int, g Gravity) image.Image {
	if g == GravitySmart {
		return imgops.Crop(img, smartCrop(img, w, h))
	}
	return imgops.CropAnchor(img, w, h, anchor(g))
}

// Weights and thresholds of the interest score, after smartcrop.js (Jonas
// Wagner): detail is the Laplacian of lightness; saturation counts over a
// threshold and away from black and white; skin is the closeness of a
// pixel's chromaticity to a typical skin tone.
const (
	smartDetailGain      = 4.0
	smartDetailFloor     = 2.0 / 255 // below this, a step of the gradient or noise
	smartSaturationMin   = 0.4
	smartSaturationW     = 0.3
	smartSkinThreshold   = 0.85
	smartSkinW           = 1.8
	smartLightMin        = 0.05
	smartLightMax        = 0.9
	smartSkinLightMin    = 0.2
	smartSumTolerance    = 0.02 // windows within 2% of the best are as good
	smartCentreTieWeight = 1e-3
)

// A typical skin tone, (0.78, 0.57, 0.44), as a unit vector in RGB.
const (
	smartSkinR = 0.73477
	smartSkinG = 0.53695
	smartSkinB = 0.41449
)

// smartCrop returns the w×h window of img (in its coordinates) that holds
// the most interest. It scores a copy of at most smartAnalysisSide pixels a
// side, sums the scores of every candidate window with a summed-area table,
// and of the windows within smartSumTolerance of the best keeps the one
// whose interest is best centred, so a subject on a plain background ends up
// whole and in the middle rather than against the window's edge.
func smartCrop(img image.Image, w, h int) image.Rectangle {
	b := img.Bounds()
	W, H := b.Dx(), b.Dy()
	w, h = min(max(w, 1), W), min(max(h, 1), H)
	if w == W && h == H {
		return b
	}
	f := max(1, ceilDiv(max(W, H), smartAnalysisSide))
	a := analysisCopy(img, f)
	aw, ah := a.Bounds().Dx(), a.Bounds().Dy()
	score := interest(a)

	// Summed-area tables of the score and of its first moments in x and y.
	stride := aw + 1
	sum := make([]float64, stride*(ah+1))
	mx := make([]float64, len(sum))
	my := make([]float64, len(sum))
	for y := 0; y < ah; y++ {
		var rs, rx, ry float64
		for x := 0; x < aw; x++ {
			s := float64(score[y*aw+x])
			rs += s
			rx += s * (float64(x) + 0.5)
			ry += s * (float64(y) + 0.5)
			i := (y+1)*stride + x + 1
			sum[i] = sum[i-stride] + rs
			mx[i] = mx[i-stride] + rx
			my[i] = my[i-stride] + ry
		}
	}
	box := func(t []float64, x0, y0, x1, y1 int) float64 {
		return t[y1*stride+x1] - t[y0*stride+x1] - t[y1*stride+x0] + t[y0*stride+x0]
	}

	ww := min(max(int(math.Round(float64(w)/float64(f))), 1), aw)
	wh := min(max(int(math.Round(float64(h)/float64(f))), 1), ah)
	best := math.Inf(-1)
	for y := 0; y+wh <= ah; y++ {
		for x := 0; x+ww <= aw; x++ {
			best = max(best, box(sum, x, y, x+ww, y+wh))
		}
	}
	floor := best - smartSumTolerance*math.Abs(best) - 1e-9
	cx, cy := float64(aw)/2, float64(ah)/2
	bx, by, bestOff := 0, 0, math.Inf(1)
	for y := 0; y+wh <= ah; y++ {
		for x := 0; x+ww <= aw; x++ {
			s := box(sum, x, y, x+ww, y+wh)
			if s < floor {
				continue
			}
			// How far the window's centre is from the centroid of the
			// interest it holds, in window sizes, and (to break ties in a
			// featureless image) from the centre of the image.
			wx, wy := float64(x)+float64(ww)/2, float64(y)+float64(wh)/2
			gx, gy := wx, wy
			if s > 0 {
				gx, gy = box(mx, x, y, x+ww, y+wh)/s, box(my, x, y, x+ww, y+wh)/s
			}
			dx, dy := (gx-wx)/float64(ww), (gy-wy)/float64(wh)
			ex, ey := (wx-cx)/float64(aw), (wy-cy)/float64(ah)
			off := dx*dx + dy*dy + smartCentreTieWeight*(ex*ex+ey*ey)
			if off < bestOff {
				bx, by, bestOff = x, y, off
			}
		}
	}
	// Map the window's centre back to the image.
	x0 := int(math.Round((float64(bx)+float64(ww)/2)*float64(f) - float64(w)/2))
	y0 := int(math.Round((float64(by)+float64(wh)/2)*float64(f) - float64(h)/2))
	x0 = min(max(x0, 0), W-w)
	y0 = min(max(y0, 0), H-h)
	return image.Rect(x0, y0, x0+w, y0+h).Add(b.Min)
}

// analysisCopy shrinks img by f in both directions, averaging f×f boxes.
func analysisCopy(img image.Image, f int) *image.NRGBA {
	if m, ok := img.(*image.NRGBA); ok && f == 1 {
		return m
	}
	if f > 1 {
		if s := boxShrink(img, f, f, 1); s != nil {
			return s
		}
	}
	// Image types boxShrink does not read: average through At, without an
	// intermediate image.
	b := img.Bounds()
	aw, ah := ceilDiv(b.Dx(), f), ceilDiv(b.Dy(), f)
	out := image.NewNRGBA(image.Rect(0, 0, aw, ah))
	for ay := range ah {
		for ax := range aw {
			var r, g, bl, al, n uint64
			for y := b.Min.Y + ay*f; y < min(b.Min.Y+(ay+1)*f, b.Max.Y); y++ {
				for x := b.Min.X + ax*f; x < min(b.Min.X+(ax+1)*f, b.Max.X); x++ {
					cr, cg, cb, ca := img.At(x, y).RGBA()
					r, g, bl, al, n = r+uint64(cr), g+uint64(cg), bl+uint64(cb), al+uint64(ca), n+1
				}
			}
			c := color.NRGBAModel.Convert(color.RGBA64{uint16(r / n), uint16(g / n), uint16(bl / n), uint16(al / n)}).(color.NRGBA)
			out.SetNRGBA(ax, ay, c)
		}
	}
	return out
}

// interest scores every pixel of a: detail, saturation and skin, weighted
// by opacity.
func interest(a *image.NRGBA) []float32 {
	aw, ah := a.Bounds().Dx(), a.Bounds().Dy()
	light := make([]float32, aw*ah)
	for y := range ah {
		row := a.Pix[y*a.Stride : y*a.Stride+aw*4]
		for x := range aw {
			p := row[x*4 : x*4+4]
			light[y*aw+x] = (0.2126*float32(p[0]) + 0.7152*float32(p[1]) + 0.0722*float32(p[2])) / 255 * float32(p[3]) / 255
		}
	}
	score := make([]float32, aw*ah)
	for y := range ah {
		row := a.Pix[y*a.Stride : y*a.Stride+aw*4]
		for x := range aw {
			p := row[x*4 : x*4+4]
			if p[3] == 0 {
				continue
			}
			var s float64
			if x > 0 && y > 0 && x < aw-1 && y < ah-1 {
				i := y*aw + x
				lap := 4*light[i] - light[i-1] - light[i+1] - light[i-aw] - light[i+aw]
				s += min(1, smartDetailGain*max(0, math.Abs(float64(lap))-smartDetailFloor))
			}
			r, g, bl := float64(p[0])/255, float64(p[1])/255, float64(p[2])/255
			hi, lo := max(r, g, bl), min(r, g, bl)
			l := (hi + lo) / 2
			if hi > lo && l > smartLightMin && l < smartLightMax {
				sat := (hi - lo) / (1 - math.Abs(2*l-1))
				if sat > smartSaturationMin {
					s += smartSaturationW * (sat - smartSaturationMin) / (1 - smartSaturationMin)
				}
			}
			if m := math.Sqrt(r*r + g*g + bl*bl); m > 0 && l > smartSkinLightMin {
				dr, dg, db := r/m-smartSkinR, g/m-smartSkinG, bl/m-smartSkinB
				if skin := 1 - math.Sqrt(dr*dr+dg*dg+db*db); skin > smartSkinThreshold {
					s += smartSkinW * (skin - smartSkinThreshold) / (1 - smartSkinThreshold)
				}
			}
			score[y*aw+x] = float32(s * float64(p[3]) / 255)
		}
	}
	return score
}
