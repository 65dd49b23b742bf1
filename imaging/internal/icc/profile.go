// Package icc reads ICC colour profiles and builds transforms from a
// profile's colour space (RGB, grey, CMYK) to sRGB, applied to 8-bit pixels
// through lookup tables.
//
// Results follow LittleCMS 2 with the perceptual intent and default flags,
// as Pillow's ImageCms.profileToProfile gives them: A2B0 is used when
// present, else the matrix/TRC or grey TRC tags; black point compensation
// is on, because LittleCMS forces it when a v4 profile (its built-in sRGB)
// takes part; device white maps to sRGB white exactly. Matrix/TRC profiles
// go through exact 1.14 fixed-point tables, grey through a 256-entry table,
// LUT profiles through a 33³ (RGB) or 17⁴ (CMYK) grid, as LittleCMS samples
// them. Float tags (D2Bx), named colours, device links and Lab or other
// data colour spaces are not supported.
package icc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Colour spaces and profile classes, as their four-byte signatures.
const (
	SpaceRGB  = "RGB "
	SpaceGray = "GRAY"
	SpaceCMYK = "CMYK"
	SpaceLab  = "Lab "
	SpaceXYZ  = "XYZ "
)

// ErrInvalid is wrapped by every error about malformed profile bytes.
var ErrInvalid = errors.New("icc: invalid profile")

// ErrUnsupported is wrapped by errors about valid profiles this package cannot transform.
var ErrUnsupported = errors.New("icc: unsupported profile")

const (
	headerSize = 128
	maxTags    = 1024
	// MaxSize is the largest profile Parse accepts. Real profiles stay
	// under a few megabytes; decoded tables take up to eight times a
	// profile's size.
	MaxSize = 16 << 20
)

// Profile is a parsed ICC profile: its header facts and its tag table.
// The tags' contents are decoded when a transform is built.
type Profile struct {
	Version    uint32 // major version in the top byte, as in the header: 0x02100000 is 2.1
	Class      string // "mntr", "prtr", "scnr", "spac", ...
	ColorSpace string // data colour space: SpaceRGB, SpaceGray, SpaceCMYK, SpaceLab, ...
	PCS        string // SpaceXYZ or SpaceLab
	Intent     uint32 // rendering intent from the header: 0 perceptual, 1 relative, 2 saturation, 3 absolute

	data []byte
	tags map[string]tagEntry
}

type tagEntry struct{ off, size uint32 }

func invalidf(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...)
}

func unsupportedf(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, a...)...)
}

// Parse reads the header and tag table of an ICC profile. It keeps b, which
// the caller must not change afterwards. Malformed bytes give an error
// wrapping ErrInvalid.
func Parse(b []byte) (*Profile, error) {
	if len(b) < headerSize+4 {
		return nil, invalidf("%d bytes is shorter than a header", len(b))
	}
	size := binary.BigEndian.Uint32(b[0:])
	if size < headerSize+4 || uint64(size) > uint64(len(b)) {
		return nil, invalidf("header size %d, have %d bytes", size, len(b))
	}
	if size > MaxSize {
		return nil, unsupportedf("profile of %d bytes, more than %d", size, MaxSize)
	}
	b = b[:size]
	if string(b[36:40]) != "acsp" {
		return nil, invalidf("no 'acsp' signature")
	}
	p := &Profile{
		Version:    binary.BigEndian.Uint32(b[8:]),
		Class:      string(b[12:16]),
		ColorSpace: string(b[16:20]),
		PCS:        string(b[20:24]),
		Intent:     binary.BigEndian.Uint32(b[64:]),
		data:       b,
		tags:       map[string]tagEntry{},
	}
	n := binary.BigEndian.Uint32(b[headerSize:])
	if n > maxTags || uint64(headerSize+4)+uint64(n)*12 > uint64(len(b)) {
		return nil, invalidf("tag count %d does not fit", n)
	}
	for i := uint32(0); i < n; i++ {
		e := b[headerSize+4+12*i:]
		sig := string(e[0:4])
		off := binary.BigEndian.Uint32(e[4:])
		sz := binary.BigEndian.Uint32(e[8:])
		if uint64(off)+uint64(sz) > uint64(len(b)) || sz < 8 {
			return nil, invalidf("tag %q at %d+%d outside the profile", sig, off, sz)
		}
		if _, dup := p.tags[sig]; !dup {
			p.tags[sig] = tagEntry{off, sz}
		}
	}
	return p, nil
}

// MajorVersion returns the profile's major version, 2 or 4 for real profiles.
func (p *Profile) MajorVersion() int { return int(p.Version >> 24) }

// HasTag reports whether the profile has a tag with signature sig.
func (p *Profile) HasTag(sig string) bool {
	_, ok := p.tags[sig]
	return ok
}

// tag returns the bytes of a tag, type signature included.
func (p *Profile) tag(sig string) ([]byte, bool) {
	e, ok := p.tags[sig]
	if !ok {
		return nil, false
	}
	return p.data[e.off : e.off+e.size], true
}

// XYZ is a CIE XYZ colour, with Y = 1 for the white.
type XYZ [3]float64

// The ICC profile connection space white, D50, as LittleCMS spells it.
const (
	d50X = 0.9642
	d50Y = 1.0
	d50Z = 0.8249
)

func s15f16(b []byte) float64 { return float64(int32(binary.BigEndian.Uint32(b))) / 65536 }

// readXYZ decodes an 'XYZ ' tag holding one value.
func (p *Profile) readXYZ(sig string) (XYZ, error) {
	b, ok := p.tag(sig)
	if !ok {
		return XYZ{}, invalidf("no %q tag", sig)
	}
	if string(b[:4]) != "XYZ " || len(b) < 20 {
		return XYZ{}, invalidf("tag %q is not one XYZ value", sig)
	}
	return XYZ{s15f16(b[8:]), s15f16(b[12:]), s15f16(b[16:])}, nil
}

// WhitePoint returns the media white point (wtpt tag).
func (p *Profile) WhitePoint() (XYZ, error) { return p.readXYZ("wtpt") }

// ChromaticAdaptation returns the chad tag's 3×3 matrix, row-major.
func (p *Profile) ChromaticAdaptation() ([9]float64, error) {
	var m [9]float64
	b, ok := p.tag("chad")
	if !ok {
		return m, invalidf("no chad tag")
	}
	if string(b[:4]) != "sf32" || len(b) < 8+36 {
		return m, invalidf("chad is not nine s15Fixed16 values")
	}
	for i := range m {
		m[i] = s15f16(b[8+4*i:])
	}
	return m, nil
}

// readCurveTag decodes a curv or para tag.
func (p *Profile) readCurveTag(sig string) (*curve, error) {
	b, ok := p.tag(sig)
	if !ok {
		return nil, invalidf("no %q tag", sig)
	}
	c, _, err := parseCurve(b)
	if err != nil {
		return nil, fmt.Errorf("tag %q: %w", sig, err)
	}
	return c, nil
}

func finite(v ...float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
