package icc

import "encoding/binary"

const maxLutChannels = 8

// lut is a device-to-PCS element chain: a v2 lut8 (mft1) or lut16 (mft2),
// or a v4 lutAtoB (mAB). Values flow normalized to [0, 1].
type lut struct {
	typ       string // "mft1", "mft2" or "mAB "
	nIn, nOut int
	preMatrix *[9]float64  // mft: applied to 3 inputs before the input tables
	a         []*curve     // mft input tables or mAB A curves (nIn); nil if absent
	clut      *clut        // nil if absent (mAB only)
	m         []*curve     // mAB M curves (nOut); nil if absent
	matrix    *[12]float64 // mAB 3×3 matrix and offsets; nil if absent
	b         []*curve     // mft output tables or mAB B curves (nOut)
}

// clut is a multidimensional table with nOut outputs per grid node; the
// first input varies slowest.
type clut struct {
	grid   []int
	stride []int // in nodes
	nOut   int
	data   []float64
}

func (p *Profile) readLut(sig string) (*lut, error) {
	b, ok := p.tag(sig)
	if !ok {
		return nil, invalidf("no %q tag", sig)
	}
	if len(b) < 12 {
		return nil, invalidf("tag %q too short", sig)
	}
	var l *lut
	var err error
	switch string(b[:4]) {
	case "mft1", "mft2":
		l, err = parseMft(b)
	case "mAB ":
		l, err = parseMAB(b)
	default:
		return nil, unsupportedf("tag %q of type %q", sig, b[:4])
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}

func parseMft(b []byte) (*lut, error) {
	if len(b) < 52 {
		return nil, invalidf("%s of %d bytes", b[:4], len(b))
	}
	l := &lut{typ: string(b[:4]), nIn: int(b[8]), nOut: int(b[9])}
	g := int(b[10])
	if l.nIn < 1 || l.nIn > maxLutChannels || l.nOut < 1 || l.nOut > maxLutChannels {
		return nil, invalidf("%s with %d inputs and %d outputs", l.typ, l.nIn, l.nOut)
	}
	if g < 2 {
		return nil, invalidf("%s with %d grid points", l.typ, g)
	}
	var mat [9]float64
	identity := true
	for i := range mat {
		mat[i] = s15f16(b[12+4*i:])
		want := 0.0
		if i%4 == 0 {
			want = 1
		}
		if mat[i] != want {
			identity = false
		}
	}
	if l.nIn == 3 && !identity {
		l.preMatrix = &mat
	}
	wide := l.typ == "mft2"
	size, inN, outN, pos := 1, 256, 256, 48
	if wide {
		size = 2
		inN = int(binary.BigEndian.Uint16(b[48:]))
		outN = int(binary.BigEndian.Uint16(b[50:]))
		pos = 52
		if inN < 2 || inN > 4096 || outN < 2 || outN > 4096 {
			return nil, invalidf("mft2 table sizes %d and %d", inN, outN)
		}
	}
	read := func(n int) ([]float64, bool) {
		if n > (len(b)-pos)/size {
			return nil, false
		}
		t := make([]float64, n)
		for i := range t {
			if wide {
				t[i] = float64(binary.BigEndian.Uint16(b[pos+2*i:])) / 65535
			} else {
				t[i] = float64(b[pos+i]) / 255
			}
		}
		pos += n * size
		return t, true
	}
	for i := 0; i < l.nIn; i++ {
		t, ok := read(inN)
		if !ok {
			return nil, invalidf("%s input tables truncated", l.typ)
		}
		l.a = append(l.a, &curve{table: t})
	}
	grid := make([]int, l.nIn)
	for i := range grid {
		grid[i] = g
	}
	n, ok := clutNodes(grid, l.nOut, (len(b)-pos)/size)
	if !ok {
		return nil, invalidf("%s grid truncated", l.typ)
	}
	data, _ := read(n)
	l.clut = newClut(grid, l.nOut, data)
	for i := 0; i < l.nOut; i++ {
		t, ok := read(outN)
		if !ok {
			return nil, invalidf("%s output tables truncated", l.typ)
		}
		l.b = append(l.b, &curve{table: t})
	}
	return l, nil
}

// clutNodes returns the number of values in a grid, if it is at most limit.
func clutNodes(grid []int, nOut, limit int) (int, bool) {
	n := nOut
	for _, g := range grid {
		if g < 2 {
			return 0, false
		}
		n *= g
		if n > limit {
			return 0, false
		}
	}
	return n, true
}

func newClut(grid []int, nOut int, data []float64) *clut {
	c := &clut{grid: grid, nOut: nOut, data: data, stride: make([]int, len(grid))}
	s := 1
	for i := len(grid) - 1; i >= 0; i-- {
		c.stride[i] = s
		s *= grid[i]
	}
	return c
}

func parseMAB(b []byte) (*lut, error) {
	if len(b) < 32 {
		return nil, invalidf("mAB of %d bytes", len(b))
	}
	l := &lut{typ: "mAB ", nIn: int(b[8]), nOut: int(b[9])}
	if l.nIn < 1 || l.nIn > maxLutChannels || l.nOut < 1 || l.nOut > maxLutChannels {
		return nil, invalidf("mAB with %d inputs and %d outputs", l.nIn, l.nOut)
	}
	off := func(at int) (int, error) {
		o := binary.BigEndian.Uint32(b[at:])
		if o != 0 && (o < 32 || uint64(o) >= uint64(len(b))) {
			return 0, invalidf("mAB offset %d outside the tag", o)
		}
		return int(o), nil
	}
	var offs [5]int
	for i := range offs {
		o, err := off(12 + 4*i)
		if err != nil {
			return nil, err
		}
		offs[i] = o
	}
	offB, offMat, offM, offCLUT, offA := offs[0], offs[1], offs[2], offs[3], offs[4]
	curves := func(o, n int) ([]*curve, error) {
		var cs []*curve
		for i := 0; i < n; i++ {
			if o >= len(b) {
				return nil, invalidf("mAB curves truncated")
			}
			c, size, err := parseCurve(b[o:])
			if err != nil {
				return nil, err
			}
			cs = append(cs, c)
			o += (size + 3) &^ 3
		}
		return cs, nil
	}
	var err error
	if offB == 0 {
		return nil, invalidf("mAB without B curves")
	}
	if l.b, err = curves(offB, l.nOut); err != nil {
		return nil, err
	}
	if offA != 0 {
		if l.a, err = curves(offA, l.nIn); err != nil {
			return nil, err
		}
	}
	if offM != 0 {
		if l.m, err = curves(offM, l.nOut); err != nil {
			return nil, err
		}
	}
	if offMat != 0 {
		if l.nOut != 3 || len(b)-offMat < 48 {
			return nil, invalidf("mAB matrix with %d outputs", l.nOut)
		}
		var m [12]float64
		for i := range m {
			m[i] = s15f16(b[offMat+4*i:])
		}
		l.matrix = &m
	}
	if offCLUT != 0 {
		if len(b)-offCLUT < 20 {
			return nil, invalidf("mAB CLUT truncated")
		}
		c := b[offCLUT:]
		grid := make([]int, l.nIn)
		for i := range grid {
			grid[i] = int(c[i])
		}
		prec := int(c[16])
		if prec != 1 && prec != 2 {
			return nil, invalidf("mAB CLUT precision %d", prec)
		}
		n, ok := clutNodes(grid, l.nOut, (len(c)-20)/prec)
		if !ok {
			return nil, invalidf("mAB CLUT grid %v truncated", grid)
		}
		data := make([]float64, n)
		for i := range data {
			if prec == 2 {
				data[i] = float64(binary.BigEndian.Uint16(c[20+2*i:])) / 65535
			} else {
				data[i] = float64(c[20+i]) / 255
			}
		}
		l.clut = newClut(grid, l.nOut, data)
	} else if l.nIn != l.nOut {
		return nil, invalidf("mAB without CLUT maps %d to %d channels", l.nIn, l.nOut)
	}
	return l, nil
}

// eval runs in (nIn values) through the chain into out (nOut values).
func (l *lut) eval(in, out []float64) {
	var buf [maxLutChannels]float64
	v := buf[:l.nIn]
	copy(v, in)
	if m := l.preMatrix; m != nil {
		x, y, z := v[0], v[1], v[2]
		v[0] = m[0]*x + m[1]*y + m[2]*z
		v[1] = m[3]*x + m[4]*y + m[5]*z
		v[2] = m[6]*x + m[7]*y + m[8]*z
	}
	for i, c := range l.a {
		v[i] = c.eval(v[i])
	}
	if l.clut != nil {
		var o [maxLutChannels]float64
		l.clut.eval(v, o[:l.nOut])
		v = buf[:l.nOut]
		copy(v, o[:l.nOut])
	}
	for i, c := range l.m {
		v[i] = c.eval(v[i])
	}
	if m := l.matrix; m != nil {
		x, y, z := v[0], v[1], v[2]
		v[0] = m[0]*x + m[1]*y + m[2]*z + m[9]
		v[1] = m[3]*x + m[4]*y + m[5]*z + m[10]
		v[2] = m[6]*x + m[7]*y + m[8]*z + m[11]
	}
	for i, c := range l.b {
		v[i] = c.eval(v[i])
	}
	copy(out, v)
}

// eval interpolates the table at in (clamped to [0, 1]) as LittleCMS does:
// linear in one dimension, bilinear in two, tetrahedral in three, and for
// more, linear along the first input between lower-dimensional results.
func (c *clut) eval(in, out []float64) {
	for i := range out {
		out[i] = 0
	}
	c.evalFrom(in, 0, 0, out)
}

func (c *clut) evalFrom(in []float64, dim, base int, out []float64) {
	rest := len(c.grid) - dim
	if rest == 3 {
		c.tetra(in[dim:], dim, base, out)
		return
	}
	x := in[dim]
	if !(x > 0) {
		x = 0
	} else if x > 1 {
		x = 1
	}
	p := x * float64(c.grid[dim]-1)
	i0 := int(p)
	if i0 >= c.grid[dim]-1 {
		i0 = c.grid[dim] - 1
	}
	f := p - float64(i0)
	b0 := base + i0*c.stride[dim]
	b1 := b0
	if i0 < c.grid[dim]-1 {
		b1 += c.stride[dim]
	}
	if rest == 1 {
		for k := range out {
			v0 := c.data[b0*c.nOut+k]
			v1 := c.data[b1*c.nOut+k]
			out[k] = v0 + f*(v1-v0)
		}
		return
	}
	var lo, hi [maxLutChannels]float64
	c.evalFrom(in, dim+1, b0, lo[:len(out)])
	c.evalFrom(in, dim+1, b1, hi[:len(out)])
	for k := range out {
		out[k] = lo[k] + f*(hi[k]-lo[k])
	}
}

// tetra interpolates the last three dimensions, starting at node base.
func (c *clut) tetra(in []float64, dim, base int, out []float64) {
	type axis struct {
		f    float64
		step int
	}
	var ax [3]axis
	for j := 0; j < 3; j++ {
		x := in[j]
		if !(x > 0) {
			x = 0
		} else if x > 1 {
			x = 1
		}
		g := c.grid[dim+j]
		p := x * float64(g-1)
		i0 := int(p)
		if i0 >= g-1 {
			i0 = g - 1
		}
		ax[j].f = p - float64(i0)
		base += i0 * c.stride[dim+j]
		if i0 < g-1 {
			ax[j].step = c.stride[dim+j]
		}
	}
	// Order the axes by decreasing fraction; the path from the base node
	// steps along them in that order.
	if ax[1].f > ax[0].f {
		ax[0], ax[1] = ax[1], ax[0]
	}
	if ax[2].f > ax[1].f {
		ax[1], ax[2] = ax[2], ax[1]
		if ax[1].f > ax[0].f {
			ax[0], ax[1] = ax[1], ax[0]
		}
	}
	n0 := base
	n1 := n0 + ax[0].step
	n2 := n1 + ax[1].step
	n3 := n2 + ax[2].step
	d := c.data
	no := c.nOut
	for k := range out {
		v0 := d[n0*no+k]
		v1 := d[n1*no+k]
		v2 := d[n2*no+k]
		v3 := d[n3*no+k]
		out[k] = v0 + ax[0].f*(v1-v0) + ax[1].f*(v2-v1) + ax[2].f*(v3-v2)
	}
}
