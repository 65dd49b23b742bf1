package icc

import (
	"encoding/binary"
	"math"
)

const maxCurveEntries = 1 << 16

// curve is a one-dimensional transfer function on [0, 1]: a curv tag
// (identity, gamma or table) or a para tag (function types 0 to 4).
type curve struct {
	table []float64 // sampled values in [0, 1], if tabulated
	ptype int       // -1 identity, 0..4 parametric
	p     [7]float64
	memo  []float64 // parametric values at i/(len(memo)-1), if memoized
}

// memoize precomputes a parametric curve at n evenly spaced points, the
// grid nodes a transform will sample it at.
func (c *curve) memoize(n int) {
	if c.table != nil || c.ptype < 0 || n < 2 {
		return
	}
	m := make([]float64, n)
	for i := range m {
		m[i] = c.eval(float64(i) / float64(n-1))
	}
	c.memo = m
}

func identityCurve() *curve { return &curve{ptype: -1} }

// parseCurve decodes a curv or para element at the start of b and returns
// it with the number of bytes it takes.
func parseCurve(b []byte) (*curve, int, error) {
	if len(b) < 12 {
		return nil, 0, invalidf("curve of %d bytes", len(b))
	}
	switch string(b[:4]) {
	case "curv":
		n := binary.BigEndian.Uint32(b[8:])
		if n > maxCurveEntries || 12+2*uint64(n) > uint64(len(b)) {
			return nil, 0, invalidf("curv with %d entries in %d bytes", n, len(b))
		}
		size := 12 + 2*int(n)
		switch n {
		case 0:
			return identityCurve(), size, nil
		case 1:
			g := float64(binary.BigEndian.Uint16(b[12:])) / 256
			return &curve{ptype: 0, p: [7]float64{g}}, size, nil
		}
		t := make([]float64, n)
		for i := range t {
			t[i] = float64(binary.BigEndian.Uint16(b[12+2*i:])) / 65535
		}
		return &curve{table: t}, size, nil
	case "para":
		typ := int(binary.BigEndian.Uint16(b[8:]))
		counts := [...]int{1, 3, 4, 5, 7}
		if typ >= len(counts) {
			return nil, 0, invalidf("para function type %d", typ)
		}
		size := 12 + 4*counts[typ]
		if len(b) < size {
			return nil, 0, invalidf("para type %d in %d bytes", typ, len(b))
		}
		c := &curve{ptype: typ}
		for i := 0; i < counts[typ]; i++ {
			c.p[i] = s15f16(b[12+4*i:])
		}
		return c, size, nil
	}
	return nil, 0, invalidf("curve type %q", b[:4])
}

// eval maps x through the curve. Tables clamp x to [0, 1]; parametric
// functions extend beyond it as LittleCMS evaluates them. The result is
// finite but not clamped.
func (c *curve) eval(x float64) float64 {
	if x != x { // NaN
		x = 0
	}
	if c.table != nil {
		t := c.table
		if !(x > 0) {
			return t[0]
		}
		if x >= 1 {
			return t[len(t)-1]
		}
		f := x * float64(len(t)-1)
		i := int(f)
		f -= float64(i)
		return t[i] + f*(t[i+1]-t[i])
	}
	if c.ptype < 0 {
		return x
	}
	if m := c.memo; m != nil && x >= 0 && x <= 1 {
		f := x * float64(len(m)-1)
		i := int(f + 0.5)
		if math.Abs(f-float64(i)) < 1e-9 {
			return m[i]
		}
	}
	y := c.para(x)
	if !finite(y) {
		return 0
	}
	return y
}

func pow(b, e float64) float64 {
	if b <= 0 {
		return 0
	}
	return math.Pow(b, e)
}

// para evaluates the ICC parametric function types 0 to 4.
func (c *curve) para(x float64) float64 {
	p := c.p
	g, a, b, cc, d, e, f := p[0], p[1], p[2], p[3], p[4], p[5], p[6]
	switch c.ptype {
	case 0:
		if x < 0 && math.Abs(g-1) < 1e-5 {
			return x
		}
		return pow(x, g)
	case 1:
		if a == 0 || x < -b/a {
			return 0
		}
		return pow(a*x+b, g)
	case 2:
		if a == 0 {
			return 0
		}
		if x < -b/a {
			return cc
		}
		return pow(a*x+b, g) + cc
	case 3:
		if x < d {
			return cc * x
		}
		return pow(a*x+b, g)
	default:
		if x < d {
			return cc*x + f
		}
		return pow(a*x+b, g) + e
	}
}
