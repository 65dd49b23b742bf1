package icc

import (
	"encoding/binary"
	"math"
)

// A tiny ICC writer for tests: profiles the system lacks (Display P3,
// lutAtoB, lut8) and fuzz seeds.

type testTag struct {
	sig  string
	data []byte
}

func be16(v int) []byte    { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func s15(v float64) []byte { return be32(uint32(int32(math.Round(v * 65536)))) }

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func buildICC(version uint32, class, space, pcs string, tags []testTag) []byte {
	h := make([]byte, 128)
	copy(h[4:], "lcms")
	binary.BigEndian.PutUint32(h[8:], version)
	copy(h[12:], class)
	copy(h[16:], space)
	copy(h[20:], pcs)
	copy(h[36:], "acsp")
	copy(h[68:], s15(d50X))
	copy(h[72:], s15(d50Y))
	copy(h[76:], s15(d50Z))
	b := append(h, be32(uint32(len(tags)))...)
	off := len(b) + 12*len(tags)
	var data []byte
	for _, t := range tags {
		b = append(b, t.sig...)
		b = append(b, be32(uint32(off+len(data)))...)
		b = append(b, be32(uint32(len(t.data)))...)
		data = pad4(append(data, t.data...))
	}
	b = append(b, data...)
	binary.BigEndian.PutUint32(b[0:], uint32(len(b)))
	return b
}

func tagXYZ(v [3]float64) []byte {
	b := []byte("XYZ \x00\x00\x00\x00")
	for _, x := range v {
		b = append(b, s15(x)...)
	}
	return b
}

func tagPara(typ int, p ...float64) []byte {
	b := append([]byte("para\x00\x00\x00\x00"), be16(typ)...)
	b = append(b, 0, 0)
	for _, x := range p {
		b = append(b, s15(x)...)
	}
	return b
}

func tagCurv(table []uint16) []byte {
	b := append([]byte("curv\x00\x00\x00\x00"), be32(uint32(len(table)))...)
	for _, v := range table {
		b = append(b, be16(int(v))...)
	}
	return b
}

func tagCurvGamma(g float64) []byte {
	return append(append([]byte("curv\x00\x00\x00\x00"), be32(1)...), be16(int(math.Round(g*256)))...)
}

// matrixProfile writes a v4 matrix/TRC RGB profile with the given primaries
// and white (CIE xy) and one curve element for all channels.
func matrixProfile(xy [3][2]float64, wx, wy float64, trc []byte) []byte {
	m := rgbToD50(xy, wx, wy)
	return buildICC(0x04300000, "mntr", SpaceRGB, SpaceXYZ, []testTag{
		{"wtpt", tagXYZ([3]float64{d50X, d50Y, d50Z})},
		{"rXYZ", tagXYZ([3]float64{m[0], m[3], m[6]})},
		{"gXYZ", tagXYZ([3]float64{m[1], m[4], m[7]})},
		{"bXYZ", tagXYZ([3]float64{m[2], m[5], m[8]})},
		{"rTRC", trc}, {"gTRC", trc}, {"bTRC", trc},
	})
}

// displayP3 is Apple's Display P3: P3 primaries, D65, the sRGB curve.
func displayP3() []byte {
	return matrixProfile([3][2]float64{{0.680, 0.320}, {0.265, 0.690}, {0.150, 0.060}}, 0.3127, 0.3290,
		tagPara(3, 2.4, 1/1.055, 0.055/1.055, 1/12.92, 0.04045))
}

func grayProfile(version uint32, trc []byte) []byte {
	return buildICC(version, "mntr", SpaceGray, SpaceXYZ, []testTag{
		{"wtpt", tagXYZ([3]float64{d50X, d50Y, d50Z})},
		{"kTRC", trc},
	})
}

// sampleGrid calls f for every node of a grid, first input slowest, with
// normalized inputs, and appends what f returns.
func sampleGrid(nIn, g int, f func(in []float64) []float64) []float64 {
	total := 1
	for i := 0; i < nIn; i++ {
		total *= g
	}
	var out []float64
	in := make([]float64, nIn)
	for k := 0; k < total; k++ {
		r := k
		for c := nIn - 1; c >= 0; c-- {
			in[c] = float64(r%g) / float64(g-1)
			r /= g
		}
		out = append(out, f(in)...)
	}
	return out
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// labV4 encodes Lab normalized as v4 does (L/100, (a+128)/255).
func labV4(xyz [3]float64) []float64 {
	l := xyzToLab(xyz)
	return []float64{clamp01(l[0] / 100), clamp01((l[1] + 128) / 255), clamp01((l[2] + 128) / 255)}
}

// adobeLike maps gamma-encoded RGB to XYZ through Adobe RGB's primaries.
func adobeLike(in []float64, gamma float64) [3]float64 {
	m := rgbToD50([3][2]float64{{0.64, 0.33}, {0.21, 0.71}, {0.15, 0.06}}, 0.3127, 0.3290)
	return mul3(&m, [3]float64{math.Pow(in[0], gamma), math.Pow(in[1], gamma), math.Pow(in[2], gamma)})
}

// inkToXYZ is a crude subtractive press: inks darken sRGB primaries.
func inkToXYZ(in []float64) [3]float64 {
	m := srgbToD50()
	k := 1 - 0.92*in[3]
	r := (1 - 0.85*in[0]) * (1 - 0.1*in[1]) * k
	g := (1 - 0.8*in[1]) * (1 - 0.15*in[0]) * (1 - 0.05*in[2]) * k
	b := (1 - 0.9*in[2]) * (1 - 0.2*in[1]) * k
	return mul3(&m, [3]float64{r * r, g * g, b * b})
}

type mabParts struct {
	a, m, b []([]byte)
	matrix  *[12]float64
	grid    []int
	prec    int
	clut    []float64
}

func tagMAB(nIn, nOut int, p mabParts) []byte {
	b := make([]byte, 32)
	copy(b, "mAB ")
	b[8], b[9] = byte(nIn), byte(nOut)
	put := func(at int) { binary.BigEndian.PutUint32(b[at:], uint32(len(b))) }
	curves := func(at int, cs [][]byte) {
		if cs == nil {
			return
		}
		put(at)
		for _, c := range cs {
			b = pad4(append(b, c...))
		}
	}
	curves(12, p.b)
	if p.matrix != nil {
		put(16)
		for _, v := range p.matrix {
			b = append(b, s15(v)...)
		}
	}
	curves(20, p.m)
	if p.clut != nil {
		put(24)
		g := make([]byte, 16)
		for i, n := range p.grid {
			g[i] = byte(n)
		}
		b = append(b, g...)
		b = append(b, byte(p.prec), 0, 0, 0)
		for _, v := range p.clut {
			if p.prec == 2 {
				b = append(b, be16(int(math.Round(clamp01(v)*65535)))...)
			} else {
				b = append(b, byte(math.Round(clamp01(v)*255)))
			}
		}
		b = pad4(b)
	}
	curves(28, p.a)
	return b
}

func repeat(c []byte, n int) [][]byte {
	var cs [][]byte
	for i := 0; i < n; i++ {
		cs = append(cs, c)
	}
	return cs
}

// mabRGBLab is a v4 RGB profile whose A2B0 is a full lutAtoB to Lab:
// A curves, an 8-bit CLUT, M curves, a matrix with offsets and B curves.
func mabRGBLab() []byte {
	clut := sampleGrid(3, 9, func(in []float64) []float64 { return labV4(adobeLike(in, 1)) })
	mat := [12]float64{0.95, 0.03, 0.02, 0.01, 0.98, 0.01, 0, 0.02, 0.98, 0.01, 0.002, -0.003}
	tag := tagMAB(3, 3, mabParts{
		a:      repeat(tagPara(0, 2.2), 3),
		grid:   []int{9, 9, 9},
		prec:   1,
		clut:   clut,
		m:      [][]byte{tagPara(0, 1.1), tagCurv([]uint16{0, 30000, 65535}), tagPara(3, 1.0, 1, 0, 1, 0)},
		matrix: &mat,
		b:      [][]byte{tagPara(0, 1/1.1), tagCurv(nil), tagCurvGamma(1)},
	})
	return buildICC(0x04200000, "scnr", SpaceRGB, SpaceLab, []testTag{
		{"wtpt", tagXYZ([3]float64{d50X, d50Y, d50Z})}, {"A2B0", tag},
	})
}

// mabRGBXYZ is a v4 RGB profile whose lutAtoB to XYZ has only a 16-bit
// CLUT and B curves.
func mabRGBXYZ() []byte {
	clut := sampleGrid(3, 17, func(in []float64) []float64 {
		x := adobeLike(in, 2.0)
		k := 32768.0 / 65535
		return []float64{x[0] * k, x[1] * k, x[2] * k}
	})
	tag := tagMAB(3, 3, mabParts{
		grid: []int{17, 17, 17}, prec: 2, clut: clut,
		b: repeat(tagCurv(nil), 3),
	})
	return buildICC(0x04200000, "mntr", SpaceRGB, SpaceXYZ, []testTag{{"A2B0", tag}})
}

func tagMft(wide bool, nIn, nOut, g int, mat [9]float64, in [][]float64, clut []float64, out [][]float64) []byte {
	b := []byte("mft1\x00\x00\x00\x00")
	if wide {
		b = []byte("mft2\x00\x00\x00\x00")
	}
	b = append(b, byte(nIn), byte(nOut), byte(g), 0)
	for _, v := range mat {
		b = append(b, s15(v)...)
	}
	val := func(v float64) {
		if wide {
			b = append(b, be16(int(math.Round(clamp01(v)*65535)))...)
		} else {
			b = append(b, byte(math.Round(clamp01(v)*255)))
		}
	}
	if wide {
		b = append(b, be16(len(in[0]))...)
		b = append(b, be16(len(out[0]))...)
	}
	for _, t := range in {
		for _, v := range t {
			val(v)
		}
	}
	for _, v := range clut {
		val(v)
	}
	for _, t := range out {
		for _, v := range t {
			val(v)
		}
	}
	return b
}

func gammaTable(n int, g float64) []float64 {
	t := make([]float64, n)
	for i := range t {
		t[i] = math.Pow(float64(i)/float64(n-1), g)
	}
	return t
}

// mft1RGBLab is a v2 RGB profile with a lut8 to Lab.
func mft1RGBLab() []byte {
	clut := sampleGrid(3, 9, func(in []float64) []float64 { return labV4(adobeLike(in, 1)) })
	in := [][]float64{gammaTable(256, 2.2), gammaTable(256, 2.2), gammaTable(256, 2.2)}
	out := [][]float64{gammaTable(256, 1), gammaTable(256, 1), gammaTable(256, 1)}
	return buildICC(0x02100000, "mntr", SpaceRGB, SpaceLab, []testTag{
		{"A2B0", tagMft(false, 3, 3, 9, [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}, in, clut, out)},
	})
}

// mft2RGBXYZ is a v2 RGB profile with a lut16 to XYZ whose matrix is not
// the identity.
func mft2RGBXYZ() []byte {
	clut := sampleGrid(3, 17, func(in []float64) []float64 {
		x := adobeLike(in, 1)
		k := 32768.0 / 65535
		return []float64{x[0] * k, x[1] * k, x[2] * k}
	})
	in := [][]float64{gammaTable(1024, 1.8), gammaTable(1024, 1.8), gammaTable(1024, 1.8)}
	out := [][]float64{gammaTable(2, 1), gammaTable(2, 1), gammaTable(2, 1)}
	mat := [9]float64{0.9, 0.1, 0, 0.05, 0.9, 0.05, 0, 0.1, 0.9}
	return buildICC(0x02100000, "mntr", SpaceRGB, SpaceXYZ, []testTag{
		{"A2B0", tagMft(true, 3, 3, 17, mat, in, clut, out)},
	})
}

// mabCMYKLab is a v4 CMYK press profile with a 16-bit lutAtoB to Lab.
func mabCMYKLab() []byte {
	clut := sampleGrid(4, 9, func(in []float64) []float64 { return labV4(inkToXYZ(in)) })
	tag := tagMAB(4, 3, mabParts{
		a:    repeat(tagPara(0, 0.9), 4),
		grid: []int{9, 9, 9, 9}, prec: 2, clut: clut,
		b: repeat(tagCurv(nil), 3),
	})
	return buildICC(0x04200000, "prtr", SpaceCMYK, SpaceLab, []testTag{
		{"wtpt", tagXYZ([3]float64{d50X, d50Y, d50Z})}, {"A2B0", tag},
	})
}
