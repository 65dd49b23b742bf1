package imaging

import (
	"image"
	"image/color"
	"testing"

	imgops "github.com/disintegration/imaging"
)

// TestBoxShrink compares boxShrink on each image type it reads with
// imgops.Resize(Box) of the same picture, which averages the same boxes.
func TestBoxShrink(t *testing.T) {
	src := newPhoto(203, 101) // sizes that leave partial boxes
	for y := range 20 {       // a translucent corner, to weight colours by alpha
		for x := range 20 {
			src.SetNRGBA(x, y, color.NRGBA{200, 10, 10, uint8(x * 12)})
		}
	}
	rgba := image.NewRGBA(src.Bounds())
	gray := image.NewGray(src.Bounds())
	ycc := image.NewYCbCr(src.Bounds(), image.YCbCrSubsampleRatio420)
	for y := range src.Bounds().Dy() {
		for x := range src.Bounds().Dx() {
			c := src.NRGBAAt(x, y)
			rgba.Set(x, y, c)
			gray.Set(x, y, c)
			if x >= 20 || y >= 20 {
				yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
				ycc.Y[ycc.YOffset(x, y)] = yy
				ycc.Cb[ycc.COffset(x, y)] = cb
				ycc.Cr[ycc.COffset(x, y)] = cr
			}
		}
	}
	tests := []struct {
		name   string
		img    image.Image
		kx, ky int
		tol    int
	}{
		{"nrgba", src, 4, 4, 2},
		{"nrgba uneven", src, 7, 3, 2},
		{"rgba", rgba, 4, 5, 3},
		{"gray", gray, 5, 5, 2},
		{"ycbcr 4:2:0", ycc.SubImage(image.Rect(20, 20, 203, 101)), 4, 4, 12},
		{"nrgba sub-image", src.SubImage(image.Rect(21, 21, 203, 101)), 3, 3, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, procs := range []int{1, 3} {
				got := boxShrink(tt.img, tt.kx, tt.ky, procs)
				b := tt.img.Bounds()
				ow, oh := ceilDiv(b.Dx(), tt.kx), ceilDiv(b.Dy(), tt.ky)
				if got.Bounds() != image.Rect(0, 0, ow, oh) {
					t.Fatalf("bounds = %v, want %dx%d", got.Bounds(), ow, oh)
				}
				// Whole boxes only: imgops.Resize spreads partial ones differently.
				fw, fh := b.Dx()/tt.kx*tt.kx, b.Dy()/tt.ky*tt.ky
				want := imgops.Resize(imgops.Crop(tt.img, image.Rect(b.Min.X, b.Min.Y, b.Min.X+fw, b.Min.Y+fh)), fw/tt.kx, fh/tt.ky, imgops.Box)
				for y := range fh / tt.ky {
					for x := range fw / tt.kx {
						g, w := got.NRGBAAt(x, y), want.NRGBAAt(x, y)
						if w.A < 8 { // colour is meaningless when nearly transparent
							g.R, g.G, g.B, w.R, w.G, w.B = 0, 0, 0, 0, 0, 0
						}
						if !near(g, w, tt.tol) {
							t.Fatalf("procs %d: pixel (%d,%d) = %v, want %v", procs, x, y, g, w)
						}
					}
				}
			}
		})
	}
}
