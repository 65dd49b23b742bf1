package imaging

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// unfilterReference is the PNG specification's definition of each filter,
// written plainly, to check the fast versions against.
func unfilterReference(f byte, cur, prev []byte, bpp int) {
	for i := range cur {
		var a, b, c int
		if i >= bpp {
			a, c = int(cur[i-bpp]), int(prev[i-bpp])
		}
		b = int(prev[i])
		var pred int
		switch f {
		case 1:
			pred = a
		case 2:
			pred = b
		case 3:
			pred = (a + b) / 2
		case 4:
			p := a + b - c
			pa, pb, pc := abs(p-a), abs(p-b), abs(p-c)
			switch {
			case pa <= pb && pa <= pc:
				pred = a
			case pb <= pc:
				pred = b
			default:
				pred = c
			}
		}
		cur[i] += uint8(pred)
	}
}

func TestUnfilter_matchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, bpp := range []int{1, 2, 3, 4} {
		for _, n := range []int{1, 7, 8, 9, 63, 64, 1000} {
			n := n * bpp
			for f := byte(0); f <= 4; f++ {
				prev, cur := make([]byte, n), make([]byte, n)
				for i := range cur {
					prev[i], cur[i] = byte(r.UintN(256)), byte(r.UintN(256))
				}
				want := bytes.Clone(cur)
				unfilterReference(f, want, prev, bpp)
				if !unfilter(f, cur, prev, bpp) {
					t.Fatalf("filter %d refused", f)
				}
				if !bytes.Equal(cur, want) {
					t.Errorf("filter %d, bpp %d, %d bytes: unfilter differs from the reference", f, bpp, n)
				}
			}
		}
	}
}
