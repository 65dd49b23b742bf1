// The quantisation of quantize in fdct.go, unrolled with the positions of
// zigzagOf.

package jpegenc

// quantizeZigzag stores the quantised coefficients of an FDCT output in
// zigzag order and returns the bitmap of the non-zero ones. Unrolled, each
// position has its own branch, which the processor learns: high
// frequencies are mostly zero, low ones mostly not.
func (z *quantizer) quantizeZigzag(d *[64]int32, out *[64]int16) uint64 {
	var mask uint64
	if x := d[0]; uint32(x+z.zero[0]) > 2*uint32(z.zero[0]) {
		out[0] = z.q(x, 0)
		mask |= 1 << 0
	} else {
		out[0] = 0
	}
	if x := d[1]; uint32(x+z.zero[1]) > 2*uint32(z.zero[1]) {
		out[1] = z.q(x, 1)
		mask |= 1 << 1
	} else {
		out[1] = 0
	}
	if x := d[2]; uint32(x+z.zero[2]) > 2*uint32(z.zero[2]) {
		out[5] = z.q(x, 2)
		mask |= 1 << 5
	} else {
		out[5] = 0
	}
	if x := d[3]; uint32(x+z.zero[3]) > 2*uint32(z.zero[3]) {
		out[6] = z.q(x, 3)
		mask |= 1 << 6
	} else {
		out[6] = 0
	}
	if x := d[4]; uint32(x+z.zero[4]) > 2*uint32(z.zero[4]) {
		out[14] = z.q(x, 4)
		mask |= 1 << 14
	} else {
		out[14] = 0
	}
	if x := d[5]; uint32(x+z.zero[5]) > 2*uint32(z.zero[5]) {
		out[15] = z.q(x, 5)
		mask |= 1 << 15
	} else {
		out[15] = 0
	}
	if x := d[6]; uint32(x+z.zero[6]) > 2*uint32(z.zero[6]) {
		out[27] = z.q(x, 6)
		mask |= 1 << 27
	} else {
		out[27] = 0
	}
	if x := d[7]; uint32(x+z.zero[7]) > 2*uint32(z.zero[7]) {
		out[28] = z.q(x, 7)
		mask |= 1 << 28
	} else {
		out[28] = 0
	}
	if x := d[8]; uint32(x+z.zero[8]) > 2*uint32(z.zero[8]) {
		out[2] = z.q(x, 8)
		mask |= 1 << 2
	} else {
		out[2] = 0
	}
	if x := d[9]; uint32(x+z.zero[9]) > 2*uint32(z.zero[9]) {
		out[4] = z.q(x, 9)
		mask |= 1 << 4
	} else {
		out[4] = 0
	}
	if x := d[10]; uint32(x+z.zero[10]) > 2*uint32(z.zero[10]) {
		out[7] = z.q(x, 10)
		mask |= 1 << 7
	} else {
		out[7] = 0
	}
	if x := d[11]; uint32(x+z.zero[11]) > 2*uint32(z.zero[11]) {
		out[13] = z.q(x, 11)
		mask |= 1 << 13
	} else {
		out[13] = 0
	}
	if x := d[12]; uint32(x+z.zero[12]) > 2*uint32(z.zero[12]) {
		out[16] = z.q(x, 12)
		mask |= 1 << 16
	} else {
		out[16] = 0
	}
	if x := d[13]; uint32(x+z.zero[13]) > 2*uint32(z.zero[13]) {
		out[26] = z.q(x, 13)
		mask |= 1 << 26
	} else {
		out[26] = 0
	}
	if x := d[14]; uint32(x+z.zero[14]) > 2*uint32(z.zero[14]) {
		out[29] = z.q(x, 14)
		mask |= 1 << 29
	} else {
		out[29] = 0
	}
	if x := d[15]; uint32(x+z.zero[15]) > 2*uint32(z.zero[15]) {
		out[42] = z.q(x, 15)
		mask |= 1 << 42
	} else {
		out[42] = 0
	}
	if x := d[16]; uint32(x+z.zero[16]) > 2*uint32(z.zero[16]) {
		out[3] = z.q(x, 16)
		mask |= 1 << 3
	} else {
		out[3] = 0
	}
	if x := d[17]; uint32(x+z.zero[17]) > 2*uint32(z.zero[17]) {
		out[8] = z.q(x, 17)
		mask |= 1 << 8
	} else {
		out[8] = 0
	}
	if x := d[18]; uint32(x+z.zero[18]) > 2*uint32(z.zero[18]) {
		out[12] = z.q(x, 18)
		mask |= 1 << 12
	} else {
		out[12] = 0
	}
	if x := d[19]; uint32(x+z.zero[19]) > 2*uint32(z.zero[19]) {
		out[17] = z.q(x, 19)
		mask |= 1 << 17
	} else {
		out[17] = 0
	}
	if x := d[20]; uint32(x+z.zero[20]) > 2*uint32(z.zero[20]) {
		out[25] = z.q(x, 20)
		mask |= 1 << 25
	} else {
		out[25] = 0
	}
	if x := d[21]; uint32(x+z.zero[21]) > 2*uint32(z.zero[21]) {
		out[30] = z.q(x, 21)
		mask |= 1 << 30
	} else {
		out[30] = 0
	}
	if x := d[22]; uint32(x+z.zero[22]) > 2*uint32(z.zero[22]) {
		out[41] = z.q(x, 22)
		mask |= 1 << 41
	} else {
		out[41] = 0
	}
	if x := d[23]; uint32(x+z.zero[23]) > 2*uint32(z.zero[23]) {
		out[43] = z.q(x, 23)
		mask |= 1 << 43
	} else {
		out[43] = 0
	}
	if x := d[24]; uint32(x+z.zero[24]) > 2*uint32(z.zero[24]) {
		out[9] = z.q(x, 24)
		mask |= 1 << 9
	} else {
		out[9] = 0
	}
	if x := d[25]; uint32(x+z.zero[25]) > 2*uint32(z.zero[25]) {
		out[11] = z.q(x, 25)
		mask |= 1 << 11
	} else {
		out[11] = 0
	}
	if x := d[26]; uint32(x+z.zero[26]) > 2*uint32(z.zero[26]) {
		out[18] = z.q(x, 26)
		mask |= 1 << 18
	} else {
		out[18] = 0
	}
	if x := d[27]; uint32(x+z.zero[27]) > 2*uint32(z.zero[27]) {
		out[24] = z.q(x, 27)
		mask |= 1 << 24
	} else {
		out[24] = 0
	}
	if x := d[28]; uint32(x+z.zero[28]) > 2*uint32(z.zero[28]) {
		out[31] = z.q(x, 28)
		mask |= 1 << 31
	} else {
		out[31] = 0
	}
	if x := d[29]; uint32(x+z.zero[29]) > 2*uint32(z.zero[29]) {
		out[40] = z.q(x, 29)
		mask |= 1 << 40
	} else {
		out[40] = 0
	}
	if x := d[30]; uint32(x+z.zero[30]) > 2*uint32(z.zero[30]) {
		out[44] = z.q(x, 30)
		mask |= 1 << 44
	} else {
		out[44] = 0
	}
	if x := d[31]; uint32(x+z.zero[31]) > 2*uint32(z.zero[31]) {
		out[53] = z.q(x, 31)
		mask |= 1 << 53
	} else {
		out[53] = 0
	}
	if x := d[32]; uint32(x+z.zero[32]) > 2*uint32(z.zero[32]) {
		out[10] = z.q(x, 32)
		mask |= 1 << 10
	} else {
		out[10] = 0
	}
	if x := d[33]; uint32(x+z.zero[33]) > 2*uint32(z.zero[33]) {
		out[19] = z.q(x, 33)
		mask |= 1 << 19
	} else {
		out[19] = 0
	}
	if x := d[34]; uint32(x+z.zero[34]) > 2*uint32(z.zero[34]) {
		out[23] = z.q(x, 34)
		mask |= 1 << 23
	} else {
		out[23] = 0
	}
	if x := d[35]; uint32(x+z.zero[35]) > 2*uint32(z.zero[35]) {
		out[32] = z.q(x, 35)
		mask |= 1 << 32
	} else {
		out[32] = 0
	}
	if x := d[36]; uint32(x+z.zero[36]) > 2*uint32(z.zero[36]) {
		out[39] = z.q(x, 36)
		mask |= 1 << 39
	} else {
		out[39] = 0
	}
	if x := d[37]; uint32(x+z.zero[37]) > 2*uint32(z.zero[37]) {
		out[45] = z.q(x, 37)
		mask |= 1 << 45
	} else {
		out[45] = 0
	}
	if x := d[38]; uint32(x+z.zero[38]) > 2*uint32(z.zero[38]) {
		out[52] = z.q(x, 38)
		mask |= 1 << 52
	} else {
		out[52] = 0
	}
	if x := d[39]; uint32(x+z.zero[39]) > 2*uint32(z.zero[39]) {
		out[54] = z.q(x, 39)
		mask |= 1 << 54
	} else {
		out[54] = 0
	}
	if x := d[40]; uint32(x+z.zero[40]) > 2*uint32(z.zero[40]) {
		out[20] = z.q(x, 40)
		mask |= 1 << 20
	} else {
		out[20] = 0
	}
	if x := d[41]; uint32(x+z.zero[41]) > 2*uint32(z.zero[41]) {
		out[22] = z.q(x, 41)
		mask |= 1 << 22
	} else {
		out[22] = 0
	}
	if x := d[42]; uint32(x+z.zero[42]) > 2*uint32(z.zero[42]) {
		out[33] = z.q(x, 42)
		mask |= 1 << 33
	} else {
		out[33] = 0
	}
	if x := d[43]; uint32(x+z.zero[43]) > 2*uint32(z.zero[43]) {
		out[38] = z.q(x, 43)
		mask |= 1 << 38
	} else {
		out[38] = 0
	}
	if x := d[44]; uint32(x+z.zero[44]) > 2*uint32(z.zero[44]) {
		out[46] = z.q(x, 44)
		mask |= 1 << 46
	} else {
		out[46] = 0
	}
	if x := d[45]; uint32(x+z.zero[45]) > 2*uint32(z.zero[45]) {
		out[51] = z.q(x, 45)
		mask |= 1 << 51
	} else {
		out[51] = 0
	}
	if x := d[46]; uint32(x+z.zero[46]) > 2*uint32(z.zero[46]) {
		out[55] = z.q(x, 46)
		mask |= 1 << 55
	} else {
		out[55] = 0
	}
	if x := d[47]; uint32(x+z.zero[47]) > 2*uint32(z.zero[47]) {
		out[60] = z.q(x, 47)
		mask |= 1 << 60
	} else {
		out[60] = 0
	}
	if x := d[48]; uint32(x+z.zero[48]) > 2*uint32(z.zero[48]) {
		out[21] = z.q(x, 48)
		mask |= 1 << 21
	} else {
		out[21] = 0
	}
	if x := d[49]; uint32(x+z.zero[49]) > 2*uint32(z.zero[49]) {
		out[34] = z.q(x, 49)
		mask |= 1 << 34
	} else {
		out[34] = 0
	}
	if x := d[50]; uint32(x+z.zero[50]) > 2*uint32(z.zero[50]) {
		out[37] = z.q(x, 50)
		mask |= 1 << 37
	} else {
		out[37] = 0
	}
	if x := d[51]; uint32(x+z.zero[51]) > 2*uint32(z.zero[51]) {
		out[47] = z.q(x, 51)
		mask |= 1 << 47
	} else {
		out[47] = 0
	}
	if x := d[52]; uint32(x+z.zero[52]) > 2*uint32(z.zero[52]) {
		out[50] = z.q(x, 52)
		mask |= 1 << 50
	} else {
		out[50] = 0
	}
	if x := d[53]; uint32(x+z.zero[53]) > 2*uint32(z.zero[53]) {
		out[56] = z.q(x, 53)
		mask |= 1 << 56
	} else {
		out[56] = 0
	}
	if x := d[54]; uint32(x+z.zero[54]) > 2*uint32(z.zero[54]) {
		out[59] = z.q(x, 54)
		mask |= 1 << 59
	} else {
		out[59] = 0
	}
	if x := d[55]; uint32(x+z.zero[55]) > 2*uint32(z.zero[55]) {
		out[61] = z.q(x, 55)
		mask |= 1 << 61
	} else {
		out[61] = 0
	}
	if x := d[56]; uint32(x+z.zero[56]) > 2*uint32(z.zero[56]) {
		out[35] = z.q(x, 56)
		mask |= 1 << 35
	} else {
		out[35] = 0
	}
	if x := d[57]; uint32(x+z.zero[57]) > 2*uint32(z.zero[57]) {
		out[36] = z.q(x, 57)
		mask |= 1 << 36
	} else {
		out[36] = 0
	}
	if x := d[58]; uint32(x+z.zero[58]) > 2*uint32(z.zero[58]) {
		out[48] = z.q(x, 58)
		mask |= 1 << 48
	} else {
		out[48] = 0
	}
	if x := d[59]; uint32(x+z.zero[59]) > 2*uint32(z.zero[59]) {
		out[49] = z.q(x, 59)
		mask |= 1 << 49
	} else {
		out[49] = 0
	}
	if x := d[60]; uint32(x+z.zero[60]) > 2*uint32(z.zero[60]) {
		out[57] = z.q(x, 60)
		mask |= 1 << 57
	} else {
		out[57] = 0
	}
	if x := d[61]; uint32(x+z.zero[61]) > 2*uint32(z.zero[61]) {
		out[58] = z.q(x, 61)
		mask |= 1 << 58
	} else {
		out[58] = 0
	}
	if x := d[62]; uint32(x+z.zero[62]) > 2*uint32(z.zero[62]) {
		out[62] = z.q(x, 62)
		mask |= 1 << 62
	} else {
		out[62] = 0
	}
	if x := d[63]; uint32(x+z.zero[63]) > 2*uint32(z.zero[63]) {
		out[63] = z.q(x, 63)
		mask |= 1 << 63
	} else {
		out[63] = 0
	}
	return mask
}

// q returns coefficient i of value x quantised.
func (z *quantizer) q(x int32, i int) int16 {
	s := x >> 31
	a := uint32((x ^ s) - s)
	q := int32((uint64(a+z.half[i&63]) * z.recip[i&63]) >> 40)
	return int16((q ^ s) - s)
}
