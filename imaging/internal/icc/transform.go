package icc

import (
	"fmt"
	"math"
)

// Grid sizes of the lookup tables, as LittleCMS picks them by default for
// 8-bit transforms: 33 nodes a side for RGB, 17 for CMYK.
const (
	gridRGB  = 33
	gridCMYK = 17
)

// LittleCMS's fixed black point for v4 perceptual intents.
const (
	perceptualBlackX = 0.00336
	perceptualBlackY = 0.0034731
	perceptualBlackZ = 0.00287
)

// Transform converts 8-bit pixels of a profile's colour space to 8-bit sRGB.
// It is immutable and safe for concurrent use.
type Transform struct {
	channels int

	// Matrix/TRC RGB: per-channel linearization (1.14 fixed point), a 3×3
	// matrix to linear sRGB (1.14) and the sRGB encoding of 0..1<<14.
	lin [3][256]int32
	mat [9]int64
	enc []uint8

	// Grey: a direct table.
	gray [][3]uint8

	// LUT-based RGB and CMYK: a grid of 16-bit sRGB values with the
	// first input varying slowest, and per-channel node indices and
	// fractions (0..1<<16) for each input byte.
	nodes []uint16
	ax    [4][256]axis
}

// axis locates an input byte on one axis of the grid.
type axis struct {
	off  int32 // offset of the lower node, in uint16 elements
	step int32 // offset to the upper node (0 at the last node)
	frac int32 // position between them, 0..1<<16
}

// Channels returns the number of bytes per input pixel the transform reads: 1, 3 or 4.
func (t *Transform) Channels() int { return t.channels }

// Bytes returns about how much memory the transform holds, for caches:
// some 20 KB for matrix and grey profiles, 230 KB for RGB tables and 520 KB
// for CMYK ones.
func (t *Transform) Bytes() int {
	const fixed = 3*256*4 + 9*8 + 4*256*12 + 64
	return fixed + len(t.enc) + 3*len(t.gray) + 2*len(t.nodes)
}

// pcsFunc maps normalized device values to D50 PCS XYZ with white Y = 1.
type pcsFunc func(in []float64) [3]float64

// ToSRGB builds the perceptual-intent transform from the profile's colour
// space (RGB, grey or CMYK) to sRGB, as LittleCMS does with its default flags.
func (p *Profile) ToSRGB() (*Transform, error) {
	n, toPCS, matrix, err := p.pipeline()
	if err != nil {
		return nil, err
	}
	t := &Transform{channels: n}
	switch {
	case matrix != nil:
		t.buildMatrix(matrix)
	case n == 1:
		t.buildGray(toPCS)
	default:
		t.buildGrid(toPCS, n, gridSize(n))
	}
	return t, nil
}

// pipeline returns the number of input channels and the exact conversion
// to PCS XYZ, black point compensation included; for matrix/TRC RGB
// profiles that need no compensation, it also returns the matrix form.
func (p *Profile) pipeline() (n int, toPCS pcsFunc, matrix *matrixShaper, err error) {
	switch p.ColorSpace {
	case SpaceRGB:
		n = 3
	case SpaceGray:
		n = 1
	case SpaceCMYK:
		n = 4
	default:
		return 0, nil, nil, unsupportedf("colour space %q", p.ColorSpace)
	}
	if p.PCS != SpaceXYZ && p.PCS != SpaceLab {
		return 0, nil, nil, unsupportedf("PCS %q", p.PCS)
	}
	switch p.Class {
	case "link", "abst", "nmcl":
		return 0, nil, nil, unsupportedf("profile class %q", p.Class)
	}
	toPCS, matrix, shaper, err := p.inputPipeline(n)
	if err != nil {
		return 0, nil, nil, err
	}
	// LittleCMS forces black point compensation with the perceptual intent
	// whenever a v4 profile takes part, and its built-in sRGB is v4. Its
	// black point for v4 LUT profiles is a constant; for the others it is
	// the darkest device colour; sRGB's is zero.
	bp := [3]float64{perceptualBlackX, perceptualBlackY, perceptualBlackZ}
	if p.MajorVersion() < 4 || shaper {
		bp = darkerColorant(toPCS, n)
	}
	if bp != [3]float64{} {
		toPCS = compensateBlack(toPCS, bp)
		matrix = nil
	}
	return n, toPCS, matrix, nil
}

// matrixShaper is an RGB profile's curves and its colorants as columns.
type matrixShaper struct {
	trc [3]*curve
	m   [9]float64 // row-major, device linear → PCS XYZ
}

// inputPipeline picks the device-to-PCS conversion: A2B0 if present, else
// the matrix/TRC or grey TRC tags, else A2B1. For matrix/TRC RGB profiles it
// also returns the matrix form. shaper reports a matrix/TRC or grey TRC
// profile, which LittleCMS gives a measured black point.
func (p *Profile) inputPipeline(n int) (toPCS pcsFunc, ms *matrixShaper, shaper bool, err error) {
	shaper = p.HasTag("kTRC") && n == 1 ||
		n == 3 && p.HasTag("rXYZ") && p.HasTag("gXYZ") && p.HasTag("bXYZ") &&
			p.HasTag("rTRC") && p.HasTag("gTRC") && p.HasTag("bTRC")
	if p.HasTag("A2B0") {
		f, err := p.lutPipeline("A2B0", n)
		return f, nil, shaper, err
	}
	if shaper && n == 1 {
		c, err := p.readCurveTag("kTRC")
		if err != nil {
			return nil, nil, false, err
		}
		if p.PCS == SpaceLab {
			return func(in []float64) [3]float64 {
				return labToXYZ(c.eval(in[0])*100, 0, 0)
			}, nil, true, nil
		}
		return func(in []float64) [3]float64 {
			y := c.eval(in[0])
			return [3]float64{d50X * y, d50Y * y, d50Z * y}
		}, nil, true, nil
	}
	if shaper {
		ms := &matrixShaper{}
		for i, s := range []string{"r", "g", "b"} {
			c, err := p.readCurveTag(s + "TRC")
			if err != nil {
				return nil, nil, false, err
			}
			ms.trc[i] = c
			xyz, err := p.readXYZ(s + "XYZ")
			if err != nil {
				return nil, nil, false, err
			}
			ms.m[i], ms.m[3+i], ms.m[6+i] = xyz[0], xyz[1], xyz[2]
		}
		f := func(in []float64) [3]float64 {
			var l [3]float64
			for i := range l {
				l[i] = ms.trc[i].eval(in[i])
			}
			return mul3(&ms.m, l)
		}
		return f, ms, true, nil
	}
	if p.HasTag("A2B1") {
		f, err := p.lutPipeline("A2B1", n)
		return f, nil, false, err
	}
	return nil, nil, false, unsupportedf("%q profile with neither A2B0 nor matrix/TRC tags", p.ColorSpace)
}

// lutPipeline decodes an AToB tag and its PCS encoding.
func (p *Profile) lutPipeline(sig string, n int) (pcsFunc, error) {
	l, err := p.readLut(sig)
	if err != nil {
		return nil, err
	}
	if l.nIn != n || l.nOut != 3 {
		return nil, invalidf("%s maps %d to %d channels, want %d to 3", sig, l.nIn, l.nOut, n)
	}
	if l.preMatrix == nil {
		for _, c := range l.a {
			c.memoize(gridSize(n))
		}
	}
	if p.PCS == SpaceXYZ {
		// u1Fixed15: 0x8000 is 1.0.
		const k = 65535.0 / 32768
		return func(in []float64) [3]float64 {
			var o [3]float64
			l.eval(in, o[:])
			return [3]float64{o[0] * k, o[1] * k, o[2] * k}
		}, nil
	}
	if l.typ == "mft2" {
		// The v2 16-bit Lab encoding: L* 100 is 0xFF00, a* and b* 0 are 0x8000.
		return func(in []float64) [3]float64 {
			var o [3]float64
			l.eval(in, o[:])
			return labToXYZ(o[0]*65535/65280*100, o[1]*65535/256-128, o[2]*65535/256-128)
		}, nil
	}
	return func(in []float64) [3]float64 {
		var o [3]float64
		l.eval(in, o[:])
		return labToXYZ(o[0]*100, o[1]*255-128, o[2]*255-128)
	}, nil
}

func labToXYZ(l, a, b float64) [3]float64 {
	fy := (l + 16) / 116
	fx := fy + a/500
	fz := fy - b/200
	f := func(t float64) float64 {
		if t > 6.0/29 {
			return t * t * t
		}
		return 108.0 / 841 * (t - 4.0/29)
	}
	return [3]float64{f(fx) * d50X, f(fy) * d50Y, f(fz) * d50Z}
}

func xyzToLab(x [3]float64) [3]float64 {
	f := func(t float64) float64 {
		if t > 216.0/24389 {
			return math.Cbrt(t)
		}
		return 841.0/108*t + 4.0/29
	}
	fx, fy, fz := f(x[0]/d50X), f(x[1]/d50Y), f(x[2]/d50Z)
	return [3]float64{116*fy - 16, 500 * (fx - fy), 200 * (fy - fz)}
}

// darkerColorant is LittleCMS's black point of a matrix/TRC profile: its
// device black, made neutral and no lighter than L* 50.
func darkerColorant(f pcsFunc, n int) [3]float64 {
	var black [4]float64
	if n == 4 {
		black = [4]float64{1, 1, 1, 1} // all inks
	}
	lab := xyzToLab(f(black[:n]))
	l := lab[0]
	if l < 0 {
		l = 0
	}
	if l > 50 {
		l = 50
	}
	if l == 0 {
		return [3]float64{}
	}
	return labToXYZ(l, 0, 0)
}

// compensateBlack scales PCS XYZ so that the black point bp maps to zero
// and D50 stays put, as LittleCMS's black point compensation does.
func compensateBlack(f pcsFunc, bp [3]float64) pcsFunc {
	w := [3]float64{d50X, d50Y, d50Z}
	return func(in []float64) [3]float64 {
		x := f(in)
		for i := range x {
			x[i] = (x[i] - bp[i]) * w[i] / (w[i] - bp[i])
		}
		return x
	}
}

func mul3(m *[9]float64, v [3]float64) [3]float64 {
	return [3]float64{
		m[0]*v[0] + m[1]*v[1] + m[2]*v[2],
		m[3]*v[0] + m[4]*v[1] + m[5]*v[2],
		m[6]*v[0] + m[7]*v[1] + m[8]*v[2],
	}
}

func mat3mul(a, b *[9]float64) [9]float64 {
	var r [9]float64
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			r[3*i+j] = a[3*i]*b[j] + a[3*i+1]*b[3+j] + a[3*i+2]*b[6+j]
		}
	}
	return r
}

func inverse3(m *[9]float64) ([9]float64, bool) {
	a, b, c := m[0], m[1], m[2]
	d, e, f := m[3], m[4], m[5]
	g, h, i := m[6], m[7], m[8]
	det := a*(e*i-f*h) - b*(d*i-f*g) + c*(d*h-e*g)
	if math.Abs(det) < 1e-12 || !finite(det) {
		return [9]float64{}, false
	}
	return [9]float64{
		(e*i - f*h) / det, (c*h - b*i) / det, (b*f - c*e) / det,
		(f*g - d*i) / det, (a*i - c*g) / det, (c*d - a*f) / det,
		(d*h - e*g) / det, (b*g - a*h) / det, (a*e - b*d) / det,
	}, true
}

// srgbToD50 returns LittleCMS's built-in sRGB colorants: Rec. 709
// primaries and D65, adapted to D50 with Bradford. Row-major, linear
// sRGB → PCS XYZ.
func srgbToD50() [9]float64 {
	return rgbToD50([3][2]float64{{0.64, 0.33}, {0.30, 0.60}, {0.15, 0.06}}, 0.3127, 0.3290)
}

// rgbToD50 returns the matrix from linear RGB with the given primaries
// and white (CIE xy) to D50 XYZ, adapted with Bradford as LittleCMS does.
func rgbToD50(xy [3][2]float64, wx, wy float64) [9]float64 {
	prim := [9]float64{
		xy[0][0], xy[1][0], xy[2][0],
		xy[0][1], xy[1][1], xy[2][1],
		1 - xy[0][0] - xy[0][1], 1 - xy[1][0] - xy[1][1], 1 - xy[2][0] - xy[2][1],
	}
	inv, _ := inverse3(&prim)
	white := [3]float64{wx / wy, 1, (1 - wx - wy) / wy}
	coef := mul3(&inv, white)
	var rgb [9]float64
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			rgb[3*i+j] = prim[3*i+j] * coef[j]
		}
	}
	brad := [9]float64{0.8951, 0.2664, -0.1614, -0.7502, 1.7135, 0.0367, 0.0389, -0.0685, 1.0296}
	bradInv, _ := inverse3(&brad)
	src := mul3(&brad, white)
	dst := mul3(&brad, [3]float64{d50X, d50Y, d50Z})
	scale := [9]float64{dst[0] / src[0], 0, 0, 0, dst[1] / src[1], 0, 0, 0, dst[2] / src[2]}
	s := mat3mul(&scale, &brad)
	adapt := mat3mul(&bradInv, &s)
	return mat3mul(&adapt, &rgb)
}

// xyzToSRGB returns the matrix from PCS XYZ to linear sRGB.
func xyzToSRGB() [9]float64 {
	m := srgbToD50()
	inv, _ := inverse3(&m)
	return inv
}

// srgbEncode applies the sRGB transfer function to linear v, clamped to [0, 1].
func srgbEncode(v float64) float64 {
	if !(v > 0) {
		return 0
	}
	if v >= 1 {
		return 1
	}
	if v < 0.04045/12.92 {
		return v * 12.92
	}
	// v^(1/2.4) = v^(5/12) = c·c^(1/4) with c = ∛v, cheaper than math.Pow.
	c := math.Cbrt(v)
	return 1.055*c*math.Sqrt(math.Sqrt(c)) - 0.055
}

// toSRGB16 converts PCS XYZ to sRGB in 16 bits.
func toSRGB16(m *[9]float64, xyz [3]float64) [3]uint16 {
	l := mul3(m, xyz)
	var o [3]uint16
	for i := range o {
		o[i] = uint16(math.Round(srgbEncode(l[i]) * 65535))
	}
	return o
}

func to8(v uint32) uint8 { return uint8((v*65281 + 8388608) >> 24) }

func (t *Transform) buildMatrix(ms *matrixShaper) {
	out := xyzToSRGB()
	m := mat3mul(&out, &ms.m)
	for i := range m {
		v := math.Round(m[i] * (1 << 14))
		t.mat[i] = int64(math.Max(-(1 << 30), math.Min(1<<30, v)))
	}
	for c := 0; c < 3; c++ {
		for i := 0; i < 256; i++ {
			y := ms.trc[c].eval(float64(i) / 255)
			t.lin[c][i] = int32(math.Round(math.Max(0, math.Min(2, y)) * (1 << 14)))
		}
	}
	t.enc = make([]uint8, 1<<14+1)
	for i := range t.enc {
		t.enc[i] = uint8(math.Round(srgbEncode(float64(i)/(1<<14)) * 255))
	}
}

func (t *Transform) buildGray(f pcsFunc) {
	m := xyzToSRGB()
	t.gray = make([][3]uint8, 256)
	for i := range t.gray {
		o := toSRGB16(&m, f([]float64{float64(i) / 255}))
		t.gray[i] = [3]uint8{to8(uint32(o[0])), to8(uint32(o[1])), to8(uint32(o[2]))}
	}
	t.gray[255] = [3]uint8{255, 255, 255} // LittleCMS's white fix-up
}

// gridSize is the number of nodes a side of the table for n input channels.
func gridSize(n int) int {
	switch n {
	case 1:
		return 256
	case 4:
		return gridCMYK
	}
	return gridRGB
}

func (t *Transform) buildGrid(f pcsFunc, n, g int) {
	total := 1
	for i := 0; i < n; i++ {
		total *= g
	}
	t.nodes = make([]uint16, 3*total)
	m := xyzToSRGB()
	var in [4]float64
	var ix [4]int
	for k := 0; k < total; k++ {
		r := k
		for c := n - 1; c >= 0; c-- {
			ix[c] = r % g
			r /= g
			in[c] = float64(ix[c]) / float64(g-1)
		}
		o := toSRGB16(&m, f(in[:n]))
		copy(t.nodes[3*k:], o[:])
	}
	// LittleCMS's white fix-up: device white maps to sRGB white.
	white := 0
	if n == 3 {
		white = total - 1
	}
	copy(t.nodes[3*white:], []uint16{65535, 65535, 65535})
	stride := 3
	for c := n - 1; c >= 0; c-- {
		for v := 0; v < 256; v++ {
			num := v * (g - 1)
			i0 := num / 255
			rem := num % 255
			a := axis{off: int32(i0 * stride), frac: int32((rem*65536 + 127) / 255)}
			if i0 < g-1 {
				a.step = int32(stride)
			}
			t.ax[c][v] = a
		}
		stride *= g
	}
}

// Apply converts the pixels of src, each srcStep bytes apart and starting
// with Channels() bytes of colour, into sRGB in dst, three bytes at the
// start of every dstStep bytes. dst may be src when the steps are equal;
// other bytes of dst (alpha) are left alone.
func (t *Transform) Apply(dst []byte, dstStep int, src []byte, srcStep int) error {
	if srcStep < t.channels || dstStep < 3 {
		return fmt.Errorf("icc: steps %d and %d for %d channels in, 3 out", srcStep, dstStep, t.channels)
	}
	n := 0
	if len(src) >= t.channels {
		n = (len(src)-t.channels)/srcStep + 1
	}
	if n > 0 && (len(dst) < 3 || (len(dst)-3)/dstStep+1 < n) {
		return fmt.Errorf("icc: dst holds fewer than %d pixels", n)
	}
	switch {
	case t.gray != nil:
		t.applyGray(dst, dstStep, src, srcStep, n)
	case t.enc != nil:
		t.applyMatrix(dst, dstStep, src, srcStep, n)
	case t.channels == 3:
		t.apply3(dst, dstStep, src, srcStep, n)
	default:
		t.apply4(dst, dstStep, src, srcStep, n)
	}
	return nil
}

func (t *Transform) applyGray(dst []byte, dstStep int, src []byte, srcStep, n int) {
	g := t.gray[:256]
	for i, si, di := 0, 0, 0; i < n; i, si, di = i+1, si+srcStep, di+dstStep {
		o := &g[src[si]]
		d := dst[di : di+3 : di+3]
		d[0], d[1], d[2] = o[0], o[1], o[2]
	}
}

func (t *Transform) applyMatrix(dst []byte, dstStep int, src []byte, srcStep, n int) {
	m := &t.mat
	enc := t.enc[:1<<14+1]
	l0, l1, l2 := &t.lin[0], &t.lin[1], &t.lin[2]
	for i, si, di := 0, 0, 0; i < n; i, si, di = i+1, si+srcStep, di+dstStep {
		s := src[si : si+3 : si+3]
		r, g, b := int64(l0[s[0]]), int64(l1[s[1]]), int64(l2[s[2]])
		d := dst[di : di+3 : di+3]
		d[0] = enc[clamp14((m[0]*r+m[1]*g+m[2]*b+1<<13)>>14)]
		d[1] = enc[clamp14((m[3]*r+m[4]*g+m[5]*b+1<<13)>>14)]
		d[2] = enc[clamp14((m[6]*r+m[7]*g+m[8]*b+1<<13)>>14)]
	}
}

func clamp14(v int64) int64 {
	if v < 0 {
		return 0
	}
	if v > 1<<14 {
		return 1 << 14
	}
	return v
}

// tetra interpolates the cell at base of the 16-bit grid along axes a, b,
// c, returning 16-bit values. The path through the cell steps first along
// the axis with the largest fraction and last along the smallest; both are
// picked with conditional moves, as photos' fractions are too random for
// the branch predictor.
func tetra(nodes []uint16, base int32, a, b, c axis) (uint32, uint32, uint32) {
	hiF, hiS := a.frac, a.step
	if b.frac > hiF {
		hiF, hiS = b.frac, b.step
	}
	if c.frac > hiF {
		hiF, hiS = c.frac, c.step
	}
	loF, loS := a.frac, a.step
	if b.frac <= loF {
		loF, loS = b.frac, b.step
	}
	if c.frac <= loF {
		loF, loS = c.frac, c.step
	}
	midF := a.frac + b.frac + c.frac - hiF - loF
	n1 := base + hiS
	n3 := base + a.step + b.step + c.step
	n2 := n3 - loS
	p0 := nodes[base : base+3 : base+3]
	p1 := nodes[n1 : n1+3 : n1+3]
	p2 := nodes[n2 : n2+3 : n2+3]
	p3 := nodes[n3 : n3+3 : n3+3]
	// Weights sum to 1<<16, so the sums fit in 32 bits.
	w0, w1, w2, w3 := uint32(1<<16-hiF), uint32(hiF-midF), uint32(midF-loF), uint32(loF)
	r := (w0*uint32(p0[0]) + w1*uint32(p1[0]) + w2*uint32(p2[0]) + w3*uint32(p3[0]) + 1<<15) >> 16
	g := (w0*uint32(p0[1]) + w1*uint32(p1[1]) + w2*uint32(p2[1]) + w3*uint32(p3[1]) + 1<<15) >> 16
	bl := (w0*uint32(p0[2]) + w1*uint32(p1[2]) + w2*uint32(p2[2]) + w3*uint32(p3[2]) + 1<<15) >> 16
	return r, g, bl
}

func (t *Transform) apply3(dst []byte, dstStep int, src []byte, srcStep, n int) {
	x0, x1, x2 := &t.ax[0], &t.ax[1], &t.ax[2]
	for i, si, di := 0, 0, 0; i < n; i, si, di = i+1, si+srcStep, di+dstStep {
		s := src[si : si+3 : si+3]
		a, b, c := x0[s[0]], x1[s[1]], x2[s[2]]
		r, g, bl := tetra(t.nodes, a.off+b.off+c.off, a, b, c)
		d := dst[di : di+3 : di+3]
		d[0], d[1], d[2] = to8(r), to8(g), to8(bl)
	}
}

// apply4 interpolates linearly along the first channel between two
// tetrahedral interpolations of the other three, as LittleCMS does.
func (t *Transform) apply4(dst []byte, dstStep int, src []byte, srcStep, n int) {
	x0, x1, x2, x3 := &t.ax[0], &t.ax[1], &t.ax[2], &t.ax[3]
	for i, si, di := 0, 0, 0; i < n; i, si, di = i+1, si+srcStep, di+dstStep {
		s := src[si : si+4 : si+4]
		k, a, b, c := x0[s[0]], x1[s[1]], x2[s[2]], x3[s[3]]
		base := k.off + a.off + b.off + c.off
		r, g, bl := tetra(t.nodes, base, a, b, c)
		if k.frac != 0 {
			r1, g1, b1 := tetra(t.nodes, base+k.step, a, b, c)
			f, h := uint32(k.frac), uint32(1<<16-k.frac)
			r = (h*r + f*r1 + 1<<15) >> 16
			g = (h*g + f*g1 + 1<<15) >> 16
			bl = (h*bl + f*b1 + 1<<15) >> 16
		}
		d := dst[di : di+3 : di+3]
		d[0], d[1], d[2] = to8(r), to8(g), to8(bl)
	}
}
