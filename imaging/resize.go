package imaging

import (
	"image"
	"image/color"
	"sync"

	imgops "github.com/disintegration/imaging"
)

// maxBoxFactor bounds the box factor per axis, so that the box sums of
// premultiplied 8-bit samples (255·255·kx·ky) fit in a uint32.
const maxBoxFactor = 250

// resize scales img to w×h with a Lanczos filter. A large reduction first
// averages kx×ky boxes of source pixels, read straight from the decoder's
// type (YCbCr, NRGBA, RGBA or Gray), so the Lanczos step starts from between
// two and three times the target size; libvips resizes the same way (shrink,
// then reduce). The Lanczos step is lanczosResize, imgops.Resize for image
// types it does not read. Both steps use up to procs goroutines.
func resize(img image.Image, w, h, procs int) image.Image {
	b := img.Bounds()
	kx := min(b.Dx()/(2*w), maxBoxFactor)
	ky := min(b.Dy()/(2*h), maxBoxFactor)
	if kx >= 2 || ky >= 2 {
		if s := boxShrink(img, max(kx, 1), max(ky, 1), procs); s != nil {
			img = s
		}
	}
	if b := img.Bounds(); b.Dx() == w && b.Dy() == h {
		return img
	}
	if r := lanczosResize(img, w, h, procs); r != nil {
		return r
	}
	return imgops.Resize(img, w, h, imgops.Lanczos)
}

// boxShrink averages kx×ky boxes of img into an NRGBA image of
// ⌈w/kx⌉×⌈h/ky⌉ pixels, the last column and row averaging what is left.
// Colours are averaged weighted by alpha. It splits the rows among up to
// procs goroutines, and returns nil for image types it does not read.
func boxShrink(img image.Image, kx, ky, procs int) *image.NRGBA {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	ow, oh := ceilDiv(sw, kx), ceilDiv(sh, ky)
	var row func(dst []uint8, acc []uint32, y0, y1 int)
	switch m := img.(type) {
	case *image.NRGBA:
		row = func(dst []uint8, acc []uint32, y0, y1 int) {
			clear(acc)
			for y := y0; y < y1; y++ {
				accumulateNRGBA(acc, m.Pix[y*m.Stride:y*m.Stride+sw*4], kx)
			}
			putPremultiplied(dst, acc, ow, kx, sw, y1-y0, 1)
		}
	case *image.RGBA:
		row = func(dst []uint8, acc []uint32, y0, y1 int) {
			clear(acc)
			for y := y0; y < y1; y++ {
				src := m.Pix[y*m.Stride : y*m.Stride+sw*4]
				for ox := range ow {
					a := acc[ox*4 : ox*4+4 : ox*4+4]
					s := src[ox*kx*4 : min((ox+1)*kx, sw)*4]
					var r, g, bl, al uint32
					for i := 0; i+3 < len(s); i += 4 {
						p := s[i : i+4 : i+4]
						r += uint32(p[0])
						g += uint32(p[1])
						bl += uint32(p[2])
						al += uint32(p[3])
					}
					a[0] += r
					a[1] += g
					a[2] += bl
					a[3] += al
				}
			}
			putPremultiplied(dst, acc, ow, kx, sw, y1-y0, 255)
		}
	case *image.Gray:
		row = func(dst []uint8, acc []uint32, y0, y1 int) {
			clear(acc)
			for y := y0; y < y1; y++ {
				src := m.Pix[y*m.Stride : y*m.Stride+sw]
				for ox := range ow {
					var v uint32
					for _, p := range src[ox*kx : min((ox+1)*kx, sw)] {
						v += uint32(p)
					}
					acc[ox] += v
				}
			}
			for ox := range ow {
				n := uint32((min((ox+1)*kx, sw) - ox*kx) * (y1 - y0))
				v := uint8((acc[ox] + n/2) / n)
				d := dst[ox*4 : ox*4+4 : ox*4+4]
				d[0], d[1], d[2], d[3] = v, v, v, 255
			}
		}
	case *image.YCbCr:
		cx, ok := chromaColumns(m.SubsampleRatio, sw, m.Rect.Min.X)
		if !ok {
			return nil
		}
		row = func(dst []uint8, acc []uint32, y0, y1 int) {
			clear(acc)
			for y := y0; y < y1; y++ {
				ys := m.Y[y*m.YStride : y*m.YStride+sw]
				cy := y
				switch m.SubsampleRatio {
				case image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio410:
					cy = (y+m.Rect.Min.Y)/2 - m.Rect.Min.Y/2
				}
				cbs := m.Cb[cy*m.CStride:]
				crs := m.Cr[cy*m.CStride:]
				for ox := range ow {
					x0, x1 := ox*kx, min((ox+1)*kx, sw)
					var yv, cb, cr uint32
					for _, p := range ys[x0:x1] {
						yv += uint32(p)
					}
					for _, c := range cx[x0:x1] {
						cb += uint32(cbs[c])
						cr += uint32(crs[c])
					}
					a := acc[ox*4 : ox*4+3 : ox*4+3]
					a[0] += yv
					a[1] += cb
					a[2] += cr
				}
			}
			for ox := range ow {
				n := uint32((min((ox+1)*kx, sw) - ox*kx) * (y1 - y0))
				a := acc[ox*4 : ox*4+3 : ox*4+3]
				r, g, bl := color.YCbCrToRGB(uint8((a[0]+n/2)/n), uint8((a[1]+n/2)/n), uint8((a[2]+n/2)/n))
				d := dst[ox*4 : ox*4+4 : ox*4+4]
				d[0], d[1], d[2], d[3] = r, g, bl, 255
			}
		}
	default:
		return nil
	}
	dst := image.NewNRGBA(image.Rect(0, 0, ow, oh))
	// Pix, Y, Cb and Cr start at Rect.Min, sub-images included, so rows
	// and columns are indexed from 0.
	bands(oh, procs, func(oy0, oy1 int) {
		acc := make([]uint32, ow*4)
		for oy := oy0; oy < oy1; oy++ {
			row(dst.Pix[oy*dst.Stride:oy*dst.Stride+ow*4], acc, oy*ky, min((oy+1)*ky, sh))
		}
	})
	return dst
}

// putPremultiplied writes a row of box sums of premultiplied colour
// (scaled by unit: 1 for sums of c·a, 255 for sums of RGBA's c) as NRGBA.
func putPremultiplied(dst []uint8, acc []uint32, ow, kx, sw, rows int, unit uint32) {
	for ox := range ow {
		a := acc[ox*4 : ox*4+4 : ox*4+4]
		d := dst[ox*4 : ox*4+4 : ox*4+4]
		n := uint32((min((ox+1)*kx, sw) - ox*kx) * rows)
		if a[3] == 0 {
			d[0], d[1], d[2], d[3] = 0, 0, 0, 0
			continue
		}
		// colour = Σc·a / Σa; with RGBA's premultiplied c, Σc·255 / Σa.
		half := a[3] / 2
		d[0] = uint8(min((uint64(a[0])*uint64(unit)+uint64(half))/uint64(a[3]), 255))
		d[1] = uint8(min((uint64(a[1])*uint64(unit)+uint64(half))/uint64(a[3]), 255))
		d[2] = uint8(min((uint64(a[2])*uint64(unit)+uint64(half))/uint64(a[3]), 255))
		d[3] = uint8((a[3] + n/2) / n)
	}
}

// chromaColumns maps each column of a YCbCr image to its chroma column.
func chromaColumns(r image.YCbCrSubsampleRatio, w, minX int) ([]int, bool) {
	cx := make([]int, w)
	var shift int
	switch r {
	case image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio440:
		shift = 0
	case image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420:
		shift = 1
	case image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410:
		shift = 2
	default:
		return nil, false
	}
	for x := range cx {
		cx[x] = (x+minX)>>shift - minX>>shift
	}
	return cx, true
}

// bands splits [0, n) into up to procs contiguous ranges and runs fn on
// each in its own goroutine.
func bands(n, procs int, fn func(lo, hi int)) {
	procs = max(1, min(procs, n))
	if procs == 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for i := range procs {
		lo, hi := n*i/procs, n*(i+1)/procs
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}
