package imaging

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/disintegration/imaging"
)

// TestBoxShrink compares boxShrink on each image type it reads with
// imaging.Resize(Box) of the same picture, which averages the same boxes.
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
				// Whole boxes only: imaging.Resize spreads partial ones differently.
				fw, fh := b.Dx()/tt.kx*tt.kx, b.Dy()/tt.ky*tt.ky
				want := imaging.Resize(imaging.Crop(tt.img, image.Rect(b.Min.X, b.Min.Y, b.Min.X+fw, b.Min.Y+fh)), fw/tt.kx, fh/tt.ky, imaging.Box)
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

// TestDecodePNGShrunk compares the shrinking PNG decoder with image/png
// followed by boxShrink, for each colour type it handles.
func TestDecodePNGShrunk(t *testing.T) {
	photo := newPhoto(97, 61)
	for y := range 30 {
		for x := range 30 {
			photo.SetNRGBA(x, y, color.NRGBA{200, 10, 10, uint8(x * 8)})
		}
	}
	opaque := newPhoto(97, 61)
	gray := image.NewGray(photo.Bounds())
	grayA := image.NewNRGBA(photo.Bounds())
	// 20 colours, so that image/png writes 8-bit indices.
	colours := color.Palette{color.NRGBA{0, 0, 0, 0}, color.NRGBA{255, 0, 0, 128}}
	for i := range 18 {
		colours = append(colours, color.NRGBA{uint8(i * 14), 200, 30, 255})
	}
	pal := image.NewPaletted(photo.Bounds(), colours)
	for y := range 61 {
		for x := range 97 {
			c := photo.NRGBAAt(x, y)
			gray.SetGray(x, y, color.Gray{c.G})
			grayA.SetNRGBA(x, y, color.NRGBA{c.G, c.G, c.G, c.A})
			pal.SetColorIndex(x, y, uint8((x*y+x)%20))
		}
	}
	tests := []struct {
		name string
		img  image.Image
	}{
		{"rgba", photo}, {"rgb", opaque}, {"gray", gray}, {"gray alpha", grayA}, {"palette", pal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := encodeAs(t, tt.img, FormatPNG)
			full, err := png.Decode(bytes.NewReader(src))
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range [][2]int{{2, 2}, {5, 3}, {1, 4}} {
				got, err := decodePNGShrunk(src, k[0], k[1])
				if err != nil {
					t.Fatalf("decodePNGShrunk(%v) returned %v", k, err)
				}
				want := boxShrink(imaging.Clone(full), k[0], k[1], 1)
				if got.Bounds() != want.Bounds() {
					t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
				}
				for y := range want.Bounds().Dy() {
					for x := range want.Bounds().Dx() {
						if g, w := got.NRGBAAt(x, y), want.NRGBAAt(x, y); !near(g, w, 1) {
							t.Fatalf("%v: pixel (%d,%d) = %v, want %v", k, x, y, g, w)
						}
					}
				}
			}
		})
	}
	t.Run("left to image/png", func(t *testing.T) {
		var b bytes.Buffer
		png.Encode(&b, image.NewNRGBA64(image.Rect(0, 0, 8, 8)))
		if _, err := decodePNGShrunk(b.Bytes(), 2, 2); err == nil {
			t.Error("16-bit PNG: got no error, want errPNGKind")
		}
		src := encodeAs(t, photo, FormatPNG)
		if _, err := decodePNGShrunk(src[:len(src)/2], 2, 2); err == nil {
			t.Error("truncated PNG: got no error")
		}
	})
}
