package icc

import (
	"encoding/binary"
	"strings"
	"unicode/utf16"
)

// Description returns the profile's 'desc' text ("Display P3", "Adobe RGB
// (1998)"), or "" when it has none that can be read: an ASCII
// textDescriptionType (v2) or the first record of a multiLocalizedUnicode
// (v4).
func (p *Profile) Description() string {
	b, ok := p.tag("desc")
	if !ok || len(b) < 12 {
		return ""
	}
	var s string
	switch string(b[0:4]) {
	case "desc":
		n := binary.BigEndian.Uint32(b[8:])
		if n == 0 || uint64(n) > uint64(len(b)-12) {
			return ""
		}
		s = string(b[12 : 12+n])
	case "mluc":
		if len(b) < 28 || binary.BigEndian.Uint32(b[8:]) == 0 {
			return ""
		}
		size := binary.BigEndian.Uint32(b[20:])
		off := binary.BigEndian.Uint32(b[24:])
		if uint64(off)+uint64(size) > uint64(len(b)) || size%2 != 0 {
			return ""
		}
		u := make([]uint16, size/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(b[int(off)+2*i:])
		}
		s = string(utf16.Decode(u))
	default:
		return ""
	}
	s = strings.TrimRight(s, "\x00 ")
	if len(s) > 128 {
		s = s[:128]
	}
	return strings.ToValidUTF8(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s), "")
}

// IsSRGB reports whether the transform leaves 8-bit RGB pixels as they are,
// give or take one step of rounding: the profile describes sRGB, and
// applying it would only cost time. It samples a 16³ grid of colours.
func (t *Transform) IsSRGB() bool {
	if t.channels != 3 {
		return false
	}
	const n = 16
	src := make([]byte, 0, n*n*n*3)
	for r := 0; r < n; r++ {
		for g := 0; g < n; g++ {
			for b := 0; b < n; b++ {
				src = append(src, byte(r*255/(n-1)), byte(g*255/(n-1)), byte(b*255/(n-1)))
			}
		}
	}
	dst := make([]byte, len(src))
	if t.Apply(dst, 3, src, 3) != nil {
		return false
	}
	for i := range src {
		if d := int(dst[i]) - int(src[i]); d < -1 || d > 1 {
			return false
		}
	}
	return true
}

// Check reports why ToSRGB would fail, without building the transform's
// tables: a cheap answer for describing a profile.
func (p *Profile) Check() error {
	_, _, _, err := p.pipeline()
	return err
}
