package jpegenc

// The forward DCT is libjpeg's jfdctint.c ("islow"): exact integer
// arithmetic, 13-bit constants, outputs scaled up by 8.

const (
	constBits = 13
	pass1Bits = 2

	fix0_298631336 = 2446
	fix0_390180644 = 3196
	fix0_541196100 = 4433
	fix0_765366865 = 6270
	fix0_899976223 = 7373
	fix1_175875602 = 9633
	fix1_501321110 = 12299
	fix1_847759065 = 15137
	fix1_961570560 = 16069
	fix2_053119869 = 16819
	fix2_562915447 = 20995
	fix3_072711026 = 25172
)

// fdct transforms a block of samples (0..255) in place. The level shift
// by 128 is folded into the DC term of the row pass, as jfdctint.c does.
func fdct(d *[64]int32) {
	for r := 0; r < 64; r += 8 {
		p := (*[8]int32)(d[r : r+8])
		tmp0, tmp7 := p[0]+p[7], p[0]-p[7]
		tmp1, tmp6 := p[1]+p[6], p[1]-p[6]
		tmp2, tmp5 := p[2]+p[5], p[2]-p[5]
		tmp3, tmp4 := p[3]+p[4], p[3]-p[4]

		tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
		tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2
		p[0] = (tmp10 + tmp11 - 8*128) << pass1Bits
		p[4] = (tmp10 - tmp11) << pass1Bits
		z1 := (tmp12 + tmp13) * fix0_541196100
		const s1, r1 = constBits - pass1Bits, 1 << (constBits - pass1Bits - 1)
		p[2] = (z1 + tmp13*fix0_765366865 + r1) >> s1
		p[6] = (z1 - tmp12*fix1_847759065 + r1) >> s1

		z1 = tmp4 + tmp7
		z2 := tmp5 + tmp6
		z3 := tmp4 + tmp6
		z4 := tmp5 + tmp7
		z5 := (z3 + z4) * fix1_175875602
		tmp4 *= fix0_298631336
		tmp5 *= fix2_053119869
		tmp6 *= fix3_072711026
		tmp7 *= fix1_501321110
		z1 *= -fix0_899976223
		z2 *= -fix2_562915447
		z3 = z3*-fix1_961570560 + z5
		z4 = z4*-fix0_390180644 + z5
		p[7] = (tmp4 + z1 + z3 + r1) >> s1
		p[5] = (tmp5 + z2 + z4 + r1) >> s1
		p[3] = (tmp6 + z2 + z3 + r1) >> s1
		p[1] = (tmp7 + z1 + z4 + r1) >> s1
	}
	for c := 0; c < 8; c++ {
		tmp0, tmp7 := d[c]+d[c+56], d[c]-d[c+56]
		tmp1, tmp6 := d[c+8]+d[c+48], d[c+8]-d[c+48]
		tmp2, tmp5 := d[c+16]+d[c+40], d[c+16]-d[c+40]
		tmp3, tmp4 := d[c+24]+d[c+32], d[c+24]-d[c+32]

		tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
		tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2
		const s0, r0 = pass1Bits, 1 << (pass1Bits - 1)
		d[c] = (tmp10 + tmp11 + r0) >> s0
		d[c+32] = (tmp10 - tmp11 + r0) >> s0
		z1 := (tmp12 + tmp13) * fix0_541196100
		const s2, r2 = constBits + pass1Bits, 1 << (constBits + pass1Bits - 1)
		d[c+16] = (z1 + tmp13*fix0_765366865 + r2) >> s2
		d[c+48] = (z1 - tmp12*fix1_847759065 + r2) >> s2

		z1 = tmp4 + tmp7
		z2 := tmp5 + tmp6
		z3 := tmp4 + tmp6
		z4 := tmp5 + tmp7
		z5 := (z3 + z4) * fix1_175875602
		tmp4 *= fix0_298631336
		tmp5 *= fix2_053119869
		tmp6 *= fix3_072711026
		tmp7 *= fix1_501321110
		z1 *= -fix0_899976223
		z2 *= -fix2_562915447
		z3 = z3*-fix1_961570560 + z5
		z4 = z4*-fix0_390180644 + z5
		d[c+56] = (tmp4 + z1 + z3 + r2) >> s2
		d[c+40] = (tmp5 + z2 + z4 + r2) >> s2
		d[c+24] = (tmp6 + z2 + z3 + r2) >> s2
		d[c+8] = (tmp7 + z1 + z4 + r2) >> s2
	}
}

// quantizer divides FDCT output by 8×the table entry, rounding to nearest
// as libjpeg does, with a reciprocal multiply instead of a division.
type quantizer struct {
	half  [64]uint32
	recip [64]uint64
	zero  [64]int32 // |x| <= zero quantises to 0
}

// newQuantizer prepares q (natural order, entries 1..65535).
func newQuantizer(q *[64]uint16) *quantizer {
	z := new(quantizer)
	for i, v := range q {
		d := uint64(v) * 8
		z.half[i] = uint32(d / 2)
		z.zero[i] = int32(d/2) - 1
		// ceil(2^40/d) gives floor(n/d) exactly for n < 2^21 and d < 2^19:
		// the error, under n/2^40, stays below 1/d.
		z.recip[i] = (1<<40 + d - 1) / d
	}
	return z
}

// zigzagOf[i] is the zigzag position of natural-order index i.
var zigzagOf = [64]uint8{
	0, 1, 5, 6, 14, 15, 27, 28,
	2, 4, 7, 13, 16, 26, 29, 42,
	3, 8, 12, 17, 25, 30, 41, 43,
	9, 11, 18, 24, 31, 40, 44, 53,
	10, 19, 23, 32, 39, 45, 52, 54,
	20, 22, 33, 38, 46, 51, 55, 60,
	21, 34, 37, 47, 50, 56, 59, 61,
	35, 36, 48, 49, 57, 58, 62, 63,
}

// quantize stores the quantised coefficients of an FDCT output.
func (z *quantizer) quantize(d *[64]int32, out *[64]int16) {
	for i := 0; i < 64; i++ {
		x := d[i]
		s := x >> 31
		a := uint32((x ^ s) - s)
		q := int32((uint64(a+z.half[i]) * z.recip[i]) >> 40)
		out[i] = int16((q ^ s) - s)
	}
}
