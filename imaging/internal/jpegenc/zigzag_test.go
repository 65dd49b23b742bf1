package jpegenc

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestACMask checks the four-at-a-time mask against the one zigzag
// computes, on blocks sparse and dense, with extreme values.
func TestACMask(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []int16{1, -1, 2, -2, 0x7FFF, -0x8000, 0x100, -0x100, 0x8000 >> 1, 1023, -1023}
	for n := 0; n < 20000; n++ {
		var z [64]int16
		density := r.IntN(65)
		for i := range z {
			if r.IntN(64) < density {
				z[i] = vals[r.IntN(len(vals))]
			}
		}
		var nat, zz [64]int16
		for i := range z {
			nat[unzig[i]] = z[i]
		}
		want := zigzag(&nat, &zz)
		if got := acMask(&z); got != want {
			t.Fatalf("block %v: acMask %064b, want %064b", z, got, want)
		}
	}
}

// TestWriteCoefficients_zigZag checks that a frame given in zig-zag order
// is written exactly as the same frame in natural order.
func TestWriteCoefficients_zigZag(t *testing.T) {
	for _, grey := range []bool{false, true} {
		for _, sz := range [][2]int{{1, 1}, {37, 23}, {130, 67}} {
			f := frameOf(testPhoto(sz[0], sz[1], 3), 85, grey)
			for _, opt := range []bool{false, true} {
				var a, b bytes.Buffer
				if err := WriteCoefficients(&a, f, Options{OptimizeHuffman: opt}); err != nil {
					t.Fatal(err)
				}
				z := &Frame{Width: f.Width, Height: f.Height, ZigZag: true}
				for _, c := range f.Components {
					zc := c
					zc.Coeffs = make([]int16, len(c.Coeffs))
					for off := 0; off < len(c.Coeffs); off += 64 {
						for i := 0; i < 64; i++ {
							zc.Coeffs[off+i] = c.Coeffs[off+int(unzig[i])]
						}
					}
					z.Components = append(z.Components, zc)
				}
				if err := WriteCoefficients(&b, z, Options{OptimizeHuffman: opt}); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(a.Bytes(), b.Bytes()) {
					t.Errorf("grey %v %v optimised %v: zig-zag frame written differently (%d bytes, natural %d)",
						grey, sz, opt, b.Len(), a.Len())
				}
			}
		}
	}
}
