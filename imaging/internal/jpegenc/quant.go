package jpegenc

// stdQuant holds the example quantisation tables of JPEG Annex K.1 (luma,
// chroma) in natural order, as libjpeg's jcparam.c has them. Read only.
var stdQuant = [2][64]uint16{{
	16, 11, 10, 16, 24, 40, 51, 61,
	12, 12, 14, 19, 26, 58, 60, 55,
	14, 13, 16, 24, 40, 57, 69, 56,
	14, 17, 22, 29, 51, 87, 80, 62,
	18, 22, 37, 56, 68, 109, 103, 77,
	24, 35, 55, 64, 81, 104, 113, 92,
	49, 64, 78, 87, 103, 121, 120, 101,
	72, 92, 95, 98, 112, 100, 103, 99,
}, {
	17, 18, 24, 47, 99, 99, 99, 99,
	18, 21, 26, 66, 99, 99, 99, 99,
	24, 26, 56, 99, 99, 99, 99, 99,
	47, 66, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
}}

// QuantTable returns the quantisation table (natural order) that libjpeg's
// jpeg_set_quality picks for quality q (clamped to 1..100) with
// force_baseline: the Annex K table scaled as jpeg_quality_scaling says,
// each entry clamped to 1..255. chroma selects the chroma table.
func QuantTable(q int, chroma bool) [64]uint16 {
	q = min(max(q, 1), 100)
	scale := 200 - 2*q
	if q < 50 {
		scale = 5000 / q
	}
	var t [64]uint16
	k := 0
	if chroma {
		k = 1
	}
	for i, v := range stdQuant[k] {
		t[i] = uint16(min(max((int(v)*scale+50)/100, 1), 255))
	}
	return t
}
